// The accuracy report against the real PostgreSQL of this machine and the Admin API stand-in
// (test/support/shopify-admin.ts): orders seeded in Shopify, some delivered by webhook, some
// recovered by reconciliation, some never received, their copies moved to each state; every
// stored number is held to the seeded truth and to a direct SQL count. Dates are built from
// today's clock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminStandIn, type AdminStandIn } from "../../test/support/shopify-admin";
import { ordersConnection } from "../../test/support/shopify-orders";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../../test/support/services";
import { waitFor } from "../../test/support/wait";
import type { AdminGraphql } from "../shopify/admin-graphql";
import { graphqlOrderSchema, graphqlOrderToPayload } from "../shopify/admin-orders";
import { ACCURACY_DAYS, accuracyDays, BEFORE_PIXEL, utcDay, type OrderFate } from "./accuracy";
import { loadAccuracy, measureAccuracy } from "./accuracy.server";
import { forgetShopContext, ingestWebhook } from "./ingest.server";
import { handleShopRedact } from "./privacy.server";
import { reconcileOrderEventId, reconcileShop } from "./reconcile.server";
import { startWorker } from "./worker.server";

const A = "accuracy-a.myshopify.com";
const B = "accuracy-b.myshopify.com";
const E = "accuracy-e.myshopify.com";
const HOUR = 3_600_000;
const TEST_ORDER = "Shopify test order, and the shop has no test event code";
const CONSENT = "the buyer declined marketing tracking";

let db: TestDatabase;
let admin: AdminStandIn;
const now = new Date();
const shopOrders = new Map<string, Array<Record<string, unknown>>>();

const money = (amount: string) => ({
  shopMoney: { amount, currencyCode: "USD" },
  presentmentMoney: { amount, currencyCode: "USD" },
});
const graphqlOrder = (shop: string, id: number, hoursAgo: number, o: Record<string, unknown> = {}) => {
  const at = new Date(now.getTime() - hoursAgo * HOUR).toISOString();
  return {
    id: `gid://shopify/Order/${id}`,
    name: `#${id}`,
    createdAt: at,
    processedAt: at,
    email: `buyer${id}@example.com`,
    test: false,
    sourceName: "web",
    statusPageUrl: `https://${shop}/1/orders/${id}/authenticate?key=k`,
    clientIp: "203.0.113.9",
    displayFinancialStatus: "PAID",
    currencyCode: "USD",
    totalPriceSet: money("42.00"),
    subtotalPriceSet: money("40.00"),
    customAttributes: [{ key: "_capi_ua", value: "Mozilla/5.0 (iPhone) Safari/604.1" }],
    lineItems: { nodes: [{ quantity: 1, sku: "S", title: "Socks", originalUnitPriceSet: money("40.00") }] },
    ...o,
  };
};

function graphqlFor(shop: string, token: string): AdminGraphql {
  return async (query, variables) =>
    (
      await admin.fetch(`https://${shop}/admin/api/2026-10/graphql.json`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-shopify-access-token": token },
        body: JSON.stringify({ query, variables }),
      })
    ).json();
}

async function pixel(
  shop: string,
  pixelId: string,
  o: { sendTestOrders?: boolean; events?: string[]; createdAt?: Date },
) {
  const id = crypto.randomUUID();
  await db.prisma.destination.create({
    data: {
      id,
      shop,
      pixelId,
      accessTokenEnc: "v2.sealed",
      tokenFingerprint: "f",
      sendTestOrders: o.sendTestOrders ?? true,
      events: o.events ?? ["Purchase", "InitiateCheckout"],
      createdAt: o.createdAt ?? new Date(now.getTime() - 30 * 24 * HOUR),
    },
  });
  return id;
}

async function webhook(shop: string, order: Record<string, unknown>) {
  const payload = graphqlOrderToPayload(graphqlOrderSchema.parse(order));
  const id = `wh-${String(order.id).split("/").pop()}`;
  await ingestWebhook(
    { prisma: db.prisma },
    { shop, topic: "orders/create", webhookId: id, eventId: id, payload },
    now,
  );
}

async function setState(shop: string, orderId: number, destinationId: string | null, state: string) {
  await db.sql(
    `UPDATE "Event" SET "state" = $1 WHERE "shop" = $2 AND "eventName" = 'Purchase' AND "eventId" = $3 AND ($4::text IS NULL OR "destinationId" = $4)`,
    [state, shop, String(orderId), destinationId],
  );
}

