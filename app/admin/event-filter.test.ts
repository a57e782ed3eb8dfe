// The Events page's query: what each value becomes, what is refused and said, and the cursor's
// round trip. Dates are built from today's clock.
import { describe, expect, it } from "vitest";
import {
  createdRange,
  decodeCursor,
  encodeCursor,
  filterQuery,
  isFiltered,
  parseEventFilter,
  searchTerms,
  SEARCH_MAX,
} from "./event-filter";

const DAY_MS = 86_400_000;
const today = new Date().toISOString().slice(0, 10);
const weekAgo = new Date(Date.now() - 7 * DAY_MS).toISOString().slice(0, 10);
const UUID = "6f1c0a52-6f7e-4b43-9a57-2f1d0c6b1a11";
const parse = (query: string) => parseEventFilter(new URLSearchParams(query));

describe("parseEventFilter", () => {
  const accepted: Array<[string, string, Record<string, unknown>]> = [
    ["nothing", "", {}],
    ["a state", "state=rejected", { state: "rejected" }],
    ["an event name", "event=InitiateCheckout", { event: "InitiateCheckout" }],
    ["a pixel", `destination=${UUID}`, { destination: UUID }],
    ["a date range", `from=${weekAgo}&to=${today}`, { from: weekAgo, to: today }],
    ["one day", `from=${today}&to=${today}`, { from: today, to: today }],
    ["a search, trimmed", "q=%20%231001%20", { q: "#1001" }],
    ["empty values as none", "state=&event=&destination=&from=&to=&q=", {}],
    ["Shopify's own parameters ignored", "embedded=1&shop=a.myshopify.com&host=abc&id_token=x", {}],
  ];
  it.each(accepted)("accepts %s", (_, query, expected) => {
    const result = parse(query);
    expect(result.ok).toBe(true);
    const { dir, cursor, ...rest } = result.filter;
    expect(dir).toBe("next");
    expect(cursor).toBeUndefined();
    expect(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined))).toEqual(expected);
  });

  const refused: Array<[string, string, string, RegExp]> = [
    ["a state that is not one", "state=lost", "state", /states listed/],
    ["an event we never send", "event=AddToCart", "event", /events listed/],
    ["a pixel that is not an id", "destination=123", "destination", /pixels/],
    ["a date that is not one", "from=2026-13-45", "from", /YYYY-MM-DD/],
    ["a date in another format", "to=01/02/2026", "to", /YYYY-MM-DD/],
    ["an end before the start", `from=${today}&to=${weekAgo}`, "to", /before the start/],
    ["a search too long", `q=${"x".repeat(SEARCH_MAX + 1)}`, "q", new RegExp(`${SEARCH_MAX} characters`)],
    ["a broken page link", "cursor=not-a-cursor", "cursor", /first page/],
  ];
  it.each(refused)("refuses %s, says why and keeps the rest", (_, query, field, message) => {
    const [keptKey, keptValue] = field === "q" ? ["state", "sent"] : ["q", "kept"];
    const result = parse(`${query}&${keptKey}=${keptValue}`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[field as keyof typeof result.errors]).toMatch(message);
    expect((result.filter as Record<string, unknown>)[keptKey]).toBe(keptValue);
    expect((result.filter as Record<string, unknown>)[field]).toBeUndefined();
  });

  it("drops the whole date range when it runs backwards", () => {
    const result = parse(`from=${today}&to=${weekAgo}`);
    expect(result.filter.from).toBeUndefined();
    expect(result.filter.to).toBeUndefined();
  });
});

describe("the page cursor", () => {
  it.each([
    [new Date(), 1n],
    [new Date(Date.now() - 90 * DAY_MS), 9_007_199_254_740_993n],
    [new Date(0), 0n],
  ])("round-trips (%s, %s) through the URL", (createdAt, id) => {
    const text = encodeCursor({ createdAt, id });
    expect(text).toMatch(/^[0-9a-z.]+$/);
    expect(decodeCursor(text)).toEqual({ createdAt, id });
    const result = parse(`cursor=${text}&dir=prev`);
    expect(result.filter).toMatchObject({ cursor: { createdAt, id }, dir: "prev" });
  });

  it.each(["", ".", "abc", "1.2.3", "ABC.1", "zzzzzzzzzzzzz.1", "1.zzzzzzzzzzzzzzz"])("refuses %j", (text) => {
    expect(decodeCursor(text)).toBeUndefined();
  });
});

describe("filterQuery", () => {
  it("writes back what it was given, and nothing else", () => {
    const query = `state=rejected&event=Purchase&destination=${UUID}&from=${weekAgo}&to=${today}&q=%231001`;
    const result = parse(`${query}&embedded=1`);
    expect(filterQuery(result.filter)).toBe(query);
    const cursor = { createdAt: new Date(), id: 42n };
    expect(new URLSearchParams(filterQuery(result.filter, { cursor, dir: "prev" })).get("cursor")).toBe(
      encodeCursor(cursor),
    );
    expect(filterQuery(parse("").filter)).toBe("");
  });

  it("says whether anything narrows the list", () => {
    expect(isFiltered(parse("").filter)).toBe(false);
    expect(isFiltered(parse(`cursor=${encodeCursor({ createdAt: new Date(), id: 1n })}`).filter)).toBe(false);
    expect(isFiltered(parse("q=1001").filter)).toBe(true);
    expect(isFiltered(parse("state=sent").filter)).toBe(true);
  });
});

describe("createdRange", () => {
  it("takes whole UTC days, the end day included", () => {
    const { gte, lt } = createdRange({ from: weekAgo, to: today });
    expect(gte!.toISOString()).toBe(`${weekAgo}T00:00:00.000Z`);
    expect(lt!.getTime() - Date.parse(`${today}T00:00:00Z`)).toBe(DAY_MS);
    expect(createdRange({})).toEqual({});
  });
});

describe("searchTerms", () => {
  it.each([
    ["#1001", { ids: ["#1001"], orderNames: ["#1001"] }],
    ["1001", { ids: ["1001"], orderNames: ["1001", "#1001"] }],
    ["5678901234567", { ids: ["5678901234567"], orderNames: ["5678901234567", "#5678901234567"] }],
    ["SHOP-1001", { ids: ["SHOP-1001"], orderNames: ["SHOP-1001", "#SHOP-1001"] }],
  ])("%s", (q, expected) => {
    expect(searchTerms(q)).toEqual(expected);
  });
});
