// Pure mappings from Shopify's web pixel events to Meta pixel calls, shaped as fbq arguments:
// ["track", eventName, params, { eventID }]. No Shopify imports, so the tests can load it.
//
// The browser events must deduplicate with the server events the app sends for the same
// conversion (app/events/purchase.ts, app/events/initiate-checkout.ts), so the conventions
// are the server's:
//   - Purchase: eventID = the numeric Shopify order id (the server's event_id = order.id);
//   - InitiateCheckout: eventID = the checkout token (the server's event_id = checkout.token);
//   - value, currency, contents and content ids come from the server's own code
//     (app/events/custom-data.ts, bundled into the pixel) applied to the checkout's lines, with
//     the shop's settings the app writes into the pixel's settings (pixelRules);
//   - no event where the server sends none (online store orders skipped, gift cards only).

import { commerceData, eventValue, onlyGiftCards } from "../../../app/events/custom-data.ts";

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

// ------------------------------------------------------------------ the shop's rules

const BOOLEAN = { true: true, false: false };
const CHOICES = {
  valueMode: ["total", "subtotal"],
  contentIdSource: ["variant", "product", "sku"],
};

/** The pixel ids of one setting ("1,2"), digits only; "none" or anything unreadable gives []. */
function pixelList(value) {
  return (typeof value === "string" ? value : "")
    .split(",")
    .map((id) => id.trim())
    .filter(isPixelId);
}

/**
 * The shop's rules from the web pixel's settings, as the app writes them
 * (app/shopify/web-pixel.ts, webPixelSettingsFor). A field that is missing or unreadable
 * (settings written before the field existed) takes the server's default, and the pixel ids
 * of an event default to every pixel: the browser then behaves as it did before.
 */
export function pixelRules(settings) {
  const all = pixelList(settings?.pixelIds);
  const choice = (name, fallback) => (CHOICES[name].includes(settings?.[name]) ? settings[name] : fallback);
  const flag = (name, fallback) => BOOLEAN[settings?.[name]] ?? fallback;
  const forEvent = (name) => (typeof settings?.[name] === "string" ? pixelList(settings[name]) : all);
  return {
    pixelIds: all,
    purchasePixelIds: forEvent("purchasePixelIds"),
    checkoutPixelIds: forEvent("checkoutPixelIds"),
    valueMode: choice("valueMode", "total"),
    contentIdSource: choice("contentIdSource", "variant"),
    includeGiftCards: flag("includeGiftCards", false),
    includeTips: flag("includeTips", false),
    // The shop's rule for orders of the online store (source "web"): checkouts seen by this pixel.
    sendOnlineStore: flag("sendOnlineStore", true),
  };
}

export const DEFAULT_RULES = pixelRules({});

const isGiftCard = (line) =>
  typeof line?.variant?.product?.type === "string" && line.variant.product.type.trim().toLowerCase() === "gift card";

/**
 * A web pixel checkout line in the shape of a webhook's line item (app/shopify/payloads.ts),
 * so that the server's own rules (app/events/custom-data.ts, bundled) read it.
 */
function serverLine(line, currency) {
  const variant = line?.variant;
  const quantity = Number(line?.quantity);
  const price = variant?.price;
  const priceCurrency = currencyOf(price?.currencyCode, currency);
  const amount = amountOf(price);
  return {
    variant_id: shopifyNumericId(variant?.id, ["ProductVariant"]),
    product_id: shopifyNumericId(variant?.product?.id, ["Product"]),
    sku: typeof variant?.sku === "string" && variant.sku.trim() !== "" ? variant.sku.trim() : undefined,
    quantity: Number.isInteger(quantity) && quantity > 0 ? quantity : 0,
    price_set:
      amount === undefined || !priceCurrency
        ? null
        : { presentment_money: { amount: String(amount), currency_code: priceCurrency } },
    gift_card: isGiftCard(line),
  };
}

function checkoutMoney(checkout, rules) {
  const currency = currencyOf(checkout?.totalPrice?.currencyCode, checkout?.currencyCode);
  const money = rules.valueMode === "subtotal" ? checkout?.subtotalPrice : checkout?.totalPrice;
  const value = amountOf(money);
  const moneyCurrency = currencyOf(money?.currencyCode, currency);
  return value !== undefined && moneyCurrency ? { value, currency: moneyCurrency } : undefined;
}

