// What the fault scenarios share: worker processes that can be SIGKILLed and started again, a
// PostgreSQL cluster of the suite's own that can be restarted, the webhook routes called the
// way Shopify calls them, bursts of realistic orders, and a seeded source of randomness so
// that a failing run can be replayed.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ActionFunctionArgs } from "@remix-run/node";
import pg from "pg";
import { makeOrders, prng } from "../../bench/orders";
import { machineClockEnv } from "../support/machine-clock";
import { atShop } from "../support/fixtures";
import { freePort } from "../support/services";
import { sleep, waitFor as waitForState } from "../support/wait";
import { signedWebhookRequest, webhookRouteActions } from "../support/shopify-webhooks";

export const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");

export { prng };

/** The seed of every random choice of a scenario; FAULT_SEED replays another run. */
export function faultSeed(fallback: number): number {
  const given = Number(process.env.FAULT_SEED);
  return Number.isInteger(given) ? given : fallback;
}

export { sleep };

/** test/support/wait.ts's waitFor, where a failing check (a service being restarted) counts as "not yet". */
export function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 100): Promise<void> {
  return waitForState(() => check().catch(() => false), timeoutMs, what, everyMs);
}

/**
 * n realistic orders/create payloads placed within the day before `nowMs`, with order ids
 * from `firstId` on (bench/orders numbers every set from the same base; Shopify's ids are
 * global, so two shops' bursts need bases of their own). With `shop`, the status links are
 * that shop's, as the webhook routes require.
 */
export function orderBurst(
  n: number,
  options: { seed: number; firstId: number; nowMs?: number; shop?: string },
): Array<Record<string, any>> {
  const nowSeconds = Math.floor((options.nowMs ?? Date.now()) / 1000);
  return makeOrders(n, options.seed, nowSeconds).map((order, i) => {
    const id = options.firstId + i;
    const owned = options.shop ? atShop(order, options.shop) : order;
    return { ...owned, id, admin_graphql_api_id: `gid://shopify/Order/${id}` };
  });
}

// ---------------------------------------------------------------------------------------------
// Worker processes

export interface WorkerProcessEnv {
  DATABASE_URL: string;
  REDIS_URL: string;
  QUEUE_PREFIX: string;
  META_GRAPH_URL: string;
  ENCRYPTION_KEY: string;
  WORKER_LEASE_MS?: string;
  WORKER_CONCURRENCY?: string;
}

/** One `npm run worker` process (server/worker.ts under tsx), in a process group of its own. */
export class WorkerProcess {
  private child?: ChildProcess;
  private output = "";
  starts = 0;
  kills = 0;

