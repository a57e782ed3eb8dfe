// Two shops in one burst; shop A uninstalls the app half-way through (its app/uninstalled
// webhook arrives among its orders, and orders Shopify had already triggered keep coming).
// A's events that had not gone yet stop with the reason and never reach Meta afterwards;
// shop B does not notice and is delivered in full, each event once.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { saveDestination } from "../../app/pipeline/destinations.server";
import { startWorker, type RunningWorker } from "../../app/pipeline/worker.server";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../support/services";
import { printAccount, settleAndAccount } from "./account";
import {
  deliverLikeShopify,
  faultSeed,
  orderBurst,
  prng,
  sleep,
  waitFor,
  webhookRoutes,
  type WebhookRoutes,
} from "./harness";

const SHOP_A = "uninstalling.myshopify.com";
const SHOP_B = "staying.myshopify.com";
const PIXELS = { [SHOP_A]: "5300000001", [SHOP_B]: "5300000002" };
const ORDERS_PER_SHOP = 200;
const seed = faultSeed(4301);
const key = randomBytes(32);

let db: TestDatabase;
let meta: MetaSandbox;
let routes: WebhookRoutes;
let worker: RunningWorker;

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox();
  const prefix = uniquePrefix();
  routes = await webhookRoutes({ databaseUrl: db.url, redisUrl: REDIS_URL, queuePrefix: prefix, vaultKey: key });
  for (const [shop, pixelId] of Object.entries(PIXELS)) {
    await saveDestination(db.prisma, shop, { pixelId, accessToken: `EAA${shop.slice(0, 8)}-0123456789abcdef` }, key);
  }
  worker = startWorker({
    prisma: db.prisma,
    redisUrl: REDIS_URL,
    queuePrefix: prefix,
    graphUrl: meta.url,
    vaultKey: key,
    sweepEveryMs: 250,
    random: prng(seed),
  });
});
afterAll(async () => {
  await worker?.close();
  await routes?.close();
  await meta?.close();
  await db?.drop();
});

