// The Shopify webhook fixtures (test/fixtures/shopify), loaded the one way every test loads
// them. They were recorded on 2026-11-20, and Meta refuses events older than 7 days: a test
// on the real clock gets them re-dated, every timestamp moved by one offset so that the
// event's time (processed_at ?? created_at, what the app reads) lies a few minutes before now.
// A test that pins its own clock instead loads them as recorded with RECORDED_NOW: the same
// result every day, which is what snapshots and exact event_time assertions need.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const DIR = fileURLToPath(new URL("../fixtures/shopify/", import.meta.url));

/** The clock the recorded fixtures go with: the day after their orders. */
export const RECORDED_NOW = new Date("2026-11-21T12:00:00Z");
export const RECORDED_NOW_SECONDS = RECORDED_NOW.getTime() / 1000;

export interface RedateOptions {
  /** The clock the fixture is made recent for (default: the real clock). */
  now?: Date | number;
  /**
   * How long before `now` the event's time falls. Default: five minutes, or more when the
   * payload was changed after the event (orders-paid-web: paid 47 minutes after it was
   * placed), so that no timestamp of a delivered webhook lies in the future.
   */
  ageSeconds?: number;
}
export type FixtureOptions = RedateOptions | { asRecorded: true };

const DEFAULT_AGE_SECONDS = 300;
// Quoted whole-string ISO-8601 date-times with seconds and a UTC offset, as Shopify writes them.
const TIMESTAMP = /"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"/g;

/** Every fixture's name (its file name without .json), in file-name order. */
export function shopifyFixtureNames(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => f.slice(0, -".json".length));
}

/** A fixture's payload, re-dated (default) or as recorded. */
export function shopifyFixture(name: string, options: FixtureOptions = {}): Record<string, any> {
  return JSON.parse(shopifyFixtureText(name, options));
}

/** A fixture's exact text (a raw webhook body), with only its timestamps changed when re-dated. */
export function shopifyFixtureText(name: string, options: FixtureOptions = {}): string {
  const text = readFileSync(path.join(DIR, `${name}.json`), "utf8");
  return "asRecorded" in options ? text : redate(text, options, name);
}

function redate(text: string, options: RedateOptions, name: string): string {
  const stamps = [...text.matchAll(TIMESTAMP)].map((m) => Date.parse(m[0].slice(1, -1)));
  if (stamps.length === 0) throw new Error(`fixture ${name} has no timestamp to re-date`);
  const payload = JSON.parse(text) as { processed_at?: unknown; created_at?: unknown };
  const anchorText = [payload.processed_at, payload.created_at].find((v): v is string => typeof v === "string");
  const latest = Math.max(...stamps);
  const anchor = anchorText ? Date.parse(anchorText) : latest;
  const ageMs =
    options.ageSeconds !== undefined
      ? options.ageSeconds * 1000
      : Math.max(DEFAULT_AGE_SECONDS * 1000, latest - anchor + 60_000);
  const nowMs =
    options.now === undefined ? Date.now() : typeof options.now === "number" ? options.now : options.now.getTime();
  // Whole seconds, so that a timestamp written without fractions stays without.
  const shiftMs = Math.floor((nowMs - ageMs - anchor) / 1000) * 1000;
  return text.replace(
    TIMESTAMP,
    (whole: string, fraction: string | undefined, zone: string) =>
      `"${shifted(whole.slice(1, -1), fraction, zone, shiftMs)}"`,
  );
}

/** The instant `iso` + `shiftMs`, written in iso's own UTC offset (and fraction digits). */
function shifted(iso: string, fraction: string | undefined, zone: string, shiftMs: number): string {
  const offsetMinutes =
    zone === "Z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  // toISOString of the local wall time: the instant moved by the offset, read as UTC.
  const local = new Date(Date.parse(iso) + shiftMs + offsetMinutes * 60_000).toISOString();
  const digits = fraction ? fraction.length - 1 : 0;
  const seconds = local.slice(0, 19);
  const fractionText = digits ? `.${local.slice(20, 23).padEnd(digits, "0").slice(0, digits)}` : "";
  return `${seconds}${fractionText}${zone}`;
}

const MYSHOPIFY_HOST = /^https:\/\/[a-z0-9-]+\.myshopify\.com\//i;

/**
 * The payload as shop `shop` sends it: its order status and checkout recovery links on the
 * shop's own myshopify.com host. The webhook routes bind a body to the shop of its header by
 * those links (app/shopify/webhook-binding.ts), and the fixtures were recorded on other shops.
 */
export function atShop<T extends Record<string, any>>(payload: T, shop: string): T {
  const out: Record<string, any> = { ...payload };
  for (const field of ["order_status_url", "abandoned_checkout_url"]) {
    if (typeof out[field] === "string") out[field] = out[field].replace(MYSHOPIFY_HOST, `https://${shop}/`);
  }
  return out as T;
}
