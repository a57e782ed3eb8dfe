// Three worker processes (`npm run worker`), SIGKILLed at random moments (seeded) while a
// burst of orders is ingested, and started again: nothing is lost, nothing is stuck in
// "sending", each event reaches Meta under its own id; the resends that a kill mid-request
// causes are counted (Meta keeps the first copy of an event_id).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { saveDestination } from "../../app/pipeline/destinations.server";
import { forgetShopContext, ingestWebhook } from "../../app/pipeline/ingest.server";
import { createDeliveryQueue, type DeliveryQueue } from "../../app/pipeline/queue.server";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../support/services";
import { printAccount, settleAndAccount } from "./account";
import { faultSeed, orderBurst, prng, sleep, WorkerProcess } from "./harness";

const SHOP = "workers-killed.myshopify.com";
const PIXEL = "5400000001";
const ORDERS = 600;
const WORKERS = 3;
const LEASE_MS = 1_500;
const seed = faultSeed(4401);
const key = randomBytes(32);

let db: TestDatabase;
let meta: MetaSandbox;
let queue: DeliveryQueue;
let prefix: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  // Each request to Meta takes a moment, so that some kills land with a batch in flight.
  meta = await startMetaSandbox({ latencyMs: 150 });
  prefix = uniquePrefix();
  queue = createDeliveryQueue(REDIS_URL, prefix);
  await saveDestination(db.prisma, SHOP, { pixelId: PIXEL, accessToken: "EAAkilled-0123456789abcdef" }, key);
  forgetShopContext(SHOP);
});
afterAll(async () => {
  for (const w of workers) w.destroy();
  await queue?.queue.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  await meta?.close();
  await db?.drop();
});

it("workers SIGKILLed at random during a burst: every event delivered, none stuck, none under another id", async () => {
  const random = prng(seed);
  for (let i = 0; i < WORKERS; i++) {
    workers.push(
      new WorkerProcess(`worker${i + 1}`, {
        DATABASE_URL: db.url,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        META_GRAPH_URL: meta.url,
        ENCRYPTION_KEY: key.toString("hex"),
        WORKER_LEASE_MS: String(LEASE_MS),
      }),
    );
  }
  await Promise.all(workers.map((w) => w.start().ready));

  const orders = orderBurst(ORDERS, { seed, firstId: 8_400_000_000 });
  let ingesting = true;
  const ingest = (async () => {
    try {
      for (const [i, order] of orders.entries()) {
        const result = await ingestWebhook(
          { prisma: db.prisma, queue },
          { shop: SHOP, topic: "orders/create", webhookId: `wk-${i}`, eventId: `wk-${i}`, payload: order },
        );
        expect(result.outcome).toBe("queued");
        if (i % 25 === 24) await sleep(120);
      }
    } finally {
      ingesting = false;
    }
  })();

  // The chaos: while the burst lasts and a little after, kill a random worker every 0.3 to
  // 1.2 s and start it again 0.2 to 1.5 s later; sometimes two are down at once.
  const kills: Array<{ worker: string; inFlight: number }> = [];
  const restarts: Array<Promise<void>> = [];
  const chaosUntil = () => ingesting || kills.length < 8;
  while (chaosUntil()) {
    await sleep(300 + random() * 900);
    const alive = workers.filter((w) => w.alive);
    if (alive.length === 0) continue;
    const victim = alive[Math.floor(random() * alive.length)]!;
    const inFlight = await db.prisma.event.count({ where: { shop: SHOP, state: "sending" } });
    await victim.kill();
    kills.push({ worker: victim.name, inFlight });
    const downFor = 200 + random() * 1_300;
    restarts.push(
      sleep(downFor).then(() => {
        // Not awaited: a worker may well be killed again while it starts.
        if (!victim.alive) victim.start();
      }),
    );
  }
  await ingest;
  await Promise.all(restarts);
  await Promise.all(workers.map((w) => (w.alive ? undefined : w.start().ready)));

  const expected = orders.map((o) => ({ shop: SHOP, eventName: "Purchase", eventId: String(o.id) }));
  const account = await settleAndAccount({
    prisma: db.prisma,
    meta,
    pixels: { [SHOP]: PIXEL },
    expected,
    timeoutMs: 60_000,
  });
  const requests = meta.requests();
  printAccount("workers killed at random", account, {
    seed,
    "workers / lease": `${WORKERS} processes, WORKER_LEASE_MS=${LEASE_MS}`,
    kills: kills.length,
    "kills while events were in sending (a batch in flight, or one a killed worker left)": kills.filter(
      (k) => k.inFlight > 0,
    ).length,
    "Meta requests": `${requests.total} (accepted ${requests.accepted}, events received ${requests.eventsReceived})`,
  });
  if (account.problems.length) for (const w of workers) console.log(w.tail());
  expect(account.problems).toEqual([]);
  expect(account.delivered).toBe(ORDERS);
  expect(account.uniqueAtMeta).toBe(ORDERS);
  expect(kills.length).toBeGreaterThanOrEqual(8);
});
