import { describe, expect, it } from "vitest";
import { tokenExpiry, tokenExpiryMessage, WARN_BEFORE_EXPIRY_DAYS, type TokenExpiry } from "./token-expiry";

const DAY = 86_400_000;
const now = new Date();
const inMs = (ms: number) => new Date(now.getTime() + ms);

describe("tokenExpiry", () => {
  const table: Array<[string, Date | string | null | undefined, TokenExpiry["state"], number | undefined]> = [
    ["no end (a system user token, or pasted)", null, "no-expiry", undefined],
    ["undefined", undefined, "no-expiry", undefined],
    ["60 days ahead (a fresh login)", inMs(60 * DAY), "valid", 60],
    [
      "a minute more than the warning window",
      inMs(WARN_BEFORE_EXPIRY_DAYS * DAY + 60_000),
      "valid",
      WARN_BEFORE_EXPIRY_DAYS + 1,
    ],
    ["exactly the warning window", inMs(WARN_BEFORE_EXPIRY_DAYS * DAY), "expiring", WARN_BEFORE_EXPIRY_DAYS],
    ["three days ahead", inMs(3 * DAY), "expiring", 3],
    ["an hour ahead counts as one day left", inMs(3_600_000), "expiring", 1],
    ["now", now, "expired", undefined],
    ["yesterday", inMs(-DAY), "expired", undefined],
    ["an ISO string, as the loader's JSON gives it", inMs(5 * DAY).toISOString(), "expiring", 5],
  ];
  it.each(table)("%s", (_name, expiresAt, state, daysLeft) => {
    const expiry = tokenExpiry(expiresAt, now);
    expect(expiry.state).toBe(state);
    if (daysLeft !== undefined) expect("daysLeft" in expiry && expiry.daysLeft).toBe(daysLeft);
    if (expiresAt) expect("expiresAt" in expiry && expiry.expiresAt).toBe(new Date(expiresAt).toISOString());
  });
});

describe("tokenExpiryMessage", () => {
  it("says nothing while the end is far or absent", () => {
    expect(tokenExpiryMessage({ state: "no-expiry" })).toBeUndefined();
    expect(tokenExpiryMessage(tokenExpiry(inMs(30 * DAY), now))).toBeUndefined();
  });
  it("counts the days left, in the singular for one, and says how to reconnect", () => {
    expect(tokenExpiryMessage(tokenExpiry(inMs(3 * DAY), now))?.title).toBe("Your Meta connection expires in 3 days");
    const one = tokenExpiryMessage(tokenExpiry(inMs(DAY / 2), now))!;
    expect(one.title).toBe("Your Meta connection expires in 1 day");
    expect(one.message).toMatch(/Press Connect with Meta again in Settings/);
  });
  it("says an expired connection sends nothing, keeps events, and how to fix it", () => {
    const said = tokenExpiryMessage(tokenExpiry(inMs(-1), now))!;
    expect(said.title).toBe("Your Meta connection has expired");
    expect(said.message).toMatch(/events are kept but not sent.*Connect with Meta again/);
  });
});
