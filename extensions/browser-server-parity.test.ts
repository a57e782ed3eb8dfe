// The browser's copy of each event equals the server's: the same checkout, once as the webhook
// the server builds from (planIngest: the shop's settings, its destinations and their events)
// and once as the Web Pixels API event the pixel maps (src/mapping.js with the settings the app
// writes for it, through the JSON Shopify stores), for every combination of the settings that
// shape an event. Per pixel: the server stores a copy exactly when the browser fires one, with
// the same event name, event_id, value, currency and contents.
import { describe, expect, it } from "vitest";
import { shopEventSettingsSchema, type ShopEventSettings } from "../app/events/settings";
import { planIngest, type DestinationTarget } from "../app/pipeline/ingest-plan";
import { webPixelSettings, webPixelSettingsFor } from "../app/shopify/web-pixel";
import { RECORDED_NOW, shopifyFixture } from "../test/support/fixtures";
import { initiateCheckoutCall, pixelRules, purchaseCall } from "./capi-relay-pixel/src/mapping.js";

const SHOP = "northwind-woolens-demo.myshopify.com";
const fixture = (name: string) => shopifyFixture(name, { asRecorded: true });

// ------------------------------------------------------------------ the checkouts

type Line = Record<string, any>;

/** orders-create-web with what the settings act on: a gift card sold, a variant bought twice at two prices, two variants of one product, a line known by its SKU only. */
function richOrder() {
  const order = fixture("orders-create-web");
  const [socks, hat] = order.line_items as Line[];
  const money = (amount: string) => ({
    shop_money: { amount, currency_code: "USD" },
    presentment_money: { amount, currency_code: "USD" },
  });
  const line = (base: Line, fields: Line): Line => ({ ...base, ...fields, price_set: money(fields.price) });
  order.line_items = [
    socks,
    line(socks, { id: 14567890123460, quantity: 1, price: "16.50" }),
    line(socks, { id: 14567890123461, variant_id: 46123456789019, sku: "SOCK-MER-L-CHR", quantity: 1, price: "18.00" }),
    hat,
    line(hat, { id: 14567890123462, variant_id: null, product_id: null, sku: "WRAP-GIFT", quantity: 1, price: "4.00" }),
    line(hat, {
      id: 14567890123463,
      variant_id: 46123456789099,
      product_id: 8912345678999,
      sku: "",
      gift_card: true,
      quantity: 1,
      price: "25.00",
    }),
  ];
  const subtotal = 70.2 + 16.5 + 18 + 4 + 25;
  const total = subtotal + 12.05;
  order.subtotal_price = subtotal.toFixed(2);
  order.subtotal_price_set = money(order.subtotal_price);
  order.total_price = total.toFixed(2);
  order.total_price_set = money(order.total_price);
  return order;
}

/** An order of a gift card only: the server sends nothing for it unless the shop counts gift cards. */
function giftCardOrder() {
  const order = richOrder();
  order.id = 5678901234999;
  order.admin_graphql_api_id = `gid://shopify/Order/${order.id}`;
  order.line_items = order.line_items.filter((l: Line) => l.gift_card);
  const money = {
    shop_money: { amount: "25.00", currency_code: "USD" },
    presentment_money: { amount: "25.00", currency_code: "USD" },
  };
  Object.assign(order, {
    subtotal_price: "25.00",
    total_price: "25.00",
    subtotal_price_set: money,
    total_price_set: money,
  });
  return order;
}

const presentment = (set: any) => ({
  amount: Number(set.presentment_money.amount),
  currencyCode: set.presentment_money.currency_code,
});

/** The Web Pixels API checkout (Shopify's Checkout shape) of an order: gids, MoneyV2, a gift card's product type. */
function pixelCheckoutOfOrder(order: Record<string, any>) {
  return {
    token: order.checkout_token,
    currencyCode: order.presentment_currency,
    totalPrice: presentment(order.total_price_set),
    subtotalPrice: presentment(order.subtotal_price_set),
    order: { id: `gid://shopify/Order/${order.id}` },
    lineItems: order.line_items.map((item: Line) => ({
      quantity: item.quantity,
      title: item.title,
      variant: {
        id: item.variant_id ? `gid://shopify/ProductVariant/${item.variant_id}` : null,
        sku: item.sku || null,
        price: presentment(item.price_set),
        product: {
          id: item.product_id ? `gid://shopify/Product/${item.product_id}` : null,
          title: item.title,
          // Shopify's gift card products carry the product type "Gift Card".
          type: item.gift_card ? "Gift Card" : "Accessories",
        },
      },
    })),
  };
}

