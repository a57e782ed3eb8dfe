// What becomes of an event after a delivery attempt: pure decisions, no I/O, so that every
// branch is tested with a table. The worker applies them.
import type { EventFate } from "../meta/deliver";
import { maxAgeSeconds } from "../meta/validate";
import { DEFERRAL_REASON_CODE, STATE_OF_VERDICT, stateOfFate, type EventState } from "./lifecycle";

export const BASE_BACKOFF_MS = 5_000;
export const MAX_BACKOFF_MS = 30 * 60_000;
export const RATE_LIMIT_BACKOFF_MS = 60_000;

/** Exponential backoff with full jitter: spreads retries of many shops after a Meta outage. */
export function backoffMs(attempts: number, random: number, base = BASE_BACKOFF_MS): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** The last moment Meta still takes the event, in ms. */
export function deadlineMs(eventTimeSeconds: number, actionSource: string | undefined): number {
  return (eventTimeSeconds + maxAgeSeconds(actionSource)) * 1000;
}

export interface Transition {
  state: EventState;
  nextAttemptAt?: Date;
  reasonCode?: string;
  reason?: string;
  fbtraceId?: string;
}

export interface AttemptContext {
  attempts: number;
  eventTimeSeconds: number;
  actionSource?: string;
  nowMs: number;
  random: number;
}

function expired(reason: string): Transition {
  return { state: "expired", reasonCode: "event_too_old", reason };
}

export function afterAttempt(fate: EventFate, ctx: AttemptContext): Transition {
  if (fate.status === "delivered") return { state: stateOfFate(fate), fbtraceId: fate.fbtraceId };
  // A refusal's code is its reason code, event_too_old (an expiry) included.
  if (fate.status === "rejected")
    return { state: stateOfFate(fate), reasonCode: fate.code, reason: fate.reason, fbtraceId: fate.fbtraceId };
  return afterDeferral(fate.verdict, ctx);
}

export function afterDeferral(
  verdict: Extract<EventFate, { status: "deferred" }>["verdict"],
  ctx: AttemptContext,
): Transition {
  const reasonCode = DEFERRAL_REASON_CODE[verdict.action];
  if (verdict.action === "pause-pixel") {
    return {
      state: STATE_OF_VERDICT[verdict.action],
      reasonCode,
      reason: verdict.reason,
      fbtraceId: verdict.fbtraceId,
    };
  }
  const base = verdict.action === "rate-limited" ? RATE_LIMIT_BACKOFF_MS : BASE_BACKOFF_MS;
  const delay = Math.max(
    backoffMs(ctx.attempts, ctx.random, base),
    verdict.action === "retry" ? (verdict.minDelayMs ?? 0) : 0,
  );
  const next = ctx.nowMs + delay;
  if (next > deadlineMs(ctx.eventTimeSeconds, ctx.actionSource)) {
    return expired(`Meta's window closed while retrying (last answer: ${verdict.reason})`);
  }
  return {
    state: STATE_OF_VERDICT[verdict.action],
    nextAttemptAt: new Date(next),
    reasonCode,
    reason: verdict.reason,
    fbtraceId: verdict.fbtraceId,
  };
}
