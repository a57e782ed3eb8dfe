// Purchase from an orders/create or orders/paid webhook. event_id is the order id, which the
// web pixel's checkout_completed sends too (checkout.order.id), so Meta keeps one copy.
import { buildUserData } from "../meta/user-data";
import type { MetaEvent } from "../meta/event";
import type { ShopifyOrder } from "../shopify/payloads";
import { CART_ATTRIBUTE, browserIds, embedPixelNotes, noteAttribute, parseConsent } from "./browser-ids";
import { commerceData, eventValue, onlyGiftCards, pickMoney } from "./custom-data";
import { browserNotes, clientIp, userDataInput } from "./customer-data";
import type { BuildContext, BuildOutcome } from "./outcome";
import { pageUrlWithoutSecrets } from "./page-url";
import { actionSourceFor, type ShopEventSettings } from "./settings";
import { consentDecision } from "./consent";

// These orders are keyed in by staff: client_details describe the merchant's browser.
const MERCHANT_BROWSER_SOURCES = new Set(["pos", "shopify_draft_order"]);

export function buildPurchase(
  order: ShopifyOrder,
  topic: "orders/create" | "orders/paid",
  settings: ShopEventSettings,
  context: BuildContext,
): BuildOutcome {
  if (order.test && !settings.testEventCode) {
    return { status: "held_back", reason: "Shopify test order, and the shop has no test event code" };
  }
  // A conversion that no longer stands is not reported (Meta has no way to take one back).
  if (order.cancelled_at) {
    return {
      status: "held_back",
      reason: `the order was cancelled (at ${order.cancelled_at}) before its Purchase was sent`,
    };
  }
  if (order.financial_status === "voided") {
    return { status: "held_back", reason: "the order's payment was voided before its Purchase was sent" };
  }
  if (topic === "orders/create" && settings.purchaseTrigger === "orders/paid" && order.financial_status !== "paid") {
    return { status: "held_back", reason: "the shop sends Purchase when the order is paid" };
  }
  if (!settings.includeGiftCards && onlyGiftCards(order.line_items)) {
    return {
      status: "held_back",
      reason:
        "the order holds only gift cards, and the shop leaves gift-card sales out (a gift card counts when it is spent)",
    };
  }
  const source = (order.source_name ?? "").toLowerCase();
  const actionSource = actionSourceFor(order.source_name, settings);
  if (actionSource === "skip") {
    return {
      status: "held_back",
      reason: `the shop does not send orders from source "${order.source_name ?? "unknown"}"`,
    };
  }
  const consent = consentDecision(parseConsent(order.note_attributes), settings);
  if (consent.skip) return { status: "held_back", reason: consent.skip };

  // processed_at is when the order was placed (it differs from created_at for imported orders).
  const placedMs = Date.parse(order.processed_at ?? order.created_at);
  const buyerBrowser = !MERCHANT_BROWSER_SOURCES.has(source);
  const ids = buyerBrowser ? browserIds(order.note_attributes, order.landing_site, placedMs) : { dropped: [] };
  // The buyer's IP: client_details, then the order's own browser_ip (the embed records none).
  const ip = clientIp(buyerBrowser ? [order.client_details?.browser_ip, order.browser_ip] : []);
  const userData = buildUserData(
    userDataInput(
      order,
      {
        ipAddress: ip.ip,
        userAgent: buyerBrowser
          ? order.client_details?.user_agent || noteAttribute(order.note_attributes, CART_ATTRIBUTE.userAgent)
          : undefined,
        fbp: ids.fbp,
        fbc: ids.fbc,
      },
      settings.defaultCountry,
    ),
    placedMs,
  );
  const subtotal = settings.valueMode === "subtotal";
  const set = subtotal ? order.subtotal_price_set : order.total_price_set;
  const shopAmount = subtotal ? order.subtotal_price : order.total_price;
  // The subtotal is before tips already; the total includes them.
  const value = eventValue(
    pickMoney(set, shopAmount, order.currency),
    { items: order.line_items, order, includesTips: !subtotal },
    settings,
  );
  const money = value.money;

  const event: MetaEvent = {
    event_name: "Purchase",
    event_time: Math.floor(placedMs / 1000),
    event_id: order.id,
    action_source: actionSource,
    event_source_url: pageUrlWithoutSecrets(order.order_status_url, `https://${context.shop}/`),
    user_data: userData,
    custom_data: { ...commerceData(order.line_items, money, settings), order_id: order.id },
    ...consent.processing,
  };
  if (actionSource !== "website") delete event.event_source_url;
  return {
    status: "ready",
    event,
    ...(order.test ? { testEventCode: settings.testEventCode } : {}),
    notes: [
      ...ids.dropped,
      ...browserNotes(ip, event, "Shopify sent no client_details user agent and"),
      ...consent.notes,
      ...value.notes,
      ...(buyerBrowser ? embedPixelNotes(order.note_attributes) : []),
    ],
  };
}
