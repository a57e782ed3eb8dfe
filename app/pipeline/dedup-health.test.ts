import { describe, expect, it } from "vitest";
import { dedupHealth, percent } from "./dedup-health";
import { firedIdsToken, firedIdsTokenValid, firedIdsUrl, parseFiredIds } from "./fired-ids";

describe("dedupHealth", () => {
  it("derives server-only and the shares, sorts newest day first, and totals per event name", () => {
    const health = dedupHealth(
      [
        { eventName: "Purchase", day: "2000-01-01", serverSent: 4, paired: 3 },
        { eventName: "InitiateCheckout", day: "2000-01-02", serverSent: 10, paired: 2 },
        { eventName: "Purchase", day: "2000-01-02", serverSent: 6, paired: 0 },
      ],
      true,
    );
    expect(health.rows.map((r) => [r.day, r.eventName, r.serverOnly, r.pairedShare, r.serverOnlyShare])).toEqual([
      ["2000-01-02", "InitiateCheckout", 8, 0.2, 0.8],
      ["2000-01-02", "Purchase", 6, 0, 1],
      ["2000-01-01", "Purchase", 1, 0.75, 0.25],
    ]);
    expect(health.totals.map((t) => [t.eventName, t.serverSent, t.paired, t.serverOnly])).toEqual([
      ["InitiateCheckout", 10, 2, 8],
      ["Purchase", 10, 3, 7],
    ]);
  });

  it.each([
    [null, "–"],
    [0, "0 %"],
    [0.004, "under 1 %"],
    [0.255, "26 %"],
    [0.996, "over 99 %"],
    [1, "100 %"],
  ])("percent(%s) is %s", (share, text) => {
    expect(percent(share)).toBe(text);
  });
});

describe("the fired-ids token", () => {
  it("is the shop's own: valid for it, not for another shop or another secret", () => {
    const token = firedIdsToken("s", "a.myshopify.com");
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(firedIdsTokenValid("s", "a.myshopify.com", token)).toBe(true);
    expect(firedIdsTokenValid("s", "b.myshopify.com", token)).toBe(false);
    expect(firedIdsTokenValid("t", "a.myshopify.com", token)).toBe(false);
    expect(firedIdsTokenValid("s", "a.myshopify.com", token.slice(1))).toBe(false);
    const url = new URL(firedIdsUrl("https://app.example.com/base", "s", "a.myshopify.com"));
    expect([url.origin + url.pathname, url.searchParams.get("shop"), url.searchParams.get("token")]).toEqual([
      "https://app.example.com/pixel/fired",
      "a.myshopify.com",
      token,
    ]);
  });
});

describe("parseFiredIds", () => {
  it.each([
    ['{"events":[{"name":"Purchase","id":"1"}]}', true],
    ['{"events":[{"name":"InitiateCheckout","id":"c1b2-x_9"}]}', true],
    ['{"events":[{"name":"AddToCart","id":"1"}]}', false],
    ['{"events":[{"name":"Purchase","id":"a b"}]}', false],
    ['{"events":[{"name":"Purchase","id":""}]}', false],
    ['{"events":[{"name":"Purchase","id":"1","ph":"555"}]}', false],
    ['{"events":[]}', false],
    ["[]", false],
    ["", false],
  ])("%s accepted: %s", (text, ok) => {
    expect(parseFiredIds(text).ok).toBe(ok);
  });
});
