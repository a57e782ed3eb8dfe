import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LOSSLESS_PARSE_SUPPORTED, losslessPayload, mayHoldUnsafeIntegers, parseWebhookJson } from "./webhook-json";

// Shopify's documented orders/create sample (shopify.dev/docs/api/webhooks, 2026-07), as sent.
const SAMPLE = readFileSync(
  path.resolve(__dirname, "../../test/fixtures/shopify/shopify-sample-orders-create.json"),
  "utf8",
);

/** The tree with every big id, rounded number or exact text, replaced by one marker. */
function withoutBigIds(value: unknown): unknown {
  if (typeof value === "number" && !Number.isSafeInteger(value)) return "<big>";
  if (typeof value === "string" && /^\d{16,}$/.test(value)) return "<big>";
  if (Array.isArray(value)) return value.map(withoutBigIds);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutBigIds(v)]));
  return value;
}

describe("parseWebhookJson: ids above 2^53 read exactly", () => {
  it("runs on a runtime that gives revivers the source text (Node 22)", () => {
    expect(LOSSLESS_PARSE_SUPPORTED).toBe(true);
  });

  it("keeps Shopify's 18-digit ids of the documented sample, which JSON.parse rounds", () => {
    const rounded = JSON.parse(SAMPLE);
    expect(String(rounded.id)).toBe("820982911946154500");
    const order = parseWebhookJson(SAMPLE) as Record<string, any>;
    expect(order.id).toBe("820982911946154508");
    expect(order.customer.id).toBe("115310627314723954");
    expect(order.customer.default_address.customer_id).toBe("115310627314723954");
    expect(order.line_items.map((li: any) => li.id)).toEqual([
      "487817672276298554",
      "789012345678901234",
      "890123456789012345",
      "976318377106520349",
      "315789986012684393",
    ]);
    expect(order.line_items.map((li: any) => li.product_id)).toEqual([
      "788032119674292922",
      null,
      null,
      "788032119674292922",
      "788032119674292922",
    ]);
    expect(order.shipping_lines[0].id).toBe("271878346596884015");
  });

  it("leaves every other value as JSON.parse gives it: safe integers, decimals, strings, booleans", () => {
    const order = parseWebhookJson(SAMPLE) as Record<string, any>;
    const plain = JSON.parse(SAMPLE);
    expect(order.number).toBe(234);
    expect(order.line_items[0].grams).toBe(100);
    expect(order.line_items[3].sales_line_item_group_id).toBe(142831562);
    expect(order.total_price).toBe("404.95");
    expect(order.admin_graphql_api_id).toBe("gid://shopify/Order/820982911946154508");
    expect(order.test).toBe(true);
    // Apart from the big ids, the same tree.
    expect(withoutBigIds(order)).toEqual(withoutBigIds(plain));
  });

  it.each([
    ["the first unsafe integer", "[9007199254740993]", ["9007199254740993"]],
    ["the largest safe integer stays a number", "[9007199254740991]", [9007199254740991]],
    ["a negative one", '{"a":-12345678901234567890}', { a: "-12345678901234567890" }],
    ["a long decimal stays a number", "[0.12345678901234567890]", [0.12345678901234568]],
    ["an exponent stays a number", "[12345678901234567e3]", [1.2345678901234567e19]],
    ["digits inside a string are untouched", '{"fbp":"fb.1.1234567890123456.1"}', { fbp: "fb.1.1234567890123456.1" }],
    [
      "a string that looks like a member",
      '{"note":"a:12345678901234567890,","id":12345678901234567890}',
      { note: "a:12345678901234567890,", id: "12345678901234567890" },
    ],
    [
      "a key that looks like a member",
      '{"k:12345678901234567890,":12345678901234567890}',
      { "k:12345678901234567890,": "12345678901234567890" },
    ],
    ["escaped quotes before the digits", '{"a":"\\":12345678901234567890}"}', { a: '":12345678901234567890}' }],
    [
      "around 2^53 (2^53 itself is no longer safe: kept as text)",
      "[9007199254740991,9007199254740992,9007199254740993,-9007199254740993]",
      [9007199254740991, "9007199254740992", "9007199254740993", "-9007199254740993"],
    ],
    ["a top-level integer", "12345678901234567890", "12345678901234567890"],
  ])("%s", (_name, text, expected) => {
    expect(parseWebhookJson(text)).toEqual(expected);
  });

  it("throws SyntaxError on a body that is not JSON, as JSON.parse does", () => {
    expect(() => parseWebhookJson("{not json")).toThrow(SyntaxError);
    expect(() => parseWebhookJson('{"id": 12345678901234567890')).toThrow(SyntaxError);
  });

  it("skips the reviver for a body without a run of 16 digits: the library's own parse is exact there", () => {
    const small = '{"id":5678901234567,"total_price":"82.25"}';
    expect(mayHoldUnsafeIntegers(small)).toBe(false);
    const parsed = JSON.parse(small);
    expect(losslessPayload(small, parsed)).toBe(parsed);
    expect(mayHoldUnsafeIntegers(SAMPLE)).toBe(true);
    expect((losslessPayload(SAMPLE, JSON.parse(SAMPLE)) as { id: unknown }).id).toBe("820982911946154508");
  });
});