function scalars(value: unknown): unknown[] {
  if (value === null || typeof value !== "object") return [value];
  return Object.entries(value).flatMap(([k, v]) => [k, ...scalars(v)]);
}

// The seeded truth: each order of shop A, its age, and what it is for each pixel.
type Truth = { id: number; hoursAgo: number; fate: Record<"p1" | "p2" | "p4", OrderFate>; reason?: string };
const TRUTH: Truth[] = [
  { id: 1001, hoursAgo: 1, fate: { p1: "accepted", p2: "rejected", p4: "held_back" } },
  { id: 1002, hoursAgo: 2, fate: { p1: "accepted", p2: "accepted", p4: "held_back" } },
  { id: 1003, hoursAgo: 3, fate: { p1: "held_back", p2: "held_back", p4: "held_back" }, reason: TEST_ORDER },
  { id: 1004, hoursAgo: 5, fate: { p1: "held_back", p2: "held_back", p4: "held_back" }, reason: CONSENT },
  { id: 1005, hoursAgo: 26, fate: { p1: "recovered", p2: "recovered", p4: "recovered" } },
  { id: 1006, hoursAgo: 30, fate: { p1: "pending", p2: "pending", p4: "held_back" } },
  { id: 1007, hoursAgo: 4 * 24, fate: { p1: "never_received", p2: "never_received", p4: "held_back" } },
  { id: 1008, hoursAgo: 3 * 24, fate: { p1: "expired", p2: "expired", p4: "held_back" } },
  { id: 1009, hoursAgo: 3 * 24 + 1, fate: { p1: "accepted", p2: "accepted", p4: "held_back" } },
];
const pixels: Record<"p1" | "p2" | "p3" | "p4", string> = { p1: "", p2: "", p3: "", p4: "" };
let tokenA = "";
let tokenB = "";
let tokenE = "";

beforeAll(async () => {
  db = await createTestDatabase();
  admin = adminStandIn({ apiKey: "k", apiSecret: "s" });
  tokenA = admin.issue(A, { expiring: false }).access_token;
  tokenB = admin.issue(B, { expiring: false }).access_token;
  tokenE = admin.issue(E, { expiring: false }).access_token;
  admin.handle(
    A,
    ordersConnection(() => shopOrders.get(A) ?? []),
  );
  admin.handle(
    B,
    ordersConnection(() => shopOrders.get(B) ?? []),
  );
  admin.handle(
    E,
    ordersConnection(() => shopOrders.get(E) ?? []),
  );

  pixels.p1 = await pixel(A, "111", { sendTestOrders: true });
  pixels.p2 = await pixel(A, "222", { sendTestOrders: false, events: ["Purchase"] });
  // Receives no Purchase: not measured.
  pixels.p3 = await pixel(A, "333", { events: ["InitiateCheckout"] });

  const orders = TRUTH.map((t) =>
    graphqlOrder(A, t.id, t.hoursAgo, {
      ...(t.reason === TEST_ORDER && { test: true }),
      ...(t.reason === CONSENT && { customAttributes: [{ key: "_capi_consent", value: "marketing=0;analytics=1" }] }),
    }),
  );
  shopOrders.set(A, orders);
  // Webhooks came for all but 1005 (reconciliation recovers it) and 1007 (older than reconciliation reads).
  for (const o of orders)
    if (!["gid://shopify/Order/1005", "gid://shopify/Order/1007"].includes(String(o.id))) await webhook(A, o);
  await setState(A, 1001, pixels.p1, "sent");
  await setState(A, 1001, pixels.p2, "rejected");
  await setState(A, 1002, null, "sent");
  await setState(A, 1006, pixels.p1, "retrying");
  await setState(A, 1008, null, "expired");
  await setState(A, 1009, null, "sent");
  // Added after those orders came: they were never meant for it.
  pixels.p4 = await pixel(A, "444", { events: ["Purchase"], createdAt: new Date(now.getTime() - 10 * 60_000) });
  // Ingest's short cache of the shop's pixels would not know it yet.
  forgetShopContext(A);

  const report = await reconcileShop({ prisma: db.prisma, graphql: graphqlFor(A, tokenA) }, A, now);
  expect(report.recovered).toBe(1);
  await setState(A, 1005, null, "sent");

  await pixel(B, "999", {});
  shopOrders.set(B, [graphqlOrder(B, 2001, 1), graphqlOrder(B, 2002, 2)]);
});

