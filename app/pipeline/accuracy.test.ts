// The accuracy report's rules, case by case: which bucket an order falls in for a pixel, how
// the days are cut and counted, and the ratio with its threshold. Dates come from today's clock.
import { describe, expect, it } from "vitest";
import {
  ACCURACY_DAYS,
  ACCURACY_THRESHOLD,
  accuracyDays,
  accuracyRatio,
  BEFORE_PIXEL,
  belowThreshold,
  classifyOrder,
  gapOf,
  LEFT_OUT_FOR_PIXEL,
  measureDays,
  ORDER_FATES,
  TEST_ORDER_NOT_FOR_PIXEL,
  utcDay,
  type AccuracyPixel,
  type FateCounts,
  type OrderFate,
  type OrderHead,
  type OrderRecords,
} from "./accuracy";
import { EVENT_STATES, type EventState } from "./lifecycle";

const DAY_MS = 86_400_000;
const now = new Date();
const pixel: AccuracyPixel = { id: "p1", createdAt: new Date(now.getTime() - 30 * DAY_MS), sendTestOrders: false };
const order = (o: Partial<OrderHead> = {}): OrderHead => ({
  id: "1001",
  createdAt: new Date(now.getTime() - DAY_MS),
  test: false,
  ...o,
});
const copies = (entries: Array<[string, EventState]> = []) => new Map(entries);
const CONSENT = "the buyer declined marketing tracking";

describe("classifyOrder", () => {
  const cases: Array<{
    name: string;
    order?: Partial<OrderHead>;
    records: OrderRecords;
    fate: OrderFate;
    reason?: string;
  }> = [
    { name: "its copy sent", records: { copies: copies([["p1", "sent"]]) }, fate: "accepted" },
    {
      name: "sent, and reconciliation stored it (no webhook)",
      records: { copies: copies([["p1", "sent"]]), reconcileReceipt: { outcome: "queued", reason: null } },
      fate: "recovered",
    },
    {
      name: "sent, stored paused by reconciliation then resumed",
      records: { copies: copies([["p1", "sent"]]), reconcileReceipt: { outcome: "paused", reason: null } },
      fate: "recovered",
    },
    {
      name: "sent, reconciliation found it a duplicate (the webhook came first)",
      records: { copies: copies([["p1", "sent"]]), reconcileReceipt: { outcome: "duplicate", reason: "x" } },
      fate: "accepted",
    },
    { name: "rejected by Meta", records: { copies: copies([["p1", "rejected"]]) }, fate: "rejected" },
    { name: "stored invalid", records: { copies: copies([["p1", "invalid"]]) }, fate: "invalid" },
    { name: "expired", records: { copies: copies([["p1", "expired"]]) }, fate: "expired" },
    { name: "queued", records: { copies: copies([["p1", "queued"]]) }, fate: "pending" },
    { name: "sending", records: { copies: copies([["p1", "sending"]]) }, fate: "pending" },
    { name: "retrying", records: { copies: copies([["p1", "retrying"]]) }, fate: "pending" },
    { name: "paused", records: { copies: copies([["p1", "paused"]]) }, fate: "pending" },
    {
      name: "held back, with the receipt's reason",
      records: { copies: copies(), reconcileReceipt: { outcome: "held_back", reason: CONSENT } },
      fate: "held_back",
      reason: CONSENT,
    },
    {
      name: "no event, receipt invalid",
      records: { copies: copies(), reconcileReceipt: { outcome: "invalid", reason: "bad" } },
      fate: "invalid",
    },
    {
      name: "no event, receipt expired",
      records: { copies: copies(), reconcileReceipt: { outcome: "expired", reason: "old" } },
      fate: "expired",
    },
    {
      name: "held back on arrival: the webhook's receipt names why, before reconciliation",
      records: { copies: copies(), webhookReceipt: { outcome: "held_back", reason: CONSENT } },
      fate: "held_back",
      reason: CONSENT,
    },
    {
      name: "invalid on arrival, by the webhook's receipt",
      records: { copies: copies(), webhookReceipt: { outcome: "invalid", reason: "bad" } },
      fate: "invalid",
    },
    {
      name: "too late on arrival, by the webhook's receipt",
      records: { copies: copies(), webhookReceipt: { outcome: "expired", reason: "old" } },
      fate: "expired",
    },
    {
      name: "a test order this pixel does not take",
      order: { test: true },
      records: { copies: copies([["p2", "sent"]]) },
      fate: "held_back",
      reason: TEST_ORDER_NOT_FOR_PIXEL,
    },
    {
      name: "placed before the pixel was added",
      order: { createdAt: new Date(pixel.createdAt.getTime() - 1000) },
      records: { copies: copies([["p2", "sent"]]) },
      fate: "held_back",
      reason: BEFORE_PIXEL,
    },
    {
      name: "another pixel has a copy, this one none",
      records: { copies: copies([["p2", "sent"]]) },
      fate: "held_back",
      reason: LEFT_OUT_FOR_PIXEL,
    },
    { name: "nothing at all", records: { copies: copies() }, fate: "never_received" },
    {
      name: "another pixel's copy does not count for this one",
      records: {
        copies: copies([
          ["p2", "rejected"],
          ["p1", "sent"],
        ]),
      },
      fate: "accepted",
    },
  ];
  it.each(cases)("$name: $fate", ({ order: o, records, fate, reason }) => {
    expect(classifyOrder(order(o), pixel, records)).toEqual(reason ? { fate, reason } : { fate });
  });

  it.each([
    [
      "the order was cancelled (at 2026-11-20T10:00:00Z) before its Purchase was sent",
      "the order was cancelled before its Purchase was sent",
    ],
    [CONSENT, CONSENT],
    [null, "held back"],
    ["", "held back"],
  ])("words the held-back reason %j as %j, a line orders share", (reason, line) => {
    const records = { copies: copies(), reconcileReceipt: { outcome: "held_back" as const, reason } };
    expect(classifyOrder(order(), pixel, records)).toEqual({ fate: "held_back", reason: line });
  });

  it("gives every event state a bucket", () => {
    for (const state of EVENT_STATES)
      expect(ORDER_FATES).toContain(classifyOrder(order(), pixel, { copies: copies([["p1", state]]) }).fate);
  });
});

