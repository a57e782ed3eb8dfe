// Turns whatever came back from Meta into one decision. Every answer Meta's error table
// lists maps to exactly one action; anything unrecognised is retried, which is safe because
// Meta deduplicates on (event_name, event_id) for 48 hours.
import { z } from "zod";

export type MetaAnswer =
  | { kind: "response"; status: number; body: unknown }
  | { kind: "transport"; error: "timeout" | "reset" | "network"; message?: string };

export type Verdict =
  | { action: "deliver"; eventsReceived: number; fbtraceId?: string; messages: string[] }
  | { action: "retry"; reason: string; fbtraceId?: string; minDelayMs?: number }
  | { action: "rate-limited"; reason: string; fbtraceId?: string }
  /** The pixel cannot take events until the merchant acts; events are kept, not dropped. */
  | { action: "pause-pixel"; reason: string; merchantMessage: string; fbtraceId?: string }
  /** Something in the event(s) is invalid: isolate it; deliver the others. */
  | { action: "drop-event"; code: string; reason: string; fbtraceId?: string; fix?: "drop-fbc" };

const successSchema = z.object({
  events_received: z.number().int().nonnegative(),
  messages: z.array(z.unknown()).optional().default([]),
  fbtrace_id: z.string().optional(),
});

const errorSchema = z.object({
  error: z.object({
    message: z.string().optional().default(""),
    type: z.string().optional(),
    code: z.number().int(),
    error_subcode: z.number().int().optional(),
    error_user_title: z.string().optional(),
    error_user_msg: z.string().optional(),
    fbtrace_id: z.string().optional(),
    is_transient: z.boolean().optional(),
  }),
});
export type MetaError = z.infer<typeof errorSchema>["error"];

// 17 includes subcode 2446079 (ads account rate limit).
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80003, 341]);
const TOKEN_SUBCODES: Record<number, string> = {
  460: "the password of the account that issued it changed",
  463: "it expired",
  467: "it is no longer valid",
};
/** Meta asks for a pause after a temporary block; hammering it extends the block. */
export const TEMPORARY_BLOCK_DELAY_MS = 15 * 60_000;

/** "Meta error 190/460: ...": the technical reason kept with events and pauses. */
export function describeMetaError(error: MetaError): string {
  const detail = error.error_user_msg || error.message || "no message";
  const sub = error.error_subcode ? `/${error.error_subcode}` : "";
  return `Meta error ${error.code}${sub}: ${detail}`;
}

/**
 * Answers that say the pixel and token cannot work as set up (not a passing outage, not a bad
 * event): the sender pauses on them, and the connection check (./connection-check.ts) names
 * them to the merchant. `why` says what Meta said of a refused token.
 */
export type SetupProblem =
  | { kind: "token"; why: string }
  | { kind: "no-token" }
  | { kind: "permission" }
  | { kind: "pixel" }
  | { kind: "app-secret" };

export function setupProblem(error: MetaError): SetupProblem | undefined {
  const { code, error_subcode: sub } = error;
  if (code === 190) return { kind: "token", why: (sub && TOKEN_SUBCODES[sub]) || "Meta rejected it" };
  if (code === 104) return { kind: "no-token" };
  if (code === 10 || (code >= 200 && code <= 299)) return { kind: "permission" };
  if (code === 100 && sub === 33) return { kind: "pixel" };
  if (code === 100 && /appsecret_proof/i.test(error.message)) return { kind: "app-secret" };
  return undefined;
}

/** What the admin page says of a pixel paused for this problem: events are kept. */
function pauseMessage(problem: SetupProblem): string {
  switch (problem.kind) {
    case "token":
      return `Meta no longer accepts your access token: ${problem.why}. Generate a new token in Events Manager (Settings, Conversions API) and paste it here. Events are kept and will be sent once the token changes.`;
    case "no-token":
      return "Meta received no access token for this pixel. Paste the access token from Events Manager (Settings, Conversions API). Events are kept until then.";
    case "permission":
      return "Your access token is not allowed to send events to this pixel. Generate the token from this pixel's own settings in Events Manager, or grant the system user access to the pixel. Events are kept until then.";
    case "pixel":
      return "Meta cannot find this pixel (dataset) ID, or the token cannot reach it. Check the ID in Events Manager. Events are kept until then.";
    case "app-secret":
      return "Meta refused the app secret proof: the app secret configured on the server does not belong to this token's app.";
  }
}

