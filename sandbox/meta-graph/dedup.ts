// Meta's deduplication of a pixel's events, browser (the pixel's /tr) and server (the
// Conversions API) copies alike, as /work/shared/reference/meta-capi.md states it: one event
// per (pixel, event_name, event_id) received within 48 hours; Meta keeps the first copy, except
// that a browser copy arriving within 5 minutes of the server's is kept instead (the count is
// the same: one). An event without an event_id has nothing to deduplicate on and always counts.
// Pure: arrival times come in with the events.

/** Meta keeps one event per (pixel, event_name, event_id) received within 48 hours. */
export const DEDUP_WINDOW_MS = 48 * 3600_000;
/** Within this of the server copy, Meta keeps the browser copy instead. */
export const BROWSER_PREFERRED_MS = 5 * 60_000;

export type Channel = "server" | "browser";

export interface Arrival {
  pixelId: string;
  eventName: string;
  eventId?: string;
  channel: Channel;
  /** ms, by the stand-in's clock. */
  receivedAt: number;
}

/** The copy Meta keeps for a key: which channel's, and when the key's window opened. */
export interface KeptCopy {
  channel: Channel;
  firstAt: number;
}

/**
 * counted: a new event (first of its key, or the window had closed); duplicate: dropped;
 * replaces: a browser copy kept instead of the server copy (still one event).
 */
export type Verdict = "counted" | "duplicate" | "replaces";

export function dedupKey(a: Pick<Arrival, "pixelId" | "eventName" | "eventId">): string | undefined {
  if (a.eventId === undefined || a.eventId === "") return undefined;
  return `${a.pixelId}\u0000${a.eventName}\u0000${a.eventId}`;
}

/** What Meta does with `a`, given the copy kept so far for its key (none: undefined). */
export function judge(kept: KeptCopy | undefined, a: Arrival): Verdict {
  if (dedupKey(a) === undefined) return "counted";
  if (kept === undefined || a.receivedAt - kept.firstAt > DEDUP_WINDOW_MS) return "counted";
  if (a.channel === "browser" && kept.channel === "server" && a.receivedAt - kept.firstAt <= BROWSER_PREFERRED_MS)
    return "replaces";
  return "duplicate";
}

/** The kept copy after `a` was judged `verdict`. */
export function keep(kept: KeptCopy | undefined, a: Arrival, verdict: Verdict): KeptCopy | undefined {
  if (verdict === "counted") return { channel: a.channel, firstAt: a.receivedAt };
  if (verdict === "replaces") return { channel: a.channel, firstAt: kept!.firstAt };
  return kept;
}

/** Each arrival's verdict, the arrivals in the order Meta received them. */
export function deduplicate(arrivals: readonly Arrival[]): Verdict[] {
  const kept = new Map<string, KeptCopy>();
  return arrivals.map((a) => {
    const key = dedupKey(a);
    const current = key === undefined ? undefined : kept.get(key);
    const verdict = judge(current, a);
    const next = keep(current, a, verdict);
    if (key !== undefined && next) kept.set(key, next);
    return verdict;
  });
}

export interface ChannelCounts {
  /** Copies received, duplicates included. */
  received: number;
  browser: number;
  server: number;
  /** Events Meta counts once deduplicated. */
  counted: number;
}

export interface PixelEventCounts extends ChannelCounts {
  byEvent: Record<string, ChannelCounts>;
}

/** One pixel's copies received and events counted, in all and per event name. */
export function eventCounts(arrivals: readonly Arrival[], pixelId: string): PixelEventCounts {
  const mine = arrivals.filter((a) => a.pixelId === pixelId);
  const verdicts = deduplicate(mine);
  const empty = (): ChannelCounts => ({ received: 0, browser: 0, server: 0, counted: 0 });
  const total: PixelEventCounts = { ...empty(), byEvent: {} };
  mine.forEach((a, i) => {
    const forEvent = (total.byEvent[a.eventName] ??= empty());
    for (const c of [total, forEvent]) {
      c.received++;
      c[a.channel]++;
      if (verdicts[i] === "counted") c.counted++;
    }
  });
  return total;
}