it("a shop uninstalling mid-burst: its pending events stop with the reason, the other shop is delivered in full", async () => {
  const random = prng(seed);
  const a = orderBurst(ORDERS_PER_SHOP, { seed, firstId: 8_300_000_000, shop: SHOP_A });
  // Ids of its own: Shopify's order ids are global, and the routes refuse an id another shop holds.
  const b = orderBurst(ORDERS_PER_SHOP, { seed: seed + 1, firstId: 8_310_000_000, shop: SHOP_B });
  // Interleaved as two busy shops' webhooks are.
  const webhooks = a.flatMap((order, i) => [
    { topic: "orders/create", shop: SHOP_A, payload: order, eventId: `a-${i}` },
    { topic: "orders/create", shop: SHOP_B, payload: b[i]!, eventId: `b-${i}` },
  ]);
  const uninstallAt = Math.floor(webhooks.length * (0.4 + 0.2 * random()));
  let uninstalled: { started: number; answered: number; pendingBefore: number } | undefined;
  // Deliveries get under way first (some of A's orders reach Meta); the uninstall then comes
  // while more of A's orders are queued. While either happens, no lane starts a webhook.
  const warmUpAt = 60;
  let gate: Promise<void> = Promise.resolve();
  const hold = async (step: () => Promise<void>) => {
    gate = step();
    await gate;
  };
  const stats = await deliverLikeShopify(routes, webhooks, {
    lanes: 4,
    between: async (index) => {
      await gate;
      if (index % 20 === 19) await sleep(30);
      if (index === warmUpAt) {
        await hold(() =>
          waitFor(
            async () => (await db.prisma.event.count({ where: { shop: SHOP_A, state: "sent" } })) > 0,
            15_000,
            "a first delivery for A",
          ),
        );
      }
      if (index !== uninstallAt) return;
      await hold(async () => {
        const pendingBefore = await db.prisma.event.count({
          where: { shop: SHOP_A, state: { in: ["queued", "sending", "retrying"] } },
        });
        const started = Date.now();
        // The shop id is the one its orders' status links carry (bench/orders): the app records it and holds later orders to it.
        const answer = await routes.post({
          topic: "app/uninstalled",
          shop: SHOP_A,
          payload: { id: 74_210_000_000, domain: SHOP_A, myshopify_domain: SHOP_A },
          eventId: "a-uninstalled",
        });
        expect(answer.status).toBe(200);
        uninstalled = { started, answered: Date.now(), pendingBefore };
      });
    },
  });
  expect(uninstalled).toBeDefined();

  const expected = webhooks.map((w) => ({
    shop: w.shop,
    eventName: "Purchase",
    eventId: String((w.payload as { id: number }).id),
  }));
  const account = await settleAndAccount({
    prisma: db.prisma,
    meta,
    pixels: PIXELS,
    expected,
    allowed: (shop) => (shop === SHOP_A ? ["paused"] : []),
    timeoutMs: 40_000,
  });

  // What arrived for A after the uninstall was answered was never sent.
  const lateReceipts = await db.prisma.webhookReceipt.findMany({
    where: { shop: SHOP_A, topic: "orders/create", receivedAt: { gt: new Date(uninstalled!.answered) } },
    select: { dedupeKey: true },
  });
  const lateIds = new Set(lateReceipts.map((r) => String(a[Number(r.dedupeKey.slice(2))]!.id)));
  const lateSent = await db.prisma.event.count({
    where: { shop: SHOP_A, eventId: { in: [...lateIds] }, state: "sent" },
  });
  // A request already in flight when the uninstall came may still land; nothing after it.
  const lateAtMeta = meta.accepted(PIXELS[SHOP_A]).filter((c) => c.receivedAt > uninstalled!.answered + 1_000);
  const aStates = await db.prisma.event.groupBy({ by: ["state"], where: { shop: SHOP_A }, _count: { _all: true } });
  const bStates = await db.prisma.event.groupBy({ by: ["state"], where: { shop: SHOP_B }, _count: { _all: true } });
  printAccount("a shop uninstalling mid-burst", account, {
    seed,
    "uninstall after webhook": `${uninstallAt}, with ${uninstalled!.pendingBefore} of A's events queued or in flight`,
    "shop A by state": Object.fromEntries(aStates.map((s) => [s.state, s._count._all])),
    "shop B by state": Object.fromEntries(bStates.map((s) => [s.state, s._count._all])),
    "A's orders arriving after the uninstall": lateIds.size,
    "A copies reaching Meta after the uninstall": lateAtMeta.length,
    "webhook answers": `${stats.answers}, non-2xx ${stats.failedAnswers}`,
  });
  expect(account.problems).toEqual([]);
  expect(stats.failedAnswers).toBe(0);
  expect(lateIds.size).toBeGreaterThan(20);
  expect(lateSent).toBe(0);
  expect(lateAtMeta).toEqual([]);
  // A stopped: some went before, the rest are held with the reason.
  expect(account.byState.paused ?? 0).toBeGreaterThan(0);
  expect(aStates.find((s) => s.state === "sent")?._count._all ?? 0).toBeGreaterThan(0);
  const reasonsA = await db.prisma.event.findMany({
    where: { shop: SHOP_A, state: "paused" },
    distinct: ["reason"],
    select: { reason: true },
  });
  expect(reasonsA.map((r) => r.reason).every((r) => /uninstalled|paused/.test(r ?? ""))).toBe(true);
  // B did not notice.
  expect(bStates.map((s) => [s.state, s._count._all])).toEqual([["sent", ORDERS_PER_SHOP]]);
  expect(meta.unique(PIXELS[SHOP_B])).toHaveLength(ORDERS_PER_SHOP);
  expect((await db.prisma.destination.findFirstOrThrow({ where: { shop: SHOP_A } })).pauseReason).toBe(
    "app uninstalled",
  );
});
