// The admin page's queries against the real PostgreSQL of this machine, in a database of this
// file's own: one shop never sees another's rows, and the token never leaves the server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { DEFAULT_SETTINGS } from "../events/settings";
import { ingestWebhook } from "../pipeline/ingest.server";
import {
  DAY_MS,
  deliveryRate,
  HELD_BACK_REASONS_LIMIT,
  loadDashboard,
  loadDeliveryStats,
  loadDestinationViews,
  loadRecentEvents,
  loadShopSettings,
} from "./dashboard.server";

const A = "shop-a.myshopify.com";
const B = "shop-b.myshopify.com";
/** Default settings, no pixel: its orders arrive through the real ingest. */
const C = "shop-c.myshopify.com";
const NOW = new Date("2026-11-20T12:00:00Z");
const TOKEN_A = "EAAGsecret-token-of-shop-a-0123456789abcdef";
const CIPHERTEXT_A = "v1:ciphertext-of-shop-a:9f8e7d6c5b4a";
const FINGERPRINT_A = "fp-a-1234";
// A queued event still holds the buyer's raw IP and user agent (Meta wants them unhashed).
const BUYER_IP = "203.0.113.197";
const BUYER_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) BuyerBrowser/7.3";

let db: TestDatabase;

function ago(ms: number): Date {
  return new Date(NOW.getTime() - ms);
}

let seq = 0;
async function addEvent(
  shop: string,
  state: string,
  createdAt: Date,
  extra: { reason?: string; fbtraceId?: string; userData?: Record<string, string> } = {},
) {
  seq++;
  return db.prisma.event.create({
    data: {
      shop,
      eventName: "Purchase",
      eventId: `${shop}-${seq}`,
      topic: "orders/create",
      state,
      payload: {
        event_name: "Purchase",
        event_id: `${shop}-${seq}`,
        user_data: { em: ["a".repeat(64)], ...extra.userData },
      },
      eventTime: createdAt,
      createdAt,
      attempts: state === "sent" ? 1 : 0,
      reason: extra.reason ?? null,
      fbtraceId: extra.fbtraceId ?? null,
      history: { create: [{ at: createdAt, state: "queued", detail: "from orders/create" }] },
    },
  });
}

beforeAll(async () => {
  db = await createTestDatabase();

  await db.prisma.destination.create({
    data: {
      id: crypto.randomUUID(),
      shop: A,
      pixelId: "111111111111111",
      accessTokenEnc: CIPHERTEXT_A,
      tokenFingerprint: FINGERPRINT_A,
      testEventCode: "TEST123",
      apiVersion: "v24.0",
      pausedAt: ago(3_600_000),
      pauseReason: "token_invalid",
      pauseMessage: "Meta no longer accepts the access token. Generate a new one in Events Manager.",
    },
  });
  await db.prisma.destination.create({
    data: {
      id: crypto.randomUUID(),
      shop: B,
      pixelId: "222222222222222",
      accessTokenEnc: "v1:ciphertext-of-shop-b",
      tokenFingerprint: "fp-b",
    },
  });

  // Shop A: within 24 h 3 sent, 1 rejected, 1 queued, 1 sending; 2-6 days ago 2 sent, 1 expired; 8 days ago 1 sent.
  // (It holds no held-back order: those leave a receipt, not an event.)
  for (const state of ["sent", "sent", "sent", "rejected", "queued", "sending"]) {
    await addEvent(
      A,
      state,
      ago(3_600_000),
      state === "queued" ? { userData: { client_ip_address: BUYER_IP, client_user_agent: BUYER_UA } } : {},
    );
  }
  for (const state of ["sent", "sent", "expired"]) await addEvent(A, state, ago(3 * DAY_MS));
  await addEvent(A, "sent", ago(8 * DAY_MS));
  // Shop B: lots of rows in every state, which A must never count.
  for (const state of ["sent", "rejected", "invalid", "paused", "paused", "retrying", "queued", "expired"]) {
    await addEvent(B, state, ago(1_800_000), { reason: "shop B's reason", fbtraceId: "B-TRACE" });
  }
  await db.prisma.shop.create({
    data: { shop: A, settings: { purchaseTrigger: "orders/paid", defaultCountry: "fr" } },
  });
  await db.prisma.shop.create({ data: { shop: B, settings: { purchaseTrigger: 42 } } });
  // Shop B held back webhooks too, which A must never count.
  await db.prisma.webhookReceipt.create({
    data: {
      shop: B,
      topic: "orders/create",
      webhookId: "b-held",
      dedupeKey: "b-held",
      outcome: "held_back",
      reason: "shop B's held-back reason",
      receivedAt: ago(1_800_000),
    },
  });
});

afterAll(async () => {
  await db?.drop();
});

