// The webhook routes as Shopify calls them: signed with Shopify's test helper, against the
// real PostgreSQL and Redis of this machine. Each shop is installed first (the app refuses
// webhooks of shops that never installed), and its orders carry its own status links.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { atShop, shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";
import { signedWebhookRequest, webhookRouteActions } from "../../test/support/shopify-webhooks";
import type { ActionFunctionArgs } from "@remix-run/node";

const SECRET = "test-webhook-secret";
const SHOP = "routes.myshopify.com";
const OTHER = "other.myshopify.com";
// Shopify's documented order sample, of its sample shop (its status link names it).
const SAMPLE_SHOP = "jsmith.myshopify.com";
const fixture = (name: string) => atShop(shopifyFixture(name), SHOP);

type Action = (args: ActionFunctionArgs) => Promise<Response>;
let db: TestDatabase;
const actions: Record<string, Action> = {};

async function call(
  topic: string,
  payload: unknown,
  options: { secret?: string; eventId?: string; shop?: string; triggeredAt?: string } = {},
) {
  const request = signedWebhookRequest("https://app.example.com", {
    topic,
    shop: options.shop ?? SHOP,
    payload,
    secret: options.secret ?? SECRET,
    eventId: options.eventId,
    triggeredAt: options.triggeredAt,
  });
  try {
    return await actions[topic]!({ request, params: {}, context: {} });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  Object.assign(process.env, {
    SHOPIFY_API_SECRET: SECRET,
    SHOPIFY_API_KEY: "test-key",
    DATABASE_URL: db.url,
    REDIS_URL,
    NODE_ENV: "test",
  });
  Object.assign(actions, await webhookRouteActions());
  const { handleInstalled } = await import("../pipeline/privacy.server");
  for (const shop of [SHOP, OTHER, SAMPLE_SHOP]) await handleInstalled(db.prisma, shop);
});
afterAll(async () => {
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

describe("webhook routes", () => {
  it("a bad signature answers 401 and stores nothing, on every topic", async () => {
    for (const topic of Object.keys(actions)) {
      const response = await call(topic, fixture("orders-create-web"), { secret: "not-the-secret" });
      expect(response.status, topic).toBe(401);
    }
    expect(await db.prisma.webhookReceipt.count()).toBe(0);
    expect(await db.prisma.event.count()).toBe(0);
  });

  it("orders/create is recorded within the request and deduplicated on X-Shopify-Event-Id", async () => {
    const first = await call("orders/create", fixture("orders-create-web"), { eventId: "e-1" });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ outcome: "paused" }); // no pixel connected yet
    const again = await call("orders/create", fixture("orders-create-web"), { eventId: "e-1" });
    expect(await again.json()).toMatchObject({ outcome: "duplicate" });
    const paid = await call("orders/paid", fixture("orders-paid-web"), { eventId: "e-2" });
    expect(await paid.json()).toMatchObject({ outcome: "duplicate" });
    expect(await db.prisma.event.count({ where: { shop: SHOP } })).toBe(1);
    expect(await db.prisma.webhookReceipt.count({ where: { shop: SHOP } })).toBe(2);
  });

  it("an unreadable order is answered 200 (Shopify must not retry it forever) with the reason recorded", async () => {
    const response = await call("orders/create", { id: "not-a-number" }, { eventId: "e-3" });
    expect(response.status).toBe(200);
    const receipt = await db.prisma.webhookReceipt.findFirstOrThrow({ where: { shop: SHOP, dedupeKey: "e-3" } });
    expect(receipt.outcome).toBe("invalid");
    expect(receipt.reason).toMatch(/payload/);
  });

  it("a signed body that is not JSON answers 400 and stores nothing", async () => {
    const body = "{not json";
    const { webhookHeaders } = await import("../../test/support/shopify-webhooks");
    const headers = webhookHeaders(
      { topic: "orders/create", shop: SHOP, payload: undefined, secret: SECRET, eventId: "e-nojson" },
      body,
    );
    const request = new Request("https://app.example.com/webhooks/orders/create", { method: "POST", headers, body });
    const response = await actions["orders/create"]!({ request, params: {}, context: {} });
    expect(response.status).toBe(400);
    expect(await db.prisma.webhookReceipt.count({ where: { dedupeKey: "e-nojson" } })).toBe(0);
  });

  it("a value PostgreSQL cannot store (a NUL character) is answered 200 and recorded as invalid, not retried for ever", async () => {
    const order = fixture("orders-create-web");
    const response = await call(
      "orders/create",
      { ...order, id: 5_550_001, client_details: { ...order.client_details, user_agent: "Mozilla/5.0\u0000" } },
      { eventId: "e-nul" },
    );
    expect(response.status).toBe(200);
    const receipt = await db.prisma.webhookReceipt.findFirstOrThrow({ where: { shop: SHOP, dedupeKey: "e-nul" } });
    expect(receipt.outcome).toBe("invalid");
    expect(receipt.reason).toMatch(/cannot store/);
  });

  it("customers/data_request stores a report of hashed data only; customers/redact deletes that customer's events", async () => {
    const order = fixture("orders-create-web");
    const customer = { id: order.customer.id, email: order.customer.email };
    const answer = await (
      await call("customers/data_request", { shop_domain: SHOP, customer, orders_requested: [order.id] })
    ).json();
    const stored = await db.prisma.dataRequest.findUniqueOrThrow({ where: { id: answer.dataRequest } });
    expect(stored.shop).toBe(SHOP);
    const report = stored.report as { events: unknown[] };
    expect(report.events).toHaveLength(1);
    expect(JSON.stringify(report)).not.toContain(order.customer.email.trim());
    await call("customers/redact", { shop_domain: SHOP, customer, orders_to_redact: [order.id] });
    expect(await db.prisma.event.count({ where: { shop: SHOP } })).toBe(0);
  });

  it("app/uninstalled removes the sessions and stops delivery; shop/redact deletes every row of the shop", async () => {
    await db.prisma.session.create({ data: { id: `offline_${SHOP}`, shop: SHOP, state: "s", accessToken: "shpat_x" } });
    await db.prisma.destination.create({
      data: {
        id: crypto.randomUUID(),
        shop: SHOP,
        pixelId: "123456789",
        accessTokenEnc: "v1.x.y.z",
        tokenFingerprint: "f",
      },
    });
    const pos = fixture("orders-create-pos");
    await call("orders/create", pos, { eventId: "e-4" });
    // Another shop's order: ids are global, so another one.
    await call(
      "orders/create",
      { ...pos, id: pos.id + 1, admin_graphql_api_id: `gid://shopify/Order/${pos.id + 1}` },
      { eventId: "e-5", shop: OTHER },
    );
    await call("app/uninstalled", { domain: SHOP });
    expect(await db.prisma.session.count({ where: { shop: SHOP } })).toBe(0);
    expect((await db.prisma.destination.findFirstOrThrow({ where: { shop: SHOP } })).pausedAt).not.toBeNull();
    await call("shop/redact", { shop_domain: SHOP });
    for (const count of [
      db.prisma.event.count({ where: { shop: SHOP } }),
      db.prisma.webhookReceipt.count({ where: { shop: SHOP } }),
      db.prisma.destination.count({ where: { shop: SHOP } }),
    ]) {
      expect(await count).toBe(0);
    }
    expect(await db.prisma.event.count({ where: { shop: OTHER } })).toBe(1);
  });

  it("Shopify's documented order (ids above 2^53) is stored under its exact ids with its notes, and redacted by the exact customer id", async () => {
    const { webhookHeaders } = await import("../../test/support/shopify-webhooks");
    const { shopifyFixtureText } = await import("../../test/support/fixtures");
    const { sha256Hex } = await import("../meta/user-data");
    const shop = SAMPLE_SHOP;
    const post = (topic: string, body: string, eventId: string) => {
      const headers = webhookHeaders({ topic, shop, payload: undefined, secret: SECRET, eventId }, body);
      return actions[topic]!({
        request: new Request(`https://app.example.com/webhooks/${topic}`, { method: "POST", headers, body }),
        params: {},
        context: {},
      });
    };
    // The sample as a live order would be: not a test, not cancelled, paid. Sent as text: the
    // signature covers these very bytes.
    const order = shopifyFixtureText("shopify-sample-orders-create")
      .replace(/"cancelled_at": "[^"]*"/, '"cancelled_at": null')
      .replace('"financial_status": "voided"', '"financial_status": "paid"')
      .replace('"test": true', '"test": false');
    const response = await post("orders/create", order, "e-sample");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ outcome: "paused" });
    const rows = await db.prisma.$queryRaw<Array<Record<string, unknown>>>`
      SELECT "eventId", "customerHash", "notes", "payload"->'custom_data'->>'order_id' AS "orderId",
             "payload"->'custom_data'->'content_ids' AS "contentIds"
      FROM "Event" WHERE "shop" = ${shop}`;
    expect(rows).toEqual([
      {
        eventId: "820982911946154508",
        orderId: "820982911946154508",
        contentIds: ["788032119674292922", "LENS-PROTECT-2YR", "CASE-LEATHER-PREM"],
        customerHash: sha256Hex("115310627314723954"),
        notes: [{ code: "no_user_agent", message: expect.stringMatching(/app embed/) }],
      },
    ]);
    // customers/redact names the customer by the same 18-digit id, as a JSON number.
    await post(
      "customers/redact",
      `{"shop_domain":"${shop}","customer":{"id":115310627314723954},"orders_to_redact":[]}`,
      "e-sample-redact",
    );
    expect(await db.prisma.event.count({ where: { shop } })).toBe(0);
  });

  it("an order Shopify delivers 9 days after triggering it is recorded as expired on arrival, with the reason, and never queued", async () => {
    // The order itself reads as placed just now (the fixture is dated from today's clock):
    // only the delivery's X-Shopify-Triggered-At tells that Meta would refuse it.
    const shop = "late-delivery.myshopify.com";
    const { handleInstalled } = await import("../pipeline/privacy.server");
    await handleInstalled(db.prisma, shop);
    const order = atShop(shopifyFixture("orders-create-web"), shop);
    const triggeredAt = new Date(Date.now() - 9 * 86_400_000 - 60_000).toISOString();
    const response = await call("orders/create", order, { eventId: "e-late", triggeredAt, shop });
    expect(response.status).toBe(200);
    const reason =
      "Shopify delivered this webhook 9 days after it was triggered: Meta accepts events up to 7 days old, so it was never sent";
    expect(await response.json()).toEqual({ outcome: "expired", reason });
    const receipt = await db.prisma.webhookReceipt.findFirstOrThrow({ where: { shop, dedupeKey: "e-late" } });
    expect(receipt).toMatchObject({ outcome: "expired", reason, triggeredAt: new Date(triggeredAt) });
    const event = await db.prisma.event.findFirstOrThrow({ where: { shop, eventId: String(order.id) } });
    expect(event).toMatchObject({ state: "expired", reasonCode: "event_too_old", reason, attempts: 0 });
  });
});
