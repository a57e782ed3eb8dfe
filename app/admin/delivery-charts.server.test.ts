// The Overview's charts and match-key coverage against the real PostgreSQL of this machine, in a
// database of this file's own: every number the loaders return is checked against a direct SQL
// count over the seeded rows (written independently of the loaders' queries), and against what
// was seeded; another shop's rows are never counted.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { CLIENT_DATA_REMOVED } from "../pipeline/client-data";
import { EVENT_STATES, type EventState } from "../pipeline/lifecycle";
import { SERIES, SERIES_OF_STATE, WINDOWS, totalOf, type Series, type WindowKey } from "./delivery-charts";
import { LATENCY_WINDOWS, loadDeliveryCharts, NO_DESTINATION_LABEL } from "./delivery-charts.server";
import { loadDeliveryStats } from "./dashboard.server";
import { MATCH_KEYS } from "./match-coverage";
import { loadMatchCoverage } from "./match-coverage.server";

const A = "charts-a.myshopify.com";
const B = "charts-b.myshopify.com";
const EMPTY = "charts-empty.myshopify.com";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = new Date();
const ago = (ms: number) => new Date(now.getTime() - ms);
const HASH = "b".repeat(64);

let db: TestDatabase;
const PIXEL_1 = randomUUID();
const PIXEL_2 = randomUUID();

interface Seed {
  shop: string;
  eventName: string;
  state: EventState;
  destinationId: string;
  createdAt: Date;
  /** Seconds from arrival to Meta's acceptance, for sent events. */
  latency?: number;
  userData: Record<string, string | string[]>;
  removed?: string[];
}
const seeds: Seed[] = [];
let seq = 0;

async function seed(s: Seed) {
  seeds.push(s);
  seq++;
  const eventId = `${s.shop}-${seq}`;
  const history = [{ at: s.createdAt, state: "queued" }];
  // As the worker records an acceptance: the history line and the event's sentAt, the same moment.
  const sentAt = s.state === "sent" ? new Date(s.createdAt.getTime() + (s.latency ?? 1) * 1000) : null;
  if (sentAt) {
    history.push({ at: sentAt, state: "sent" });
  } else if (s.state !== "queued") history.push({ at: new Date(s.createdAt.getTime() + 500), state: s.state });
  await db.prisma.event.create({
    data: {
      shop: s.shop,
      eventName: s.eventName,
      eventId,
      topic: s.eventName === "Purchase" ? "orders/create" : "checkouts/create",
      state: s.state,
      destinationId: s.destinationId,
      payload: { event_name: s.eventName, event_id: eventId, user_data: s.userData },
      notes: s.removed
        ? [{ code: "client_data_removed", message: CLIENT_DATA_REMOVED + s.removed.sort().join(", ") }]
        : [],
      eventTime: s.createdAt,
      createdAt: s.createdAt,
      sentAt,
      history: { create: history },
    },
  });
}

