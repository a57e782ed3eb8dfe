import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECORDED_NOW, shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { WriteBatcher } from "./ingest-batcher.server";
import { ingestWebhook } from "./ingest.server";

// A pinned clock: the orders below are placed two hours before it.
const order = shopifyFixture("orders-create-web", { asRecorded: true });
const NOW = RECORDED_NOW;
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

describe("WriteBatcher", () => {
  it("writes a burst in shared commits with the same outcomes as one by one, duplicates included", async () => {
    const batcher = new WriteBatcher(db.sql, { lingerMs: 20, maxBatch: 50 });
    const shop = "burst.myshopify.com";
    const deliveries = [
      ...Array.from({ length: 120 }, (_, i) => ({ id: 9_000_000 + i, eventId: `e-${i}`, topic: "orders/create" })),
      // Redeliveries of the same webhook, and orders/paid of an order already created, in the same burst.
      { id: 9_000_000, eventId: "e-0", topic: "orders/create" },
      { id: 9_000_001, eventId: "e-1", topic: "orders/create" },
      { id: 9_000_002, eventId: "p-2", topic: "orders/paid" },
    ];
    const results = await Promise.all(
      deliveries.map((d, i) =>
        ingestWebhook(
          { prisma: db.prisma, batcher },
          {
            shop,
            topic: d.topic,
            webhookId: `w-${i}`,
            eventId: d.eventId,
            payload: { ...order, id: d.id, created_at: "2026-11-21T10:00:00Z", processed_at: "2026-11-21T10:00:00Z" },
          },
          NOW,
        ),
      ),
    );
    expect(results.filter((r) => r.outcome === "paused")).toHaveLength(120); // no pixel connected
    expect(results.slice(120).map((r) => r.outcome)).toEqual(["duplicate", "duplicate", "duplicate"]);
    expect(await db.prisma.event.count({ where: { shop } })).toBe(120);
    expect(await db.prisma.webhookReceipt.count({ where: { shop } })).toBe(121);
    expect(await db.prisma.eventTransition.count({ where: { event: { shop } } })).toBe(120);
    // The receipts say the same as the answers: the paid webhook of order 2 found its Purchase held.
    const paid = await db.prisma.webhookReceipt.findFirst({ where: { shop, dedupeKey: "p-2" } });
    expect(paid?.outcome).toBe("duplicate");
  });

  it("records orders/paid as a duplicate when it shares a batch with the orders/create of its order", async () => {
    const batcher = new WriteBatcher(db.sql, { lingerMs: 50, maxBatch: 50 });
    const shop = "together.myshopify.com";
    const payload = {
      ...order,
      id: 9_100_000,
      created_at: "2026-11-21T10:00:00Z",
      processed_at: "2026-11-21T10:00:00Z",
    };
    const results = await Promise.all(
      (["orders/create", "orders/paid"] as const).map((topic, i) =>
        ingestWebhook(
          { prisma: db.prisma, batcher },
          { shop, topic, webhookId: `t-${i}`, eventId: `t-${i}`, payload },
          NOW,
        ),
      ),
    );
    expect(results.map((r) => r.outcome)).toEqual(["paused", "duplicate"]);
    const receipts = await db.prisma.webhookReceipt.findMany({ where: { shop }, orderBy: { dedupeKey: "asc" } });
    expect(receipts.map((r) => [r.topic, r.outcome])).toEqual([
      ["orders/create", "paused"],
      ["orders/paid", "duplicate"],
    ]);
    expect(await db.prisma.event.count({ where: { shop } })).toBe(1);
  });
});
