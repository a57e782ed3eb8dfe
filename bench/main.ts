// `npm run bench`: one report, every figure measured in this run against its baseline or
// target, written to docs/benchmarks.md with a chart (docs/benchmarks.png) and the raw figures
// in bench/out/*.json.
//
//   npm run bench                                   everything (about 10 to 15 minutes)
//   npm run bench -- --quick                        everything, small sizes (a couple of minutes)
//   npm run bench -- --only burst[,scaling,...]     some parts: event-core, pipeline, burst, latency, scaling, floor, admin
//   npm run bench -- --only pipeline --webhooks 5000
//
// A partial or scaled-down run writes its report to bench/out/ only; docs/ holds full runs
// (or pass --report to write docs/ anyway). `npm run bench -- --help` lists every option.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { runAdmin, type AdminResult } from "./admin";
import { runBurst, type BurstResult } from "./burst";
import { renderChart } from "./chart";
import { formatEventCore, runEventCore, type EventCoreResult } from "./event-core";
import { runFloor, type FloorResult } from "./floor";
import { runLatency, type LatencyResult } from "./latency";
import { startMetaStandIn } from "./meta-stand-in";
import { runPipeline, type PipelineResult } from "./pipeline";
import { formatReport, type Machine } from "./report";
import { runScaling, type ScalingResult } from "./scaling";
import { buildApp, ROOT } from "./stack";

const PARTS = ["event-core", "pipeline", "burst", "latency", "scaling", "floor", "admin"] as const;
type Part = (typeof PARTS)[number];

const HELP = `npm run bench -- [options]
  --only P[,P...]        parts to run: ${PARTS.join(", ")} (default: all)
  --quick                small sizes everywhere (a couple of minutes)
  --webhooks N           pipeline: webhooks posted (default 20000)
  --burst N              burst: orders (default 50000)
  --burst-seconds S      burst: offered over S seconds (default 60)
  --shops N              burst, latency: shops (pixels) the orders are spread over (default 1: one big store)
  --scale-shops N        scaling: shops the orders are spread over (default 8, so that workers have shops to share)
  --workers N            pipeline, burst, latency: worker processes (default 2)
  --web N                web processes, WEB_CONCURRENCY (default: cores - 1)
  --meta-latency A-B     Meta stand-in latency per request, uniform in [A, B] ms (default 100-300)
  --meta-rate-limit N    Meta stand-in: at most N requests per second per pixel (default: none)
  --connections N        burst, latency: most sockets a paced load opens (default 256)
  --naive-mode M         inline (answer after Meta) or background (fire and forget); default inline
  --rates R,R,...        latency: offered webhooks per second (default 200,500,1000)
  --step-seconds S       latency: seconds per rate (default 10)
  --scale-orders N       scaling: webhooks per worker count (default 10000)
  --backlog N            scaling: stored events drained by each worker count (default 20000)
  --floor-rate N         floor: offered webhooks per second to the app and to the floor (default 500)
  --floor-rounds N       floor: rounds, each one run of the floor and one of the app (default 4)
  --floor-seconds S      floor: seconds per run (default 10)
  --admin-events N       admin: events of the one big shop (default 1000000)
  --admin-shops N        admin: shops in the database, each with a pixel and events (default 10000)
  --admin-export N       admin: events of the CSV export measured (default 100000; its baseline is 1% of it)
  --admin-runs N         admin: timed requests per page (default 20)
  --report               write docs/benchmarks.md and .png even for a partial or scaled-down run`;

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    quick: { type: "boolean", default: false },
    webhooks: { type: "string" },
    burst: { type: "string" },
    "burst-seconds": { type: "string" },
    shops: { type: "string" },
    "scale-shops": { type: "string" },
    workers: { type: "string" },
    web: { type: "string" },
    "meta-latency": { type: "string" },
    "meta-rate-limit": { type: "string" },
    "naive-mode": { type: "string" },
    connections: { type: "string" },
    rates: { type: "string" },
    "step-seconds": { type: "string" },
    "scale-orders": { type: "string" },
    backlog: { type: "string" },
    "floor-rate": { type: "string" },
    "floor-rounds": { type: "string" },
    "floor-seconds": { type: "string" },
    "admin-events": { type: "string" },
    "admin-shops": { type: "string" },
    "admin-export": { type: "string" },
    "admin-runs": { type: "string" },
    report: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

function fail(message: string): never {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
}
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

function int(name: keyof typeof values, fallback: number, min = 1): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(n) || n < min) fail(`--${name} takes a whole number ≥ ${min}`);
  return n;
}

