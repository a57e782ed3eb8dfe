// Reconciliation against the real PostgreSQL of this machine, with an Admin API stand-in that
// answers the orders and abandoned-checkouts queries as Shopify's GraphQL does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECORDED_NOW, shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { prepareEvent } from "../events/prepare";
import { DEFAULT_SETTINGS } from "../events/settings";
import { NO_CHECKOUT_TOKEN_REASON } from "../shopify/admin-checkouts";
import { AdminGraphqlError } from "../shopify/admin-graphql";
import { graphqlOrderSchema, graphqlOrderToPayload } from "../shopify/admin-orders";
import { ingestWebhook } from "./ingest.server";
import { META_WINDOW_MS, ReconcileError, reconcileShop, type AdminGraphql } from "./reconcile.server";

// A pinned clock (the Admin API answers below are dated against it), with the fixtures as recorded.
const NOW = RECORDED_NOW;
let db: TestDatabase;

const fixture = (name: string) => shopifyFixture(name, { asRecorded: true });
const money = (amount: string, currencyCode = "USD") => ({
  shopMoney: { amount, currencyCode },
  presentmentMoney: { amount, currencyCode },
});

const graphqlOrder = (id: number, overrides: Record<string, unknown> = {}) => ({
  id: `gid://shopify/Order/${id}`,
  name: `#${id}`,
  createdAt: "2026-11-21T09:00:00Z",
  processedAt: "2026-11-21T09:00:00Z",
  email: "late.buyer@example.com",
  phone: null,
  test: false,
  sourceName: "web",
  statusPageUrl: `https://reconcile.myshopify.com/1/orders/${id}/authenticate?key=secret`,
  clientIp: "203.0.113.9",
  displayFinancialStatus: "PAID",
  currencyCode: "USD",
  presentmentCurrencyCode: "USD",
  totalPriceSet: money("42.00"),
  subtotalPriceSet: money("40.00"),
  checkoutToken: `checkouttoken${id}`,
  cartToken: `carttoken${id}`,
  customer: {
    id: "gid://shopify/Customer/99",
    email: "late.buyer@example.com",
    phone: null,
    firstName: "Late",
    lastName: "Buyer",
  },
  billingAddress: {
    firstName: "Late",
    lastName: "Buyer",
    city: "Austin",
    province: "Texas",
    provinceCode: "TX",
    zip: "73301",
    countryCodeV2: "US",
    phone: "(512) 555-0100",
  },
  shippingAddress: null,
  customAttributes: [
    { key: "_fbp", value: "fb.1.1795250000000.1234567890" },
    { key: "_capi_ua", value: "Mozilla/5.0 (iPhone) Safari/604.1" },
  ],
  customerJourneySummary: {
    firstVisit: { landingPage: "https://reconcile.myshopify.com/?fbclid=IwAR_late_click_123" },
  },
  lineItems: {
    nodes: [
      {
        quantity: 2,
        sku: "SOCK",
        title: "Socks",
        variant: { id: "gid://shopify/ProductVariant/111" },
        product: { id: "gid://shopify/Product/11" },
        originalUnitPriceSet: money("20.00"),
      },
    ],
  },
  ...overrides,
});

/** The Admin API's GraphQL order for a REST webhook fixture: the same order read the other way. */
function graphqlOrderFromRest(rest: any) {
  const bag = (set: any) =>
    set && {
      shopMoney: { amount: set.shop_money.amount, currencyCode: set.shop_money.currency_code },
      presentmentMoney: { amount: set.presentment_money.amount, currencyCode: set.presentment_money.currency_code },
    };
  const address = (a: any) =>
    a && {
      firstName: a.first_name,
      lastName: a.last_name,
      city: a.city,
      province: a.province,
      provinceCode: a.province_code,
      zip: a.zip,
      countryCodeV2: a.country_code,
      phone: a.phone,
    };
  return {
    id: `gid://shopify/Order/${rest.id}`,
    name: rest.name,
    createdAt: rest.created_at,
    processedAt: rest.processed_at,
    email: rest.email,
    phone: rest.phone,
    test: rest.test,
    sourceName: rest.source_name,
    statusPageUrl: rest.order_status_url,
    clientIp: rest.client_details?.browser_ip ?? null,
    displayFinancialStatus: String(rest.financial_status).toUpperCase(),
    currencyCode: rest.currency,
    presentmentCurrencyCode: rest.presentment_currency,
    totalPriceSet: bag(rest.total_price_set),
    subtotalPriceSet: bag(rest.subtotal_price_set),
    checkoutToken: rest.checkout_token,
    cartToken: rest.cart_token,
    customer: rest.customer && {
      id: `gid://shopify/Customer/${rest.customer.id}`,
      email: rest.customer.email,
      phone: rest.customer.phone,
      firstName: rest.customer.first_name,
      lastName: rest.customer.last_name,
    },
    billingAddress: address(rest.billing_address),
    shippingAddress: address(rest.shipping_address),
    customAttributes: rest.note_attributes.map((a: any) => ({ key: a.name, value: a.value })),
    customerJourneySummary: { firstVisit: { landingPage: rest.landing_site } },
    lineItems: {
      nodes: rest.line_items.map((li: any) => ({
        quantity: li.quantity,
        sku: li.sku,
        title: li.title,
        variant: li.variant_id ? { id: `gid://shopify/ProductVariant/${li.variant_id}` } : null,
        product: li.product_id ? { id: `gid://shopify/Product/${li.product_id}` } : null,
        originalUnitPriceSet: bag(li.price_set),
      })),
    },
  };
}

