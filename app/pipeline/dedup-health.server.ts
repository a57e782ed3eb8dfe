// Deduplication health, the shell: storing what the web pixel reports it fired, the per-shop
// rate limit on those reports (Redis), and the one query that joins them with the server's
// deliveries. Every statement is scoped by shop.
import type { Redis } from "ioredis";
import type { SqlRunner } from "../db/client.server";
import { DEDUP_DAYS, dedupHealth, type DedupCount, type DedupHealth } from "./dedup-health";
import { DEDUP_EVENT_NAMES, FIRED_REPORTS_PER_MINUTE, firedIdsRateKey, type FiredIdsReport } from "./fired-ids";

const DAY_MS = 86_400_000;

/** Stores the reported ids; a repeat of one is kept once (its first firing). Returns how many were new. */
export async function recordBrowserEvents(
  sql: SqlRunner,
  shop: string,
  report: FiredIdsReport,
  now: Date,
): Promise<number> {
  const rows = await sql<{ id: bigint }>(
    `INSERT INTO "BrowserEvent" ("shop", "eventName", "eventId", "firedAt")
     SELECT $1, n, i, $4::timestamptz AT TIME ZONE 'UTC' FROM unnest($2::text[], $3::text[]) AS t(n, i)
     ON CONFLICT ("shop", "eventName", "eventId") DO NOTHING RETURNING "id"`,
    [shop, report.events.map((e) => e.name), report.events.map((e) => e.id), now.toISOString()],
  );
  return rows.length;
}

/**
 * True when the shop may report once more in this minute. A fixed one-minute window per shop:
 * a busy shop's visitors together stay under FIRED_REPORTS_PER_MINUTE; beyond it the reports
 * are dropped (the health then undercounts pairs, which the card says it may).
 */
export async function allowFiredReport(
  redis: Redis,
  prefix: string,
  shop: string,
  now: Date,
  limit = FIRED_REPORTS_PER_MINUTE,
): Promise<boolean> {
  const key = firedIdsRateKey(prefix, shop, now);
  const [[, count]] = (await redis.multi().incr(key).expire(key, 120).exec()) as [[unknown, number], unknown];
  return count <= limit;
}

const NAMES = `ARRAY[${DEDUP_EVENT_NAMES.map((n) => `'${n}'`).join(",")}]`;

/**
 * Per event name and UTC day (of the conversion), the distinct event ids the server delivered
 * to Meta (state sent, test events left out) and how many of them the browser fired too.
 */
const COUNTS = `
  WITH sent AS (
    SELECT e."eventName", e."eventId", MIN(e."eventTime") AS at
    FROM "Event" e
    WHERE e."shop" = $1 AND e."state" = 'sent' AND e."testEventCode" IS NULL
      AND e."eventName" = ANY(${NAMES}) AND e."eventTime" >= ($2::timestamptz AT TIME ZONE 'UTC')
    GROUP BY e."eventName", e."eventId")
  SELECT s."eventName", to_char(s.at, 'YYYY-MM-DD') AS "day",
         COUNT(*)::int AS "serverSent", COUNT(b."id")::int AS "paired"
  FROM sent s
  LEFT JOIN "BrowserEvent" b ON b."shop" = $1 AND b."eventName" = s."eventName" AND b."eventId" = s."eventId"
  GROUP BY 1, 2`;

export async function loadDedupHealth(
  sql: SqlRunner,
  shop: string,
  now: Date,
  days = DEDUP_DAYS,
): Promise<DedupHealth> {
  // From the start of the UTC day `days - 1` days ago: whole days only.
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const since = new Date(today - (days - 1) * DAY_MS).toISOString();
  const [counts, reported] = await Promise.all([
    sql<DedupCount>(COUNTS, [shop, since]),
    sql<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM "BrowserEvent" WHERE "shop" = $1 AND "firedAt" >= ($2::timestamptz AT TIME ZONE 'UTC')) AS "any"`,
      [shop, since],
    ),
  ]);
  return dedupHealth(counts, reported[0]?.any === true, days);
}
