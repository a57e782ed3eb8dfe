// The rules that bind a signed webhook body to the shop its (unsigned) header names.
import { describe, expect, it } from "vitest";
import { bindWebhook, shopInUrl, type ShopFacts, type WebhookClaim } from "./webhook-binding";

const A = "shop-a.myshopify.com";
const B = "shop-b.myshopify.com";
const T = new Date("2026-12-01T12:00:00Z");
const later = (ms: number) => new Date(T.getTime() + ms);

const installed: ShopFacts = { installed: true, installedAt: T, uninstalledAt: null, shopifyId: null };
const withId: ShopFacts = { ...installed, shopifyId: "111" };
const uninstalled: ShopFacts = { ...withId, uninstalledAt: later(60_000) };
const never: ShopFacts = { installed: false, installedAt: null, uninstalledAt: null, shopifyId: null };

const statusUrl = (host: string, id = "111") => `https://${host}/${id}/orders/0123abcd/authenticate?key=secret`;
const recoverUrl = (host: string, id = "111") => `https://${host}/${id}/checkouts/ac/Z2Nw/recover?key=secret`;
const redact = (shop: string, id: number | string = 111) => ({
  shop_id: id,
  shop_domain: shop,
  customer: { id: 7, email: "a@b.c", phone: null },
  orders_to_redact: [1],
});
const dataRequest = (shop: string) => ({
  shop_id: 111,
  shop_domain: shop,
  customer: { id: 7 },
  orders_requested: [1],
  data_request: { id: 9 },
});
const shopRedact = (shop: string, id: number | string = 111) => ({ shop_id: id, shop_domain: shop });
const shopResource = (shop: string, id = 111) => ({ id, name: "A", domain: "www.example.com", myshopify_domain: shop });

const subscription = (shopId: string | null) => ({
  app_subscription: {
    admin_graphql_api_id: "gid://shopify/AppSubscription/9",
    name: "Growth",
    status: "CANCELLED",
    admin_graphql_api_shop_id: shopId === null ? null : `gid://shopify/Shop/${shopId}`,
  },
});

type Row = [name: string, claim: WebhookClaim, facts: ShopFacts, verdict: string, reason?: RegExp];