describe("accuracyDays", () => {
  it("is today and the days before it, oldest first, in UTC", () => {
    const days = accuracyDays(now);
    expect(days).toHaveLength(ACCURACY_DAYS);
    expect(days.at(-1)).toBe(utcDay(now));
    expect(days[0]).toBe(utcDay(new Date(now.getTime() - (ACCURACY_DAYS - 1) * DAY_MS)));
    expect([...days].sort()).toEqual(days);
  });
});

describe("measureDays", () => {
  const days = accuracyDays(now);
  const p2: AccuracyPixel = { ...pixel, id: "p2", sendTestOrders: true };
  const yesterday = new Date(now.getTime() - DAY_MS);
  const orders: OrderHead[] = [
    order({ id: "1", createdAt: yesterday }),
    order({ id: "2", createdAt: yesterday, test: true }),
    order({ id: "3", createdAt: yesterday }),
    order({ id: "4", createdAt: now }),
    // Before the window: not counted anywhere.
    order({ id: "5", createdAt: new Date(now.getTime() - (ACCURACY_DAYS + 1) * DAY_MS) }),
  ];
  const records: Record<string, OrderRecords> = {
    "1": {
      copies: copies([
        ["p1", "sent"],
        ["p2", "retrying"],
      ]),
    },
    "2": { copies: copies([["p2", "sent"]]) },
    "3": { copies: copies(), reconcileReceipt: { outcome: "held_back", reason: CONSENT } },
  };
  const rows = measureDays(days, orders, [pixel, p2], (id) => records[id] ?? { copies: copies() });
  const row = (day: string, id: string) => rows.find((r) => r.day === day && r.destinationId === id)!;

  it("has one row per day and pixel, days without orders included", () => {
    expect(rows).toHaveLength(ACCURACY_DAYS * 2);
    expect(row(days[0]!, "p1").orders).toBe(0);
  });

  it("counts each order once per pixel, in its bucket, with the held-back reasons", () => {
    const y = utcDay(yesterday);
    expect(row(y, "p1")).toMatchObject({
      orders: 3,
      counts: { accepted: 1, held_back: 2 },
      heldBackReasons: { [TEST_ORDER_NOT_FOR_PIXEL]: 1, [CONSENT]: 1 },
    });
    expect(row(y, "p2")).toMatchObject({
      orders: 3,
      counts: { accepted: 1, pending: 1, held_back: 1 },
      heldBackReasons: { [CONSENT]: 1 },
    });
    expect(row(utcDay(now), "p1")).toMatchObject({ orders: 1, counts: { never_received: 1 } });
    for (const r of rows) expect(ORDER_FATES.reduce((n, f) => n + r.counts[f], 0)).toBe(r.orders);
  });
});

describe("the ratio and the threshold", () => {
  const counts = (c: Partial<FateCounts>): FateCounts => ({
    ...(Object.fromEntries(ORDER_FATES.map((f) => [f, 0])) as FateCounts),
    ...c,
  });
  const cases: Array<{
    c: Partial<FateCounts>;
    expected: number;
    accepted: number;
    ratio: number | null;
    below: boolean;
  }> = [
    { c: {}, expected: 0, accepted: 0, ratio: null, below: false },
    { c: { held_back: 4 }, expected: 0, accepted: 0, ratio: null, below: false },
    { c: { accepted: 19, recovered: 1, held_back: 5 }, expected: 20, accepted: 20, ratio: 1, below: false },
    { c: { accepted: 19, never_received: 1 }, expected: 20, accepted: 19, ratio: 0.95, below: false },
    { c: { accepted: 18, rejected: 1, pending: 1 }, expected: 20, accepted: 18, ratio: 0.9, below: true },
    { c: { recovered: 1, expired: 1, invalid: 2 }, expected: 4, accepted: 1, ratio: 0.25, below: true },
  ];
  it.each(cases)("%o", ({ c, expected, accepted, ratio, below }) => {
    expect(accuracyRatio(counts(c))).toEqual({ expected, accepted, ratio });
    expect(belowThreshold(counts(c))).toBe(below);
  });

  it("sets the threshold at 95%", () => expect(ACCURACY_THRESHOLD).toBe(0.95));

  it("lists the gap largest first, without what Meta accepted", () => {
    expect(gapOf(counts({ accepted: 9, recovered: 2, rejected: 1, held_back: 3, never_received: 2 }))).toEqual([
      { fate: "held_back", count: 3 },
      { fate: "never_received", count: 2 },
      { fate: "rejected", count: 1 },
    ]);
  });
});
