// Normalisation and hashing of Meta `user_data`, as Meta's customer information parameters
// page prescribes. Pure: no I/O, no clock. Every function returns `undefined` for a value
// that must be omitted, because a hash of junk ("", "null", a malformed email) can never
// match a person and only lowers Event Match Quality.
import * as crypto from "node:crypto";
import { isIP } from "node:net";
import { getCountries } from "libphonenumber-js";
import { parsePhone, validPhone, viaLibrary, type ParsedPhone } from "./phone";

export const HASHED_KEYS = [
  "em",
  "ph",
  "fn",
  "ln",
  "ge",
  "db",
  "ct",
  "st",
  "zp",
  "country",
  "external_id",
] as const;
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
export type MetaUserData = Partial<Record<HashedKey, string | string[]>> &
  Partial<Record<PlainKey, string>>;

/** A raw value plus the ISO country it belongs to (phones, states and zips depend on it). */
export interface RawValue {
  value: string | number | null | undefined;
  country?: string | null;
}

export type UserDataInput = Partial<Record<HashedKey, Array<RawValue | string | null | undefined>>> &
  Partial<Record<PlainKey, string | null | undefined>>;

const SHA256_HEX = /^[a-f0-9]{64}$/;
const SHA256_HEX_LENGTH = 64;
// A pre-hashed value is recognised and passed through, never hashed twice.
// Meta's newer libraries append ".<appendix>" to hashes; the hash part is what matters.
const SHA256_HEX_WITH_APPENDIX = /^[a-f0-9]{64}(\.[A-Za-z0-9_-]+)?$/;
const PLACEHOLDERS = new Set(["", "null", "undefined", "none", "n/a", "na", "-", "nil"]);

// One-shot hashing (Node 21.7+) costs a fraction of a createHash object per value; a webhook
// burst hashes a dozen values per event.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash;

export function sha256Hex(text: string): string {
  return oneShot ? oneShot("sha256", text, "hex") : crypto.createHash("sha256").update(text, "utf8").digest("hex");
}

/** 64 lowercase hex digits, optionally with Meta's ".<appendix>". */
export function isSha256Hex(value: string): boolean {
  // The common case, a bare hash, checked without a regexp: every event carries about ten.
  if (value.length === SHA256_HEX_LENGTH) {
    for (let i = 0; i < SHA256_HEX_LENGTH; i++) {
      const c = value.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
    }
    return true;
  }
  return SHA256_HEX_WITH_APPENDIX.test(value);
}

const NON_ASCII = /[^\x00-\x7f]/;
const LONGEST_PLACEHOLDER = 9;

function clean(raw: string | number | null | undefined): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  const string = String(raw);
  // NFC so that "é" typed as e + combining accent hashes like the precomposed "é". ASCII text
  // is already in NFC (no ASCII character composes), and most values are ASCII.
  const text = (NON_ASCII.test(string) ? string.normalize("NFC") : string).trim();
  return text.length <= LONGEST_PLACEHOLDER && PLACEHOLDERS.has(text.toLowerCase()) ? undefined : text;
}

function lettersOnly(text: string): string {
  const lower = text.toLowerCase();
  // In ASCII the letters are exactly a-z once lowercased, and there are no marks: the same
  // result as the Unicode classes, without a Unicode regexp.
  if (!NON_ASCII.test(lower)) return /[^a-z]/.test(lower) ? lower.replace(/[^a-z]/g, "") : lower;
  return lower.replace(/[^\p{L}\p{M}]/gu, "");
}

// Pragmatic address check: one @, no spaces, a dot in the domain, a TLD of 2+ letters.
// Stricter RFC parsing rejects real addresses Shopify accepted; looser lets junk through.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)*\.[\p{L}]{2,}$/u;

export function normalizeEmail(raw: string): string | undefined {
  const email = raw.toLowerCase().replace(/\s+/g, "");
  return EMAIL.test(email) && !email.includes("..") ? email : undefined;
}

/** The text normalizePhone parses: digits and "+", "00" read as "+"; undefined when no number. */
function phoneDigits(raw: string): string | undefined {
  let text = raw.replace(/[^\d+]/g, "");
  if (text.startsWith("00")) text = `+${text.slice(2)}`;
  const digitCount = text.replace(/\D/g, "").length;
  return digitCount < 7 || digitCount > 15 ? undefined : text;
}

type PhoneParser = (text: string, defaultCountry?: string) => ParsedPhone | undefined;

