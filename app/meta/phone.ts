// Phone numbers to E.164, fast. libphonenumber-js stays the source of truth: its metadata (the
// same min metadata its default export uses) supplies every pattern, prefix and length, and
// this module follows its parse() step by step, for the one kind of input normalizePhone
// hands it: "+" and ASCII digits only. What it adds is that each metadata pattern becomes a
// RegExp once, instead of once per use: the library compiles `new RegExp(pattern)` on every
// call, and telling a US number from a Canadian one (or a GB number from a Jersey one) runs
// several patterns of a kilobyte each. That was most of the event core's time; a full GC
// also empties V8's regexp cache, so after each one the library paid for compiling too.
//
// The library itself answers whatever this module does not cover (a "+" inside the digits,
// metadata without possible lengths), and phone.test.ts checks this module against the
// library on every country's numbers, so a library update that changes its rules fails there.
import {
  Metadata,
  parsePhoneNumberFromString,
  type CountryCode,
  type MetadataJson,
} from "libphonenumber-js/core";
import metadataJson from "libphonenumber-js/min/metadata";

/** The NumberingPlan accessors this module reads (the library's type declares only a few). */
interface PlanAccessors {
  callingCode(): string;
  IDDPrefix(): string | undefined;
  nationalNumberPattern(): string;
  possibleLengths(): number[] | undefined;
  nationalPrefixForParsing(): string | undefined;
  nationalPrefixTransformRule(): string | undefined;
  leadingDigits(): string | undefined;
  type(type: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
}

interface MetadataAccessors {
  numberingPlan?: PlanAccessors;
  selectNumberingPlan(countryOrCallingCode: string): MetadataAccessors;
  hasCountry(country: string): boolean;
  hasCallingCode(callingCode: string): boolean;
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
}

const metadata = metadataJson as MetadataJson;
const lookup = new Metadata(metadata) as unknown as MetadataAccessors;

// The library's constants (constants.js): national (significant) number length bounds.
const MIN_LENGTH_FOR_NSN = 2;
const MAX_LENGTH_FOR_NSN = 17;
const MAX_LENGTH_COUNTRY_CODE = 3;

// getNumberType()'s order: fixed line first, then NON_FIXED_LINE_PHONE_TYPES.
const NUMBER_TYPES = [
  "FIXED_LINE",
  "MOBILE",
  "PREMIUM_RATE",
  "TOLL_FREE",
  "SHARED_COST",
  "VOIP",
  "PERSONAL_NUMBER",
  "PAGER",
  "UAN",
  "VOICEMAIL",
];

/** One numbering plan with its patterns compiled exactly as the library builds them. */
interface Plan {
  callingCode: string;
  /** `new RegExp('^(?:' + nationalNumberPattern + ')$')`, as matchesEntirely() builds it */
  nationalNumber: RegExp;
  possibleLengths: number[] | undefined;
  /** `new RegExp('^(?:' + nationalPrefixForParsing + ')')` */
  prefixForParsing: RegExp | undefined;
  prefixTransformRule: string | undefined;
  /** `new RegExp(IDDPrefix)`, unanchored, as stripIddPrefix() builds it */
  idd: RegExp | undefined;
  /** `new RegExp(leadingDigits)`, as String.prototype.search() builds it */
  leadingDigits: RegExp | undefined;
  /** the types with a pattern, in getNumberType()'s order */
  types: Array<{ pattern: RegExp; possibleLengths: number[] | undefined }>;
}

const entirely = (pattern: string) => new RegExp(`^(?:${pattern})$`);

function compilePlan(plan: PlanAccessors): Plan {
  const types: Plan["types"] = [];
  for (const name of NUMBER_TYPES) {
    const type = plan.type(name);
    // isNumberTypeEqualTo(): a missing type or an empty pattern never matches.
    if (!type || !type.pattern()) continue;
    types.push({ pattern: entirely(type.pattern()), possibleLengths: type.possibleLengths() });
  }
  const prefix = plan.nationalPrefixForParsing();
  const idd = plan.IDDPrefix();
  const leading = plan.leadingDigits();
  return {
    callingCode: plan.callingCode(),
    nationalNumber: entirely(plan.nationalNumberPattern()),
    possibleLengths: plan.possibleLengths(),
    prefixForParsing: prefix ? new RegExp(`^(?:${prefix})`) : undefined,
    prefixTransformRule: plan.nationalPrefixTransformRule(),
    idd: idd ? new RegExp(idd) : undefined,
    leadingDigits: leading ? new RegExp(leading) : undefined,
    types,
  };
}

// Keyed by country ("US") or calling code ("1", "800"), like selectNumberingPlan()'s argument;
// a calling code selects its main country's plan, or a non-geographic one.
const plans = new Map<string, Plan>();
function planFor(countryOrCallingCode: string): Plan {
  let plan = plans.get(countryOrCallingCode);
  if (!plan) {
    const selected = new Metadata(metadata) as unknown as MetadataAccessors;
    plan = compilePlan(selected.selectNumberingPlan(countryOrCallingCode).numberingPlan!);
    plans.set(countryOrCallingCode, plan);
  }
  return plan;
}

type LengthCheck = "IS_POSSIBLE" | "TOO_SHORT" | "TOO_LONG" | "INVALID_LENGTH";

/** checkNumberLength() without a type. */
function checkNumberLength(nationalNumber: string, plan: Plan): LengthCheck {
  const lengths = plan.possibleLengths;
  if (!lengths) return "IS_POSSIBLE";
  const length = nationalNumber.length;
  const minimum = lengths[0]!;
  if (minimum === length) return "IS_POSSIBLE";
  if (minimum > length) return "TOO_SHORT";
  if (lengths[lengths.length - 1]! < length) return "TOO_LONG";
  return lengths.indexOf(length, 1) >= 0 ? "IS_POSSIBLE" : "INVALID_LENGTH";
}

/** getNumberType(), reduced to what getCountryByNationalNumber() asks: has it any type? */
function hasNumberType(nationalNumber: string, plan: Plan): boolean {
  if (!plan.nationalNumber.test(nationalNumber)) return false;
  for (const type of plan.types) {
    if (type.possibleLengths && type.possibleLengths.indexOf(nationalNumber.length) < 0) continue;
    if (type.pattern.test(nationalNumber)) return true;
  }
  return false;
}

/** getCountryByCallingCode() with getCountryByNationalNumber(). */
function countryByCallingCode(callingCode: string, nationalNumber: string): string | undefined {
  const countries = lookup.getCountryCodesForCallingCode(callingCode);
  if (!countries) return undefined;
  if (countries.length === 1) return countries[0];
  return detectCountry(countries, nationalNumber);
}

function detectCountry(countries: string[], nationalNumber: string): string | undefined {
  for (const country of countries) {
    const plan = planFor(country);
    if (plan.leadingDigits) {
      // Leading digits, where a country has them, decide alone (no fall-through to types).
      if (nationalNumber && nationalNumber.search(plan.leadingDigits) === 0) return country;
    } else if (hasNumberType(nationalNumber, plan)) {
      return country;
    }
  }
  return undefined;
}

/** extractNationalNumberFromPossiblyIncompleteNumber(): the national prefix (or carrier code) off. */
function stripNationalPrefix(number: string, plan: Plan): string {
  const pattern = plan.prefixForParsing;
  if (!number || !pattern) return number;
  const match = pattern.exec(number);
  if (!match) return number;
  const groups = match.length - 1;
  const hasCapturedGroups = groups > 0 && !!match[groups];
  if (plan.prefixTransformRule && hasCapturedGroups) return number.replace(pattern, plan.prefixTransformRule);
  return number.slice(match[0].length);
}

/**
 * extractNationalNumber(): strips the prefix only when what remains can still be a number.
 * When it strips, it has also found the remaining number's country; parse() asks for that same
 * country again, so it is handed back (`country` present means "already detected").
 */
function extractNationalNumber(number: string, plan: Plan): { national: string; country?: string | undefined } {
  const national = stripNationalPrefix(number, plan);
  if (national === number) return { national: number };
  // shouldHaveExtractedNationalPrefix()
  if (plan.nationalNumber.test(number) && !plan.nationalNumber.test(national)) return { national: number };
  if (!plan.possibleLengths) return { national };
  const country = countryByCallingCode(plan.callingCode, national);
  const check = checkNumberLength(national, country ? planFor(country) : plan);
  if (check === "TOO_SHORT" || check === "INVALID_LENGTH") return { national: number };
  return { national, country };
}

/** stripIddPrefix(): the digits after the region's international dialling prefix. */
function stripIddPrefix(number: string, region: string): string | undefined {
  const idd = planFor(region).idd;
  if (!idd || number.search(idd) !== 0) return undefined;
  const rest = number.slice(number.match(idd)![0].length);
  // A calling code never starts with 0.
  if (rest !== "" && rest[0] === "0") return undefined;
  return rest;
}

/** extractCountryCallingCodeFromInternationalNumberWithoutPlusSign(): "16505551212" in the US. */
function callingCodeWithoutPlus(number: string, region: string): { callingCode: string; number: string } | undefined {
  const plan = planFor(region);
  const callingCode = plan.callingCode;
  if (number.indexOf(callingCode) !== 0) return undefined;
  const shorter = number.slice(callingCode.length);
  const shorterNational = extractNationalNumber(shorter, plan).national;
  const national = extractNationalNumber(number, plan).national;
  if (
    (!plan.nationalNumber.test(national) && plan.nationalNumber.test(shorterNational)) ||
    checkNumberLength(national, plan) === "TOO_LONG"
  ) {
    return { callingCode, number: shorter };
  }
  return undefined;
}

/** extractCountryCallingCode() for "+digits" (IDD already turned into "+"). */
function callingCodeOfInternational(number: string): { callingCode: string; number: string } | undefined {
  if (number[1] === "0") return undefined;
  for (let i = 2; i - 1 <= MAX_LENGTH_COUNTRY_CODE && i <= number.length; i++) {
    const callingCode = number.slice(1, i);
    if (lookup.hasCallingCode(callingCode)) return { callingCode, number: number.slice(i) };
  }
  return undefined;
}

const PLUS_AND_DIGITS = /^\+?[0-9]+$/;

/** What the library's parse gives for a number: its E.164 form and whether it is possible. */
export interface ParsedPhone {
  number: string;
  possible: boolean;
}

/**
 * `parsePhoneNumberFromString(text, { defaultCountry })` followed by `.number` and
 * `.isPossible()`, as the library answers them; undefined where the library finds no number.
 * `text` is what normalizePhone hands over: "+" and digits. Anything else goes to the library.
 */
export function parsePhone(text: string, defaultCountry?: string): ParsedPhone | undefined {
  // Outside the inputs this module follows the library for: ask the library.
  if (!PLUS_AND_DIGITS.test(text) || text.length > 250) return viaLibrary(text, defaultCountry);
  // parsePhoneNumber(): an unsupported default country is dropped, not an error.
  const region = defaultCountry && lookup.hasCountry(defaultCountry) ? defaultCountry : undefined;
  // isViablePhoneNumber(): at least 2 characters (with 3+ digits after a "+").
  if (text.length < 2 || (text[0] === "+" && text.length < 4)) return viaLibrary(text, defaultCountry);

  let international: { callingCode: string; number: string } | undefined;
  let national: string | undefined;
  if (text[0] === "+") {
    international = callingCodeOfInternational(text);
    if (!international) return undefined;
  } else if (region) {
    const afterIdd = stripIddPrefix(text, region);
    if (afterIdd && afterIdd !== text) {
      international = callingCodeOfInternational(`+${afterIdd}`);
      if (!international) return undefined;
    } else {
      international = callingCodeWithoutPlus(text, region);
      if (!international) national = text;
    }
  } else {
    return undefined; // a national number with no country: no numbering plan to read it by
  }

  const callingCode = international ? international.callingCode : planFor(region!).callingCode;
  const plan = international ? planFor(callingCode) : planFor(region!);
  const digits = international ? international.number : national!;
  // No digits after the calling code: TOO_SHORT.
  if (!digits) return undefined;
  if (!plan.possibleLengths) return viaLibrary(text, defaultCountry);
  const extracted = extractNationalNumber(digits, plan);
  const nationalNumber = extracted.national;
  // Stripping the national prefix already found this very number's country.
  const exact = "country" in extracted ? extracted.country : countryByCallingCode(callingCode, nationalNumber);
  const country = exact ?? (international ? undefined : region);
  if (nationalNumber.length < MIN_LENGTH_FOR_NSN || nationalNumber.length > MAX_LENGTH_FOR_NSN) return undefined;
  // PhoneNumber.isPossible(): the exact country's plan, else the calling code's.
  const possiblePlan = country ? planFor(country) : planFor(callingCode);
  if (!possiblePlan.possibleLengths) return viaLibrary(text, defaultCountry);
  return {
    number: `+${callingCode}${nationalNumber}`,
    possible: checkNumberLength(nationalNumber, possiblePlan) === "IS_POSSIBLE",
  };
}

/** The library's own answer: the reference parsePhone follows, and its fallback. */
export function viaLibrary(text: string, defaultCountry?: string): ParsedPhone | undefined {
  const parsed = parsePhoneNumberFromString(
    text,
    defaultCountry ? { defaultCountry: defaultCountry as CountryCode } : {},
    metadata,
  );
  return parsed ? { number: parsed.number, possible: parsed.isPossible() } : undefined;
}

/** `.isValid()` of the library's parse: only the rare fallback path of normalizePhone asks. */
export function validPhone(text: string): string | undefined {
  const parsed = parsePhoneNumberFromString(text, {}, metadata);
  return parsed?.isValid() ? parsed.number : undefined;
}
