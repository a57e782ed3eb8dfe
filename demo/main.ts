// `npm run demo`: the whole app on a fresh machine with nothing but Redis. One process runs the
// web app and a delivery worker on the embedded database (a folder of its own, wiped at start),
// and the Meta Graph API stand-in; it connects a demo shop to a pixel, posts a realistic day of
// signed Shopify webhooks over HTTP, waits until every event has met its fate, prints the
// account (read back from the database and the stand-in) and serves a dashboard of the same
// numbers until Ctrl-C. Exits 1 when the account does not add up.
//
//   npm run demo -- [--orders N] [--seed N] [--port N] [--data-dir DIR] [--timeout S] [--exit] [--json FILE]
import { spawn, spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { formatSummary, ledger, summaryRows, type RunFacts } from "../app/demo/ledger";
import { PENDING_STATES } from "../app/pipeline/lifecycle";
import { startMetaSandbox, type MetaSandbox } from "../sandbox/meta-graph/server";
import { checkRedis } from "../server/services";
import { DEMO_PIXEL, DEMO_SHOP, describeDay, makeDemoDay, type Delivery, type DeliveryKind } from "./day-of-orders";

const ROOT = path.resolve(import.meta.dirname, "..");
const DEFAULT_DATA_DIR = path.join(ROOT, "data", "demo");
/** Marks a folder the demo created, so that it only ever wipes its own. */
const MARKER = ".capi-demo";
const DEFAULT_PORT = 3000;
/** Shopify sends a shop's webhooks a few at a time, not one by one. */
const CONCURRENCY = 8;
const REDIS_CHECK_MS = 3_000;
// Plainly not a real token: the stand-in accepts any token it has not revoked.
const DEMO_TOKEN = "EAA-demo-token-not-a-real-one";

const USAGE = `usage: npm run demo -- [--orders N] [--seed N] [--port N] [--data-dir DIR] [--timeout SECONDS] [--exit] [--json FILE]

  --orders N        web orders in the day (default 400); checkouts, payments, redeliveries and
                    the special cases come on top
  --seed N          another day, the same every time for one seed (default 2026)
  --port N          the app's port (default 3000, or a free one when 3000 is taken; 0: any)
  --data-dir DIR    the embedded database's folder, wiped at start (default data/demo)
  --timeout S       how long to wait for the last events to reach Meta (default 120)
  --exit            exit after the summary instead of serving the dashboard
  --json FILE       also write the summary as JSON`;

const argsSchema = z.object({
  orders: z.coerce.number().int().min(1).max(50_000).default(400),
  seed: z.coerce.number().int().default(2026),
  port: z.coerce.number().int().min(0).max(65535).optional(),
  "data-dir": z.string().min(1).optional(),
  timeout: z.coerce.number().positive().default(120),
  exit: z.boolean().default(false),
  json: z.string().min(1).optional(),
  help: z.boolean().default(false),
});
type Args = z.output<typeof argsSchema>;

class DemoError extends Error {}

function parseCommandLine(argv: string[]): Args {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        orders: { type: "string" },
        seed: { type: "string" },
        port: { type: "string" },
        "data-dir": { type: "string" },
        timeout: { type: "string" },
        exit: { type: "boolean" },
        json: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new DemoError(`${(error as Error).message}\n${USAGE}`);
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DemoError(`--${issue.path.join(".")}: ${issue.message}\n${USAGE}`);
  }
  return parsed.data;
}

// ── start-up checks ──────────────────────────────────────────────────────────────────────────

async function requireRedis(url: string): Promise<void> {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error("timed out")), REDIS_CHECK_MS).unref(),
  );
  try {
    await Promise.race([checkRedis(url), timeout]);
  } catch {
    throw new DemoError(
      [
        `Redis is not running: nothing answers at ${url} (REDIS_URL).`,
        "The demo needs Redis for its delivery queue.",
        ...howToStartRedis(url),
      ].join("\n"),
    );
  }
}

