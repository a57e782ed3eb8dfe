// Meta's Dataset Quality numbers read from the stand-in and stored per destination, against the
// real PostgreSQL: orders go through ingest and the worker to the stand-in (with our
// partner_agent), the scheduled read asks for them by agent_name, and Meta's match-key coverage
// equals our own SQL count over the same events. Refusals are stored with what to grant, the
// last numbers kept beside them; Refresh is rate limited; the row goes with its destination.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { RECORDED_NOW, shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../../test/support/services";
import { loadAcceptedCoverage } from "../admin/accepted-coverage.server";
import { MATCH_KEY_FIELDS, QUALITY_READ_EVERY_MS, QUALITY_REFRESH_MIN_MS } from "../meta/dataset-quality";
import { PARTNER_AGENT } from "../meta/request";
import {
  loadDatasetQuality,
  readDueDatasetQuality,
  refreshDatasetQuality,
  type QualityReadOptions,
} from "./dataset-quality.server";
import { removeDestination, saveDestination } from "./destinations.server";
import { forgetShopContext, ingestWebhook } from "./ingest.server";
import { createDeliveryQueue, type DeliveryQueue } from "./queue.server";
import { waitFor } from "../../test/support/wait";
import { flushShop, startWorker } from "./worker.server";

const T0 = RECORDED_NOW.getTime();
const key = randomBytes(32);
const TOKEN = "EAAquality-token-0123456789";
const OTHER_TOKEN = "EAAquality-other-0123456789";
const SHOP = "quality.myshopify.com";
const OTHER_SHOP = "quality-other.myshopify.com";
const [P1, P2, P3] = ["3000000001", "3000000002", "3000000003"];

let db: TestDatabase;
let meta: MetaSandbox;
let queue: DeliveryQueue;
let clock = T0;
let webhooks = 0;

const readOptions = (): QualityReadOptions => ({
  prisma: db.prisma,
  meta: { graphUrl: meta.url },
  vaultKey: key,
  now: () => clock,
});

async function connect(shop: string, pixelId: string, token: string): Promise<string> {
  const id = await saveDestination(db.prisma, shop, { pixelId, accessToken: token }, key, new Date(clock));
  forgetShopContext(shop);
  return id;
}

async function sendOrders(shop: string, names: string[]) {
  for (const name of names) {
    const payload = shopifyFixture(name, { asRecorded: true });
    await ingestWebhook(
      { prisma: db.prisma, queue },
      { shop, topic: "orders/create", webhookId: `wh-${++webhooks}`, eventId: `ev-${webhooks}`, payload },
      new Date(clock),
    );
  }
  await flushShop(
    {
      prisma: db.prisma,
      redisUrl: REDIS_URL,
      graphUrl: meta.url,
      vaultKey: key,
      now: () => clock,
      queue,
      batchWindowMs: 0,
    },
    shop,
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox({ now: () => clock });
  queue = createDeliveryQueue(REDIS_URL, uniquePrefix());
});
afterAll(async () => {
  await queue?.close();
  await meta?.close();
  await db?.drop();
});
beforeEach(() => {
  clock = T0;
});