const abandoned = (id: number, overrides: Record<string, unknown> = {}) => ({
  id: `gid://shopify/AbandonedCheckout/${id}`,
  createdAt: "2026-11-21T08:00:00Z",
  completedAt: null,
  abandonedCheckoutUrl: `https://reconcile.myshopify.com/78901234567/checkouts/ac/cart${id}/recover?key=k${id}&locale=en-US`,
  ...overrides,
});

type Call = { query: string; variables: Record<string, unknown> };

/** An Admin API stand-in: pages of order nodes and of abandoned-checkout nodes, or a refusal. */
function adminApi(pages: {
  orders?: unknown[][];
  abandoned?: unknown[][];
  refuseAbandoned?: boolean;
  refuseOrders?: boolean;
}): AdminGraphql & { calls: Call[] } {
  const calls: Call[] = [];
  const refusal = (field: string) => ({
    errors: [{ message: `Access denied for ${field} field.`, extensions: { code: "ACCESS_DENIED" } }],
  });
  const connection = (list: unknown[][], variables: Record<string, unknown>) => {
    const index = variables.after ? Number(variables.after) : 0;
    return {
      pageInfo: { hasNextPage: index + 1 < list.length, endCursor: String(index + 1) },
      nodes: list[index] ?? [],
    };
  };
  const fn = async (query: string, variables: Record<string, unknown>) => {
    calls.push({ query, variables });
    if (query.includes("abandonedCheckouts(")) {
      if (pages.refuseAbandoned) return refusal("abandonedCheckouts");
      return { data: { abandonedCheckouts: connection(pages.abandoned ?? [[]], variables) } };
    }
    if (pages.refuseOrders) return refusal("orders");
    return { data: { orders: connection(pages.orders ?? [[]], variables) } };
  };
  return Object.assign(fn, { calls });
}

