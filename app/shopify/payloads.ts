// zod schemas for the Shopify webhook payloads the event core reads. Only the fields we use
// are declared; everything else Shopify sends is tolerated (and dropped), so a new field in a
// future API version never rejects an order. Shopify sends null for absent values, so
// almost everything is nullish.
import { z } from "zod";

// Single-function checks instead of unions: a webhook burst parses thousands of these per
// second, and a union tries each branch and collects errors.
/** Shopify ids are integers in REST payloads; we always handle them as strings. */
const id = z
  .custom<number | string>(
    (v) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) || (typeof v === "string" && /^\d+$/.test(v)),
    "expected a numeric id",
  )
  .transform(String);
const text = z.string().nullish();
const money = z
  .custom<string | number>((v) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v)), "expected an amount")
  .transform(String)
  .nullish();
const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not a date-time");

const moneySet = z
  .object({
    shop_money: z.object({ amount: money, currency_code: text }).nullish(),
    presentment_money: z.object({ amount: money, currency_code: text }).nullish(),
  })
  .nullish();

export const addressSchema = z.object({
  first_name: text,
  last_name: text,
  city: text,
  province: text,
  province_code: text,
  zip: text,
  country: text,
  country_code: text,
  phone: text,
});
export type ShopifyAddress = z.infer<typeof addressSchema>;

export const customerSchema = z.object({
  id: id.nullish(),
  email: text,
  phone: text,
  first_name: text,
  last_name: text,
  default_address: addressSchema.nullish(),
});

const noteAttributeSchema = z.object({
  name: z.union([z.string(), z.number()]).transform(String),
  value: z.union([z.string(), z.number(), z.boolean()]).nullish().transform((v) => (v == null ? null : String(v))),
});

export const lineItemSchema = z.object({
  id: id.nullish(),
  product_id: id.nullish(),
  variant_id: id.nullish(),
  sku: text,
  title: text,
  quantity: z.number().int().nonnegative(),
  price: money,
  price_set: moneySet,
});
export type ShopifyLineItem = z.infer<typeof lineItemSchema>;

export const orderSchema = z.object({
  id,
  name: text,
  created_at: timestamp,
  processed_at: timestamp.nullish(),
  email: text,
  contact_email: text,
  phone: text,
  currency: z.string(),
  presentment_currency: text,
  total_price: money,
  subtotal_price: money,
  total_price_set: moneySet,
  subtotal_price_set: moneySet,
  customer: customerSchema.nullish(),
  billing_address: addressSchema.nullish(),
  shipping_address: addressSchema.nullish(),
  client_details: z
    .object({ browser_ip: text, user_agent: text, accept_language: text })
    .nullish(),
  landing_site: text,
  note_attributes: z.array(noteAttributeSchema).nullish(),
  checkout_token: text,
  cart_token: text,
  order_status_url: text,
  test: z.boolean().nullish(),
  source_name: text,
  financial_status: text,
  line_items: z.array(lineItemSchema),
});
export type ShopifyOrder = z.infer<typeof orderSchema>;

export const checkoutSchema = z.object({
  id: id.nullish(),
  token: z.string().min(1),
  cart_token: text,
  created_at: timestamp,
  email: text,
  phone: text,
  currency: text,
  presentment_currency: text,
  total_price: money,
  subtotal_price: money,
  customer: customerSchema.nullish(),
  billing_address: addressSchema.nullish(),
  shipping_address: addressSchema.nullish(),
  landing_site: text,
  note_attributes: z.array(noteAttributeSchema).nullish(),
  abandoned_checkout_url: text,
  source_name: text,
  line_items: z.array(lineItemSchema),
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
