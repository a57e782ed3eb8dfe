// Everything Meta would reject, caught before sending. Meta rejects a whole request for one
// bad event, so each event is judged on its own and only the good ones are batched.
import { isIP } from "node:net";
import { ACTION_SOURCES } from "./action-source";
import { isValidFbc, isValidFbp } from "./browser-ids";
import type { MetaEvent } from "./event";
import { HASHED_KEYS, isSha256Hex, PLAIN_KEYS } from "./user-data";

export const MAX_AGE_SECONDS = 7 * 24 * 3600;
export const MAX_AGE_PHYSICAL_STORE_SECONDS = 62 * 24 * 3600;
export const MAX_FUTURE_SECONDS = 60;

/** How long after the conversion Meta still takes its event: 7 days, 62 for a physical_store sale. */
export function maxAgeSeconds(actionSource: string | undefined): number {
  return actionSource === "physical_store" ? MAX_AGE_PHYSICAL_STORE_SECONDS : MAX_AGE_SECONDS;
}

export type InvalidCode =
  | "missing_event_name"
  | "wrong_event_name_case"
  | "missing_event_id"
  | "bad_event_time"
  | "event_too_old"
  | "event_in_future"
  | "bad_action_source"
  | "missing_event_source_url"
  | "no_customer_information"
  | "unhashed_user_data"
  | "malformed_fbc"
  | "malformed_fbp"
  | "bad_ip_address"
  | "missing_value_or_currency"
  | "bad_value"
  | "bad_currency"
  | "bad_contents";

export interface Problem {
  code: InvalidCode;
  message: string;
}

// Meta's standard events: a server event named "purchase" never deduplicates with the
// pixel's "Purchase" and is a custom event in Events Manager.
const STANDARD_EVENTS = [
  "AddPaymentInfo",
  "AddToCart",
  "AddToWishlist",
  "CompleteRegistration",
  "Contact",
  "CustomizeProduct",
  "Donate",
  "FindLocation",
  "InitiateCheckout",
  "Lead",
  "PageView",
  "Purchase",
  "Schedule",
  "Search",
  "StartTrial",
  "SubmitApplication",
  "Subscribe",
  "ViewContent",
];
const STANDARD_BY_LOWER = new Map(STANDARD_EVENTS.map((n) => [n.toLowerCase(), n]));

// Keys Meta counts as customer information; at least one must be present.
const MATCH_KEYS = [...HASHED_KEYS, ...PLAIN_KEYS] as const;

const isHash = (v: unknown) => typeof v === "string" && isSha256Hex(v);

function isAbsoluteHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/** All problems of one event; an empty list means Meta should accept it. */
export function validateEvent(event: MetaEvent, nowSeconds: number): Problem[] {
  const problems: Problem[] = [];
  const add = (code: InvalidCode, message: string) => problems.push({ code, message });

  if (!event.event_name) add("missing_event_name", "event_name is missing");
  else {
    const standard = STANDARD_BY_LOWER.get(event.event_name.toLowerCase());
    if (standard && standard !== event.event_name) {
      add(
        "wrong_event_name_case",
        `event_name "${event.event_name}" must be spelled "${standard}" to deduplicate with the pixel`,
      );
    }
  }
  if (!event.event_id) add("missing_event_id", "event_id is missing: Meta could not deduplicate it with the pixel");

  const t = event.event_time;
  if (!Number.isInteger(t) || t <= 0) add("bad_event_time", `event_time ${t} is not Unix seconds`);
  else if (t > 1e11) add("bad_event_time", `event_time ${t} looks like milliseconds; Meta wants seconds`);
  else {
    const maxAge = maxAgeSeconds(event.action_source);
    const age = nowSeconds - t;
    if (age > maxAge) {
      add(
        "event_too_old",
        `the conversion happened ${Math.floor(age / 86400)} days ago; Meta accepts at most ${maxAge / 86400} days`,
      );
    } else if (age < -MAX_FUTURE_SECONDS) {
      add("event_in_future", `event_time is ${-age} s in the future`);
    }
  }

  if (!(ACTION_SOURCES as readonly string[]).includes(event.action_source)) {
    add("bad_action_source", `action_source "${event.action_source}" is not one Meta knows`);
  }
  const ud = event.user_data ?? {};
  if (event.action_source === "website") {
    if (!event.event_source_url || !isAbsoluteHttpUrl(event.event_source_url)) {
      add("missing_event_source_url", "a website event needs an absolute event_source_url");
    }
    // Without client_user_agent Meta accepts the event and matches it less well: that is a
    // note of the building (app/events, "no_user_agent"), not a reason to refuse it.
  }

  let matchable = false;
  for (const k of MATCH_KEYS) {
    if (ud[k] !== undefined && ud[k] !== "") {
      matchable = true;
      break;
    }
  }
  if (!matchable) add("no_customer_information", "user_data holds no customer information to match on");
  for (const key of HASHED_KEYS) {
    const value = ud[key];
    if (value === undefined) continue;
    if (Array.isArray(value) ? value.length === 0 || !value.every(isHash) : !isHash(value)) {
      add("unhashed_user_data", `user_data.${key} is not a SHA-256 hash: personal data must never leave unhashed`);
    }
  }
  if (ud.fbc !== undefined && !isValidFbc(ud.fbc)) add("malformed_fbc", "user_data.fbc is not fb.1.<ms>.<fbclid>");
  if (ud.fbp !== undefined && !isValidFbp(ud.fbp)) add("malformed_fbp", "user_data.fbp is not fb.1.<ms>.<random>");
  if (ud.client_ip_address !== undefined && !isIP(ud.client_ip_address)) {
    add("bad_ip_address", "user_data.client_ip_address is not an IPv4 or IPv6 address");
  }

  const cd = event.custom_data;
  if (cd?.value !== undefined && (!Number.isFinite(cd.value) || cd.value < 0))
    add("bad_value", `custom_data.value ${cd.value} is not an amount`);
  if (cd?.currency !== undefined && !/^[A-Z]{3}$/.test(cd.currency))
    add("bad_currency", `custom_data.currency "${cd.currency}" is not ISO 4217`);
  if (event.event_name === "Purchase" && (cd?.value === undefined || cd.currency === undefined)) {
    add("missing_value_or_currency", "a Purchase needs custom_data.value and currency");
  }
  if (cd?.contents?.some((c) => !c.id || !Number.isInteger(c.quantity) || c.quantity <= 0)) {
    add("bad_contents", "every custom_data.contents entry needs an id and a positive quantity");
  }
  return problems;
}

/** Too old is not a defect of ours: the merchant sees it as "expired", not "invalid". */
export function isExpiry(problems: Problem[]): boolean {
  return problems.length > 0 && problems.every((p) => p.code === "event_too_old");
}
