// A Black-Friday burst: N signed orders/create webhooks offered at N per `seconds` (paced,
// open loop), first to the app (web processes + worker processes + PostgreSQL + Redis), then
// to the naive sender (one Meta request per order, no queue), both against the same Meta
// stand-in with the same latency. Measured for each: webhook answer latency, when the last
// event reached Meta, Meta requests used, and events lost; for the app, the memory of its
// worker and web processes sampled from /proc during the burst.
import { Prisma } from "@prisma/client";
import { sendPaced, signedOrders, type LoadResult, type SignedWebhook } from "./load";
import { meterCpu, sampleMemory, summariseMemory, type CpuShare, type MemorySummary } from "./memory";
import type { MetaStandIn, PixelStats } from "./meta-stand-in";
import { startNaiveSender, type NaiveMode } from "./naive-sender";
import { benchShops, startAppStack, type BenchShop } from "./stack";

export interface BurstOptions {
  orders: number;
  seconds: number;
  shops: number;
  workers: number;
  webProcesses: number;
  naiveMode: NaiveMode;
  /** sockets the load generator may open (Shopify's senders are many) */
  connections: number;
  /** how long to wait, after the last answer, for the last events to reach Meta */
  drainTimeoutSeconds: number;
}

export interface SystemRun {
  system: "ours" | "naive";
  label: string;
  load: LoadResult;
  /** Meta's figures for this run's pixels */
  meta: PixelStats;
  delivered: number;
  /** answered 2xx, yet neither at Meta nor still waiting in the app's store at the end: gone for good */
  lost: number;
  /** CAPI Relay only: its events by state in PostgreSQL at the end of the run */
  states?: Record<string, number>;
  /** answered 2xx, not at Meta yet, but still queued in the store when the wait ended */
  pending: number;
  /** answered non-2xx or not at all: Shopify would deliver these again later */
  refused: number;
  /** seconds from the first webhook due until the last event was at Meta (null: none arrived) */
  lastEventSeconds: number | null;
  /** delivered / lastEventSeconds */
  eventsPerSecond: number;
  /** every expected event reached Meta before the drain timeout */
  drained: boolean;
  /** events reaching Meta in each second since the first webhook was due */
  arrivalsPerSecond: number[];
  /** where the CPU went from the first webhook until the last event was at Meta */
  cpu?: CpuShare;
  memory?: {
    workers: MemorySummary;
    web: MemorySummary;
    series: Array<{ t: number; workersMiB: number[]; webMiB: number }>;
  };
}

export interface BurstResult {
  options: BurstOptions;
  offeredRate: number;
  ours: SystemRun;
  naive: SystemRun;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls Meta until `expected` events of these pixels are there, or until no new one came for
 * `quietSeconds` after the load ended (nothing more is on its way), or the timeout.
 */
export async function waitForMeta(
  meta: MetaStandIn,
  pixels: string[],
  expected: number,
  timeoutSeconds: number,
  quietSeconds = 15,
): Promise<{ stats: PixelStats; drained: boolean }> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let stats = await meta.stats(pixels);
  let lastChange = Date.now();
  let seen = stats.unique;
  while (stats.unique < expected && Date.now() < deadline && Date.now() - lastChange < quietSeconds * 1000) {
    await sleep(200);
    stats = await meta.stats(pixels);
    if (stats.unique !== seen) {
      seen = stats.unique;
      lastChange = Date.now();
    }
  }
  return { stats, drained: stats.unique >= expected };
}

export function perSecond(times: number[], from: number): number[] {
  const out: number[] = [];
  for (const t of times) {
    const s = Math.max(0, Math.floor((t - from) / 1000));
    while (out.length <= s) out.push(0);
    out[s]!++;
  }
  return out;
}

async function finish(
  system: SystemRun["system"],
  label: string,
  meta: MetaStandIn,
  shops: BenchShop[],
  load: LoadResult,
  drainTimeoutSeconds: number,
  quietSeconds: number,
): Promise<SystemRun> {
  const pixels = shops.map((s) => s.pixelId);
  const { stats, drained } = await waitForMeta(meta, pixels, load.ok, drainTimeoutSeconds, quietSeconds);
  const lastEventSeconds = stats.lastAt === null ? null : (stats.lastAt - load.startedAt) / 1000;
  return {
    system,
    label,
    load,
    meta: stats,
    delivered: stats.unique,
    lost: Math.max(0, load.ok - stats.unique),
    pending: 0,
    refused: load.sent - load.ok,
    lastEventSeconds,
    eventsPerSecond: lastEventSeconds ? stats.unique / lastEventSeconds : 0,
    drained,
    arrivalsPerSecond: perSecond(await meta.arrivals(pixels), load.startedAt),
  };
}