function normalizePhoneWith(parse: PhoneParser, raw: string, country?: string | null): string | undefined {
  const text = phoneDigits(raw);
  if (text === undefined) return undefined;
  const region = country ? country.toUpperCase() : undefined;
  if (text.startsWith("+")) {
    const parsed = parse(text);
    return parsed?.possible ? parsed.number.slice(1) : undefined;
  }
  if (region) {
    // The address's country supplies the calling code a national number lacks.
    const national = parse(text, region);
    if (national?.possible) return national.number.slice(1);
  }
  // A number written with its calling code but without "+", e.g. "16505551212".
  return validPhone(`+${text}`)?.slice(1);
}

export function normalizePhone(raw: string, country?: string | null): string | undefined {
  return normalizePhoneWith(parsePhone, raw, country);
}

/** normalizePhone with every number parsed by libphonenumber-js itself: the reference for tests. */
export function normalizePhoneByLibrary(raw: string, country?: string | null): string | undefined {
  return normalizePhoneWith(viaLibrary, raw, country);
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

/**
 * Accepts YYYYMMDD, YYYY-MM-DD (or with / and .), an ISO timestamp, M/D/YYYY (US order, as in
 * Meta's own example "2/16/1997") and D.M.YYYY (European order); answers YYYYMMDD.
 */
export function normalizeDateOfBirth(raw: string): string | undefined {
  const text = raw.trim();
  let parts: [number, number, number] | undefined;
  const yearFirst = /^(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})(T.*)?$/.exec(text);
  const usOrder = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  const dayFirst = /^(\d{1,2})[.-](\d{1,2})[.-](\d{4})$/.exec(text);
  if (yearFirst) parts = [Number(yearFirst[1]), Number(yearFirst[2]), Number(yearFirst[3])];
  else if (usOrder) parts = [Number(usOrder[3]), Number(usOrder[1]), Number(usOrder[2])];
  else if (dayFirst) parts = [Number(dayFirst[3]), Number(dayFirst[2]), Number(dayFirst[1])];
  if (!parts) return undefined;
  const [y, m, d] = parts;
  if (y < 1900 || !isRealDate(y, m, d)) return undefined;
  return `${y}${String(m).padStart(2, "0")}${String(d).padStart(2, "0")}`;
}

export function normalizeCity(raw: string): string | undefined {
  return lettersOnly(raw) || undefined;
}

const TWO_LETTER_STATE_COUNTRIES = new Set(["us", "ca"]);

