// What can become of a webhook and of the Meta event built from it: the one vocabulary the
// pipeline stores, the admin page, the CLI and the demo show, and the mappings into it from
// the outcomes of building (app/events/outcome.ts) and delivering (app/meta/deliver.ts,
// app/meta/classify.ts). Pure and type-only imports: the admin page bundles it for the browser.
//
// One word, one meaning. "rejected" is Meta refusing an event, nothing else; an event Meta's
// rules refuse before it is sent is "invalid"; a webhook that is not its shop's is "refused";
// one deliberately not sent is "held_back".
import type { BuildOutcome } from "../events/outcome";
import type { Verdict } from "../meta/classify";
import type { EventFate } from "../meta/deliver";

/** Every state an Event row (and each line of its history) is stored in. */
export const EVENT_STATES = [
  "queued",
  "sending",
  "retrying",
  "paused",
  "sent",
  "rejected",
  "invalid",
  "expired",
] as const;
export type EventState = (typeof EVENT_STATES)[number];

export interface EventStateInfo {
  /** What the merchant reads. */
  label: string;
  /** What the state means to the merchant, in one sentence. */
  meaning: string;
  /**
   * Who the event waits for: the worker (it goes out without anyone acting), the merchant
   * (nothing goes out until they act), or nobody (final: it will never be sent again).
   */
  waitsFor: "worker" | "merchant" | null;
}

export const EVENT_STATE_INFO: Record<EventState, EventStateInfo> = {
  queued: {
    label: "Queued",
    meaning: "Stored and waiting for the next request to Meta, within seconds.",
    waitsFor: "worker",
  },
  sending: { label: "Sending", meaning: "In a request to Meta right now.", waitsFor: "worker" },
  retrying: {
    label: "Retrying",
    meaning:
      "Meta did not take it this time (an outage or a rate limit); it is sent again later, until Meta's window closes.",
    waitsFor: "worker",
  },
  paused: {
    label: "Paused",
    meaning:
      "Kept, not sent, until the pixel is connected, its access token works again or a plan covers it; then it goes out.",
    waitsFor: "merchant",
  },
  sent: { label: "Delivered", meaning: "Meta accepted it.", waitsFor: null },
  rejected: {
    label: "Rejected by Meta",
    meaning: "Meta refused this event; the reason gives Meta's answer.",
    waitsFor: null,
  },
  invalid: {
    label: "Invalid",
    meaning:
      "It breaks one of Meta's rules as built (a website event without the buyer's browser, say), so it was never sent; the reason says which.",
    waitsFor: null,
  },
  expired: {
    label: "Expired",
    meaning: "Meta's window (7 days after the conversion, 62 for in-store sales) closed before it could be delivered.",
    waitsFor: null,
  },
};

/** States an event may still leave by being sent: the worker's or the merchant's to move. */
export const PENDING_STATES = EVENT_STATES.filter((s) => EVENT_STATE_INFO[s].waitsFor !== null);
/** States an event never leaves: delivered, or never to be. */
export const FINAL_STATES = EVENT_STATES.filter((s) => EVENT_STATE_INFO[s].waitsFor === null);
/**
 * States whose event the worker takes once its nextAttemptAt has come. The worker's other
 * state, sending, is its own while the lease lasts and is taken over only when that runs out.
 */
export const SCHEDULED_STATES = ["queued", "retrying"] as const satisfies readonly EventState[];

export function isEventState(value: string): value is EventState {
  return (EVENT_STATES as readonly string[]).includes(value);
}

/** A list of states as SQL literals, for statements whose text is fixed at load: `'sent', 'rejected'`. */
export function sqlStates(states: readonly EventState[]): string {
  return states.map((s) => `'${s}'`).join(", ");
}

/**
 * What became of one webhook: stored on its WebhookReceipt and given in the webhook's answer
 * ({"outcome": ...}). A webhook that yields an event gives queued or paused (or duplicate);
 * its event then lives on in the states above.
 */
export const RECEIPT_OUTCOMES = [
  "queued",
  "paused",
  "duplicate",
  "held_back",
  "invalid",
  "expired",
  "ignored",
  "refused",
  "handled",
] as const;
export type ReceiptOutcome = (typeof RECEIPT_OUTCOMES)[number];

export interface ReceiptOutcomeInfo {
  label: string;
  meaning: string;
}