function howToStartRedis(url: string): string[] {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    return ["REDIS_URL must look like redis://127.0.0.1:6379."];
  }
  if (!["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname)) {
    return [
      `Start the Redis at ${parsed.host}, or unset REDIS_URL to use one on this machine (redis://127.0.0.1:6379).`,
    ];
  }
  const port = parsed.port && parsed.port !== "6379" ? ` --port ${parsed.port}` : "";
  const installed = spawnSync("sh", ["-c", "command -v redis-server"], { stdio: "ignore" }).status === 0;
  return installed
    ? [
        "Start it, then run the demo again:",
        `  redis-server${port} --daemonize yes`,
        ...(port ? [] : ["or, where Redis runs as a service:", "  sudo service redis-server start"]),
      ]
    : [
        "Install and start it, then run the demo again:",
        port
          ? `  sudo apt-get install redis-server && redis-server${port} --daemonize yes`
          : "  sudo apt-get install redis-server && sudo service redis-server start",
        "(on macOS: brew install redis && brew services start redis)",
      ];
}

/** Empties the demo's folder; refuses any non-empty folder the demo did not create. */
function prepareDataDir(dir: string): void {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new DemoError(
        `${dir} is not a demo folder (it has no ${MARKER} file) and the demo wipes its folder at start; choose another --data-dir`,
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, MARKER), "Created by `npm run demo`, which empties this folder every time it starts.\n");
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (!entry.name.includes(".test.")) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** The server build, rebuilt when a source it is made of is newer (as `npm run build` does). */
async function ensureBuild(say: (line: string) => void): Promise<void> {
  const built = path.join(ROOT, "build", "index.js");
  const builtAt = existsSync(built) && existsSync(path.join(ROOT, "public", "build")) ? statSync(built).mtimeMs : 0;
  const sourcesAt = Math.max(
    newestMtime(path.join(ROOT, "app")),
    newestMtime(path.join(ROOT, "demo")),
    statSync(path.join(ROOT, "remix.config.js")).mtimeMs,
  );
  if (builtAt > sourcesAt) return;
  say(
    builtAt === 0
      ? "Building the app (remix build), once…"
      : "Sources changed since the last build: rebuilding the app (remix build)…",
  );
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "node_modules/@remix-run/dev/dist/cli.js"), "build"], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (d: Buffer) => output.push(d));
    child.stderr.on("data", (d: Buffer) => output.push(d));
    child.on("error", reject);
    child.on("exit", resolve);
  });
  if (code !== 0) throw new DemoError(`remix build failed:\n${Buffer.concat(output).toString()}`);
}

function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

// ── the day on the wire ──────────────────────────────────────────────────────────────────────

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Posting {
  posted: number;
  received: number;
  failed: number;
  answers: Record<string, number>;
  latencies: number[];
  failures: string[];
}

async function postDay(
  baseUrl: string,
  day: Delivery[],
  secret: string,
  shop: string,
  posting: Posting,
  stopped: () => boolean,
): Promise<void> {
  const answerSchema = z.object({ outcome: z.string() });
  let next = 0;
  const postOne = async (d: Delivery) => {
    const body = JSON.stringify(d.payload);
    const headers = {
      "content-type": "application/json",
      "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body, "utf8").digest("base64"),
      "x-shopify-shop-domain": shop,
      "x-shopify-topic": d.topic,
      "x-shopify-api-version": "2026-10",
      "x-shopify-webhook-id": d.webhookId,
      "x-shopify-event-id": d.eventId,
      "x-shopify-triggered-at": new Date(d.at * 1000).toISOString(),
    };
    const started = performance.now();
    try {
      const response = await fetch(`${baseUrl}/webhooks/${d.topic}`, { method: "POST", headers, body });
      const text = await response.text();
      posting.latencies.push(performance.now() - started);
      const answer = answerSchema.safeParse(response.ok ? JSON.parse(text) : undefined);
      if (response.status === 200 && answer.success) {
        posting.received++;
        posting.answers[answer.data.outcome] = (posting.answers[answer.data.outcome] ?? 0) + 1;
      } else {
        posting.failed++;
        posting.failures.push(`${d.topic} ${d.webhookId}: HTTP ${response.status} ${text.slice(0, 200)}`);
      }
    } catch (error) {
      posting.failed++;
      posting.failures.push(`${d.topic} ${d.webhookId}: ${(error as Error).message}`);
    } finally {
      posting.posted++;
    }
  };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < day.length && !stopped()) await postOne(day[next++]!);
    }),
  );
}

