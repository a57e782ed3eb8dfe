// The checks Meta documents for each event of a request. Written independently of the app's
// own validation (app/meta/validate.ts), so that a bug there is caught here.
import { isIP } from "node:net";
import { invalidParameter, type SandboxError } from "./errors";

const ACTION_SOURCES = new Set(["website", "app", "email", "phone_call", "chat", "physical_store", "system_generated", "business_messaging", "other"]);
const HASHED = ["em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country"];
const CUSTOMER_KEYS = [...HASHED, "external_id", "client_ip_address", "client_user_agent", "fbc", "fbp", "subscription_id", "lead_id", "fb_login_id", "madid", "anon_id"];
const SHA256 = /^[a-f0-9]{64}(\.[A-Za-z0-9_-]+)?$/;
const FBC = /^fb\.[0-9]\.\d{10,13}\.[^.\s]+(\.[A-Za-z0-9_-]+)?$/;
const FBP = /^fb\.[0-9]\.\d{10,13}\.\d+(\.[A-Za-z0-9_-]+)?$/;
const DAY = 86_400;

function at(index: number, text: string): string {
  return `${text} (event at index ${index})`;
}

/** The first reason Meta would reject this event for, or undefined when it would accept it. */
export function checkEvent(raw: unknown, index: number, nowMs: number): SandboxError | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return invalidParameter(2804050, "Invalid event", at(index, "Each element of data must be an event object"));
  }
  const e = raw as Record<string, any>;
  if (typeof e.event_name !== "string" || e.event_name.trim() === "") {
    return invalidParameter(2804050, "Missing event_name", at(index, "The parameter event_name is required"));
  }
  if (typeof e.event_time !== "number" || !Number.isInteger(e.event_time)) {
    return invalidParameter(2804050, "Invalid event_time", at(index, "event_time must be a Unix timestamp in seconds"));
  }
  if (!ACTION_SOURCES.has(e.action_source)) {
    return invalidParameter(2804050, "Invalid action_source", at(index, `action_source must be one of ${[...ACTION_SOURCES].join(", ")}`));
  }
  const now = Math.floor(nowMs / 1000);
  const maxAge = (e.action_source === "physical_store" ? 62 : 7) * DAY;
  if (now - e.event_time > maxAge) {
    return invalidParameter(2804003, "Event Timestamp Too Old", at(index, `The timestamp for this event is older than ${maxAge / DAY} days`));
  }
  // Meta documents no dedicated subcode for future timestamps; 2804004 is what this stand-in uses.
  if (e.event_time - now > 60) {
    return invalidParameter(2804004, "Event Timestamp In Future", at(index, "The timestamp for this event is in the future"));
  }
  const ud = e.user_data;
  if (typeof ud !== "object" || ud === null || Array.isArray(ud)) {
    return invalidParameter(2804050, "Missing user_data", at(index, "The parameter user_data is required"));
  }
  if (e.action_source === "website") {
    if (typeof e.event_source_url !== "string" || !/^https?:\/\//.test(e.event_source_url)) {
      return invalidParameter(2804050, "Missing event_source_url", at(index, "event_source_url is required for website events"));
    }
    if (typeof ud.client_user_agent !== "string" || !ud.client_user_agent) {
      return invalidParameter(2804050, "Missing client_user_agent", at(index, "client_user_agent is required for website events"));
    }
  }
  if (!CUSTOMER_KEYS.some((k) => ud[k] !== undefined && ud[k] !== null && ud[k] !== "")) {
    return invalidParameter(2804050, "Missing customer information", at(index, "user_data must contain at least one customer information parameter"));
  }
  for (const key of HASHED) {
    if (ud[key] === undefined) continue;
    const values = Array.isArray(ud[key]) ? ud[key] : [ud[key]];
    if (values.some((v: unknown) => typeof v !== "string" || !SHA256.test(v))) {
      return invalidParameter(2804016, "Unhashed user data", at(index, `user_data.${key} must be hashed with SHA-256`));
    }
  }
  if (ud.fbc !== undefined && (typeof ud.fbc !== "string" || !FBC.test(ud.fbc))) {
    return invalidParameter(2804001, "Malformed fbc", at(index, "The fbc parameter must be fb.1.<creation time>.<fbclid>"));
  }
  if (ud.fbp !== undefined && (typeof ud.fbp !== "string" || !FBP.test(ud.fbp))) {
    return invalidParameter(2804050, "Malformed fbp", at(index, "The fbp parameter must be fb.1.<creation time>.<random number>"));
  }
  if (ud.client_ip_address !== undefined && (typeof ud.client_ip_address !== "string" || !isIP(ud.client_ip_address))) {
    return invalidParameter(2804050, "Invalid client_ip_address", at(index, "client_ip_address must be a valid IPv4 or IPv6 address"));
  }
  const cd = e.custom_data;
  if (cd !== undefined && (typeof cd !== "object" || cd === null)) {
    return invalidParameter(2804050, "Invalid custom_data", at(index, "custom_data must be an object"));
  }
  if (cd?.value !== undefined && typeof cd.value !== "number") {
    return invalidParameter(2804050, "Invalid value", at(index, "custom_data.value must be a number"));
  }
  if (cd?.currency !== undefined && (typeof cd.currency !== "string" || !/^[A-Za-z]{3}$/.test(cd.currency))) {
    return invalidParameter(2804050, "Invalid currency", at(index, "custom_data.currency must be an ISO 4217 code"));
  }
  if (e.event_name === "Purchase" && (typeof cd?.value !== "number" || typeof cd?.currency !== "string")) {
    return invalidParameter(2804019, "Missing value or currency", at(index, "Purchase events require custom_data.value and custom_data.currency"));
  }
  if (e.data_processing_options !== undefined && !Array.isArray(e.data_processing_options)) {
    return invalidParameter(2804050, "Invalid data_processing_options", at(index, "data_processing_options must be an array"));
  }
  return undefined;
}
