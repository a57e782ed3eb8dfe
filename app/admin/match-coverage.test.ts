// Match-key coverage's rules, by tables of cases: shares, thresholds, and which advice each gets.
import { describe, expect, it } from "vitest";
import {
  adviceFor,
  coverageOf,
  formatShare,
  MATCH_KEYS,
  matchAdvice,
  MIN_EVENTS_FOR_ADVICE,
  type MatchKeyId,
} from "./match-coverage";

const ids = MATCH_KEYS.map((k) => k.id);
const all = (n: number) => Object.fromEntries(ids.map((id) => [id, n])) as Record<MatchKeyId, number>;
const shares = (over: Partial<Record<MatchKeyId, number>>) => ({ ...all(1), ...over });

describe("coverage", () => {
  it("is each key's count over the distinct events, 0 with none", () => {
    const c = coverageOf("Purchase", 200, { ...all(200), fbc: 52, ph: 0 });
    expect(c.keys.find((k) => k.key === "fbc")!.share).toBe(0.26);
    expect(c.keys.find((k) => k.key === "ph")!.share).toBe(0);
    expect(c.keys.map((k) => k.key)).toEqual(ids);
    expect(coverageOf("Purchase", 0, all(0)).keys.every((k) => k.share === 0)).toBe(true);
  });

  it.each([
    [0, "0%"],
    [0.004, "0.4%"],
    [0.26, "26%"],
    [0.995, "100%"],
    [1, "100%"],
  ])("%s reads %s", (share, text) => expect(formatShare(share)).toBe(text));
});

describe("advice", () => {
  it.each([
    // [event, key, share, other shares, tone or null, words the message holds]
    [
      "Purchase",
      "fbc",
      0.26,
      { fbp: 0.3 },
      "warning",
      ["fbc", "26% of Purchases", "theme app embed", "ad clicks are kept"],
    ],
    ["Purchase", "fbc", 0.26, { fbp: 0.95 }, "info", ["26% of Purchases", "came from your ads"]],
    ["Purchase", "fbc", 0.6, {}, null, []],
    ["Purchase", "fbp", 0.5, {}, "warning", ["theme app embed"]],
    ["Purchase", "fbp", 0.83, {}, null, []],
    ["Purchase", "em", 0.5, {}, "warning", ["Settings > Checkout", "email"]],
    ["InitiateCheckout", "em", 0.5, {}, "info", ["before the buyer types an email"]],
    ["Purchase", "ph", 0.2, {}, "warning", ["phone number"]],
    ["InitiateCheckout", "client_ip_address", 0, {}, "info", ["0% of InitiateCheckouts", "carries no IP address"]],
    ["Purchase", "client_ip_address", 0.5, {}, "info", ["POS"]],
    ["Purchase", "client_user_agent", 0.1, {}, "warning", ["theme app embed"]],
    ["Purchase", "external_id", 0.3, {}, "info", ["Guest checkouts"]],
    ["Purchase", "address", 0.3, {}, "info", ["shipping or billing address"]],
    ["InitiateCheckout", "name", 0.3, {}, "info", ["before the buyer fills in an address"]],
  ] as const)("%s %s at %s (%o): %s", (event, key, share, others, tone, words) => {
    const a = adviceFor(event, key, share, shares({ ...others, [key]: share }));
    if (tone === null) {
      expect(a).toBeNull();
      return;
    }
    expect(a?.tone).toBe(tone);
    for (const w of words) expect(a!.message).toContain(w);
  });

  it("every key has advice below its good share and none at it", () => {
    for (const k of MATCH_KEYS) {
      expect(adviceFor("Purchase", k.id, k.goodShare - 0.01, shares({}))).not.toBeNull();
      expect(adviceFor("Purchase", k.id, k.goodShare, shares({}))).toBeNull();
    }
  });

  it("gives none for an event name with too few events, and lists warnings first, lowest share first", () => {
    const few = coverageOf("InitiateCheckout", MIN_EVENTS_FOR_ADVICE - 1, all(0));
    const many = coverageOf("Purchase", 100, { ...all(100), fbp: 20, fbc: 10, client_ip_address: 5 });
    const advice = matchAdvice([few, many]);
    expect(advice.every((a) => a.eventName === "Purchase")).toBe(true);
    expect(advice.map((a) => [a.key, a.tone])).toEqual([
      ["fbc", "warning"],
      ["fbp", "warning"],
      ["client_ip_address", "info"],
    ]);
  });
});