describe("loadDestinationViews", () => {
  it("shows the pixel, the pause and whether a token is set, never the token or its ciphertext", async () => {
    const views = await loadDestinationViews(db.prisma, A);
    expect(views).toHaveLength(1);
    const view = views[0];
    expect(view).toEqual({
      id: expect.any(String),
      label: null,
      events: ["Purchase", "InitiateCheckout"],
      sendTestOrders: true,
      testEventAt: null,
      testEventPixelId: null,
      pixelId: "111111111111111",
      testEventCode: "TEST123",
      apiVersion: "v24.0",
      hasAccessToken: true,
      paused: true,
      pausedAt: ago(3_600_000).toISOString(),
      pauseReason: "token_invalid",
      pauseMessage: "Meta no longer accepts the access token. Generate a new one in Events Manager.",
      // Written before the app recorded how a token came: pasted, with no known end.
      connectedVia: null,
      tokenExpiry: { state: "no-expiry" },
      updatedAt: expect.any(String),
    });
    const text = JSON.stringify(view);
    expect(text).not.toContain(CIPHERTEXT_A);
    expect(text).not.toContain(FINGERPRINT_A);
    expect(text).not.toContain(TOKEN_A);
    expect(Object.keys(view!)).not.toContain("accessTokenEnc");
  });

  it("answers none for a shop without a destination, and each shop its own", async () => {
    expect(await loadDestinationViews(db.prisma, "nobody.myshopify.com")).toEqual([]);
    const b = await loadDestinationViews(db.prisma, B);
    expect(b.map((d) => [d.pixelId, d.paused])).toEqual([["222222222222222", false]]);
  });
});

describe("loadDeliveryStats", () => {
  it("counts shop A's events by state over 24 hours and 7 days, none of shop B's", async () => {
    const stats = await loadDeliveryStats(db.prisma, A, NOW);
    expect(stats.last24h.counts).toMatchObject({
      sent: 3,
      rejected: 1,
      queued: 1,
      sending: 1,
      invalid: 0,
      paused: 0,
      retrying: 0,
      expired: 0,
      total: 6,
    });
    expect(stats.last7d.counts).toMatchObject({
      sent: 5,
      rejected: 1,
      queued: 1,
      sending: 1,
      invalid: 0,
      expired: 1,
      paused: 0,
      retrying: 0,
      total: 9,
    });
    expect(stats.last24h.deliveryRate).toBeCloseTo(3 / 4);
    expect(stats.last7d.deliveryRate).toBeCloseTo(5 / 7);
    expect(stats.heldBack).toEqual({ last24h: 0, last7d: 0, reasons: [], otherReasons: { last24h: 0, last7d: 0 } });
  });

  it("counts shop B's own rows for shop B", async () => {
    const stats = await loadDeliveryStats(db.prisma, B, NOW);
    expect(stats.last24h.counts).toMatchObject({
      sent: 1,
      rejected: 1,
      invalid: 1,
      paused: 2,
      retrying: 1,
      queued: 1,
      expired: 1,
      total: 8,
    });
    // Invalid events never reached Meta: they count against the rate as rejected ones do.
    expect(stats.last24h.deliveryRate).toBeCloseTo(1 / 6);
    expect(stats.heldBack).toMatchObject({
      last24h: 1,
      last7d: 1,
      reasons: [{ reason: "shop B's held-back reason", last24h: 1, last7d: 1 }],
    });
  });

  it("counts held-back orders from what ingest records, with their reasons, in each window", async () => {
    // A Shopify test order (no test event code) and a buyer who declined marketing: their
    // webhooks are answered held_back and leave a receipt, no event; a plain order is stored.
    const declined = shopifyFixture("orders-create-web", { now: NOW });
    declined.id = 6_100_002;
    declined.note_attributes = declined.note_attributes.map((a: { name: string; value: string }) =>
      a.name === "_capi_consent" ? { ...a, value: "marketing=0" } : a,
    );
    const plain = { ...shopifyFixture("orders-create-web", { now: NOW }), id: 6_100_003 };
    const outcomes = [];
    for (const [i, payload] of [shopifyFixture("orders-create-test", { now: NOW }), declined, plain].entries()) {
      const webhook = { shop: C, topic: "orders/create", webhookId: `c-${i}`, eventId: `c-${i}`, payload };
      outcomes.push((await ingestWebhook({ prisma: db.prisma }, webhook, ago(60_000))).outcome);
    }
    expect(outcomes).toEqual(["held_back", "held_back", "paused"]);
    // Held back three days ago, and nine days ago (outside both windows).
    for (const [id, days] of [
      ["c-old", 3],
      ["c-older", 9],
    ] as const) {
      await db.prisma.webhookReceipt.create({
        data: {
          shop: C,
          topic: "orders/create",
          webhookId: id,
          dedupeKey: id,
          outcome: "held_back",
          reason: "the buyer declined marketing tracking",
          receivedAt: ago(days * DAY_MS),
        },
      });
    }

    const stats = await loadDeliveryStats(db.prisma, C, NOW);
    expect(stats.last24h.counts).toMatchObject({ paused: 1, total: 1 });
    expect(stats.heldBack).toEqual({
      last24h: 2,
      last7d: 3,
      reasons: [
        { reason: "the buyer declined marketing tracking", last24h: 1, last7d: 2 },
        { reason: "Shopify test order, and the shop has no test event code", last24h: 1, last7d: 1 },
      ],
      otherReasons: { last24h: 0, last7d: 0 },
    });
    // Nothing of C's reaches another shop's dashboard.
    expect(JSON.stringify(await loadDashboard(db.prisma, A, NOW))).not.toContain("declined marketing");
  });

  it("lists the most frequent held-back reasons and counts the rest together", async () => {
    const shop = "many-reasons.myshopify.com";
    const reasons = Array.from(
      { length: HELD_BACK_REASONS_LIMIT + 2 },
      (_, i) => `the shop does not send orders from source "app-${i}"`,
    );
    await db.prisma.webhookReceipt.createMany({
      data: reasons.flatMap((reason, i) =>
        // The first reason twice (once 2 days ago), every other once, within the day.
        Array.from({ length: i === 0 ? 2 : 1 }, (_, k) => ({
          shop,
          topic: "orders/create",
          webhookId: `m-${i}-${k}`,
          dedupeKey: `m-${i}-${k}`,
          outcome: "held_back",
          reason,
          receivedAt: ago(k === 1 ? 2 * DAY_MS : 60_000),
        })),
      ),
    });
    const { heldBack } = await loadDeliveryStats(db.prisma, shop, NOW);
    expect(heldBack.last7d).toBe(reasons.length + 1);
    expect(heldBack.last24h).toBe(reasons.length);
    expect(heldBack.reasons).toHaveLength(HELD_BACK_REASONS_LIMIT);
    expect(heldBack.reasons[0]).toEqual({ reason: reasons[0], last24h: 1, last7d: 2 });
    expect(heldBack.otherReasons).toEqual({ last24h: 2, last7d: 2 });
    const listed = heldBack.reasons.reduce((sum, r) => sum + r.last7d, 0);
    expect(listed + heldBack.otherReasons.last7d).toBe(heldBack.last7d);
  });

  it("has no delivery rate without settled events", async () => {
    const stats = await loadDeliveryStats(db.prisma, "nobody.myshopify.com", NOW);
    expect(stats.last7d.counts.total).toBe(0);
    expect(stats.last7d.deliveryRate).toBeNull();
    expect(deliveryRate({ ...stats.last7d.counts, queued: 4, retrying: 2 })).toBeNull();
  });
});