const only = values.only?.split(",").map((s) => s.trim()) ?? [...PARTS];
for (const p of only) if (!(PARTS as readonly string[]).includes(p)) fail(`--only: unknown part "${p}"`);
const want = (p: Part) => only.includes(p);
const quick = values.quick;
const latencyMatch = /^(\d+)-(\d+)$/.exec(values["meta-latency"] ?? "100-300");
if (!latencyMatch || Number(latencyMatch[1]) > Number(latencyMatch[2]))
  fail("--meta-latency takes MIN-MAX in ms, e.g. 100-300");
const metaLatency = { min: Number(latencyMatch[1]), max: Number(latencyMatch[2]) };
const naiveMode = values["naive-mode"] ?? "inline";
if (naiveMode !== "inline" && naiveMode !== "background") fail("--naive-mode takes inline or background");
const rates = (values.rates ?? (quick ? "100,200,400" : "200,500,1000")).split(",").map(Number);
if (rates.some((r) => !Number.isInteger(r) || r < 1))
  fail("--rates takes whole numbers of webhooks per second, e.g. 200,500,1000");
const cpus = os.cpus().length;
const shops = int("shops", 1);
const scaleShops = int("scale-shops", 8);
const workers = int("workers", 2);
// One web process by default: on this 2-core machine a second one only competes with
// PostgreSQL, the workers and the load generator for the same cores (measured: 1,089 vs 1,077
// events/s, p99 36 vs 40 ms, 21 vs 24 Meta requests for 20,000 webhooks).
const web = int("web", Math.max(1, os.cpus().length - 1));
const sizes = {
  pipeline: int("webhooks", quick ? 2_000 : 20_000),
  burst: int("burst", quick ? 5_000 : 50_000),
  burstSeconds: int("burst-seconds", quick ? 10 : 60),
  stepSeconds: int("step-seconds", quick ? 3 : 10),
  scaleOrders: int("scale-orders", quick ? 1_000 : 10_000),
  backlog: int("backlog", quick ? 2_000 : 20_000),
  // 500/s is well inside what one web process of the app answers on a quiet machine of this
  // size (latency section: p99 36 ms), so neither side is measured while falling behind.
  // CPU per webhook depends on the rate (batches grow with it): both get the same one.
  floorRate: int("floor-rate", 500),
  floorRounds: int("floor-rounds", quick ? 2 : 4),
  floorSeconds: int("floor-seconds", quick ? 4 : 10),
  adminEvents: int("admin-events", quick ? 100_000 : 1_000_000),
  adminShops: int("admin-shops", quick ? 1_000 : 10_000, 3),
  adminExport: int("admin-export", quick ? 10_000 : 100_000, 100),
  adminRuns: int("admin-runs", quick ? 5 : 20),
};
const scaled =
  quick ||
  [
    "webhooks",
    "burst",
    "burst-seconds",
    "step-seconds",
    "scale-orders",
    "backlog",
    "floor-rate",
    "floor-rounds",
    "floor-seconds",
    "shops",
    "scale-shops",
    "meta-latency",
    "meta-rate-limit",
    "connections",
    "rates",
    "workers",
    "web",
    "naive-mode",
    "admin-events",
    "admin-shops",
    "admin-export",
    "admin-runs",
  ].some((k) => values[k as keyof typeof values] !== undefined);
const toDocs = values.report || (only.length === PARTS.length && !scaled);

const out = path.join(ROOT, "bench/out");
mkdirSync(out, { recursive: true });
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const save = (name: string, data: unknown) =>
  writeFileSync(path.join(out, `${name}.json`), JSON.stringify(data, null, 2));

