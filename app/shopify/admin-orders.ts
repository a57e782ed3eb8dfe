// Recent orders through the Admin GraphQL API, for reconciliation: the webhooks Shopify never
// delivered still become events while Meta's window is open. GraphQL answers are validated
// with zod and mapped onto the REST webhook shape, so one event builder serves both paths.
import { z } from "zod";

export const RECENT_ORDERS_QUERY = `#graphql
query RecentOrders($query: String!, $after: String) {
  orders(first: 100, after: $after, query: $query, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt processedAt cancelledAt email phone test sourceName statusPageUrl clientIp checkoutToken cartToken
      displayFinancialStatus currencyCode presentmentCurrencyCode
      totalTipReceivedSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
      totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
      subtotalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
      customer { id email phone firstName lastName }
      billingAddress { firstName lastName city province provinceCode zip countryCodeV2 phone }
      shippingAddress { firstName lastName city province provinceCode zip countryCodeV2 phone }
      customAttributes { key value }
      customerJourneySummary { firstVisit { landingPage } }
      lineItems(first: 100) {
        nodes {
          quantity sku title
          variant { id }
          product { id }
          originalUnitPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
        }
      }
    }
  }
}`;

const money = z.object({ amount: z.string(), currencyCode: z.string() });
const moneyBag = z.object({ shopMoney: money, presentmentMoney: money }).nullish();
const gid = z.string().regex(/\/\d+$/);
const address = z
  .object({
    firstName: z.string().nullish(),
    lastName: z.string().nullish(),
    city: z.string().nullish(),
    province: z.string().nullish(),
    provinceCode: z.string().nullish(),
    zip: z.string().nullish(),
    countryCodeV2: z.string().nullish(),
    phone: z.string().nullish(),
  })
  .nullish();

