// When a Connect with Meta token stops working, and what the merchant is told before and after.
// Pure and free of imports: the admin's pages bundle it into the browser.

/**
 * Warn this long before the token's end. Meta gives no grace once a token expires: sending is
 * refused (190) and events wait paused until the merchant reconnects. Two weeks means a
 * merchant who opens the app once a week sees the warning at least twice before then, and
 * reconnecting takes a minute (the same dialog, the same pixel).
 */
export const WARN_BEFORE_EXPIRY_DAYS = 14;
const DAY_MS = 86_400_000;

export type TokenExpiry =
  | { state: "no-expiry" }
  | { state: "valid"; expiresAt: string; daysLeft: number }
  | { state: "expiring"; expiresAt: string; daysLeft: number }
  | { state: "expired"; expiresAt: string };

export function tokenExpiry(expiresAt: Date | string | null | undefined, now: Date): TokenExpiry {
  if (!expiresAt) return { state: "no-expiry" };
  const end = new Date(expiresAt);
  const left = end.getTime() - now.getTime();
  const iso = end.toISOString();
  if (left <= 0) return { state: "expired", expiresAt: iso };
  const daysLeft = Math.ceil(left / DAY_MS);
  return left <= WARN_BEFORE_EXPIRY_DAYS * DAY_MS
    ? { state: "expiring", expiresAt: iso, daysLeft }
    : { state: "valid", expiresAt: iso, daysLeft };
}

const RECONNECT = "Press Connect with Meta again in Settings: it takes a minute, and you can choose the same pixel.";

/** What the merchant reads of an expiring or expired token; undefined when there is nothing to say. */
export function tokenExpiryMessage(expiry: TokenExpiry): { title: string; message: string } | undefined {
  if (expiry.state === "expired")
    return {
      title: "Your Meta connection has expired",
      message: `Meta no longer accepts the access token given when you connected with Facebook, so events are kept but not sent. ${RECONNECT}`,
    };
  if (expiry.state === "expiring")
    return {
      title: `Your Meta connection expires in ${expiry.daysLeft} day${expiry.daysLeft === 1 ? "" : "s"}`,
      message: `After that Meta refuses the events this app sends. ${RECONNECT}`,
    };
  return undefined;
}