describe("bindWebhook", () => {
  it("never records a shop id from app_subscriptions/update (its body names no domain)", () => {
    expect(
      bindWebhook({ topic: "app_subscriptions/update", shop: A, payload: subscription("222") }, installed),
    ).toEqual({
      verdict: "bound",
    });
  });

  it.each<Row>([
    // A shop that never installed: nothing is stored, whatever the body.
    [
      "orders for a shop that never installed",
      { topic: "orders/create", shop: B, payload: { id: 1 } },
      never,
      "unknown_shop",
      /not installed/,
    ],
    [
      "a shop/redact for a shop that never installed",
      { topic: "shop/redact", shop: B, payload: shopRedact(B) },
      never,
      "unknown_shop",
    ],

    // app_subscriptions/update: its shop id only (no domain in the body), never recorded from it.
    [
      "app_subscriptions/update of the recorded shop id",
      { topic: "app_subscriptions/update", shop: A, payload: subscription("111") },
      withId,
      "bound",
    ],
    [
      "app_subscriptions/update of another shop id (replayed)",
      { topic: "app_subscriptions/update", shop: A, payload: subscription("222") },
      withId,
      "refused",
      /shop id 222, not this shop's \(111\)/,
    ],
    [
      "app_subscriptions/update before any shop id is recorded",
      { topic: "app_subscriptions/update", shop: A, payload: subscription("222") },
      installed,
      "bound",
    ],
    [
      "app_subscriptions/update without its app_subscription",
      { topic: "app_subscriptions/update", shop: A, payload: shopRedact(A) },
      withId,
      "refused",
      /no app_subscription/,
    ],
    [
      "app_subscriptions/update for a shop that never installed",
      { topic: "app_subscriptions/update", shop: B, payload: subscription("111") },
      never,
      "unknown_shop",
    ],

    // Compliance topics: shop_domain and shop_id.
    [
      "customers/redact of the header's shop",
      { topic: "customers/redact", shop: A, payload: redact(A) },
      installed,
      "bound",
    ],
    [
      "customers/redact of another shop (replayed)",
      { topic: "customers/redact", shop: B, payload: redact(A) },
      installed,
      "refused",
      /shop-a.*not shop-b/,
    ],
    [
      "the domain compared without case",
      { topic: "customers/redact", shop: A, payload: redact("Shop-A.myshopify.com") },
      installed,
      "bound",
    ],
    [
      "a shop id other than the one recorded",
      { topic: "customers/redact", shop: A, payload: redact(A, 222) },
      withId,
      "refused",
      /222.*111/,
    ],
    [
      "the recorded shop id, as text",
      { topic: "customers/redact", shop: A, payload: redact(A, "111") },
      withId,
      "bound",
    ],
    [
      "a compliance body without shop_domain",
      { topic: "customers/data_request", shop: A, payload: { customer: { id: 7 } } },
      installed,
      "refused",
      /names no shop/,
    ],
    [
      "an order body posted as customers/redact",
      { topic: "customers/redact", shop: A, payload: { id: 5, order_status_url: statusUrl(A) } },
      installed,
      "refused",
    ],
    [
      "customers/data_request of the header's shop",
      { topic: "customers/data_request", shop: A, payload: dataRequest(A) },
      installed,
      "bound",
    ],
    [
      "customers/data_request of another shop",
      { topic: "customers/data_request", shop: B, payload: dataRequest(A) },
      installed,
      "refused",
    ],
    // The topic header is not signed either: each body must have its topic's shape.
    [
      "a customers/redact body posted as shop/redact",
      { topic: "shop/redact", shop: A, payload: redact(A) },
      uninstalled,
      "refused",
      /customer.*not a shop\/redact/,
    ],
    [
      "a data request body posted as customers/redact",
      { topic: "customers/redact", shop: A, payload: dataRequest(A) },
      installed,
      "refused",
      /orders_requested/,
    ],
    [
      "a redact body posted as customers/data_request",
      { topic: "customers/data_request", shop: A, payload: redact(A) },
      installed,
      "refused",
      /orders_to_redact/,
    ],
    [
      "shop/redact after app/uninstalled",
      { topic: "shop/redact", shop: A, payload: shopRedact(A) },
      uninstalled,
      "bound",
    ],
    [
      "shop/redact while installed (an old one replayed)",
      { topic: "shop/redact", shop: A, payload: shopRedact(A) },
      withId,
      "refused",
      /installed/,
    ],
    [
      "shop/redact of another shop",
      { topic: "shop/redact", shop: B, payload: shopRedact(A) },
      uninstalled,
      "refused",
      /shop-a/,
    ],

    // app/uninstalled: the Shop resource.
    [
      "app/uninstalled of the header's shop",
      { topic: "app/uninstalled", shop: A, payload: shopResource(A) },
      withId,
      "bound",
    ],
    [
      "app/uninstalled of another shop",
      { topic: "app/uninstalled", shop: B, payload: shopResource(A) },
      installed,
      "refused",
      /shop-a/,
    ],
    [
      "app/uninstalled with another shop id",
      { topic: "app/uninstalled", shop: A, payload: shopResource(A, 222) },
      withId,
      "refused",
      /222/,
    ],
    [
      "app/uninstalled naming its shop by `domain` only",
      { topic: "app/uninstalled", shop: A, payload: { id: 111, domain: A } },
      installed,
      "bound",
    ],
    [
      "a compliance body posted as app/uninstalled",
      { topic: "app/uninstalled", shop: A, payload: shopRedact(A) },
      installed,
      "refused",
      /names no shop/,
    ],
    [
      "an order body posted as app/uninstalled",
      { topic: "app/uninstalled", shop: A, payload: { id: 5 } },
      installed,
      "refused",
    ],
    [
      "app/uninstalled triggered before the latest install (delivered late)",
      { topic: "app/uninstalled", shop: A, payload: shopResource(A), triggeredAt: new Date(T.getTime() - 1) },
      installed,
      "stale",
      /installed again/,
    ],
    [
      "app/uninstalled triggered after the install",
      { topic: "app/uninstalled", shop: A, payload: shopResource(A), triggeredAt: later(1) },
      installed,
      "bound",
    ],

    // Orders and checkouts: their status or recovery link.
    [
      "an order whose status page is the header's shop",
      { topic: "orders/create", shop: A, payload: { id: 5, order_status_url: statusUrl(A) } },
      withId,
      "bound",
    ],
    [
      "another shop's order (replayed)",
      { topic: "orders/create", shop: B, payload: { id: 5, order_status_url: statusUrl(A) } },
      installed,
      "refused",
      /shop-a.*not shop-b/,
    ],
    [
      "orders/paid of another shop",
      { topic: "orders/paid", shop: B, payload: { id: 5, order_status_url: statusUrl(A) } },
      installed,
      "refused",
    ],
    [
      "an order on a custom domain, another shop id in its link",
      { topic: "orders/create", shop: A, payload: { id: 5, order_status_url: statusUrl("shop.example.com", "222") } },
      withId,
      "refused",
      /link.*222/,
    ],
    [
      "an order on a custom domain, shop id not recorded yet",
      { topic: "orders/create", shop: A, payload: { id: 5, order_status_url: statusUrl("shop.example.com", "222") } },
      installed,
      "bound",
    ],
    [
      "an order without a status link (POS, draft)",
      { topic: "orders/create", shop: A, payload: { id: 5, order_status_url: null } },
      withId,
      "bound",
    ],
    [
      "a status link that is not a URL",
      { topic: "orders/create", shop: A, payload: { id: 5, order_status_url: "not a url" } },
      withId,
      "bound",
    ],
    [
      "a body that is not an order (ingest rejects it)",
      { topic: "orders/create", shop: A, payload: [1, 2] },
      withId,
      "bound",
    ],
    [
      "a checkout whose recovery link is the header's shop",
      { topic: "checkouts/create", shop: A, payload: { token: "t", abandoned_checkout_url: recoverUrl(A) } },
      withId,
      "bound",
    ],
    [
      "another shop's checkout",
      { topic: "checkouts/create", shop: B, payload: { token: "t", abandoned_checkout_url: recoverUrl(A) } },
      installed,
      "refused",
    ],
    // The topic header again: an order carries a token, a checkout line items and prices.
    [
      "the shop's own order posted as checkouts/create",
      {
        topic: "checkouts/create",
        shop: A,
        payload: { id: 5, token: "t", order_number: 1001, order_status_url: statusUrl(A) },
      },
      withId,
      "refused",
      /order_number, order_status_url.*not a checkouts\/create/,
    ],
    [
      "an order without a status link posted as checkouts/create",
      { topic: "checkouts/create", shop: A, payload: { id: 5, token: "t", financial_status: "paid" } },
      withId,
      "refused",
      /financial_status/,
    ],
    [
      "the shop's own checkout posted as orders/create",
      { topic: "orders/create", shop: A, payload: { token: "t", abandoned_checkout_url: recoverUrl(A) } },
      withId,
      "refused",
      /abandoned_checkout_url.*not a orders\/create/,
    ],
    [
      "a checkout posted as orders/paid, recovery link empty",
      { topic: "orders/paid", shop: A, payload: { token: "t", abandoned_checkout_url: null } },
      withId,
      "refused",
    ],
  ])("%s", (_name, claim, facts, verdict, reason) => {
    const binding = bindWebhook(claim, facts);
    expect(binding.verdict).toBe(verdict);
    if (reason) expect("reason" in binding ? binding.reason : "").toMatch(reason);
  });

  it("a bound compliance or uninstall body gives the shop id to record", () => {
    expect(bindWebhook({ topic: "customers/redact", shop: A, payload: redact(A, 111) }, installed)).toEqual({
      verdict: "bound",
      shopifyId: "111",
    });
    expect(bindWebhook({ topic: "app/uninstalled", shop: A, payload: shopResource(A, 333) }, installed)).toEqual({
      verdict: "bound",
      shopifyId: "333",
    });
    expect(
      bindWebhook({ topic: "orders/create", shop: A, payload: { order_status_url: statusUrl(A, "444") } }, installed),
    ).toEqual({ verdict: "bound" });
  });
});

describe("shopInUrl", () => {
  it.each([
    [statusUrl(A), { host: A, shopifyId: "111" }],
    [recoverUrl("SHOP-A.myshopify.com"), { host: A, shopifyId: "111" }],
    ["https://checkout.local/548380009/checkouts/123/recover?key=x", { shopifyId: "548380009" }],
    ["https://shop.example.com/pages/about", {}],
    ["junk", {}],
    [null, {}],
  ])("%s", (url, expected) => {
    expect(shopInUrl(url)).toEqual(expected);
  });
});
