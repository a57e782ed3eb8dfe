// The lifecycle vocabulary: every state and outcome has words for the merchant, and every
// mapping into it is total over what it maps from. The tables are typed `satisfies Record<...>`,
// so a new build status, verdict action or fate without a row here does not compile.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { BuildOutcome } from "../events/outcome";
import { classifyAnswer, type MetaAnswer, type Verdict } from "../meta/classify";
import type { EventFate } from "../meta/deliver";
import type { MetaEvent } from "../meta/event";
import {
  arrivalState,
  DEFERRAL_REASON_CODE,
  EVENT_STATE_INFO,
  expiredOnArrival,
  EVENT_STATES,
  FINAL_STATES,
  isEventState,
  PENDING_STATES,
  RECEIPT_OUTCOME_INFO,
  RECEIPT_OUTCOMES,
  receiptOutcomeOfBuild,
  SCHEDULED_STATES,
  sqlStates,
  STATE_OF_VERDICT,
  stateOfFate,
  type DeferralAction,
  type EventState,
  type ReceiptOutcome,
} from "./lifecycle";

const EVENT = {
  event_name: "Purchase",
  event_id: "1",
  event_time: 1,
  action_source: "website",
  user_data: {},
} as unknown as MetaEvent;

describe("event states", () => {
  it.each(EVENT_STATES)("%s has a label and a one-sentence meaning", (state) => {
    const { label, meaning } = EVENT_STATE_INFO[state];
    expect(label.trim()).toBe(label);
    expect(label.length).toBeGreaterThan(0);
    expect(meaning).toMatch(/^[A-Z].*\.$/);
    expect(meaning.slice(0, -1)).not.toMatch(/\.\s/);
  });

  it("have labels a merchant can tell apart, and only the states listed", () => {
    const labels = EVENT_STATES.map((s) => EVENT_STATE_INFO[s].label);
    expect(new Set(labels).size).toBe(labels.length);
    expect(Object.keys(EVENT_STATE_INFO).sort()).toEqual([...EVENT_STATES].sort());
  });

  it("are pending or final, never both: the worker's, the merchant's, or nobody's to move", () => {
    const table = {
      queued: "worker",
      sending: "worker",
      retrying: "worker",
      paused: "merchant",
      sent: null,
      rejected: null,
      invalid: null,
      expired: null,
    } satisfies Record<EventState, "worker" | "merchant" | null>;
    for (const state of EVENT_STATES) expect(EVENT_STATE_INFO[state].waitsFor, state).toBe(table[state]);
    expect([...PENDING_STATES, ...FINAL_STATES].sort()).toEqual([...EVENT_STATES].sort());
    expect(PENDING_STATES.filter((s) => FINAL_STATES.includes(s))).toEqual([]);
    expect(FINAL_STATES).toEqual(["sent", "rejected", "invalid", "expired"]);
  });

  it("are scheduled when the worker takes them at their time: its own but sending", () => {
    expect([...SCHEDULED_STATES, "sending"].sort()).toEqual(
      EVENT_STATES.filter((s) => EVENT_STATE_INFO[s].waitsFor === "worker").sort(),
    );
    expect(sqlStates(SCHEDULED_STATES)).toBe("'queued', 'retrying'");
  });

  it("are told from other words, and written into SQL as literals", () => {
    expect(EVENT_STATES.every(isEventState)).toBe(true);
    for (const word of ["skipped", "held_back", "delivered", "", "SENT"]) expect(isEventState(word), word).toBe(false);
    expect(sqlStates(FINAL_STATES)).toBe("'sent', 'rejected', 'invalid', 'expired'");
  });
});

describe("receipt outcomes", () => {
  it.each(RECEIPT_OUTCOMES)("%s has a label and a one-sentence meaning", (outcome) => {
    const { label, meaning } = RECEIPT_OUTCOME_INFO[outcome];
    expect(label.length).toBeGreaterThan(0);
    expect(meaning).toMatch(/^[A-Z].*\.$/);
    expect(meaning.slice(0, -1)).not.toMatch(/\.\s/);
  });

  it("have distinct labels, and are only the outcomes listed", () => {
    const labels = RECEIPT_OUTCOMES.map((o) => RECEIPT_OUTCOME_INFO[o].label);
    expect(new Set(labels).size).toBe(labels.length);
    expect(Object.keys(RECEIPT_OUTCOME_INFO).sort()).toEqual([...RECEIPT_OUTCOMES].sort());
  });

  it("keep 'rejected' for Meta alone: no receipt is rejected, and a webhook deliberately not sent is held back", () => {
    expect(RECEIPT_OUTCOMES).not.toContain("rejected");
    expect(RECEIPT_OUTCOMES).not.toContain("skipped");
    expect(EVENT_STATES).not.toContain("skipped");
    expect(EVENT_STATE_INFO.rejected.meaning).toMatch(/^Meta refused/);
  });
});

