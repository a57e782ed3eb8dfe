// Which events a merchant (or support, `capi retry`) may send again, and why not the others.
// Pure: the Events page shows each answer beside its event, and app/pipeline/retry.server.ts
// re-queues only what this allows.
//
// Meta refusing an event for its data (rejected) may be cured by the merchant (a pixel or token
// fixed in Settings, Meta's own fault gone): such an event is sent again while Meta's window is
// open, and only when Meta's rules still pass on what would be sent (app/meta/validate.ts). An
// event that broke Meta's rules as built (invalid) is sent again only if those rules now pass.
// Beyond the window nothing is sent: Meta would refuse it. Delivered events are never sent again.
import type { MetaEvent } from "../meta/event";
import { maxAgeSeconds, validateEvent } from "../meta/validate";
import { EVENT_STATE_INFO, type EventState } from "./lifecycle";

/** The states a retry may take an event out of. */
export const RETRYABLE_STATES = ["rejected", "invalid"] as const satisfies readonly EventState[];
/** "Retry all" re-queues at most this many events per click (or `capi retry` run): the page says so. */
export const RETRY_ALL_LIMIT = 10_000;
/** What the event's history says of a retry. */
export const RETRIED_DETAIL = "retried by the merchant";

export interface RetryCandidate {
  state: string;
  /** The Meta event as it would be sent (stored payload); null when none is kept. */
  payload: unknown;
  /** Whether the pixel the event goes to still exists (a removed pixel's events cannot be sent). */
  hasDestination: boolean;
}

/** Why an event is not sent again: the kind (what a count of many says) and, in `reason`, this event's own words. */
export type RetryRefusal =
  | "delivered"
  | "on_its_way"
  | "paused"
  | "expired"
  | "too_old"
  | "no_destination"
  | "no_payload"
  | "still_invalid"
  | "unknown_state";

export type RetryDecision = { retry: true } | { retry: false; code: RetryRefusal; reason: string };

/** What "retry all" says of many events left for one kind of reason. */
export const RETRY_REFUSAL_SUMMARY: Record<RetryRefusal, string> = {
  delivered: "Meta already accepted them: an event is never sent twice.",
  on_its_way: "They are already on their way to Meta.",
  paused: "They wait for their pixel: fix it in Settings and they go out on their own.",
  expired: "Meta's window closed before they could be delivered: Meta would refuse them now.",
  too_old:
    "Meta accepts events up to 7 days after the conversion (62 for in-store sales); these are older, so Meta would refuse them.",
  no_destination: "The pixel they were for was removed: connect a pixel in Settings for new events.",
  no_payload: "No copy of these events is kept to send again.",
  still_invalid: "They still break Meta's rules (open one to see which), so Meta would refuse them again.",
  unknown_state: "Their state is not one a retry can change.",
};

const DAY_S = 86_400;

function isMetaEvent(value: unknown): value is MetaEvent {
  const e = value as Partial<MetaEvent> | null;
  return typeof e === "object" && e !== null && typeof e.event_name === "string" && typeof e.event_time === "number";
}

export function retryDecision(event: RetryCandidate, nowSeconds: number): RetryDecision {
  const state = event.state as EventState;
  switch (state) {
    case "sent":
      return { retry: false, code: "delivered", reason: "Meta already accepted it: it is never sent twice." };
    case "queued":
    case "sending":
    case "retrying":
      return { retry: false, code: "on_its_way", reason: "It is already on its way to Meta: nothing to do." };
    case "paused":
      return {
        retry: false,
        code: "paused",
        reason: "It waits for its pixel: fix the pixel in Settings and it goes out on its own.",
      };
    case "expired":
      return { retry: false, code: "expired", reason: `${EVENT_STATE_INFO.expired.meaning} Meta would refuse it now.` };
    case "rejected":
    case "invalid":
      break;
    default:
      return {
        retry: false,
        code: "unknown_state",
        reason: `Its state (${event.state}) is not one a retry can change.`,
      };
  }
  if (!isMetaEvent(event.payload))
    return { retry: false, code: "no_payload", reason: "No copy of the event is kept to send again." };
  const maxAge = maxAgeSeconds(event.payload.action_source);
  const age = nowSeconds - event.payload.event_time;
  if (age > maxAge) {
    return {
      retry: false,
      code: "too_old",
      reason: `Meta accepts events up to ${maxAge / DAY_S} days after the conversion; this one is ${Math.floor(age / DAY_S)} days old, so Meta would refuse it.`,
    };
  }
  if (!event.hasDestination) {
    return {
      retry: false,
      code: "no_destination",
      reason: "The pixel it was for was removed: connect a pixel in Settings for new events.",
    };
  }
  const problems = validateEvent(event.payload, nowSeconds);
  if (problems.length > 0) {
    return {
      retry: false,
      code: "still_invalid",
      reason: `It still breaks Meta's rules (${problems.map((p) => p.message).join("; ")}), so Meta would refuse it again.`,
    };
  }
  return { retry: true };
}
