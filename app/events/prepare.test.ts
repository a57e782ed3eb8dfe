import { describe, expect, it } from "vitest";
import { preparerFor, ready } from "../../test/support/event-cases";
import { RECORDED_NOW_SECONDS, shopifyFixture } from "../../test/support/fixtures";
import { sha256Hex } from "../meta/user-data";
import { validateEvent } from "../meta/validate";
import { prepareEvent, type EventTopic } from "./prepare";
import { DEFAULT_SETTINGS } from "./settings";

// A pinned clock, with the fixtures as recorded: exact event times, snapshots that never change.
const fixture = (name: string) => shopifyFixture(name, { asRecorded: true });
const NOW = RECORDED_NOW_SECONDS;
const SHOP = "wool-and-wander.myshopify.com";

const prepare = preparerFor(SHOP, NOW);

describe("Purchase from orders/create", () => {
  it("web order: every field Meta uses, with the order id as event_id", () => {
    const order = fixture("orders-create-web");
    const { event, notes, testEventCode } = ready(prepare("orders/create", order));
    expect(event).toMatchObject({
      event_name: "Purchase",
      event_id: "5678901234567",
      event_time: Math.floor(Date.parse("2026-11-20T10:15:30-05:00") / 1000),
      action_source: "website",
    });
    // The order status page without its access key.
    expect(event.event_source_url).toBe(order.order_status_url.split("?")[0]);
    expect(event.event_source_url).not.toContain("key=");
    expect(event.user_data.em).toEqual(sha256Hex("jane.doe@example.com"));
    expect(event.user_data.ph).toContain(sha256Hex("14155550132"));
    expect(event.user_data.external_id).toBe(sha256Hex("7012345678901"));
    expect(event.user_data.client_ip_address).toBe(order.client_details.browser_ip);
    expect(event.user_data.client_user_agent).toBe(order.client_details.user_agent);
    expect(event.user_data.fbp).toBe("fb.1.1763650000000.1234567890");
    expect(event.user_data.fbc).toBe("fb.1.1763650000000.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMs");
    expect(event.custom_data).toMatchObject({ currency: "USD", order_id: "5678901234567", content_type: "product" });
    expect(event.custom_data!.value).toBe(Number(order.total_price_set.presentment_money.amount));
    expect(event.custom_data!.num_items).toBe(order.line_items.reduce((n: number, li: any) => n + li.quantity, 0));
    expect(event.custom_data!.content_ids).toEqual(order.line_items.map((li: any) => String(li.variant_id)));
    expect(notes).toEqual([]);
    expect(testEventCode).toBeUndefined();
    expect(validateEvent(event, NOW)).toEqual([]);
  });

  it("never sends a raw personal value: the request body holds no email, phone, name or address text", () => {
    const order = fixture("orders-create-web");
    const body = JSON.stringify(ready(prepare("orders/create", order)).event);
    const pii = [
      order.customer.email,
      order.customer.first_name,
      order.customer.last_name,
      order.shipping_address.city,
      order.shipping_address.zip,
      order.shipping_address.phone,
    ];
    for (const value of pii.filter(Boolean))
      expect(body.toLowerCase()).not.toContain(String(value).trim().toLowerCase());
  });

  it("builds fbc from the landing page's fbclid when the browser had no _fbc cookie", () => {
    const order = fixture("orders-create-web-fbclid");
    const { event } = ready(prepare("orders/create", order));
    expect(event.user_data.fbc).toBe(`fb.1.${Date.parse(order.processed_at)}.IwAR1abcDEF_ghi-JKL`);
  });

  it("POS order: physical_store, no URL, never the merchant's device as the buyer's browser", () => {
    const order = fixture("orders-create-pos");
    const { event } = ready(prepare("orders/create", order));
    expect(event.action_source).toBe("physical_store");
    expect(event.event_source_url).toBeUndefined();
    expect(event.user_data.client_ip_address).toBeUndefined();
    expect(event.user_data.client_user_agent).toBeUndefined();
    expect(event.user_data.em).toBe(sha256Hex(order.email.trim().toLowerCase()));
  });

  it("draft order: system_generated without the merchant's admin browser; configurable per shop", () => {
    const order = fixture("orders-create-draft");
    const { event } = ready(prepare("orders/create", order));
    expect(event.action_source).toBe("system_generated");
    expect(event.user_data.client_ip_address).toBeUndefined();
    expect(event.user_data.client_user_agent).toBeUndefined();
    expect(event.user_data.fbp).toBeUndefined();
    expect(
      ready(prepare("orders/create", order, { sources: { shopify_draft_order: "phone_call" } })).event.action_source,
    ).toBe("phone_call");
    expect(prepare("orders/create", order, { sources: { shopify_draft_order: "skip" } })).toMatchObject({
      status: "held_back",
    });
  });

  it("test order: held back without a test event code, sent with the code when the shop has one", () => {
    const order = fixture("orders-create-test");
    expect(prepare("orders/create", order)).toEqual({
      status: "held_back",
      reason: expect.stringMatching(/test order/),
    });
    const withCode = ready(prepare("orders/create", order, { testEventCode: "TEST4821" }));
    expect(withCode.testEventCode).toBe("TEST4821");
    // A real order of the same shop never carries the code.
    expect(
      ready(prepare("orders/create", fixture("orders-create-web"), { testEventCode: "TEST4821" })).testEventCode,
    ).toBeUndefined();
  });

  it("guest checkout without a customer: matched on email and address, no external_id", () => {
    const { event } = ready(prepare("orders/create", fixture("orders-create-no-customer")));
    expect(event.user_data.external_id).toBeUndefined();
    expect(event.user_data.em).toBe(sha256Hex("guest.buyer@example.com"));
    expect(event.user_data.zp).toBeDefined();
  });

  it("German order: national phone gets +49, UTF-8 names and city kept", () => {
    const order = fixture("orders-create-international");
    const { event } = ready(prepare("orders/create", order));
    const address = order.billing_address ?? order.shipping_address;
    expect([event.user_data.ct].flat()).toContain(sha256Hex("münchen"));
    expect([event.user_data.country].flat()).toContain(sha256Hex("de"));
    expect([event.user_data.ph].flat()).toContain(sha256Hex(`49${address.phone.replace(/\D/g, "").replace(/^0/, "")}`));
    expect([event.user_data.ln].flat()).toContain(sha256Hex("müllerlüdenscheidt"));
    expect(event.custom_data!.currency).toBe("EUR");
  });

  it("French order: city with accents and hyphen, mobile with +33", () => {
    const { event } = ready(prepare("orders/create", fixture("orders-create-france")));
    expect([event.user_data.ct].flat()).toContain(sha256Hex("saintétienne"));
    expect([event.user_data.ph].flat()).toContain(sha256Hex("33612345678"));
  });

  it("multi-currency: value and item prices in the buyer's currency, never mixed with the shop's", () => {
    const order = fixture("orders-create-multicurrency");
    const { event } = ready(prepare("orders/create", order));
    expect(event.custom_data!.currency).toBe("EUR");
    expect(event.custom_data!.value).toBe(146.28);
    expect(event.custom_data!.contents![0]!.item_price).toBe(
      Number(order.line_items[0].price_set.presentment_money.amount),
    );
    const subtotal = ready(prepare("orders/create", order, { valueMode: "subtotal" })).event.custom_data!;
    expect(subtotal.currency).toBe("EUR");
    expect(subtotal.value).toBe(Number(order.subtotal_price_set.presentment_money.amount));
  });

  it("a malformed email is omitted, not hashed, and the order still goes", () => {
    const { event } = ready(prepare("orders/create", fixture("orders-create-malformed-email")));
    expect(event.user_data.em).toBeUndefined();
    expect(validateEvent(event, NOW)).toEqual([]);
  });

  it("content ids follow the shop's catalogue choice", () => {
    const order = fixture("orders-create-web");
    const byProduct = ready(prepare("orders/create", order, { contentIdSource: "product" })).event.custom_data!;
    expect(byProduct.content_type).toBe("product_group");
    expect(byProduct.content_ids).toEqual([...new Set(order.line_items.map((li: any) => String(li.product_id)))]);
  });
});

