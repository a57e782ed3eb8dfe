// Every branch of the worker's decisions about one claimed batch, as tables: the deadline
// split, what a request's fates write and signal, the events left unsent after a stop, and
// what follows the batch.
import { describe, expect, it } from "vitest";
import type { EventFate } from "../meta/deliver";
import type { MetaEvent } from "../meta/event";
import {
  afterBatch,
  afterDelivery,
  notAttempted,
  splitByDeadline,
  stops,
  type AfterDelivery,
  type BatchOutcome,
  type PauseVerdict,
  type SendableEvent,
  type StopSignals,
} from "./delivery-plan";
import type { AppliedTransition, ClaimedEvent } from "./event-store.server";

const NOW_MS = Date.parse("2026-11-21T12:00:00Z");
const DAY_S = 24 * 3600;
const NOW_S = NOW_MS / 1000;
const PIXEL = "1234567890";

function claimed(
  id: number,
  ageSeconds: number,
  actionSource = "website",
  testEventCode: string | null = null,
): ClaimedEvent {
  const payload = {
    event_name: "Purchase",
    event_id: String(id),
    event_time: NOW_S - ageSeconds,
    action_source: actionSource,
    user_data: {},
  } as unknown as MetaEvent;
  return {
    id: BigInt(id),
    eventId: String(id),
    eventName: "Purchase",
    testEventCode,
    attempts: 1,
    payload,
    leaseId: "lease-1",
  };
}
const sendable = (row: ClaimedEvent): SendableEvent => ({
  ...row,
  event: row.payload,
  pixelId: PIXEL,
  testEventCode: row.testEventCode ?? undefined,
});
const tooOld = (id: number): AppliedTransition => ({
  id: BigInt(id),
  state: "expired",
  reasonCode: "event_too_old",
  reason: "Meta's 7-day window closed before the event could be delivered",
});

describe("splitting a claim at Meta's window", () => {
  it.each<[string, ClaimedEvent, "expired" | "sendable"]>([
    ["a website event of yesterday", claimed(1, DAY_S), "sendable"],
    ["a website event at the very end of its 7 days", claimed(2, 7 * DAY_S), "sendable"],
    ["a website event a second past its 7 days", claimed(3, 7 * DAY_S + 1), "expired"],
    ["an in-store sale of 8 days ago (62 days for those)", claimed(4, 8 * DAY_S, "physical_store"), "sendable"],
    ["an in-store sale of 63 days ago", claimed(5, 63 * DAY_S, "physical_store"), "expired"],
    ["a test event keeps its code", claimed(6, DAY_S, "website", "TEST12345"), "sendable"],
  ])("%s is %s", (_what, row, verdict) => {
    const split = splitByDeadline([row], PIXEL, NOW_MS);
    expect(split).toEqual(
      verdict === "expired"
        ? { expired: [tooOld(Number(row.id))], sendable: [] }
        : { expired: [], sendable: [sendable(row)] },
    );
  });

  it("keeps the order of the claim", () => {
    const rows = [claimed(1, DAY_S), claimed(2, 8 * DAY_S), claimed(3, DAY_S), claimed(4, 9 * DAY_S)];
    const split = splitByDeadline(rows, PIXEL, NOW_MS);
    expect(split.expired.map((t) => t.id)).toEqual([2n, 4n]);
    expect(split.sendable.map((r) => r.id)).toEqual([1n, 3n]);
  });
});

const retry: EventFate = {
  status: "deferred",
  verdict: { action: "retry", reason: "Meta answered 503", fbtraceId: "R" },
};
const rateLimited: EventFate = {
  status: "deferred",
  verdict: { action: "rate-limited", reason: "User request limit reached" },
};
const pause: PauseVerdict = {
  action: "pause-pixel",
  reason: "token_invalid",
  merchantMessage: "Meta no longer accepts the access token of this pixel.",
};
const paused: EventFate = { status: "deferred", verdict: pause };

