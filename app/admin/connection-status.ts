// What the admin page says of the connection to Meta: one badge and one sentence with the fix,
// from the destination's pause (the worker's word on real sends) and its last connection
// check. Pure, and bundled into the browser: no server code here.
import type { DestinationView } from "./dashboard.server";
import { tokenExpiryMessage } from "../meta/token-expiry";

export interface ConnectionState {
  badge: "Connected" | "Not connected" | "Not checked yet";
  tone: "success" | "critical" | "warning";
  message: string;
  /** When the last check ran (ISO); absent when the state does not come from one. */
  checkedAt?: string;
}

const NEVER_CHECKED =
  "This connection has not been checked with Meta yet. Press Save (the token field can stay empty) to check it.";

export function connectionState(
  destination: Pick<DestinationView, "paused" | "pauseMessage" | "check"> &
    Partial<Pick<DestinationView, "tokenExpiry">>,
): ConnectionState {
  const { check } = destination;
  // Meta refuses an expired token whatever the last check said; a pause that came of it says the same.
  if (destination.tokenExpiry?.state === "expired" && !destination.paused) {
    return { badge: "Not connected", tone: "critical", message: tokenExpiryMessage(destination.tokenExpiry)!.message };
  }
  // A pause is what Meta answered real events (or the app's own failure to read the token):
  // it outranks an older check that passed.
  if (destination.paused) {
    return {
      badge: "Not connected",
      tone: "critical",
      message:
        destination.pauseMessage ??
        "Meta refused the access token of this pixel, so sending is paused. Generate a new access token in Meta Events Manager and save it below.",
    };
  }
  if (!check) return { badge: "Not checked yet", tone: "warning", message: NEVER_CHECKED };
  const checkedAt = check.checkedAt;
  if (check.status === "connected")
    return {
      badge: "Connected",
      tone: "success",
      message: check.message ?? "Meta accepts this access token for this pixel.",
      checkedAt,
    };
  if (check.status === "failed")
    return {
      badge: "Not connected",
      tone: "critical",
      message: check.message ?? "Meta refused this pixel and token.",
      checkedAt,
    };
  return {
    badge: "Not checked yet",
    tone: "warning",
    message: `${check.message ?? "Meta could not be reached."} Press Save in a few minutes to check again.`,
    checkedAt,
  };
}
