import { describe, expect, it } from "vitest";
import { FAKE_FBTRACE_ID, metaError } from "./meta-answers.fake";
import type { MetaAnswer } from "./classify";
import { classifyConnectionCheck, type ConnectionCheck } from "./connection-check";

const PIXEL = "123456789012345";

const missingPixel = metaError(400, 100, 33, {
  type: "GraphMethodException",
  message: `Unsupported get request. Object with ID '${PIXEL}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
});

type Row = [string, MetaAnswer, ConnectionCheck["status"], Record<string, unknown>, RegExp];

// Every answer the check can meet: what the merchant is told, which field to change.
const table: Row[] = [
  [
    "the pixel node",
    { kind: "response", status: 200, body: { id: PIXEL, name: "Shop pixel" } },
    "connected",
    { pixelName: "Shop pixel" },
    /^Connected: .*"Shop pixel" \(123456789012345\)/,
  ],
  [
    "the pixel node without a name",
    { kind: "response", status: 200, body: { id: PIXEL } },
    "connected",
    {},
    /pixel 123456789012345\.$/,
  ],
  [
    "100/33 unknown pixel",
    missingPixel,
    "failed",
    { problem: "pixel", field: "pixelId", fbtraceId: FAKE_FBTRACE_ID },
    /cannot find pixel \(dataset\) 123456789012345.*Check the ID in Events Manager/,
  ],
  [
    "190 invalid token",
    metaError(400, 190),
    "failed",
    { problem: "token", field: "accessToken" },
    /does not accept this access token: Meta rejected it\. Generate a new one/,
  ],
  [
    "190/460 password changed",
    metaError(400, 190, 460),
    "failed",
    { problem: "token", field: "accessToken", reason: expect.stringMatching(/^Meta error 190\/460/) },
    /password .* changed\. Generate a new one/,
  ],
  [
    "190/463 expired",
    metaError(400, 190, 463),
    "failed",
    { problem: "token", field: "accessToken" },
    /it expired\. Generate a new one/,
  ],
  [
    "190/467 invalid",
    metaError(400, 190, 467),
    "failed",
    { problem: "token", field: "accessToken" },
    /no longer valid\. Generate a new one/,
  ],
  [
    "104 no token",
    metaError(400, 104),
    "failed",
    { problem: "no-token", field: "accessToken" },
    /received no access token/,
  ],
  [
    "10 permission",
    metaError(403, 10),
    "failed",
    { problem: "permission", field: "accessToken" },
    /not allowed to send events to pixel 123456789012345/,
  ],
  [
    "200 permissions error",
    metaError(403, 200, undefined, { message: "(#200) Permissions error" }),
    "failed",
    { problem: "permission", field: "accessToken" },
    /not allowed/,
  ],
  ["299 permission", metaError(403, 299), "failed", { problem: "permission", field: "accessToken" }, /not allowed/],
  [
    "wrong appsecret_proof",
    metaError(400, 100, undefined, {
      type: "GraphMethodException",
      message: "Invalid appsecret_proof provided in the API argument",
    }),
    "failed",
    { problem: "app-secret" },
    /META_APP_SECRET/,
  ],
  [
    "timeout",
    { kind: "transport", error: "timeout" },
    "unchecked",
    { reason: "no answer from Meta (timeout)" },
    /did not answer in time/,
  ],
  [
    "network down",
    { kind: "transport", error: "network", message: "ECONNREFUSED" },
    "unchecked",
    { reason: expect.stringContaining("ECONNREFUSED") },
    /could not be reached/,
  ],
  ["connection reset", { kind: "transport", error: "reset" }, "unchecked", {}, /could not be reached/],
  [
    "HTTP 502 without a body",
    { kind: "response", status: 502, body: "<html>Bad gateway</html>" },
    "unchecked",
    {},
    /having trouble/,
  ],
  ["code 2 service error", metaError(503, 2, undefined, { is_transient: true }), "unchecked", {}, /having trouble/],
  ["code 1 unknown error", metaError(500, 1), "unchecked", {}, /having trouble/],
  ["code 17 rate limit", metaError(400, 17), "unchecked", {}, /limiting requests/],
  ["code 4 app rate limit", metaError(400, 4), "unchecked", {}, /limiting requests/],
  ["code 368 temporarily blocked", metaError(400, 368), "unchecked", {}, /limiting requests/],
  [
    "another code 100",
    metaError(400, 100, 2804019),
    "unchecked",
    {},
    /error the app does not know \(Meta error 100\/2804019/,
  ],
  [
    "200 with another object",
    { kind: "response", status: 200, body: { id: "999", name: "Someone else's" } },
    "unchecked",
    {},
    /does not understand/,
  ],
  ["200 that is not JSON", { kind: "response", status: 200, body: "ok" }, "unchecked", {}, /does not understand/],
  [
    "a 400 without Meta's error shape",
    { kind: "response", status: 400, body: { oops: true } },
    "unchecked",
    {},
    /does not understand/,
  ],
];

describe("classifyConnectionCheck: every answer to GET /{pixel}?fields=id,name", () => {
  it.each(table)("%s", (_name, answer, status, extra, message) => {
    const check = classifyConnectionCheck(answer, PIXEL);
    expect(check.status).toBe(status);
    expect(check).toMatchObject(extra);
    expect(check.message).toMatch(message);
    if (check.status === "failed" && check.problem === "app-secret") expect(check).not.toHaveProperty("field");
  });

  it("never calls a failing setup connected, and gives every failure a fix", () => {
    for (const [, answer, status] of table) {
      const check = classifyConnectionCheck(answer, PIXEL);
      if (status !== "connected") expect(check.message).not.toMatch(/^Connected/);
      if (check.status === "failed") expect(check.message).toMatch(/Check|Generate|Paste|Ask/);
    }
  });
});
