// InitiateCheckout from a checkouts/create webhook. event_id is the checkout token, the same
// value the web pixel's checkout_started event carries (checkout.token).
import { buildUserData } from "../meta/user-data";
import type { MetaEvent } from "../meta/event";
import type { ShopifyCheckout } from "../shopify/payloads";
import { CART_ATTRIBUTE, browserIds, embedPixelNotes, noteAttribute, parseConsent } from "./browser-ids";
import { consentDecision } from "./consent";
import { commerceData, eventValue, onlyGiftCards, pickMoney } from "./custom-data";
import { browserNotes, NO_IP, userDataInput } from "./customer-data";
import type { BuildContext, BuildOutcome } from "./outcome";
import { pageUrlWithoutSecrets } from "./page-url";
import { actionSourceFor, type ShopEventSettings } from "./settings";

export function buildInitiateCheckout(
  checkout: ShopifyCheckout,
  settings: ShopEventSettings,
  context: BuildContext,
): BuildOutcome {
  const actionSource = actionSourceFor(checkout.source_name, settings);
  if (actionSource === "skip") {
    return {
      status: "held_back",
      reason: `the shop does not send checkouts from source "${checkout.source_name ?? "unknown"}"`,
    };
  }
  const consent = consentDecision(parseConsent(checkout.note_attributes), settings);
  if (consent.skip) return { status: "held_back", reason: consent.skip };
  if (!settings.includeGiftCards && onlyGiftCards(checkout.line_items)) {
    return {
      status: "held_back",
      reason:
        "the checkout holds only gift cards, and the shop leaves gift-card sales out (a gift card counts when it is spent)",
    };
  }

  const startedMs = Date.parse(checkout.created_at);
  const ids = browserIds(checkout.note_attributes, checkout.landing_site, startedMs);
  const userData = buildUserData(
    userDataInput(
      { ...checkout, contact_email: undefined },
      // Checkout webhooks carry no client_details: the user agent comes from our embed.
      { userAgent: noteAttribute(checkout.note_attributes, CART_ATTRIBUTE.userAgent), fbp: ids.fbp, fbc: ids.fbc },
      settings.defaultCountry,
    ),
    startedMs,
  );
  // Tips are chosen after the checkout starts: only gift cards come off its value.
  const total = pickMoney(undefined, checkout.total_price, checkout.presentment_currency ?? checkout.currency);
  const value = eventValue(total, { items: checkout.line_items, includesTips: false }, settings);
  const money = value.money;
  const event: MetaEvent = {
    event_name: "InitiateCheckout",
    event_time: Math.floor(startedMs / 1000),
    event_id: checkout.token,
    action_source: actionSource,
    event_source_url: pageUrlWithoutSecrets(checkout.abandoned_checkout_url, `https://${context.shop}/checkout`),
    user_data: userData,
    custom_data: commerceData(checkout.line_items, money, settings),
    ...consent.processing,
  };
  if (actionSource !== "website") delete event.event_source_url;
  const noted = browserNotes(NO_IP, event, "checkouts carry no client_details, and");
  return {
    status: "ready",
    event,
    notes: [...ids.dropped, ...noted, ...consent.notes, ...value.notes, ...embedPixelNotes(checkout.note_attributes)],
  };
}
