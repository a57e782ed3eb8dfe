import { describe, expect, it } from "vitest";
import type { MetaEvent } from "./event";
import { sha256Hex } from "./user-data";
import { isExpiry, validateEvent, type InvalidCode } from "./validate";

const NOW = 1_795_200_000;
const good: MetaEvent = {
  event_name: "Purchase",
  event_time: NOW - 3600,
  event_id: "5678901234567",
  action_source: "website",
  event_source_url: "https://shop.example.com/orders/abc",
  user_data: {
    em: sha256Hex("jane@example.com"),
    client_user_agent: "Mozilla/5.0",
    client_ip_address: "203.0.113.7",
    fbc: "fb.1.1795196400000.IwAR2F4-dbP0l7Mn1IawQQ",
    fbp: "fb.1.1795196400000.1234567890",
  },
  custom_data: { value: 59.9, currency: "USD", contents: [{ id: "111", quantity: 2, item_price: 19.95 }] },
};

type Mutation = (e: MetaEvent) => MetaEvent;
const cases: Array<[string, Mutation, InvalidCode]> = [
  ["no event_name", (e) => ({ ...e, event_name: "" }), "missing_event_name"],
  ["lowercase purchase never deduplicates", (e) => ({ ...e, event_name: "purchase" }), "wrong_event_name_case"],
  ["INITIATECHECKOUT", (e) => ({ ...e, event_name: "INITIATECHECKOUT" }), "wrong_event_name_case"],
  ["no event_id", (e) => ({ ...e, event_id: "" }), "missing_event_id"],
  ["event_time in milliseconds", (e) => ({ ...e, event_time: (NOW - 60) * 1000 }), "bad_event_time"],
  ["fractional event_time", (e) => ({ ...e, event_time: NOW - 0.5 }), "bad_event_time"],
  ["8 days old", (e) => ({ ...e, event_time: NOW - 8 * 86400 }), "event_too_old"],
  [
    "63 days old in a store",
    (e) => ({ ...e, action_source: "physical_store", event_time: NOW - 63 * 86400 }),
    "event_too_old",
  ],
  ["2 minutes in the future", (e) => ({ ...e, event_time: NOW + 120 }), "event_in_future"],
  ["unknown action_source", (e) => ({ ...e, action_source: "web" as MetaEvent["action_source"] }), "bad_action_source"],
  ["website without event_source_url", (e) => ({ ...e, event_source_url: undefined }), "missing_event_source_url"],
  ["website with a relative url", (e) => ({ ...e, event_source_url: "/thank_you" }), "missing_event_source_url"],
  [
    "no customer information",
    (e) => ({ ...e, action_source: "system_generated", user_data: {} }),
    "no_customer_information",
  ],
  ["raw email", (e) => ({ ...e, user_data: { ...e.user_data, em: "jane@example.com" } }), "unhashed_user_data"],
  [
    "raw phone in an array",
    (e) => ({ ...e, user_data: { ...e.user_data, ph: [sha256Hex("1"), "+16505551212"] } }),
    "unhashed_user_data",
  ],
  [
    "uppercase hash",
    (e) => ({ ...e, user_data: { ...e.user_data, fn: sha256Hex("x").toUpperCase() } }),
    "unhashed_user_data",
  ],
  ["malformed fbc", (e) => ({ ...e, user_data: { ...e.user_data, fbc: "IwAR2F4-dbP0l7Mn1IawQQ" } }), "malformed_fbc"],
  ["malformed fbp", (e) => ({ ...e, user_data: { ...e.user_data, fbp: "GA1.2.123" } }), "malformed_fbp"],
  ["bad IP", (e) => ({ ...e, user_data: { ...e.user_data, client_ip_address: "999.1.1.1" } }), "bad_ip_address"],
  ["Purchase without value", (e) => ({ ...e, custom_data: { currency: "USD" } }), "missing_value_or_currency"],
  ["Purchase without currency", (e) => ({ ...e, custom_data: { value: 1 } }), "missing_value_or_currency"],
  ["negative value", (e) => ({ ...e, custom_data: { value: -5, currency: "USD" } }), "bad_value"],
  ["lowercase currency", (e) => ({ ...e, custom_data: { value: 5, currency: "usd" } }), "bad_currency"],
  [
    "content without quantity",
    (e) => ({ ...e, custom_data: { value: 5, currency: "USD", contents: [{ id: "1", quantity: 0 }] } }),
    "bad_contents",
  ],
];

describe("validateEvent: what Meta would reject is caught first", () => {
  it("accepts a complete website Purchase", () => {
    expect(validateEvent(good, NOW)).toEqual([]);
  });

  it.each(cases)("%s -> %s", (_name, mutate, code) => {
    const problems = validateEvent(mutate(good), NOW);
    expect(problems.map((p) => p.code)).toContain(code);
    for (const p of problems) expect(p.message.length).toBeGreaterThan(10);
  });

  it("accepts a website event without a user agent (Meta takes it, with less matching)", () => {
    const event = { ...good, user_data: { ...good.user_data, client_user_agent: undefined } };
    expect(validateEvent(event, NOW)).toEqual([]);
  });

  it.each([
    ["exactly 7 days old", NOW - 7 * 86400, "website"],
    ["61 days old in a store", NOW - 61 * 86400, "physical_store"],
    ["59 seconds ahead (clock skew)", NOW + 59, "website"],
  ] as const)("accepts an event %s", (_name, time, source) => {
    const event = { ...good, event_time: time, action_source: source };
    expect(validateEvent(event, NOW)).toEqual([]);
  });

  it("accepts hashes with Meta's appendix and system events without a browser", () => {
    const event: MetaEvent = {
      ...good,
      action_source: "system_generated",
      event_source_url: undefined,
      user_data: { em: `${sha256Hex("a@b.co")}.AQYBAQIA` },
    };
    expect(validateEvent(event, NOW)).toEqual([]);
  });

  it("tells expiry apart from defects", () => {
    expect(isExpiry(validateEvent({ ...good, event_time: NOW - 9 * 86400 }, NOW))).toBe(true);
    expect(isExpiry(validateEvent({ ...good, event_name: "" }, NOW))).toBe(false);
    expect(isExpiry([])).toBe(false);
  });
});
