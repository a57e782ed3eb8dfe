// Which events a merchant may send again: a table of states, ages and payloads against the
// decision and its reason. The clock is today's; ages are built from it.
import { describe, expect, it } from "vitest";
import type { MetaEvent } from "../meta/event";
import { sha256Hex } from "../meta/user-data";
import { MAX_AGE_PHYSICAL_STORE_SECONDS, MAX_AGE_SECONDS } from "../meta/validate";
import { EVENT_STATES } from "./lifecycle";
import { RETRY_REFUSAL_SUMMARY, RETRYABLE_STATES, retryDecision, type RetryRefusal } from "./retry-rule";

const NOW = Math.floor(Date.now() / 1000);
const DAY = 86_400;

const purchase = (ageSeconds: number, changes: Partial<MetaEvent> = {}): MetaEvent => ({
  event_name: "Purchase",
  event_time: NOW - ageSeconds,
  event_id: "5678901234567",
  action_source: "website",
  event_source_url: "https://shop.example.com/orders/abc",
  // As stored once past sending: the IP and user agent were removed.
  user_data: { em: sha256Hex("jane@example.com") },
  custom_data: { value: 59.9, currency: "USD" },
  ...changes,
});

type Case = [string, { state: string; payload: unknown; hasDestination?: boolean }, true | [RetryRefusal, RegExp]];
const cases: Case[] = [
  ["rejected an hour ago", { state: "rejected", payload: purchase(3600) }, true],
  ["rejected, 6 days and 23 hours old", { state: "rejected", payload: purchase(MAX_AGE_SECONDS - 3600) }, true],
  [
    "rejected, just past 7 days",
    { state: "rejected", payload: purchase(MAX_AGE_SECONDS + 60) },
    ["too_old", /up to 7 days after the conversion; this one is 7 days old/],
  ],
  ["rejected, 20 days old", { state: "rejected", payload: purchase(20 * DAY) }, ["too_old", /this one is 20 days old/]],
  [
    "an in-store sale rejected 30 days on (62 days' window)",
    {
      state: "rejected",
      payload: purchase(30 * DAY, { action_source: "physical_store", event_source_url: undefined }),
    },
    true,
  ],
  [
    "an in-store sale past 62 days",
    {
      state: "rejected",
      payload: purchase(MAX_AGE_PHYSICAL_STORE_SECONDS + DAY, { action_source: "physical_store" }),
    },
    ["too_old", /up to 62 days/],
  ],
  [
    "invalid as built, still breaking Meta's rules",
    { state: "invalid", payload: purchase(3600, { custom_data: { currency: "USD" } }) },
    ["still_invalid", /still breaks Meta's rules \(a Purchase needs custom_data.value and currency\)/],
  ],
  ["invalid then, passing Meta's rules now", { state: "invalid", payload: purchase(3600) }, true],
  [
    "rejected, holding a raw email (never sent unhashed)",
    { state: "rejected", payload: purchase(3600, { user_data: { em: "jane@example.com" } }) },
    ["still_invalid", /not a SHA-256 hash/],
  ],
  [
    "rejected for a pixel since removed",
    { state: "rejected", payload: purchase(3600), hasDestination: false },
    ["no_destination", /pixel it was for was removed/],
  ],
  ["rejected, no payload kept", { state: "rejected", payload: null }, ["no_payload", /No copy of the event/]],
  [
    "rejected, a payload that is not an event",
    { state: "rejected", payload: { hello: 1 } },
    ["no_payload", /No copy of the event/],
  ],
  ["delivered", { state: "sent", payload: purchase(3600) }, ["delivered", /already accepted it/]],
  [
    "expired",
    { state: "expired", payload: purchase(3600) },
    ["expired", /window .* closed .*Meta would refuse it now/],
  ],
  ["queued", { state: "queued", payload: purchase(3600) }, ["on_its_way", /already on its way/]],
  ["sending", { state: "sending", payload: purchase(3600) }, ["on_its_way", /already on its way/]],
  ["retrying", { state: "retrying", payload: purchase(3600) }, ["on_its_way", /already on its way/]],
  ["paused", { state: "paused", payload: purchase(3600) }, ["paused", /fix the pixel in Settings/]],
  [
    "a state the app does not know",
    { state: "lost", payload: purchase(3600) },
    ["unknown_state", /\(lost\) is not one/],
  ],
];

describe("retryDecision", () => {
  it.each(cases)("%s", (_, event, expected) => {
    const decision = retryDecision({ hasDestination: true, ...event }, NOW);
    if (expected === true) expect(decision).toEqual({ retry: true });
    else {
      expect(decision.retry).toBe(false);
      if (decision.retry) return;
      expect(decision.code).toBe(expected[0]);
      expect(decision.reason).toMatch(expected[1]);
      expect(RETRY_REFUSAL_SUMMARY[decision.code]).toBeTruthy();
    }
  });

  it("allows a retry only out of the retryable states", () => {
    for (const state of EVENT_STATES) {
      const decision = retryDecision({ state, payload: purchase(3600), hasDestination: true }, NOW);
      expect(decision.retry, state).toBe((RETRYABLE_STATES as readonly string[]).includes(state));
    }
  });
});
