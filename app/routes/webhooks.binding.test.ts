// Webhooks bound to their shop, through the signed routes, against the real PostgreSQL and
// Redis. Shopify's signature covers the body only: a body signed for shop A and sent under
// shop B's header must be refused on every topic, with B's data untouched. Also: shops that
// never installed, the recorded shop id, late uninstalls, and the compliance webhooks matching
// every identifier we hold (email hash arrays, phones, orders and their checkouts).
import { randomBytes } from "node:crypto";
import type { ActionFunctionArgs } from "@remix-run/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { atShop, shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";
import { signedWebhookRequest, webhookRouteActions } from "../../test/support/shopify-webhooks";
import { hashValue } from "../meta/user-data";
import type { DataRequestReport } from "../pipeline/privacy.server";

const SECRET = "binding-test-secret";
const A = "binding-a.myshopify.com";
const B = "binding-b.myshopify.com";
const key = randomBytes(32);
const TOPICS = [
  "orders/create",
  "orders/paid",
  "checkouts/create",
  "app/uninstalled",
  "customers/data_request",
  "customers/redact",
  "shop/redact",
];

type Action = (args: ActionFunctionArgs) => Promise<Response>;
let db: TestDatabase;
const actions: Record<string, Action> = {};
let privacy: typeof import("../pipeline/privacy.server");
let counter = 0;

async function call(
  topic: string,
  shop: string,
  payload: unknown,
  options: { eventId?: string; triggeredAt?: string } = {},
) {
  const request = signedWebhookRequest("https://app.example.com", {
    topic,
    shop,
    payload,
    secret: SECRET,
    eventId: options.eventId ?? `ev-${++counter}`,
    triggeredAt: options.triggeredAt,
  });
  const response = await actions[topic]!({ request, params: {}, context: {} });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as { outcome?: string; reason?: string; dataRequest?: string }) : {},
  };
}

/** An order of `shop` with an id of its own (Shopify's ids are global), placed a few minutes ago. */
function order(
  shop: string,
  id: number,
  change: (o: Record<string, any>) => Record<string, any> = (o) => o,
  name = "orders-create-web",
) {
  const o = atShop(shopifyFixture(name), shop);
  return change({ ...o, id, admin_graphql_api_id: `gid://shopify/Order/${id}`, checkout_token: `ct-${id}` });
}

