// When the app's offline Admin API token must be renewed before background work uses it, and
// what Shopify's refusal to renew it means. Pure: the shell (offline-token.server.ts) reads the
// stored session, asks here, and calls Shopify. Expiring offline tokens live 60 minutes and
// come with a refresh token (90 days); a token stored before the app asked for expiring ones
// has no expiry and is traded once for an expiring pair (Shopify's migration exchange).

/**
 * A token closer than this to its expiry is renewed before use: a reconciliation run reads
 * several pages, and renewing first is cheaper than meeting a 401 halfway. Shopify's library
 * renews within 5 minutes; this is wider so that background work never leaves it the job.
 */
export const OFFLINE_TOKEN_REFRESH_MARGIN_MS = 10 * 60_000;

/** What is stored of a shop's offline session, without the secrets. */
export interface StoredOfflineToken {
  hasAccessToken: boolean;
  /** null: a non-expiring token (issued before the app asked for expiring ones). */
  expires: Date | null;
  hasRefreshToken: boolean;
  refreshTokenExpires: Date | null;
}

export type OfflineTokenPlan =
  { action: "use" } | { action: "refresh" } | { action: "migrate" } | { action: "lost"; reason: string };

export interface PlanOptions {
  marginMs?: number;
  /** Shopify answered 401 to this very token: it is renewed whatever its expiry says. */
  rejected?: boolean;
}

export function planOfflineToken(token: StoredOfflineToken, now: Date, options: PlanOptions = {}): OfflineTokenPlan {
  const margin = options.marginMs ?? OFFLINE_TOKEN_REFRESH_MARGIN_MS;
  if (token.hasAccessToken && token.expires === null) {
    // Trading needs the old token to be valid: a rejected one cannot be traded.
    return options.rejected
      ? { action: "lost", reason: "Shopify refused the app's non-expiring access token" }
      : { action: "migrate" };
  }
  const fresh = token.hasAccessToken && token.expires !== null && token.expires.getTime() - now.getTime() > margin;
  if (fresh && !options.rejected) return { action: "use" };
  if (!token.hasRefreshToken) {
    return { action: "lost", reason: "the access token expired and no refresh token is stored with it" };
  }
  if (token.refreshTokenExpires && token.refreshTokenExpires.getTime() <= now.getTime()) {
    return {
      action: "lost",
      reason: `the refresh token expired on ${token.refreshTokenExpires.toISOString()} (unused for 90 days)`,
    };
  }
  return { action: "refresh" };
}

/** Shopify's answer to a refresh or migration request that did not give a token. */
export interface GrantAnswer {
  /** HTTP status; absent when no answer came (network, timeout). */
  status?: number;
  /** OAuth's `error` field (invalid_grant, invalid_client, ...), when the body had one. */
  error?: string;
  description?: string;
}

export type GrantVerdict = { permanent: boolean; reason: string };

const REASON_MAX = 300;

/**
 * Permanent: the refresh token was revoked, expired or already spent (400 invalid_grant), or
 * the shop no longer lets the app in (401, 403: uninstalled). No retry changes these; only a
 * new token exchange, when the merchant opens the app, does. Anything else (no answer, 5xx,
 * 429, a wrong client id or secret, whatever the status, which concerns every shop alike and is
 * the operator's to fix) is tried again next run.
 */
export function grantVerdict(answer: GrantAnswer): GrantVerdict {
  const what = [answer.status, answer.error, answer.description].filter((p) => p !== undefined && p !== "").join(" ");
  const permanent =
    answer.error !== "invalid_client" &&
    (answer.status === 401 || answer.status === 403 || (answer.status === 400 && answer.error === "invalid_grant"));
  const reason = (
    answer.status === undefined
      ? "Shopify did not answer the token renewal"
      : `Shopify refused to renew the app's access token (${what})`
  ).slice(0, REASON_MAX);
  return { permanent, reason };
}

/** What the merchant and the operator read while the shop's background work is stopped. */
export function offlineAccessLostMessage(): string {
  return "The app lost its access to your store's orders, so orders whose webhook never came are not recovered. Open the app from your Shopify admin to restore it.";
}

/** Shopify answered 401 to the access token: expired early, or revoked. */
export class AccessTokenRejected extends Error {
  constructor(shop: string) {
    super(`Shopify refused the access token of ${shop} (401)`);
    this.name = "AccessTokenRejected";
  }
}

/** A refresh or migration that gave no token; `answer` says what Shopify said, if anything. */
export class GrantRefused extends Error {
  constructor(
    readonly answer: GrantAnswer,
    message: string,
  ) {
    super(message);
    this.name = "GrantRefused";
  }
}