describe("from a webhook's build", () => {
  const builds = {
    ready: { status: "ready", event: EVENT, notes: [] },
    held_back: { status: "held_back", reason: "Shopify test order, and the shop has no test event code" },
    invalid: { status: "invalid", code: "invalid_payload", reason: "orders/create payload: id: expected a numeric id" },
  } satisfies { [S in BuildOutcome["status"]]: Extract<BuildOutcome, { status: S }> };
  const tooOld: BuildOutcome = { status: "invalid", code: "event_too_old", reason: "r", event: EVENT };

  it.each<[BuildOutcome["status"] | "too_old", boolean, ReceiptOutcome]>([
    ["ready", false, "queued"],
    ["ready", true, "paused"],
    ["held_back", false, "held_back"],
    ["held_back", true, "held_back"],
    ["invalid", false, "invalid"],
    ["invalid", true, "invalid"],
    ["too_old", false, "expired"],
    ["too_old", true, "expired"],
  ])("a %s build (pixel paused: %s) gives the receipt %s", (status, paused, outcome) => {
    expect(receiptOutcomeOfBuild(status === "too_old" ? tooOld : builds[status], paused)).toBe(outcome);
  });

  it.each<[string, BuildOutcome, BuildOutcome]>([
    [
      "a ready build becomes an expiry with the reason, keeping its event and notes",
      { status: "ready", event: EVENT, notes: [{ code: "no_user_agent", message: "m" }] },
      {
        status: "invalid",
        code: "event_too_old",
        reason: "late",
        event: EVENT,
        notes: [{ code: "no_user_agent", message: "m" }],
      },
    ],
    [
      "an invalid build with an event: the expiry wins, with the late reason",
      { status: "invalid", code: "missing_event_source_url", reason: "r", event: EVENT },
      { status: "invalid", code: "event_too_old", reason: "late", event: EVENT, notes: [] },
    ],
    ["a held-back build stays held back", builds.held_back, builds.held_back],
    ["an unreadable payload stays invalid: there is no event to expire", builds.invalid, builds.invalid],
  ])("expired on arrival: %s", (_what, built, after) => {
    expect(expiredOnArrival(built, "late")).toEqual(after);
  });

  it.each<[string, Exclude<BuildOutcome, { status: "held_back" }>, boolean, EventState]>([
    ["ready, the pixel taking events", builds.ready, false, "queued"],
    ["ready, the pixel paused or not connected", builds.ready, true, "paused"],
    [
      "invalid by Meta's rules",
      { status: "invalid", code: "missing_event_source_url", reason: "r", event: EVENT },
      false,
      "invalid",
    ],
    [
      "invalid, the pixel paused",
      { status: "invalid", code: "missing_event_source_url", reason: "r", event: EVENT },
      true,
      "invalid",
    ],
    [
      "too old for Meta's window",
      { status: "invalid", code: "event_too_old", reason: "r", event: EVENT },
      false,
      "expired",
    ],
  ])("an event %s is stored %s", (_what, built, paused, state) => {
    expect(arrivalState(built, paused)).toBe(state);
  });
});

describe("from Meta's answers", () => {
  const answers = {
    deliver: { kind: "response", status: 200, body: { events_received: 1 } },
    "drop-event": { kind: "response", status: 400, body: { error: { code: 100, message: "Invalid parameter" } } },
    retry: { kind: "transport", error: "timeout" },
    "rate-limited": {
      kind: "response",
      status: 400,
      body: { error: { code: 17, message: "User request limit reached" } },
    },
    "pause-pixel": {
      kind: "response",
      status: 400,
      body: { error: { code: 190, error_subcode: 463, message: "Session has expired" } },
    },
  } satisfies Record<Verdict["action"], MetaAnswer>;
  const states = {
    deliver: "sent",
    "drop-event": "rejected",
    retry: "retrying",
    "rate-limited": "retrying",
    "pause-pixel": "paused",
  } satisfies Record<Verdict["action"], EventState>;

  it.each(Object.keys(answers) as Array<Verdict["action"]>)("a %s verdict calls for its state", (action) => {
    expect(classifyAnswer(answers[action]).action).toBe(action);
    expect(STATE_OF_VERDICT[action]).toBe(states[action]);
  });

  it("stores each deferral with its reason code", () => {
    expect(DEFERRAL_REASON_CODE).toEqual({
      retry: "meta_unavailable",
      "rate-limited": "rate_limited",
      "pause-pixel": "pixel_paused",
    } satisfies Record<DeferralAction, string>);
  });

  const deferred = (action: DeferralAction): EventFate => {
    const verdict = classifyAnswer(answers[action]);
    if (verdict.action === "deliver" || verdict.action === "drop-event") throw new Error(`no ${action} verdict`);
    return { status: "deferred", verdict };
  };
  const fates = {
    delivered: [[{ status: "delivered", fbtraceId: "T" }, "sent"]],
    rejected: [
      [{ status: "rejected", code: "invalid_parameter", reason: "Meta error 100" }, "rejected"],
      [{ status: "rejected", code: "event_too_old", reason: "Meta error 100/2804003" }, "expired"],
    ],
    deferred: [
      [deferred("retry"), "retrying"],
      [deferred("rate-limited"), "retrying"],
      [deferred("pause-pixel"), "paused"],
    ],
  } satisfies Record<EventFate["status"], Array<[EventFate, EventState]>>;

  it.each(Object.values(fates).flat())("the fate %j calls for %s", (fate, state) => {
    expect(stateOfFate(fate)).toBe(state);
  });
});

it("imports nothing at run time (the admin page bundles it for the browser)", () => {
  const source = readFileSync(path.join(__dirname, "lifecycle.ts"), "utf8");
  const imports = source.split("\n").filter((line) => /^import\b/.test(line));
  expect(imports.length).toBeGreaterThan(0);
  for (const line of imports) expect(line).toMatch(/^import type /);
});