afterAll(async () => {
  await db?.drop();
});

const dayOf = (t: Truth) => utcDay(new Date(now.getTime() - t.hoursAgo * HOUR));

describe("measureAccuracy", () => {
  it("stores one row per day and Purchase pixel, each number the seeded truth and a direct SQL count", async () => {
    const requestsBefore = admin.graphqlRequests.length;
    const done = await measureAccuracy({ prisma: db.prisma, graphql: graphqlFor(A, tokenA) }, A, now);
    expect(done).toMatchObject({ orders: TRUTH.length, unreadable: 0, days: accuracyDays(now), pixels: 3 });
    expect(admin.graphqlRequests.slice(requestsBefore).every((r) => r.shop === A && r.status === 200)).toBe(true);

    const rows = await db.prisma.accuracyDay.findMany({ where: { shop: A } });
    expect(rows).toHaveLength(ACCURACY_DAYS * 3);
    expect(rows.some((r) => r.destinationId === pixels.p3)).toBe(false);

    for (const key of ["p1", "p2", "p4"] as const) {
      for (const day of accuracyDays(now)) {
        const row = rows.find((r) => r.destinationId === pixels[key] && utcDay(r.day) === day)!;
        const ofDay = TRUTH.filter((t) => dayOf(t) === day);
        const truth = (fate: OrderFate) => ofDay.filter((t) => t.fate[key] === fate).length;
        const ids = ofDay.map((t) => String(t.id));
        const [sql] = await db.sql<Record<string, number>>(
          `SELECT COUNT(*) FILTER (WHERE e."state" = 'sent')::int AS "accepted",
                  COUNT(*) FILTER (WHERE e."state" = 'sent' AND r."outcome" IN ('queued', 'paused'))::int AS "recovered",
                  COUNT(*) FILTER (WHERE e."state" = 'rejected')::int AS "rejected",
                  COUNT(*) FILTER (WHERE e."state" = 'invalid')::int AS "invalid",
                  COUNT(*) FILTER (WHERE e."state" IN ('queued', 'sending', 'retrying', 'paused'))::int AS "pending",
                  COUNT(*) FILTER (WHERE e."state" = 'expired')::int AS "expired"
           FROM "Event" e
           LEFT JOIN "WebhookReceipt" r ON r."shop" = e."shop" AND r."topic" = 'orders/create'
                                        AND r."eventId" = 'reconcile:orders/create:' || e."eventId"
           WHERE e."shop" = $1 AND e."eventName" = 'Purchase' AND e."destinationId" = $2 AND e."eventId" = ANY($3::text[])`,
          [A, pixels[key], ids],
        );
        const label = `${key} ${day}`;
        expect(row.orders, label).toBe(ofDay.length);
        expect(row.accepted, label).toBe(truth("accepted") + truth("recovered"));
        expect(row.accepted, label).toBe(sql!.accepted);
        expect(row.recovered, label).toBe(truth("recovered"));
        expect(row.recovered, label).toBe(sql!.recovered);
        expect(row.rejected, label).toBe(truth("rejected"));
        expect(row.rejected, label).toBe(sql!.rejected);
        expect(row.invalid, label).toBe(sql!.invalid);
        expect(row.pending, label).toBe(truth("pending"));
        expect(row.pending, label).toBe(sql!.pending);
        expect(row.expired, label).toBe(truth("expired"));
        expect(row.expired, label).toBe(sql!.expired);
        expect(row.heldBack, label).toBe(truth("held_back"));
        expect(row.neverReceived, label).toBe(truth("never_received"));
        const sum =
          row.accepted + row.heldBack + row.rejected + row.invalid + row.pending + row.expired + row.neverReceived;
        expect(sum, label).toBe(row.orders);
      }
    }
  });

  it("names each held-back reason as reconciliation's receipt worded it", async () => {
    const rows = await db.prisma.accuracyDay.findMany({ where: { shop: A } });
    const reasons = (key: "p1" | "p2" | "p4", day: string) =>
      rows.find((r) => r.destinationId === pixels[key] && utcDay(r.day) === day)!.heldBackReasons;
    for (const t of TRUTH.filter((x) => x.reason)) {
      const [receipt] = await db.sql<{ reason: string }>(
        `SELECT "reason" FROM "WebhookReceipt" WHERE "shop" = $1 AND "eventId" = $2 AND "outcome" = 'held_back'`,
        [A, reconcileOrderEventId(t.id)],
      );
      expect(receipt!.reason).toBe(t.reason);
      expect(reasons("p1", dayOf(t))).toHaveProperty([t.reason!]);
    }
    // The orders placed before pixel 444 was added are held back for it, and said so.
    const before = TRUTH.filter((t) => t.fate.p4 === "held_back" && !t.reason);
    const total = accuracyDays(now).reduce(
      (n, d) => n + Number((reasons("p4", d) as Record<string, number>)[BEFORE_PIXEL] ?? 0),
      0,
    );
    expect(total).toBe(before.length);
  });

  it("names why an order was held back from its webhook's receipt, before reconciliation reads the order", async () => {
    // Shop E: one order whose buyer declined marketing, one that was delivered; no reconciliation yet.
    await pixel(E, "777", {});
    const declined = graphqlOrder(E, 5001, 2, {
      customAttributes: [{ key: "_capi_consent", value: "marketing=0;analytics=1" }],
    });
    const delivered = graphqlOrder(E, 5002, 3);
    shopOrders.set(E, [declined, delivered]);
    await webhook(E, declined);
    await webhook(E, delivered);
    const [receipt] = await db.sql<{ orderId: string | null; outcome: string; reason: string }>(
      `SELECT "orderId", "outcome", "reason" FROM "WebhookReceipt" WHERE "shop" = $1 AND "eventId" = 'wh-5001'`,
      [E],
    );
    expect(receipt).toEqual({ orderId: "5001", outcome: "held_back", reason: CONSENT });
    expect(await db.prisma.event.count({ where: { shop: E, eventId: "5001" } })).toBe(0);
    expect(await db.prisma.webhookReceipt.count({ where: { shop: E, eventId: reconcileOrderEventId(5001) } })).toBe(0);

    await measureAccuracy({ prisma: db.prisma, graphql: graphqlFor(E, tokenE) }, E, now);
    const rows = await db.prisma.accuracyDay.findMany({ where: { shop: E } });
    const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((n, r) => n + f(r), 0);
    expect(sum((r) => r.orders)).toBe(2);
    expect(sum((r) => r.heldBack)).toBe(1);
    expect(sum((r) => r.neverReceived)).toBe(0);
    expect(sum((r) => r.pending)).toBe(1);
    const row = rows.find((r) => r.heldBack === 1)!;
    expect(row.heldBackReasons).toEqual({ [CONSENT]: 1 });
  });

  it("keeps no order id in its rows", async () => {
    const rows = await db.sql<{ row: string }>(`SELECT row_to_json(t)::text AS "row" FROM "AccuracyDay" t`, []);
    // Uuids are random and can hold "1003"; an order id would stand as a number of its own.
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const values = rows.flatMap(({ row }) => scalars(JSON.parse(row))).filter((v) => !uuid.test(String(v)));
    expect(values.length).toBeGreaterThan(0);
    for (const t of TRUTH) {
      for (const v of values) expect(String(v)).not.toMatch(new RegExp(`(^|\\D)${t.id}(\\D|$)`));
    }
  });

  it("measures the second shop apart: its rows are its own, the first shop's stay as they were", async () => {
    const beforeA = await db.prisma.accuracyDay.findMany({
      where: { shop: A },
      orderBy: [{ day: "asc" }, { destinationId: "asc" }],
    });
    await measureAccuracy({ prisma: db.prisma, graphql: graphqlFor(B, tokenB) }, B, now);
    const rowsB = await db.prisma.accuracyDay.findMany({ where: { shop: B } });
    expect(rowsB).toHaveLength(ACCURACY_DAYS);
    expect(rowsB.reduce((n, r) => n + r.orders, 0)).toBe(2);
    expect(rowsB.reduce((n, r) => n + r.neverReceived, 0)).toBe(2);
    const afterA = await db.prisma.accuracyDay.findMany({
      where: { shop: A },
      orderBy: [{ day: "asc" }, { destinationId: "asc" }],
    });
    expect(afterA).toEqual(beforeA);
    expect((await loadAccuracy(db.prisma, B, now)).every((d) => d.destinationId !== pixels.p1)).toBe(true);
  });

  it("measures again in place, and leaves out the oldest day when the cap cut its orders short", async () => {
    await measureAccuracy({ prisma: db.prisma, graphql: graphqlFor(A, tokenA) }, A, now);
    expect(await db.prisma.accuracyDay.count({ where: { shop: A } })).toBe(ACCURACY_DAYS * 3);
    // Newest first: the 4 latest orders are read, the day of the 4th is incomplete.
    const latest = [...TRUTH].sort((x, y) => x.hoursAgo - y.hoursAgo).slice(0, 4);
    const cutDay = dayOf(latest.at(-1)!);
    const done = await measureAccuracy({ prisma: db.prisma, graphql: graphqlFor(A, tokenA) }, A, now, 4);
    expect(done.days).toEqual(accuracyDays(now).filter((d) => d > cutDay));
  });

  it("loads the stored days as the page shows them, counts split back into their buckets", async () => {
    const days = await loadAccuracy(db.prisma, A, now);
    const p1 = days.filter((d) => d.destinationId === pixels.p1);
    const sum = (fate: OrderFate) => p1.reduce((n, d) => n + d.counts[fate], 0);
    for (const fate of [
      "accepted",
      "recovered",
      "held_back",
      "rejected",
      "pending",
      "expired",
      "never_received",
    ] as const)
      expect(sum(fate), fate).toBe(TRUTH.filter((t) => t.fate.p1 === fate).length);
  });

  it("is deleted by shop/redact, the other shop's kept", async () => {
    await handleShopRedact(db.prisma, A);
    expect(await db.prisma.accuracyDay.count({ where: { shop: A } })).toBe(0);
    expect(await db.prisma.accuracyDay.count({ where: { shop: B } })).toBe(ACCURACY_DAYS);
  });

  it("is measured by the worker after each reconciliation, paused shops too, with each shop's own offline access", async () => {
    const [C, D] = ["accuracy-c.myshopify.com", "accuracy-d.myshopify.com"];
    const tokens = {
      [C]: admin.issue(C, { expiring: false }).access_token,
      [D]: admin.issue(D, { expiring: false }).access_token,
    };
    // C: a test order and no test event code, held back (nothing is sent anywhere).
    shopOrders.set(C, [graphqlOrder(C, 3001, 1, { test: true })]);
    // D: its pixel paused, so reconciliation skips the shop; the report still measures it.
    shopOrders.set(D, [graphqlOrder(D, 4001, 1)]);
    for (const shop of [C, D])
      admin.handle(
        shop,
        ordersConnection(() => shopOrders.get(shop) ?? []),
      );
    await pixel(C, "777", {});
    const paused = await pixel(D, "888", {});
    await db.prisma.destination.update({ where: { id: paused }, data: { pausedAt: new Date(), pauseReason: "test" } });
    const asked: string[] = [];
    const lines: string[] = [];
    const worker = startWorker({
      prisma: db.prisma,
      redisUrl: REDIS_URL,
      graphUrl: "http://127.0.0.1:9",
      queuePrefix: uniquePrefix(),
      log: (l) => lines.push(l),
      reconcile: {
        everyMs: 3_600_000,
        async graphqlFor(shop) {
          asked.push(shop);
          return tokens[shop] ? graphqlFor(shop, tokens[shop]!) : undefined;
        },
      },
    });
    try {
      await waitFor(
        async () => (await db.prisma.accuracyDay.count({ where: { shop: { in: [C, D] } } })) === 2 * ACCURACY_DAYS,
        15_000,
        "the worker to measure shops C and D",
      );
      const rows = (shop: string) => db.prisma.accuracyDay.findMany({ where: { shop, orders: { gt: 0 } } });
      expect(await rows(C)).toEqual([
        expect.objectContaining({ orders: 1, heldBack: 1, heldBackReasons: { [TEST_ORDER]: 1 } }),
      ]);
      // Not reconciled (no receipt names the order) and no webhook: never received.
      expect(await rows(D)).toEqual([expect.objectContaining({ orders: 1, neverReceived: 1 })]);
      expect(lines.filter((l) => /accuracy not measured/.test(l))).toEqual([]);
      expect(asked).toEqual(expect.arrayContaining([C, D]));
    } finally {
      await worker.close();
    }
  });
});
