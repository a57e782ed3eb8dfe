// The checks Meta documents for each event of a request. Written independently of the app's
// own validation (app/meta/validate.ts), so that a bug there shows up here instead of being
// mirrored.
import { isIP } from "node:net";
import { invalidParameter, parameterError, SUBCODE, type MetaError } from "./errors";

export const ACTION_SOURCES = [
  "website",
  "app",
  "email",
  "phone_call",
  "chat",
  "physical_store",
  "system_generated",
  "business_messaging",
  "other",
] as const;
const ACTION_SOURCE_SET = new Set<string>(ACTION_SOURCES);

/** Keys Meta only accepts as SHA-256. */
export const HASHED_KEYS = ["em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country"] as const;

// Meta recommends hashing external_id but matches it raw too, so either form is accepted.
const CUSTOMER_KEYS = [
  ...HASHED_KEYS,
  "external_id",
  "client_ip_address",
  "client_user_agent",
  "fbc",
  "fbp",
  "subscription_id",
  "fb_login_id",
  "lead_id",
  "anon_id",
  "madid",
  "page_id",
  "page_scoped_user_id",
  "ctwa_clid",
  "ig_account_id",
  "ig_sid",
];

// Lowercase hex only: an uppercase digest is what a hand-rolled hash produces, and Meta would not
// match it. Meta's newer libraries may append ".<appendix>".
export const SHA256 = /^[0-9a-f]{64}(\.[A-Za-z0-9_-]+)?$/;
// fb.<subdomain index>.<creation time>.<fbclid>[.<appendix>]. Meta documents ms (13 digits); the
// stand-in also takes 10-12 digits because nothing shows Meta rejecting them.
export const FBC = /^fb\.\d\.\d{10,13}\.[^.\s]+(\.[A-Za-z0-9_-]+)?$/;
export const FBP = /^fb\.\d\.\d{10,13}\.\d+(\.[A-Za-z0-9_-]+)?$/;
const CURRENCY = /^[A-Za-z]{3}$/;

const DAY_S = 86_400;
const MAX_FUTURE_S = 60;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0);
}

function strings(v: unknown): string[] | undefined {
  const list = Array.isArray(v) ? v : [v];
  return list.every((s) => typeof s === "string") ? (list as string[]) : undefined;
}

function httpUrl(v: unknown): boolean {
  if (typeof v !== "string") return false;
  try {
    const url = new URL(v);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/**
 * The first reason Meta would reject this event for, or undefined when it would accept it.
 * Pure: the clock comes in as `nowMs`, so the 7/62-day window is testable.
 */
export function checkEvent(event: unknown, nowMs: number): MetaError | undefined {
  if (!isObject(event)) return parameterError("Each element of data must be an event object.");

  if (typeof event.event_name !== "string" || event.event_name.trim() === "") {
    return parameterError("The parameter event_name is required.");
  }
  if (event.event_time === undefined) return parameterError("The parameter event_time is required.");
  if (typeof event.event_time !== "number" || !Number.isInteger(event.event_time)) {
    return parameterError("The parameter event_time must be an integer Unix timestamp in seconds.");
  }
  if (event.action_source === undefined) return parameterError("The parameter action_source is required.");
  if (typeof event.action_source !== "string" || !ACTION_SOURCE_SET.has(event.action_source)) {
    return parameterError(`The parameter action_source must be one of ${ACTION_SOURCES.join(", ")}.`);
  }

  const nowS = Math.floor(nowMs / 1000);
  const maxAgeDays = event.action_source === "physical_store" ? 62 : 7;
  if (nowS - event.event_time > maxAgeDays * DAY_S) {
    return invalidParameter(
      SUBCODE.tooOld,
      "Event Timestamp Too Old",
      `The timestamp for this event is too far in the past. Events need to be sent within ${maxAgeDays} days of when they occurred.`,
    );
  }
  if (event.event_time - nowS > MAX_FUTURE_S) {
    return invalidParameter(
      SUBCODE.inFuture,
      "Event Timestamp In The Future",
      "The timestamp for this event is more than a minute in the future. event_time is in seconds, not milliseconds.",
    );
  }

  const ud = event.user_data;
  if (ud === undefined) return parameterError("The parameter user_data is required.");
  if (!isObject(ud)) return parameterError("The parameter user_data must be an object.");

  if (event.action_source === "website") {
    if (!present(event.event_source_url))
      return parameterError("The parameter event_source_url is required for website events.");
    if (!httpUrl(event.event_source_url))
      return parameterError("The parameter event_source_url must be an http(s) URL.");
    // A website event without client_user_agent is taken, and may not be used for
    // optimisation or matched as well: a degraded event, not a refused request.
  }
  if (!CUSTOMER_KEYS.some((k) => present(ud[k]))) {
    return parameterError("user_data must contain at least one customer information parameter.");
  }

  for (const key of HASHED_KEYS) {
    if (ud[key] === undefined) continue;
    const values = strings(ud[key]);
    if (!values || values.some((v) => !SHA256.test(v))) {
      return invalidParameter(
        SUBCODE.notHashed,
        "User Parameter Not Hashed",
        `The ${key} parameter isn't hashed. Hash all user parameters as SHA256, except client user agent, click ID and browser ID.`,
      );
    }
  }
  if (ud.external_id !== undefined && !strings(ud.external_id)) {
    return parameterError("The parameter user_data.external_id must be a string or an array of strings.");
  }

  if (ud.fbc !== undefined && (typeof ud.fbc !== "string" || !FBC.test(ud.fbc))) {
    return invalidParameter(
      SUBCODE.malformedFbc,
      "Invalid fbc Parameter",
      "The fbc parameter must be formatted as fb.<subdomain index>.<creation time>.<fbclid>.",
    );
  }
  if (ud.fbp !== undefined && (typeof ud.fbp !== "string" || !FBP.test(ud.fbp))) {
    return parameterError(
      "The fbp parameter must be formatted as fb.<subdomain index>.<creation time>.<random number>.",
    );
  }
  if (
    ud.client_ip_address !== undefined &&
    (typeof ud.client_ip_address !== "string" || isIP(ud.client_ip_address) === 0)
  ) {
    return parameterError("The parameter user_data.client_ip_address must be a valid IPv4 or IPv6 address.");
  }
  if (ud.client_user_agent !== undefined && typeof ud.client_user_agent !== "string") {
    return parameterError("The parameter user_data.client_user_agent must be a string.");
  }

  const cd = event.custom_data;
  if (cd !== undefined && !isObject(cd)) return parameterError("The parameter custom_data must be an object.");
  if (cd?.value !== undefined && (typeof cd.value !== "number" || !Number.isFinite(cd.value))) {
    return parameterError("The parameter custom_data.value must be a number.");
  }
  if (cd?.currency !== undefined && (typeof cd.currency !== "string" || !CURRENCY.test(cd.currency))) {
    return parameterError("The parameter custom_data.currency must be a three-letter ISO 4217 code.");
  }
  if (event.event_name === "Purchase" && (cd?.value === undefined || cd?.currency === undefined)) {
    return invalidParameter(
      SUBCODE.parameter,
      "Missing Value or Currency for Purchase Event",
      "Purchase events require custom_data.value and custom_data.currency.",
    );
  }

  if (event.data_processing_options !== undefined) {
    const dpo = event.data_processing_options;
    if (!Array.isArray(dpo) || dpo.some((o) => typeof o !== "string")) {
      return parameterError("The parameter data_processing_options must be an array of strings.");
    }
  }
  return undefined;
}