function git(...args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

const started = new Date();
const machine: Machine = {
  date: started.toISOString(),
  cpu: os.cpus()[0]?.model.trim() ?? "unknown CPU",
  cpus,
  memoryGiB: os.totalmem() / 2 ** 30,
  node: process.version,
  platform: `${os.type()} ${os.release()}`,
  commit: git("rev-parse", "--short", "HEAD") || "unknown",
  dirty: git("status", "--porcelain").length > 0,
  loadAverageStart: os.loadavg()[0] ?? 0,
  loadAverageEnd: 0,
  seconds: 0,
};

const results: {
  eventCore?: EventCoreResult;
  pipeline?: PipelineResult;
  burst?: BurstResult;
  latency?: LatencyResult;
  scaling?: ScalingResult;
  floor?: FloorResult;
  admin?: AdminResult;
} = {};

// The event core first, alone: it times one thread and wants the machine quiet.
if (want("event-core")) {
  log("event core vs Meta's SDK");
  results.eventCore = runEventCore(quick ? { orders: 1000, rounds: 5, budgetSeconds: 5 } : {});
  save("event-core", results.eventCore);
}

const system = only.some((p) => p !== "event-core");
if (system) {
  log("building the app (remix build)");
  await buildApp();
  const meta = await startMetaStandIn({
    latencyMs: metaLatency,
    ratePerPixel: values["meta-rate-limit"] === undefined ? undefined : int("meta-rate-limit", 1),
  });
  try {
    if (want("pipeline")) {
      log(`pipeline: ${sizes.pipeline} webhooks, 16 in flight`);
      results.pipeline = await runPipeline(meta, {
        webhooks: sizes.pipeline,
        workers,
        webProcesses: web,
        profileDir: process.env.BENCH_WEB_PROFILE,
      });
      save("pipeline", results.pipeline);
    }
    if (want("burst")) {
      results.burst = await runBurst(
        meta,
        {
          orders: sizes.burst,
          seconds: sizes.burstSeconds,
          shops,
          workers,
          webProcesses: web,
          naiveMode,
          connections: int("connections", 256),
          drainTimeoutSeconds: 300,
        },
        log,
      );
      save("burst", results.burst);
    }
    if (want("latency")) {
      results.latency = await runLatency(
        meta,
        {
          rates,
          stepSeconds: sizes.stepSeconds,
          maxConcurrency: 64,
          connections: int("connections", 256),
          shops,
          workers,
          webProcesses: web,
        },
        log,
      );
      save("latency", results.latency);
    }
    if (want("scaling")) {
      results.scaling = await runScaling(
        meta,
        {
          workerCounts: [1, 2, 3, 4],
          orders: sizes.scaleOrders,
          rate: Math.round(sizes.burst / sizes.burstSeconds),
          backlog: sizes.backlog,
          shops: scaleShops,
          webProcesses: web,
          cpus,
        },
        log,
      );
      save("scaling", results.scaling);
    }
    if (want("floor")) {
      results.floor = await runFloor(
        meta,
        {
          rounds: sizes.floorRounds,
          seconds: sizes.floorSeconds,
          rate: sizes.floorRate,
          warmup: 500,
          webProcesses: web,
          workers,
          connections: int("connections", 256),
        },
        log,
      );
      save("floor", results.floor);
    }
    if (want("admin")) {
      results.admin = await runAdmin(
        {
          events: sizes.adminEvents,
          shops: sizes.adminShops,
          exportEvents: sizes.adminExport,
          baselineEvents: Math.max(10, Math.round(sizes.adminExport / 100)),
          runs: sizes.adminRuns,
        },
        log,
      );
      save("admin", results.admin);
    }
  } finally {
    await meta.close();
  }
}

machine.loadAverageEnd = os.loadavg()[0] ?? 0;
machine.seconds = (Date.now() - started.getTime()) / 1000;
const settings = {
  metaLatency,
  metaRateLimit: values["meta-rate-limit"] ? Number(values["meta-rate-limit"]) : undefined,
  naiveMode,
  quick,
  sizes,
  shops,
  scaleShops,
  workers,
  web,
};
const markdown = formatReport({
  machine,
  settings,
  ...results,
  eventCoreSection: results.eventCore ? formatEventCore(results.eventCore) : undefined,
});
writeFileSync(path.join(out, "benchmarks.md"), markdown);
save("machine", machine);
console.log(markdown);

const chartFile = path.join(out, "benchmarks.png");
const charted = await renderChart(results, chartFile).then(
  () => true,
  (error: Error) => {
    log(`chart not drawn: ${error.message}`);
    return false;
  },
);
if (toDocs) {
  mkdirSync(path.join(ROOT, "docs"), { recursive: true });
  writeFileSync(path.join(ROOT, "docs/benchmarks.md"), markdown);
  if (charted) copyFileSync(chartFile, path.join(ROOT, "docs/benchmarks.png"));
  log("report written to docs/benchmarks.md and docs/benchmarks.png");
} else {
  log(
    `report written to bench/out/benchmarks.md${charted ? " and bench/out/benchmarks.png" : ""} (docs/ is for full runs; --report forces it)`,
  );
}

// Handles of finished benchmarks (pools, sockets) must not keep the process alive. A report
// without its chart is not a finished run.
process.exit(charted ? 0 : 1);
