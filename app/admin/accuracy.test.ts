// The Accuracy page's figures from stored days: percentages, the gap in words, the banner's alerts.
import { describe, expect, it } from "vitest";
import { ORDER_FATES, type FateCounts } from "../pipeline/accuracy";
import type { AccuracyDayView } from "../pipeline/accuracy.server";
import { accuracyView, formatPercent } from "./accuracy";

const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const counts = (c: Partial<FateCounts>): FateCounts => ({
  ...(Object.fromEntries(ORDER_FATES.map((f) => [f, 0])) as FateCounts),
  ...c,
});
const day = (d: string, destinationId: string, c: Partial<FateCounts>, heldBackReasons = {}): AccuracyDayView => {
  const all = counts(c);
  return {
    day: d,
    destinationId,
    orders: ORDER_FATES.reduce((n, f) => n + all[f], 0),
    counts: all,
    heldBackReasons,
    measuredAt: new Date().toISOString(),
  };
};
const pixels = [
  { id: "a", pixelId: "111", label: "Brand A" },
  { id: "b", pixelId: "222", label: null },
];

describe("formatPercent", () => {
  it.each([
    [null, "—"],
    [1, "100%"],
    [0.95, "95.0%"],
    [0.9499, "94.9%"],
    [0, "0.0%"],
  ])("%s -> %s", (ratio, text) => expect(formatPercent(ratio)).toBe(text));
});

describe("accuracyView", () => {
  const reasons = {
    "the buyer declined marketing tracking": 1,
    "Shopify test order, and the shop has no test event code": 2,
  };
  const view = accuracyView(
    [
      day(yesterday, "a", { accepted: 8, recovered: 1, never_received: 1, held_back: 3 }, reasons),
      day(today, "a", { accepted: 20 }),
      day(today, "b", { accepted: 1, rejected: 2, pending: 1 }),
      day(today, "gone", { never_received: 5 }),
    ],
    pixels,
  );

  it("gives each pixel its days, newest first, with the ratio over the orders meant for Meta", () => {
    expect(view.pixels.map((p) => p.name)).toEqual(["Brand A", "pixel 222"]);
    const [a, b] = view.pixels;
    expect(a!.rows.map((r) => r.day)).toEqual([today, yesterday]);
    expect(a!.rows[1]).toMatchObject({
      orders: 13,
      accepted: 9,
      recovered: 1,
      expected: 10,
      percent: "90.0%",
      below: true,
    });
    expect(a!.rows[0]).toMatchObject({ percent: "100%", below: false, gap: [] });
    expect(b!.rows[0]).toMatchObject({ orders: 4, accepted: 1, expected: 4, percent: "25.0%" });
  });

  it("words the gap reason by reason, held-back reasons as their receipts gave them", () => {
    const gap = view.pixels[0]!.rows[1]!.gap;
    expect(gap.map((g) => g.text)).toEqual(["3 held back", "1 never received"]);
    expect(gap[0]!.reasons).toEqual([
      { reason: "Shopify test order, and the shop has no test event code", count: 2 },
      { reason: "the buyer declined marketing tracking", count: 1 },
    ]);
  });

  it("alerts on each pixel's day under the threshold, with what kept it down (held back not among them)", () => {
    expect(view.alerts).toEqual([
      { pixel: "pixel 222", day: today, percent: "25.0%", gap: "2 rejected by Meta, 1 still on its way" },
      { pixel: "Brand A", day: yesterday, percent: "90.0%", gap: "1 never received" },
    ]);
    expect(view.threshold).toBe("95%");
  });

  it("has nothing to say before the first measurement", () => {
    expect(accuracyView([], pixels)).toMatchObject({ alerts: [], measuredAt: null });
  });
});
