// PostgreSQL (a cluster of the test's own: the machine's shared server is never touched)
// crashes in the middle of a burst and comes back, while webhooks arrive at the routes and two
// worker processes deliver. Each webhook is either stored or answered non-2xx, so that Shopify
// sends it again (as this test does, with the same X-Shopify-Event-Id); the web side and the
// workers reconnect by themselves, and each event reaches Meta once.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDatabase, type Database } from "../../app/db/client.server";
import { saveDestination } from "../../app/pipeline/destinations.server";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { REDIS_URL, uniquePrefix } from "../support/services";
import { printAccount, settleAndAccount } from "./account";
import {
  deliverLikeShopify,
  faultSeed,
  orderBurst,
  OwnPostgres,
  prng,
  quantile,
  sleep,
  waitFor,
  webhookRoutes,
  WorkerProcess,
  type WebhookRoutes,
} from "./harness";

const SHOP = "postgres-restart.myshopify.com";
const PIXEL = "5600000001";
const ORDERS = 500;
const seed = faultSeed(4601);
const key = randomBytes(32);

let cluster: OwnPostgres;
let db: Database;
let databaseUrl: string;
let meta: MetaSandbox;
let routes: WebhookRoutes;
let prefix: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  cluster = new OwnPostgres();
  await cluster.init();
  databaseUrl = await cluster.createDatabase("capi_faults");
  db = createDatabase({ databaseUrl, poolSize: 3 });
  await db.ready;
  meta = await startMetaSandbox();
  prefix = uniquePrefix();
  routes = await webhookRoutes({ databaseUrl: databaseUrl, redisUrl: REDIS_URL, queuePrefix: prefix, vaultKey: key });
  await saveDestination(db.prisma, SHOP, { pixelId: PIXEL, accessToken: "EAApgrestart-0123456789abcdef" }, key);
});
afterAll(async () => {
  for (const w of workers) w.destroy();
  await routes?.close();
  await db?.close();
  await meta?.close();
  await cluster?.destroy();
});

it("PostgreSQL restarted mid-burst: each webhook stored or retried, workers reconnect, each event delivered once", async () => {
  const random = prng(seed);
  for (let i = 0; i < 2; i++) {
    workers.push(
      new WorkerProcess(`worker${i + 1}`, {
        DATABASE_URL: databaseUrl,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        META_GRAPH_URL: meta.url,
        ENCRYPTION_KEY: key.toString("hex"),
        WORKER_LEASE_MS: "5000",
      }),
    );
  }
  await Promise.all(workers.map((w) => w.start().ready));

  const orders = orderBurst(ORDERS, { seed, firstId: 8_600_000_000, shop: SHOP });
  const webhooks = orders.map((payload, i) => ({ topic: "orders/create", shop: SHOP, payload, eventId: `pr-${i}` }));
  // A crash (immediate stop: connections cut, recovery at start) after a quarter to a half of
  // the burst, once deliveries are under way; down 1 to 3 s.
  const crashAt = Math.floor(ORDERS * (0.25 + 0.2 * random()));
  const downMs = 1_000 + random() * 2_000;
  let down = false;
  let outage: Promise<void> | undefined;
  let deliveredBeforeCrash = 0;
  const arrived = { before: 0, during: 0, after: 0 };
  const stats = await deliverLikeShopify(routes, webhooks, {
    lanes: 4,
    retryAfterMs: 500,
    between: async (index) => {
      await sleep(60);
      if (index === crashAt) {
        await waitFor(async () => meta.unique(PIXEL).length > 0, 15_000, "a first delivery");
        deliveredBeforeCrash = meta.unique(PIXEL).length;
        await cluster.stop("immediate");
        down = true;
        outage = sleep(downMs).then(async () => {
          await cluster.start();
          down = false;
        });
      }
      arrived[down ? "during" : outage ? "after" : "before"]++;
    },
  });
  await outage;

  const expected = orders.map((o) => ({ shop: SHOP, eventName: "Purchase", eventId: String(o.id) }));
  const account = await settleAndAccount({
    prisma: db.prisma,
    meta,
    pixels: { [SHOP]: PIXEL },
    expected,
    timeoutMs: 60_000,
  });
  const receipts = await db.prisma.webhookReceipt.groupBy({
    by: ["outcome"],
    where: { shop: SHOP },
    _count: { _all: true },
  });
  printAccount("PostgreSQL restarted mid-burst", account, {
    seed,
    "crashed before webhook": `${crashAt}, down ${Math.round(downMs)} ms (pg_ctl stop -m immediate, then start)`,
    "webhooks arriving before / during / after the crash": `${arrived.before} / ${arrived.during} / ${arrived.after}`,
    "delivered before the crash": deliveredBeforeCrash,
    "webhook answers": `${stats.answers} for ${ORDERS} webhooks: non-2xx ${stats.failedAnswers} (${stats.retried} webhooks sent again), p50 ${quantile(stats.latencies, 0.5).toFixed(0)} ms, slowest ${stats.slowestMs.toFixed(0)} ms`,
    receipts: Object.fromEntries(receipts.map((r) => [r.outcome, r._count._all])),
  });
  if (account.problems.length) for (const w of workers) console.log(w.tail());
  expect(account.problems).toEqual([]);
  expect(account.delivered).toBe(ORDERS);
  expect(account.uniqueAtMeta).toBe(ORDERS);
  expect(arrived.during).toBeGreaterThan(10);
  expect(arrived.after).toBeGreaterThan(20);
  // The outage was seen: some webhooks were refused and sent again, none was answered 2xx unstored.
  expect(stats.failedAnswers).toBeGreaterThan(0);
  expect(workers.every((w) => w.alive)).toBe(true);
});