/** Every row of a shop, to show that a refused webhook changed nothing. */
async function snapshot(shop: string) {
  return {
    events: await db.prisma.event.findMany({
      where: { shop },
      orderBy: { id: "asc" },
      select: { eventId: true, state: true, reason: true },
    }),
    destination: await db.prisma.destination.findFirst({
      where: { shop },
      select: { pausedAt: true, pauseReason: true },
    }),
    sessions: await db.prisma.session.count({ where: { shop } }),
    shop: await db.prisma.shop.findUnique({ where: { shop }, select: { uninstalledAt: true, shopifyId: true } }),
    dataRequests: await db.prisma.dataRequest.count({ where: { shop } }),
    handled: await db.prisma.webhookReceipt.count({ where: { shop, outcome: { not: "refused" } } }),
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  Object.assign(process.env, {
    SHOPIFY_API_SECRET: SECRET,
    SHOPIFY_API_KEY: "test-key",
    DATABASE_URL: db.url,
    REDIS_URL,
    NODE_ENV: "test",
    ENCRYPTION_KEY: key.toString("hex"),
  });
  Object.assign(actions, await webhookRouteActions());
  // app_subscriptions/update names its shop by id only: its replay is refused in its own test below.
  expect(Object.keys(actions).sort()).toEqual([...TOPICS, "app_subscriptions/update"].sort());
  privacy = await import("../pipeline/privacy.server");
});
afterAll(async () => {
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

describe("a body signed for shop A, sent under shop B's header", () => {
  beforeAll(async () => {
    const { saveDestination } = await import("../pipeline/destinations.server");
    for (const [shop, pixelId, n] of [
      [A, "6100000001", 1],
      [B, "6100000002", 2],
    ] as const) {
      await privacy.handleInstalled(db.prisma, shop);
      await db.prisma.session.create({ data: { id: `offline_${shop}`, shop, state: "s", accessToken: "shpat_x" } });
      await saveDestination(db.prisma, shop, { pixelId, accessToken: `EAAbinding-${n}-0123456789abcdef` }, key);
      // Both shops hold an order of the same buyer (the fixture's customer), each its own id.
      expect((await call("orders/create", shop, order(shop, 7_000_000 + n))).body.outcome).toBe("queued");
    }
  });

  // What A's own webhooks would be, each posted under B's header.
  const bodiesOfA = (): Array<[string, unknown]> => {
    const customer = { id: 7012345678901, email: "jane.doe@example.com", phone: null };
    return [
      ["orders/create", order(A, 7_100_001)],
      ["orders/paid", order(A, 7_100_002, (o) => ({ ...o, financial_status: "paid" }))],
      ["checkouts/create", atShop(shopifyFixture("checkouts-create"), A)],
      ["app/uninstalled", { id: 901, name: "A", domain: "www.binding-a.example", myshopify_domain: A }],
      [
        "customers/data_request",
        { shop_id: 901, shop_domain: A, customer, orders_requested: [7_000_002], data_request: { id: 55 } },
      ],
      ["customers/redact", { shop_id: 901, shop_domain: A, customer, orders_to_redact: [7_000_002] }],
      ["shop/redact", { shop_id: 901, shop_domain: A }],
    ];
  };

  it.each(TOPICS)("%s is refused (400) with the reason recorded, and B's data is untouched", async (topic) => {
    const before = await snapshot(B);
    const body = bodiesOfA().find(([t]) => t === topic)![1];
    const answer = await call(topic, B, body, { eventId: `replay-${topic}` });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      outcome: "refused",
      reason: expect.stringMatching(/binding-a.*not binding-b/),
    });
    expect(await snapshot(B)).toEqual(before);
    const receipt = await db.prisma.webhookReceipt.findUniqueOrThrow({
      where: { shop_topic_dedupeKey: { shop: B, topic, dedupeKey: `refused:replay-${topic}` } },
    });
    expect(receipt).toMatchObject({ outcome: "refused", reason: answer.body.reason });
  });

  it("A's plan cancellation under B's header is refused by its shop id, and B's delivery is untouched", async () => {
    const { shopifyId } = await db.prisma.shop.findUniqueOrThrow({ where: { shop: B } });
    await db.prisma.shop.update({ where: { shop: B }, data: { shopifyId: "902" } });
    const before = await snapshot(B);
    const body = {
      app_subscription: {
        admin_graphql_api_id: "gid://shopify/AppSubscription/901001",
        name: "Growth",
        status: "CANCELLED",
        admin_graphql_api_shop_id: "gid://shopify/Shop/901",
      },
    };
    const answer = await call("app_subscriptions/update", B, body, { eventId: "replay-subscription" });
    expect(answer).toMatchObject({ status: 400, body: { outcome: "refused" } });
    expect(answer.body.reason).toMatch(/shop id 901, not this shop's \(902\)/);
    expect(await snapshot(B)).toEqual(before);
    expect(await db.prisma.shopBilling.count({ where: { shop: B } })).toBe(0);
    await db.prisma.shop.update({ where: { shop: B }, data: { shopifyId } });
  });

  it("B's own webhook under the replayed delivery's ids is still taken (a refusal never makes it a duplicate)", async () => {
    const answer = await call("orders/create", B, order(B, 7_200_002), { eventId: "replay-orders/create" });
    expect(answer).toMatchObject({ status: 200, body: { outcome: "queued" } });
  });

  it("an order naming no shop (no status link) whose id A holds is refused under B: Shopify's ids are global", async () => {
    const before = await snapshot(B);
    const pos = order(A, 7_000_001, (o) => ({ ...o, order_status_url: null }));
    const answer = await call("orders/create", B, pos, { eventId: "replay-held-id" });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      outcome: "refused",
      reason: expect.stringMatching(/7000001 is held for another shop/),
    });
    expect(await snapshot(B)).toEqual(before);
    expect(
      await db.prisma.webhookReceipt.findUniqueOrThrow({
        where: { shop_topic_dedupeKey: { shop: B, topic: "orders/create", dedupeKey: "refused:replay-held-id" } },
      }),
    ).toMatchObject({
      outcome: "refused",
    });
    // A's copy of it is A's own redelivery: a duplicate, as before.
    expect((await call("orders/create", A, pos)).body.outcome).toBe("duplicate");
  });

  it("the same bodies under A's own header are acted on", async () => {
    const answer = await call("customers/redact", A, bodiesOfA().find(([t]) => t === "customers/redact")![1]);
    expect(answer.status).toBe(200);
    expect(await db.prisma.event.count({ where: { shop: A, eventId: "7000001" } })).toBe(0); // the buyer's order at A
    expect(await db.prisma.event.count({ where: { shop: B, eventId: "7000002" } })).toBe(1);
    // The first bound compliance webhook recorded A's shop id; a body with another id is refused.
    expect((await db.prisma.shop.findUniqueOrThrow({ where: { shop: A } })).shopifyId).toBe("901");
    const otherId = await call("customers/redact", A, {
      shop_id: 902,
      shop_domain: A,
      customer: { id: 1 },
      orders_to_redact: [],
    });
    expect(otherId).toMatchObject({ status: 400, body: { outcome: "refused", reason: expect.stringMatching(/902/) } });
    // shop/redact while A is installed would be an old one replayed.
    expect((await call("shop/redact", A, { shop_id: 901, shop_domain: A })).status).toBe(400);
    expect(await db.prisma.destination.count({ where: { shop: A } })).toBe(1);
  });
});

