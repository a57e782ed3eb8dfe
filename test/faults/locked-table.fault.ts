// A table locked mid-burst: another session takes `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` (a
// migration, an operator's ALTER, a VACUUM FULL) and holds it, then commits. The web tier's
// limits (app/db/client.server.ts WEB_DATABASE_LIMITS: 1.5 s pool, 1 s lock, 3 s statement)
// turn every webhook that needs the table into a prompt 503 that Shopify delivers again, never
// a 20 s wait past Shopify's 5 s timeout, never a 500. Webhooks that need nothing of the table
// (served from a cache) still answer 200. A worker process (worker limits) keeps running; its
// statements time out and are tried again by its next sweep. The Event lock is taken while one
// of the worker's batches is at Meta (a proxy holds that request until the lock is held): the
// batch's outcome cannot be written, the batch stays "sending" until its lease runs out and
// goes again, and those are the only copies Meta gets twice. After the locks every order's
// Purchase reaches Meta.
// Phases, one after the other within one burst: the Event table (~20 s), the WebhookReceipt
// table, the Session table (Shopify's library reads the shop's session on each webhook).
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { saveDestination } from "../../app/pipeline/destinations.server";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../support/services";
import { printAccount, settleAndAccount } from "./account";
import {
  deliverLikeShopify,
  faultSeed,
  orderBurst,
  prng,
  quantile,
  sleep,
  webhookRoutes,
  WorkerProcess,
  type RouteAnswer,
  type WebhookRoutes,
} from "./harness";

const SHOP = "locked-table.myshopify.com";
const PIXEL = "5900000001";
const ORDERS = 1_500;
/** Webhooks Shopify starts per second, and how many it has in flight at once. */
const RATE_PER_S = 30;
const LANES = 8;
/** Shopify gives up on an answer after 5 s and counts the delivery as failed. */
const SHOPIFY_TIMEOUT_MS = 5_000;
/**
 * The worker's lease: a batch whose outcome could not be written (its statement timed out on
 * the lock) stays "sending" until the lease runs out, then goes again; 60 s in production.
 */
const WORKER_LEASE_MS = 5_000;
const seed = faultSeed(4901);
const key = randomBytes(32);

interface LockPhase {
  table: string;
  /** From the burst's start. */
  atMs: number;
  holdMs: number;
  /** Every webhook needs this table: each answer wholly inside the lock is a 503. */
  everyWebhookNeedsIt: boolean;
  /** Taken while a worker's request is at Meta, so that the batch's outcome meets the lock. */
  duringWorkerRequest?: boolean;
}
const LOCKS: LockPhase[] = [
  { table: "Event", atMs: 3_000, holdMs: 20_000, everyWebhookNeedsIt: true, duringWorkerRequest: true },
  { table: "WebhookReceipt", atMs: 26_000, holdMs: 10_000, everyWebhookNeedsIt: true },
  // Read through a 5 s cache (app/shopify/session-storage.server.ts): 200s first, then 503s.
  { table: "Session", atMs: 39_000, holdMs: 9_000, everyWebhookNeedsIt: false },
];

let db: TestDatabase;
let meta: MetaSandbox;
let routes: WebhookRoutes;
let worker: WorkerProcess;
let front: MetaFront;
const lockers: pg.Client[] = [];

/**
 * Between the worker and Meta: `catchNext(until)` holds the next request until `until` settles
 * (then forwards it) and resolves, once it arrives, with the event ids it carries.
 */
interface MetaFront {
  url: string;
  catchNext(until: Promise<unknown>): Promise<string[]>;
  close(): Promise<void>;
}
async function metaFront(target: string): Promise<MetaFront> {
  let trap: { until: Promise<unknown>; caught(ids: string[]): void } | undefined;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const held = trap;
    trap = undefined;
    if (held) {
      const data = (JSON.parse(body.toString("utf8")) as { data: Array<{ event_id: unknown }> }).data;
      held.caught(data.map((e) => String(e.event_id)));
      await held.until.catch(() => undefined);
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !["host", "connection", "content-length"].includes(name)),
    ) as Record<string, string>;
    try {
      const upstream = await fetch(target + req.url, { method: req.method, headers, body });
      res
        .writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" })
        .end(Buffer.from(await upstream.arrayBuffer()));
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    catchNext: (until) => new Promise((caught) => (trap = { until, caught })),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox();
  front = await metaFront(meta.url);
  const prefix = uniquePrefix();
  // First: the routes open the process's database (app/process-clients.server.ts) from this environment.
  routes = await webhookRoutes({ databaseUrl: db.url, redisUrl: REDIS_URL, queuePrefix: prefix, vaultKey: key });
  await saveDestination(db.prisma, SHOP, { pixelId: PIXEL, accessToken: "EAAlocked-0123456789abcdef" }, key);
  worker = new WorkerProcess("worker", {
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    META_GRAPH_URL: front.url,
    ENCRYPTION_KEY: key.toString("hex"),
    WORKER_LEASE_MS: String(WORKER_LEASE_MS),
  });
  await worker.start().ready;
});
afterAll(async () => {
  for (const locker of lockers) await locker.end().catch(() => undefined);
  worker?.destroy();
  await front?.close();
  await routes?.close();
  await meta?.close();
  await db?.drop();
});

