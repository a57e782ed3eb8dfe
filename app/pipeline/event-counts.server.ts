// The admin's event counts, read from the "EventCount" rollup (prisma/migrations/
// 20261231900000_event_counts): a shop's events per hour of arrival, destination, event name,
// state, test or not, stored payload or not and the match keys carried, kept exact by triggers
// on "Event" that append each change to "EventCountDelta"; the worker's sweep folds those in
// (foldEventCounts) and readers add the ones not folded yet. A window [since, until] is summed
// from the day table's whole days inside it (unless asked by hour or for keys), the rollup's
// whole hours around them, and the events themselves at its two ragged ends (at most an hour
// each, read through the (shop, createdAt, id) index), so every count equals a count of the
// events whatever the clock.
import type { PrismaClient } from "@prisma/client";
import type { SqlRunner } from "../db/client.server";

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

const DAY_MS = 24 * HOUR_MS;

/** The grouping columns after the time. */
const GROUP_COLUMNS = `"destinationId", "eventName", "state", "test"`;
const STATE_COLUMNS = `"hour", ${GROUP_COLUMNS}`;
const KEY_COLUMNS = `${STATE_COLUMNS}, "hasPayload", "keys"`;

/**
 * A tier of the rollup as readers see it: the folded counts and the changes not folded yet.
 * "keys": the table with the payload and match-key columns (EventCount); "hours": the one
 * without them (EventStateCount), a big shop's key combinations fewer rows; "days": the same
 * per UTC day (EventDayCount), its "day" read as "hour" and the pending changes cut to days.
 */
type Tier = "keys" | "hours" | "days";
const tierSource = (tier: Tier) => {
  if (tier === "keys") {
    return `(SELECT "shop", ${KEY_COLUMNS}, "count" FROM "EventCount"
       UNION ALL SELECT "shop", ${KEY_COLUMNS}, "count" FROM "EventCountDelta") c`;
  }
  if (tier === "hours") {
    return `(SELECT "shop", ${STATE_COLUMNS}, "count" FROM "EventStateCount"
       UNION ALL SELECT "shop", ${STATE_COLUMNS}, "count" FROM "EventCountDelta") c`;
  }
  return `(SELECT "shop", "day" AS "hour", ${GROUP_COLUMNS}, "count" FROM "EventDayCount"
     UNION ALL SELECT "shop", date_trunc('day', "hour") AS "hour", ${GROUP_COLUMNS}, "count" FROM "EventCountDelta") c`;
};

/** Any number, the same in every process: one fold at a time (a second one finds it taken and leaves). */
const FOLD_LOCK = 0x43415049;

/**
 * Moves the changes the triggers appended into the rollup, in one statement: readers see the
 * counts before or after it, never both or neither. Rows appended by writers still in flight
 * are not visible to it and wait for the next fold.
 */
const FOLD = `
  WITH moved AS (
    DELETE FROM "EventCountDelta" WHERE (SELECT pg_try_advisory_xact_lock(${FOLD_LOCK})) RETURNING *
  ), keyed AS (
    INSERT INTO "EventCount" AS c ("shop", ${KEY_COLUMNS}, "count")
    SELECT "shop", ${KEY_COLUMNS}, sum("count")::int FROM moved
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING sum("count") <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ("shop", ${KEY_COLUMNS}) DO UPDATE SET "count" = c."count" + EXCLUDED."count"
  ), stated AS (
    INSERT INTO "EventStateCount" AS c ("shop", ${STATE_COLUMNS}, "count")
    SELECT "shop", ${STATE_COLUMNS}, sum("count")::int FROM moved
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum("count") <> 0 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ("shop", ${STATE_COLUMNS}) DO UPDATE SET "count" = c."count" + EXCLUDED."count"
  ), daily AS (
    INSERT INTO "EventDayCount" AS c ("shop", "day", ${GROUP_COLUMNS}, "count")
    SELECT "shop", date_trunc('day', "hour"), ${GROUP_COLUMNS}, sum("count")::int FROM moved
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum("count") <> 0 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ("shop", "day", ${GROUP_COLUMNS}) DO UPDATE SET "count" = c."count" + EXCLUDED."count"
  )
  SELECT count(*)::int AS "moved" FROM moved`;

