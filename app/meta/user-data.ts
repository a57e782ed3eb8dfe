// Normalisation and hashing of Meta `user_data`, as Meta's customer information parameters
// page prescribes. Pure: no I/O, no clock. Every function returns `undefined` for a value
// that must be omitted, because a hash of junk ("", "null", a malformed email) can never
// match a person and only lowers Event Match Quality.
import * as crypto from "node:crypto";
import { isIP } from "node:net";
import { getCountries, parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

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

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX_WITH_APPENDIX.test(value);
}

function clean(raw: string | number | null | undefined): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  // NFC so that "é" typed as e + combining accent hashes like the precomposed "é".
  const text = String(raw).normalize("NFC").trim();
  return PLACEHOLDERS.has(text.toLowerCase()) ? undefined : text;
}

function lettersOnly(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{M}]/gu, "");
}

// Pragmatic address check: one @, no spaces, a dot in the domain, a TLD of 2+ letters.
// Stricter RFC parsing rejects real addresses Shopify accepted; looser lets junk through.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)*\.[\p{L}]{2,}$/u;

export function normalizeEmail(raw: string): string | undefined {
  const email = raw.toLowerCase().replace(/\s+/g, "");
  return EMAIL.test(email) && !email.includes("..") ? email : undefined;
}

export function normalizePhone(raw: string, country?: string | null): string | undefined {
  let text = raw.replace(/[^\d+]/g, "");
  if (text.startsWith("00")) text = `+${text.slice(2)}`;
  const digitCount = text.replace(/\D/g, "").length;
  if (digitCount < 7 || digitCount > 15) return undefined;
  const region = country ? (country.toUpperCase() as CountryCode) : undefined;
  if (text.startsWith("+")) {
    const parsed = parsePhoneNumberFromString(text);
    return parsed?.isPossible() ? parsed.number.slice(1) : undefined;
  }
  if (region) {
    // The address's country supplies the calling code a national number lacks.
    const national = parsePhoneNumberFromString(text, { defaultCountry: region });
    if (national?.isPossible()) return national.number.slice(1);
  }
  // A number written with its calling code but without "+", e.g. "16505551212".
  const international = parsePhoneNumberFromString(`+${text}`);
  return international?.isValid() ? international.number.slice(1) : undefined;
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

/**
 * The normalised text to hash, or the value itself when it already is a SHA-256 (passed
 * through, never hashed twice), or undefined when the value must be omitted.
 */
function prepareValue(key: HashedKey, raw: RawValue | string | null | undefined): { hashed: string } | { plain: string } | undefined {
  const { value, country } = typeof raw === "object" && raw !== null ? raw : { value: raw, country: undefined };
  const text = clean(value);
  if (text === undefined) return undefined;
  if (SHA256_HEX_WITH_APPENDIX.test(text)) return { hashed: text };
  if (SHA256_HEX.test(text.toLowerCase())) return { hashed: text.toLowerCase() };
  const normalized = normalizeValue(key, text, country);
  return normalized === undefined ? undefined : { plain: normalized };
}

/** Normalise then hash one value; a value that already is a SHA-256 passes through untouched. */
export function hashValue(key: HashedKey, raw: RawValue | string | null | undefined): string | undefined {
  const prepared = prepareValue(key, raw);
  if (!prepared) return undefined;
  return "hashed" in prepared ? prepared.hashed : sha256Hex(prepared.plain);
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
 * plain keys passed as received.
 */
export function buildUserData(input: UserDataInput): MetaUserData {
  const out: MetaUserData = {};
  for (const key of HASHED_KEYS) {
    const values = input[key];
    if (!values) continue;
    // The same fact often appears several times (customer, billing and shipping name): each
    // distinct raw value is normalised once and each distinct normalised value hashed once.
    const seenRaw = new Set<string>();
    const plain = new Set<string>();
    const hashes = new Set<string>();
    for (const v of values) {
      const rawKey = typeof v === "object" && v !== null ? `${v.value}\u0000${v.country ?? ""}` : String(v);
      if (seenRaw.has(rawKey)) continue;
      seenRaw.add(rawKey);
      const prepared = prepareValue(key, v);
      if (!prepared) continue;
      if ("hashed" in prepared) hashes.add(prepared.hashed);
      else if (!plain.has(prepared.plain)) {
        plain.add(prepared.plain);
        hashes.add(sha256Hex(prepared.plain));
      }
    }
    if (hashes.size === 1) out[key] = hashes.values().next().value;
    else if (hashes.size > 1) out[key] = [...hashes];
  }
  for (const key of PLAIN_KEYS) {
    const value = plainValue(key, input[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
