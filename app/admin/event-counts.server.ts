// The admin's event counts, read from the "EventCount" rollup (prisma/migrations/
// 20270101000000_event_counts): a shop's events per hour of arrival, destination, event name,
// state, test or not, stored payload or not and the match keys carried, kept exact by triggers
// on "Event". A window [since, until] is summed from the rollup's whole hours inside it and the
// events themselves at its two ragged ends (at most an hour each, read through the
// (shop, createdAt, id) index), so every count equals a count of the events whatever the clock.
import type { PrismaClient } from "@prisma/client";

/** The keys of the rollup's bitmask, bit i for key i (capi_event_keys in the migration). */
export const COUNTED_KEYS = [
  "em",
  "ph",
  "fn",
  "ln",
  "ct",
  "st",
  "zp",
  "country",
  "external_id",
  "fbp",
  "fbc",
  "client_ip_address",
  "client_user_agent",
] as const;
export type CountedKey = (typeof COUNTED_KEYS)[number];

/** The bits of `keys`: an event carries one of them when `mask & bitsOf(keys)` is not 0. */
export function bitsOf(keys: readonly string[]): number {
  return keys.reduce((bits, key) => {
    const i = (COUNTED_KEYS as readonly string[]).indexOf(key);
    if (i < 0) throw new Error(`${key} is not a counted match key`);
    return bits | (1 << i);
  }, 0);
}

const HOUR_MS = 3_600_000;

/** Events grouped as the rollup groups them (the ragged ends of a window). */
const RAW_SELECT = `
  SELECT date_trunc('hour', "createdAt") AS "hour", "destinationId", "eventName", "state",
         "testEventCode" IS NOT NULL AS "test", "payload" IS NOT NULL AS "hasPayload",
         capi_event_keys("payload", "notes") AS "keys", 1 AS "count"
    FROM "Event"`;

/** One group of the rollup as a window sums it. */
export interface CountRow {
  hour: Date;
  /** The hour's UTC day. */
  day: Date;
  destinationId: string;
  eventName: string;
  state: string;
  test: boolean;
  hasPayload: boolean;
  keys: number;
  count: number;
}

/** The grouping columns a caller may sum by (fixed words, never input). */
export type CountColumn = "hour" | "day" | "destinationId" | "eventName" | "state" | "test" | "hasPayload" | "keys";

const COLUMN_SQL: Record<CountColumn, string> = {
  hour: `"hour"`,
  day: `date_trunc('day', "hour")`,
  destinationId: `"destinationId"`,
  eventName: `"eventName"`,
  state: `"state"`,
  test: `"test"`,
  hasPayload: `"hasPayload"`,
  keys: `"keys"`,
};

/** A condition on the rollup's columns, AND-ed (fixed words and bound values only). */
export interface CountFilter {
  eventName?: string;
  state?: string;
  test?: boolean;
  hasPayload?: boolean;
}

/**
 * The shop's events created in [since, until] (every event without `since`, every one from
 * `since` on without `until`), summed by
 * `columns`: one row per group with its `count`.
 */
export async function sumEventCounts<C extends CountColumn>(
  prisma: PrismaClient,
  shop: string,
  columns: readonly C[],
  window: { since?: Date; until?: Date },
  filter: CountFilter = {},
): Promise<Array<Pick<CountRow, C | "count">>> {
  const params: unknown[] = [shop];
  const bind = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where: string[] = [];
  if (filter.eventName !== undefined) where.push(`"eventName" = ${bind(filter.eventName)}`);
  if (filter.state !== undefined) where.push(`"state" = ${bind(filter.state)}`);
  if (filter.test !== undefined) where.push(`"test" = ${bind(filter.test)}`);
  if (filter.hasPayload !== undefined) where.push(`"hasPayload" = ${bind(filter.hasPayload)}`);
  const extra = where.map((w) => ` AND ${w}`).join("");
  let rows: string;
  if (!window.since) {
    rows = `SELECT * FROM "EventCount" WHERE "shop" = $1${extra}`;
  } else if (!window.until) {
    // No end: whole hours from lo on from the rollup, [since, lo) from the events.
    const lo = Math.ceil(window.since.getTime() / HOUR_MS) * HOUR_MS;
    const [pSince, pLo] = [window.since.getTime(), lo].map((t) => bind(new Date(t)));
    rows = `
      SELECT "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys", "count"
        FROM "EventCount" WHERE "shop" = $1 AND "hour" >= ${pLo}${extra}
      UNION ALL
      SELECT * FROM (${RAW_SELECT} WHERE "shop" = $1 AND "createdAt" >= ${pSince} AND "createdAt" < ${pLo}) e
       WHERE true${extra}`;
  } else {
    const since = window.since.getTime();
    const until = window.until.getTime();
    // Whole hours [lo, hi) from the rollup; [since, lo) and [hi, until] from the events.
    let lo = Math.ceil(since / HOUR_MS) * HOUR_MS;
    let hi = Math.floor(until / HOUR_MS) * HOUR_MS;
    if (lo >= hi) lo = hi = since;
    const [pSince, pUntil, pLo, pHi] = [since, until, lo, hi].map((t) => bind(new Date(t)));
    rows = `
      SELECT "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys", "count"
        FROM "EventCount" WHERE "shop" = $1 AND "hour" >= ${pLo} AND "hour" < ${pHi}${extra}
      UNION ALL
      SELECT * FROM (${RAW_SELECT}
         WHERE "shop" = $1 AND (("createdAt" >= ${pSince} AND "createdAt" < ${pLo})
                            OR ("createdAt" >= ${pHi} AND "createdAt" <= ${pUntil}))) e
       WHERE true${extra}`;
  }
  const select = columns.map((c) => `${COLUMN_SQL[c]} AS "${c}"`);
  const groups = columns.map((_, i) => String(i + 1));
  const sql = `SELECT ${[...select, `sum("count")::int AS "count"`].join(", ")} FROM (${rows}) r
    ${groups.length ? `GROUP BY ${groups.join(", ")}` : ""} HAVING sum("count") <> 0`;
  return prisma.$queryRawUnsafe(sql, ...params);
}

/** The match keys' groups of one window: per destination and event name, how many events carry each bitmask. */
export interface KeyMaskRow {
  destinationId: string;
  eventName: string;
  keys: number;
  count: number;
}

/**
 * The one reading of match-key coverage: the shop's events of [since, until] by destination,
 * event name and the keys they carry; `accepted` narrows them to the copies Meta accepted
 * (state sent, outside Test events, payload stored), as Meta counts them.
 */
export function loadKeyMasks(
  prisma: PrismaClient,
  shop: string,
  window: { since: Date; until?: Date },
  o: { accepted: boolean },
): Promise<KeyMaskRow[]> {
  return sumEventCounts(
    prisma,
    shop,
    ["destinationId", "eventName", "keys"],
    window,
    o.accepted ? { state: "sent", test: false, hasPayload: true } : {},
  );
}
