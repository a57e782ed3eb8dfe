// Match-key coverage read from the database: per event name, how many of the copies the shop's
// events of the last 7 days were built into (one per pixel) carry each match key
// (./match-coverage.ts), from the rollup's key masks (../pipeline/event-counts.server.ts loadKeyMasks, which
// ./accepted-coverage.server.ts reads too, narrowed to what Meta accepted). The buyer's IP and
// user agent are removed from a payload once its event is past sending; the note then left names
// the keys (app/pipeline/client-data.ts), and counts as carrying them. Shared by the Overview and
// the support CLI's quality report.
import type { PrismaClient } from "@prisma/client";
import { bitsOf, loadKeyMasks } from "../pipeline/event-counts.server";
import { coverageOf, MATCH_KEYS, matchAdvice, type MatchCoverage, type MatchKeyId } from "./match-coverage";

/** A key is carried when any of its fields is (its removal note sets the same bit). */
const KEY_BITS = Object.fromEntries(MATCH_KEYS.map((k) => [k.id, bitsOf(k.fields)])) as Record<MatchKeyId, number>;

export const COVERAGE_WINDOW_MS = 7 * 86_400_000;
/** Event names counted at most (most events first): the app builds two, the bound keeps the answer small. */
const EVENT_NAMES_LIMIT = 20;

export async function loadMatchCoverage(
  prisma: PrismaClient,
  shop: string,
  now: Date = new Date(),
): Promise<MatchCoverage> {
  const since = new Date(now.getTime() - COVERAGE_WINDOW_MS);
  const masks = await loadKeyMasks(prisma, shop, { since, until: now }, { accepted: false });
  const byName = new Map<string, { total: number } & Record<MatchKeyId, number>>();
  for (const m of masks) {
    let row = byName.get(m.eventName);
    if (!row) {
      row = { total: 0, ...(Object.fromEntries(MATCH_KEYS.map((k) => [k.id, 0])) as Record<MatchKeyId, number>) };
      byName.set(m.eventName, row);
    }
    row.total += m.count;
    for (const k of MATCH_KEYS) if (m.keys & KEY_BITS[k.id]) row[k.id] += m.count;
  }
  const events = [...byName]
    .sort(([a, x], [b, y]) => y.total - x.total || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, EVENT_NAMES_LIMIT)
    .map(([name, r]) => coverageOf(name, r.total, r));
  return { since: since.toISOString(), until: now.toISOString(), events, advice: matchAdvice(events) };
}
