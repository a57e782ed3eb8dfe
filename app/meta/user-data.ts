// Normalisation and hashing of Meta `user_data`, as Meta's customer information parameters
// page prescribes. Pure: no I/O, no clock. Every function returns `undefined` for a value
// that must be omitted, because a hash of junk ("", "null", a malformed email) can never
// match a person and only lowers Event Match Quality.
import * as crypto from "node:crypto";
import { isIP } from "node:net";
import {
  getCountries,
  getCountryCallingCode,
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
  type PhoneNumber,
} from "libphonenumber-js/max";
import { cleanValue as clean, normalizeEmail } from "./contact-normalization";
import { PROVINCE_NAMES } from "./provinces";

export { normalizeEmail };

export const HASHED_KEYS = ["em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id"] as const;
export type HashedKey = (typeof HASHED_KEYS)[number];

/** Keys Meta wants exactly as received: hashing them breaks matching. */
export const PLAIN_KEYS = [
  "client_ip_address",
  "client_user_agent",
  "fbc",
  "fbp",
  "subscription_id",
  "lead_id",
] as const;
export type PlainKey = (typeof PLAIN_KEYS)[number];

/** The user_data object as sent to Meta: hashed keys hold one hash or several. */
export type MetaUserData = Partial<Record<HashedKey, string | string[]>> & Partial<Record<PlainKey, string>>;

/** A raw value plus the ISO country it belongs to (phones, states and zips depend on it). */
export interface RawValue {
  value: string | number | null | undefined;
  country?: string | null;
}

export type UserDataInput = Partial<Record<HashedKey, Array<RawValue | string | null | undefined>>> &
  Partial<Record<PlainKey, string | null | undefined>>;

const SHA256_HEX = /^[a-f0-9]{64}$/;
// A pre-hashed value is recognised and passed through, never hashed twice.
// Meta's newer libraries append ".<appendix>" to hashes; the hash part is what matters.
const SHA256_HEX_WITH_APPENDIX = /^[a-f0-9]{64}(\.[A-Za-z0-9_-]+)?$/;

export function sha256Hex(text: string): string {
  return crypto.hash("sha256", text, "hex");
}

/** 64 lowercase hex digits, optionally with Meta's ".<appendix>". */
export function isSha256Hex(value: string): boolean {
  return SHA256_HEX_WITH_APPENDIX.test(value);
}

// A letter of any script with the combining marks written after it (accents, Devanagari vowel
// signs and viramas, Hebrew points). Everything else goes: digits, spaces, punctuation, and
// emoji with the pieces they are built from. Variation selectors are combining marks too, so a
// mark counts only after a letter, and VS15/VS16 (text/emoji presentation) never; joiners,
// skin-tone modifiers, keycaps, flags and tags are no letters. "ℹ" is the one letter that is
// also a pictograph.
const LETTER_WITH_MARKS = /(?!\p{Extended_Pictographic})\p{L}(?:(?![\uFE0E\uFE0F])\p{M})*/gu;

function lettersOnly(text: string): string {
  return text.toLowerCase().match(LETTER_WITH_MARKS)?.join("") ?? "";
}

const parsePhone = (text: string, country?: CountryCode) =>
  parsePhoneNumberFromString(text, country ? { defaultCountry: country } : {});
// Digits of a phone number with its calling code: 7 or more (a shorter "possible" one is a
// fragment), 15 at most (E.164).
const E164_DIGITS = /^\d{7,15}$/;

/** E.164 without the "+", the way Meta hashes it. */
function e164(phone: PhoneNumber): string | undefined {
  const digits = phone.number.slice(1);
  return E164_DIGITS.test(digits) ? digits : undefined;
}

/**
 * E.164 without the "+", as libphonenumber-js reads the number, with its full ("max")
 * metadata: with a number's digit patterns, not only its lengths, it tells "49 1512 3456789"
 * on a German address (the calling code written without "+") from a German national number,
 * where length alone would also take "393 123 4567", an Italian mobile, for +39 3123 4567.
 *
 * Without "+" the number is read with the address's (or the shop's) country, which supplies
 * the calling code of a national number and its international dialling prefix (0011 in
 * Australia, 011 in the US, 010 in Japan...). Without a country a national number is omitted:
 * "(201) 555-0144" read as +20 1555 0144 would be a guess, and a wrong hash matches nobody.
 * "00" at the start is read as "+", the prefix of most countries.
 */
