// Which shop a signed webhook belongs to. Shopify's HMAC covers the body only: the
// X-Shopify-Shop-Domain and X-Shopify-Topic headers are not signed, so one body captured
// anywhere (a log, a proxy) could be sent again under another shop's name or another topic:
// another shop's orders as fake Purchases at this shop's pixel, a shop/redact that deletes this
// shop's rows, an app/uninstalled that pauses its delivery. These rules bind a body to the shop
// its header names, from what the body itself says. Pure: the route (app/pipeline/
// webhook-route.server.ts) loads the facts and acts on the verdict.
import { z } from "zod";

export const LIFECYCLE_TOPICS = [
  "app/uninstalled",
  "app_subscriptions/update",
  "customers/data_request",
  "customers/redact",
  "shop/redact",
] as const;
export type LifecycleTopic = (typeof LIFECYCLE_TOPICS)[number];

export function isLifecycleTopic(topic: string): topic is LifecycleTopic {
  return (LIFECYCLE_TOPICS as readonly string[]).includes(topic);
}

/** What the app knows of the shop the header names. */
export interface ShopFacts {
  /** A Shop row or a Shopify session exists: the app was installed there at some time. */
  installed: boolean;
  /** The latest install (Shop.installedAt), when a Shop row exists. */
  installedAt: Date | null;
  uninstalledAt: Date | null;
  /** Shopify's numeric shop id, once a bound lifecycle or compliance webhook gave it. */
  shopifyId: string | null;
}

export interface WebhookClaim {
  topic: string;
  /** X-Shopify-Shop-Domain (already checked to be a myshopify.com domain by Shopify's library). */
  shop: string;
  payload: unknown;
  /** X-Shopify-Triggered-At, when sent. */
  triggeredAt?: Date | null;
}

export type Binding =
  /** Act on it; `shopifyId` is the shop id the body gave, to record when none is recorded yet. */
  | { verdict: "bound"; shopifyId?: string }
  /** Never installed here: nothing is stored, nothing is done. */
  | { verdict: "unknown_shop"; reason: string }
  /** The body contradicts the header (or the topic): recorded with the reason, never acted on. */
  | { verdict: "refused"; reason: string }
  /** An app/uninstalled from before the latest install, delivered late: recorded, not acted on. */
  | { verdict: "stale"; reason: string };

const id = z.union([z.number(), z.string()]).transform(String);
const domain = z.string().trim().toLowerCase();

// Only the fields the rules read; the rest of each body is the handlers' business.
const complianceSchema = z.object({ shop_domain: domain, shop_id: id.nullish() });
// app/uninstalled carries the Shop resource: `myshopify_domain`, and `domain` (the primary
// domain, which is the myshopify one unless the merchant set their own).
const uninstalledSchema = z.object({ id: id.nullish(), myshopify_domain: domain.nullish(), domain: domain.nullish() });
// app_subscriptions/update names its shop by id only (admin_graphql_api_shop_id), no domain.
const subscriptionSchema = z.object({
  app_subscription: z.object({ admin_graphql_api_shop_id: z.string().max(200).nullish() }),
});
const orderSchema = z.object({ order_status_url: z.string().nullish() });
const checkoutSchema = z.object({ abandoned_checkout_url: z.string().nullish() });

// The fields that tell a customer-level compliance body (data request, redact) from the others:
// a customers/redact body replayed as shop/redact must not delete the whole shop.
const CUSTOMER_FIELDS = ["customer", "orders_to_redact", "orders_requested", "data_request"] as const;
const DATA_REQUEST_FIELDS = ["orders_requested", "data_request"] as const;
const REDACT_FIELDS = ["orders_to_redact"] as const;
// Likewise an order's body sent as checkouts/create would be a made-up InitiateCheckout (an
// order carries a `token` too), and a checkout's as orders/create a Purchase nobody made.
const ORDER_FIELDS = ["order_number", "order_status_url", "financial_status"] as const;
const CHECKOUT_FIELDS = ["abandoned_checkout_url"] as const;

/** The shop a status or recovery URL names: its host when on myshopify.com, and the shop id its path starts with. */
export function shopInUrl(url: string | null | undefined): { host?: string; shopifyId?: string } {
  if (!url) return {};
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {};
  }
  const host = parsed.hostname.toLowerCase();
  // https://{shop}.myshopify.com/{shop id}/orders/{token}/authenticate?key=..., and
  // .../{shop id}/checkouts/... for a recovery link: the id is there on a custom domain too.
  const shopifyId = /^\/(\d+)\/(orders|checkouts)\//.exec(parsed.pathname)?.[1];
  return { ...(host.endsWith(".myshopify.com") ? { host } : {}), ...(shopifyId ? { shopifyId } : {}) };
}

function idMismatch(facts: ShopFacts, given: string | null | undefined, where: string): Binding | undefined {
  if (!given || !facts.shopifyId || given === facts.shopifyId) return undefined;
  return { verdict: "refused", reason: `${where} names shop id ${given}, not this shop's (${facts.shopifyId})` };
}

