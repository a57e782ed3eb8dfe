// What the stand-in's `GET /{version}/dataset_quality` answers, computed from the events it
// kept (after deduplication) for that pixel with that partner_agent, outside Test events. Meta
// does not publish how it scores; the stand-in's formula is its own, stated here so tests can
// check it:
//
// - Event Match Quality (composite_score): each event scores the sum of the weights of the
//   match keys it carries (em 2.5, ph 2, fbc 1.5, fbp 1, external_id 1, client_ip_address 0.5,
//   client_user_agent 0.5, fn 0.2, ln 0.2, ct, st, zp, country 0.15 each: 10 in all); the score is
//   the mean over the event name's events, to one decimal.
// - match_key_feedback: per key, the share of events carrying it (percent, one decimal).
// - dedupe_key_feedback: event_id's share among server events.
// - data_freshness: from the median delay between event_time and receipt: at most 1 hour
//   real_time, 1 day hourly, 7 days daily, else weekly.
// - event_coverage and acr: only for the pixels and event names given browser counts
//   (setBrowserEvents) or, without those, that received browser events at /tr: coverage =
//   server events / browser events (at most 100), acr = the
//   server events beyond the browser's, as a percentage of the browser's.

export interface KeptEvent {
  event: Record<string, unknown> & { event_name: string };
  receivedAt: number;
}

/** The stand-in's weights; Meta's feedback identifier for each user_data key. */
export const MATCH_KEY_WEIGHTS: ReadonlyArray<readonly [key: string, identifier: string, weight: number]> = [
  ["em", "email", 2.5],
  ["ph", "phone", 2],
  ["fbc", "fbc", 1.5],
  ["fbp", "fbp", 1],
  ["external_id", "external_id", 1],
  ["client_ip_address", "ip_address", 0.5],
  ["client_user_agent", "user_agent", 0.5],
  ["fn", "first_name", 0.2],
  ["ln", "last_name", 0.2],
  ["ct", "city", 0.15],
  ["st", "state", 0.15],
  ["zp", "zip", 0.15],
  ["country", "country", 0.15],
];

export const QUALITY_WEB_FIELDS = new Set([
  "event_name",
  "event_match_quality",
  "event_coverage",
  "dedupe_key_feedback",
  "data_freshness",
  "acr",
]);

function present(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return false;
  return !Array.isArray(value) || value.some((v) => typeof v === "string" && v !== "");
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function freshness(delaysMs: number[]): string {
  const sorted = [...delaysMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  if (median <= 3600_000) return "real_time";
  if (median <= 86_400_000) return "hourly";
  if (median <= 7 * 86_400_000) return "daily";
  return "weekly";
}

/** `fields`: the web{...} sub-fields asked for (all when empty). */
export function datasetQualityAnswer(
  events: KeptEvent[],
  fields: Set<string>,
  browserEvents: Record<string, number> = {},
): { web: Array<Record<string, unknown>> } {
  const byName = new Map<string, KeptEvent[]>();
  for (const e of events) byName.set(e.event.event_name, [...(byName.get(e.event.event_name) ?? []), e]);
  const want = (f: string) => fields.size === 0 || fields.has(f);
  const web = [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([eventName, list]) => {
      const n = list.length;
      const userData = list.map((e) => (e.event.user_data ?? {}) as Record<string, unknown>);
      const score = userData.reduce(
        (sum, ud) => sum + MATCH_KEY_WEIGHTS.reduce((s, [key, , w]) => s + (present(ud[key]) ? w : 0), 0),
        0,
      );
      const entry: Record<string, unknown> = { event_name: eventName };
      if (want("event_match_quality"))
        entry.event_match_quality = {
          composite_score: round1(Math.min(10, score / n)),
          match_key_feedback: MATCH_KEY_WEIGHTS.map(([key, identifier]) => ({
            identifier,
            coverage: { percentage: round1((100 * userData.filter((ud) => present(ud[key])).length) / n) },
          })),
        };
      if (want("dedupe_key_feedback"))
        entry.dedupe_key_feedback = [
          {
            dedupe_key: "event_id",
            server_events_with_dedupe_key: {
              percentage: round1((100 * list.filter((e) => present(e.event.event_id)).length) / n),
            },
          },
        ];
      if (want("data_freshness")) {
        const delays = list
          .map((e) => (typeof e.event.event_time === "number" ? e.receivedAt - e.event.event_time * 1000 : undefined))
          .filter((d): d is number => d !== undefined);
        if (delays.length > 0) entry.data_freshness = { upload_frequency: freshness(delays) };
      }
      const browser = browserEvents[eventName];
      if (browser !== undefined && browser > 0) {
        if (want("event_coverage")) entry.event_coverage = { percentage: round1(Math.min(100, (100 * n) / browser)) };
        if (want("acr")) entry.acr = { percentage: round1((100 * Math.max(0, n - browser)) / browser) };
      }
      return entry;
    });
  return { web };
}
