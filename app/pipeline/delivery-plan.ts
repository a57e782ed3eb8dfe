// What the worker makes of one claimed batch, decided without I/O: which events are past
// Meta's window, what each request's fates write, when to stop sending, and what the shop's
// pixel needs afterwards. The worker (./worker.server.ts) sends, keeps its lease and writes.
import type { EventFate } from "../meta/deliver";
import type { MetaEvent } from "../meta/event";
import type { AppliedTransition, ClaimedEvent } from "./event-store.server";
import { DEFERRAL_REASON_CODE, STATE_OF_VERDICT } from "./lifecycle";
import { afterAttempt, deadlineMs, RATE_LIMIT_BACKOFF_MS } from "./schedule";

/** A claimed event as it goes into a request to the shop's pixel. */
export type SendableEvent = Omit<ClaimedEvent, "testEventCode"> & {
  event: MetaEvent;
  pixelId: string;
  testEventCode?: string;
};

type Deferral = Extract<EventFate, { status: "deferred" }>["verdict"];
export type PauseVerdict = Extract<Deferral, { action: "pause-pixel" }>;

/** What a request's answer says of the requests after it. */
export interface StopSignals {
  /** Meta says the pixel cannot take events until the merchant acts. */
  pause?: PauseVerdict;
  rateLimited: boolean;
}

/** Claimed events past Meta's window, which Meta would reject the whole request for, and the others. */
export function splitByDeadline(
  claimed: ClaimedEvent[],
  pixelId: string,
  nowMs: number,
): { expired: AppliedTransition[]; sendable: SendableEvent[] } {
  const expired: AppliedTransition[] = [];
  const sendable: SendableEvent[] = [];
  for (const row of claimed) {
    const event = row.payload;
    // Queued too long (a paused pixel, an outage).
    if (nowMs > deadlineMs(event.event_time, event.action_source)) {
      expired.push({
        id: row.id,
        state: "expired",
        reasonCode: "event_too_old",
        reason: "Meta's 7-day window closed before the event could be delivered",
      });
    } else {
      sendable.push({ ...row, event, pixelId, testEventCode: row.testEventCode ?? undefined });
    }
  }
  return { expired, sendable };
}

export interface BatchOutcome {
  transitions: AppliedTransition[];
  delivered: number;
  stop: StopSignals;
}

/** What one request's fates write, and whether the requests after it may go. `random` draws each retry's jitter. */
export function afterBatch(
  fates: Array<{ item: SendableEvent; fate: EventFate }>,
  nowMs: number,
  random: () => number,
): BatchOutcome {
  const outcome: BatchOutcome = { transitions: [], delivered: 0, stop: { rateLimited: false } };
  for (const { item, fate } of fates) {
    if (fate.status === "delivered") outcome.delivered++;
    if (fate.status === "deferred" && fate.verdict.action === "pause-pixel") outcome.stop.pause = fate.verdict;
    if (fate.status === "deferred" && fate.verdict.action === "rate-limited") outcome.stop.rateLimited = true;
    outcome.transitions.push({
      id: item.id,
      ...afterAttempt(fate, {
        attempts: item.attempts,
        eventTimeSeconds: item.event.event_time,
        actionSource: item.event.action_source,
        nowMs,
        random: random(),
      }),
    });
  }
  return outcome;
}

export const stops = (signals: StopSignals): boolean => signals.pause !== undefined || signals.rateLimited;

/** The events no request carried, after a pause or a rate limit stopped the batch: they go back untouched, to wait with the rest. */
export function notAttempted(
  sendable: SendableEvent[],
  written: AppliedTransition[],
  signals: StopSignals,
  nowMs: number,
): AppliedTransition[] {
  const attempted = new Set(written.map((t) => t.id));
  const action = signals.pause?.action ?? "rate-limited";
  return sendable
    .filter((row) => !attempted.has(row.id))
    .map((row) => ({
      id: row.id,
      state: STATE_OF_VERDICT[action],
      nextAttemptAt: new Date(nowMs + RATE_LIMIT_BACKOFF_MS),
      reasonCode: DEFERRAL_REASON_CODE[action],
      reason: "not attempted: it waits with the rest of the batch",
    }));
}

/**
 * What follows a batch whose outcomes were written: pause the pixel, slow the shop down for a
 * rate limit, stop (another worker took part of the batch over and is on this shop now), or
 * go on claiming.
 */
export type AfterDelivery =
  { next: "pause"; verdict: PauseVerdict } | { next: "slow"; forMs: number } | { next: "stop" } | { next: "continue" };

export function afterDelivery(signals: StopSignals, lostOutcomes: number): AfterDelivery {
  if (signals.pause) return { next: "pause", verdict: signals.pause };
  if (signals.rateLimited) return { next: "slow", forMs: RATE_LIMIT_BACKOFF_MS };
  return lostOutcomes > 0 ? { next: "stop" } : { next: "continue" };
}
