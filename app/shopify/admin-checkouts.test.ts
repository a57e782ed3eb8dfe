// The Admin API's checkouts, read the way reconciliation needs them: which object carries the
// browser's InitiateCheckout id, and what an abandoned checkout is recognised by.
import { describe, expect, it } from "vitest";
import { checkoutSchema } from "./payloads";
import { graphqlAbandonedCheckoutSchema, graphqlOrderToCheckoutPayload, recoveryPath } from "./admin-checkouts";
import { graphqlOrderSchema } from "./admin-orders";

const money = (amount: string, currencyCode: string, presentment = amount, presentmentCode = currencyCode) => ({
  shopMoney: { amount, currencyCode },
  presentmentMoney: { amount: presentment, currencyCode: presentmentCode },
});

const order = (overrides: Record<string, unknown> = {}) =>
  graphqlOrderSchema.parse({
    id: "gid://shopify/Order/5009",
    createdAt: "2026-11-20T16:00:00Z",
    currencyCode: "USD",
    presentmentCurrencyCode: "EUR",
    totalPriceSet: money("159.00", "USD", "146.28", "EUR"),
    subtotalPriceSet: money("150.00", "USD", "138.00", "EUR"),
    checkoutToken: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    cartToken: "Z2NwLWV1cm9wZS13ZXN0NDowMUo",
    sourceName: "web",
    email: "buyer@example.nl",
    customAttributes: [{ key: "_fbp", value: "fb.1.1763650000000.1234567890" }],
    lineItems: {
      nodes: [
        {
          quantity: 3,
          sku: "BLK",
          title: "Blanket",
          variant: { id: "gid://shopify/ProductVariant/77" },
          product: { id: "gid://shopify/Product/7" },
          originalUnitPriceSet: money("53.00", "USD", "48.76", "EUR"),
        },
      ],
    },
    ...overrides,
  });

describe("graphqlOrderToCheckoutPayload", () => {
  it.each([
    [
      "an order from no online checkout (POS, draft)",
      { checkoutToken: null },
      "the order came from no online checkout",
    ],
    ["a blank token", { checkoutToken: "  " }, "the order came from no online checkout"],
    ["a Shopify test order", { test: true }, "Shopify test order"],
  ])("gives no checkout for %s", (_name, overrides, reason) => {
    expect(graphqlOrderToCheckoutPayload(order(overrides))).toEqual({ status: "none", reason });
  });

  it("gives the checkouts/create shape, the token as the checkout's, the buyer's money as a pair", () => {
    const result = graphqlOrderToCheckoutPayload(order());
    if (result.status !== "payload") throw new Error(result.reason);
    expect(result.token).toBe("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    const parsed = checkoutSchema.parse(result.payload);
    expect(parsed).toMatchObject({
      token: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
      cart_token: "Z2NwLWV1cm9wZS13ZXN0NDowMUo",
      created_at: "2026-11-20T16:00:00Z",
      presentment_currency: "EUR",
      total_price: "146.28",
      subtotal_price: "138.00",
      abandoned_checkout_url: null,
      source_name: "web",
      note_attributes: [{ name: "_fbp", value: "fb.1.1763650000000.1234567890" }],
    });
    expect(parsed.line_items[0]).toMatchObject({
      variant_id: "77",
      quantity: 3,
      price_set: { presentment_money: { amount: "48.76", currency_code: "EUR" } },
    });
  });
});

describe("recoveryPath", () => {
  it.each([
    [
      "a recovery URL: its key and locale dropped",
      "https://northwind-woolens-demo.myshopify.com/78901234567/checkouts/ac/Z2NwLXVzLWVhc3Qx/recover?key=ef5411a4&locale=en-US",
      "/78901234567/checkouts/ac/Z2NwLXVzLWVhc3Qx/recover",
    ],
    [
      "the same checkout on the shop's own domain",
      "https://shop.example.com/78901234567/checkouts/ac/Z2NwLXVzLWVhc3Qx/recover",
      "/78901234567/checkouts/ac/Z2NwLXVzLWVhc3Qx/recover",
    ],
    [
      "the older form without /ac/",
      "https://shop.example.com/14168/checkouts/0123456789abcdef/recover?key=6dacd606",
      "/14168/checkouts/0123456789abcdef/recover",
    ],
    ["the checkout page fallback of an order-derived event", "https://shop.myshopify.com/checkout", undefined],
    ["not a URL", "checkouts/ac/x/recover", undefined],
    ["another scheme", "javascript:alert(1)//checkouts/x", undefined],
    ["nothing", null, undefined],
  ])("%s", (_name, url, path) => {
    expect(recoveryPath(url)).toBe(path);
  });
});

describe("graphqlAbandonedCheckoutSchema", () => {
  it.each([
    [
      {
        id: "gid://shopify/AbandonedCheckout/38123456789012",
        createdAt: "2026-11-20T15:09:12Z",
        completedAt: null,
        abandonedCheckoutUrl: "https://x/1/checkouts/ac/a/recover",
      },
      true,
    ],
    [{ id: "gid://shopify/AbandonedCheckout/38123456789012", createdAt: "2026-11-20T15:09:12Z" }, true],
    [{ id: "gid://shopify/AbandonedCheckout/abc", createdAt: "2026-11-20T15:09:12Z" }, false],
    [{ id: "gid://shopify/AbandonedCheckout/1", createdAt: "yesterday" }, false],
  ])("%j readable: %s", (node, readable) => {
    expect(graphqlAbandonedCheckoutSchema.safeParse(node).success).toBe(readable);
  });
});
