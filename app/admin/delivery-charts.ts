// The Overview's delivery charts, pure: which series an event state and a held-back webhook fall
// in, the time buckets of each window (UTC: the app knows no shop time zone), and the shaping of
// grouped SQL counts into charts with every empty bucket filled with zeros. The queries are in
// ./delivery-charts.server.ts; the card in ./delivery-charts-card.tsx. No I/O.
import { EVENT_STATE_INFO, RECEIPT_OUTCOME_INFO, isEventState, type EventState } from "../pipeline/lifecycle";

/** What the charts stack, in the order an event goes through them; held back is counted from receipts. */
export const SERIES = ["delivered", "queued", "retrying", "paused", "rejected", "not_sent", "held_back"] as const;
export type Series = (typeof SERIES)[number];

/** The series of each event state: being sent counts as queued; invalid and expired are never sent. */
export const SERIES_OF_STATE: Record<EventState, Series> = {
  sent: "delivered",
  queued: "queued",
  sending: "queued",
  retrying: "retrying",
  paused: "paused",
  rejected: "rejected",
  invalid: "not_sent",
  expired: "not_sent",
};

export const SERIES_LABEL: Record<Series, string> = {
  delivered: EVENT_STATE_INFO.sent.label,
  queued: EVENT_STATE_INFO.queued.label,
  retrying: EVENT_STATE_INFO.retrying.label,
  paused: EVENT_STATE_INFO.paused.label,
  rejected: EVENT_STATE_INFO.rejected.label,
  not_sent: `${EVENT_STATE_INFO.invalid.label} or ${EVENT_STATE_INFO.expired.label.toLowerCase()}`,
  held_back: RECEIPT_OUTCOME_INFO.held_back.label,
};

export type SeriesCounts = Record<Series, number>;

export function zeroCounts(): SeriesCounts {
  return Object.fromEntries(SERIES.map((s) => [s, 0])) as SeriesCounts;
}

/**
 * A chart's window: exactly the last 24 hours or 30 days (so its totals are those of the
 * delivery card's "last 24 hours"), in clock hours or days: the first bucket holds only the part
 * of its hour or day inside the window, the last one ends now.
 */
export const WINDOWS = {
  "24h": { unit: "hour", span: 24 * 3_600_000, step: 3_600_000, label: "Last 24 hours, per hour" },
  "30d": { unit: "day", span: 30 * 86_400_000, step: 86_400_000, label: "Last 30 days, per day" },
} as const;
export type WindowKey = keyof typeof WINDOWS;

/** The start of `at`'s hour or day, in UTC. */
export function truncate(at: Date, unit: "hour" | "day"): Date {
  const d = new Date(at);
  if (unit === "day") d.setUTCHours(0, 0, 0, 0);
  else d.setUTCMinutes(0, 0, 0);
  return d;
}

/** Where the window begins: `span` before now. */
export function windowStart(window: WindowKey, now: Date): Date {
  return new Date(now.getTime() - WINDOWS[window].span);
}

/** The starts of the hours or days the window overlaps, oldest first (UTC). */
export function bucketStarts(window: WindowKey, now: Date): Date[] {
  const { unit, step } = WINDOWS[window];
  const last = truncate(now, unit).getTime();
  const starts: Date[] = [];
  for (let t = truncate(windowStart(window, now), unit).getTime(); t <= last; t += step) starts.push(new Date(t));
  return starts;
}

/** One grouped count from SQL: an event state (or "held_back" for receipts), a group key, a count. */
export interface CountRow {
  key: string;
  state: string;
  count: number;
}

/** Adds a row's count into its series; a state outside the vocabulary (there should be none) is left out. */
function add(counts: SeriesCounts, state: string, n: number): void {
  if (state === "held_back") counts.held_back += n;
  else if (isEventState(state)) counts[SERIES_OF_STATE[state]] += n;
}

export interface Bucket {
  /** ISO start of the hour or day (UTC). */
  start: string;
  counts: SeriesCounts;
}

/** Rows keyed by bucket start (ISO) into every bucket of the window, zeros where nothing was counted. */
export function fillBuckets(window: WindowKey, now: Date, rows: CountRow[]): Bucket[] {
  const buckets = bucketStarts(window, now).map((start) => ({ start: start.toISOString(), counts: zeroCounts() }));
  const byStart = new Map(buckets.map((b) => [b.start, b]));
  for (const row of rows) {
    const bucket = byStart.get(new Date(row.key).toISOString());
    if (bucket) add(bucket.counts, row.state, row.count);
  }
  return buckets;
}

export interface Breakdown {
  key: string;
  label: string;
  counts: SeriesCounts;
  total: number;
}

/** Rows grouped by key (an event name, a destination), most events first; `label` names each key. */
export function breakdown(rows: CountRow[], label: (key: string) => string = (k) => k): Breakdown[] {
  const groups = new Map<string, SeriesCounts>();
  for (const row of rows) {
    const counts = groups.get(row.key) ?? zeroCounts();
    add(counts, row.state, row.count);
    groups.set(row.key, counts);
  }
  return [...groups]
    .map(([key, counts]) => ({ key, label: label(key), counts, total: totalOf(counts) }))
    .sort((a, b) => b.total - a.total || a.label.localeCompare(b.label));
}

export function totalOf(counts: SeriesCounts): number {
  return SERIES.reduce((sum, s) => sum + counts[s], 0);
}

export function sumCounts(list: SeriesCounts[]): SeriesCounts {
  const sum = zeroCounts();
  for (const counts of list) for (const s of SERIES) sum[s] += counts[s];
  return sum;
}

/** Delivery latency of one event name (or of all, key ""), in seconds; null when nothing was delivered. */
export interface Latency {
  eventName: string;
  delivered: number;
  p50: number | null;
  p95: number | null;
}

/** "0.8 s", "42 s", "3.5 min", "2.1 h": a latency a merchant reads at a glance. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The label of a bucket on the axis and in the table: "Nov 20, 14:00" per hour (the first and last
 * hours of 24 share a clock hour), "Nov 20" per day; in UTC. */
export function bucketLabel(start: string, window: WindowKey): string {
  const d = new Date(start);
  const day = d.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
  if (WINDOWS[window].unit === "hour") return `${day}, ${String(d.getUTCHours()).padStart(2, "0")}:00`;
  return day;
}
