// Meta's own quality numbers for a pixel (dataset): the Dataset Quality API,
// `GET /{version}/dataset_quality?dataset_id=<pixel>&agent_name=<partner_agent>&fields=web{...}`.
// The request, the answer's schema, what a refusal means and what to grant, and each event
// name's numbers in plain words. Pure: the call is the shell's (app/pipeline/dataset-quality.server.ts).
// agent_name is the partner_agent every Conversions API request carries (./request.ts), so Meta
// answers for the events this app sent, not the pixel's browser events or another integration's.
import { z } from "zod";
import { DEFAULT_API_VERSION } from "./api-version";
import { describeMetaError, parseMetaError, setupProblem, type MetaAnswer } from "./classify";
import { appSecretProof, DEFAULT_GRAPH_URL, PARTNER_AGENT, type Destination, type GraphRequest } from "./request";

/** The web{...} sub-fields read: EMQ with match-key feedback, coverage, dedupe, freshness and ACR. */
export const DATASET_QUALITY_WEB_FIELDS = [
  "event_name",
  "event_match_quality",
  "event_coverage",
  "dedupe_key_feedback",
  "data_freshness",
  "acr",
] as const;

export function datasetQualityRequest(
  destination: Destination,
  options: { graphUrl?: string; agentName?: string } = {},
): GraphRequest {
  const query = new URLSearchParams({
    dataset_id: destination.pixelId,
    agent_name: options.agentName ?? PARTNER_AGENT,
    fields: `web{${DATASET_QUALITY_WEB_FIELDS.join(",")}}`,
  });
  if (destination.appSecret)
    query.set("appsecret_proof", appSecretProof(destination.accessToken, destination.appSecret));
  const base = (options.graphUrl ?? DEFAULT_GRAPH_URL).replace(/\/+$/, "");
  return {
    url: `${base}/${destination.apiVersion ?? DEFAULT_API_VERSION}/dataset_quality?${query.toString()}`,
    method: "GET",
    // The token in the header, never the URL: URLs end up in proxy and access logs.
    headers: { authorization: `Bearer ${destination.accessToken}` },
  };
}

// Bounded: Meta lists a few dozen event names and a dozen match keys; anything far larger is
// not an answer we understand. Fields Meta adds later pass through unread (zod strips them).
const text = z.string().max(500);
const percentage = z.object({ percentage: z.number().min(0).max(100) });
const matchKeySchema = z.object({ identifier: z.string().max(64), coverage: percentage.optional() });
const diagnosticSchema = z.object({
  name: text.optional(),
  description: text.optional(),
  solution: text.optional(),
  percentage: z.number().min(0).max(100).optional(),
  affected_event_count: z.number().int().nonnegative().optional(),
});
const dedupeKeySchema = z.object({
  dedupe_key: z.string().max(64),
  browser_events_with_dedupe_key: percentage.optional(),
  server_events_with_dedupe_key: percentage.optional(),
});
const webEventSchema = z.object({
  event_name: z.string().min(1).max(100),
  event_match_quality: z
    .object({
      composite_score: z.number().min(0).max(10).optional(),
      match_key_feedback: z.array(matchKeySchema).max(50).optional(),
      diagnostics: z.array(diagnosticSchema).max(50).optional(),
    })
    .optional(),
  event_coverage: z
    .object({ percentage: z.number().min(0).max(100), goal_percentage: z.number().min(0).max(100).optional() })
    .optional(),
  dedupe_key_feedback: z.array(dedupeKeySchema).max(20).optional(),
  data_freshness: z.object({ upload_frequency: z.string().max(64) }).optional(),
  acr: percentage.optional(),
});
export const datasetQualityAnswerSchema = z.object({ web: z.array(webEventSchema).max(200).default([]) });
export type WebEventQuality = z.infer<typeof webEventSchema>;

/** The match keys, as Meta's feedback names them, in the words the merchant reads. */
export const MATCH_KEY_LABELS: Record<string, string> = {
  email: "Email",
  phone: "Phone number",
  first_name: "First name",
  last_name: "Last name",
  city: "City",
  state: "State or province",
  zip: "ZIP or postal code",
  country: "Country",
  external_id: "External ID",
  fbp: "Browser ID (fbp)",
  fbc: "Click ID (fbc)",
  ip_address: "IP address",
  user_agent: "User agent",
  date_of_birth: "Date of birth",
  gender: "Gender",
};

/** Meta's user_data key for each feedback identifier: the same names ./user-data.ts sends. */
export const MATCH_KEY_FIELDS: Record<string, string> = {
  email: "em",
  phone: "ph",
  first_name: "fn",
  last_name: "ln",
  city: "ct",
  state: "st",
  zip: "zp",
  country: "country",
  external_id: "external_id",
  fbp: "fbp",
  fbc: "fbc",
  ip_address: "client_ip_address",
  user_agent: "client_user_agent",
  date_of_birth: "db",
  gender: "ge",
};

