// The web tier against its floor: CPU per webhook of the app's web processes next to the least
// a webhook can cost on this machine (bench/floor-server.ts: node:http, HMAC, JSON.parse, one
// group-committed INSERT in PostgreSQL). Both run side by side for the whole part, with the
// same number of web processes, and are offered the same signed webhooks (same bodies, same
// headers) at the same paced rate by the same load generator. The runs alternate, floor then
// app in odd rounds and app then floor in even ones, so that noise on this shared machine
// lands on both; each round gives a ratio, and the report takes the median.
//
// CPU is the web tier's alone: user + system time from /proc of the server's process group
// (the tsx launcher, and the cluster's processes when more than one), from the first webhook
// due until the last answer, divided by the webhooks answered 2xx. Workers, PostgreSQL, Redis
// and the load generator are not counted.
import { waitForMeta } from "./burst";
import { startFloorServer, type FloorServer } from "./floor-server";
import { sendPaced, signedOrders, type SignedWebhook } from "./load";
import { readGroups } from "./memory";
import type { MetaStandIn } from "./meta-stand-in";
import { benchShops, startAppStack, type AppStack } from "./stack";

export interface FloorOptions {
  /** rounds of two runs each (one per system) */
  rounds: number;
  /** seconds per run */
  seconds: number;
  /** offered webhooks per second (paced) */
  rate: number;
  /** webhooks sent to each system before the first round, not measured */
  warmup: number;
  webProcesses: number;
  workers: number;
  connections: number;
}

export type WebTier = "app" | "floor";

export interface WebTierRun {
  sent: number;
  /** answered 2xx */
  answered: number;
  /** web tier CPU seconds over the run */
  cpuSeconds: number;
  /** seconds from the first webhook due until the last answer */
  seconds: number;
  /** web tier CPU per webhook answered, µs */
  microsPerWebhook: number;
  /** answer latency from when due, ms */
  p50: number;
  p99: number;
}

export interface FloorRound {
  round: number;
  order: WebTier[];
  app: WebTierRun;
  floor: WebTierRun;
  /** app µs / floor µs */
  ratio: number;
}

export interface FloorResult {
  options: FloorOptions;
  rounds: FloorRound[];
  /** medians over the rounds */
  appMicros: number;
  floorMicros: number;
  ratio: number;
  /** rows in the floor's table at the end, against the webhooks it answered 2xx */
  floorStored: number;
  floorAnswered: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** CPU seconds so far of a server's whole process group. */
const groupCpu = (leader: number) => readGroups([leader])[0]!.cpuSeconds;

async function measure(url: string, leader: number, hooks: SignedWebhook[], o: FloorOptions): Promise<WebTierRun> {
  let before = 0;
  const load = await sendPaced(url, hooks, o.rate, o.connections, () => (before = groupCpu(leader)));
  const cpuSeconds = groupCpu(leader) - before;
  return {
    sent: load.sent,
    answered: load.ok,
    cpuSeconds,
    seconds: load.seconds,
    microsPerWebhook: load.ok ? (cpuSeconds / load.ok) * 1e6 : 0,
    p50: load.latency.p50,
    p99: load.latency.p99,
  };
}

export async function runFloor(meta: MetaStandIn, o: FloorOptions, log: (line: string) => void): Promise<FloorResult> {
  const warmShop = benchShops(1, "floor-warm");
  const stack: AppStack = await startAppStack({
    metaUrl: meta.url,
    shops: warmShop,
    webProcesses: o.webProcesses,
    workers: o.workers,
  });
  let floor: FloorServer | undefined;
  try {
    floor = await startFloorServer({ processes: o.webProcesses });
    const warm = signedOrders(o.warmup, warmShop, "floor-warm", 99);
    await sendPaced(stack.url, warm, o.rate, o.connections);
    await sendPaced(floor.url, warm, o.rate, o.connections);
    await waitForMeta(meta, [warmShop[0]!.pixelId], warm.length, 60, 5);
    let floorAnswered = warm.length;

    const rounds: FloorRound[] = [];
    for (let r = 1; r <= o.rounds; r++) {
      // A shop of its own per round: the app de-duplicates on order ids, which repeat from one
      // set of orders to the next. Within a round both systems get the very same requests.
      const shops = benchShops(1, `floor-r${r}`);
      await stack.addShops(shops);
      const hooks = signedOrders(Math.round(o.rate * o.seconds), shops, `floor-r${r}`);
      const order: WebTier[] = r % 2 === 1 ? ["floor", "app"] : ["app", "floor"];
      const runs: Partial<Record<WebTier, WebTierRun>> = {};
      for (const system of order) {
        log(
          `floor: round ${r} of ${o.rounds}, ${system === "app" ? "the app's web tier" : "the floor"}, ${hooks.length} webhooks at ${o.rate}/s`,
        );
        if (system === "app") {
          runs.app = await measure(stack.url, stack.webPid(), hooks, o);
          // Let the workers deliver this round's events before the next run, so that their
          // work does not share the cores with it.
          await waitForMeta(meta, [shops[0]!.pixelId], runs.app.answered, 60, 5);
        } else {
          runs.floor = await measure(floor.url, floor.pid, hooks, o);
          floorAnswered += runs.floor.answered;
        }
      }
      const { app, floor: f } = runs as Record<WebTier, WebTierRun>;
      rounds.push({
        round: r,
        order,
        app,
        floor: f,
        ratio: f.microsPerWebhook ? app.microsPerWebhook / f.microsPerWebhook : 0,
      });
    }
    return {
      options: o,
      rounds,
      appMicros: median(rounds.map((x) => x.app.microsPerWebhook)),
      floorMicros: median(rounds.map((x) => x.floor.microsPerWebhook)),
      ratio: median(rounds.map((x) => x.ratio)),
      floorStored: await floor.stored(),
      floorAnswered,
    };
  } finally {
    await floor?.close();
    await stack.close();
    await meta.reset();
  }
}
