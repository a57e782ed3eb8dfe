// Our own match-key coverage as Meta saw it: per destination and event name, the share of the
// events Meta accepted in the last 7 days (Test events left out, as Meta leaves them out of its numbers)
// whose stored payload carries each user_data key. Summed from the rollup's key masks
// (../pipeline/event-counts.server.ts loadKeyMasks, the same reading as ./match-coverage.server.ts with
// the accepted filter); the Overview's Meta quality card and `capi quality` both read it, so the
// two never disagree.
// IP address and user agent are removed from a payload once it is sent (app/pipeline/client-data.ts);
// the note that records the removal names them, so they count as carried.
import type { PrismaClient } from "@prisma/client";
import { bitsOf, COUNTED_KEYS, loadKeyMasks, type CountedKey } from "../pipeline/event-counts.server";

/** user_data keys counted, in the order shown: the rollup's own keys. */
export const COVERAGE_KEYS = COUNTED_KEYS;
export type CoverageKey = CountedKey;

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

export async function loadAcceptedCoverage(
  prisma: PrismaClient,
  shop: string,
  now: Date = new Date(),
): Promise<AcceptedCoverage[]> {
  const since = new Date(now.getTime() - COVERAGE_WINDOW_DAYS * 86_400_000);
  const masks = await loadKeyMasks(prisma, shop, { since }, { accepted: true });
  const groups = new Map<
    string,
    { destinationId: string; eventName: string; events: number; counts: Record<CoverageKey, number> }
  >();
  for (const m of masks) {
    const id = `${m.destinationId}\u0000${m.eventName}`;
    let g = groups.get(id);
    if (!g) {
      const counts = Object.fromEntries(COVERAGE_KEYS.map((k) => [k, 0])) as Record<CoverageKey, number>;
      g = { destinationId: m.destinationId, eventName: m.eventName, events: 0, counts };
      groups.set(id, g);
    }
    g.events += m.count;
    for (const k of COVERAGE_KEYS) if (m.keys & bitsOf([k])) g.counts[k] += m.count;
  }
  return [...groups.values()]
    .sort((a, b) => cmp(a.destinationId, b.destinationId) || cmp(a.eventName, b.eventName))
    .map(({ destinationId, eventName, events, counts }) => {
      const percent = Object.fromEntries(
        COVERAGE_KEYS.map((k) => [k, events === 0 ? 0 : Math.round((1000 * counts[k]) / events) / 10]),
      ) as Record<CoverageKey, number>;
      return { destinationId, eventName, events, counts, percent };
    });
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