/** checkouts-create with a second line of the same variant at another price and a gift card. */
function richCheckout() {
  const checkout = fixture("checkouts-create");
  const [socks, hat] = checkout.line_items as Line[];
  checkout.line_items = [
    socks,
    { ...socks, key: "k2", quantity: 1, price: "16.50" },
    {
      ...hat,
      key: "k3",
      variant_id: 46123456789099,
      product_id: 8912345678999,
      sku: "",
      gift_card: true,
      price: "25.00",
    },
    hat,
  ];
  checkout.total_price = (70.2 + 16.5 + 25).toFixed(2);
  checkout.subtotal_price = checkout.total_price;
  return checkout;
}

function pixelCheckoutOfCheckout(checkout: Record<string, any>) {
  const currency = checkout.presentment_currency;
  const price = (amount: string) => ({ amount: Number(amount), currencyCode: currency });
  return {
    token: checkout.token,
    currencyCode: currency,
    totalPrice: price(checkout.total_price),
    subtotalPrice: price(checkout.subtotal_price),
    order: null,
    lineItems: checkout.line_items.map((item: Line) => ({
      quantity: item.quantity,
      variant: {
        id: `gid://shopify/ProductVariant/${item.variant_id}`,
        sku: item.sku || null,
        price: price(item.price),
        product: { id: `gid://shopify/Product/${item.product_id}`, type: item.gift_card ? "Gift Card" : "Accessories" },
      },
    })),
  };
}

// ------------------------------------------------------------------ the shop

const DESTINATIONS: DestinationTarget[] = [
  {
    id: "d-purchase",
    pixelId: "111111111111",
    events: ["Purchase"],
    testEventCode: null,
    sendTestOrders: false,
    paused: false,
  },
  {
    id: "d-both",
    pixelId: "222222222222",
    events: ["Purchase", "InitiateCheckout"],
    testEventCode: null,
    sendTestOrders: true,
    paused: false,
  },
  {
    id: "d-checkout",
    pixelId: "333333333333",
    events: ["InitiateCheckout"],
    testEventCode: null,
    sendTestOrders: true,
    paused: false,
  },
];

/** Every combination of the settings that shape an event's value, contents or sending. */
function combinations(): ShopEventSettings[] {
  const all: ShopEventSettings[] = [];
  for (const valueMode of ["total", "subtotal"] as const)
    for (const contentIdSource of ["variant", "product", "sku"] as const)
      for (const includeGiftCards of [false, true])
        for (const includeTips of [false, true])
          for (const web of ["website", "other", "skip"] as const)
            for (const purchaseTrigger of ["orders/create", "orders/paid"] as const)
              all.push(
                shopEventSettingsSchema.parse({
                  valueMode,
                  contentIdSource,
                  includeGiftCards,
                  includeTips,
                  purchaseTrigger,
                  sources: { web },
                }),
              );
  return all;
}

/** The rules the pixel reads: the app's settings as Shopify stores and hands them over (JSON of strings). */
function browserRules(settings: ShopEventSettings) {
  return pixelRules(JSON.parse(webPixelSettings(webPixelSettingsFor(DESTINATIONS, settings))));
}

interface Copy {
  pixelId: string;
  event_name: string;
  event_id: string;
  value?: number;
  currency?: string;
  contents?: unknown;
  content_ids?: unknown;
  content_type?: unknown;
  num_items?: unknown;
}

function serverCopies(
  topic: "orders/paid" | "checkouts/create",
  payload: unknown,
  settings: ShopEventSettings,
): Copy[] {
  const plan = planIngest({ shop: SHOP, topic, payload }, { settings, destinations: DESTINATIONS }, RECORDED_NOW);
  return plan.copies.map((c) => {
    const d = c.event.custom_data ?? {};
    return {
      pixelId: c.pixelId!,
      event_name: c.event.event_name,
      event_id: c.event.event_id,
      value: d.value,
      currency: d.currency,
      contents: d.contents,
      content_ids: d.content_ids,
      content_type: d.content_type,
      num_items: d.num_items,
    };
  });
}

function browserCopies(call: unknown[] | null, pixelIds: string[]): Copy[] {
  if (!call) return [];
  const [, eventName, params, options] = call as [string, string, Record<string, any>, { eventID: string }];
  return pixelIds.map((pixelId) => ({
    pixelId,
    event_name: eventName,
    event_id: options.eventID,
    value: params.value,
    currency: params.currency,
    contents: params.contents,
    content_ids: params.content_ids,
    content_type: params.content_type,
    num_items: params.num_items,
  }));
}

const label = (s: ShopEventSettings) =>
  `${s.valueMode}, ${s.contentIdSource} ids, gift cards ${s.includeGiftCards ? "in" : "out"}, tips ${s.includeTips ? "in" : "out"}, web ${s.sources.web}, ${s.purchaseTrigger}`;
const CASES = combinations().map((settings) => [label(settings), settings] as const);