describe("a shop that never installed", () => {
  const shop = "never-installed.myshopify.com";

  it("gets nothing stored: its orders are answered 400 (Shopify's retries may land after the install), its compliance webhooks 200", async () => {
    expect(await call("orders/create", shop, order(shop, 7_300_001))).toMatchObject({
      status: 400,
      body: { outcome: "refused", reason: expect.stringMatching(/not installed/) },
    });
    expect((await call("checkouts/create", shop, atShop(shopifyFixture("checkouts-create"), shop))).status).toBe(400);
    for (const [topic, body] of [
      ["customers/redact", { shop_domain: shop, customer: { id: 1 }, orders_to_redact: [] }],
      ["customers/data_request", { shop_domain: shop, customer: { id: 1 }, orders_requested: [] }],
      ["shop/redact", { shop_domain: shop }],
      ["app/uninstalled", { id: 1, myshopify_domain: shop }],
    ] as const) {
      expect(await call(topic, shop, body), topic).toMatchObject({ status: 200, body: { outcome: "ignored" } });
    }
    for (const count of [
      db.prisma.event.count({ where: { shop } }),
      db.prisma.webhookReceipt.count({ where: { shop } }),
      db.prisma.shop.count({ where: { shop } }),
      db.prisma.dataRequest.count({ where: { shop } }),
    ]) {
      expect(await count).toBe(0);
    }
  });

  it("is known from its offline session alone (installed before the app recorded installs)", async () => {
    const legacy = "session-only.myshopify.com";
    await db.prisma.session.create({
      data: { id: `offline_${legacy}`, shop: legacy, state: "s", accessToken: "shpat_x" },
    });
    // Shopify's library caches sessions for a few seconds; this one was stored before any lookup.
    expect((await call("orders/create", legacy, order(legacy, 7_300_002))).body.outcome).toBe("paused");
  });
});

describe("app/uninstalled", () => {
  it("triggered before the latest install (delivered late) is recorded and not acted on", async () => {
    const shop = "reinstalled-fast.myshopify.com";
    await privacy.handleInstalled(db.prisma, shop, new Date(Date.now() - 60_000));
    await db.prisma.session.create({ data: { id: `offline_${shop}`, shop, state: "s", accessToken: "shpat_x" } });
    const answer = await call(
      "app/uninstalled",
      shop,
      { id: 5, myshopify_domain: shop },
      { eventId: "late-uninstall", triggeredAt: new Date(Date.now() - 120_000).toISOString() },
    );
    expect(answer).toMatchObject({
      status: 200,
      body: { outcome: "ignored", reason: expect.stringMatching(/installed again/) },
    });
    expect(await db.prisma.session.count({ where: { shop } })).toBe(1);
    expect((await db.prisma.shop.findUniqueOrThrow({ where: { shop } })).uninstalledAt).toBeNull();
    expect(
      (await db.prisma.webhookReceipt.findFirstOrThrow({ where: { shop, dedupeKey: "late-uninstall" } })).outcome,
    ).toBe("ignored");
  });
});