async function heldBack(shop: string, receivedAt: Date, reason: string | null) {
  seq++;
  await db.prisma.webhookReceipt.create({
    data: {
      shop,
      topic: "orders/create",
      webhookId: `w${seq}`,
      dedupeKey: `w${seq}`,
      receivedAt,
      outcome: "held_back",
      reason,
    },
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.destination.create({
    data: {
      id: PIXEL_1,
      shop: A,
      pixelId: "111111111111111",
      label: "Main pixel",
      accessTokenEnc: "v1:x",
      tokenFingerprint: "f1",
    },
  });
  await db.prisma.destination.create({
    data: { id: PIXEL_2, shop: A, pixelId: "222222222222222", accessTokenEnc: "v1:y", tokenFingerprint: "f2" },
  });
  // Shop A: events spread over 40 days, every state, two event names, both pixels and none.
  const names = ["Purchase", "InitiateCheckout"];
  for (let i = 0; i < 60; i++) {
    const state = EVENT_STATES[i % EVENT_STATES.length]!;
    const eventName = names[i % 3 === 0 ? 1 : 0]!;
    // The first 24 within the last day, one an hour; the rest a day or more ago, up to 36 days.
    const createdAt = i < 24 ? ago(i * HOUR + 60_000) : ago((i - 23) * 0.6 * DAY + 7 * 60_000);
    const userData: Record<string, string | string[]> = { em: [HASH] };
    if (i % 2 === 0) userData.ph = [HASH];
    if (i % 4 === 0) userData.fn = [HASH];
    if (i % 5 === 0) userData.zp = [HASH];
    if (i % 3 === 1) userData.external_id = [HASH];
    if (i % 5 !== 1) userData.fbp = "fb.1.1700000000000.123456789";
    if (i % 7 === 0) userData.fbc = "fb.1.1700000000000.AbCd";
    // An event on its way keeps the IP and user agent; a final one has the note naming them.
    const final = ["sent", "rejected", "invalid", "expired"].includes(state);
    const client = eventName === "Purchase" ? ["client_ip_address", "client_user_agent"] : ["client_user_agent"];
    const withClient = i % 6 !== 5;
    if (withClient && !final) for (const k of client) userData[k] = k === "client_ip_address" ? "203.0.113.9" : "UA";
    await seed({
      shop: A,
      eventName,
      state,
      destinationId: [PIXEL_1, PIXEL_2, ""][i % 3]!,
      createdAt,
      latency: state === "sent" ? 0.5 + i * 1.7 : undefined,
      userData,
      removed: withClient && final ? client : undefined,
    });
  }
  // The same Purchase sent to both pixels: two rows, two copies for coverage.
  for (const destinationId of [PIXEL_1, PIXEL_2]) {
    await db.prisma.event.create({
      data: {
        shop: A,
        eventName: "Purchase",
        eventId: "same-order",
        topic: "orders/create",
        state: "sent",
        destinationId,
        payload: { user_data: { em: [HASH], fbc: "fb.1.1.x" } },
        eventTime: ago(2 * HOUR),
        createdAt: ago(2 * HOUR),
        sentAt: ago(2 * HOUR - 3000),
        history: {
          create: [
            { at: ago(2 * HOUR), state: "queued" },
            { at: ago(2 * HOUR - 3000), state: "sent" },
          ],
        },
      },
    });
  }
  const reasons = ["test order without a test event code", "buyer declined marketing", "cancelled order", null];
  for (let i = 0; i < 14; i++) await heldBack(A, ago(i * 2.9 * DAY * (i % 2 ? 0.1 : 1) + 60_000), reasons[i % 4]!);
  // Shop B: rows in every bucket A has, which A must never count.
  for (let i = 0; i < 10; i++) {
    await seed({
      shop: B,
      eventName: "Purchase",
      state: "sent",
      destinationId: "",
      createdAt: ago(i * 2 * HOUR + 1000),
      latency: 1000,
      userData: { em: [HASH], fbc: "x", client_ip_address: "203.0.113.1" },
    });
    await heldBack(B, ago(i * HOUR + 1000), "shop B's reason");
  }
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

const statesOf = (s: Series) => EVENT_STATES.filter((st) => SERIES_OF_STATE[st] === s);

/** A direct count over the seeded rows: events of the series created in [from, to), receipts held back for held_back. */
async function sqlCount(shop: string, s: Series, from: Date, to: Date, extra = "", params: unknown[] = []) {
  const rows =
    s === "held_back"
      ? await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
          `SELECT count(*)::int AS n FROM "WebhookReceipt" WHERE "shop" = $1 AND "outcome" = 'held_back'
             AND "receivedAt" >= $2 AND "receivedAt" < $3 ${extra}`,
          shop,
          from,
          to,
          ...params,
        )
      : await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
          `SELECT count(*)::int AS n FROM "Event" WHERE "shop" = $1 AND "state" = ANY($4::text[])
             AND "createdAt" >= $2 AND "createdAt" < $3 ${extra}`,
          shop,
          from,
          to,
          statesOf(s),
          ...params,
        );
  return rows[0]!.n;
}

describe("delivery charts", () => {
  it.each(["24h", "30d"] as const)("every bucket of %s equals a SQL count, and the seeds", async (w: WindowKey) => {
    const charts = await loadDeliveryCharts(db.prisma, A, now);
    const chart = charts.windows[w];
    expect(chart.buckets).toHaveLength(WINDOWS[w].span / WINDOWS[w].step + 1);
    const end = new Date(now.getTime() + 1);
    const start = new Date(chart.since);
    expect(now.getTime() - start.getTime()).toBe(WINDOWS[w].span);
    for (const [i, b] of chart.buckets.entries()) {
      // The first bucket holds only the part of its hour or day inside the window.
      const from = new Date(Math.max(new Date(b.start).getTime(), start.getTime()));
      const to = i + 1 < chart.buckets.length ? new Date(chart.buckets[i + 1]!.start) : end;
      for (const s of SERIES) expect([b.start, s, b.counts[s]]).toEqual([b.start, s, await sqlCount(A, s, from, to)]);
    }
    // And against what was seeded: the window's events (with the order sent to both pixels) and receipts.
    const since = new Date(chart.since);
    const seeded = seeds.filter((x) => x.shop === A && x.createdAt >= since).length + 2;
    const heldSeeded = await sqlCount(A, "held_back", since, end);
    expect(totalOf(chart.totals)).toBe(seeded + heldSeeded);
    expect(heldSeeded).toBeGreaterThan(0);
    // Spread over several buckets and every series, or the comparison above would prove little.
    expect(chart.buckets.filter((b) => totalOf(b.counts) > 0).length).toBeGreaterThan(w === "24h" ? 20 : 15);
    for (const s of SERIES) expect(chart.totals[s]).toBeGreaterThan(0);
  });

  it("counts in its 24 hours what the delivery card counts in its last 24 hours", async () => {
    const [charts, stats] = await Promise.all([
      loadDeliveryCharts(db.prisma, A, now),
      loadDeliveryStats(db.prisma, A, now),
    ]);
    const { totals } = charts.windows["24h"];
    for (const state of EVENT_STATES) {
      const series = SERIES_OF_STATE[state];
      const card = EVENT_STATES.filter((s) => SERIES_OF_STATE[s] === series).reduce(
        (n, s) => n + stats.last24h.counts[s],
        0,
      );
      expect([series, totals[series]]).toEqual([series, card]);
    }
    expect(totals.held_back).toBe(stats.heldBack.last24h);
  });

  it.each(["24h", "30d"] as const)("%s by event name, by pixel and held back by reason equal SQL counts", async (w) => {
    const chart = (await loadDeliveryCharts(db.prisma, A, now)).windows[w];
    const since = new Date(chart.since);
    const end = new Date(now.getTime() + 1);
    expect(chart.byEventName.map((r) => r.key).sort()).toEqual(["InitiateCheckout", "Purchase"]);
    for (const r of chart.byEventName) {
      for (const s of SERIES.filter((x) => x !== "held_back"))
        expect(r.counts[s]).toBe(await sqlCount(A, s, since, end, `AND "eventName" = $5`, [r.key]));
      expect(r.counts.held_back).toBe(0);
    }
    expect(chart.byDestination.map((r) => r.label).sort()).toEqual(
      [NO_DESTINATION_LABEL, "Main pixel", "Pixel 222222222222222"].sort(),
    );
    for (const r of chart.byDestination)
      for (const s of SERIES.filter((x) => x !== "held_back"))
        expect(r.counts[s]).toBe(await sqlCount(A, s, since, end, `AND "destinationId" = $5`, [r.key]));
    expect(chart.heldBackOther).toBe(0);
    expect(chart.heldBackReasons.length).toBeGreaterThan(1);
    for (const r of chart.heldBackReasons) {
      const extra = r.reason === "(no reason recorded)" ? `AND "reason" IS NULL` : `AND "reason" = $4`;
      const params = r.reason === "(no reason recorded)" ? [] : [r.reason];
      const n = await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM "WebhookReceipt" WHERE "shop" = $1 AND "outcome" = 'held_back'
           AND "receivedAt" >= $2 AND "receivedAt" <= $3 ${extra}`,
        A,
        since,
        now,
        ...params,
      );
      expect(r.count).toBe(n[0]!.n);
    }
    expect(chart.heldBackReasons.reduce((sum, r) => sum + r.count, 0)).toBe(chart.totals.held_back);
  });

  it.each(Object.keys(LATENCY_WINDOWS) as Array<keyof typeof LATENCY_WINDOWS>)(
    "latency p50 and p95 over %s are those of the seeded deliveries",
    async (w) => {
      const { latency } = await loadDeliveryCharts(db.prisma, A, now);
      const since = ago(LATENCY_WINDOWS[w]);
      const delivered = seeds.filter((x) => x.shop === A && x.state === "sent" && x.createdAt >= since);
      // The order sent to both pixels: two deliveries of 3 s.
      const seconds = (name?: string) => [
        ...delivered.filter((x) => !name || x.eventName === name).map((x) => x.latency!),
        ...(!name || name === "Purchase" ? [3, 3] : []),
      ];
      const expected = (name?: string) => {
        const xs = seconds(name);
        return { delivered: xs.length, p50: percentile(xs, 0.5), p95: percentile(xs, 0.95) };
      };
      const [all, ...byName] = latency[w];
      expect(all!.eventName).toBe("");
      for (const [got, want] of [
        [all!, expected()],
        ...byName.map((l) => [l, expected(l.eventName)] as const),
      ] as const) {
        expect(got.delivered).toBe(want.delivered);
        expect(got.p50).toBeCloseTo(want.p50!, 3);
        expect(got.p95).toBeCloseTo(want.p95!, 3);
      }
      expect(byName.map((l) => l.eventName).sort()).toEqual(["InitiateCheckout", "Purchase"]);
    },
  );

  it("shows a shop without events nothing, and nothing of the other shops", async () => {
    const charts = await loadDeliveryCharts(db.prisma, EMPTY, now);
    for (const w of ["24h", "30d"] as const) {
      expect(totalOf(charts.windows[w].totals)).toBe(0);
      expect(charts.windows[w].byEventName).toEqual([]);
      expect(charts.windows[w].heldBackReasons).toEqual([]);
    }
    expect(charts.latency["7d"]).toEqual([{ eventName: "", delivered: 0, p50: null, p95: null }]);
    const b = await loadDeliveryCharts(db.prisma, B, now);
    expect(b.windows["24h"].totals.delivered).toBe(10);
    expect(b.windows["24h"].heldBackReasons).toEqual([{ reason: "shop B's reason", count: 10 }]);
  });
});

/** percentile_cont: linear interpolation between the two nearest ranks. */
function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

describe("match-key coverage", () => {
  it("every share's count equals a SQL count of the last 7 days' copies (one per pixel), and the seeds", async () => {
    const coverage = await loadMatchCoverage(db.prisma, A, now);
    const since = ago(7 * DAY);
    expect(coverage.events.map((e) => e.eventName).sort()).toEqual(["InitiateCheckout", "Purchase"]);
    for (const e of coverage.events) {
      const window = seeds.filter((x) => x.shop === A && x.eventName === e.eventName && x.createdAt >= since);
      const extra = e.eventName === "Purchase" ? 2 : 0; // the order sent to both pixels: a copy for each
      expect(e.total).toBe(window.length + extra);
      for (const k of MATCH_KEYS) {
        // Written another way: the user_data text holds the key, or the notes' text names it.
        const field = k.fields.map((f) => `"payload"->'user_data'->'${f}' IS NOT NULL`).join(" OR ");
        const removed = "removedOnceSent" in k ? ` OR "notes"::text LIKE '%${k.removedOnceSent}%'` : "";
        const n = await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
          `SELECT count(*)::int AS n FROM "Event" WHERE "shop" = $1 AND "eventName" = $2
             AND "createdAt" >= $3 AND "createdAt" <= $4 AND (${field}${removed})`,
          A,
          e.eventName,
          since,
          now,
        );
        const c = e.keys.find((x) => x.key === k.id)!;
        expect([k.id, c.count]).toEqual([k.id, n[0]!.n]);
        const fromSeeds =
          window.filter(
            (x) =>
              k.fields.some((f) => f in x.userData) ||
              ("removedOnceSent" in k && x.removed?.includes(k.removedOnceSent)),
          ).length + (extra && ["em", "fbc"].includes(k.id) ? extra : 0);
        expect([k.id, c.count]).toEqual([k.id, fromSeeds]);
        expect(c.share).toBeCloseTo(c.count / e.total, 10);
      }
    }
    // The IP was seeded on Purchases only, partly removed: the removed notes count.
    const ip = (name: string) =>
      coverage.events.find((e) => e.eventName === name)!.keys.find((k) => k.key === "client_ip_address")!;
    expect(ip("InitiateCheckout").count).toBe(0);
    expect(ip("Purchase").count).toBeGreaterThan(0);
    expect(coverage.advice.some((a) => a.eventName === "InitiateCheckout" && a.key === "client_ip_address")).toBe(true);
  });

  it("shows a shop without events nothing, and counts only the shop's own", async () => {
    expect((await loadMatchCoverage(db.prisma, EMPTY, now)).events).toEqual([]);
    const b = await loadMatchCoverage(db.prisma, B, now);
    expect(b.events.map((e) => [e.eventName, e.total])).toEqual([["Purchase", 10]]);
  });
});