describe("the browser's Purchase equals the server's, pixel by pixel", () => {
  // orders/paid: the order as the server sends it whatever the trigger (paid), and the
  // checkout_completed of the same checkout.
  const paid = (order: Record<string, any>) => ({ ...order, financial_status: "paid" });

  it.each(CASES)("%s", (_name, settings) => {
    const rules = browserRules(settings);
    for (const order of [
      richOrder(),
      giftCardOrder(),
      fixture("orders-create-web"),
      fixture("orders-create-multicurrency"),
    ]) {
      const server = serverCopies("orders/paid", paid(order), settings);
      const event = {
        id: "e1",
        name: "checkout_completed",
        timestamp: order.processed_at,
        data: { checkout: pixelCheckoutOfOrder(order) },
      };
      const browser = browserCopies(purchaseCall(event, rules), rules.purchasePixelIds);
      expect(browser).toEqual(server);
    }
  });

  it("is not a table of empty lists: the rich order reaches the Purchase pixels with its settings applied", () => {
    const order = paid(richOrder());
    const byDefault = serverCopies("orders/paid", order, shopEventSettingsSchema.parse({}));
    expect(byDefault.map((c) => c.pixelId)).toEqual(["111111111111", "222222222222"]);
    // The gift card (25.00) is left out of the total, 12.05 of shipping and taxes kept.
    expect(byDefault[0]).toMatchObject({ event_id: String(order.id), value: 120.75, currency: "USD", num_items: 6 });
    const subtotal = serverCopies("orders/paid", order, shopEventSettingsSchema.parse({ valueMode: "subtotal" }));
    expect(subtotal[0]!.value).toBe(108.7);
    const bySku = serverCopies("orders/paid", order, shopEventSettingsSchema.parse({ contentIdSource: "sku" }));
    expect(bySku[0]!.content_ids).toContain("WRAP-GIFT");
    // The same variant at 18.00 twice and 16.50 once: one content, at the weighted price.
    expect(byDefault[0]!.contents).toContainEqual({ id: "46123456789012", quantity: 3, item_price: 17.5 });
  });
});

describe("the browser's InitiateCheckout equals the server's, pixel by pixel", () => {
  it.each(CASES)("%s", (_name, settings) => {
    const rules = browserRules(settings);
    for (const checkout of [richCheckout(), fixture("checkouts-create")]) {
      const server = serverCopies("checkouts/create", checkout, settings);
      const event = {
        id: "e2",
        name: "checkout_started",
        timestamp: checkout.created_at,
        data: { checkout: pixelCheckoutOfCheckout(checkout) },
      };
      const browser = browserCopies(initiateCheckoutCall(event, rules), rules.checkoutPixelIds);
      expect(browser).toEqual(server);
    }
  });

  it("reaches the InitiateCheckout pixels only", () => {
    const copies = serverCopies("checkouts/create", richCheckout(), shopEventSettingsSchema.parse({}));
    expect(copies.map((c) => c.pixelId)).toEqual(["222222222222", "333333333333"]);
    expect(copies[0]).toMatchObject({ event_id: "f7b7e2ceb7cb153ee55467724bea2141", value: 86.7 });
  });
});

describe("settings written before a field existed", () => {
  it("fall back to the server's defaults and every pixel", () => {
    expect(pixelRules({ pixelIds: "111111111111,222222222222" })).toEqual({
      pixelIds: ["111111111111", "222222222222"],
      purchasePixelIds: ["111111111111", "222222222222"],
      checkoutPixelIds: ["111111111111", "222222222222"],
      valueMode: "total",
      contentIdSource: "variant",
      includeGiftCards: false,
      includeTips: false,
      sendOnlineStore: true,
    });
    expect(pixelRules({ pixelIds: "111111111111", purchasePixelIds: "none", valueMode: "bogus" })).toMatchObject({
      purchasePixelIds: [],
      valueMode: "total",
    });
  });
});

describe("what the browser cannot see (extensions/README.md)", () => {
  it("a tip: the web pixel's checkout names none, so a total with a tip is the server's plus the tip", () => {
    const order = richOrder();
    const tip = 5;
    order.total_tip_received = tip.toFixed(2);
    order.total_price = (Number(order.total_price) + tip).toFixed(2);
    order.total_price_set.shop_money.amount = order.total_price;
    order.total_price_set.presentment_money.amount = order.total_price;
    order.financial_status = "paid";
    const settings = shopEventSettingsSchema.parse({});
    const [server] = serverCopies("orders/paid", order, settings);
    const event = { data: { checkout: pixelCheckoutOfOrder(order) } };
    const [browser] = browserCopies(purchaseCall(event, browserRules(settings)), ["111111111111"]);
    expect(browser!.value! - server!.value!).toBeCloseTo(tip, 10);
    // With tips counted, or with the subtotal (before tips), the two agree again.
    for (const input of [{ includeTips: true }, { valueMode: "subtotal" }] as const) {
      const s = shopEventSettingsSchema.parse(input);
      const [a] = serverCopies("orders/paid", order, s);
      const [b] = browserCopies(purchaseCall(event, browserRules(s)), ["111111111111"]);
      expect(b!.value).toBe(a!.value);
    }
  });
});