describe("customers/redact and customers/data_request match every identifier we hold", () => {
  const shop = "gdpr.myshopify.com";
  const JANE = "Jane.Doe@Example.COM";
  // Order 1: the buyer typed another email than her account's: user_data.em is an array.
  const order1 = order(shop, 7_400_001, (o) => ({
    ...o,
    email: "jane.work@example.com",
    contact_email: "jane.work@example.com",
    customer: { ...o.customer, id: 7_400_111, admin_graphql_api_id: "gid://shopify/Customer/7400111" },
  }));
  // Its checkout, under an email typed there and never again (nothing the request names): found
  // through the order's checkout token.
  const checkout1 = {
    ...atShop(shopifyFixture("checkouts-create-no-contact"), shop),
    token: order1.checkout_token,
    email: "typo@example.net",
  };
  // Order 2: a French national phone number, hashed with the address's country.
  const order2 = order(shop, 7_400_002, (o) => o, "orders-create-france");
  // Order 3: someone else.
  const order3 = order(shop, 7_400_003, (o) => ({
    ...o,
    email: "someone@example.org",
    contact_email: null,
    phone: null,
    customer: null,
    billing_address: null,
    shipping_address: null,
  }));
  const report = async (request: Record<string, unknown>) => {
    const answer = await call("customers/data_request", shop, { shop_id: 77, shop_domain: shop, ...request });
    expect(answer.status).toBe(200);
    return (await privacy.loadDataRequest(db.prisma, shop, answer.body.dataRequest!))!;
  };
  const ids = (r: DataRequestReport) => r.events.map((e) => `${e.eventName} ${e.eventId}`);

  beforeAll(async () => {
    await privacy.handleInstalled(db.prisma, shop);
    // The shop's own country: a phone given without one is also read as French.
    await db.prisma.shop.update({ where: { shop }, data: { settings: { defaultCountry: "FR" } } });
    for (const [topic, body] of [
      ["orders/create", order1],
      ["checkouts/create", checkout1],
      ["orders/create", order2],
      ["orders/create", order3],
    ] as const) {
      const answer = await call(topic, shop, body);
      expect(answer.body.outcome, `${topic}: ${answer.body.reason}`).toBe("paused");
    }
    const stored = await db.prisma.event.findFirstOrThrow({ where: { shop, eventId: "7400001" } });
    expect((stored.payload as any).user_data.em).toHaveLength(2);
    expect(stored.checkoutToken).toBe(order1.checkout_token);
  });

  it("finds an email among the hashes of an array", async () => {
    const r = await report({ customer: { email: JANE } });
    expect(ids(r)).toEqual(["Purchase 7400001"]);
    expect(r.searchedFor.emailHashes).toEqual([hashValue("em", JANE)]);
    expect(r.identifiers.em).toEqual([hashValue("em", "jane.work@example.com"), hashValue("em", JANE)].sort());
  });

  it("finds a phone written as a national number, hashed with the shop's default country", async () => {
    const r = await report({ customer: { phone: "06 12 34 56 78" } });
    expect(ids(r)).toEqual(["Purchase 7400002"]);
    expect(r.searchedFor.phoneHashes).toContain(hashValue("ph", { value: "06 12 34 56 78", country: "FR" }));
  });

  it("finds an order and its checkout; the report holds hashes and event facts, no plaintext", async () => {
    const r = await report({ customer: { id: 1 }, orders_requested: [7_400_001], data_request: { id: 4242 } });
    expect(ids(r).sort()).toEqual([`InitiateCheckout ${order1.checkout_token}`, "Purchase 7400001"]);
    for (const e of r.events)
      expect(e).toEqual({
        eventName: expect.any(String),
        eventId: expect.any(String),
        state: "paused",
        eventTime: expect.any(String),
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
    const text = JSON.stringify(r).toLowerCase();
    for (const plain of ["jane", "doe", "06 12", "@example"]) expect(text).not.toContain(plain);
    // Shopify delivers the same request again: one report, updated.
    const again = await report({ customer: { id: 1 }, orders_requested: [7_400_001], data_request: { id: 4242 } });
    expect(again.id).toBe(r.id);
  });

  it("customers/redact deletes each of them, and the reports made for them; someone else's order stays", async () => {
    expect(await db.prisma.dataRequest.count({ where: { shop } })).toBe(3);
    const answer = await call("customers/redact", shop, {
      shop_id: 77,
      shop_domain: shop,
      customer: { id: 999, email: JANE, phone: "06 12 34 56 78" },
      orders_to_redact: [7_400_001],
    });
    expect(answer.status).toBe(200);
    const left = await db.prisma.event.findMany({ where: { shop }, select: { eventId: true } });
    expect(left.map((e) => e.eventId)).toEqual(["7400003"]);
    expect(await db.prisma.dataRequest.count({ where: { shop } })).toBe(0);
    const receipt = await db.prisma.webhookReceipt.findFirstOrThrow({ where: { shop, topic: "customers/redact" } });
    expect(receipt.reason).toBe("customer redacted: 3 event(s) and 3 data request report(s) deleted");
  });

  it("by the customer id alone: the column and user_data.external_id", async () => {
    const o = order(shop, 7_400_004);
    await call("orders/create", shop, o);
    await call("customers/redact", shop, {
      shop_id: 77,
      shop_domain: shop,
      customer: { id: o.customer.id },
      orders_to_redact: [],
    });
    expect(await db.prisma.event.count({ where: { shop, eventId: "7400004" } })).toBe(0);
  });
});
