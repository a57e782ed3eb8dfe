// Shopify's own documented sample payloads (shopify.dev/docs/api/webhooks, 2026-07), as sent:
// 18-digit ids that JSON.parse rounds, a test order that is cancelled and voided, no browser.
import { describe, expect, it } from "vitest";
import { preparerFor, ready } from "../../test/support/event-cases";
import { shopifyFixtureText } from "../../test/support/fixtures";
import { sha256Hex } from "../meta/user-data";
import { validateEvent } from "../meta/validate";
import { graphqlOrderSchema, graphqlOrderToPayload } from "../shopify/admin-orders";
import { parseWebhookJson } from "../shopify/webhook-json";
import { prepareEvent, type EventTopic } from "./prepare";
import { shopEventSettingsSchema, type ShopEventSettingsInput } from "./settings";

// 2022-01-01T12:00:00Z: half a day after the samples' 2021-12-31T19:00:00-05:00.
const NOW = 1_641_038_400;
const SHOP = "jsmith.myshopify.com";
const ORDER = shopifyFixtureText("shopify-sample-orders-create", { asRecorded: true });
const CHECKOUT = shopifyFixtureText("shopify-sample-checkouts-create", { asRecorded: true });
/** The documented order as it would be while still standing: not cancelled, paid. */
const LIVE_ORDER = ORDER.replace('"cancelled_at": "2021-12-31T19:00:00-05:00"', '"cancelled_at": null').replace(
  '"financial_status": "voided"',
  '"financial_status": "paid"',
);
const WITH_TEST_CODE: ShopEventSettingsInput = { testEventCode: "TEST123" };

const prepareParsed = preparerFor(SHOP, NOW);
/** The body as the webhook route reads it: ids above 2^53 kept exact. */
const prepare = (topic: EventTopic, body: string, settings: ShopEventSettingsInput = {}) =>
  prepareParsed(topic, parseWebhookJson(body), settings);

describe("Shopify's documented orders/create sample", () => {
  it("as documented: a test order, so nothing goes without the shop's test code", () => {
    expect(prepare("orders/create", ORDER)).toEqual({
      status: "held_back",
      reason: expect.stringMatching(/test order/),
    });
  });

  it("as documented: cancelled and voided, so not sent even with a test code", () => {
    expect(prepare("orders/create", ORDER, WITH_TEST_CODE)).toEqual({
      status: "held_back",
      reason: expect.stringMatching(/cancelled/),
    });
    const voidedOnly = ORDER.replace('"cancelled_at": "2021-12-31T19:00:00-05:00"', '"cancelled_at": null');
    expect(prepare("orders/create", voidedOnly, WITH_TEST_CODE)).toEqual({
      status: "held_back",
      reason: expect.stringMatching(/voided/),
    });
  });

  it("paid and standing: every id exact, though each is above 2^53", () => {
    const { event, testEventCode, notes } = ready(prepare("orders/create", LIVE_ORDER, WITH_TEST_CODE));
    expect(event).toMatchObject({
      event_name: "Purchase",
      event_id: "820982911946154508",
      event_time: Math.floor(Date.parse("2021-12-31T19:00:00-05:00") / 1000),
      action_source: "website",
      event_source_url: "https://jsmith.myshopify.com/548380009/orders/123456abcd/authenticate",
    });
    expect(event.custom_data).toEqual({
      value: 404.95,
      currency: "USD",
      // No variant ids in the sample: the product id, else the SKU.
      content_ids: ["788032119674292922", "LENS-PROTECT-2YR", "CASE-LEATHER-PREM"],
      contents: [
        // Three lines of one product at 89.99, 159.99 and 119.99: the weighted price, to the cent.
        { id: "788032119674292922", quantity: 3, item_price: 123.32 },
        { id: "LENS-PROTECT-2YR", quantity: 1, item_price: 19.99 },
        { id: "CASE-LEATHER-PREM", quantity: 1, item_price: 24.99 },
      ],
      content_type: "product",
      num_items: 5,
      order_id: "820982911946154508",
    });
    expect(event.user_data.external_id).toBe(sha256Hex("115310627314723954"));
    expect(event.user_data.em).toEqual([sha256Hex("jon@example.com"), sha256Hex("john@example.com")]);
    expect(testEventCode).toBe("TEST123");
    // client_details null and no embed: sent without a user agent, and the note says why.
    expect(event.user_data.client_user_agent).toBeUndefined();
    expect(event.user_data.client_ip_address).toBeUndefined();
    expect(notes).toEqual([{ code: "no_user_agent", message: expect.stringMatching(/app embed/) }]);
    expect(validateEvent(event, NOW)).toEqual([]);
  });

  it("read with JSON.parse the ids are rounded, and the order is invalid rather than sent as another order", () => {
    const outcome = prepareEvent(
      "orders/create",
      JSON.parse(LIVE_ORDER),
      shopEventSettingsSchema.parse(WITH_TEST_CODE),
      { shop: SHOP, nowSeconds: NOW },
    );
    expect(outcome).toMatchObject({
      status: "invalid",
      code: "invalid_payload",
      reason: expect.stringMatching(/^orders\/create payload: id: expected a numeric id/),
    });
  });

  it("an id that disagrees with its admin_graphql_api_id (rounded on the way) is invalid, with the reason", () => {
    const roundedOrder = LIVE_ORDER.replace('"id": 820982911946154508,', '"id": "820982911946154500",');
    expect(prepare("orders/create", roundedOrder, WITH_TEST_CODE)).toEqual({
      status: "invalid",
      code: "invalid_payload",
      reason:
        "orders/create payload: admin_graphql_api_id names Order 820982911946154508 but id is 820982911946154500: an id was rounded on the way (a JSON parser without big integers?)",
    });
    const roundedCustomer = LIVE_ORDER.replace('"id": 115310627314723954,', '"id": "115310627314724000",');
    expect(prepare("orders/create", roundedCustomer, WITH_TEST_CODE)).toMatchObject({
      status: "invalid",
      code: "invalid_payload",
      reason: expect.stringMatching(
        /customer\.admin_graphql_api_id names Customer 115310627314723954 but id is 115310627314724000/,
      ),
    });
  });
});