/** Folds the pending changes into the rollup; returns how many were moved (0 when another fold holds the lock). */
export async function foldEventCounts(sql: SqlRunner): Promise<number> {
  const [row] = await sql<{ moved: number }>(FOLD, []);
  return row?.moved ?? 0;
}

/** Events grouped as the rollup groups them (the ragged ends of a window); the keys only when asked for. */
const rawSelect = (keys: boolean) => `
  SELECT date_trunc('hour', "createdAt") AS "hour", "destinationId", "eventName", "state",
         "testEventCode" IS NOT NULL AS "test"${
           keys ? `, "payload" IS NOT NULL AS "hasPayload", capi_event_keys("payload", "notes") AS "keys"` : ""
         }, 1 AS "count"
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
  /** Any of these states. */
  states?: readonly string[];
  destinationId?: string;
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
  if (filter.states !== undefined) where.push(`"state" = ANY(${bind([...filter.states])}::text[])`);
  if (filter.destinationId !== undefined) where.push(`"destinationId" = ${bind(filter.destinationId)}`);
  if (filter.test !== undefined) where.push(`"test" = ${bind(filter.test)}`);
  if (filter.hasPayload !== undefined) where.push(`"hasPayload" = ${bind(filter.hasPayload)}`);
  const extra = where.map((w) => ` AND ${w}`).join("");
  const keys = columns.some((c) => c === "hasPayload" || c === "keys") || filter.hasPayload !== undefined;
  // Whole days from the day table, unless the rows are asked for by hour.
  const days = !keys && !columns.some((c) => c === "hour");
  const listed = keys ? KEY_COLUMNS : STATE_COLUMNS;
  const at = (ms: number) => bind(new Date(ms));
  const tier = (t: Tier, from?: number, to?: number) =>
    `SELECT ${listed}, "count" FROM ${tierSource(t)} WHERE "shop" = $1` +
    (from !== undefined ? ` AND "hour" >= ${at(from)}` : "") +
    (to !== undefined ? ` AND "hour" < ${at(to)}` : "") +
    extra;
  const raw = (from: number, to: number, inclusive = false) =>
    `SELECT * FROM (${rawSelect(keys)} WHERE "shop" = $1 AND "createdAt" >= ${at(from)} AND "createdAt" ${
      inclusive ? "<=" : "<"
    } ${at(to)}) e WHERE true${extra}`;
  /** [from, to) of whole hours (to open without a bound): whole days inside it from the day table. */
  const hours = (from?: number, to?: number): string[] => {
    if (!days) return [tier(keys ? "keys" : "hours", from, to)];
    const d0 = from === undefined ? undefined : Math.ceil(from / DAY_MS) * DAY_MS;
    const d1 = to === undefined ? undefined : Math.floor(to / DAY_MS) * DAY_MS;
    if (d0 !== undefined && d1 !== undefined && d0 >= d1) return [tier("hours", from, to)];
    return [
      ...(from !== undefined && d0! > from ? [tier("hours", from, d0)] : []),
      tier("days", d0, d1),
      ...(to !== undefined && d1! < to ? [tier("hours", d1, to)] : []),
    ];
  };
  let parts: string[];
  if (!window.since) {
    parts = hours();
  } else if (!window.until) {
    // No end: whole hours from lo on from the rollup, [since, lo) from the events.
    const lo = Math.ceil(window.since.getTime() / HOUR_MS) * HOUR_MS;
    parts = [...hours(lo), raw(window.since.getTime(), lo)];
  } else {
    const since = window.since.getTime();
    const until = window.until.getTime();
    // Whole hours [lo, hi) from the rollup; [since, lo) and [hi, until] from the events.
    const lo = Math.ceil(since / HOUR_MS) * HOUR_MS;
    const hi = Math.floor(until / HOUR_MS) * HOUR_MS;
    parts = lo < hi ? [raw(since, lo), ...hours(lo, hi), raw(hi, until, true)] : [raw(since, until, true)];
  }
  const rows = parts.join("\n      UNION ALL\n      ");
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
