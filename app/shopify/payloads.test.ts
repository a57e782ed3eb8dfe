// The webhook schemas were reshaped for speed (checks with `.overwrite()` instead of unions and
// transforms). What they accept, what they hand on, and the reason a merchant reads for a
// payload they refuse must not have moved: these are the answers of the earlier schemas.
import { describe, expect, it } from "vitest";
import { describeIssues, gidMismatch, orderSchema } from "./payloads";

const order = () => ({
  id: 6100000000001,
  created_at: "2026-11-20T10:15:30-05:00",
  processed_at: "2026-11-20T10:15:30-05:00",
  email: "jane@example.com",
  currency: "USD",
  total_price: "64.00",
  total_price_set: {
    shop_money: { amount: "64.00", currency_code: "USD" },
    presentment_money: { amount: "59.26", currency_code: "EUR" },
  },
  customer: { id: 7200000000001, email: "jane@example.com", first_name: "Jane" },
  billing_address: { city: "Berlin", zip: "10115", country_code: "DE", phone: "030 1234567" },
  note_attributes: [{ name: "_fbp", value: "fb.1.1763650000000.1234567890" }],
  test: false,
  line_items: [
    {
      id: 15000000000001,
      variant_id: 45000000000001,
      product_id: 8800000000001,
      quantity: 1,
      price: "64.00",
      price_set: { presentment_money: { amount: "59.26", currency_code: "EUR" } },
    },
  ],
});

function withValue(path: string, value: unknown): Record<string, unknown> {
  const payload: any = order();
  const keys = path.split(".");
  let target = payload;
  for (const key of keys.slice(0, -1)) target = target[key];
  target[keys.at(-1)!] = value;
  return payload;
}

describe("orderSchema", () => {
  it.each([
    ["id", -1, "id: expected a numeric id"],
    ["id", "12a", "id: expected a numeric id"],
    ["customer.id", 1.5, "customer.id: expected a numeric id"],
    ["total_price", {}, "total_price: expected an amount"],
    ["total_price", Number.NaN, "total_price: expected an amount"],
    ["total_price_set.presentment_money.amount", true, "total_price_set.presentment_money.amount: expected an amount"],
    ["line_items.0.quantity", 1.5, "line_items.0.quantity: Invalid input: expected int, received number"],
    ["line_items.0.quantity", -1, "line_items.0.quantity: Too small: expected number to be >=0"],
    ["line_items.0.variant_id", "x", "line_items.0.variant_id: expected a numeric id"],
    ["note_attributes.0.name", null, "note_attributes.0.name: Invalid input"],
    ["note_attributes.0.name", Number.POSITIVE_INFINITY, "note_attributes.0.name: Invalid input"],
    ["note_attributes.0.value", {}, "note_attributes.0.value: Invalid input"],
    ["note_attributes.0.value", Number.NaN, "note_attributes.0.value: Invalid input"],
    ["created_at", "yesterday", "created_at: not a date-time"],
    ["email", 5, "email: Invalid input: expected string, received number"],
    ["test", "yes", "test: Invalid input: expected boolean, received string"],
    ["billing_address.zip", 94103, "billing_address.zip: Invalid input: expected string, received number"],
  ])("refuses %s = %j with the reason %j", (path, value, reason) => {
    const parsed = orderSchema.safeParse(withValue(path, value));
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(describeIssues(parsed.error)).toBe(reason);
  });

  it("hands ids and amounts on as text, whether Shopify wrote numbers or strings", () => {
    const parsed = orderSchema.parse({ ...withValue("total_price", 64), customer: { id: "7200000000001" } });
    expect(parsed.id).toBe("6100000000001");
    expect(parsed.customer?.id).toBe("7200000000001");
    expect(parsed.total_price).toBe("64");
    expect(parsed.line_items[0]).toMatchObject({
      variant_id: "45000000000001",
      product_id: "8800000000001",
      price: "64.00",
    });
  });

  it("reads cart attributes written as numbers or booleans as text, and a missing value as null", () => {
    const parsed = orderSchema.parse(
      withValue("note_attributes", [
        { name: 7, value: true },
        { name: "_fbp", value: 12 },
        { name: "x", value: null },
        { name: "y" },
      ]),
    );
    expect(parsed.note_attributes).toEqual([
      { name: "7", value: "true" },
      { name: "_fbp", value: "12" },
      { name: "x", value: null },
      { name: "y", value: null },
    ]);
  });
});

describe("gidMismatch: an id above 2^53 must agree with its admin_graphql_api_id", () => {
  it.each([
    ["the same id", "820982911946154508", "gid://shopify/Order/820982911946154508", undefined],
    ["no gid given", "820982911946154508", null, undefined],
    // Below 2^53 nothing rounds: a re-numbered payload keeps its id.
    ["a small re-numbered id", "5550001", "gid://shopify/Order/5678901234567", undefined],
    [
      "a rounded id",
      "820982911946154500",
      "gid://shopify/Order/820982911946154508",
      "admin_graphql_api_id names Order 820982911946154508 but id is 820982911946154500: an id was rounded on the way (a JSON parser without big integers?)",
    ],
    [
      "another big id",
      "820982911946154999",
      "gid://shopify/Order/820982911946154508",
      "admin_graphql_api_id names Order 820982911946154508 but id is 820982911946154999",
    ],
    [
      "a gid of another kind",
      "820982911946154508",
      "gid://shopify/Customer/820982911946154508",
      'admin_graphql_api_id "gid://shopify/Customer/820982911946154508" is not a Shopify Order id',
    ],
  ])("%s", (_name, id, gid, reason) => {
    expect(gidMismatch("Order", id, gid)).toBe(reason);
  });
});