export function normalizeState(raw: string, country?: string | null): string | undefined {
  const c = country?.toLowerCase();
  if (c && TWO_LETTER_STATE_COUNTRIES.has(c)) {
    // Shopify's province_code for US/CA is already the 2-letter code; "US-CA" also occurs.
    const code = raw.toLowerCase().replace(/^(us|ca)-/, "").replace(/[^a-z]/g, "");
    return code.length === 2 ? code : undefined;
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

// English country names to ISO codes ("United States" -> "us", as in Meta's example), built
// once from the runtime's own region names: no list of ours to maintain.
let countryNames: Map<string, string> | undefined;
function countryByName(name: string): string | undefined {
  if (!countryNames) {
    countryNames = new Map();
    const names = new Intl.DisplayNames(["en"], { type: "region" });
    for (const code of getCountries()) {
      const english = names.of(code);
      if (english) countryNames.set(lettersOnly(english), code.toLowerCase());
    }
    for (const [alias, code] of [["usa", "us"], ["unitedstatesofamerica", "us"], ["uk", "gb"], ["greatbritain", "gb"], ["england", "gb"]]) {
      countryNames.set(alias!, code!);
    }
  }
  return countryNames.get(lettersOnly(name));
}

export function normalizeCountry(raw: string): string | undefined {
  const c = raw.toLowerCase();
  if (/^[a-z]{2}$/.test(c)) return c;
  return countryByName(raw);
}

export function normalizeExternalId(raw: string): string | undefined {
  return raw || undefined;
}

/** The normalised (unhashed) form of one value, or undefined when it must be omitted. */
export function normalizeValue(key: HashedKey, raw: string, country?: string | null): string | undefined {
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
      return normalizeDateOfBirth(raw);
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

/** A cleaned value that already is a SHA-256 (passed through, never hashed twice), as sent. */
function preHashed(text: string): string | undefined {
  // Only a value of 64+ characters can be one: most values skip both patterns.
  if (text.length < SHA256_HEX_LENGTH) return undefined;
  if (SHA256_HEX_WITH_APPENDIX.test(text)) return text;
  const lower = text.toLowerCase();
  return SHA256_HEX.test(lower) ? lower : undefined;
}

/** The hash to send for one cleaned value, or undefined when the value must be omitted. */
function hashOfClean(key: HashedKey, text: string, country: string | null | undefined): string | undefined {
  const hashed = preHashed(text);
  if (hashed !== undefined) return hashed;
  const normalized = normalizeValue(key, text, country);
  return normalized === undefined ? undefined : sha256Hex(normalized);
}

// Cities, states, zips, countries and genders repeat from order to order (a shop's buyers live
// in a few thousand places), and their normalisation is pure: the hash of each cleaned value is
// kept, in a map emptied whenever it reaches its bound. Only these keys: emails, phones and
// names are nearly unique per buyer, so keeping them would only hold personal data longer.
const MEMO_LIMIT = 4096;
type Memo = Map<string, string | null>;
const memo = {
  ct: new Map() as Memo,
  country: new Map() as Memo,
  ge: new Map() as Memo,
  // A state's or zip's normalisation depends on its country, but only as far as these classes.
  stTwoLetter: new Map() as Memo,
  stOther: new Map() as Memo,
  zpUs: new Map() as Memo,
  zpOther: new Map() as Memo,
};

function memoFor(key: HashedKey, country: string | null | undefined): Memo | undefined {
  switch (key) {
    case "ct":
    case "country":
    case "ge":
      return memo[key];
    case "st":
      return country && TWO_LETTER_STATE_COUNTRIES.has(country.toLowerCase()) ? memo.stTwoLetter : memo.stOther;
    case "zp":
      return country?.toLowerCase() === "us" ? memo.zpUs : memo.zpOther;
    default:
      return undefined;
  }
}

function memoised(known: Memo, key: HashedKey, text: string, country: string | null | undefined): string | undefined {
  const hit = known.get(text);
  if (hit !== undefined) return hit ?? undefined;
  const hash = hashOfClean(key, text, country);
  if (known.size >= MEMO_LIMIT) known.clear();
  known.set(text, hash ?? null);
  return hash;
}

/** Normalise then hash one value; a value that already is a SHA-256 passes through untouched. */
export function hashValue(key: HashedKey, raw: RawValue | string | null | undefined): string | undefined {
  const { value, country } = typeof raw === "object" && raw !== null ? raw : { value: raw, country: undefined };
  const text = clean(value);
  return text === undefined ? undefined : hashOfClean(key, text, country);
}

function plainValue(key: PlainKey, raw: string | null | undefined): string | undefined {
  const text = clean(raw);
  if (text === undefined) return undefined;
  if (key === "client_ip_address") return isIP(text) ? text : undefined;
  return text;
}

const valueOf = (v: RawValue | string | null | undefined) => (typeof v === "object" && v !== null ? v.value : v);
const countryOf = (v: RawValue | string | null | undefined) => (typeof v === "object" && v !== null ? v.country : undefined);

/** An earlier entry of the list holds the same raw value for the same country. */
function seenBefore(values: Array<RawValue | string | null | undefined>, index: number): boolean {
  const value = valueOf(values[index]);
  const country = countryOf(values[index]) ?? undefined;
  for (let i = 0; i < index; i++) {
    if (valueOf(values[i]) === value && (countryOf(values[i]) ?? undefined) === country) return true;
  }
  return false;
}

/**
 * Builds Meta's user_data from raw customer facts: each hashed key normalised, hashed and
 * de-duplicated (one string, or an array when the customer has several distinct values),
 * plain keys passed as received.
 */
export function buildUserData(input: UserDataInput): MetaUserData {
  const out: MetaUserData = {};
  for (const key of HASHED_KEYS) {
    const values = input[key];
    if (!values) continue;
    // The same fact often appears several times (customer, billing and shipping name): a raw
    // value met before is skipped, a normalised text met before is not hashed again, and equal
    // hashes are one value.
    let hashes: string[] | undefined;
    let plains: string[] | undefined;
    for (let i = 0; i < values.length; i++) {
      const value = valueOf(values[i]);
      if (value === null || value === undefined || seenBefore(values, i)) continue;
      const text = clean(value);
      if (text === undefined) continue;
      const country = countryOf(values[i]);
      const known = memoFor(key, country);
      let hash: string | undefined;
      if (known) hash = memoised(known, key, text, country);
      else {
        hash = preHashed(text);
        if (hash === undefined) {
          const normalized = normalizeValue(key, text, country);
          if (normalized === undefined || plains?.includes(normalized)) continue;
          (plains ??= []).push(normalized);
          hash = sha256Hex(normalized);
        }
      }
      if (hash === undefined) continue;
      if (!hashes) hashes = [hash];
      else if (!hashes.includes(hash)) hashes.push(hash);
    }
    if (hashes) out[key] = hashes.length === 1 ? hashes[0] : hashes;
  }
  for (const key of PLAIN_KEYS) {
    const value = plainValue(key, input[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
