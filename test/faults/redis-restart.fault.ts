// Redis (a server of the test's own) is killed in the middle of a burst and started again,
// empty, while webhooks keep arriving at the routes and two worker processes deliver. Redis is
// only the doorbell: every webhook is still answered 200 in good time and stored, and when
// Redis returns the workers' sweep re-announces the work, so each event reaches Meta once.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { saveDestination } from "../../app/pipeline/destinations.server";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, freePort, OwnRedis, uniquePrefix, type TestDatabase } from "../support/services";
import { printAccount, settleAndAccount } from "./account";
import {
  deliverLikeShopify,
  faultSeed,
  orderBurst,
  prng,
  quantile,
  sleep,
  waitFor,
  webhookRoutes,
  WorkerProcess,
  type WebhookRoutes,
} from "./harness";

const SHOP = "redis-restart.myshopify.com";
const PIXEL = "5500000001";
const ORDERS = 500;
const seed = faultSeed(4501);
const key = randomBytes(32);

let db: TestDatabase;
let meta: MetaSandbox;
let redis: OwnRedis;
let routes: WebhookRoutes;
let prefix: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox();
  redis = new OwnRedis(await freePort());
  await redis.start();
  prefix = uniquePrefix();
  routes = await webhookRoutes({ databaseUrl: db.url, redisUrl: redis.url, queuePrefix: prefix, vaultKey: key });
  await saveDestination(db.prisma, SHOP, { pixelId: PIXEL, accessToken: "EAAredis-0123456789abcdef" }, key);
});
afterAll(async () => {
  for (const w of workers) w.destroy();
  await routes?.close();
  await redis?.stop();
  await meta?.close();
  await db?.drop();
});

it("Redis restarted mid-burst: webhooks answered and stored throughout, each event delivered once", async () => {
  const random = prng(seed);
  for (let i = 0; i < 2; i++) {
    workers.push(
      new WorkerProcess(`worker${i + 1}`, {
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        QUEUE_PREFIX: prefix,
        META_GRAPH_URL: meta.url,
        ENCRYPTION_KEY: key.toString("hex"),
        WORKER_LEASE_MS: "5000",
      }),
    );
  }
  await Promise.all(workers.map((w) => w.start().ready));

  const orders = orderBurst(ORDERS, { seed, firstId: 8_500_000_000, shop: SHOP });
  const webhooks = orders.map((payload, i) => ({ topic: "orders/create", shop: SHOP, payload, eventId: `rr-${i}` }));
  // Webhooks arrive at a steady 60 or so a second for about eight seconds. Redis goes away
  // after a quarter to a half of them, once deliveries are under way, and comes back empty
  // 1.5 to 3 s later: webhooks arrive before, during and after.
  const stopAt = Math.floor(ORDERS * (0.25 + 0.2 * random()));
  const downMs = 1_500 + random() * 1_500;
  let down = false;
  let outage: Promise<void> | undefined;
  let deliveredBeforeOutage = 0;
  const arrived = { before: 0, during: 0, after: 0 };
  const stats = await deliverLikeShopify(routes, webhooks, {
    lanes: 4,
    between: async (index) => {
      await sleep(60);
      if (index === stopAt) {
        await waitFor(async () => meta.unique(PIXEL).length > 0, 15_000, "a first delivery");
        deliveredBeforeOutage = meta.unique(PIXEL).length;
        await redis.stop();
        down = true;
        outage = sleep(downMs).then(async () => {
          await redis.start();
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
  printAccount("Redis restarted mid-burst", account, {
    seed,
    "Redis stopped before webhook": `${stopAt}, down ${Math.round(downMs)} ms, started again empty`,
    "webhooks arriving before / during / after the outage": `${arrived.before} / ${arrived.during} / ${arrived.after}`,
    "delivered before the outage": deliveredBeforeOutage,
    "webhook answers": `${stats.answers}, non-2xx ${stats.failedAnswers}, p50 ${quantile(stats.latencies, 0.5).toFixed(0)} ms, p99 ${quantile(stats.latencies, 0.99).toFixed(0)} ms, slowest ${stats.slowestMs.toFixed(0)} ms`,
  });
  if (account.problems.length) for (const w of workers) console.log(w.tail());
  expect(arrived.during).toBeGreaterThan(20);
  expect(arrived.after).toBeGreaterThan(20);
  expect(account.problems).toEqual([]);
  expect(account.delivered).toBe(ORDERS);
  expect(account.uniqueAtMeta).toBe(ORDERS);
  expect(stats.failedAnswers).toBe(0);
  expect(stats.slowestMs).toBeLessThan(5_000);
  expect(workers.every((w) => w.alive)).toBe(true);
});
