// Deduplication health, the pure side: of the events the server delivered to Meta, how many
// the storefront's pixel fired too (a pair Meta deduplicates into one event with both sets of
// signals) and how many only the server delivered (what server-side delivery recovered: ad
// blockers, closed tabs, declined cookies, a checkout the browser never finished loading).

/** One event name on one UTC day, as the query counts it. */
export interface DedupCount {
  eventName: string;
  /** YYYY-MM-DD, UTC. */
  day: string;
  /** Distinct event ids the server delivered (across all the shop's pixels). */
  serverSent: number;
  /** Of those, the ones the browser reported firing too. */
  paired: number;
}

export interface DedupRow extends DedupCount {
  serverOnly: number;
  /** Shares of serverSent, 0..1; null with nothing sent. */
  pairedShare: number | null;
  serverOnlyShare: number | null;
}

export interface DedupHealth {
  days: number;
  rows: DedupRow[];
  /** Per event name over the whole window. */
  totals: DedupRow[];
  /** Whether the pixel reported anything at all in the window: without it, 0 % pairs means "not measured". */
  browserReported: boolean;
}

/** How many days back the Overview looks. */
export const DEDUP_DAYS = 14;

function row(count: DedupCount): DedupRow {
  const serverOnly = count.serverSent - count.paired;
  return {
    ...count,
    serverOnly,
    pairedShare: count.serverSent > 0 ? count.paired / count.serverSent : null,
    serverOnlyShare: count.serverSent > 0 ? serverOnly / count.serverSent : null,
  };
}

/** Rows newest day first, then by event name; totals per event name. */
export function dedupHealth(counts: readonly DedupCount[], browserReported: boolean, days = DEDUP_DAYS): DedupHealth {
  const rows = counts
    .map(row)
    .sort((a, b) => (a.day === b.day ? a.eventName.localeCompare(b.eventName) : a.day < b.day ? 1 : -1));
  const byName = new Map<string, DedupCount>();
  for (const c of counts) {
    const t = byName.get(c.eventName) ?? { eventName: c.eventName, day: "", serverSent: 0, paired: 0 };
    t.serverSent += c.serverSent;
    t.paired += c.paired;
    byName.set(c.eventName, t);
  }
  const totals = [...byName.values()].sort((a, b) => a.eventName.localeCompare(b.eventName)).map(row);
  return { days, rows, totals, browserReported };
}

/** "87 %" (whole percents; "under 1 %" rather than a misleading 0 when some exist). */
export function percent(share: number | null): string {
  if (share === null) return "–";
  if (share > 0 && share < 0.01) return "under 1 %";
  if (share < 1 && share > 0.99) return "over 99 %";
  return `${Math.round(share * 100)} %`;
}