/** Events Manager's rating of an Event Match Quality score (0 to 10). */
export type EmqRating = "Poor" | "OK" | "Good" | "Great";
export function emqRating(score: number): EmqRating {
  if (score >= 8) return "Great";
  if (score >= 6) return "Good";
  if (score >= 4) return "OK";
  return "Poor";
}

/** How Meta says the events arrive, in words; Meta's value as it is when unknown. */
const FRESHNESS_WORDS: Record<string, string> = {
  real_time: "in real time",
  hourly: "about hourly",
  daily: "about daily",
  weekly: "about weekly",
};

export interface EventQualitySummary {
  eventName: string;
  score?: number;
  rating?: EmqRating;
  /** Meta's coverage of each match key, by identifier, best first. */
  matchKeys: Array<{ identifier: string; label: string; percentage: number }>;
  /** Share of the pixel's browser events the server also sent (Meta's event coverage). */
  eventCoverage?: { percentage: number; goal?: number };
  dedupe: Array<{ key: string; browser?: number; server?: number }>;
  freshness?: string;
  /** Additional conversions reported: the conversions Meta counts thanks to these server events. */
  acr?: number;
  diagnostics: string[];
  /** Every number in words, one line each. */
  lines: string[];
  /** The lines beyond the score and the match keys (which the card and `capi quality` show as a table). */
  notes: string[];
}

const pct = (n: number) => `${Math.round(n)}%`;

export function summarizeEventQuality(event: WebEventQuality): EventQualitySummary {
  const emq = event.event_match_quality;
  const score = emq?.composite_score;
  const matchKeys = (emq?.match_key_feedback ?? [])
    .filter((k) => k.coverage)
    .map((k) => ({
      identifier: k.identifier,
      label: MATCH_KEY_LABELS[k.identifier] ?? k.identifier,
      percentage: k.coverage!.percentage,
    }))
    .sort((a, b) => b.percentage - a.percentage || a.identifier.localeCompare(b.identifier));
  const dedupe = (event.dedupe_key_feedback ?? []).map((d) => ({
    key: d.dedupe_key,
    browser: d.browser_events_with_dedupe_key?.percentage,
    server: d.server_events_with_dedupe_key?.percentage,
  }));
  const diagnostics = (emq?.diagnostics ?? [])
    .map((d) => [d.description ?? d.name, d.solution].filter(Boolean).join(" "))
    .filter((line) => line !== "");
  const freshness = event.data_freshness?.upload_frequency;
  const head: string[] = [];
  if (score !== undefined) head.push(`Event Match Quality ${score.toFixed(1)} out of 10 (${emqRating(score)}).`);
  else head.push("Meta has no Event Match Quality for this event yet.");
  if (matchKeys.length > 0)
    head.push(`Match keys Meta received: ${matchKeys.map((k) => `${k.label} ${pct(k.percentage)}`).join(", ")}.`);
  const lines: string[] = [];
  if (event.event_coverage) {
    const goal = event.event_coverage.goal_percentage;
    lines.push(
      `The server sent ${pct(event.event_coverage.percentage)} of the events your browser pixel sent${goal === undefined ? "" : ` (Meta's goal: ${pct(goal)})`}.`,
    );
  }
  for (const d of dedupe) {
    const parts = [
      d.server === undefined ? undefined : `${pct(d.server)} of server events`,
      d.browser === undefined ? undefined : `${pct(d.browser)} of browser events`,
    ].filter(Boolean);
    if (parts.length > 0) lines.push(`Deduplication key ${d.key} on ${parts.join(" and ")}.`);
  }
  if (freshness) lines.push(`Events reach Meta ${FRESHNESS_WORDS[freshness] ?? freshness}.`);
  if (event.acr) lines.push(`${pct(event.acr.percentage)} more conversions reported thanks to the Conversions API.`);
  lines.push(...diagnostics);
  return {
    eventName: event.event_name,
    ...(score === undefined ? {} : { score, rating: emqRating(score) }),
    matchKeys,
    ...(event.event_coverage
      ? {
          eventCoverage: {
            percentage: event.event_coverage.percentage,
            ...(event.event_coverage.goal_percentage === undefined
              ? {}
              : { goal: event.event_coverage.goal_percentage }),
          },
        }
      : {}),
    dedupe,
    ...(freshness ? { freshness } : {}),
    ...(event.acr ? { acr: event.acr.percentage } : {}),
    diagnostics,
    lines: [...head, ...lines],
    notes: lines,
  };
}

/** One read's outcome; its status is stored per destination (DatasetQuality.status). */
export type DatasetQualityRead =
  /** Meta answered: its numbers per event name (none yet for a pixel that received nothing of ours). */
  | { status: "read"; events: EventQualitySummary[] }
  /** Meta refuses this token these metrics (or the pixel): nothing changes until the merchant acts. */
  | {
      status: "refused";
      problem: "permission" | "token" | "dataset" | "app-secret";
      message: string;
      reason: string;
    }
  /** No usable answer now (unreachable, rate limit, outage, an answer we do not understand): read again later. */
  | { status: "unavailable"; message: string; reason: string; rateLimited: boolean };

/** Where the token's permission is granted, for a token that may send events but not read these metrics. */
const GRANT_PERMISSION =
  "Meta gives these numbers to tokens with the Manage pixel permission: in Meta Business settings, open Users > System users, pick the system user whose token the app uses, choose Assign assets > Pixels, select this pixel with Manage pixel turned on and save, then generate a new token and save it in Settings. For a pixel connected with Connect with Meta, reconnect it and allow everything the app asks for.";

// 17 includes subcode 2446079 (ads account rate limit); the same codes classify.ts slows down on.
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80003, 341]);

