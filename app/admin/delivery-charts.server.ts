// The Overview's delivery charts, read from the database: events by state per hour over 24 hours
// and per day over 30 days, per event name and per destination; held-back webhooks from their
// receipts, each reason as recorded; delivery latency from the event's arrival to Meta's
// acceptance. Every query is filtered by the shop; the shaping is ./delivery-charts.ts.
import type { PrismaClient } from "@prisma/client";
import type { ReceiptOutcome } from "../pipeline/lifecycle";
import { listDestinations } from "../pipeline/destinations.server";
import { sumEventCounts } from "../pipeline/event-counts.server";
import { snapshotted } from "./report-snapshot.server";
import {
  breakdown,
  fillBuckets,
  sumCounts,
  WINDOWS,
  type Breakdown,
  type Bucket,
  type CountRow,
  type Latency,
  type SeriesCounts,
  type WindowKey,
  windowStart,
} from "./delivery-charts";

const HELD_BACK: ReceiptOutcome = "held_back";
/** Held-back reasons listed one by one (most frequent first); the rest are counted together. */
export const CHART_REASONS_LIMIT = 10;
/** A destination's copy made while the shop had none: adopted by the first pixel connected. */
export const NO_DESTINATION_LABEL = "No pixel connected yet";
export const LATENCY_WINDOWS = { "24h": 86_400_000, "7d": 7 * 86_400_000 } as const;

export interface WindowChart {
  window: WindowKey;
  /** ISO: where the window begins (exactly 24 hours or 30 days before it was read) and that moment. */
  since: string;
  until: string;
  buckets: Bucket[];
  totals: SeriesCounts;
  byEventName: Breakdown[];
  /** Held back is not per destination: a webhook held back never became any pixel's event. */
  byDestination: Breakdown[];
  heldBackReasons: Array<{ reason: string; count: number }>;
  /** Held back for reasons beyond CHART_REASONS_LIMIT. */
  heldBackOther: number;
}

export interface DeliveryCharts {
  windows: Record<WindowKey, WindowChart>;
  /** Per event name, all events first (eventName ""), for each latency window. */
  latency: Record<keyof typeof LATENCY_WINDOWS, Latency[]>;
}

type Raw = { key: string | Date; state: string; count: number };
const rowsOf = (raw: Raw[]): CountRow[] =>
  raw.map((r) => ({ key: r.key instanceof Date ? r.key.toISOString() : r.key, state: r.state, count: r.count }));

// Both read the rollup (../pipeline/event-counts.server.ts): the same counts as the events', without scanning them.
async function eventsPerBucket(prisma: PrismaClient, shop: string, unit: "hour" | "day", since: Date, until: Date) {
  const rows = await sumEventCounts(prisma, shop, [unit, "state"], { since, until });
  return rows.map((r) => {
    const key = unit === "hour" ? (r as { hour: Date }).hour : (r as { day: Date }).day;
    return { key: key.toISOString(), state: r.state, count: r.count };
  });
}

async function heldBackPerBucket(prisma: PrismaClient, shop: string, unit: "hour" | "day", since: Date, until: Date) {
  const raw = await prisma.$queryRawUnsafe<Raw[]>(
    `SELECT date_trunc('${unit}', "receivedAt") AS "key", 'held_back' AS "state", count(*)::int AS "count"
     FROM "WebhookReceipt"
     WHERE "shop" = $1 AND "outcome" = $2 AND "receivedAt" >= $3 AND "receivedAt" <= $4 GROUP BY 1`,
    shop,
    HELD_BACK,
    since,
    until,
  );
  return rowsOf(raw);
}

async function eventsBy(
  prisma: PrismaClient,
  shop: string,
  column: "eventName" | "destinationId",
  since: Date,
  until: Date,
) {
  const rows = await sumEventCounts(prisma, shop, [column, "state"], { since, until });
  return rows.map((r) => ({ key: (r as Record<typeof column, string>)[column], state: r.state, count: r.count }));
}

