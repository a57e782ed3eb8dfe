import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { ingestWebhook } from "./ingest.server";
import { reconcileShop, type AdminGraphql } from "./reconcile.server";

const NOW = new Date("2026-11-21T12:00:00Z");
const SHOP = "reconcile.myshopify.com";
let db: TestDatabase;

const money = (amount: string, currencyCode = "USD") => ({ shopMoney: { amount, currencyCode }, presentmentMoney: { amount, currencyCode } });
const graphqlOrder = (id: number) => ({
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
  customer: { id: "gid://shopify/Customer/99", email: "late.buyer@example.com", phone: null, firstName: "Late", lastName: "Buyer" },
  billingAddress: { firstName: "Late", lastName: "Buyer", city: "Austin", province: "Texas", provinceCode: "TX", zip: "73301", countryCodeV2: "US", phone: "(512) 555-0100" },
  shippingAddress: null,
  customAttributes: [{ key: "_fbp", value: "fb.1.1795250000000.1234567890" }, { key: "_capi_ua", value: "Mozilla/5.0 (iPhone) Safari/604.1" }],
  customerJourneySummary: { firstVisit: { landingPage: "https://reconcile.myshopify.com/?fbclid=IwAR_late_click_123" } },
  lineItems: { nodes: [{ quantity: 2, sku: "SOCK", title: "Socks", variant: { id: "gid://shopify/ProductVariant/111" }, product: { id: "gid://shopify/Product/11" }, originalUnitPriceSet: money("20.00") }] },
});

/** An Admin API stand-in answering two pages of orders. */
function adminApi(pages: number[][]): AdminGraphql & { calls: number } {
  let calls = 0;
  const fn = async (_query: string, variables: Record<string, unknown>) => {
    const index = variables.after ? Number(variables.after) : 0;
    calls++;
    fn.calls = calls;
    return {
      data: {
        orders: {
          pageInfo: { hasNextPage: index + 1 < pages.length, endCursor: String(index + 1) },
          nodes: [...pages[index]!.map(graphqlOrder), { id: "gid://shopify/Order/bad" }],
        },
      },
    };
  };
  fn.calls = 0;
  return fn;
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("reconcileShop", () => {
  it("delivers late the orders whose webhook never came, once", async () => {
    // Order 1 arrived as a webhook; orders 2 and 3 did not.
    const { graphqlOrderToPayload, graphqlOrderSchema } = await import("../shopify/admin-orders");
    await ingestWebhook({ prisma: db.prisma }, { shop: SHOP, topic: "orders/create", webhookId: "w1", payload: graphqlOrderToPayload(graphqlOrderSchema.parse(graphqlOrder(1))) }, NOW);
    const api = adminApi([[1, 2], [3]]);
    const report = await reconcileShop({ prisma: db.prisma, graphql: api }, SHOP, NOW);
    expect(report).toEqual({ seen: 5, recovered: 2, unreadable: 2 });
    expect(api.calls).toBe(2);
    const events = await db.prisma.event.findMany({ where: { shop: SHOP }, orderBy: { eventId: "asc" } });
    expect(events.map((e) => e.eventId)).toEqual(["1", "2", "3"]);
    const payload = events[1]!.payload as any;
    expect(payload.user_data.client_user_agent).toBe("Mozilla/5.0 (iPhone) Safari/604.1");
    expect(payload.user_data.fbc).toMatch(/^fb\.1\.\d+\.IwAR_late_click_123$/);
    expect(payload.event_source_url).not.toContain("key=");

    const again = await reconcileShop({ prisma: db.prisma, graphql: adminApi([[1, 2], [3]]) }, SHOP, NOW);
    expect(again.recovered).toBe(0);
    expect(await db.prisma.event.count({ where: { shop: SHOP } })).toBe(3);
  });
});
