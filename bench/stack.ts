// The app as it runs in production, started for a benchmark: server/main.ts with
// WEB_CONCURRENCY web processes and any number of server/worker.ts processes, on a throwaway
// PostgreSQL database and a private Redis prefix of this machine, pointed at a Meta stand-in.
// Every child gets a process group of its own (tsx runs the script in a child process of its
// own), so that stopping one stops all of it, and so that its memory can be read from /proc.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createInterface } from "node:readline";
import { saveDestination } from "../app/pipeline/destinations.server";
import { groupSize } from "./memory";
import pg from "pg";
import {
  ADMIN_DATABASE_URL,
  createTestDatabase,
  freePort,
  REDIS_URL,
  uniquePrefix,
  type TestDatabase,
} from "../test/support/services";

export const ROOT = path.resolve(import.meta.dirname, "..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");
export const WEBHOOK_SECRET = "bench-webhook-secret";

/** A merchant of the benchmark: a shop and the Meta pixel its events go to. */
export interface BenchShop {
  shop: string;
  pixelId: string;
  accessToken: string;
}

let pixelSerial = 0;
/** `count` shops of their own (distinct pixels), named after `tag` so that runs never share one. */
export function benchShops(count: number, tag: string): BenchShop[] {
  return Array.from({ length: count }, (_, i) => ({
    shop: `${tag}-${i + 1}.myshopify.com`,
    pixelId: String(4_000_000_000 + ++pixelSerial * 100 + i),
    accessToken: `EAAbench-${tag}-${i}-0123456789abcdef`,
  }));
}

export function spawnScript(
  script: string,
  env: Record<string, string>,
  name: string,
  onLine?: (line: string) => void,
): ChildProcess {
  const child = spawn(process.execPath, [TSX, script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const verbose = Boolean(process.env.BENCH_VERBOSE);
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      onLine?.(line);
      if (verbose) console.error(`[${name}] ${line}`);
    });
  }
  return child;
}

/** SIGTERM to the whole group, SIGKILL a moment later to whatever is left. */
export async function stopGroups(children: ChildProcess[], graceMs = 1000): Promise<void> {
  const signal = (child: ChildProcess, sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  const live = children.filter((c) => c.exitCode === null && c.signalCode === null);
  if (live.length === 0) return;
  for (const child of live) signal(child, "SIGTERM");
  // The launcher may exit before the script's process has finished (a CPU profile being
  // written, say): wait for the whole group, not for the launcher.
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && live.some((c) => groupSize(c.pid!) > 0)) await new Promise((r) => setTimeout(r, 50));
  for (const child of live) signal(child, "SIGKILL");
}

export async function waitForHttp(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null)
      throw new Error(`${url}: the server exited with ${child.exitCode} (BENCH_VERBOSE=1 shows why)`);
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

/** Always rebuild: a stale build would measure yesterday's code. */
export async function buildApp(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const build = spawn(process.execPath, [path.join(ROOT, "node_modules/@remix-run/dev/dist/cli.js"), "build"], {
      cwd: ROOT,
      stdio: "ignore",
    });
    build.on("exit", (code) => (code === 0 ? resolve() : reject(new Error("remix build failed"))));
  });
}

/** The settings every process of the app reads (see README, Settings). */
export function appEnv(o: {
  port: number;
  databaseUrl: string;
  metaUrl: string;
  key: Buffer;
  webProcesses: number;
}): Record<string, string> {
  return {
    NODE_ENV: "production",
    PORT: String(o.port),
    DATABASE_URL: o.databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: uniquePrefix(),
    META_GRAPH_URL: o.metaUrl,
    ENCRYPTION_KEY: o.key.toString("hex"),
    SHOPIFY_API_KEY: "bench-key",
    SHOPIFY_API_SECRET: WEBHOOK_SECRET,
    SHOPIFY_APP_URL: `http://localhost:${o.port}`,
    WEB_CONCURRENCY: String(o.webProcesses),
  };
}

