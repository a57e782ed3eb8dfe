// The Purchase a test event sends (the admin page's "Send test event", `capi test-event`): a
// Shopify test order of the shop's, built by prepareEvent like every real order, so Events
// Manager's Test events shows what the shop's real Purchases look like. It carries the shop's
// test event code because it is a test order (buildPurchase), never otherwise.
import type { BuildOutcome } from "./outcome";
import { prepareEvent } from "./prepare";
import type { ShopEventSettings } from "./settings";

/** The buyer of every test order: a reserved example address (RFC 2606), hashed like any other. */
export const TEST_BUYER_EMAIL = "capi-relay-test@example.com";
export const TEST_USER_AGENT = "CAPI Relay test event";

/**
 * A paid web order marked `test`, placed now. Its id (and so the event_id) is the clock in
 * milliseconds: every click sends a new event, which Meta does not fold into the last one.
 */
export function testOrderPayload(nowMs: number): Record<string, unknown> {
  const placed = new Date(nowMs).toISOString();
  const id = String(Math.floor(nowMs));
  return {
    id,
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    created_at: placed,
    processed_at: placed,
    email: TEST_BUYER_EMAIL,
    currency: "USD",
    total_price: "25.00",
    subtotal_price: "20.00",
    test: true,
    source_name: "web",
    financial_status: "paid",
    cancelled_at: null,
    client_details: { browser_ip: null, user_agent: TEST_USER_AGENT },
    note_attributes: [],
    line_items: [
      { product_id: 1, variant_id: 1, sku: "CAPI-RELAY-TEST", quantity: 1, price: "20.00", gift_card: false },
    ],
  };
}

/**
 * The test Purchase under the shop's own settings (value, content ids, default country), with
 * web orders sent as website events whatever the shop chose for them, so a test is never skipped.
 */
export function buildTestPurchase(
  shop: string,
  testEventCode: string,
  settings: ShopEventSettings,
  nowMs: number,
): BuildOutcome {
  const testSettings: ShopEventSettings = {
    ...settings,
    sources: { ...settings.sources, web: "website" },
    testEventCode,
  };
  return prepareEvent("orders/create", testOrderPayload(nowMs), testSettings, {
    shop,
    nowSeconds: Math.floor(nowMs / 1000),
  });
}
