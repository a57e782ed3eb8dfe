// Checkouts through the Admin GraphQL API, for reconciliation: a checkouts/create webhook that
// never came. InitiateCheckout's event_id must be the checkout token, the value the web pixel
// sends as eventID (checkout_started's checkout.token), or Meta counts the checkout twice.
//
// Where the token can be had:
// - Order.checkoutToken (Admin API 2026-07 and later) is the token of the checkout that became
//   the order, "matching the REST checkout_token", which Shopify documents as equal to the web
//   pixel's checkout.token. So every recent order yields its InitiateCheckout, built by the
//   same builder from the checkouts/create shape below.
// - AbandonedCheckout has no token. Its `id` is the REST checkout id (the webhook's `id`), and
//   the path of abandonedCheckoutUrl (`/<shop id>/checkouts/ac/<key>/recover`) carries the
//   cart token, not the checkout token: Shopify's own REST example and real checkouts/create
//   payloads show the segment equal to `cart_token` while `token` differs. The REST endpoint
//   that had `token` deprecated it in 2024-10 in favour of this GraphQL object. A checkout
//   that was abandoned and never became an order therefore cannot be sent with the browser's
//   event_id; it is recorded as not sent, with that reason, and never sent under another id.
import { z } from "zod";
import { graphqlOrderToPayload, type GraphqlOrder } from "./admin-orders";

export const RECENT_ABANDONED_CHECKOUTS_QUERY = `#graphql
query RecentAbandonedCheckouts($query: String!, $after: String) {
  abandonedCheckouts(first: 100, after: $after, query: $query, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id createdAt completedAt abandonedCheckoutUrl }
  }
}`;

// Only what reconciliation can use: with no token nothing is sent, so no buyer data is read.
export const graphqlAbandonedCheckoutSchema = z.object({
  id: z.string().regex(/\/\d+$/),
  createdAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not a date-time"),
  completedAt: z.string().nullish(),
  abandonedCheckoutUrl: z.string().nullish(),
});
export type GraphqlAbandonedCheckout = z.infer<typeof graphqlAbandonedCheckoutSchema>;

export const NO_CHECKOUT_TOKEN_REASON =
  "no InitiateCheckout is held for this abandoned checkout, and Shopify's Admin API does not give an abandoned " +
  "checkout's token, the event_id the browser pixel used: sent under another id it would count twice in Meta, so it is not sent";

export function abandonedCheckoutNumericId(c: GraphqlAbandonedCheckout): string {
  return c.id.slice(c.id.lastIndexOf("/") + 1);
}

/**
 * The path of a checkout recovery URL, without its access key: what an InitiateCheckout
 * built from the checkouts/create webhook keeps as event_source_url. It identifies the
 * checkout across the webhook and the Admin API, whatever the shop's domain.
 */
export function recoveryPath(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const { protocol, pathname } = new URL(url);
    if (protocol !== "https:" && protocol !== "http:") return undefined;
    return /\/checkouts\/.+/.test(pathname) ? pathname : undefined;
  } catch {
    return undefined;
  }
}

export type OrderCheckout =
  { status: "payload"; token: string; payload: Record<string, unknown> } | { status: "none"; reason: string };

/**
 * The checkouts/create shape of the checkout that became this order, for the InitiateCheckout
 * builder. Amounts are the buyer's (presentment) money, amount and currency from one money set
 * (the builder reads total_price with presentment_currency as a pair). The Admin API has
 * no time at which the checkout started: the order's creation, the latest moment it can have
 * started, stands for it. That is minutes late for most checkouts; one abandoned and recovered
 * days later is dated at its completion.
 */
export function graphqlOrderToCheckoutPayload(o: GraphqlOrder): OrderCheckout {
  const token = o.checkoutToken?.trim();
  if (!token) return { status: "none", reason: "the order came from no online checkout" };
  // The checkout of a test order was a test too; checkouts carry no test flag to route it.
  if (o.test) return { status: "none", reason: "Shopify test order" };
  const order = graphqlOrderToPayload(o);
  const total = o.totalPriceSet?.presentmentMoney;
  const subtotal = o.subtotalPriceSet?.presentmentMoney;
  return {
    status: "payload",
    token,
    payload: {
      token,
      cart_token: o.cartToken ?? null,
      created_at: o.createdAt,
      email: o.email,
      phone: o.phone,
      currency: o.currencyCode,
      presentment_currency: total?.currencyCode ?? o.presentmentCurrencyCode ?? o.currencyCode,
      total_price: total?.amount ?? null,
      subtotal_price: subtotal?.amount ?? null,
      customer: order.customer,
      billing_address: order.billing_address,
      shipping_address: order.shipping_address,
      landing_site: order.landing_site,
      note_attributes: order.note_attributes,
      // The recovery URL belongs to abandoned checkouts; the builder falls back to the shop's checkout page.
      abandoned_checkout_url: null,
      source_name: o.sourceName,
      line_items: order.line_items,
    },
  };
}