const events = (shop: string) =>
  db.prisma.event.findMany({ where: { shop }, orderBy: [{ eventName: "asc" }, { eventId: "asc" }] });

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("reconcileShop: orders", () => {
  it("delivers late the orders whose webhook never came, and their checkouts, once", async () => {
    const shop = "orders.myshopify.com";
    // Order 1 arrived as a webhook; orders 2 and 3 did not. No checkouts/create came at all.
    await ingestWebhook(
      { prisma: db.prisma },
      {
        shop,
        topic: "orders/create",
        webhookId: "w1",
        payload: graphqlOrderToPayload(graphqlOrderSchema.parse(graphqlOrder(1))),
      },
      NOW,
    );
    const bad = { id: "gid://shopify/Order/bad" };
    const api = adminApi({
      orders: [
        [graphqlOrder(1), graphqlOrder(2), bad],
        [graphqlOrder(3), bad],
      ],
    });
    const report = await reconcileShop({ prisma: db.prisma, graphql: api }, shop, NOW);
    expect(report).toMatchObject({
      seen: 5,
      recovered: 2,
      unreadable: 2,
      checkouts: { fromOrders: 3, recovered: 3, abandoned: 0 },
    });
    expect(api.calls.filter((c) => c.query.includes("orders("))).toHaveLength(2);

    const rows = await events(shop);
    expect(rows.map((e) => `${e.eventName} ${e.eventId}`)).toEqual([
      "InitiateCheckout checkouttoken1",
      "InitiateCheckout checkouttoken2",
      "InitiateCheckout checkouttoken3",
      "Purchase 1",
      "Purchase 2",
      "Purchase 3",
    ]);
    const purchase = rows.find((e) => e.eventId === "2")!.payload as any;
    expect(purchase.user_data.client_user_agent).toBe("Mozilla/5.0 (iPhone) Safari/604.1");
    expect(purchase.user_data.fbc).toMatch(/^fb\.1\.\d+\.IwAR_late_click_123$/);
    expect(purchase.event_source_url).not.toContain("key=");

    const checkout = rows.find((e) => e.eventId === "checkouttoken2")!;
    expect(checkout.topic).toBe("checkouts/create");
    expect(checkout.payload).toMatchObject({
      event_name: "InitiateCheckout",
      event_id: "checkouttoken2",
      action_source: "website",
      event_source_url: "https://orders.myshopify.com/checkout",
      custom_data: { value: 42, currency: "USD", content_ids: ["111"], num_items: 2 },
      user_data: { client_user_agent: "Mozilla/5.0 (iPhone) Safari/604.1" },
    });
    // The order's creation stands for the checkout's start, which the Admin API does not give.
    expect(checkout.eventTime.toISOString()).toBe("2026-11-21T09:00:00.000Z");

    const again = await reconcileShop(
      { prisma: db.prisma, graphql: adminApi({ orders: [[graphqlOrder(1), graphqlOrder(2)], [graphqlOrder(3)]] }) },
      shop,
      NOW,
    );
    expect(again).toMatchObject({ recovered: 0, checkouts: { fromOrders: 3, recovered: 0 } });
    expect(await db.prisma.event.count({ where: { shop } })).toBe(6);
  });

  it("builds the InitiateCheckout the checkouts/create webhook would have built: same event_id as the browser, same buyer", async () => {
    const shop = "northwind-woolens-demo.myshopify.com";
    const restOrder = fixture("orders-create-web");
    const restCheckout = fixture("checkouts-create");
    await reconcileShop(
      { prisma: db.prisma, graphql: adminApi({ orders: [[graphqlOrderFromRest(restOrder)]] }) },
      shop,
      NOW,
    );

    // No pixel connected: the one copy waits for the first.
    const recovered = await db.prisma.event.findUniqueOrThrow({
      where: {
        shop_destinationId_eventName_eventId: {
          shop,
          destinationId: "",
          eventName: "InitiateCheckout",
          eventId: restCheckout.token,
        },
      },
    });
    const fromWebhook = prepareEvent("checkouts/create", restCheckout, DEFAULT_SETTINGS, {
      shop,
      nowSeconds: Math.floor(NOW.getTime() / 1000),
    });
    if (fromWebhook.status !== "ready") throw new Error(`fixture not ready: ${fromWebhook.status}`);
    const payload = recovered.payload as any;
    // The web pixel's checkout.token = the order's checkout_token = the checkout's token.
    expect(payload.event_id).toBe(restOrder.checkout_token);
    expect(payload.event_id).toBe(fromWebhook.event.event_id);
    expect(payload.user_data).toEqual(fromWebhook.event.user_data);
    expect(payload.custom_data.content_ids).toEqual(fromWebhook.event.custom_data?.content_ids);
    // Checkout totals come before tax and shipping; the order's are final: value differs, currency does not.
    expect(payload.custom_data.currency).toBe(fromWebhook.event.custom_data?.currency);

    // The webhook arriving after all is the same event: the natural key keeps one.
    const late = await ingestWebhook(
      { prisma: db.prisma },
      { shop, topic: "checkouts/create", webhookId: "late-checkout", payload: restCheckout },
      NOW,
    );
    expect(late.outcome).toBe("duplicate");
    expect(await db.prisma.event.count({ where: { shop, eventName: "InitiateCheckout" } })).toBe(1);
  });

  it("sends no InitiateCheckout for a checkout whose webhook came, a test order, or an order from no checkout", async () => {
    const shop = "held.myshopify.com";
    const restCheckout = fixture("checkouts-create");
    await ingestWebhook(
      { prisma: db.prisma },
      { shop, topic: "checkouts/create", webhookId: "c1", payload: restCheckout },
      NOW,
    );
    const api = adminApi({
      orders: [
        [
          graphqlOrder(10, { checkoutToken: restCheckout.token }),
          graphqlOrder(11, { test: true }),
          graphqlOrder(12, { checkoutToken: null, sourceName: "pos" }),
        ],
      ],
    });
    const report = await reconcileShop({ prisma: db.prisma, graphql: api }, shop, NOW);
    expect(report.checkouts).toMatchObject({ fromOrders: 1, recovered: 0 });
    const checkouts = await db.prisma.event.findMany({ where: { shop, eventName: "InitiateCheckout" } });
    expect(checkouts.map((e) => e.eventId)).toEqual([restCheckout.token]);
  });

  it("reads nothing older than Meta's 7-day window, whatever the lookback asked", async () => {
    const api = adminApi({});
    await reconcileShop({ prisma: db.prisma, graphql: api }, "window.myshopify.com", NOW, 30 * 24 * 3600_000);
    const bound = new Date(NOW.getTime() - META_WINDOW_MS).toISOString();
    expect(META_WINDOW_MS).toBe(7 * 24 * 3600_000);
    expect(api.calls.map((c) => c.variables.query)).toEqual([`created_at:>='${bound}'`, `created_at:>='${bound}'`]);
  });

  it("says what Shopify refused instead of failing on the answer's shape", async () => {
    const failure = reconcileShop(
      { prisma: db.prisma, graphql: adminApi({ refuseOrders: true }) },
      "refused.myshopify.com",
      NOW,
    );
    await expect(failure).rejects.toBeInstanceOf(AdminGraphqlError);
    await expect(failure).rejects.toThrow("Access denied for orders field.");
  });
});