  constructor(
    readonly name: string,
    private readonly env: WorkerProcessEnv,
  ) {}

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process; `ready` waits until it reports that it has started. */
  start(): { ready: Promise<void> } {
    this.starts++;
    const child = spawn(process.execPath, [TSX, "server/worker.ts"], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: "development", WORKER_LEASE_MS: "60000", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
      // tsx runs the worker in a child of its own: the signal must reach the whole group.
      detached: true,
    });
    this.child = child;
    let sinceStart = "";
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => {
        this.record(d);
        sinceStart = (sinceStart + d.toString()).slice(-1000);
        if (sinceStart.includes("worker started")) resolve();
      });
      child.stderr!.on("data", (d: Buffer) => this.record(d));
      child.once("exit", (code, signal) =>
        reject(new Error(`${this.name} exited (${code ?? signal}) before it started:\n${this.tail()}`)),
      );
    });
    ready.catch(() => undefined);
    return { ready };
  }

  private record(d: Buffer): void {
    this.output += d.toString();
    // Keep the tail only: a worker's log is for diagnosing a failure.
    if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
  }

  tail(chars = 3000): string {
    return `[${this.name}] ${this.output.slice(-chars)}`;
  }

  /** SIGKILL to the whole process group: no cleanup, no goodbye, as an OOM kill or a power cut. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.alive) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
    this.kills++;
    await exited;
  }

  /** A signal to the whole process group: SIGSTOP freezes the worker mid-request (a long GC, a starved VM), SIGCONT thaws it. */
  signal(signal: "SIGSTOP" | "SIGCONT"): void {
    if (this.child?.pid) process.kill(-this.child.pid, signal);
  }

  /** Test teardown: the group goes even if the leader already exited. */
  destroy(): void {
    if (!this.child?.pid) return;
    try {
      process.kill(-this.child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A PostgreSQL cluster of our own

function postgresBin(tool: string): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL server binaries under ${base}`);
  return path.join(base, newest, "bin", tool);
}

/**
 * A throwaway PostgreSQL cluster on a free port, which the test may kill and start again.
 * The machine's shared server on 5432 is never touched: other tests use it. PostgreSQL refuses
 * to run as root, so under root the cluster belongs to the `postgres` user.
 */
export class OwnPostgres {
  readonly dir: string;
  private port = 0;
  private readonly asRoot = process.getuid?.() === 0;
  private readonly onExit = () => this.stopSync();

  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), "capi-faults-pg-"));
  }

  private run(tool: string, args: string[]): void {
    const command = this.asRoot ? "runuser" : postgresBin(tool);
    const argv = this.asRoot ? ["-u", "postgres", "--", postgresBin(tool), ...args] : args;
    const result = spawnSync(command, argv, { encoding: "utf8", timeout: 60_000, env: machineClockEnv() });
    if (result.status !== 0)
      throw new Error(`${tool} ${args.join(" ")} failed: ${result.stderr || result.stdout}\n${this.log()}`);
  }

  private log(): string {
    try {
      return readFileSync(path.join(this.dir, "log"), "utf8").slice(-2000);
    } catch {
      return "";
    }
  }

  private get options(): string {
    // fsync off: the cluster lives for one test, and an immediate stop is a crash of the
    // server, not of the machine, so the operating system still holds every write.
    return `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  }

  url(database = "postgres"): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async init(): Promise<void> {
    this.port = await freePort();
    if (this.asRoot) {
      chownSync(this.dir, Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim()), -1);
      chmodSync(this.dir, 0o700);
    }
    this.run("initdb", ["-D", path.join(this.dir, "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
    process.once("exit", this.onExit);
    await this.start();
  }

  async createDatabase(name: string): Promise<string> {
    const admin = new pg.Client({ connectionString: this.url() });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    return this.url(name);
  }

  async start(): Promise<void> {
    this.run("pg_ctl", [
      "-D",
      path.join(this.dir, "data"),
      "-l",
      path.join(this.dir, "log"),
      "-o",
      this.options,
      "-w",
      "-t",
      "30",
      "start",
    ]);
  }

  /** `immediate` is a crash: connections cut, no checkpoint, recovery at the next start. */
  async stop(mode: "fast" | "immediate" = "immediate"): Promise<void> {
    this.run("pg_ctl", ["-D", path.join(this.dir, "data"), "-m", mode, "-w", "-t", "30", "stop"]);
  }

  private stopSync(): void {
    const command = this.asRoot ? "runuser" : postgresBin("pg_ctl");
    const args = ["-D", path.join(this.dir, "data"), "-m", "immediate", "-w", "stop"];
    spawnSync(command, this.asRoot ? ["-u", "postgres", "--", postgresBin("pg_ctl"), ...args] : args, {
      stdio: "ignore",
      env: machineClockEnv(),
    });
  }

  async destroy(): Promise<void> {
    this.stopSync();
    process.off("exit", this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The webhook routes, called as Shopify calls them

type Action = (args: ActionFunctionArgs) => Promise<Response>;

export interface RouteAnswer {
  status: number;
  body: string;
  ms: number;
  /** The route threw instead of answering (Remix answers 500); the error's message. */
  thrown?: string;
}

/**
 * The app's webhook routes in this process, behind Shopify's HMAC check. The app reads its
 * settings from the environment on first use, so `env` is applied before the routes load.
 * A thrown error is answered as Remix answers it: 500, which Shopify retries.
 */
/** What differs between scenarios; the Shopify app's test credentials are the harness's. */
export interface RouteSettings {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  /** The token vault's key (the scenario saves destinations with the same key). */
  vaultKey: Buffer;
}

const ROUTE_SECRET = "faults-webhook-secret";

export async function webhookRoutes(s: RouteSettings) {
  Object.assign(process.env, {
    NODE_ENV: "test",
    SHOPIFY_API_KEY: "faults-key",
    SHOPIFY_API_SECRET: ROUTE_SECRET,
    DATABASE_URL: s.databaseUrl,
    REDIS_URL: s.redisUrl,
    QUEUE_PREFIX: s.queuePrefix,
    ENCRYPTION_KEY: s.vaultKey.toString("hex"),
  });
  const actions: Record<string, Action> = await webhookRouteActions();
  const secret = ROUTE_SECRET;
  return {
    async post(o: {
      topic: string;
      shop: string;
      payload: unknown;
      eventId?: string;
      webhookId?: string;
      rawBody?: string;
    }): Promise<RouteAnswer> {
      const started = performance.now();
      let request = signedWebhookRequest("https://capi-relay.example.com", {
        topic: o.topic,
        shop: o.shop,
        payload: o.payload,
        secret,
        eventId: o.eventId,
        webhookId: o.webhookId,
      });
      if (o.rawBody !== undefined) {
        // A body that is not the JSON of any value: signed over its exact bytes all the same.
        const { getHmac } = await import("@shopify/shopify-api/test-helpers");
        const headers = new Headers(request.headers);
        headers.set("x-shopify-hmac-sha256", getHmac(o.rawBody, secret));
        request = new Request(request.url, { method: "POST", headers, body: o.rawBody });
      }
      let response: Response;
      try {
        response = await actions[o.topic]!({ request, params: {}, context: {} });
      } catch (thrown) {
        if (thrown instanceof Response) response = thrown;
        else {
          const message = thrown instanceof Error ? thrown.message : String(thrown);
          return { status: 500, body: message, ms: performance.now() - started, thrown: message };
        }
      }
      return { status: response.status, body: await response.text(), ms: performance.now() - started };
    },
    async close() {
      const { closeProcessClients, deliveryQueue } = await import("../../app/process-clients.server");
      await deliveryQueue()
        .queue.obliterate({ force: true })
        .catch(() => undefined);
      await closeProcessClients();
    },
  };
}
export type WebhookRoutes = Awaited<ReturnType<typeof webhookRoutes>>;

/**
 * Posts each webhook until the app answers 2xx, as Shopify does: a non-2xx answer is sent
 * again later with the same X-Shopify-Event-Id, while the other webhooks keep coming.
 * `lanes` requests are in flight at once; `between(index)` runs before webhook `index` first goes.
 */
export async function deliverLikeShopify(
  routes: WebhookRoutes,
  webhooks: Array<{ topic: string; shop: string; payload: unknown; eventId: string }>,
  options: {
    lanes?: number;
    retryAfterMs?: number;
    maxAttempts?: number;
    between?: (index: number) => Promise<void>;
  } = {},
): Promise<{ answers: number; retried: number; failedAnswers: number; slowestMs: number; latencies: number[] }> {
  const lanes = options.lanes ?? 4;
  const stats = { answers: 0, retried: 0, failedAnswers: 0, slowestMs: 0, latencies: [] as number[] };
  const retries: Array<{ index: number; attempt: number; at: number }> = [];
  let next = 0;
  let inFlight = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (;;) {
        const due = retries.findIndex((r) => r.at <= Date.now());
        let item: { index: number; attempt: number };
        if (due >= 0) item = retries.splice(due, 1)[0]!;
        else if (next < webhooks.length) {
          item = { index: next++, attempt: 1 };
          inFlight++;
          await options.between?.(item.index).finally(() => inFlight--);
        } else if (retries.length > 0 || inFlight > 0) {
          await sleep(20);
          continue;
        } else return;
        const webhook = webhooks[item.index]!;
        inFlight++;
        const answer = await routes.post(webhook).finally(() => inFlight--);
        stats.answers++;
        stats.latencies.push(answer.ms);
        stats.slowestMs = Math.max(stats.slowestMs, answer.ms);
        if (answer.status >= 200 && answer.status < 300) continue;
        stats.failedAnswers++;
        if (item.attempt >= (options.maxAttempts ?? 200))
          throw new Error(
            `webhook ${webhook.eventId} still answered ${answer.status} after ${item.attempt} attempts: ${answer.body}`,
          );
        if (item.attempt === 1) stats.retried++;
        retries.push({ index: item.index, attempt: item.attempt + 1, at: Date.now() + (options.retryAfterMs ?? 250) });
      }
    }),
  );
  return stats;
}

export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