/** The fields of `fields` a body carries (none when it is not an object: the handlers refuse it). */
const present = (payload: unknown, fields: readonly string[]) =>
  typeof payload === "object" && payload !== null
    ? fields.filter((f) => (payload as Record<string, unknown>)[f] !== undefined)
    : [];

function bindLifecycle(claim: WebhookClaim & { topic: LifecycleTopic }, facts: ShopFacts): Binding {
  const shop = claim.shop.toLowerCase();
  if (claim.topic === "app/uninstalled") {
    const parsed = uninstalledSchema.safeParse(claim.payload);
    const named = parsed.success ? (parsed.data.myshopify_domain ?? parsed.data.domain) : undefined;
    if (!parsed.success || !named)
      return { verdict: "refused", reason: "the app/uninstalled body names no shop (myshopify_domain)" };
    if (named !== shop) return { verdict: "refused", reason: `the body is ${named}'s, not ${shop}'s` };
    const mismatch = idMismatch(facts, parsed.data.id, "the body");
    if (mismatch) return mismatch;
    // Webhooks are unordered: an uninstall triggered before the latest install came late, and
    // acting on it would pause (and sign out) the shop that has just installed again.
    if (claim.triggeredAt && facts.installedAt && claim.triggeredAt.getTime() < facts.installedAt.getTime()) {
      return {
        verdict: "stale",
        reason: `uninstall of ${claim.triggeredAt.toISOString()} ignored: installed again at ${facts.installedAt.toISOString()}`,
      };
    }
    return { verdict: "bound", ...(parsed.data.id ? { shopifyId: parsed.data.id } : {}) };
  }
  if (claim.topic === "app_subscriptions/update") {
    const parsed = subscriptionSchema.safeParse(claim.payload);
    if (!parsed.success)
      return { verdict: "refused", reason: "the app_subscriptions/update body has no app_subscription" };
    // The body's shop id is checked against the recorded one, never recorded from it: with no
    // domain in the body, a foreign body could otherwise plant its shop's id here. The handler
    // reads the subscription back from Shopify for the header's shop anyway.
    const gid = parsed.data.app_subscription.admin_graphql_api_shop_id;
    const given = gid ? (/^gid:\/\/shopify\/Shop\/(\d+)$/.exec(gid)?.[1] ?? gid) : undefined;
    return idMismatch(facts, given, "the body") ?? { verdict: "bound" };
  }
  const parsed = complianceSchema.safeParse(claim.payload);
  if (!parsed.success) return { verdict: "refused", reason: `the ${claim.topic} body names no shop (shop_domain)` };
  if (parsed.data.shop_domain !== shop)
    return { verdict: "refused", reason: `the body is ${parsed.data.shop_domain}'s, not ${shop}'s` };
  const mismatch = idMismatch(facts, parsed.data.shop_id, "the body");
  if (mismatch) return mismatch;
  // The header's topic is not signed either: a body must have its topic's shape.
  const body = claim.payload as Record<string, unknown>;
  const foreign =
    claim.topic === "shop/redact"
      ? present(body, CUSTOMER_FIELDS)
      : present(body, claim.topic === "customers/redact" ? DATA_REQUEST_FIELDS : REDACT_FIELDS);
  if (foreign.length)
    return { verdict: "refused", reason: `a body with ${foreign.join(", ")} is not a ${claim.topic}` };
  // Shopify sends shop/redact 48 hours after app/uninstalled: while the app is installed it can
  // only be an old one replayed, and it would delete every row of a working shop.
  if (claim.topic === "shop/redact" && !facts.uninstalledAt) {
    return {
      verdict: "refused",
      reason: "shop/redact while the app is installed (Shopify sends it 48 hours after app/uninstalled)",
    };
  }
  return { verdict: "bound", ...(parsed.data.shop_id ? { shopifyId: parsed.data.shop_id } : {}) };
}

/** The verdict on one verified webhook. */
export function bindWebhook(claim: WebhookClaim, facts: ShopFacts): Binding {
  // Nothing is stored for a shop that never installed: anyone with one signed body could
  // otherwise fill the tables under any number of made-up shop domains.
  if (!facts.installed) return { verdict: "unknown_shop", reason: `the app is not installed on ${claim.shop}` };
  if (isLifecycleTopic(claim.topic)) return bindLifecycle({ ...claim, topic: claim.topic }, facts);
  const foreign = present(claim.payload, claim.topic === "checkouts/create" ? ORDER_FIELDS : CHECKOUT_FIELDS);
  if (foreign.length)
    return { verdict: "refused", reason: `a body with ${foreign.join(", ")} is not a ${claim.topic}` };
  // An order or checkout names its shop only through its status or recovery link; a body
  // without one (POS, draft orders, the Admin API's) is bound by nothing more than its signature.
  const url =
    claim.topic === "checkouts/create"
      ? checkoutSchema.safeParse(claim.payload).data?.abandoned_checkout_url
      : orderSchema.safeParse(claim.payload).data?.order_status_url;
  const named = shopInUrl(url);
  const shop = claim.shop.toLowerCase();
  if (named.host && named.host !== shop)
    return { verdict: "refused", reason: `the body is ${named.host}'s, not ${shop}'s` };
  return idMismatch(facts, named.shopifyId, "the body's link") ?? { verdict: "bound" };
}
