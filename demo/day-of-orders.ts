// A realistic day of one store's Shopify webhooks, as the demo posts them: orders and the
// checkouts before them, orders/paid after orders/create, checkouts that were abandoned,
// Shopify's own redeliveries, and the awkward cases a live store always has (test orders, a
// POS sale, a draft order, a typo in an email, an order imported days late, a checkout from a
// storefront without our embed, buyers who declined tracking).
//
// Pure and seeded: the same (orders, seed, now) always gives the same deliveries, ids
// included, so the demo's summary is reproducible. The base orders come from the benchmark
// generator (bench/orders.ts): five countries, four currencies, the phone and email
// spellings people really type.
import { makeOrderSet, prng } from "../bench/orders";

export const DEMO_SHOP = "capi-relay-demo.myshopify.com";
export const DEMO_PIXEL = "1234567890123456";

export type DemoTopic = "orders/create" | "orders/paid" | "checkouts/create";

/** What a delivery is in the story of the day; shown when the demo starts, never counted. */
export type DeliveryKind =
  | "order"
  | "order-paid"
  | "checkout"
  | "abandoned-checkout"
  | "redelivery"
  | "test-order"
  | "declined-tracking"
  | "pos-order"
  | "draft-order"
  | "malformed-email"
  | "imported-late"
  | "checkout-without-browser";

export interface Delivery {
  topic: DemoTopic;
  payload: Record<string, unknown>;
  /** X-Shopify-Webhook-Id and X-Shopify-Event-Id: a redelivery repeats both. */
  webhookId: string;
  eventId: string;
  /** When Shopify sends it (Unix seconds): the day is posted in this order. */
  at: number;
  kind: DeliveryKind;
}

export interface DayOptions {
  /** Web orders placed during the day, before the special cases are added. */
  orders: number;
  seed?: number;
  nowSeconds: number;
  shop?: string;
}

const POS_USER_AGENT = "Shopify POS/10.19.0 (iPad; iOS 26.1; Scale/2.00)";
const ADMIN_USER_AGENT =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/154.0.0.0 Safari/537.36 Edg/154.0.0.0";
/** An app that imports orders from the store's previous platform (its API client id). */
const IMPORT_APP_SOURCE = "1830279";
const DAY_S = 86_400;

type Json = Record<string, any>;

function shopLocal(unixSeconds: number): string {
  // The generator's shop is on America/New_York (−05:00 in November).
  return `${new Date((unixSeconds - 5 * 3600) * 1000).toISOString().slice(0, 19)}-05:00`;
}

/** A checkouts/create payload for the checkout that became (or would have become) `order`. */
function checkoutFor(order: Json, startedAt: number, shop: string, withEmbed: boolean): Json {
  const currency: string = order.presentment_currency;
  const userAgent: string | undefined = order.client_details?.user_agent;
  const attributes: Json[] = (order.note_attributes as Json[]).filter((a) => a.name !== "gift_message");
  // Checkout webhooks carry no client_details: the buyer's user agent reaches them only through
  // the theme embed's cart attribute.
  if (withEmbed && userAgent) attributes.push({ name: "_capi_ua", value: userAgent });
  return {
    id: Number(order.id) + 32_000_000_000_000,
    token: order.checkout_token,
    cart_token: order.cart_token,
    email: order.contact_email,
    phone: null,
    created_at: shopLocal(startedAt),
    updated_at: shopLocal(startedAt + 90),
    completed_at: null,
    currency,
    presentment_currency: currency,
    total_price: order.total_price_set.presentment_money.amount,
    subtotal_price: order.subtotal_price_set.presentment_money.amount,
    total_tax: "0.00",
    total_discounts: "0.00",
    taxes_included: false,
    buyer_accepts_marketing: order.buyer_accepts_marketing,
    customer_locale: order.customer_locale,
    landing_site: order.landing_site,
    referring_site: order.referring_site,
    source_name: "web",
    note: null,
    note_attributes: attributes,
    abandoned_checkout_url: `https://${shop}/74210000000/checkouts/ac/${order.cart_token}/recover?key=${String(order.token).slice(0, 16)}`,
    customer: order.customer,
    billing_address: order.billing_address,
    shipping_address: order.shipping_address,
    line_items: (order.line_items as Json[]).map((li) => ({
      key: String(li.id),
      product_id: li.product_id,
      variant_id: li.variant_id,
      sku: li.sku,
      title: li.title,
      variant_title: li.variant_title,
      vendor: li.vendor,
      quantity: li.quantity,
      requires_shipping: true,
      taxable: true,
      gift_card: false,
      price: li.price_set.presentment_money.amount,
      line_price: (Number(li.price_set.presentment_money.amount) * li.quantity).toFixed(2),
    })),
    shipping_lines: [],
    discount_codes: [],
    tax_lines: [],
  };
}

