import { describe, expect, it } from "vitest";
import { FAKE_FBTRACE_ID, metaError } from "./meta-answers.fake";
import { classifyAnswer, isolate, type MetaAnswer, type Verdict } from "./classify";

// Every row of meta-capi.md's error table, and the transport failures around it.
const table: Array<[string, MetaAnswer, Verdict["action"], Record<string, unknown>?]> = [
  ["code 1 unknown error", metaError(500, 1), "retry"],
  ["code 2 service error", metaError(503, 2, undefined, { is_transient: true }), "retry"],
  ["HTTP 500 without a body", { kind: "response", status: 500, body: "<html>oops</html>" }, "retry"],
  ["HTTP 502 empty", { kind: "response", status: 502, body: undefined }, "retry"],
  ["timeout", { kind: "transport", error: "timeout" }, "retry"],
  ["connection reset", { kind: "transport", error: "reset" }, "retry"],
  ["network down", { kind: "transport", error: "network", message: "ECONNREFUSED" }, "retry"],
  ["code 4 app rate limit", metaError(400, 4), "rate-limited"],
  ["code 17 user rate limit", metaError(400, 17), "rate-limited"],
  ["code 17/2446079 ad account limit", metaError(400, 17, 2446079), "rate-limited"],
  ["code 32 page rate limit", metaError(400, 32), "rate-limited"],
  ["code 613 call rate", metaError(400, 613), "rate-limited"],
  ["code 80003 custom audience rate", metaError(400, 80003), "rate-limited"],
  ["code 341 application limit", metaError(400, 341), "rate-limited"],
  ["HTTP 429 without body", { kind: "response", status: 429, body: "" }, "rate-limited"],
  ["code 368 temporarily blocked", metaError(400, 368), "retry", { minDelayMs: 15 * 60_000 }],
  ["code 190 token invalid", metaError(400, 190), "pause-pixel"],
  ["code 190/460 password changed", metaError(400, 190, 460), "pause-pixel"],
  ["code 190/463 token expired", metaError(400, 190, 463), "pause-pixel"],
  ["code 190/467 token invalid", metaError(400, 190, 467), "pause-pixel"],
  ["code 104 no access token", metaError(400, 104), "pause-pixel"],
  ["code 10 permission denied", metaError(403, 10), "pause-pixel"],
  ["code 200 permission", metaError(403, 200), "pause-pixel"],
  ["code 270 permission", metaError(403, 270), "pause-pixel"],
  ["code 299 permission", metaError(403, 299), "pause-pixel"],
  ["code 100/33 pixel missing", metaError(400, 100, 33), "pause-pixel"],
  [
    "wrong appsecret_proof",
    metaError(400, 100, undefined, { message: "Invalid appsecret_proof provided in the API argument" }),
    "pause-pixel",
  ],
  ["code 100/2804003 too old", metaError(400, 100, 2804003), "drop-event", { code: "event_too_old" }],
  [
    "code 100/2804001 malformed fbc",
    metaError(400, 100, 2804001),
    "drop-event",
    { code: "malformed_fbc", fix: "drop-fbc" },
  ],
  ["code 100/2804016 unhashed", metaError(400, 100, 2804016), "drop-event", { code: "unhashed_user_data" }],
  [
    "code 100/2804019 other invalid parameter",
    metaError(400, 100, 2804019),
    "drop-event",
    { code: "invalid_parameter" },
  ],
  [
    "code 100/2804050 other invalid parameter",
    metaError(400, 100, 2804050),
    "drop-event",
    { code: "invalid_parameter" },
  ],
  ["code 105 too many / invalid params", metaError(400, 105), "drop-event", { code: "invalid_parameter" }],
  ["an unknown transient code", metaError(400, 9007, undefined, { is_transient: true }), "retry"],
  ["an unknown permanent code", metaError(400, 9008), "retry"],
  ["200 with an unreadable body", { kind: "response", status: 200, body: "ok" }, "retry"],
];

describe("classifyAnswer: every answer Meta can give", () => {
  it.each(table)("%s", (_name, answer, action, extra) => {
    const verdict = classifyAnswer(answer);
    expect(verdict.action).toBe(action);
    if (extra) expect(verdict).toMatchObject(extra);
    if (answer.kind === "response" && typeof answer.body === "object" && answer.body && "error" in answer.body) {
      expect(verdict).toMatchObject({ fbtraceId: FAKE_FBTRACE_ID });
      expect((verdict as { reason: string }).reason).toMatch(/Meta error \d+/);
    }
  });

  it("delivers on Meta's success shape and keeps fbtrace_id and messages", () => {
    const verdict = classifyAnswer({
      kind: "response",
      status: 200,
      body: { events_received: 3, messages: [], fbtrace_id: "Xy" },
    });
    expect(verdict).toEqual({ action: "deliver", eventsReceived: 3, fbtraceId: "Xy", messages: [] });
  });

  it("tells the merchant in plain words what to do when the pixel is paused", () => {
    const verdict = classifyAnswer(metaError(400, 190, 463));
    expect(verdict.action === "pause-pixel" && verdict.merchantMessage).toMatch(/expired.*new token.*Events are kept/);
  });
});

describe("isolate: finding the bad events of a rejected batch", () => {
  const invalid = { action: "drop-event", code: "invalid_parameter", reason: "bad" } as const;
  it("splits a batch in two halves, nothing lost", () => {
    const step = isolate([1, 2, 3, 4, 5], invalid);
    expect(step).toEqual({
      step: "split",
      parts: [
        [1, 2, 3],
        [4, 5],
      ],
    });
  });
  it("drops a single rejected event with Meta's reason", () => {
    expect(isolate([7], invalid)).toEqual({ step: "drop", code: "invalid_parameter", reason: "bad" });
  });
  it("resends a single event once without its malformed fbc, then gives up", () => {
    const fbc = { action: "drop-event", code: "malformed_fbc", reason: "fbc", fix: "drop-fbc" } as const;
    expect(isolate([7], fbc)).toEqual({ step: "resend-without-fbc" });
    expect(isolate([7], fbc, true)).toEqual({ step: "drop", code: "malformed_fbc", reason: "fbc" });
  });
});
