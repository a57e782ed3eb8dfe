// The merchant's Meta token is revoked in the middle of a burst: Meta answers code 190, the
// pixel is paused with a message for the merchant, and every event not yet delivered is kept
// as paused with the reason (none left queued, none dropped). The merchant pastes a new token:
// delivery resumes and each event reaches Meta once.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { saveDestination } from "../../app/pipeline/destinations.server";
import { forgetShopContext, ingestWebhook } from "../../app/pipeline/ingest.server";
import { createDeliveryQueue, type DeliveryQueue } from "../../app/pipeline/queue.server";
import { startWorker, type RunningWorker } from "../../app/pipeline/worker.server";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../support/services";
import { printAccount, settleAndAccount, takeAccount } from "./account";
import { faultSeed, orderBurst, prng, sleep, waitFor } from "./harness";

const SHOP = "token-revoked.myshopify.com";
const PIXEL = "5200000001";
const OLD_TOKEN = "EAAold-token-0123456789abcdef";
const NEW_TOKEN = "EAAnew-token-fedcba9876543210";
const ORDERS = 300;
const seed = faultSeed(4201);
const key = randomBytes(32);

let db: TestDatabase;
let meta: MetaSandbox;
let queue: DeliveryQueue;
let worker: RunningWorker;

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox();
  const prefix = uniquePrefix();
  queue = createDeliveryQueue(REDIS_URL, prefix);
  await saveDestination(db.prisma, SHOP, { pixelId: PIXEL, accessToken: OLD_TOKEN }, key);
  forgetShopContext(SHOP);
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
  await queue?.queue.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  await meta?.close();
  await db?.drop();
});

it("a token revoked mid-burst pauses the pixel and keeps its events; a new token delivers each once", async () => {
  const random = prng(seed);
  const orders = orderBurst(ORDERS, { seed, firstId: 8_200_000_000 });
  const revokeAt = Math.floor(ORDERS / 3 + random() * (ORDERS / 3));
  const outcomes: Record<string, number> = {};
  let pausedAt: number | undefined;
  for (const [i, order] of orders.entries()) {
    if (i === revokeAt) {
      // Mid-burst: some of the shop's events have gone already, more are on their way.
      await waitFor(
        async () => (await db.prisma.event.count({ where: { shop: SHOP, state: "sent" } })) > 0,
        15_000,
        "a first delivery",
      );
      meta.revokeToken(OLD_TOKEN);
    }
    const result = await ingestWebhook(
      { prisma: db.prisma, queue },
      { shop: SHOP, topic: "orders/create", webhookId: `tr-${i}`, eventId: `tr-${i}`, payload: order },
    );
    outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    if (
      pausedAt === undefined &&
      i > revokeAt &&
      (await db.prisma.destination.findFirstOrThrow({ where: { shop: SHOP } })).pausedAt
    )
      pausedAt = i;
    // Orders trickle in, so that deliveries and the revocation interleave with them.
    if (i % 10 === 9) await sleep(40);
  }
  const expected = orders.map((o) => ({ shop: SHOP, eventName: "Purchase", eventId: String(o.id) }));

  await waitFor(
    async () => (await db.prisma.destination.findFirstOrThrow({ where: { shop: SHOP } })).pausedAt !== null,
    20_000,
    "the pixel to be paused",
  );
  const destination = await db.prisma.destination.findFirstOrThrow({ where: { shop: SHOP } });
  expect(destination.pauseMessage).toMatch(/token/i);
  // While paused: every event is delivered already or held as paused with the reason. Give
  // the workers time to act on anything announced around the pause first.
  const whilePaused = await settleAndAccount({
    prisma: db.prisma,
    meta,
    pixels: { [SHOP]: PIXEL },
    expected,
    allowed: () => ["paused"],
    timeoutMs: 15_000,
  });
  printAccount("token revoked: while the pixel is paused", whilePaused, {
    seed,
    "revoked before webhook": revokeAt,
    "pause seen by the test at webhook": pausedAt ?? "after the burst",
    "ingest outcomes": outcomes,
    "pause reason": destination.pauseReason,
  });
  expect(whilePaused.problems).toEqual([]);
  expect(whilePaused.byState.paused ?? 0).toBeGreaterThan(0);
  expect(meta.requests().rejectedByCode["190/460"]).toBeGreaterThanOrEqual(1);
  const deliveredBeforePause = whilePaused.delivered;
  expect(deliveredBeforePause).toBeGreaterThan(0);

  // The merchant pastes a new token in the admin page.
  await saveDestination(db.prisma, SHOP, { pixelId: PIXEL, accessToken: NEW_TOKEN }, key);
  const account = await settleAndAccount({
    prisma: db.prisma,
    meta,
    pixels: { [SHOP]: PIXEL },
    expected,
    timeoutMs: 30_000,
  });
  const rejectedByCode = meta.requests().rejectedByCode;
  printAccount("token revoked and replaced", account, {
    "delivered before the pause": deliveredBeforePause,
    "Meta answers refused": rejectedByCode,
  });
  expect(account.problems).toEqual([]);
  expect(account.delivered).toBe(ORDERS);
  expect(account.uniqueAtMeta).toBe(ORDERS);
  expect((await db.prisma.destination.findFirstOrThrow({ where: { shop: SHOP } })).pausedAt).toBeNull();
  // Once paused, the revoked token is not tried again and again.
  expect(rejectedByCode["190/460"]).toBeLessThanOrEqual(3);
  expect(await takeAccount({ prisma: db.prisma, meta, pixels: { [SHOP]: PIXEL }, expected })).toEqual(account);
});