/** A few hundred webhooks before the clock: JIT, connection pools and caches warm, as on any busy day. */
async function warmUp(url: string, shops: BenchShop[], meta: MetaStandIn): Promise<void> {
  const hooks = signedOrders(400, shops, `warm-${Date.now()}`, 99);
  await sendPaced(url, hooks, 200, 32);
  await waitForMeta(
    meta,
    shops.map((s) => s.pixelId),
    hooks.length,
    30,
    5,
  );
}

export async function runBurst(meta: MetaStandIn, o: BurstOptions, log: (line: string) => void): Promise<BurstResult> {
  const offeredRate = o.orders / o.seconds;
  const oursShops = benchShops(o.shops, "burst-ours");
  const naiveShops = benchShops(o.shops, "burst-naive");
  const warmOurs = benchShops(1, "warm-ours");
  const warmNaive = benchShops(1, "warm-naive");
  // The same orders, bodies and signatures for both systems (only the shop header differs).
  const ours = signedOrders(o.orders, oursShops, "burst");
  const naive: SignedWebhook[] = ours.map((h, i) => {
    const shop = naiveShops[i % naiveShops.length]!.shop;
    return { ...h, shop, headers: { ...h.headers, "x-shopify-shop-domain": shop } };
  });

  // The app.
  let oursRun: SystemRun;
  {
    const stack = await startAppStack({
      metaUrl: meta.url,
      shops: [...oursShops, ...warmOurs],
      webProcesses: o.webProcesses,
      workers: o.workers,
    });
    try {
      await warmUp(stack.url, warmOurs, meta);
      await meta.reset();
      log(`burst: ours, ${o.orders} webhooks at ${offeredRate.toFixed(0)}/s`);
      const sampler = sampleMemory(() => [...stack.workerPids(), stack.webPid()]);
      const cpu = meterCpu({
        "web processes": () => [stack.webPid()],
        "worker processes": () => stack.workerPids(),
        "Meta stand-in": () => [meta.pid],
      });
      const load = await sendPaced(stack.url, ours, offeredRate, o.connections);
      oursRun = await finish(
        "ours",
        `CAPI Relay (${o.webProcesses} web + ${o.workers} worker processes)`,
        meta,
        oursShops,
        load,
        o.drainTimeoutSeconds,
        30,
      );
      oursRun.cpu = cpu.stop();
      const samples = sampler.stop();
      const rows = await stack.db.prisma.$queryRaw<Array<{ state: string; count: number }>>`
        SELECT "state", COUNT(*)::int AS "count" FROM "Event" WHERE "shop" IN (${Prisma.join(oursShops.map((s) => s.shop))}) GROUP BY "state"`;
      oursRun.states = Object.fromEntries(rows.map((r) => [r.state, r.count]));
      const waiting = ["queued", "retrying", "sending", "paused"].reduce(
        (sum, state) => sum + (oursRun.states![state] ?? 0),
        0,
      );
      oursRun.pending = Math.min(waiting, oursRun.lost);
      oursRun.lost -= oursRun.pending;
      const workers = summariseMemory(samples.map((s) => ({ t: s.t, groups: s.groups.slice(0, -1) })));
      const web = summariseMemory(samples.map((s) => ({ t: s.t, groups: s.groups.slice(-1) })));
      oursRun.memory = {
        workers,
        web,
        series: samples.map((s) => ({
          t: s.t,
          workersMiB: s.groups.slice(0, -1).map((g) => g.rssMiB),
          webMiB: s.groups.at(-1)?.rssMiB ?? 0,
        })),
      };
    } finally {
      await stack.close();
    }
  }

  // The naive sender, same Meta, same orders.
  let naiveRun: SystemRun;
  {
    await meta.reset();
    const sender = await startNaiveSender({
      metaUrl: meta.url,
      shops: [...naiveShops, ...warmNaive],
      processes: o.webProcesses,
      mode: o.naiveMode,
    });
    try {
      await warmUp(sender.url, warmNaive, meta);
      await meta.reset();
      log(`burst: naive (${o.naiveMode}), ${o.orders} webhooks at ${offeredRate.toFixed(0)}/s`);
      const cpu = meterCpu({ "naive sender": () => [sender.pid], "Meta stand-in": () => [meta.pid] });
      const load = await sendPaced(sender.url, naive, offeredRate, o.connections);
      const label = `naive sender (${o.webProcesses} processes, one Meta request per order, ${o.naiveMode === "inline" ? "answers after Meta" : "fire and forget"})`;
      naiveRun = await finish("naive", label, meta, naiveShops, load, o.drainTimeoutSeconds, 5);
      naiveRun.cpu = cpu.stop();
    } finally {
      await sender.close();
    }
  }
  await meta.reset();
  return { options: o, offeredRate, ours: oursRun, naive: naiveRun };
}