/** Meta's error body, validated; undefined when the body is not one. */
export function parseMetaError(body: unknown): MetaError | undefined {
  const parsed = errorSchema.safeParse(body);
  return parsed.success ? parsed.data.error : undefined;
}

export function classifyMetaError(error: MetaError): Verdict {
  const reason = describeMetaError(error);
  const fbtraceId = error.fbtrace_id;
  const { code, error_subcode: sub } = error;

  const problem = setupProblem(error);
  if (problem) return { action: "pause-pixel", reason, fbtraceId, merchantMessage: pauseMessage(problem) };
  if (RATE_LIMIT_CODES.has(code)) {
    return { action: "rate-limited", reason, fbtraceId };
  }
  if (code === 368) return { action: "retry", reason, fbtraceId, minDelayMs: TEMPORARY_BLOCK_DELAY_MS };
  if (code === 100 && sub === 2804003) return { action: "drop-event", code: "event_too_old", reason, fbtraceId };
  if (code === 100 && sub === 2804001)
    return { action: "drop-event", code: "malformed_fbc", reason, fbtraceId, fix: "drop-fbc" };
  if (code === 100 && sub === 2804016) {
    // A bug on our side: the raw value is never sent again, the event is recorded as rejected.
    return { action: "drop-event", code: "unhashed_user_data", reason, fbtraceId };
  }
  if (code === 100 || code === 105) return { action: "drop-event", code: "invalid_parameter", reason, fbtraceId };
  if (code === 1 || code === 2 || error.is_transient) return { action: "retry", reason, fbtraceId };
  return { action: "retry", reason: `unrecognised answer, retried: ${reason}`, fbtraceId };
}

export function classifyAnswer(answer: MetaAnswer): Verdict {
  if (answer.kind === "transport") {
    return {
      action: "retry",
      reason: `no answer from Meta (${answer.error}${answer.message ? `: ${answer.message}` : ""})`,
    };
  }
  const { status, body } = answer;
  if (status >= 200 && status < 300) {
    const ok = successSchema.safeParse(body);
    if (ok.success) {
      return {
        action: "deliver",
        eventsReceived: ok.data.events_received,
        fbtraceId: ok.data.fbtrace_id,
        messages: ok.data.messages.map((m) => (typeof m === "string" ? m : JSON.stringify(m))),
      };
    }
    return { action: "retry", reason: `HTTP ${status} with an unreadable body` };
  }
  const error = parseMetaError(body);
  if (error) return classifyMetaError(error);
  if (status === 429) return { action: "rate-limited", reason: `HTTP 429` };
  return { action: "retry", reason: `HTTP ${status} without a Meta error body` };
}

export type IsolationStep<T> =
  | { step: "split"; parts: [T[], T[]] }
  | { step: "drop"; code: string; reason: string }
  | { step: "resend-without-fbc" };

/**
 * A rejected request says an event is bad but not reliably which one. Halving the batch finds
 * the bad events in O(k log n) requests while every good event still goes out.
 */
export function isolate<T>(
  batch: T[],
  verdict: Extract<Verdict, { action: "drop-event" }>,
  alreadyFixed = false,
): IsolationStep<T> {
  if (batch.length > 1) {
    const mid = Math.ceil(batch.length / 2);
    return { step: "split", parts: [batch.slice(0, mid), batch.slice(mid)] };
  }
  if (verdict.fix === "drop-fbc" && !alreadyFixed) return { step: "resend-without-fbc" };
  return { step: "drop", code: verdict.code, reason: verdict.reason };
}
