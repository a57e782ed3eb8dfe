import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { shopifyFixture, shopifyFixtureNames, shopifyFixtureText } from "./fixtures";

const NOW = Date.parse("2027-06-19T09:40:00Z");
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Every timestamp string of a payload, by its path. */
function timestamps(value: unknown, at = "", out: Record<string, string> = {}): Record<string, string> {
  if (typeof value === "string" && ISO.test(value)) out[at] = value;
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) timestamps(v, `${at}.${k}`, out);
  return out;
}
const zone = (iso: string) => iso.slice(19);

describe("shopifyFixture", () => {
  it("knows every fixture file, in file-name order (a fuzz seed replays the same bodies)", () => {
    const names = shopifyFixtureNames();
    expect(names).toEqual(
      expect.arrayContaining([
        "orders-create-web",
        "orders-paid-web",
        "checkouts-create",
        "checkouts-create-no-contact",
      ]),
    );
    expect(names.indexOf("checkouts-create-no-contact")).toBeLessThan(names.indexOf("checkouts-create"));
    expect(names.filter((n) => n.endsWith(".json") || n === "README")).toEqual([]);
  });

  it.each(shopifyFixtureNames())("%s: every timestamp moves by one offset, in its own UTC offset", (name) => {
    const recorded = timestamps(shopifyFixture(name, { asRecorded: true }));
    const redated = timestamps(shopifyFixture(name, { now: NOW, ageSeconds: 600 }));
    expect(Object.keys(redated)).toEqual(Object.keys(recorded));
    expect(Object.keys(recorded).length).toBeGreaterThan(1);
    const shifts = new Set(Object.keys(recorded).map((k) => Date.parse(redated[k]!) - Date.parse(recorded[k]!)));
    expect(shifts.size).toBe(1);
    for (const k of Object.keys(recorded)) expect(zone(redated[k]!), k).toBe(zone(recorded[k]!));
    // The event's time, as the app reads it, is exactly ageSeconds before now.
    const anchor = redated[".processed_at"] ?? redated[".created_at"];
    expect(Date.parse(anchor!)).toBe(NOW - 600_000);
  });

  it.each(shopifyFixtureNames())("%s: by default nothing lies in the future and the event is minutes old", (name) => {
    const stamps = Object.values(timestamps(shopifyFixture(name, { now: NOW }))).map(Date.parse);
    expect(Math.max(...stamps)).toBeLessThanOrEqual(NOW - 60_000);
    const payload = shopifyFixture(name, { now: NOW });
    const ageMs = NOW - Date.parse(payload.processed_at ?? payload.created_at);
    expect(ageMs).toBeGreaterThanOrEqual(300_000);
    expect(ageMs).toBeLessThan(3_600_000);
  });

  it("writes the offsets the fixtures use, and keeps the wall-clock spacing", () => {
    const order = shopifyFixture("orders-create-web", { now: Date.parse("2027-06-19T15:20:30Z"), ageSeconds: 0 });
    expect(order.processed_at).toBe("2027-06-19T10:20:30-05:00");
    expect(order.updated_at).toBe("2027-06-19T10:20:32-05:00");
    expect(order.customer.updated_at).toBe("2027-06-19T10:20:31-05:00");
    // The customer's account (2025-03-14, -04:00) keeps its distance and its offset.
    expect(order.customer.created_at).toBe("2025-10-11T18:27:05-04:00");
    const eu = shopifyFixture("orders-create-france", { now: Date.parse("2027-06-19T15:20:30Z"), ageSeconds: 0 });
    expect(eu.processed_at).toBe("2027-06-19T16:20:30+01:00");
  });

  it("defaults to the real clock", () => {
    const ageMs = Date.now() - Date.parse(shopifyFixture("orders-create-web").processed_at);
    expect(ageMs).toBeGreaterThanOrEqual(300_000);
    expect(ageMs).toBeLessThan(400_000);
  });

  it("gives the raw text: the file's exact bytes as recorded, and only the timestamps changed when re-dated", () => {
    const file = readFileSync(path.resolve(__dirname, "../fixtures/shopify/orders-create-web.json"), "utf8");
    expect(shopifyFixtureText("orders-create-web", { asRecorded: true })).toBe(file);
    const text = shopifyFixtureText("orders-create-web", { now: NOW });
    expect(text).not.toBe(file);
    expect(text.length).toBe(file.length);
    expect(JSON.parse(text)).toEqual(shopifyFixture("orders-create-web", { now: NOW }));
    const strip = (s: string) => s.replace(/"\d{4}-\d{2}-\d{2}T[^"]*"/g, '"<t>"');
    expect(strip(text)).toBe(strip(file));
  });
});
