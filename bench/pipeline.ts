// The pipeline end to end: signed order webhooks posted to the running app (its own process),
// two worker processes, the Meta stand-in, the real PostgreSQL and Redis of this machine.
// Measures webhook answer latency, events delivered per second and Meta requests used.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Agent, request } from "undici";
import { saveDestination } from "../app/pipeline/destinations.server";
import { startMetaSandbox } from "../sandbox/meta-graph/server";
import { createTestDatabase, freePort, REDIS_URL, uniquePrefix } from "../test/support/services";
import { webhookHeaders } from "../test/support/shopify-webhooks";
import { makeOrders } from "./orders";

const ROOT = path.resolve(import.meta.dirname, "..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");
const SECRET = "bench-webhook-secret";
const SHOP = "bench.myshopify.com";
const PIXEL = "4000000001";

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
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function spawnNode(script: string, env: Record<string, string>, name: string): ChildProcess {
  // A process group of its own: tsx runs the script in a child process, and both must go.
  const child = spawn(process.execPath, [TSX, script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stderr!.on("data", (d) => process.env.BENCH_VERBOSE && process.stderr.write(`[${name}] ${d}`));
  child.stdout!.on("data", (d) => process.env.BENCH_VERBOSE && process.stdout.write(`[${name}] ${d}`));
  return child;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} did not come up`);
}

export async function runPipeline(options: { webhooks?: number; workers?: number; concurrency?: number; webProcesses?: number } = {}): Promise<PipelineResult> {
  const n = options.webhooks ?? 20_000;
  const workers = options.workers ?? 2;
  const concurrency = options.concurrency ?? 16;
  // Always rebuild: a stale build would measure yesterday's code.
  {
    await new Promise<void>((resolve, reject) => {
      const build = spawn(process.execPath, [path.join(ROOT, "node_modules/@remix-run/dev/dist/cli.js"), "build"], { cwd: ROOT, stdio: "ignore" });
      build.on("exit", (code) => (code === 0 ? resolve() : reject(new Error("remix build failed"))));
    });
  }
  const db = await createTestDatabase();
  const meta = await startMetaSandbox({ port: await freePort() });
  const key = randomBytes(32);
  const port = await freePort();
  const env = {
    NODE_ENV: "production",
    PORT: String(port),
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: uniquePrefix(),
    META_GRAPH_URL: meta.url,
    ENCRYPTION_KEY: key.toString("hex"),
    SHOPIFY_API_KEY: "bench-key",
    SHOPIFY_API_SECRET: SECRET,
    SHOPIFY_APP_URL: `http://localhost:${port}`,
    WEB_CONCURRENCY: String(options.webProcesses ?? 2),
  };
  const webEnv = process.env.BENCH_WEB_PROFILE ? { ...env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_WEB_PROFILE}` } : env;
  const children: ChildProcess[] = [];
  try {
    await saveDestination(db.prisma, SHOP, { pixelId: PIXEL, accessToken: "EAAbench-token-0123456789abcdef" }, key);
    children.push(spawnNode("server/main.ts", webEnv, "web"));
    for (let i = 0; i < workers; i++) children.push(spawnNode("server/worker.ts", env, `worker${i + 1}`));
    await waitForHttp(`http://127.0.0.1:${port}/`, 60_000);

    // Orders placed within the last day, so that Meta's window accepts them.
    const nowSeconds = Math.floor(Date.now() / 1000);
    const bodies = makeOrders(n, 7, nowSeconds).map((o) => JSON.stringify(o));
    const agent = new Agent({ connections: concurrency, pipelining: 1 });
    const latencies: number[] = [];
    let nonOk = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const i = next++;
          if (i >= n) return;
          const body = bodies[i]!;
          const headers = webhookHeaders({ topic: "orders/create", shop: SHOP, payload: undefined, secret: SECRET, eventId: `bench-${i}` }, body);
          const t0 = performance.now();
          const response = await request(`http://127.0.0.1:${port}/webhooks/orders/create`, { method: "POST", headers, body, dispatcher: agent });
          await response.body.arrayBuffer();
          latencies.push(performance.now() - t0);
          if (response.statusCode !== 200) nonOk++;
        }
      }),
    );
    const posted = performance.now();
    const deadline = Date.now() + 300_000;
    while (meta.unique(PIXEL).length < n - nonOk && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const finished = performance.now();
    await agent.close();
    latencies.sort((a, b) => a - b);
    const delivered = meta.unique(PIXEL).length;
    const endToEndSeconds = (finished - started) / 1000;
    return {
      webhooks: n,
      workers,
      webProcesses: options.webProcesses ?? 2,
      concurrency,
      latencyMs: { p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9), p99: quantile(latencies, 0.99), max: latencies.at(-1)! },
      postSeconds: (posted - started) / 1000,
      endToEndSeconds,
      eventsPerSecond: delivered / endToEndSeconds,
      metaRequests: meta.stats().requests,
      requestBudget: Math.ceil((Math.ceil(n / 1000)) * 1.05),
      delivered,
      nonOk,
    };
  } finally {
    const signal = (child: ChildProcess, sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    for (const child of children) signal(child, "SIGTERM");
    await new Promise((r) => setTimeout(r, 1000));
    for (const child of children) signal(child, "SIGKILL");
    await meta.close();
    await db.drop();
  }
}
