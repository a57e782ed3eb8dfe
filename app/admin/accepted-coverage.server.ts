// Our own match-key coverage as Meta saw it: per destination and event name, the share of the
// events Meta accepted in the last 7 days (Test events left out, as Meta leaves them out of its numbers)
// whose stored payload carries each user_data key. One SQL count over the shop's events; the
// Overview's Meta quality card and `capi quality` both read it, so the two never disagree.
// IP address and user agent are removed from a payload once it is sent (app/pipeline/client-data.ts);
// the note that records the removal names them, so they count as carried.
import type { PrismaClient } from "@prisma/client";
import { CLIENT_KEYS } from "../pipeline/client-data";

/** user_data keys counted, in the order shown. */
export const COVERAGE_KEYS = [
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
export type CoverageKey = (typeof COVERAGE_KEYS)[number];

export const COVERAGE_WINDOW_DAYS = 7;

export interface AcceptedCoverage {
  destinationId: string;
  eventName: string;
  /** Events counted (accepted by Meta, outside Test events, in the window). */
  events: number;
  /** Events carrying each key. */
  counts: Record<CoverageKey, number>;
  /** The same as percentages, one decimal. */
  percent: Record<CoverageKey, number>;
}

const isClientKey = (key: CoverageKey): boolean => (CLIENT_KEYS as readonly string[]).includes(key);

function carried(key: CoverageKey, index: number): string {
  const inPayload = `jsonb_exists("payload"->'user_data', '${key}')`;
  if (!isClientKey(key)) return inPayload;
  // The removal note's message ends with the keys it removed ("...: client_ip_address, client_user_agent").
  return `(${inPayload} OR ("notes" @> '[{"code":"client_data_removed"}]'::jsonb AND EXISTS (
      SELECT 1 FROM jsonb_array_elements("notes") AS n
      WHERE n->>'code' = 'client_data_removed' AND position($${index} in n->>'message') > 0)))`;
}

export async function loadAcceptedCoverage(
  prisma: PrismaClient,
  shop: string,
  now: Date = new Date(),
): Promise<AcceptedCoverage[]> {
  const since = new Date(now.getTime() - COVERAGE_WINDOW_DAYS * 86_400_000);
  const params: unknown[] = [shop, since];
  const columns = COVERAGE_KEYS.map((key) => {
    if (isClientKey(key)) params.push(key);
    const condition = carried(key, params.length);
    return `COUNT(*) FILTER (WHERE ${condition})::int AS "${key}"`;
  });
  const rows = await prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(
    `SELECT "destinationId", "eventName", COUNT(*)::int AS "events", ${columns.join(", ")}
       FROM "Event"
      WHERE "shop" = $1 AND "state" = 'sent' AND "testEventCode" IS NULL AND "payload" IS NOT NULL
        AND "createdAt" >= $2
      GROUP BY "destinationId", "eventName"
      ORDER BY "destinationId", "eventName"`,
    ...params,
  );
  return rows.map((row) => {
    const events = Number(row.events);
    const counts = Object.fromEntries(COVERAGE_KEYS.map((k) => [k, Number(row[k])])) as Record<CoverageKey, number>;
    const percent = Object.fromEntries(
      COVERAGE_KEYS.map((k) => [k, events === 0 ? 0 : Math.round((1000 * counts[k]) / events) / 10]),
    ) as Record<CoverageKey, number>;
    return { destinationId: String(row.destinationId), eventName: String(row.eventName), events, counts, percent };
  });
}