export const graphqlOrderSchema = z.object({
  id: gid,
  name: z.string().nullish(),
  createdAt: z.string(),
  processedAt: z.string().nullish(),
  cancelledAt: z.string().nullish(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
  test: z.boolean().nullish(),
  sourceName: z.string().nullish(),
  statusPageUrl: z.string().nullish(),
  clientIp: z.string().nullish(),
  /** Since API 2026-07: the checkout's token, which the web pixel's checkout_started carries. */
  checkoutToken: z.string().nullish(),
  cartToken: z.string().nullish(),
  displayFinancialStatus: z.string().nullish(),
  currencyCode: z.string(),
  presentmentCurrencyCode: z.string().nullish(),
  totalPriceSet: moneyBag,
  subtotalPriceSet: moneyBag,
  totalTipReceivedSet: moneyBag,
  customer: z
    .object({
      id: gid,
      email: z.string().nullish(),
      phone: z.string().nullish(),
      firstName: z.string().nullish(),
      lastName: z.string().nullish(),
    })
    .nullish(),
  billingAddress: address,
  shippingAddress: address,
  customAttributes: z.array(z.object({ key: z.string(), value: z.string().nullish() })).nullish(),
  customerJourneySummary: z.object({ firstVisit: z.object({ landingPage: z.string().nullish() }).nullish() }).nullish(),
  lineItems: z.object({
    nodes: z.array(
      z.object({
        quantity: z.number().int(),
        sku: z.string().nullish(),
        title: z.string().nullish(),
        variant: z.object({ id: gid }).nullish(),
        product: z.object({ id: gid }).nullish(),
        originalUnitPriceSet: moneyBag,
      }),
    ),
  }),
});
export type GraphqlOrder = z.infer<typeof graphqlOrderSchema>;

/**
 * The recent orders' heads, newest first, for the accuracy report (app/pipeline/accuracy.ts):
 * the same orders as RECENT_ORDERS_QUERY, only what counting them needs, 250 to a page.
 */
export const RECENT_ORDER_HEADS_QUERY = `#graphql
query RecentOrderHeads($query: String!, $after: String) {
  orders(first: 250, after: $after, query: $query, sortKey: CREATED_AT, reverse: true) {
    pageInfo { hasNextPage endCursor }
    nodes { id createdAt test }
  }
}`;

export const graphqlOrderHeadSchema = graphqlOrderSchema.pick({ id: true, createdAt: true, test: true });
export type GraphqlOrderHead = z.infer<typeof graphqlOrderHeadSchema>;

/** An order's id as its Purchase's event_id holds it (the REST webhook's `id`, as text). */
export function orderEventId(gidValue: string): string {
  return String(numericId(gidValue));
}

/** The id of a gid as REST writes it: a number, or its exact digits above 2^53 (never rounded). */
function numericId(id: string): number | string {
  const digits = id.slice(id.lastIndexOf("/") + 1);
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : digits;
}

function restMoney(bag: z.infer<typeof moneyBag>) {
  if (!bag) return null;
  return {
    shop_money: { amount: bag.shopMoney.amount, currency_code: bag.shopMoney.currencyCode },
    presentment_money: { amount: bag.presentmentMoney.amount, currency_code: bag.presentmentMoney.currencyCode },
  };
}

function restAddress(a: z.infer<typeof address>) {
  if (!a) return null;
  return {
    first_name: a.firstName,
    last_name: a.lastName,
    city: a.city,
    province: a.province,
    province_code: a.provinceCode,
    zip: a.zip,
    country_code: a.countryCodeV2,
    phone: a.phone,
  };
}

/**
 * The REST webhook shape of a GraphQL order. GraphQL has no user agent: the storefront
 * embed's `_capi_ua` cart attribute supplies it when the buyer's browser ran it.
 */
export function graphqlOrderToPayload(o: GraphqlOrder): Record<string, unknown> {
  return {
    id: numericId(o.id),
    name: o.name,
    created_at: o.createdAt,
    processed_at: o.processedAt ?? o.createdAt,
    cancelled_at: o.cancelledAt ?? null,
    email: o.email,
    phone: o.phone,
    test: o.test ?? false,
    source_name: o.sourceName,
    order_status_url: o.statusPageUrl,
    financial_status: o.displayFinancialStatus?.toLowerCase() ?? null,
    currency: o.currencyCode,
    presentment_currency: o.presentmentCurrencyCode ?? o.currencyCode,
    total_price: o.totalPriceSet?.shopMoney.amount ?? null,
    subtotal_price: o.subtotalPriceSet?.shopMoney.amount ?? null,
    total_price_set: restMoney(o.totalPriceSet),
    subtotal_price_set: restMoney(o.subtotalPriceSet),
    total_tip_received: o.totalTipReceivedSet?.shopMoney.amount ?? null,
    customer: o.customer
      ? {
          id: numericId(o.customer.id),
          email: o.customer.email,
          phone: o.customer.phone,
          first_name: o.customer.firstName,
          last_name: o.customer.lastName,
        }
      : null,
    billing_address: restAddress(o.billingAddress),
    shipping_address: restAddress(o.shippingAddress),
    client_details: o.clientIp ? { browser_ip: o.clientIp, user_agent: null } : null,
    checkout_token: o.checkoutToken ?? null,
    cart_token: o.cartToken ?? null,
    landing_site: o.customerJourneySummary?.firstVisit?.landingPage ?? null,
    note_attributes: (o.customAttributes ?? []).map((a) => ({ name: a.key, value: a.value ?? null })),
    line_items: o.lineItems.nodes.map((li) => ({
      quantity: li.quantity,
      sku: li.sku,
      title: li.title,
      variant_id: li.variant ? numericId(li.variant.id) : null,
      product_id: li.product ? numericId(li.product.id) : null,
      price: li.originalUnitPriceSet?.shopMoney.amount ?? null,
      price_set: restMoney(li.originalUnitPriceSet),
    })),
  };
}
