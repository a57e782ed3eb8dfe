// Match-key coverage read from the database: per event name, how many of the shop's events of the
// last 7 days carry each match key (./match-coverage.ts). The buyer's IP and user agent are
// removed from a payload once its event is past sending; the note then left names the keys
// (app/pipeline/client-data.ts), and counts as carrying them. Shared by the Overview and the
// support CLI's quality report.
import type { PrismaClient } from "@prisma/client";
import { coverageOf, MATCH_KEYS, matchAdvice, type MatchCoverage, type MatchKeyId } from "./match-coverage";

export const COVERAGE_WINDOW_MS = 7 * 86_400_000;
/** Event names counted at most (most events first): the app builds two, the bound keeps the answer small. */
const EVENT_NAMES_LIMIT = 20;

const fieldsSql = (fields: readonly string[]) => `ARRAY[${fields.map((f) => `'${f}'`).join(", ")}]`;
// The note's code and key names are fixed words of ./client-data.ts, never input; the LIKE
// matches the key's name in the note's comma-separated list.
const removedSql = (key: string) =>
  `EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof("notes") = 'array' THEN "notes" ELSE '[]'::jsonb END) n
     WHERE n->>'code' = 'client_data_removed' AND n->>'message' LIKE '%${key}%')`;
const carriesSql = (key: (typeof MATCH_KEYS)[number]) =>
  [
    `COALESCE(("payload"->'user_data') ?| ${fieldsSql(key.fields)}, false)`,
    ...("removedOnceSent" in key ? [removedSql(key.removedOnceSent)] : []),
  ].join(" OR ");

// Fixed at load: one column per match key, named by its id.
const COVERAGE_SQL = `
  SELECT "eventName", count(DISTINCT "eventId")::int AS "total",
    ${MATCH_KEYS.map((k) => `count(DISTINCT "eventId") FILTER (WHERE ${carriesSql(k)})::int AS "${k.id}"`).join(",\n    ")}
  FROM "Event"
  WHERE "shop" = $1 AND "createdAt" >= $2 AND "createdAt" <= $3
  GROUP BY "eventName" ORDER BY "total" DESC, "eventName" LIMIT ${EVENT_NAMES_LIMIT}`;

export async function loadMatchCoverage(
  prisma: PrismaClient,
  shop: string,
  now: Date = new Date(),
): Promise<MatchCoverage> {
  const since = new Date(now.getTime() - COVERAGE_WINDOW_MS);
  const rows = await prisma.$queryRawUnsafe<Array<{ eventName: string; total: number } & Record<MatchKeyId, number>>>(
    COVERAGE_SQL,
    shop,
    since,
    now,
  );
  const events = rows.map((r) => coverageOf(r.eventName, r.total, r));
  return { since: since.toISOString(), until: now.toISOString(), events, advice: matchAdvice(events) };
}
