// The pipeline end to end (issue 3's figure): signed order webhooks posted to the running app
// (its own processes, WEB_CONCURRENCY web processes), two worker processes, the Meta stand-in,
// the real PostgreSQL and Redis of this machine, 16 webhooks in flight (closed loop).
// Measures webhook answer latency, events delivered per second and Meta requests used.
import { waitForMeta } from "./burst";
import { sendClosed, signedOrders } from "./load";
import { meterCpu, type CpuShare } from "./memory";
import type { MetaStandIn } from "./meta-stand-in";
import { benchShops, startAppStack } from "./stack";

export interface PipelineResult {
  webhooks: number;
  workers: number;
  webProcesses: number;
  concurrency: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  postSeconds: number;
  endToEndSeconds: number;
  eventsPerSecond: number;
  metaRequests: number;
  requestBudget: number;
  delivered: number;
  nonOk: number;
  drained: boolean;
  /** CPU from the first webhook until the last event was at Meta */
  cpu: CpuShare;
}

/** Issue 3: at most ceil(n / 1000) requests, plus 5%. */
export function requestBudget(eventsPerPixel: number[]): number {
  return Math.ceil(eventsPerPixel.reduce((sum, n) => sum + Math.ceil(n / 1000), 0) * 1.05);
}

export async function runPipeline(
  meta: MetaStandIn,
  options: {
    webhooks?: number;
    workers?: number;
    concurrency?: number;
    webProcesses?: number;
    profileDir?: string;
  } = {},
): Promise<PipelineResult> {
  const n = options.webhooks ?? 20_000;
  const workers = options.workers ?? 2;
  const webProcesses = options.webProcesses ?? 2;
  const concurrency = options.concurrency ?? 16;
  const [shop] = benchShops(1, "pipeline");
  const stack = await startAppStack({
    metaUrl: meta.url,
    shops: [shop!],
    webProcesses,
    workers,
    profileDir: options.profileDir,
  });
  try {
    await meta.reset();
    const hooks = signedOrders(n, [shop!], "pipeline");
    const cpu = meterCpu({
      "web processes": () => [stack.webPid()],
      "worker processes": () => stack.workerPids(),
      "Meta stand-in": () => [meta.pid],
    });
    const load = await sendClosed(stack.url, hooks, concurrency);
    const { stats, drained } = await waitForMeta(meta, [shop!.pixelId], load.ok, 300, 30);
    const cpuShare = cpu.stop();
    const endToEndSeconds = ((stats.lastAt ?? Date.now()) - load.startedAt) / 1000;
    return {
      webhooks: n,
      workers,
      webProcesses,
      concurrency,
      latencyMs: { p50: load.latency.p50, p90: load.latency.p90, p99: load.latency.p99, max: load.latency.max },
      postSeconds: load.seconds,
      endToEndSeconds,
      eventsPerSecond: stats.unique / endToEndSeconds,
      metaRequests: stats.requests,
      requestBudget: requestBudget([n]),
      delivered: stats.unique,
      nonOk: load.sent - load.ok,
      drained,
      cpu: cpuShare,
    };
  } finally {
    await stack.close();
    await meta.reset();
  }
}
