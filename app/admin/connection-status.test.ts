import { describe, expect, it } from "vitest";
import { connectionState, type ConnectionState } from "./connection-status";

const at = "2026-12-20T12:00:00.000Z";
type Input = Parameters<typeof connectionState>[0];

const table: Array<[string, Input, ConnectionState["badge"], RegExp]> = [
  ["never checked", { paused: false, pauseMessage: null }, "Not checked yet", /not been checked.*Press Save/],
  [
    "checked and connected",
    {
      paused: false,
      pauseMessage: null,
      check: { status: "connected", message: "Connected: Meta accepts this access token for pixel 1.", checkedAt: at },
    },
    "Connected",
    /^Connected: /,
  ],
  [
    "checked and refused",
    {
      paused: false,
      pauseMessage: null,
      check: { status: "failed", message: "Meta does not accept this access token: it expired.", checkedAt: at },
    },
    "Not connected",
    /it expired/,
  ],
  [
    "not checked: Meta unreachable",
    {
      paused: false,
      pauseMessage: null,
      check: {
        status: "unchecked",
        message: "The connection could not be checked: Meta did not answer in time.",
        checkedAt: at,
      },
    },
    "Not checked yet",
    /did not answer in time\. Press Save in a few minutes/,
  ],
  [
    "paused after a passing check",
    {
      paused: true,
      pauseMessage: "Meta no longer accepts your access token: it expired.",
      check: { status: "connected", message: "Connected", checkedAt: at },
    },
    "Not connected",
    /it expired/,
  ],
  ["paused without a message", { paused: true, pauseMessage: null }, "Not connected", /Generate a new access token/],
  [
    "connected with Facebook, token past its end",
    {
      paused: false,
      pauseMessage: null,
      check: { status: "connected", message: "Connected", checkedAt: at },
      tokenExpiry: { state: "expired", expiresAt: at },
    },
    "Not connected",
    /Press Connect with Meta again in Settings/,
  ],
  [
    "connected with Facebook, token ending soon: still connected (the banner warns)",
    {
      paused: false,
      pauseMessage: null,
      check: { status: "connected", message: "Connected: Meta accepts", checkedAt: at },
      tokenExpiry: { state: "expiring", expiresAt: at, daysLeft: 3 },
    },
    "Connected",
    /^Connected: /,
  ],
];

describe("connectionState", () => {
  it.each(table)("%s", (_name, input, badge, message) => {
    const state = connectionState(input);
    expect(state.badge).toBe(badge);
    expect(state.message).toMatch(message);
    expect(state.tone).toBe(badge === "Connected" ? "success" : badge === "Not connected" ? "critical" : "warning");
  });
});