describe("one Purchase per order whatever the topic", () => {
  it("orders/create and orders/paid of the same order build the same event", () => {
    const created = ready(prepare("orders/create", fixture("orders-create-web"))).event;
    const paid = ready(prepare("orders/paid", fixture("orders-paid-web"))).event;
    expect(paid.event_id).toBe(created.event_id);
    expect(paid).toEqual(created);
  });

  it("with the orders/paid trigger, an unpaid new order waits for payment", () => {
    const unpaid = { ...fixture("orders-create-web"), financial_status: "pending" };
    expect(prepare("orders/create", unpaid, { purchaseTrigger: "orders/paid" })).toMatchObject({ status: "held_back" });
    expect(prepare("orders/paid", fixture("orders-paid-web"), { purchaseTrigger: "orders/paid" }).status).toBe("ready");
  });
});

describe("consent recorded by the storefront embed", () => {
  const withConsent = (value: string) => {
    const order = fixture("orders-create-web");
    order.note_attributes = order.note_attributes.map((a: any) => (a.name === "_capi_consent" ? { ...a, value } : a));
    return order;
  };
  it("a buyer who declined marketing is not sent (unless the shop chooses otherwise)", () => {
    expect(prepare("orders/create", withConsent("marketing=0;analytics=1;sale_of_data=1"))).toMatchObject({
      status: "held_back",
    });
    expect(prepare("orders/create", withConsent("marketing=0"), { respectMarketingConsent: false }).status).toBe(
      "ready",
    );
  });
  it("an opt-out of the sale of data goes with Limited Data Use", () => {
    const { event, notes } = ready(prepare("orders/create", withConsent("marketing=1;sale_of_data=0")));
    expect(event).toMatchObject({
      data_processing_options: ["LDU"],
      data_processing_options_country: 0,
      data_processing_options_state: 0,
    });
    expect(notes[0]).toMatchObject({ code: "limited_data_use", message: expect.stringMatching(/Limited Data Use/) });
  });
});

