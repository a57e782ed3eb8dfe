// Webhook answer latency under load: the same app (web processes + two workers) offered
// webhooks at a few steady rates, each for a few seconds (paced, open loop), then as fast as
// it answers them (closed loop). Each step uses shops of its own and waits for its events to
// reach Meta before the next starts, so steps do not overlap.
import { waitForMeta } from "./burst";
import { sendClosed, sendPaced, signedOrders, type LoadResult } from "./load";
import { meterCpu, type CpuShare } from "./memory";
import type { MetaStandIn } from "./meta-stand-in";
import { benchShops, startAppStack } from "./stack";

export interface LatencyStep {
  /** "200/s" or "max (64 in flight)" */
  label: string;
  load: LoadResult;
  delivered: number;
  /** seconds from the first webhook due until its last event was at Meta */
  lastEventSeconds: number | null;
  metaRequests: number;
  /** CPU while the webhooks were posted */
  cpu: CpuShare;
}

export interface LatencyResult {
  workers: number;
  webProcesses: number;
  shops: number;
  stepSeconds: number;
  steps: LatencyStep[];
}

export async function runLatency(
  meta: MetaStandIn,
  o: {
    rates: number[];
    stepSeconds: number;
    maxConcurrency: number;
    connections: number;
    shops: number;
    workers: number;
    webProcesses: number;
  },
  log: (line: string) => void,
): Promise<LatencyResult> {
  const warm = benchShops(1, "latency-warm");
  const stack = await startAppStack({
    metaUrl: meta.url,
    shops: warm,
    webProcesses: o.webProcesses,
    workers: o.workers,
  });
  const steps: LatencyStep[] = [];
  try {
    const warmHooks = signedOrders(400, warm, "latency-warm", 99);
    await sendPaced(stack.url, warmHooks, 200, 32);
    await waitForMeta(meta, [warm[0]!.pixelId], warmHooks.length, 30, 5);

    const plan = [...o.rates.map((rate) => ({ rate })), { rate: undefined }];
    for (const [i, step] of plan.entries()) {
      const shops = benchShops(o.shops, `latency${i}`);
      await stack.addShops(shops);
      // A closed loop sends as many as it gets answered: give it more than it can take.
      const count =
        step.rate === undefined ? Math.max(4000, 3000 * o.stepSeconds) : Math.round(step.rate * o.stepSeconds);
      const hooks = signedOrders(count, shops, `latency${i}`, 11 + i);
      const label = step.rate === undefined ? `max (${o.maxConcurrency} in flight)` : `${step.rate}/s`;
      log(`latency: ${label} for ${o.stepSeconds} s`);
      const cpu = meterCpu({
        "web processes": () => [stack.webPid()],
        "worker processes": () => stack.workerPids(),
        "Meta stand-in": () => [meta.pid],
      });
      const load =
        step.rate === undefined
          ? await sendClosed(stack.url, hooks, o.maxConcurrency, o.stepSeconds)
          : await sendPaced(stack.url, hooks, step.rate, o.connections);
      const cpuShare = cpu.stop();
      const { stats } = await waitForMeta(
        meta,
        shops.map((s) => s.pixelId),
        load.ok,
        120,
        20,
      );
      steps.push({
        cpu: cpuShare,
        label,
        load,
        delivered: stats.unique,
        lastEventSeconds: stats.lastAt === null ? null : (stats.lastAt - load.startedAt) / 1000,
        metaRequests: stats.requests,
      });
    }
  } finally {
    await stack.close();
    await meta.reset();
  }
  return { workers: o.workers, webProcesses: o.webProcesses, shops: o.shops, stepSeconds: o.stepSeconds, steps };
}
