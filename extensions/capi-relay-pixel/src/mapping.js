// Pure mappings from Shopify's web pixel events to Meta pixel calls, shaped as fbq arguments:
// ["track", eventName, params, { eventID }]. No Shopify imports, so the tests can load it.
//
// The browser events must deduplicate with the server events the app sends for the same
// conversion (app/events/purchase.ts, app/events/initiate-checkout.ts), so the conventions
// are the server's:
//   - Purchase: eventID = the numeric Shopify order id (the server's event_id = order.id);
//   - InitiateCheckout: eventID = the checkout token (the server's event_id = checkout.token);
//   - content ids are variant ids (then product id, then SKU), contents carry the unit price in
//     the event's currency, value/currency are the buyer's (presentment) money.

const PIXEL_ID = /^\d{6,20}$/;
const GID = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(?:[/?#].*)?$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ORDER_TYPES = ["Order", "OrderIdentity"];

export function isPixelId(value) {
  return typeof value === "string" && PIXEL_ID.test(value);
}

/**
 * The numeric id inside a Shopify id: 123, "123", "gid://shopify/Order/123" or a base64-encoded
 * gid all give "123". With `types`, a gid of another resource type gives undefined.
 */
export function shopifyNumericId(id, types) {
  if (typeof id === "number") return Number.isSafeInteger(id) && id >= 0 ? String(id) : undefined;
  if (typeof id !== "string") return undefined;
  const value = id.trim();
  if (/^\d+$/.test(value)) return value;
  let match = GID.exec(value);
  if (!match && BASE64.test(value) && value.length % 4 === 0 && typeof atob === "function") {
    try {
      match = GID.exec(atob(value));
    } catch {
      match = null;
    }
  }
  if (!match) return undefined;
  if (types && !types.includes(match[1])) return undefined;
  return match[2];
}

/**
 * The Purchase eventID for a web pixel checkout: the order's numeric id, as the server sends it.
 * checkout.order.id may arrive as "gid://shopify/Order/<id>" (or OrderIdentity) or bare.
 */
export function purchaseEventId(checkout) {
  return shopifyNumericId(checkout?.order?.id, ORDER_TYPES);
}

function amountOf(money) {
  if (money === null || money === undefined) return undefined;
  const raw = typeof money === "object" ? money.amount : money;
  if (raw === null || raw === undefined || (typeof raw === "string" && raw.trim() === "")) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

function currencyOf(...candidates) {
  for (const c of candidates) {
    if (typeof c === "string" && /^[A-Za-z]{3}$/.test(c.trim())) return c.trim().toUpperCase();
  }
  return undefined;
}

function contentIdOf(line) {
  const variant = line?.variant;
  return (
    shopifyNumericId(variant?.id, ["ProductVariant"]) ??
    shopifyNumericId(variant?.product?.id, ["Product"]) ??
    (typeof variant?.sku === "string" && variant.sku.trim() !== "" ? variant.sku.trim() : undefined)
  );
}

/** value, currency, content_ids, contents, content_type, num_items: as the server builds them. */
export function checkoutParams(checkout) {
  const currency = currencyOf(checkout?.totalPrice?.currencyCode, checkout?.currencyCode);
  const value = amountOf(checkout?.totalPrice);
  const contents = new Map();
  let numItems = 0;
  for (const line of Array.isArray(checkout?.lineItems) ? checkout.lineItems : []) {
    const quantity = Number(line?.quantity);
    if (!Number.isInteger(quantity) || quantity <= 0) continue;
    numItems += quantity;
    const id = contentIdOf(line);
    if (!id) continue;
    const existing = contents.get(id);
    if (existing) {
      existing.quantity += quantity;
      continue;
    }
    const price = line.variant?.price;
    const priceCurrency = currencyOf(price?.currencyCode, checkout?.currencyCode);
    const itemPrice = priceCurrency === currency ? amountOf(price) : undefined;
    contents.set(id, itemPrice === undefined ? { id, quantity } : { id, quantity, item_price: itemPrice });
  }
  const list = [...contents.values()];
  return {
    ...(value !== undefined && currency ? { value, currency } : {}),
    ...(list.length ? { content_ids: list.map((c) => c.id), contents: list, content_type: "product" } : {}),
    num_items: numItems,
  };
}

/** checkout_started -> fbq("track", "InitiateCheckout", ..., { eventID: checkout token }). */
export function initiateCheckoutCall(event) {
  const checkout = event?.data?.checkout;
  const token = typeof checkout?.token === "string" ? checkout.token.trim() : "";
  if (!token) return null;
  return ["track", "InitiateCheckout", checkoutParams(checkout), { eventID: token }];
}

/**
 * checkout_completed -> fbq("track", "Purchase", ..., { eventID: order id }). Without an order
 * id there is nothing to deduplicate against, so the browser stays silent and the server's
 * event counts alone.
 */
export function purchaseCall(event) {
  const checkout = event?.data?.checkout;
  const orderId = purchaseEventId(checkout);
  if (!orderId) return null;
  return ["track", "Purchase", { ...checkoutParams(checkout), order_id: orderId }, { eventID: orderId }];
}

/** product_added_to_cart -> AddToCart (browser only; the server sends no AddToCart). */
export function addToCartCall(event) {
  const line = event?.data?.cartLine;
  const merchandise = line?.merchandise;
  const quantity = Number(line?.quantity);
  const id = contentIdOf({ variant: merchandise });
  if (!id || !Number.isInteger(quantity) || quantity <= 0) return null;
  const currency = currencyOf(line?.cost?.totalAmount?.currencyCode, merchandise?.price?.currencyCode);
  const unit = amountOf(merchandise?.price);
  const total = amountOf(line?.cost?.totalAmount) ?? (unit === undefined ? undefined : unit * quantity);
  const content = unit === undefined ? { id, quantity } : { id, quantity, item_price: unit };
  return [
    "track",
    "AddToCart",
    {
      ...(total !== undefined && currency ? { value: total, currency } : {}),
      content_ids: [id],
      contents: [content],
      content_type: "product",
      num_items: quantity,
    },
    { eventID: `atc_${id}_${event?.id ?? Date.now()}` },
  ];
}

const TR_ENDPOINT = "https://www.facebook.com/tr/";
const MAX_GET_URL = 2000;

/**
 * The request Meta's pixel endpoint takes for one fbq call: GET with query parameters, or a
 * form POST when the URL would be too long. `page` = { href, referrer, timestampMs, fbp, fbc,
 * userData: { em, ph } already hashed, ldu }.
 */
export function pixelRequest(pixelId, call, page = {}) {
  const [, eventName, params, options] = call;
  const query = new URLSearchParams();
  query.set("id", pixelId);
  query.set("ev", eventName);
  if (options?.eventID) query.set("eid", String(options.eventID));
  if (page.href) query.set("dl", page.href);
  if (page.referrer) query.set("rl", page.referrer);
  query.set("ts", String(Math.floor(page.timestampMs ?? Date.now())));
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null) continue;
    query.set(`cd[${key}]`, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  if (page.fbp) query.set("fbp", page.fbp);
  if (page.fbc) query.set("fbc", page.fbc);
  for (const [key, value] of Object.entries(page.userData ?? {})) {
    if (typeof value === "string" && /^[a-f0-9]{64}$/.test(value)) query.set(`ud[${key}]`, value);
  }
  // Limited Data Use, country and state 0 (Meta geolocates), as fbq("dataProcessingOptions",
  // ["LDU"], 0, 0) sends it and as the server's consentDecision sets it.
  if (page.ldu) {
    query.set("dpo", "LDU");
    query.set("dpoco", "0");
    query.set("dpost", "0");
  }
  const encoded = query.toString();
  const url = `${TR_ENDPOINT}?${encoded}`;
  return url.length <= MAX_GET_URL ? { method: "GET", url } : { method: "POST", url: TR_ENDPOINT, body: encoded };
}

/** What the visitor allows, from the Web Pixels API's customerPrivacy status. */
export function pixelConsent(status) {
  return {
    // Only a yes sends: Shopify loads the pixel with consent, this stops it after a withdrawal.
    send: status?.marketingAllowed === true,
    // The server's condition for Limited Data Use (app/events/consent.ts): sale of data refused.
    ldu: status?.saleOfDataAllowed === false,
  };
}

// Events sent from this browser, newest last: a reload of the thank-you page or a second visit
// to checkout replays the same event name and id, and Meta would keep the repeat only if it
// fell outside its deduplication window. Bounded, so the record never grows.
export const SENT_KEY = "capi_relay_sent";
export const SENT_MAX = 50;

export const sentKey = (call) => `${call[1]}:${call[3]?.eventID ?? ""}`;

/** The stored record as a list of keys; anything unreadable counts as empty. */
export function parseSent(stored) {
  try {
    const list = JSON.parse(typeof stored === "string" ? stored : "[]");
    return Array.isArray(list) ? list.filter((key) => typeof key === "string").slice(-SENT_MAX) : [];
  } catch {
    return [];
  }
}

/** The record with `key` added last (moved there if present), at most SENT_MAX long. */
export function recordSent(list, key) {
  return [...list.filter((k) => k !== key), key].slice(-SENT_MAX);
}