function linesOf(checkout) {
  const currency = currencyOf(checkout?.totalPrice?.currencyCode, checkout?.currencyCode);
  return (Array.isArray(checkout?.lineItems) ? checkout.lineItems : []).map((line) => serverLine(line, currency));
}

/**
 * value, currency, content_ids, contents, content_type, num_items by the server's own code
 * (commerceData, eventValue): the value mode, gift cards left out, the content id source, the
 * merging of repeated ids. `purchase`: the order's value (total or subtotal); else a checkout's
 * (its total: the server's InitiateCheckout has no subtotal mode).
 */
export function checkoutParams(checkout, rules = DEFAULT_RULES, purchase = false) {
  const items = linesOf(checkout);
  const money = checkoutMoney(checkout, purchase ? rules : { ...rules, valueMode: "total" });
  // The web pixel's checkout names no tips, so none can be taken off (see extensions/README.md).
  const value = eventValue(money, { items, includesTips: false }, rules);
  return commerceData(items, value.money, rules);
}

/** Why the server sends no event for this checkout (so the browser sends none either), or undefined. */
export function heldBack(checkout, rules) {
  if (!rules.sendOnlineStore) return "the shop does not send online store orders";
  if (!rules.includeGiftCards && onlyGiftCards(linesOf(checkout))) return "gift cards only";
  return undefined;
}

/** checkout_started -> fbq("track", "InitiateCheckout", ..., { eventID: checkout token }). */
export function initiateCheckoutCall(event, rules = DEFAULT_RULES) {
  const checkout = event?.data?.checkout;
  const token = typeof checkout?.token === "string" ? checkout.token.trim() : "";
  if (!token || heldBack(checkout, rules)) return null;
  return ["track", "InitiateCheckout", checkoutParams(checkout, rules), { eventID: token }];
}

/**
 * checkout_completed -> fbq("track", "Purchase", ..., { eventID: order id }). Without an order
 * id there is nothing to deduplicate against, so the browser stays silent and the server's
 * event counts alone.
 */
export function purchaseCall(event, rules = DEFAULT_RULES) {
  const checkout = event?.data?.checkout;
  const orderId = purchaseEventId(checkout);
  if (!orderId || heldBack(checkout, rules)) return null;
  return ["track", "Purchase", { ...checkoutParams(checkout, rules, true), order_id: orderId }, { eventID: orderId }];
}

/** product_added_to_cart -> AddToCart (browser only; the server sends no AddToCart), ids by the shop's source. */
export function addToCartCall(event, rules = DEFAULT_RULES) {
  const line = event?.data?.cartLine;
  const merchandise = line?.merchandise;
  const quantity = Number(line?.quantity);
  if (!contentIdOf({ variant: merchandise }) || !Number.isInteger(quantity) || quantity <= 0) return null;
  const item = serverLine({ variant: merchandise, quantity }, merchandise?.price?.currencyCode);
  const currency = currencyOf(line?.cost?.totalAmount?.currencyCode, merchandise?.price?.currencyCode);
  const unit = amountOf(merchandise?.price);
  const total = amountOf(line?.cost?.totalAmount) ?? (unit === undefined ? undefined : unit * quantity);
  const params = commerceData([item], total !== undefined && currency ? { value: total, currency } : undefined, {
    ...rules,
    includeGiftCards: true,
  });
  const id = params.content_ids?.[0];
  if (!id) return null;
  return ["track", "AddToCart", params, { eventID: `atc_${id}_${event?.id ?? Date.now()}` }];
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

// Deduplication health: after firing an event the server sends too, the pixel tells the app
// its name and id (never a customer field), at the URL the app put into its settings
// (`firedIdsUrl`: the app's /pixel/fired with the shop and its token). The app's route takes
// exactly this shape (app/pipeline/fired-ids.ts).
const FIRED_EVENTS = ["Purchase", "InitiateCheckout"];
const FIRED_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** The report for one fbq call, or null (no URL, an event the server never sends, an odd id). */
export function firedReport(url, call) {
  const id = String(call?.[3]?.eventID ?? "");
  if (typeof url !== "string" || !/^https:\/\/[^\s]+$/.test(url)) return null;
  if (!FIRED_EVENTS.includes(call?.[1]) || !FIRED_ID.test(id)) return null;
  return { url, body: JSON.stringify({ events: [{ name: call[1], id }] }) };
}