function describe(counts: Partial<Record<DeliveryKind, number>>, total: number): string {
  const n = (k: DeliveryKind) => counts[k] ?? 0;
  const specials = [
    n("test-order") && `test orders`,
    n("declined-tracking") && `buyers who declined tracking`,
    n("pos-order") && `a POS sale`,
    n("draft-order") && `a draft order`,
    n("malformed-email") && `an email typed "x@@y"`,
    n("imported-late") && `an order imported 9 days late`,
    n("checkout-without-browser") && `a checkout from a storefront without the embed`,
  ].filter(Boolean);
  return [
    `${total.toLocaleString("en-US")} webhooks: ${n("order").toLocaleString("en-US")} web orders (${n("order-paid").toLocaleString("en-US")} paid the same day),`,
    `${(n("checkout") + n("abandoned-checkout")).toLocaleString("en-US")} checkouts (${n("abandoned-checkout").toLocaleString("en-US")} abandoned), ${n("redelivery")} Shopify redeliveries,`,
    `and ${specials.join(", ")}; US, CA, DE, FR, GB buyers paying in USD, CAD, EUR, GBP.`,
  ].join("\n  ");
}

// ── main ─────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<number> {
  const args = parseCommandLine(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const tty = process.stdout.isTTY === true;
  const say = (line: string) => console.log(line);

  const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
  await requireRedis(redisUrl);

  const dataDir = path.resolve(args["data-dir"] ?? DEFAULT_DATA_DIR);
  prepareDataDir(dataDir);
  await ensureBuild(say);

  const host = "127.0.0.1";
  let port = args.port ?? DEFAULT_PORT;
  if (args.port === undefined && !(await portIsFree(port, host))) port = 0;
  if (port === 0) {
    const probe = createServer();
    port = await new Promise<number>((resolve) =>
      probe.listen(0, host, () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((resolve) => probe.close(resolve));
  }

  const meta = await startMetaSandbox();
  // The app reads its settings from the environment on first use: set them all before any of
  // it loads. Embedded database always (a DATABASE_URL of the developer's is never touched), a
  // queue prefix of its own on the shared Redis, and the demo shop for the dashboard route.
  const queuePrefix = `capi-demo-${randomBytes(4).toString("hex")}`;
  delete process.env.DATABASE_URL;
  Object.assign(process.env, {
    NODE_ENV: "development",
    DATA_DIR: dataDir,
    PORT: String(port),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
    META_GRAPH_URL: meta.url,
    SHOPIFY_APP_URL: `http://localhost:${port}`,
    CAPI_DEMO_SHOP: DEMO_SHOP,
  });

  const { env } = await import("../app/config/env.server");
  const { closeProcessClients, database } = await import("../app/process-clients.server");
  const { saveDestination } = await import("../app/pipeline/destinations.server");
  const { startWorker } = await import("../app/pipeline/worker.server");
  const { redisConnection, QUEUE_NAME } = await import("../app/pipeline/queue.server");
  const { loadBuild, startWebServer } = await import("../server/main");
  const { loadDemoAccount, publishDemoRun } = await import("../app/demo/account.server");
  const settings = env();

  const db = database();
  const workerLog: string[] = [];
  let server: Awaited<ReturnType<typeof startWebServer>> | undefined;
  let worker: ReturnType<typeof startWorker> | undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server?.close().catch(() => undefined);
    await worker?.close().catch(() => undefined);
    // The web tier's queue and the database, opened by the build's routes and by this process.
    await closeProcessClients().catch(() => undefined);
    // The demo's queue keys go with it: its prefix is never used again.
    const { Queue } = await import("bullmq");
    const connection = redisConnection(redisUrl, { maxRetriesPerRequest: 1 });
    connection.on("error", () => undefined);
    const queue = new Queue(QUEUE_NAME, { connection, prefix: queuePrefix });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close().catch(() => undefined);
    connection.disconnect();
    await meta.close();
  };

  let interrupted = false;
  let interruptedAt = 0;
  const onSignal = () => {
    // One Ctrl-C can arrive twice: from the terminal to the whole process group, and relayed
    // by tsx when this process is slow to acknowledge it. Only a later one means "now".
    if (interrupted && Date.now() - interruptedAt > 1_000) process.exit(130);
    if (!interrupted) interruptedAt = Date.now();
    interrupted = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    await db.ready;
    await saveDestination(db.prisma, DEMO_SHOP, { pixelId: DEMO_PIXEL, accessToken: DEMO_TOKEN });
    const build = await loadBuild();
    // Remix's production mode: development mode logs every 404 (a browser's favicon.ico) with a stack.
    server = await startWebServer({ port, host, build, mode: "production" }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === "EADDRINUSE"
        ? new DemoError(`port ${port} is already in use; choose another with --port (0 picks a free one)`)
        : error;
    });
    worker = startWorker({
      prisma: db.prisma,
      redisUrl,
      graphUrl: meta.url,
      queuePrefix,
      concurrency: settings.WORKER_CONCURRENCY,
      leaseMs: settings.WORKER_LEASE_MS,
      log: (line) => workerLog.push(line),
    });
    const baseUrl = `http://${host}:${server.port}`;
    const dashboardUrl = `http://localhost:${server.port}/demo`;

    const nowSeconds = Math.floor(Date.now() / 1000);
    const day = makeDemoDay({ orders: args.orders, seed: args.seed, nowSeconds, shop: DEMO_SHOP });
    say(
      `CAPI Relay demo: the app on the embedded database (${path.relative(process.cwd(), dataDir) || "."}), a worker, and Meta's stand-in.`,
    );
    say(`Shop ${DEMO_SHOP} → pixel ${DEMO_PIXEL}. Its day, seed ${args.seed}:`);
    say(`  ${describe(describeDay(day), day.length)}`);

    const posting: Posting = { posted: 0, received: 0, failed: 0, answers: {}, latencies: [], failures: [] };
    const waiting = () => db.prisma.event.count({ where: { shop: DEMO_SHOP, state: { in: PENDING_STATES } } });
    let lastLine = "";
    const progress = async (final = false) => {
      const line = `  posted ${posting.posted.toLocaleString("en-US")}/${day.length.toLocaleString("en-US")} · delivered to Meta ${meta
        .unique(DEMO_PIXEL)
        .length.toLocaleString("en-US")} · waiting ${(await waiting()).toLocaleString("en-US")}`;
      if (tty) process.stdout.write(`\r\x1b[2K${line}${final ? "\n" : ""}`);
      else if (line !== lastLine || final) console.log(line);
      lastLine = line;
    };
    let ticking = false;
    const ticker = setInterval(() => {
      if (ticking) return;
      ticking = true;
      void progress().finally(() => (ticking = false));
    }, 1_000);

    const started = performance.now();
    await postDay(baseUrl, day, settings.SHOPIFY_API_SECRET, DEMO_SHOP, posting, () => interrupted);
    const posted = performance.now();
    const deadline = Date.now() + args.timeout * 1000;
    while (!interrupted && Date.now() < deadline && (await waiting()) > 0) await new Promise((r) => setTimeout(r, 200));
    const settled = performance.now();
    clearInterval(ticker);
    while (ticking) await new Promise((r) => setTimeout(r, 20));
    await progress(true);
    if (interrupted) {
      say("Interrupted.");
      return 130;
    }

    const latencies = posting.latencies.slice().sort((a, b) => a - b);
    const stats = meta.requests();
    const run: RunFacts = {
      shop: DEMO_SHOP,
      pixelId: DEMO_PIXEL,
      received: posting.received,
      failed: posting.failed,
      answers: posting.answers,
      latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) ?? 0 },
      meta: {
        requests: stats.total,
        acceptedRequests: stats.accepted,
        kept: meta.unique(DEMO_PIXEL).length,
        accepted: meta.accepted(DEMO_PIXEL).length,
      },
      postSeconds: (posted - started) / 1000,
      settleSeconds: (settled - posted) / 1000,
    };
    publishDemoRun(run);
    const account = await loadDemoAccount(db.prisma, DEMO_SHOP);
    const result = ledger(account, run);
    const problems = [...result.problems, ...sameEventsAsMeta(await sentEvents(db.prisma), meta)];
    const rows = summaryRows(result);

    say("");
    const after =
      result.waiting === 0
        ? `every event had its fate ${run.settleSeconds.toFixed(1)} s later`
        : `gave up waiting for the last events after ${run.settleSeconds.toFixed(0)} s (--timeout)`;
    say(`Summary: posted in ${run.postSeconds.toFixed(1)} s, ${after}. From the database and Meta's stand-in:`);
    say(formatSummary(rows));
    if (args.json)
      writeFileSync(
        path.resolve(args.json),
        JSON.stringify(
          { shop: DEMO_SHOP, pixelId: DEMO_PIXEL, ledger: result, run, problems, day: describeDay(day) },
          null,
          2,
        ),
      );
    if (problems.length > 0) {
      console.error(`\nThe account does not add up:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
      for (const failure of posting.failures.slice(0, 5)) console.error(`  ${failure}`);
      for (const line of workerLog.slice(-5)) console.error(`  worker: ${line}`);
    } else {
      say("Every webhook is accounted for.");
    }
    const code = problems.length > 0 ? 1 : 0;
    say(`\nDashboard with the same numbers: ${dashboardUrl}`);
    if (args.exit) return code;

    say("Serving the dashboard; press Ctrl-C to stop.");
    while (!interrupted) await new Promise((r) => setTimeout(r, 200));
    say("Stopped.");
    return code;
  } finally {
    await close();
  }
}

async function sentEvents(prisma: import("@prisma/client").PrismaClient): Promise<Set<string>> {
  const rows = await prisma.event.findMany({
    where: { shop: DEMO_SHOP, state: "sent" },
    select: { eventName: true, eventId: true },
  });
  return new Set(rows.map((r) => `${r.eventName} ${r.eventId}`));
}

/** The events the database calls delivered are exactly those Meta's stand-in kept. */
function sameEventsAsMeta(sent: Set<string>, meta: MetaSandbox): string[] {
  const kept = new Set(meta.unique(DEMO_PIXEL).map((a) => `${a.event.event_name} ${String(a.event.event_id)}`));
  const missing = [...sent].filter((k) => !kept.has(k));
  const unknown = [...kept].filter((k) => !sent.has(k));
  const problems: string[] = [];
  if (missing.length)
    problems.push(`${missing.length} event(s) marked delivered never reached Meta's stand-in (e.g. ${missing[0]})`);
  if (unknown.length)
    problems.push(
      `Meta's stand-in kept ${unknown.length} event(s) the database does not mark delivered (e.g. ${unknown[0]})`,
    );
  return problems;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(
      error instanceof DemoError ? error.message : `demo failed: ${(error as Error).stack ?? String(error)}`,
    );
    process.exit(1);
  },
);
