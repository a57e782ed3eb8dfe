// Purchase from an orders/create or orders/paid webhook. event_id is the order id, which the
// web pixel's checkout_completed sends too (checkout.order.id), so Meta keeps one copy.
import { buildUserData } from "../meta/user-data";
import type { MetaEvent } from "../meta/event";
import type { ShopifyOrder } from "../shopify/payloads";
import { CART_ATTRIBUTE, browserIds, noteAttribute, parseConsent } from "./browser-ids";
import { commerceData, pickMoney } from "./custom-data";
import { userDataInput } from "./customer-data";
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
    return { status: "skipped", reason: "Shopify test order, and the shop has no test event code" };
  }
  if (topic === "orders/create" && settings.purchaseTrigger === "orders/paid" && order.financial_status !== "paid") {
    return { status: "skipped", reason: "the shop sends Purchase when the order is paid" };
  }
  const source = (order.source_name ?? "").toLowerCase();
  const actionSource = actionSourceFor(order.source_name, settings);
  if (actionSource === "skip") {
    return { status: "skipped", reason: `the shop does not send orders from source "${order.source_name ?? "unknown"}"` };
  }
  const consent = consentDecision(parseConsent(order.note_attributes), settings);
  if (consent.skip) return { status: "skipped", reason: consent.skip };

  // processed_at is when the order was placed (it differs from created_at for imported orders).
  const placedMs = Date.parse(order.processed_at ?? order.created_at);
  const buyerBrowser = !MERCHANT_BROWSER_SOURCES.has(source);
  const ids = buyerBrowser ? browserIds(order.note_attributes, order.landing_site, placedMs) : { dropped: [] };
  const userData = buildUserData(
    userDataInput(
      order,
      {
        ipAddress: buyerBrowser ? order.client_details?.browser_ip : undefined,
        userAgent: buyerBrowser
          ? order.client_details?.user_agent ?? noteAttribute(order.note_attributes, CART_ATTRIBUTE.userAgent)
          : undefined,
        fbp: ids.fbp,
        fbc: ids.fbc,
      },
      settings.defaultCountry,
    ),
  );
  const set = settings.valueMode === "subtotal" ? order.subtotal_price_set : order.total_price_set;
  const shopAmount = settings.valueMode === "subtotal" ? order.subtotal_price : order.total_price;
  const money = pickMoney(set, shopAmount, order.currency);

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
    notes: [...ids.dropped, ...consent.notes],
  };
}
