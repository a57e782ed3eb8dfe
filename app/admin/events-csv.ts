// The CSV export of the Events page (and `capi events --format csv`): one line per event, hashed
// data only. No IP address, user agent or raw value ever goes in: the columns are the event's
// facts, the names of the match keys it carries (never their values) and Meta's answer. Cells
// are escaped as RFC 4180 says, and a text cell a spreadsheet would run as a formula (=, +, -,
// @, tab, carriage return first) is prefixed with an apostrophe. Pure.
import { EVENT_STATE_INFO, isEventState } from "../pipeline/lifecycle";

export interface CsvEvent {
  createdAt: Date;
  eventTime: Date;
  eventName: string;
  eventId: string;
  orderName: string | null;
  state: string;
  /** The pixel's name as the merchant gave it, else its id; empty while the shop had none. */
  pixel: string;
  attempts: number;
  reasonCode: string | null;
  reason: string | null;
  fbtraceId: string | null;
  testEventCode: string | null;
  payload: unknown;
}

export const CSV_COLUMNS = [
  "created_at",
  "event_time",
  "event_name",
  "event_id",
  "order_name",
  "state",
  "state_label",
  "pixel",
  "attempts",
  "reason_code",
  "reason",
  "fbtrace_id",
  "test_event_code",
  "value",
  "currency",
  "match_keys",
] as const;

/** The buyer's IP and user agent: Meta takes them in clear, so they never leave in an export. */
const CLEAR_KEYS = new Set(["client_ip_address", "client_user_agent"]);

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: text quoted when it must be, a would-be formula made plain text. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: Array<string | number | null | undefined>): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

export const CSV_HEADER = csvLine([...CSV_COLUMNS]);

interface PayloadFacts {
  value?: number;
  currency?: string;
  matchKeys: string[];
}

function payloadFacts(payload: unknown): PayloadFacts {
  const p = payload as {
    user_data?: Record<string, unknown>;
    custom_data?: { value?: unknown; currency?: unknown };
  } | null;
  const userData = p && typeof p.user_data === "object" && p.user_data !== null ? p.user_data : {};
  const matchKeys = Object.keys(userData)
    .filter((k) => !CLEAR_KEYS.has(k) && userData[k] !== undefined && userData[k] !== "")
    .sort();
  const value = typeof p?.custom_data?.value === "number" ? p.custom_data.value : undefined;
  const currency = typeof p?.custom_data?.currency === "string" ? p.custom_data.currency : undefined;
  return { matchKeys, ...(value !== undefined ? { value } : {}), ...(currency !== undefined ? { currency } : {}) };
}

/** One event as the export's columns hold it (also `capi events --format json`). */
export type EventRecord = Record<(typeof CSV_COLUMNS)[number], string | number | null>;

export function eventRecord(e: CsvEvent): EventRecord {
  const facts = payloadFacts(e.payload);
  return {
    created_at: e.createdAt.toISOString(),
    event_time: e.eventTime.toISOString(),
    event_name: e.eventName,
    event_id: e.eventId,
    order_name: e.orderName,
    state: e.state,
    state_label: isEventState(e.state) ? EVENT_STATE_INFO[e.state].label : e.state,
    pixel: e.pixel,
    attempts: e.attempts,
    reason_code: e.reasonCode,
    reason: e.reason,
    fbtrace_id: e.fbtraceId,
    test_event_code: e.testEventCode,
    value: facts.value ?? null,
    currency: facts.currency ?? null,
    match_keys: facts.matchKeys.join(" "),
  };
}

export function csvRow(e: CsvEvent): string {
  const record = eventRecord(e);
  return csvLine(CSV_COLUMNS.map((column) => record[column]));
}

/** `capi-events-<store>-<YYYY-MM-DD>.csv`: the shop and the day of the export. */
export function csvFilename(shop: string, now: Date): string {
  const store = shop.replace(/\.myshopify\.com$/, "").replace(/[^a-z0-9-]/gi, "-");
  return `capi-events-${store}-${now.toISOString().slice(0, 10)}.csv`;
}