export function normalizePhone(raw: string, country?: string | null): string | undefined {
  const text = raw.replace(/[^\d+]/g, "");
  if (text.startsWith("+")) {
    const phone = parsePhone(text);
    return phone?.isPossible() ? e164(phone) : undefined;
  }
  const afterZeroZero = text.startsWith("00") ? parsePhone(`+${text.slice(2)}`) : undefined;
  const region = country?.toUpperCase();
  if (!region || !isSupportedCountry(region)) return afterZeroZero?.isPossible() ? e164(afterZeroZero) : undefined;
  // The country's own calling code written without "+", when that makes a valid number.
  if (text.startsWith(getCountryCallingCode(region))) {
    const withPlus = parsePhone(`+${text}`);
    if (withPlus?.isValid()) return e164(withPlus);
  }
  // A national number, or one after the country's international prefix.
  const national = parsePhone(text, region);
  if (national?.isPossible()) return e164(national);
  if (afterZeroZero?.isPossible()) return e164(afterZeroZero);
  // Another country's calling code without "+" (a German number on a US address).
  const withPlus = parsePhone(`+${text}`);
  return withPlus?.isValid() ? e164(withPlus) : undefined;
}

export function normalizeName(raw: string): string | undefined {
  return lettersOnly(raw) || undefined;
}

export function normalizeGender(raw: string): string | undefined {
  const g = raw.toLowerCase().replace(/[^a-z]/g, "");
  if (g === "m" || g === "male") return "m";
  if (g === "f" || g === "female") return "f";
  return undefined;
}

function isRealDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** YYYYMMDD of a moment, in UTC. */
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll("-", "");

/**
 * Accepts YYYYMMDD, YYYY-MM-DD (or with / and .), an ISO timestamp, M/D/YYYY (US order, as in
 * Meta's own example "2/16/1997") and D.M.YYYY (European order); answers YYYYMMDD. A date after
 * the day of `nowMs` (the conversion's time: nobody buys before being born) is refused.
 */
export function normalizeDateOfBirth(raw: string, nowMs: number): string | undefined {
  const text = raw.trim();
  let parts: [number, number, number] | undefined;
  const yearFirst = /^(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})(T.*)?$/.exec(text);
  const usOrder = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  const dayFirst = /^(\d{1,2})[.-](\d{1,2})[.-](\d{4})$/.exec(text);
  if (yearFirst) parts = [Number(yearFirst[1]), Number(yearFirst[2]), Number(yearFirst[3])];
  else if (usOrder) parts = [Number(usOrder[3]), Number(usOrder[1]), Number(usOrder[2])];
  else if (dayFirst) parts = [Number(dayFirst[3]), Number(dayFirst[2]), Number(dayFirst[1])];
  if (!parts || !Number.isFinite(nowMs)) return undefined;
  const [y, m, d] = parts;
  if (y < 1900 || !isRealDate(y, m, d)) return undefined;
  const date = `${y}${String(m).padStart(2, "0")}${String(d).padStart(2, "0")}`;
  return date <= dayOf(nowMs) ? date : undefined;
}

export function normalizeCity(raw: string): string | undefined {
  return lettersOnly(raw) || undefined;
}

/** A name compared without case, accents, spaces or punctuation: "Québec" and "quebec" meet. */
const nameKey = (name: string) =>
  name
    .normalize("NFD")
    .toLowerCase()
    .replace(/[^a-z]/g, "");

const PROVINCE_CODES = {
  us: new Map(PROVINCE_NAMES.us.map(([name, code]) => [nameKey(name), code])),
  ca: new Map(PROVINCE_NAMES.ca.map(([name, code]) => [nameKey(name), code])),
};

export function normalizeState(raw: string, country?: string | null): string | undefined {
  const c = country?.toLowerCase();
  if (c === "us" || c === "ca") {
    // Shopify's province_code for US/CA is already the 2-letter code; "US-CA" also occurs.
    // Without one, the province's name ("British Columbia") stands for its code.
    const code = raw
      .toLowerCase()
      .replace(/^(us|ca)-/, "")
      .replace(/[^a-z]/g, "");
    return code.length === 2 ? code : PROVINCE_CODES[c].get(nameKey(raw));
  }
  return raw.toLowerCase().replace(/[^\p{L}\p{M}\p{N}]/gu, "") || undefined;
}

export function normalizeZip(raw: string, country?: string | null): string | undefined {
  const zip = raw.toLowerCase().replace(/[\s-]/g, "");
  if (!/^[\p{L}\p{N}]{2,}$/u.test(zip)) return undefined;
  if (country?.toLowerCase() === "us") {
    const five = /^(\d{5})/.exec(zip);
    return five ? five[1] : undefined;
  }
  // UK: Meta's text asks for "area, district and sector" but its own example is the full
  // postcode ("M1 1AE" -> "m11ae"), which is also what the browser pixel sends. We follow the
  // example so that server and browser hashes agree.
  return zip;
}

