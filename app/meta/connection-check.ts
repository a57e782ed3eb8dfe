// What Meta's answer to the connection check (`GET /{version}/{pixel}?fields=id,name`, built by
// ./request.ts pixelReadRequest) says of a pixel and token, in the merchant's words with the fix.
// Pure: the call itself is the shell's (app/pipeline/connection.server.ts). Which Meta codes
// mean a refused token, a missing permission or an unknown pixel is classify.ts's rule
// (setupProblem), shared with the sender that pauses on the same answers.
import { z } from "zod";
import {
  classifyMetaError,
  describeMetaError,
  parseMetaError,
  setupProblem,
  type MetaAnswer,
  type SetupProblem,
} from "./classify";

/** Stored on the destination (checkStatus) and shown on the admin page. */
export const CHECK_STATUSES = ["connected", "failed", "unchecked"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** The form field the merchant has to change. */
export type CheckField = "pixelId" | "accessToken";

export type ConnectionCheck =
  /** Meta read the pixel with this token: events will be taken. */
  | { status: "connected"; pixelName?: string; message: string }
  /** Meta refused this pixel and token: they cannot work until the merchant changes them. */
  | {
      status: "failed";
      problem: SetupProblem["kind"];
      field?: CheckField;
      message: string;
      reason: string;
      fbtraceId?: string;
    }
  /** Meta gave no usable answer (unreachable, timeout, 5xx, rate limit): nothing is known yet. */
  | { status: "unchecked"; message: string; reason: string; fbtraceId?: string };

const pixelNodeSchema = z.object({ id: z.string().min(1), name: z.string().optional() });

const EVENTS_MANAGER_TOKEN = "Events Manager (your pixel > Settings > Conversions API > Generate access token)";

/** What to tell the merchant of a pixel and token Meta refuses, and which field to change. */
export function setupProblemMessage(problem: SetupProblem, pixelId: string): { field?: CheckField; message: string } {
  switch (problem.kind) {
    case "pixel":
      return {
        field: "pixelId",
        message: `Meta cannot find pixel (dataset) ${pixelId}, or this access token cannot reach it. Check the ID in Events Manager (Data sources: the number under your pixel's name), and generate the token from that same pixel's settings.`,
      };
    case "token":
      return {
        field: "accessToken",
        message: `Meta does not accept this access token: ${problem.why}. Generate a new one in ${EVENTS_MANAGER_TOKEN} and paste it here.`,
      };
    case "no-token":
      return {
        field: "accessToken",
        message: `Meta received no access token. Paste the token generated in ${EVENTS_MANAGER_TOKEN}.`,
      };
    case "permission":
      return {
        field: "accessToken",
        message: `This access token is not allowed to send events to pixel ${pixelId}. Generate the token from this pixel's own settings in ${EVENTS_MANAGER_TOKEN}, or give its system user access to the pixel in Business settings.`,
      };
    case "app-secret":
      return {
        message:
          "Meta refused the app secret proof: the app secret set on the server (META_APP_SECRET) is not the secret of the app this token belongs to. Ask whoever runs CAPI Relay to correct it; the pixel ID and token may be fine.",
      };
  }
}

function failed(problem: SetupProblem, pixelId: string, reason: string, fbtraceId?: string): ConnectionCheck {
  return { status: "failed", problem: problem.kind, reason, fbtraceId, ...setupProblemMessage(problem, pixelId) };
}

function unchecked(why: string, reason: string, fbtraceId?: string): ConnectionCheck {
  return { status: "unchecked", message: `The connection could not be checked: ${why}.`, reason, fbtraceId };
}

/** `pixelId`: the pixel the check asked for, named in the messages. */
export function classifyConnectionCheck(answer: MetaAnswer, pixelId: string): ConnectionCheck {
  if (answer.kind === "transport") {
    const what = answer.error === "timeout" ? "Meta did not answer in time" : "Meta could not be reached";
    return unchecked(what, `no answer from Meta (${answer.error}${answer.message ? `: ${answer.message}` : ""})`);
  }
  const { status, body } = answer;
  if (status >= 200 && status < 300) {
    const node = pixelNodeSchema.safeParse(body);
    if (!node.success || node.data.id !== pixelId)
      return unchecked(
        "Meta answered in a way the app does not understand",
        `HTTP ${status} without pixel ${pixelId} in the body`,
      );
    const named = node.data.name ? `"${node.data.name}" (${pixelId})` : pixelId;
    return {
      status: "connected",
      pixelName: node.data.name,
      message: `Connected: Meta accepts this access token for pixel ${named}.`,
    };
  }
  const error = parseMetaError(body);
  if (!error) {
    return unchecked(
      status >= 500 ? "Meta is having trouble right now" : "Meta answered in a way the app does not understand",
      `HTTP ${status} without a Meta error body`,
    );
  }
  const reason = describeMetaError(error);
  const problem = setupProblem(error);
  if (problem) return failed(problem, pixelId, reason, error.fbtrace_id);
  const verdict = classifyMetaError(error);
  if (verdict.action === "rate-limited" || (verdict.action === "retry" && verdict.minDelayMs))
    return unchecked("Meta is limiting requests from this app right now", reason, error.fbtrace_id);
  if (error.code === 1 || error.code === 2 || error.is_transient || status >= 500)
    return unchecked("Meta is having trouble right now", reason, error.fbtrace_id);
  return unchecked(`Meta answered with an error the app does not know (${reason})`, reason, error.fbtrace_id);
}