async function heldBackReasons(prisma: PrismaClient, shop: string, since: Date, until: Date) {
  const groups = await prisma.webhookReceipt.groupBy({
    by: ["reason"],
    where: { shop, outcome: HELD_BACK, receivedAt: { gte: since, lte: until } },
    _count: { _all: true },
  });
  return groups
    .map((g) => ({ reason: g.reason ?? "(no reason recorded)", count: g._count._all }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

async function windowChart(
  prisma: PrismaClient,
  shop: string,
  window: WindowKey,
  now: Date,
  destinationLabel: (id: string) => string,
): Promise<WindowChart> {
  const { unit } = WINDOWS[window];
  const since = windowStart(window, now);
  const [events, held, names, destinations, reasons] = await Promise.all([
    eventsPerBucket(prisma, shop, unit, since, now),
    heldBackPerBucket(prisma, shop, unit, since, now),
    eventsBy(prisma, shop, "eventName", since, now),
    eventsBy(prisma, shop, "destinationId", since, now),
    heldBackReasons(prisma, shop, since, now),
  ]);
  const buckets = fillBuckets(window, now, [...events, ...held]);
  const listed = reasons.slice(0, CHART_REASONS_LIMIT);
  return {
    window,
    since: since.toISOString(),
    until: now.toISOString(),
    buckets,
    totals: sumCounts(buckets.map((b) => b.counts)),
    byEventName: breakdown(names),
    byDestination: breakdown(destinations, destinationLabel),
    heldBackReasons: listed,
    heldBackOther: reasons.slice(CHART_REASONS_LIMIT).reduce((sum, r) => sum + r.count, 0),
  };
}

/**
 * p50 and p95 of the time from an event's arrival (its row is written as its webhook is
 * received) to its first transition into sent (`sentAt`), for the events created in the window
 * that Meta accepted; per event name, and all together (eventName "").
 */
export async function loadLatency(prisma: PrismaClient, shop: string, since: Date, until: Date): Promise<Latency[]> {
  const rows = await prisma.$queryRaw<Array<{ eventName: string; delivered: number; p50: number; p95: number }>>`
    WITH d AS (
      SELECT "eventName", EXTRACT(EPOCH FROM ("sentAt" - "createdAt"))::float8 AS "seconds"
      FROM "Event"
      WHERE "shop" = ${shop} AND "createdAt" >= ${since} AND "createdAt" <= ${until} AND "sentAt" IS NOT NULL
    )
    SELECT COALESCE("eventName", '') AS "eventName", count(*)::int AS "delivered",
      percentile_cont(0.5) WITHIN GROUP (ORDER BY "seconds") AS "p50",
      percentile_cont(0.95) WITHIN GROUP (ORDER BY "seconds") AS "p95"
    FROM d GROUP BY GROUPING SETS ((), ("eventName")) ORDER BY 1`;
  const all = rows.find((r) => r.eventName === "");
  return [all ?? { eventName: "", delivered: 0, p50: null, p95: null }, ...rows.filter((r) => r.eventName !== "")].map(
    (r) => ({ eventName: r.eventName, delivered: r.delivered, p50: r.p50, p95: r.p95 }),
  );
}

export async function loadDeliveryCharts(
  prisma: PrismaClient,
  shop: string,
  now: Date = new Date(),
): Promise<DeliveryCharts> {
  const destinations = await listDestinations(prisma, shop);
  const labels = new Map(destinations.map((d) => [d.id, d.label ?? `Pixel ${d.pixelId}`]));
  // A destination deleted since keeps its events: they are shown under their id's start.
  const label = (id: string) =>
    id === "" ? NO_DESTINATION_LABEL : (labels.get(id) ?? `Removed pixel (${id.slice(0, 8)})`);
  const latencies = async () => {
    const [day, week] = await Promise.all([
      loadLatency(prisma, shop, new Date(now.getTime() - LATENCY_WINDOWS["24h"]), now),
      loadLatency(prisma, shop, new Date(now.getTime() - LATENCY_WINDOWS["7d"]), now),
    ]);
    return { "24h": day, "7d": week };
  };
  const [day, month, latency] = await Promise.all([
    windowChart(prisma, shop, "24h", now, label),
    windowChart(prisma, shop, "30d", now, label),
    // Every delivered event of 7 days: kept as last computed, refreshed in the background.
    snapshotted(prisma, shop, "latency", now, latencies),
  ]);
  return { windows: { "24h": day, "30d": month }, latency: latency.value };
}