describe("loadRecentEvents", () => {
  it("lists only the shop's events, newest first, with payload and history", async () => {
    const events = await loadRecentEvents(db.prisma, A);
    expect(events).toHaveLength(10);
    expect(events.every((e) => e.eventId.startsWith(A))).toBe(true);
    expect(events.some((e) => e.fbtraceId === "B-TRACE" || e.reason === "shop B's reason")).toBe(false);
    const times = events.map((e) => e.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect(events[0]).toMatchObject({
      eventName: "Purchase",
      state: expect.any(String),
      id: expect.stringMatching(/^\d+$/),
    });
    expect(events[0]!.payload).toMatchObject({ event_name: "Purchase" });
    expect(events[0]!.history).toEqual([{ at: expect.any(String), state: "queued", detail: "from orders/create" }]);
  });

  it("stops at the limit (50 by default)", async () => {
    for (let i = 0; i < 55; i++) await addEvent("busy.myshopify.com", "sent", ago(i * 60_000));
    expect(await loadRecentEvents(db.prisma, "busy.myshopify.com")).toHaveLength(50);
    expect(await loadRecentEvents(db.prisma, "busy.myshopify.com", 5)).toHaveLength(5);
  });
});

describe("loadShopSettings", () => {
  it("parses the stored settings with defaults", async () => {
    const { settings, invalidStored } = await loadShopSettings(db.prisma, A);
    expect(invalidStored).toBe(false);
    expect(settings).toEqual({ ...DEFAULT_SETTINGS, purchaseTrigger: "orders/paid", defaultCountry: "FR" });
  });

  it("falls back to the defaults for invalid or missing settings", async () => {
    expect(await loadShopSettings(db.prisma, B)).toEqual({ settings: DEFAULT_SETTINGS, invalidStored: true });
    expect(await loadShopSettings(db.prisma, "nobody.myshopify.com")).toEqual({
      settings: DEFAULT_SETTINGS,
      invalidStored: false,
    });
  });
});

describe("loadDashboard", () => {
  it("never holds a buyer's IP address or user agent, only their masks", async () => {
    const text = JSON.stringify(await loadDashboard(db.prisma, A, NOW));
    expect(text).not.toContain(BUYER_IP);
    expect(text).not.toContain(BUYER_UA);
    expect(text).not.toContain("BuyerBrowser");
    expect(text).toContain('"client_ip_address":"203.0.113.x"');
    expect(text).toContain(`"client_user_agent":"(user agent, ${BUYER_UA.length} characters)"`);
  });

  it("holds nothing of another shop and no secret", async () => {
    const dashboard = await loadDashboard(db.prisma, A, NOW);
    const text = JSON.stringify(dashboard);
    expect(dashboard.shop).toBe(A);
    expect(text).not.toContain(B);
    expect(text).not.toContain("B-TRACE");
    expect(text).not.toContain("222222222222222");
    expect(text).not.toContain(CIPHERTEXT_A);
    expect(text).not.toContain("ciphertext");
  });
});
