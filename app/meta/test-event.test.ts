import { describe, expect, it } from "vitest";
import { FAKE_FBTRACE_ID, metaError } from "./meta-answers.fake";
import type { MetaAnswer } from "./classify";
import { classifyTestEventAnswer, NO_TEST_EVENT_CODE_MESSAGE, type TestEventOutcome } from "./test-event";

const facts = { pixelId: "123456789012345", testEventCode: "TEST42", eventId: "1797768000123" };

const table: Array<[string, MetaAnswer, Partial<TestEventOutcome>, RegExp]> = [
  [
    "accepted",
    { kind: "response", status: 200, body: { events_received: 1, messages: [], fbtrace_id: "AbC" } },
    { ok: true, eventsReceived: 1, fbtraceId: "AbC" },
    /^Meta received the test Purchase \(events_received 1, fbtrace_id AbC, event ID 1797768000123\)\. See it in Events Manager > your pixel > Test events, under code TEST42/,
  ],
  [
    "accepted but none received",
    { kind: "response", status: 200, body: { events_received: 0, fbtrace_id: "AbC" } },
    { ok: false, retry: true },
    /received no event, fbtrace_id AbC/,
  ],
  [
    "revoked token",
    metaError(400, 190, 460),
    { ok: false, retry: false, fbtraceId: FAKE_FBTRACE_ID },
    /^Meta refused the test event: Meta does not accept this access token: the password .* Generate a new one/,
  ],
  [
    "unknown pixel",
    metaError(400, 100, 33),
    { ok: false, retry: false },
    /cannot find pixel \(dataset\) 123456789012345/,
  ],
  [
    "no permission",
    metaError(403, 200),
    { ok: false, retry: false },
    /not allowed to send events to pixel 123456789012345/,
  ],
  ["an invalid event", metaError(400, 100, 2804019), { ok: false, retry: false }, /app's fault, not yours/],
  [
    "timeout",
    { kind: "transport", error: "timeout" },
    { ok: false, retry: true },
    /Meta could not be reached\. Try again in a few minutes/,
  ],
  [
    "503",
    metaError(503, 2, undefined, { is_transient: true }),
    { ok: false, retry: true },
    /Meta is having trouble right now/,
  ],
  ["rate limit", metaError(400, 17), { ok: false, retry: true }, /limiting requests/],
];

describe("classifyTestEventAnswer", () => {
  it.each(table)("%s", (_name, answer, extra, message) => {
    const outcome = classifyTestEventAnswer(answer, facts);
    expect(outcome).toMatchObject(extra);
    expect(outcome.message).toMatch(message);
  });

  it("says how to get a test event code when there is none", () => {
    expect(NO_TEST_EVENT_CODE_MESSAGE).toMatch(
      /No test event code is set.*Events Manager > your pixel > Test events.*TEST12345.*save/,
    );
  });
});
