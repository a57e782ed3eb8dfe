// What the web pixel reports to the app about the events it fired (extensions/capi-relay-pixel,
// `firedIdsUrl`): the pure rules of the report. The browser sends event names and ids only,
// never a customer field; the app joins them with its own deliveries (dedup-health.ts).
//
// The pixel's settings carry a per-shop token, an HMAC of the shop with the app secret: the
// route recomputes it, so one shop's URL cannot report for another shop. Settings are readable
// on the storefront, so the token says "this shop's pixel settings", not "this browser is
// honest": what a forger can do is bounded by the rate limit, the ids-only body and the join
// (an id counts only when the server sent the same event).
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

/** The path of the report route (app/routes/pixel.fired.tsx). */
export const FIRED_IDS_PATH = "/pixel/fired";
/** A report holds at most this many events; the pixel sends one per event it fires. */
export const MAX_FIRED_PER_REPORT = 20;
/** Larger bodies are refused unread past this. */
export const MAX_FIRED_BODY_BYTES = 4_096;
/** Reports one shop may make per minute, all its visitors together; more are answered 429. */
export const FIRED_REPORTS_PER_MINUTE = 600;

const SHOP = /^[a-z0-9][a-z0-9-]{0,59}\.myshopify\.com$/;

/** The events the server sends too: only these can form a deduplicated pair. */
export const DEDUP_EVENT_NAMES = ["Purchase", "InitiateCheckout"] as const;

export function firedIdsToken(secret: string, shop: string): string {
  return createHmac("sha256", secret).update(`capi-relay fired ids\n${shop}`).digest("base64url").slice(0, 32);
}

/** True when `token` is the one the app gave `shop`'s pixel. Constant time. */
export function firedIdsTokenValid(secret: string, shop: string, token: string): boolean {
  const expected = Buffer.from(firedIdsToken(secret, shop));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The URL the app puts into the shop's web pixel settings. */
export function firedIdsUrl(appUrl: string, secret: string, shop: string): string {
  const url = new URL(FIRED_IDS_PATH, appUrl);
  url.searchParams.set("shop", shop);
  url.searchParams.set("token", firedIdsToken(secret, shop));
  return url.toString();
}

export const firedIdsQuerySchema = z.object({
  shop: z.string().regex(SHOP, "not a shop domain"),
  token: z.string().regex(/^[A-Za-z0-9_-]{32}$/, "not a token"),
});

/**
 * The body: `{"events":[{"name":"Purchase","id":"5531..."}]}`. Ids are Shopify order ids and
 * checkout tokens: letters, digits, `_` and `-`, never an email or a name. Anything else in
 * the body is refused rather than ignored, so no personal data is ever stored by mistake.
 */
export const firedIdsBodySchema = z
  .object({
    events: z
      .array(
        z
          .object({
            name: z.enum(DEDUP_EVENT_NAMES),
            id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "not an event id"),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_FIRED_PER_REPORT),
  })
  .strict();
export type FiredIdsReport = z.infer<typeof firedIdsBodySchema>;

export type FiredIdsParse = { ok: true; report: FiredIdsReport } | { ok: false; reason: string };

/** The report in a body's text, or why it is refused. */
export function parseFiredIds(text: string): FiredIdsParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the body is not JSON" };
  }
  const parsed = firedIdsBodySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `${issue.path.join(".") || "body"}: ${issue.message}` };
  }
  return { ok: true, report: parsed.data };
}

/** The Redis key counting a shop's reports in the minute of `now`. */
export function firedIdsRateKey(prefix: string, shop: string, now: Date): string {
  return `${prefix}:fired-ids:${shop}:${Math.floor(now.getTime() / 60_000)}`;
}