export const RECEIPT_OUTCOME_INFO: Record<ReceiptOutcome, ReceiptOutcomeInfo> = {
  queued: { label: "Queued", meaning: "Its event was stored and is on its way to Meta." },
  paused: {
    label: "Paused",
    meaning:
      "Its event was stored and waits until the pixel is connected, its access token works again or a plan covers it.",
  },
  duplicate: {
    label: "Duplicate",
    meaning: "Shopify delivered it before, or its conversion is already recorded (orders/paid after orders/create).",
  },
  held_back: {
    label: "Held back",
    meaning:
      "Deliberately not sent: a test order without a test event code, a buyer who declined marketing, a cancelled order, or one of your settings; the reason says which.",
  },
  invalid: {
    label: "Invalid",
    meaning:
      "It could not become an event Meta takes: its body was unreadable, its event breaks one of Meta's rules, or it holds a value the database cannot store; the reason says which.",
  },
  expired: {
    label: "Expired",
    meaning:
      "It arrived after Meta's window had closed (the order is older than 7 days, or Shopify delivered the webhook that late): its event was stored as expired and never sent; the reason says which.",
  },
  ignored: {
    label: "Ignored",
    meaning: "Nothing to do: no event is built from its topic, or it is an uninstall from before the latest install.",
  },
  refused: {
    label: "Refused",
    meaning: "Not this shop's webhook (its body names another shop): answered 400 and never acted on.",
  },
  handled: {
    label: "Handled",
    meaning: "A lifecycle or privacy webhook (uninstall, customer redact, data request), carried out.",
  },
};

/** Meta's window closed: an expiry, whoever refuses the event for it (our check before sending, or Meta). */
const TOO_OLD = "event_too_old";

/** What a webhook's build can make of its receipt (before de-duplication, which may make it a duplicate). */
export type BuildReceiptOutcome = Extract<ReceiptOutcome, "queued" | "paused" | "held_back" | "invalid" | "expired">;

/**
 * The receipt outcome of a webhook's build. A ready event is queued, or paused while the
 * shop's pixel cannot take it (none connected, or paused); one past Meta's window is expired,
 * like the event stored with it (arrivalState).
 */
export function receiptOutcomeOfBuild(built: BuildOutcome, pixelPaused: boolean): BuildReceiptOutcome {
  switch (built.status) {
    case "ready":
      return pixelPaused ? "paused" : "queued";
    case "held_back":
      return "held_back";
    case "invalid":
      return built.code === TOO_OLD ? "expired" : "invalid";
    default:
      return unreachable(built);
  }
}

/**
 * A webhook Shopify delivered after Meta's window for its event had closed: the build's
 * outcome becomes an expiry with this reason, whatever else it said (nothing in it could ever
 * be sent). A held-back build stays held back: it was never to be sent anyway.
 */
export function expiredOnArrival(built: BuildOutcome, reason: string): BuildOutcome {
  if (built.status === "held_back" || (built.status === "invalid" && !built.event)) return built;
  return { status: "invalid", code: TOO_OLD, reason, event: built.event, notes: built.notes ?? [] };
}

/** The state a built event is stored in when its webhook arrives (a held-back build stores no event). */
export function arrivalState(built: Exclude<BuildOutcome, { status: "held_back" }>, pixelPaused: boolean): EventState {
  switch (built.status) {
    case "ready":
      return pixelPaused ? "paused" : "queued";
    case "invalid":
      return built.code === TOO_OLD ? "expired" : "invalid";
    default:
      return unreachable(built);
  }
}

/**
 * The state Meta's answer to a request calls for, verdict by verdict. A retried event may
 * still expire instead, when its next attempt would fall after Meta's window (./schedule.ts).
 */
export const STATE_OF_VERDICT: Record<Verdict["action"], EventState> = {
  deliver: "sent",
  // After isolation has found the one event Meta refuses (app/meta/classify.ts isolate).
  "drop-event": "rejected",
  retry: "retrying",
  "rate-limited": "retrying",
  "pause-pixel": "paused",
};

/** A verdict that leaves the event to be sent later. */
export type DeferralAction = Extract<EventFate, { status: "deferred" }>["verdict"]["action"];

/** The reason code an event deferred by each verdict is stored with (Event.reasonCode). */
export const DEFERRAL_REASON_CODE: Record<DeferralAction, string> = {
  retry: "meta_unavailable",
  "rate-limited": "rate_limited",
  "pause-pixel": "pixel_paused",
};

/** The state one event's fate in a delivery calls for. */
export function stateOfFate(fate: EventFate): EventState {
  switch (fate.status) {
    case "delivered":
      return STATE_OF_VERDICT.deliver;
    case "rejected":
      return fate.code === TOO_OLD ? "expired" : STATE_OF_VERDICT["drop-event"];
    case "deferred":
      return STATE_OF_VERDICT[fate.verdict.action];
    default:
      return unreachable(fate);
  }
}

function unreachable(value: never): never {
  throw new Error(`unhandled outcome ${JSON.stringify(value)}`);
}