export function classifyDatasetQuality(answer: MetaAnswer, pixelId: string): DatasetQualityRead {
  if (answer.kind === "transport") {
    const what = answer.error === "timeout" ? "Meta did not answer in time" : "Meta could not be reached";
    return {
      status: "unavailable",
      message: `Meta's quality numbers could not be read: ${what}. The app reads them again later.`,
      reason: `no answer from Meta (${answer.error})`,
      rateLimited: false,
    };
  }
  const { status, body } = answer;
  if (status >= 200 && status < 300) {
    const parsed = datasetQualityAnswerSchema.safeParse(body);
    if (!parsed.success)
      return {
        status: "unavailable",
        message: "Meta answered in a way the app does not understand. The app reads the numbers again later.",
        reason: `HTTP ${status}: ${z.prettifyError(parsed.error).slice(0, 300)}`,
        rateLimited: false,
      };
    return { status: "read", events: parsed.data.web.map(summarizeEventQuality) };
  }
  const error = parseMetaError(body);
  if (!error)
    return {
      status: "unavailable",
      message: "Meta's quality numbers could not be read right now. The app reads them again later.",
      reason: `HTTP ${status} without a Meta error body`,
      rateLimited: false,
    };
  const reason = describeMetaError(error);
  if (RATE_LIMIT_CODES.has(error.code))
    return {
      status: "unavailable",
      message: "Meta is limiting requests from this app right now. The app reads the numbers again later.",
      reason,
      rateLimited: true,
    };
  const problem = setupProblem(error);
  switch (problem?.kind) {
    case "permission":
      return {
        status: "refused",
        problem: "permission",
        message: `Meta does not let this access token read the quality numbers of pixel ${pixelId}; sending events is not affected. ${GRANT_PERMISSION}`,
        reason,
      };
    case "token":
    case "no-token":
      return {
        status: "refused",
        problem: "token",
        message: `Meta no longer accepts this pixel's access token, so its quality numbers cannot be read. Connect the pixel again in Settings.`,
        reason,
      };
    case "pixel":
      return {
        status: "refused",
        problem: "dataset",
        message: `Meta cannot find pixel (dataset) ${pixelId} for this access token. Check the pixel ID in Settings.`,
        reason,
      };
    case "app-secret":
      return {
        status: "refused",
        problem: "app-secret",
        message:
          "Meta refused the app secret proof: the app secret set on the server (META_APP_SECRET) is not this token's app's. Ask whoever runs CAPI Relay to correct it.",
        reason,
      };
  }
  return {
    status: "unavailable",
    message: "Meta's quality numbers could not be read right now. The app reads them again later.",
    reason,
    rateLimited: false,
  };
}

/** Scheduled reads: every 6 hours per pixel, each pixel at its own offset within the hour after. */
export const QUALITY_READ_EVERY_MS = 6 * 3600_000;
/** The merchant's Refresh: at most once in this long per pixel (Meta's numbers move slowly). */
export const QUALITY_REFRESH_MIN_MS = 10 * 60_000;

/**
 * When a pixel is read next. The offset, from the destination id, spreads the pixels of many
 * shops over an hour instead of all reading at once six hours after a deploy.
 */
export function nextQualityReadAt(destinationId: string, readAt: Date, rateLimited = false): Date {
  let hash = 0;
  for (const ch of destinationId) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const spread = hash % 3600_000;
  // Rate limited: back off for the full period, never sooner.
  return new Date(readAt.getTime() + QUALITY_READ_EVERY_MS + (rateLimited ? QUALITY_READ_EVERY_MS : 0) + spread);
}

/** Whether the merchant's Refresh may read now; when not, how long to wait. */
export function refreshAllowed(
  lastAttemptAt: Date | null | undefined,
  now: Date,
): { ok: true } | { ok: false; waitMinutes: number } {
  if (!lastAttemptAt) return { ok: true };
  const left = lastAttemptAt.getTime() + QUALITY_REFRESH_MIN_MS - now.getTime();
  return left <= 0 ? { ok: true } : { ok: false, waitMinutes: Math.ceil(left / 60_000) };
}
