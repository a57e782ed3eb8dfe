// What the event core's table tests share: building an event for one shop at one clock, and
// unwrapping an outcome that must be ready (with its reason when it is not).
import { expect } from "vitest";
import type { BuildOutcome } from "../../app/events/outcome";
import { prepareEvent, type EventTopic } from "../../app/events/prepare";
import { shopEventSettingsSchema, type ShopEventSettingsInput } from "../../app/events/settings";
import { validateEvent } from "../../app/meta/validate";

/** prepareEvent for `shop` at `nowSeconds`, with settings given as a merchant would write them. */
export function preparerFor(shop: string, nowSeconds: number) {
  return (topic: EventTopic, payload: unknown, settings: ShopEventSettingsInput = {}): BuildOutcome =>
    prepareEvent(topic, payload, shopEventSettingsSchema.parse(settings), { shop, nowSeconds });
}

/** The ready outcome; with `validAt`, also one Meta would accept at that time. */
export function ready(outcome: BuildOutcome, validAt?: number): Extract<BuildOutcome, { status: "ready" }> {
  if (outcome.status !== "ready")
    throw new Error(`expected ready, got ${outcome.status}: ${"reason" in outcome ? outcome.reason : ""}`);
  if (validAt !== undefined) expect(validateEvent(outcome.event, validAt)).toEqual([]);
  return outcome;
}