describe("Meta's Dataset Quality numbers per destination", () => {
  let main: string;
  let second: string;

  it("reads each due pixel from the stand-in by our partner_agent, and stores Meta's numbers", async () => {
    main = await connect(SHOP, P1, TOKEN);
    second = await connect(SHOP, P2, OTHER_TOKEN);
    await connect(OTHER_SHOP, P3, TOKEN);
    await sendOrders(SHOP, ["orders-create-web", "orders-create-france", "orders-create-no-customer"]);
    expect(meta.accepted(P1).length).toBeGreaterThan(0);
    expect(meta.accepted(P1).every((a) => a.partnerAgent === PARTNER_AGENT)).toBe(true);
    meta.denyQuality(OTHER_TOKEN);

    expect(await readDueDatasetQuality(readOptions())).toBe(3);
    expect(
      meta
        .qualityReads()
        .map((r) => [r.datasetId, r.agentName, r.status])
        .sort(),
    ).toEqual([
      [P1, PARTNER_AGENT, 200],
      [P2, PARTNER_AGENT, 403],
      [P3, PARTNER_AGENT, 200],
    ]);

    const stored = await loadDatasetQuality(db.prisma, SHOP);
    expect(stored.map((s) => [s.destinationId, s.status]).sort()).toEqual(
      [
        [main, "read"],
        [second, "refused"],
      ].sort(),
    );
    const mine = stored.find((s) => s.destinationId === main)!;
    expect(mine.readAt).toBe(new Date(clock).toISOString());
    expect(mine.message).toBeNull();
    const purchase = mine.events.find((e) => e.eventName === "Purchase")!;
    expect(purchase.score).toBeGreaterThan(0);
    expect(purchase.lines[0]).toMatch(/^Event Match Quality \d+\.\d out of 10 \((Poor|OK|Good|Great)\)\.$/);

    // Meta's coverage of each key (computed by the stand-in from what it received) equals
    // ours (one SQL count over the stored payloads and their removal notes).
    const ours = (await loadAcceptedCoverage(db.prisma, SHOP, new Date(clock))).find(
      (c) => c.destinationId === main && c.eventName === "Purchase",
    )!;
    expect(ours.events).toBe(meta.unique(P1).filter((a) => a.event.event_name === "Purchase").length);
    for (const k of purchase.matchKeys) {
      const field = MATCH_KEY_FIELDS[k.identifier] as keyof typeof ours.percent;
      expect(ours.percent[field], k.identifier).toBeCloseTo(k.percentage, 0);
    }
    expect(ours.percent.client_ip_address).toBeGreaterThan(0);

    const refused = stored.find((s) => s.destinationId === second)!;
    expect(refused.message).toMatch(/Manage pixel/);
    expect(refused.events).toEqual([]);
    expect(await loadDatasetQuality(db.prisma, "nobody.myshopify.com")).toEqual([]);
  });

  it("reads again only when due, and keeps the last numbers beside a later refusal", async () => {
    expect(await readDueDatasetQuality(readOptions())).toBe(0);
    clock = T0 + QUALITY_READ_EVERY_MS - 60_000;
    expect(await readDueDatasetQuality(readOptions())).toBe(0);

    meta.denyQuality(TOKEN);
    clock = T0 + QUALITY_READ_EVERY_MS + 3600_000;
    expect(await readDueDatasetQuality(readOptions())).toBe(3);
    const mine = (await loadDatasetQuality(db.prisma, SHOP)).find((s) => s.destinationId === main)!;
    expect(mine.status).toBe("refused");
    expect(mine.message).toMatch(/does not let this access token read the quality numbers of pixel 3000000001/);
    expect(mine.readAt).toBe(new Date(T0).toISOString());
    expect(mine.events.map((e) => e.eventName)).toContain("Purchase");
    meta.allowToken(TOKEN);
  });

  it("lets the merchant refresh once per interval, for the shop's own pixels only", async () => {
    clock = T0 + QUALITY_READ_EVERY_MS + 3600_000 + 60_000;
    expect(await refreshDatasetQuality(readOptions(), { shop: SHOP, id: main })).toMatchObject({
      ok: false,
      reason: "too-soon",
    });
    expect(await refreshDatasetQuality(readOptions(), { shop: OTHER_SHOP, id: main })).toMatchObject({
      ok: false,
      reason: "no-destination",
    });
    clock += QUALITY_REFRESH_MIN_MS;
    const refreshed = await refreshDatasetQuality(readOptions(), { shop: SHOP, id: main });
    expect(refreshed).toMatchObject({ ok: true, read: { status: "read" } });
    const mine = (await loadDatasetQuality(db.prisma, SHOP)).find((s) => s.destinationId === main)!;
    expect(mine).toMatchObject({ status: "read", message: null, readAt: new Date(clock).toISOString() });
  });

  it("deletes a destination's numbers with it", async () => {
    expect(await removeDestination(db.prisma, { shop: SHOP, id: second }, new Date(clock))).toBe(true);
    expect((await loadDatasetQuality(db.prisma, SHOP)).map((s) => s.destinationId)).toEqual([main]);
  });
});

describe("the worker's sweep", () => {
  it("reads the pixels due a Dataset Quality read on its own, when told to", async () => {
    const shop = "quality-worker.myshopify.com";
    const id = await connect(shop, "3000000009", TOKEN);
    const worker = startWorker({
      prisma: db.prisma,
      redisUrl: REDIS_URL,
      graphUrl: meta.url,
      queuePrefix: uniquePrefix(),
      vaultKey: key,
      sweepEveryMs: 50,
      datasetQuality: { everyMs: 0 },
    });
    try {
      await waitFor(
        async () => (await loadDatasetQuality(db.prisma, shop)).some((q) => q.status === "read"),
        10_000,
        "the worker to read the new pixel's quality",
      );
    } finally {
      await worker.close();
    }
    expect(meta.qualityReads().filter((r) => r.datasetId === "3000000009")).toHaveLength(1);
    const [stored] = await loadDatasetQuality(db.prisma, shop);
    expect(stored).toMatchObject({ destinationId: id, status: "read", events: [] });
  });
});
