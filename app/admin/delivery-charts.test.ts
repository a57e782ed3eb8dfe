// The delivery charts' shaping, by tables of cases: buckets, series of each state, zero-filling.
import { describe, expect, it } from "vitest";
import { EVENT_STATES } from "../pipeline/lifecycle";
import {
  breakdown,
  bucketLabel,
  bucketStarts,
  fillBuckets,
  formatDuration,
  SERIES,
  SERIES_OF_STATE,
  sumCounts,
  totalOf,
  truncate,
  WINDOWS,
  windowStart,
  zeroCounts,
} from "./delivery-charts";

// Built from today, at a minute and second that are not a bucket's start.
const now = new Date();
now.setUTCMinutes(37, 12, 345);
const hour = truncate(now, "hour").getTime();
const day = truncate(now, "day").getTime();

describe("delivery chart buckets", () => {
  it.each([
    ["24h", 25, 3_600_000, hour],
    ["30d", 31, 86_400_000, day],
  ] as const)("%s has %i buckets %i ms apart, the first holding its start, the last now", (window, n, step, last) => {
    const starts = bucketStarts(window, now).map((d) => d.getTime());
    expect(starts).toHaveLength(n);
    expect(starts.at(-1)).toBe(last);
    const start = windowStart(window, now).getTime();
    expect(now.getTime() - start).toBe(WINDOWS[window].span);
    expect(starts[0]).toBeLessThanOrEqual(start);
    expect(starts[0]! + step).toBeGreaterThan(start);
    for (let i = 1; i < n; i++) expect(starts[i]! - starts[i - 1]!).toBe(step);
  });

  it("on the hour exactly, the window still spans 25 clock hours: the first whole, the last only now", () => {
    const onTheHour = new Date(hour);
    const starts = bucketStarts("24h", onTheHour);
    expect(starts).toHaveLength(25);
    expect(starts[0]!.getTime()).toBe(windowStart("24h", onTheHour).getTime());
  });

  it.each([
    ["hour", "2026-03-05T10:59:59.999Z", "2026-03-05T10:00:00.000Z"],
    ["hour", "2026-03-05T10:00:00.000Z", "2026-03-05T10:00:00.000Z"],
    ["day", "2026-03-05T23:59:59.999Z", "2026-03-05T00:00:00.000Z"],
    ["day", "2026-03-05T00:00:00.000Z", "2026-03-05T00:00:00.000Z"],
  ] as const)("truncate to the %s: %s -> %s (UTC)", (unit, at, start) => {
    expect(truncate(new Date(at), unit).toISOString()).toBe(start);
  });

  it("fills every bucket, zeros where nothing was counted, and adds rows into their series", () => {
    const starts = bucketStarts("24h", now);
    const rows = [
      { key: starts[0]!.toISOString(), state: "sent", count: 3 },
      { key: starts[0]!.toISOString(), state: "sending", count: 1 },
      { key: starts[0]!.toISOString(), state: "queued", count: 2 },
      { key: starts[23]!.toISOString(), state: "held_back", count: 4 },
      { key: starts[23]!.toISOString(), state: "expired", count: 1 },
      { key: starts[23]!.toISOString(), state: "invalid", count: 1 },
      // Outside the window, and a state outside the vocabulary: both left out.
      { key: new Date(starts[0]!.getTime() - 3_600_000).toISOString(), state: "sent", count: 9 },
      { key: starts[5]!.toISOString(), state: "no-such-state", count: 9 },
    ];
    const buckets = fillBuckets("24h", now, rows);
    expect(buckets).toHaveLength(25);
    expect(buckets[0]!.counts).toEqual({ ...zeroCounts(), delivered: 3, queued: 3 });
    expect(buckets[23]!.counts).toEqual({ ...zeroCounts(), held_back: 4, not_sent: 2 });
    for (const b of [...buckets.slice(1, 23), buckets[24]!]) expect(totalOf(b.counts)).toBe(0);
    expect(totalOf(sumCounts(buckets.map((b) => b.counts)))).toBe(12);
  });

  it("gives every event state a series", () => {
    for (const state of EVENT_STATES) expect(SERIES).toContain(SERIES_OF_STATE[state]);
  });
});

describe("breakdowns", () => {
  it("groups by key, most events first, labelled", () => {
    const rows = [
      { key: "InitiateCheckout", state: "sent", count: 2 },
      { key: "Purchase", state: "sent", count: 2 },
      { key: "Purchase", state: "rejected", count: 1 },
      { key: "Purchase", state: "retrying", count: 1 },
    ];
    const got = breakdown(rows, (k) => `<${k}>`);
    expect(got.map((g) => [g.key, g.label, g.total])).toEqual([
      ["Purchase", "<Purchase>", 4],
      ["InitiateCheckout", "<InitiateCheckout>", 2],
    ]);
    expect(got[0]!.counts).toEqual({ ...zeroCounts(), delivered: 2, rejected: 1, retrying: 1 });
  });
});

describe("labels", () => {
  it.each([
    [null, "—"],
    [0.84, "0.8 s"],
    [42.4, "42 s"],
    [210, "3.5 min"],
    [7560, "2.1 h"],
  ])("a latency of %s s reads %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it.each([
    ["2026-03-05T07:00:00.000Z", "24h", "Mar 5, 07:00"],
    ["2026-03-05T00:00:00.000Z", "30d", "Mar 5"],
  ] as const)("bucket %s of %s reads %s", (start, window, text) => {
    expect(bucketLabel(start, window)).toBe(text);
  });
});