interface TimedAnswer extends RouteAnswer {
  startedAt: number;
  endedAt: number;
}

interface LockWindow {
  acquiredAt?: number;
  releasedAt?: number;
  /** duringWorkerRequest: the events of the worker's request that was at Meta when the lock came. */
  heldBatch?: string[];
}

/** Takes the lock (waiting for statements under way, as a real LOCK TABLE does), holds it, commits. */
async function holdLock(phase: LockPhase, window: LockWindow): Promise<void> {
  const locker = new pg.Client({ connectionString: db.url });
  lockers.push(locker);
  locker.on("error", () => undefined);
  await locker.connect();
  await locker.query("BEGIN");
  let locked!: () => void;
  const lockHeld = new Promise<void>((resolve) => (locked = resolve));
  // The worker's next request waits at the proxy until the lock is held: its batch is at Meta
  // when the table goes, and its outcome meets the lock.
  if (phase.duringWorkerRequest) window.heldBatch = await front.catchNext(lockHeld);
  await locker.query(`LOCK TABLE "${phase.table}" IN ACCESS EXCLUSIVE MODE`);
  window.acquiredAt = Date.now();
  locked();
  await sleep(phase.holdMs);
  await locker.query("COMMIT");
  window.releasedAt = Date.now();
  await locker.end();
}