/** `count` worker processes; resolves when each has said it started. */
export async function startWorkers(env: Record<string, string>, count: number): Promise<ChildProcess[]> {
  // BENCH_PROFILE_DIR=dir: CPU profiles of every web and worker process, written when they stop.
  if (process.env.BENCH_PROFILE_DIR)
    env = { ...env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.join(process.env.BENCH_PROFILE_DIR, "worker")}` };
  const workers: ChildProcess[] = [];
  const started: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    started.push(
      new Promise<void>((resolve, reject) => {
        const child = spawnScript(
          "server/worker.ts",
          env,
          `worker${i + 1}`,
          (line) => line.includes("worker started") && resolve(),
        );
        child.once("exit", (code) =>
          reject(new Error(`worker ${i + 1} exited with ${code} (BENCH_VERBOSE=1 shows why)`)),
        );
        workers.push(child);
      }),
    );
  }
  try {
    await Promise.all(started);
  } catch (error) {
    await stopGroups(workers);
    throw error;
  }
  return workers;
}

/** Connects each shop's pixel; events held for want of a pixel become due at `now`. */
export async function connectShops(
  prisma: TestDatabase["prisma"],
  shops: BenchShop[],
  key: Buffer,
  now = new Date(),
): Promise<void> {
  for (const s of shops)
    await saveDestination(prisma, s.shop, { pixelId: s.pixelId, accessToken: s.accessToken }, key, now);
}

/** A copy of a database (PostgreSQL copies the files: fast); nothing may be connected to the source. */
export async function cloneDatabase(sourceUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const source = new URL(sourceUrl).pathname.slice(1);
  const name = `capi_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    // Connections of stopped processes may take a moment to go.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${source}"`);
        break;
      } catch (error) {
        if (attempt >= 50) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = new URL(sourceUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface AppStack {
  /** http://127.0.0.1:PORT */
  url: string;
  db: TestDatabase;
  /** the settings its processes run with; ENCRYPTION_KEY seals the shops' tokens */
  env: Record<string, string>;
  key: Buffer;
  webProcesses: number;
  /** Process-group leaders: the web server (cluster primary) and each worker. */
  webPid(): number;
  workerPids(): number[];
  addShops(shops: BenchShop[]): Promise<void>;
  /** Stops the running workers and starts `count` new ones; resolves when each says it has started. */
  setWorkers(count: number): Promise<void>;
  /** Stops the web server and the workers; the database stays until close(). */
  stopProcesses(): Promise<void>;
  close(): Promise<void>;
}

export async function startAppStack(options: {
  metaUrl: string;
  shops: BenchShop[];
  webProcesses: number;
  workers: number;
  profileDir?: string;
}): Promise<AppStack> {
  const db = await createTestDatabase();
  const key = randomBytes(32);
  const port = await freePort();
  const env = appEnv({ port, databaseUrl: db.url, metaUrl: options.metaUrl, key, webProcesses: options.webProcesses });
  let web: ChildProcess | undefined;
  let workers: ChildProcess[] = [];
  const setWorkers = async (count: number) => {
    await stopGroups(workers, 5000);
    workers = [];
    workers = await startWorkers(env, count);
  };
  try {
    await connectShops(db.prisma, options.shops, key);
    const profileDir =
      options.profileDir ??
      (process.env.BENCH_PROFILE_DIR ? path.join(process.env.BENCH_PROFILE_DIR, "web") : undefined);
    const webEnv = profileDir ? { ...env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : env;
    web = spawnScript("server/main.ts", webEnv, "web");
    await waitForHttp(`http://127.0.0.1:${port}/`, 60_000, web);
    await setWorkers(options.workers);
  } catch (error) {
    await stopGroups([...(web ? [web] : []), ...workers]);
    await db.drop();
    throw error;
  }
  const stopProcesses = async () => {
    await stopGroups([web!, ...workers], 5000);
    workers = [];
  };
  return {
    url: `http://127.0.0.1:${port}`,
    db,
    env,
    key,
    webProcesses: options.webProcesses,
    webPid: () => web!.pid!,
    workerPids: () => workers.map((w) => w.pid!),
    addShops: (shops) => connectShops(db.prisma, shops, key),
    setWorkers,
    stopProcesses,
    async close() {
      await stopProcesses();
      await db.drop();
    },
  };
}