describe("what a request's fates write", () => {
  const [a, b] = [sendable(claimed(1, DAY_S)), sendable(claimed(2, DAY_S))];
  // random 0.5: half-jittered backoff of the first attempt, 3.75 s after an outage, 45 s after a rate limit.
  it.each<[string, Array<{ item: SendableEvent; fate: EventFate }>, BatchOutcome]>([
    [
      "all delivered",
      [
        { item: a, fate: { status: "delivered", fbtraceId: "T" } },
        { item: b, fate: { status: "delivered" } },
      ],
      {
        transitions: [
          { id: 1n, state: "sent", fbtraceId: "T" },
          { id: 2n, state: "sent", fbtraceId: undefined },
        ],
        delivered: 2,
        stop: { rateLimited: false },
      },
    ],
    [
      "one refused by Meta",
      [
        { item: a, fate: { status: "delivered" } },
        { item: b, fate: { status: "rejected", code: "invalid_parameter", reason: "Meta error 100", fbtraceId: "X" } },
      ],
      {
        transitions: [
          { id: 1n, state: "sent", fbtraceId: undefined },
          { id: 2n, state: "rejected", reasonCode: "invalid_parameter", reason: "Meta error 100", fbtraceId: "X" },
        ],
        delivered: 1,
        stop: { rateLimited: false },
      },
    ],
    [
      "an outage: retried, the others still go",
      [{ item: a, fate: retry }],
      {
        transitions: [
          {
            id: 1n,
            state: "retrying",
            nextAttemptAt: new Date(NOW_MS + 3_750),
            reasonCode: "meta_unavailable",
            reason: "Meta answered 503",
            fbtraceId: "R",
          },
        ],
        delivered: 0,
        stop: { rateLimited: false },
      },
    ],
    [
      "a rate limit: retried, and no further request",
      [{ item: a, fate: rateLimited }],
      {
        transitions: [
          {
            id: 1n,
            state: "retrying",
            nextAttemptAt: new Date(NOW_MS + 45_000),
            reasonCode: "rate_limited",
            reason: "User request limit reached",
            fbtraceId: undefined,
          },
        ],
        delivered: 0,
        stop: { rateLimited: true },
      },
    ],
    [
      "a pause: paused with Meta's reason, and no further request",
      [
        { item: a, fate: paused },
        { item: b, fate: paused },
      ],
      {
        transitions: [
          { id: 1n, state: "paused", reasonCode: "pixel_paused", reason: "token_invalid", fbtraceId: undefined },
          { id: 2n, state: "paused", reasonCode: "pixel_paused", reason: "token_invalid", fbtraceId: undefined },
        ],
        delivered: 0,
        stop: { rateLimited: false, pause },
      },
    ],
    ["nothing answered", [], { transitions: [], delivered: 0, stop: { rateLimited: false } }],
  ])("%s", (_what, fates, outcome) => {
    expect(afterBatch(fates, NOW_MS, () => 0.5)).toEqual(outcome);
  });

  it("draws one jitter per event, in order", () => {
    const draws = [0, 1];
    const { transitions } = afterBatch(
      [
        { item: a, fate: retry },
        { item: b, fate: retry },
      ],
      NOW_MS,
      () => draws.shift()!,
    );
    expect(transitions.map((t) => t.nextAttemptAt!.getTime() - NOW_MS)).toEqual([2_500, 5_000]);
    expect(draws).toEqual([]);
  });

  it.each<[StopSignals, boolean]>([
    [{ rateLimited: false }, false],
    [{ rateLimited: true }, true],
    [{ rateLimited: false, pause }, true],
  ])("%j stops the batch: %s", (signals, stop) => {
    expect(stops(signals)).toBe(stop);
  });
});

describe("events no request carried", () => {
  const rows = [1, 2, 3].map((id) => sendable(claimed(id, DAY_S)));
  const written: AppliedTransition[] = [tooOld(9), { id: 1n, state: "sent" }];
  const back = (id: bigint, state: "retrying" | "paused", reasonCode: string): AppliedTransition => ({
    id,
    state,
    nextAttemptAt: new Date(NOW_MS + 60_000),
    reasonCode,
    reason: "not attempted: it waits with the rest of the batch",
  });

  it.each<[string, AppliedTransition[], StopSignals, AppliedTransition[]]>([
    [
      "every event attempted",
      [...written, { id: 2n, state: "sent" }, { id: 3n, state: "sent" }],
      { rateLimited: false },
      [],
    ],
    [
      "after a rate limit: retried with it",
      written,
      { rateLimited: true },
      [back(2n, "retrying", "rate_limited"), back(3n, "retrying", "rate_limited")],
    ],
    [
      "after a pause: paused with it",
      written,
      { rateLimited: false, pause },
      [back(2n, "paused", "pixel_paused"), back(3n, "paused", "pixel_paused")],
    ],
    [
      "after a pause and a rate limit: the pause wins",
      written,
      { rateLimited: true, pause },
      [back(2n, "paused", "pixel_paused"), back(3n, "paused", "pixel_paused")],
    ],
  ])("%s", (_what, transitions, signals, expected) => {
    expect(notAttempted(rows, transitions, signals, NOW_MS)).toEqual(expected);
  });
});

describe("what follows a written batch", () => {
  it.each<[string, StopSignals, number, AfterDelivery]>([
    ["all went", { rateLimited: false }, 0, { next: "continue" }],
    ["some outcomes lost to another worker", { rateLimited: false }, 3, { next: "stop" }],
    ["a rate limit", { rateLimited: true }, 0, { next: "slow", forMs: 60_000 }],
    ["a rate limit, some outcomes lost", { rateLimited: true }, 2, { next: "slow", forMs: 60_000 }],
    ["a pause", { rateLimited: false, pause }, 0, { next: "pause", verdict: pause }],
    [
      "a pause after a rate limit, some outcomes lost",
      { rateLimited: true, pause },
      1,
      { next: "pause", verdict: pause },
    ],
  ])("%s: %j", (_what, signals, lost, next) => {
    expect(afterDelivery(signals, lost)).toEqual(next);
  });
});
