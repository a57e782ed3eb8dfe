// zod schemas for the Shopify webhook payloads the event core reads. Only the fields the event
// core uses are declared; everything else Shopify sends is tolerated (and dropped), so a new
// field in a future API version never rejects an order. Shopify sends null for absent values,
// so almost everything is nullish.
//
// Every order goes through here, so the schemas are shaped for speed as well: single-function
// checks instead of unions (a union tries each branch and collects errors), and conversions as
// `.overwrite()` on the checked value instead of `.transform()`, which would add a pipe of two
// more schema nodes to every id and amount.
import { z } from "zod";

// zod runs an overwrite even after its check failed: only numbers are converted.
const asText = (v: string) => (typeof v === "number" ? String(v) : v);
const isId = (v: unknown) =>
  (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) || (typeof v === "string" && /^\d+$/.test(v));
/** Shopify ids are integers in REST payloads; we always handle them as strings. */
const id = z.custom<string>(isId, "expected a numeric id").overwrite(asText);
const text = z.string().nullish();
const isAmount = (v: unknown) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
/** Amounts are decimal strings in REST payloads; a number is taken as its decimal text. */
const money = z.custom<string>(isAmount, "expected an amount").overwrite(asText).nullish();
const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not a date-time");

// One schema instance per shape wherever it recurs: zod's parse code then sees fewer distinct
// schemas at each call site, and V8 keeps those calls fast.
const optionalId = id.nullish();
const amountInCurrency = z.object({ amount: money, currency_code: text }).nullish();
const moneySet = z.object({ shop_money: amountInCurrency, presentment_money: amountInCurrency }).nullish();

export const addressSchema = z.object({
  first_name: text,
  last_name: text,
  city: text,
  province: text,
  province_code: text,
  zip: text,
  country_code: text,
  phone: text,
});
export type ShopifyAddress = z.infer<typeof addressSchema>;
const optionalAddress = addressSchema.nullish();

export const customerSchema = z.object({
  id: optionalId,
  admin_graphql_api_id: text,
  email: text,
  phone: text,
  first_name: text,
  last_name: text,
  default_address: optionalAddress,
});
const optionalCustomer = customerSchema.nullish();

// Cart attributes arrive as strings; an app may have written a number or a boolean.
const isName = (v: unknown) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
const isValue = (v: unknown) => v === null || isName(v) || typeof v === "boolean";
const noteAttributeSchema = z.object({
  name: z.custom<string>(isName).overwrite(asText),
  value: z
    .custom<string | null>(isValue)
    .overwrite((v) => (v === null || typeof v === "string" ? v : String(v)))
    .default(null),
});
const noteAttributes = z.array(noteAttributeSchema).nullish();

export const lineItemSchema = z.object({
  product_id: optionalId,
  variant_id: optionalId,
  sku: text,
  quantity: z.number().int().nonnegative(),
  price: money,
  price_set: moneySet,
  gift_card: z.boolean().nullish(),
  /** Present only on a tip's line (with tip_payment_method): the gateway that took the tip. */
  tip_payment_gateway: text,
});
export type ShopifyLineItem = z.infer<typeof lineItemSchema>;
const lineItems = z.array(lineItemSchema);

// "gid://shopify/Order/820982911946154508": the same id as text, which no JSON parser rounds.
const GID = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(\?.*)?$/;

const isSafeId = (digits: string) => Number.isSafeInteger(Number(digits));

/**
 * Why a record's `admin_graphql_api_id` does not name the record's own `id`, if it does not.
 * Shopify always sends the two alike; ids above 2^53 that differ mean one was rounded on the
 * way (a JSON parser without big integers, somewhere between Shopify and us), and events built
 * from it would name another order or customer. Below 2^53 nothing rounds, and a differing
 * pair is a re-numbered payload (test data, a replay tool): `id` stands, as it always has.
 */
export function gidMismatch(
  kind: string,
  id: string | null | undefined,
  gid: string | null | undefined,
): string | undefined {
  if (!gid || id === null || id === undefined) return undefined;
  const match = GID.exec(gid);
  if (!match || match[1] !== kind) return `admin_graphql_api_id "${gid}" is not a Shopify ${kind} id`;
  const named = match[2]!;
  if (named === id || (isSafeId(named) && isSafeId(id))) return undefined;
  const rounded =
    Number(named) === Number(id) ? ": an id was rounded on the way (a JSON parser without big integers?)" : "";
  return `admin_graphql_api_id names ${kind} ${named} but id is ${id}${rounded}`;
}

export const orderSchema = z.object({
  id,
  admin_graphql_api_id: text,
  created_at: timestamp,
  processed_at: timestamp.nullish(),
  email: text,
  contact_email: text,
  phone: text,
  currency: z.string(),
  total_price: money,
  subtotal_price: money,
  total_price_set: moneySet,
  subtotal_price_set: moneySet,
  /** Tips in the shop currency (REST orders); tip lines carry them in both currencies. */
  total_tip_received: money,
  customer: optionalCustomer,
  billing_address: optionalAddress,
  shipping_address: optionalAddress,
  client_details: z.object({ browser_ip: text, user_agent: text }).nullish(),
  /** The buyer's IP as Shopify saw it at checkout, next to client_details. */
  browser_ip: text,
  landing_site: text,
  note_attributes: noteAttributes,
  order_status_url: text,
  test: z.boolean().nullish(),
  source_name: text,
  financial_status: text,
  cancelled_at: timestamp.nullish(),
  line_items: lineItems,
});
export type ShopifyOrder = z.infer<typeof orderSchema>;

export const checkoutSchema = z.object({
  id: optionalId,
  token: z.string().min(1),
  cart_token: text,
  created_at: timestamp,
  email: text,
  phone: text,
  currency: text,
  presentment_currency: text,
  total_price: money,
  subtotal_price: money,
  customer: optionalCustomer,
  billing_address: optionalAddress,
  shipping_address: optionalAddress,
  landing_site: text,
  note_attributes: noteAttributes,
  abandoned_checkout_url: text,
  source_name: text,
  line_items: lineItems,
});
export type ShopifyCheckout = z.infer<typeof checkoutSchema>;

/** One line naming the first problem, for logs, receipts and the CLI's stderr. */
export function describeIssues(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return "invalid payload";
  const where = first.path.length ? first.path.join(".") : "payload";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : "";
  return `${where}: ${first.message}${more}`;
}