describe("reconcileShop: abandoned checkouts", () => {
  it("knows held checkouts by their recovery path, leaves completed ones to their order, and records the rest as not sendable", async () => {
    const shop = "abandoned.myshopify.com";
    const restCheckout = fixture("checkouts-create");
    await ingestWebhook(
      { prisma: db.prisma },
      { shop, topic: "checkouts/create", webhookId: "c-held", payload: restCheckout },
      NOW,
    );
    // The same checkout as the Admin API lists it: another domain and key, the same path.
    const heldPath = new URL(restCheckout.abandoned_checkout_url).pathname;
    const nodes = [
      abandoned(restCheckout.id, {
        createdAt: "2026-11-20T15:09:12Z",
        abandonedCheckoutUrl: `https://shop.example.com${heldPath}?key=another&locale=en-US`,
      }),
      abandoned(601, { completedAt: "2026-11-21T08:20:00Z" }),
      abandoned(602),
      { id: "gid://shopify/AbandonedCheckout/unreadable" },
    ];
    const api = adminApi({ abandoned: [nodes, [abandoned(603)]] });
    const report = await reconcileShop({ prisma: db.prisma, graphql: api }, shop, NOW);
    expect(report.checkouts).toEqual({
      fromOrders: 0,
      recovered: 0,
      abandoned: 5,
      held: 1,
      completed: 1,
      withoutToken: 2,
      unreadable: 1,
    });

    const receipts = await db.prisma.webhookReceipt.findMany({
      where: { shop, webhookId: { startsWith: "reconcile:" } },
      orderBy: { webhookId: "asc" },
    });
    expect(
      receipts.map((r) => ({ topic: r.topic, webhookId: r.webhookId, outcome: r.outcome, reason: r.reason })),
    ).toEqual([
      {
        topic: "checkouts/create",
        webhookId: "reconcile:abandoned:602",
        outcome: "held_back",
        reason: NO_CHECKOUT_TOKEN_REASON,
      },
      {
        topic: "checkouts/create",
        webhookId: "reconcile:abandoned:603",
        outcome: "held_back",
        reason: NO_CHECKOUT_TOKEN_REASON,
      },
    ]);
    // Nothing is sent under an id the browser never used.
    expect((await events(shop)).map((e) => `${e.eventName} ${e.eventId}`)).toEqual([
      `InitiateCheckout ${restCheckout.token}`,
    ]);

    // Every run reports them; each is recorded once.
    const again = await reconcileShop(
      { prisma: db.prisma, graphql: adminApi({ abandoned: [nodes, [abandoned(603)]] }) },
      shop,
      NOW,
    );
    expect(again.checkouts.withoutToken).toBe(2);
    expect(await db.prisma.webhookReceipt.count({ where: { shop, webhookId: { startsWith: "reconcile:" } } })).toBe(2);
  });

  it("keeps what the orders recovered when the abandoned checkouts are refused, and says so", async () => {
    const shop = "partial.myshopify.com";
    const failure = reconcileShop(
      { prisma: db.prisma, graphql: adminApi({ orders: [[graphqlOrder(21)]], refuseAbandoned: true }) },
      shop,
      NOW,
    );
    await expect(failure).rejects.toBeInstanceOf(ReconcileError);
    const error = (await failure.catch((e: unknown) => e)) as ReconcileError;
    expect(error.message).toContain("1 Purchase and 1 InitiateCheckout recovered");
    expect(error.message).toContain("Access denied for abandonedCheckouts field.");
    expect(error.report).toMatchObject({ recovered: 1, checkouts: { recovered: 1 } });
    expect(await db.prisma.event.count({ where: { shop } })).toBe(2);
  });
});
