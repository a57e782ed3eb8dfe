import { describe, expect, it } from "vitest";
import {
  grantVerdict,
  OFFLINE_TOKEN_REFRESH_MARGIN_MS,
  planOfflineToken,
  type GrantAnswer,
  type OfflineTokenPlan,
  type StoredOfflineToken,
} from "./offline-token";

const now = new Date();
const at = (ms: number) => new Date(now.getTime() + ms);
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

const expiring = (expiresInMs: number, extra: Partial<StoredOfflineToken> = {}): StoredOfflineToken => ({
  hasAccessToken: true,
  expires: at(expiresInMs),
  hasRefreshToken: true,
  refreshTokenExpires: at(89 * DAY),
  ...extra,
});

describe("planOfflineToken", () => {
  const cases: Array<
    [string, StoredOfflineToken, { rejected?: boolean; marginMs?: number }, OfflineTokenPlan["action"]]
  > = [
    ["an hour left", expiring(60 * MIN), {}, "use"],
    ["just past the margin", expiring(OFFLINE_TOKEN_REFRESH_MARGIN_MS + MIN), {}, "use"],
    ["inside the margin", expiring(OFFLINE_TOKEN_REFRESH_MARGIN_MS - MIN), {}, "refresh"],
    ["exactly at the margin", expiring(OFFLINE_TOKEN_REFRESH_MARGIN_MS), {}, "refresh"],
    ["already expired", expiring(-5 * MIN), {}, "refresh"],
    ["an hour left but answered 401", expiring(60 * MIN), { rejected: true }, "refresh"],
    ["a narrower margin keeps it", expiring(4 * MIN), { marginMs: 2 * MIN }, "use"],
    ["no access token stored", expiring(60 * MIN, { hasAccessToken: false }), {}, "refresh"],
    [
      "non-expiring token",
      { hasAccessToken: true, expires: null, hasRefreshToken: false, refreshTokenExpires: null },
      {},
      "migrate",
    ],
    [
      "non-expiring token answered 401",
      { hasAccessToken: true, expires: null, hasRefreshToken: false, refreshTokenExpires: null },
      { rejected: true },
      "lost",
    ],
    ["expired, no refresh token", expiring(-MIN, { hasRefreshToken: false, refreshTokenExpires: null }), {}, "lost"],
    ["expired, refresh token expired too", expiring(-MIN, { refreshTokenExpires: at(-DAY) }), {}, "lost"],
    ["expired, refresh token without a stated expiry", expiring(-MIN, { refreshTokenExpires: null }), {}, "refresh"],
    [
      "fresh token, refresh token long expired: still usable",
      expiring(50 * MIN, { refreshTokenExpires: at(-DAY) }),
      {},
      "use",
    ],
  ];
  it.each(cases)("%s", (_name, token, options, action) => {
    const plan = planOfflineToken(token, now, options);
    expect(plan.action).toBe(action);
    if (plan.action === "lost") expect(plan.reason.length).toBeGreaterThan(10);
  });

  it("names the refresh token's expiry in the reason", () => {
    const expired = at(-DAY);
    const plan = planOfflineToken(expiring(-MIN, { refreshTokenExpires: expired }), now);
    expect(plan).toEqual({ action: "lost", reason: expect.stringContaining(expired.toISOString()) });
  });
});

describe("grantVerdict", () => {
  const cases: Array<[string, GrantAnswer, boolean]> = [
    [
      "revoked or spent refresh token",
      { status: 400, error: "invalid_grant", description: "Token has been expired or revoked." },
      true,
    ],
    ["uninstalled (401)", { status: 401 }, true],
    ["forbidden (403)", { status: 403, error: "access_denied" }, true],
    ["a malformed request is ours to fix", { status: 400, error: "invalid_request" }, false],
    ["a wrong client secret concerns every shop", { status: 400, error: "invalid_client" }, false],
    ["a wrong client secret, answered 401", { status: 401, error: "invalid_client" }, false],
    ["Shopify down", { status: 503 }, false],
    ["throttled", { status: 429 }, false],
    ["no answer at all", {}, false],
  ];
  it.each(cases)("%s", (_name, answer, permanent) => {
    const verdict = grantVerdict(answer);
    expect(verdict.permanent).toBe(permanent);
    if (answer.status) expect(verdict.reason).toContain(String(answer.status));
    if (answer.error) expect(verdict.reason).toContain(answer.error);
  });

  it("bounds the reason's length", () => {
    expect(
      grantVerdict({ status: 400, error: "invalid_grant", description: "x".repeat(5000) }).reason.length,
    ).toBeLessThanOrEqual(300);
  });
});