it("tables locked mid-burst: webhooks answer 503 within Shopify's timeout, none 500, the worker carries on, every order delivered", async () => {
  // The web tier's limits are on the routes' connections (this process opened the database as web).
  const { database } = await import("../../app/process-clients.server");
  const limits = (
    await database().sql<{ lock: string; statement: string }>(
      `SELECT current_setting('lock_timeout') AS "lock", current_setting('statement_timeout') AS "statement"`,
      [],
    )
  )[0];
  expect(limits).toEqual({ lock: "1s", statement: "3s" });

  const random = prng(seed);
  const orders = orderBurst(ORDERS, { seed, firstId: 8_900_000_000, shop: SHOP });
  const webhooks = orders.map((order, i) => ({
    topic: i % 5 === 4 ? "orders/paid" : "orders/create",
    shop: SHOP,
    payload: order,
    eventId: `lt-${i}`,
  }));
  const answers: TimedAnswer[] = [];
  const timed: WebhookRoutes = {
    ...routes,
    async post(o) {
      const startedAt = Date.now();
      const answer = await routes.post(o);
      answers.push({ ...answer, startedAt, endedAt: Date.now() });
      return answer;
    },
  };

  const started = Date.now();
  const windows = LOCKS.map((): LockWindow => ({}));
  const locking = (async () => {
    for (const [i, phase] of LOCKS.entries()) {
      await sleep(Math.max(0, started + phase.atMs - Date.now()));
      await holdLock(phase, windows[i]!);
    }
  })();
  locking.catch(() => undefined);
  // Shopify's steady stream of a busy shop, a little jitter between webhooks.
  const stats = await deliverLikeShopify(timed, webhooks, {
    lanes: LANES,
    retryAfterMs: 500,
    between: async (index) => {
      const due = started + (index * 1000) / RATE_PER_S + random() * 20;
      await sleep(Math.max(0, due - Date.now()));
    },
  });
  await locking;
  const burstMs = Date.now() - started;

  const expected = orders.map((o) => ({ shop: SHOP, eventName: "Purchase", eventId: String(o.id) }));
  const account = await settleAndAccount({
    prisma: db.prisma,
    meta,
    pixels: { [SHOP]: PIXEL },
    expected,
    timeoutMs: 40_000,
  });

  const byStatus = (list: TimedAnswer[]) =>
    list.reduce<Record<string, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});
  const during = LOCKS.map((phase, i) => {
    const { acquiredAt, releasedAt } = windows[i]! as { acquiredAt: number; releasedAt: number };
    // Started while the table was held; "inside" also ended before it was let go.
    const list = answers.filter((a) => a.startedAt >= acquiredAt && a.startedAt < releasedAt);
    const inside = list.filter((a) => a.endedAt <= releasedAt);
    const ms = list.map((a) => a.ms);
    return { phase, acquiredAt, releasedAt, list, inside, ms };
  });
  const workerLog = worker.tail(200_000);
  const workerTimeouts = workerLog.split("\n").filter((line) => /lock timeout|statement timeout/.test(line));
  const heldBatch = windows.flatMap((w) => w.heldBatch ?? []);
  const twice = new Map<string, number>();
  for (const copy of meta.accepted(PIXEL))
    twice.set(String(copy.event.event_id), (twice.get(String(copy.event.event_id)) ?? 0) + 1);
  const sentTwice = [...twice].filter(([, n]) => n > 1).map(([id]) => id);
  const thrown = answers.filter((a) => a.thrown !== undefined || (a.status >= 500 && a.status !== 503));
  const slowest = Math.max(...answers.map((a) => a.ms));
  printAccount("locked tables mid-burst", account, {
    seed,
    burst: `${ORDERS} orders (${webhooks.length - webhooks.filter((w) => w.topic === "orders/create").length} as orders/paid) at ${RATE_PER_S}/s, ${LANES} in flight, took ${burstMs} ms`,
    ...Object.fromEntries(
      during.map((d) => [
        `${d.phase.table} locked ${d.releasedAt - d.acquiredAt} ms`,
        `${d.list.length} answers ${JSON.stringify(byStatus(d.list))}, latency p50 ${quantile(d.ms, 0.5).toFixed(0)} / p99 ${quantile(d.ms, 0.99).toFixed(0)} / max ${Math.max(0, ...d.ms).toFixed(0)} ms`,
      ]),
    ),
    "all answers": `${answers.length} ${JSON.stringify(byStatus(answers))}, slowest ${slowest.toFixed(0)} ms, p99 ${quantile(
      answers.map((a) => a.ms),
      0.99,
    ).toFixed(0)} ms`,
    "webhooks Shopify had to retry": `${stats.retried} (non-2xx answers ${stats.failedAnswers})`,
    "worker statements that timed out on a lock (log lines)": `${workerTimeouts.length}: ${[...new Set(workerTimeouts.map((line) => line.replace(/^worker: /, "").slice(0, 90)))].join(" | ")}`,
    "worker batch at Meta when the Event lock came": `${heldBatch.length} events; copies Meta got twice: ${account.duplicateCopies} (${sentTwice.filter((id) => heldBatch.includes(id)).length} of them from that batch)`,
    "worker alive": worker.alive,
  });
  if (account.problems.length || thrown.length) console.log(worker.tail());
  for (const a of thrown.slice(0, 5)) console.log(`answer ${a.status}: ${a.body.slice(0, 300)}`);

  // No answer came near Shopify's timeout, none was a server error.
  expect(thrown).toEqual([]);
  expect(slowest).toBeLessThan(SHOPIFY_TIMEOUT_MS);
  for (const d of during) {
    // The lock was felt: many webhooks came while it was held and were turned away quickly.
    expect(d.list.length, `${d.phase.table}: answers during the lock`).toBeGreaterThan(10);
    expect(
      d.list.every((a) => a.status === 200 || a.status === 503),
      `${d.phase.table}: only 200 or 503`,
    ).toBe(true);
    expect(d.list.filter((a) => a.status === 503).length, `${d.phase.table}: 503s`).toBeGreaterThan(5);
    expect(Math.max(...d.ms), `${d.phase.table}: slowest answer during the lock`).toBeLessThan(SHOPIFY_TIMEOUT_MS);
    if (d.phase.everyWebhookNeedsIt)
      expect(
        d.inside.filter((a) => a.status !== 503),
        `${d.phase.table}: answered other than 503 while held`,
      ).toEqual([]);
  }
  // Shopify's retries carried every webhook in after the locks.
  expect(stats.retried).toBeGreaterThan(0);
  // The worker went through the locks with its statements timing out, and is still running.
  expect(worker.alive).toBe(true);
  expect(workerTimeouts.length).toBeGreaterThan(0);
  expect(
    workerTimeouts.some((line) => /flush .* failed/.test(line)),
    "the held batch's outcome met the lock",
  ).toBe(true);
  // Its batch went again once its lease ran out: those, and only those, reached Meta twice.
  expect(heldBatch.length).toBeGreaterThan(0);
  expect(sentTwice.every((id) => heldBatch.includes(id))).toBe(true);
  expect(account.duplicateCopies).toBeLessThanOrEqual(heldBatch.length);
  expect(account.problems).toEqual([]);
  expect(account.delivered).toBe(ORDERS);
  expect(account.uniqueAtMeta).toBe(ORDERS);
});
