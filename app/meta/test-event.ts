// What Meta's answer to a test event (one Purchase sent with the shop's test_event_code, from the
// admin page's button or `capi test-event`) tells the merchant: how many events Meta received,
// the fbtrace_id, and where to see it; or why not and what to do. Pure; the sending is the
// shell's (app/pipeline/test-event.server.ts). The answer is read by classify.ts (zod).
import { classifyAnswer, parseMetaError, setupProblem, type MetaAnswer } from "./classify";
import { setupProblemMessage } from "./connection-check";

/** Where test events show, in Events Manager's words. */
export const TEST_EVENTS_PLACE = "Events Manager > your pixel > Test events";

/** Said when the shop has no test event code, with how to get one. */
export const NO_TEST_EVENT_CODE_MESSAGE = `No test event code is set, so a test event would count as a real purchase. In ${TEST_EVENTS_PLACE}, copy the code shown for server events (it looks like TEST12345), paste it into Test event code and save; then send the test event.`;

export type TestEventOutcome =
  | { ok: true; eventsReceived: number; fbtraceId?: string; messages: string[]; message: string }
  | { ok: false; retry: boolean; message: string; reason: string; fbtraceId?: string };

export interface TestEventFacts {
  pixelId: string;
  testEventCode: string;
  eventId: string;
}

export function classifyTestEventAnswer(answer: MetaAnswer, facts: TestEventFacts): TestEventOutcome {
  const verdict = classifyAnswer(answer);
  const fbtraceId = "fbtraceId" in verdict ? verdict.fbtraceId : undefined;
  const trace = fbtraceId ? `, fbtrace_id ${fbtraceId}` : "";
  if (verdict.action === "deliver") {
    const n = verdict.eventsReceived;
    if (n < 1) {
      return {
        ok: false,
        retry: true,
        message: `Meta answered but received no event${trace}. Send the test event again; if this repeats, give the fbtrace_id to Meta support.`,
        reason: "events_received 0",
        fbtraceId,
      };
    }
    return {
      ok: true,
      eventsReceived: n,
      fbtraceId,
      messages: verdict.messages,
      message: `Meta received the test Purchase (events_received ${n}${trace}, event ID ${facts.eventId}). See it in ${TEST_EVENTS_PLACE}, under code ${facts.testEventCode}; it can take a minute to show.`,
    };
  }
  if (verdict.action === "pause-pixel") {
    const error = answer.kind === "response" ? parseMetaError(answer.body) : undefined;
    const problem = error && setupProblem(error);
    const message = problem ? setupProblemMessage(problem, facts.pixelId).message : verdict.merchantMessage;
    return {
      ok: false,
      retry: false,
      message: `Meta refused the test event: ${message}`,
      reason: verdict.reason,
      fbtraceId,
    };
  }
  if (verdict.action === "drop-event") {
    return {
      ok: false,
      retry: false,
      message: `Meta refused the test event (${verdict.reason}${trace}). This is the app's fault, not yours: please report it with the fbtrace_id.`,
      reason: verdict.reason,
      fbtraceId,
    };
  }
  const why =
    verdict.action === "rate-limited"
      ? "Meta is limiting requests from this app right now"
      : answer.kind === "transport"
        ? "Meta could not be reached"
        : "Meta is having trouble right now";
  return {
    ok: false,
    retry: true,
    message: `The test event was not sent: ${why}. Try again in a few minutes.`,
    reason: verdict.reason,
    fbtraceId,
  };
}