function withConsent(attributes: Json[], value: string): Json[] {
  return [...attributes.filter((a) => a.name !== "_capi_consent"), { name: "_capi_consent", value }];
}

/** The day's deliveries, in the order Shopify sends them. */
export function makeDemoDay(options: DayOptions): Delivery[] {
  const seed = options.seed ?? 2026;
  const shop = options.shop ?? DEMO_SHOP;
  const now = options.nowSeconds;
  const rand = prng(seed ^ 0x5eed);
  const chance = (p: number) => rand() < p;
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  };

  // The specials are built from orders of their own, so a small day still has every case.
  const SPECIALS = 9;
  const abandonedCount = Math.max(2, Math.round(options.orders * 0.45));
  const { orders: pool } = makeOrderSet(options.orders + SPECIALS + abandonedCount, seed, now);
  for (const order of pool) {
    // The generator writes the benchmark shop into the status URL; this is the demo's store.
    order.order_status_url = String(order.order_status_url).replace(/^https:\/\/[^/]+/, `https://${shop}`);
  }
  const web = pool.slice(0, options.orders);
  const special = pool.slice(options.orders, options.orders + SPECIALS);
  const abandoned = pool.slice(options.orders + SPECIALS);

  const out: Delivery[] = [];
  const send = (topic: DemoTopic, payload: Json, at: number, kind: DeliveryKind) =>
    out.push({ topic, payload, at, kind, webhookId: uuid(), eventId: uuid() });
  const placedAt = (order: Json) => Math.floor(Date.parse(order.processed_at) / 1000);

  /** An order bought through the online store: its checkout, the order, and (if paid) orders/paid. */
  const webOrder = (order: Json, kind: DeliveryKind, paid: boolean) => {
    const placed = placedAt(order);
    send(
      "checkouts/create",
      checkoutFor(order, placed - between(120, 1200), shop, true),
      placed - between(120, 1200),
      kind === "order" ? "checkout" : kind,
    );
    if (!paid) {
      // Bank transfer: the order exists, the money comes another day.
      order.financial_status = "pending";
      order.gateway = "Bank Deposit";
      order.payment_gateway_names = ["Bank Deposit"];
    }
    send("orders/create", order, placed + between(1, 3), kind);
    if (paid)
      send(
        "orders/paid",
        { ...order, updated_at: shopLocal(placed + 4) },
        placed + between(4, 9),
        kind === "order" ? "order-paid" : kind,
      );
  };

  for (const order of web) webOrder(order, "order", chance(0.88));

  const [test1, test2, declined1, declined2, pos, draft, typo, imported, headless] = special as [
    Json,
    Json,
    Json,
    Json,
    Json,
    Json,
    Json,
    Json,
    Json,
  ];

  // Two Shopify test orders (the merchant trying a payment setting with the Bogus gateway).
  for (const order of [test1, test2]) {
    Object.assign(order, { test: true, gateway: "bogus", payment_gateway_names: ["bogus"] });
    webOrder(order, "test-order", true);
  }
  // Buyers who declined marketing tracking in the consent banner.
  for (const order of [declined1, declined2]) {
    order.note_attributes = withConsent(order.note_attributes, "marketing=0;analytics=1;sale_of_data=1");
    webOrder(order, "declined-tracking", true);
  }

  // A sale at the shop's till: no checkout, no addresses, the iPad's IP and user agent.
  Object.assign(pos, {
    source_name: "pos",
    location_id: 71_234_567_890,
    user_id: 104_857_600,
    device_id: 1,
    landing_site: null,
    referring_site: null,
    order_status_url: null,
    checkout_token: null,
    cart_token: null,
    note_attributes: [],
    billing_address: null,
    shipping_address: null,
    presentment_currency: "USD",
    client_details: { browser_ip: "198.51.100.50", user_agent: POS_USER_AGENT, accept_language: "en-US" },
  });
  pos.total_price_set.presentment_money = { ...pos.total_price_set.shop_money };
  pos.subtotal_price_set.presentment_money = { ...pos.subtotal_price_set.shop_money };
  send("orders/create", pos, placedAt(pos), "pos-order");
  send("orders/paid", pos, placedAt(pos) + 2, "pos-order");

  // A draft order the merchant keyed in for a phone customer: the browser is the merchant's.
  Object.assign(draft, {
    source_name: "shopify_draft_order",
    app_id: 1_354_745,
    landing_site: null,
    referring_site: null,
    checkout_token: null,
    cart_token: null,
    note_attributes: [],
    client_details: { browser_ip: "198.51.100.7", user_agent: ADMIN_USER_AGENT, accept_language: "en-US,en;q=0.9" },
  });
  send("orders/create", draft, placedAt(draft), "draft-order");

  // An email typed with a double @: the order still goes, without the email.
  const typoEmail = `${String(typo.customer.first_name).toLowerCase()}@@${String(typo.contact_email).split("@")[1]!.split(".")[0]}`;
  Object.assign(typo, { email: typoEmail, contact_email: typoEmail });
  typo.customer = { ...typo.customer, email: null };
  webOrder(typo, "malformed-email", true);

  // An order from the store's previous platform, imported today but placed nine days ago:
  // processed_at is when it was placed, and Meta takes nothing older than seven days.
  const importedAt = now - between(600, 7200);
  const placedLongAgo = now - 9 * DAY_S - between(0, 3600);
  Object.assign(imported, {
    source_name: IMPORT_APP_SOURCE,
    created_at: shopLocal(importedAt),
    processed_at: shopLocal(placedLongAgo),
    updated_at: shopLocal(importedAt),
    landing_site: null,
    referring_site: null,
    checkout_token: null,
    cart_token: null,
    client_details: null,
    note_attributes: [],
  });
  send("orders/create", imported, importedAt, "imported-late");

  // A checkout from a headless storefront that does not load the theme embed: no browser was
  // ever seen, so it goes without a user agent (Meta matches it less well), noted as such.
  const headlessAt = placedAt(headless) - between(120, 1200);
  send("checkouts/create", checkoutFor(headless, headlessAt, shop, false), headlessAt, "checkout-without-browser");

  // Checkouts that never became orders.
  for (const order of abandoned) {
    const started = placedAt(order) - between(60, 600);
    send("checkouts/create", checkoutFor(order, started, shop, true), started, "abandoned-checkout");
  }

  // Shopify delivers again when an answer is late or lost: same webhook id, same event id.
  const firsts = out.slice();
  const redeliveries = Math.max(2, Math.round(firsts.length * 0.03));
  for (let i = 0; i < redeliveries; i++) {
    const original = firsts[Math.floor(rand() * firsts.length)]!;
    out.push({ ...original, at: original.at + between(5, 900), kind: "redelivery" });
  }

  // Nothing is sent from the future: a delivery due after `now` goes out at `now`.
  for (const d of out) d.at = Math.min(d.at, now);
  return out.sort((a, b) => a.at - b.at);
}

/** How many deliveries of each kind: the story told before the day is posted. */
export function describeDay(day: Delivery[]): Record<DeliveryKind, number> {
  const counts = {} as Record<DeliveryKind, number>;
  for (const d of day) counts[d.kind] = (counts[d.kind] ?? 0) + 1;
  return counts;
}
