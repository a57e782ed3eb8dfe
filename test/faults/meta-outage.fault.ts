// Meta answers 5xx for ten minutes of simulated time while orders keep their place in line:
// the events back off (retrying, attempts growing, Meta not hammered), and when Meta comes
// back every one is delivered once. The worker runs in this process on a fake clock.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { saveDestination } from "../../app/pipeline/destinations.server";
import { forgetShopContext, ingestWebhook } from "../../app/pipeline/ingest.server";
import { createDeliveryQueue, FLUSH_WINDOW_MS, type DeliveryQueue } from "../../app/pipeline/queue.server";
import { startWorker, type RunningWorker } from "../../app/pipeline/worker.server";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../support/services";
import { printAccount, takeAccount } from "./account";
import { faultSeed, orderBurst, prng, waitFor } from "./harness";

const SHOP = "meta-outage.myshopify.com";
const PIXEL = "5100000001";
const ORDERS = 300;
const OUTAGE_MS = 10 * 60_000;
const STEP_MS = 30_000;
const seed = faultSeed(4101);
const key = randomBytes(32);

let db: TestDatabase;
let meta: MetaSandbox;
let queue: DeliveryQueue;
let worker: RunningWorker;
let clock = Date.now();

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox({ now: () => clock });
  const prefix = uniquePrefix();
  queue = createDeliveryQueue(REDIS_URL, prefix);
  await saveDestination(
    db.prisma,
    SHOP,
    { pixelId: PIXEL, accessToken: "EAAoutage-0123456789abcdef" },
    key,
    new Date(clock),
  );
  forgetShopContext(SHOP);
  worker = startWorker({
    prisma: db.prisma,
    redisUrl: REDIS_URL,
    queuePrefix: prefix,
    graphUrl: meta.url,
    vaultKey: key,
    now: () => clock,
    random: prng(seed),
    sweepEveryMs: 100,
    leaseMs: 60_000,
  });
});
afterAll(async () => {
  await worker?.close();
  await queue?.queue.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  await meta?.close();
  await db?.drop();
});

/**
 * The worker has done all it can at this instant: nothing in flight, nothing due. An event
 * that came due less than a batch window ago may wait for companions until the clock moves.
 */
async function quiet(): Promise<boolean> {
  const now = new Date(clock - FLUSH_WINDOW_MS);
  const busy = await db.prisma.event.count({
    where: {
      shop: SHOP,
      OR: [{ state: "sending" }, { state: { in: ["queued", "retrying"] }, nextAttemptAt: { lte: now } }],
    },
  });
  return busy === 0;
}

it("Meta down for ten minutes: events back off, then each is delivered once", async () => {
  const orders = orderBurst(ORDERS, { seed, firstId: 8_100_000_000, nowMs: clock });
  meta.setFault({ mode: "server-error", status: 503, code: 2 });
  const outageStarted = clock;
  for (const [i, order] of orders.entries()) {
    const result = await ingestWebhook(
      { prisma: db.prisma, queue },
      { shop: SHOP, topic: "orders/create", webhookId: `mo-${i}`, eventId: `mo-${i}`, payload: order },
      new Date(clock),
    );
    expect(result.outcome).toBe("queued");
    // The burst arrives over the first minute of the outage.
    if (i % 50 === 49) clock += 10_000;
  }

  let steps = 0;
  while (clock - outageStarted < OUTAGE_MS) {
    clock += STEP_MS;
    steps++;
    await waitFor(quiet, 20_000, `the worker to settle at +${(clock - outageStarted) / 1000} s`, 50);
  }
  const duringOutage = meta.requests();
  const attempts = await db.prisma.event.aggregate({
    where: { shop: SHOP },
    _min: { attempts: true },
    _max: { attempts: true },
  });
  const states = await db.prisma.event.groupBy({
    by: ["state", "reasonCode"],
    where: { shop: SHOP },
    _count: { _all: true },
  });
  expect(meta.accepted(PIXEL)).toHaveLength(0);
  // Every event is waiting its turn with the reason, none given up or stuck.
  expect(states.map((s) => [s.state, s.reasonCode, s._count._all])).toEqual([["retrying", "meta_unavailable", ORDERS]]);
  // Backing off: a handful of attempts each over ten minutes, not one per step.
  expect(attempts._min.attempts).toBeGreaterThanOrEqual(4);
  expect(attempts._max.attempts).toBeLessThanOrEqual(10);

  meta.setFault({ mode: "none" });
  const recoveredAt = clock;
  while (
    (await db.prisma.event.count({ where: { shop: SHOP, state: { not: "sent" } } })) > 0 &&
    clock - recoveredAt < 40 * 60_000
  ) {
    clock += STEP_MS;
    await waitFor(quiet, 20_000, `delivery at +${(clock - recoveredAt) / 1000} s after recovery`, 50);
  }

  const account = await takeAccount({
    prisma: db.prisma,
    meta,
    pixels: { [SHOP]: PIXEL },
    expected: orders.map((o) => ({ shop: SHOP, eventName: "Purchase", eventId: String(o.id) })),
  });
  const retryingTransitions = await db.prisma.eventTransition.count({
    where: { event: { shop: SHOP }, state: "retrying" },
  });
  printAccount("Meta down for ten minutes (simulated)", account, {
    seed,
    "simulated steps during the outage": `${steps} × ${STEP_MS / 1000} s`,
    "Meta requests during the outage": `${duringOutage.total} (all answered ${JSON.stringify(duringOutage.rejectedByCode)})`,
    "attempts per event during the outage": `${attempts._min.attempts}..${attempts._max.attempts}`,
    "retrying transitions recorded": retryingTransitions,
    "all delivered after Meta returned, simulated": `${(clock - recoveredAt) / 1000} s`,
  });
  expect(account.problems).toEqual([]);
  expect(account.delivered).toBe(ORDERS);
  expect(account.uniqueAtMeta).toBe(ORDERS);
  // Nothing reached Meta during the outage, so nothing can have reached it twice.
  expect(account.duplicateCopies).toBe(0);
  // Batching survives an outage: retries go out together, not one request per event.
  expect(duringOutage.total).toBeLessThan(ORDERS);
});
