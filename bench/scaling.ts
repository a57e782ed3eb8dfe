// Scaling with worker processes: 1, 2, 3, then 4 worker processes, each given the same work,
// measured in two ways:
//
//   end to end  one app (web processes fixed) whose workers are restarted for each count;
//               `orders` webhooks paced at `rate`, from the first webhook due until the last
//               event is at Meta: what a merchant sees, ingest included.
//   drain       the workers alone: a backlog of `backlog` events is stored once (ingested while
//               their shops had no pixel connected), and each count gets its own copy of that
//               database (CREATE DATABASE ... TEMPLATE); once the workers are up the pixels are
//               connected, which makes the whole backlog due at one instant, and the shops are
//               announced as ingest announces them; from then until the last event is at Meta.
import { createDatabase } from "../app/db/client.server";
import { createDeliveryQueue } from "../app/pipeline/queue.server";
import { waitForMeta } from "./burst";
import { sendClosed, sendPaced, signedOrders, type LoadResult } from "./load";
import type { MetaStandIn } from "./meta-stand-in";
import { benchShops, cloneDatabase, connectShops, startAppStack, startWorkers, stopGroups } from "./stack";
import { setTimeout as sleep } from "node:timers/promises";
import { REDIS_URL, uniquePrefix } from "../test/support/services";

/** Long enough to connect every shop of the backlog first. */
const RELEASE_DELAY_MS = 4_000;

export interface ScalingStep {
  workers: number;
  load: LoadResult;
  delivered: number;
  /** seconds from the first webhook due until the last event was at Meta */
  lastEventSeconds: number | null;
  eventsPerSecond: number;
  metaRequests: number;
  drain: {
    events: number;
    delivered: number;
    /** from connecting the pixels (and announcing the work) until the last event at Meta */
    seconds: number | null;
    eventsPerSecond: number;
    /** from then until the first event at Meta: the first claim and request */
    firstEventSeconds: number | null;
    metaRequests: number;
  };
}

/** The run's settings (but the worker counts, which are the steps) and its steps. */
export type ScalingResult = Omit<ScalingOptions, "workerCounts"> & { steps: ScalingStep[] };

type EndToEnd = Omit<ScalingStep, "drain">;

async function endToEnd(meta: MetaStandIn, o: ScalingOptions, log: (line: string) => void): Promise<EndToEnd[]> {
  const stack = await startAppStack({ metaUrl: meta.url, shops: [], webProcesses: o.webProcesses, workers: 0 });
  const steps: EndToEnd[] = [];
  try {
    for (const [i, workers] of o.workerCounts.entries()) {
      await stack.setWorkers(workers);
      const shops = benchShops(o.shops, `scale${i}`);
      await stack.addShops(shops);
      const hooks = signedOrders(o.orders, shops, `scale${i}`, 31 + i);
      log(`scaling: ${workers} worker process(es), ${o.orders} webhooks at ${o.rate}/s`);
      const load = await sendPaced(stack.url, hooks, o.rate);
      const { stats } = await waitForMeta(
        meta,
        shops.map((s) => s.pixelId),
        load.ok,
        180,
        30,
      );
      const lastEventSeconds = stats.lastAt === null ? null : (stats.lastAt - load.startedAt) / 1000;
      steps.push({
        workers,
        load,
        delivered: stats.unique,
        lastEventSeconds,
        eventsPerSecond: lastEventSeconds ? stats.unique / lastEventSeconds : 0,
        metaRequests: stats.requests,
      });
    }
  } finally {
    await stack.close();
    await meta.reset();
  }
  return steps;
}

async function drains(
  meta: MetaStandIn,
  o: ScalingOptions,
  log: (line: string) => void,
): Promise<ScalingStep["drain"][]> {
  const shops = benchShops(o.shops, "drain");
  const source = await startAppStack({ metaUrl: meta.url, shops: [], webProcesses: o.webProcesses, workers: 0 });
  const out: ScalingStep["drain"][] = [];
  try {
    log(`scaling: storing a backlog of ${o.backlog} events for ${o.shops} shops without a pixel`);
    // Installed (a shop that never installed gets nothing stored), no pixel connected yet.
    await source.db.prisma.shop.createMany({ data: shops.map((s) => ({ shop: s.shop })) });
    await sendClosed(source.url, signedOrders(o.backlog, shops, "drain", 21), 32);
    await source.stopProcesses();
    await source.db.close();
    for (const workers of o.workerCounts) {
      const clone = await cloneDatabase(source.db.url);
      const db = createDatabase({ databaseUrl: clone.url, poolSize: 2 });
      let children: Awaited<ReturnType<typeof startWorkers>> = [];
      try {
        await db.ready;
        await meta.reset();
        const prefix = uniquePrefix();
        children = await startWorkers({ ...source.env, DATABASE_URL: clone.url, QUEUE_PREFIX: prefix }, workers);
        log(`scaling: ${workers} worker process(es) drain ${o.backlog} stored events`);
        // Connecting a pixel makes its paused events due at the `now` given: a moment ahead, so
        // that every shop's backlog becomes due at the same instant, after all are connected.
        const releasedAt = Date.now() + RELEASE_DELAY_MS;
        await connectShops(db.prisma, shops, source.key, new Date(releasedAt));
        await sleep(Math.max(0, releasedAt - Date.now()));
        // Ring the doorbell as ingest does, rather than wait up to 2 s for a worker's sweep.
        const queue = createDeliveryQueue(REDIS_URL, prefix);
        await Promise.all(shops.map((s) => queue.kick(s.shop, 0)));
        await queue.close();
        const { stats } = await waitForMeta(
          meta,
          shops.map((s) => s.pixelId),
          o.backlog,
          300,
          30,
        );
        const seconds = stats.lastAt === null ? null : (stats.lastAt - releasedAt) / 1000;
        out.push({
          events: o.backlog,
          delivered: stats.unique,
          seconds,
          eventsPerSecond: seconds ? stats.unique / seconds : 0,
          firstEventSeconds: stats.firstAt === null ? null : (stats.firstAt - releasedAt) / 1000,
          metaRequests: stats.requests,
        });
      } finally {
        await stopGroups(children, 5000);
        await db.close();
        await clone.drop();
      }
    }
  } finally {
    await source.close();
    await meta.reset();
  }
  return out;
}

interface ScalingOptions {
  workerCounts: number[];
  orders: number;
  rate: number;
  backlog: number;
  shops: number;
  webProcesses: number;
  cpus: number;
}

export async function runScaling(
  meta: MetaStandIn,
  o: ScalingOptions,
  log: (line: string) => void,
): Promise<ScalingResult> {
  const e2e = await endToEnd(meta, o, log);
  const drained = await drains(meta, o, log);
  return {
    orders: o.orders,
    rate: o.rate,
    backlog: o.backlog,
    shops: o.shops,
    webProcesses: o.webProcesses,
    cpus: o.cpus,
    steps: e2e.map((step, i) => ({ ...step, drain: drained[i]! })),
  };
}