describe("Shopify's documented checkouts/create sample", () => {
  it("InitiateCheckout with the checkout token, the exact customer id and the merged variant", () => {
    const { event, notes } = ready(prepare("checkouts/create", CHECKOUT));
    expect(event).toMatchObject({
      event_name: "InitiateCheckout",
      event_id: "123123123",
      event_time: Math.floor(Date.parse("2021-12-31T19:00:00-05:00") / 1000),
      action_source: "website",
      event_source_url: "https://checkout.local/548380009/checkouts/123123123/recover",
    });
    expect(event.custom_data).toEqual({
      value: 421.88,
      currency: "USD",
      content_ids: ["808950810"],
      contents: [{ id: "808950810", quantity: 2, item_price: 199 }],
      content_type: "product",
      num_items: 2,
    });
    expect(event.user_data.external_id).toBe(sha256Hex("603851970716743426"));
    expect(notes).toEqual([{ code: "no_user_agent", message: expect.stringMatching(/app embed/) }]);
    expect(validateEvent(event, NOW)).toEqual([]);
  });

  it("read with JSON.parse the customer id is rounded, and the checkout is invalid", () => {
    const outcome = prepareEvent("checkouts/create", JSON.parse(CHECKOUT), shopEventSettingsSchema.parse({}), {
      shop: SHOP,
      nowSeconds: NOW,
    });
    expect(outcome).toMatchObject({
      status: "invalid",
      code: "invalid_payload",
      reason: expect.stringMatching(/customer\.id: expected a numeric id/),
    });
  });
});

describe("the same order read back through the Admin API (reconciliation)", () => {
  const money = (amount: string) => ({
    shopMoney: { amount, currencyCode: "USD" },
    presentmentMoney: { amount, currencyCode: "USD" },
  });
  const graphqlOrder = (overrides: Record<string, unknown> = {}) =>
    graphqlOrderSchema.parse({
      id: "gid://shopify/Order/820982911946154508",
      name: "#9999",
      createdAt: "2021-12-31T19:00:00-05:00",
      processedAt: "2021-12-31T19:00:00-05:00",
      cancelledAt: null,
      email: "jon@example.com",
      test: false,
      sourceName: "web",
      statusPageUrl: "https://jsmith.myshopify.com/548380009/orders/123456abcd/authenticate?key=abcdefg",
      displayFinancialStatus: "PAID",
      currencyCode: "USD",
      presentmentCurrencyCode: "USD",
      totalPriceSet: money("404.95"),
      subtotalPriceSet: money("404.95"),
      totalTipReceivedSet: money("0.00"),
      customer: {
        id: "gid://shopify/Customer/115310627314723954",
        email: "john@example.com",
        firstName: "John",
        lastName: "Smith",
      },
      lineItems: {
        nodes: [
          {
            quantity: 1,
            sku: "SKU2006-001",
            title: "Aviator sunglasses",
            variant: null,
            product: { id: "gid://shopify/Product/788032119674292922" },
            originalUnitPriceSet: money("89.99"),
          },
        ],
      },
      ...overrides,
    });

  it("keeps the ids of the gids exact, as the webhook does", () => {
    const { event } = ready(
      prepareEvent("orders/create", graphqlOrderToPayload(graphqlOrder()), shopEventSettingsSchema.parse({}), {
        shop: SHOP,
        nowSeconds: NOW,
      }),
    );
    expect(event.event_id).toBe("820982911946154508");
    expect(event.custom_data).toMatchObject({ order_id: "820982911946154508", content_ids: ["788032119674292922"] });
    expect(event.user_data.external_id).toBe(sha256Hex("115310627314723954"));
  });

  it("a cancelled or voided order found by reconciliation is not sent either", () => {
    const settings = shopEventSettingsSchema.parse({});
    const cancelled = graphqlOrderToPayload(graphqlOrder({ cancelledAt: "2022-01-01T08:00:00Z" }));
    expect(prepareEvent("orders/create", cancelled, settings, { shop: SHOP, nowSeconds: NOW })).toMatchObject({
      status: "held_back",
      reason: expect.stringMatching(/cancelled/),
    });
    const voided = graphqlOrderToPayload(graphqlOrder({ displayFinancialStatus: "VOIDED" }));
    expect(prepareEvent("orders/create", voided, settings, { shop: SHOP, nowSeconds: NOW })).toMatchObject({
      status: "held_back",
      reason: expect.stringMatching(/voided/),
    });
  });
});