describe("InitiateCheckout from checkouts/create", () => {
  it("uses the checkout token as event_id and never leaks the recovery key", () => {
    const checkout = fixture("checkouts-create");
    const ua = checkout.note_attributes.find((a: any) => a.name === "_capi_ua").value;
    const { event } = ready(prepare("checkouts/create", checkout));
    expect(event.event_name).toBe("InitiateCheckout");
    expect(event.event_id).toBe(checkout.token);
    expect(event.event_source_url).not.toContain("key=");
    expect(event.user_data.client_user_agent).toBe(ua);
    expect(event.user_data.em).toBe(sha256Hex("jane.doe@example.com"));
    expect(event.custom_data!.num_items).toBeGreaterThan(0);
    expect(validateEvent(event, NOW)).toEqual([]);
  });

  it("without the embed's user agent a website checkout is still sent, with a note saying why it matches less", () => {
    const checkout = fixture("checkouts-create");
    checkout.note_attributes = checkout.note_attributes.filter((a: any) => a.name !== "_capi_ua");
    const { event, notes } = ready(prepare("checkouts/create", checkout));
    expect(event.user_data.client_user_agent).toBeUndefined();
    expect(notes).toEqual([{ code: "no_user_agent", message: expect.stringMatching(/app embed/) }]);
    expect(validateEvent(event, NOW)).toEqual([]);
  });

  it("a checkout with no contact yet is invalid, with a clear reason", () => {
    const outcome = prepare("checkouts/create", fixture("checkouts-create-no-contact"));
    expect(outcome.status).toBe("invalid");
    expect(outcome.status === "invalid" && outcome.reason.length).toBeGreaterThan(10);
  });
});

describe("bad input gets a clear reason", () => {
  it.each([
    ["not an object", "hello", /payload/],
    ["an order without id", { ...fixture("orders-create-web"), id: undefined }, /id/],
    ["a non-date created_at", { ...fixture("orders-create-web"), created_at: "yesterday" }, /created_at/],
    ["line items that are not a list", { ...fixture("orders-create-web"), line_items: "3 socks" }, /line_items/],
  ])("%s", (_name, payload, reason) => {
    const outcome = prepare("orders/create", payload);
    expect(outcome).toMatchObject({ status: "invalid", code: "invalid_payload" });
    expect(outcome.status === "invalid" && outcome.reason).toMatch(reason);
  });

  it("an order older than Meta's 7-day window is invalid as too old", () => {
    const old = {
      ...fixture("orders-create-web"),
      created_at: "2026-11-01T10:00:00Z",
      processed_at: "2026-11-01T10:00:00Z",
    };
    expect(prepare("orders/create", old)).toMatchObject({ status: "invalid", code: "event_too_old" });
  });

  it("tolerates fields Shopify adds in future versions", () => {
    const order = { ...fixture("orders-create-web"), brand_new_field: { nested: [1, 2] } };
    expect(prepare("orders/create", order).status).toBe("ready");
  });
});

describe("request bodies of every fixture (snapshots: what we send, reviewed in diffs)", () => {
  const cases: Array<[EventTopic, string]> = [
    ["orders/create", "orders-create-web"],
    ["orders/create", "orders-create-web-fbclid"],
    ["orders/create", "orders-create-pos"],
    ["orders/create", "orders-create-draft"],
    ["orders/create", "orders-create-no-customer"],
    ["orders/create", "orders-create-international"],
    ["orders/create", "orders-create-france"],
    ["orders/create", "orders-create-multicurrency"],
    ["orders/create", "orders-create-malformed-email"],
  ];
  it.each(cases)("%s %s", (topic, name) => {
    expect(prepareEvent(topic, fixture(name), DEFAULT_SETTINGS, { shop: SHOP, nowSeconds: NOW })).toMatchSnapshot();
  });
});