// ISO 3166-1 codes: libphonenumber's countries (with XK, Kosovo, as Shopify writes it, and the
// reserved AC and TA) and the territories that have no telephone plan of their own.
const COUNTRY_CODES = [...getCountries(), "AQ", "BV", "GS", "HM", "PN", "TF", "UM"].map((c) => c.toLowerCase());
const ISO_COUNTRIES = new Set(COUNTRY_CODES);
// Aliases people write: "UK" is not an ISO code (GB is), even though it has two letters.
const COUNTRY_ALIASES: Array<[string, string]> = [
  ["uk", "gb"],
  ["usa", "us"],
  ["unitedstatesofamerica", "us"],
  ["greatbritain", "gb"],
  ["england", "gb"],
];
// English country names to ISO codes ("United States" -> "us", as in Meta's example), from the
// runtime's own region names: no list of ours to maintain.
const regionNames = new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });
const COUNTRY_BY_NAME = new Map<string, string>([
  ...COUNTRY_CODES.flatMap((code): Array<[string, string]> => {
    const english = regionNames.of(code.toUpperCase());
    return english ? [[lettersOnly(english), code]] : [];
  }),
  ...COUNTRY_ALIASES,
]);

export function normalizeCountry(raw: string): string | undefined {
  const c = raw.toLowerCase();
  if (/^[a-z]{2}$/.test(c) && ISO_COUNTRIES.has(c)) return c;
  return COUNTRY_BY_NAME.get(lettersOnly(raw));
}

export function normalizeExternalId(raw: string): string | undefined {
  return raw || undefined;
}

/**
 * The normalised (unhashed) form of one value, or undefined when it must be omitted. A birth
 * date needs `nowMs` (see normalizeDateOfBirth): without it none is sent.
 */
export function normalizeValue(
  key: HashedKey,
  raw: string,
  country?: string | null,
  nowMs?: number,
): string | undefined {
  switch (key) {
    case "em":
      return normalizeEmail(raw);
    case "ph":
      return normalizePhone(raw, country);
    case "fn":
    case "ln":
      return normalizeName(raw);
    case "ge":
      return normalizeGender(raw);
    case "db":
      return nowMs === undefined ? undefined : normalizeDateOfBirth(raw, nowMs);
    case "ct":
      return normalizeCity(raw);
    case "st":
      return normalizeState(raw, country);
    case "zp":
      return normalizeZip(raw, country);
    case "country":
      return normalizeCountry(raw);
    case "external_id":
      return normalizeExternalId(raw);
  }
}

/**
 * Normalise then hash one value; a value that already is a SHA-256 passes through untouched
 * (lowercased when it was written in capitals). `nowMs` as for normalizeValue.
 */
export function hashValue(
  key: HashedKey,
  raw: RawValue | string | null | undefined,
  nowMs?: number,
): string | undefined {
  const { value, country } = typeof raw === "object" && raw !== null ? raw : { value: raw, country: undefined };
  const text = clean(value);
  if (text === undefined) return undefined;
  if (isSha256Hex(text)) return text;
  if (SHA256_HEX.test(text.toLowerCase())) return text.toLowerCase();
  const normalized = normalizeValue(key, text, country, nowMs);
  return normalized === undefined ? undefined : sha256Hex(normalized);
}

function plainValue(key: PlainKey, raw: string | null | undefined): string | undefined {
  const text = clean(raw);
  if (text === undefined) return undefined;
  if (key === "client_ip_address") return isIP(text) ? text : undefined;
  return text;
}

/**
 * Builds Meta's user_data from raw customer facts: each hashed key normalised, hashed and
 * de-duplicated (one string, or an array when the customer has several distinct values),
 * plain keys passed as received. `nowMs` is the moment the facts are judged at: the
 * conversion's time, so that building the same order twice gives the same user_data.
 */
export function buildUserData(input: UserDataInput, nowMs: number): MetaUserData {
  const out: MetaUserData = {};
  for (const key of HASHED_KEYS) {
    // The same fact often appears several times (customer, billing and shipping phone): each
    // distinct raw value (with its country) is read once, and equal hashes are one value.
    const seen: string[] = [];
    const hashes: string[] = [];
    for (const raw of input[key] ?? []) {
      const fact = typeof raw === "object" && raw !== null ? `${raw.country ?? ""}\u0000${raw.value}` : `\u0000${raw}`;
      if (seen.includes(fact)) continue;
      seen.push(fact);
      const hash = hashValue(key, raw, nowMs);
      if (hash !== undefined && !hashes.includes(hash)) hashes.push(hash);
    }
    if (hashes.length > 0) out[key] = hashes.length === 1 ? hashes[0] : hashes;
  }
  for (const key of PLAIN_KEYS) {
    const value = plainValue(key, input[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
