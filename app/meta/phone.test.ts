// Phones as Meta hashes them: digits of the E.164 number, calling code included, no "+".
// normalizePhone reads numbers with libphonenumber-js; these tests pin what it must answer for
// numbers written the ways buyers write them, and check it against the library's own example
// number of every country it knows, written nationally, internationally and after that
// country's international dialling prefix.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Metadata,
  getCountries,
  getCountryCallingCode,
  getExampleNumber,
  type CountryCode,
} from "libphonenumber-js/max";
import examples from "libphonenumber-js/examples.mobile.json";
import { PHONE_CASES } from "../../test/support/contact-vectors";
import { normalizePhone } from "./user-data";

const COUNTRIES = getCountries();

const cases = PHONE_CASES;

describe("normalizePhone", () => {
  it.each(cases)("%j (%s) -> %s", (raw, country, expected) => {
    expect(normalizePhone(raw, country)).toBe(expected);
  });
});

interface NumberingPlanPrefixes {
  IDDPrefix(): string | undefined;
  defaultIDDPrefix(): string | undefined;
}

/** A prefix that dials abroad from `country`: its preferred one, else the shortest its pattern takes. */
function internationalPrefix(country: CountryCode): string | undefined {
  const metadata = new Metadata();
  metadata.selectNumberingPlan(country);
  const plan = metadata.numberingPlan as unknown as NumberingPlanPrefixes;
  const preferred = plan.defaultIDDPrefix();
  if (preferred) return preferred;
  const pattern = plan.IDDPrefix();
  if (!pattern) return undefined;
  const entirely = new RegExp(`^(?:${pattern})$`);
  for (let length = 2; length <= 5; length++) {
    for (let n = 0; n < 10 ** length; n++) {
      const prefix = String(n).padStart(length, "0");
      if (entirely.test(prefix)) return prefix;
    }
  }
  return undefined;
}

describe("every country's example number reads as libphonenumber-js reads it", () => {
  const rows = COUNTRIES.map((country) => [country, getExampleNumber(country, examples)] as const);

  it("the library has an example for every country it knows", () => {
    expect(rows.filter(([, example]) => !example).map(([c]) => c)).toEqual([]);
    expect(rows.length).toBeGreaterThan(240);
  });

  it.each(rows.map(([country, example]) => [country, example!]))("%s", (country, example) => {
    const e164 = example.number.slice(1);
    const callingCode = getCountryCallingCode(country);
    const national = example.nationalNumber as string;
    // The national format with its country gives the library's own E.164...
    expect(example.number).toBe(`+${callingCode}${national}`);
    expect(normalizePhone(example.formatNational(), country), "national format").toBe(e164);
    expect(normalizePhone(national, country), "national significant number").toBe(e164);
    expect(normalizePhone(example.formatNational(), country.toLowerCase()), "lowercase country").toBe(e164);
    // ...and so does the international one, with or without a country.
    expect(normalizePhone(example.formatInternational(), country), "international format").toBe(e164);
    expect(normalizePhone(example.formatInternational(), undefined), "international, no country").toBe(e164);
    expect(normalizePhone(example.formatInternational(), "US"), "international, another country").toBe(e164);
    expect(normalizePhone(`00 ${callingCode} ${national}`, undefined), "00, no country").toBe(e164);
    // The calling code without "+", on an address of that country.
    expect(normalizePhone(`${callingCode} ${national}`, country), "calling code without +").toBe(e164);
    // After the country's own international dialling prefix.
    const idd = internationalPrefix(country);
    if (idd) expect(normalizePhone(`${idd} ${callingCode} ${national}`, country), `after ${idd}`).toBe(e164);
    // Without a country the national format is not guessed.
    if (!example.formatNational().replace(/\D/g, "").startsWith("00")) {
      expect(normalizePhone(example.formatNational(), undefined), "national, no country").toBeUndefined();
    }
  });
});

describe("normalizePhone on raw values as buyers type them (property)", () => {
  const separators = fc.constantFrom("", " ", "-", ".", "(", ")", "/", "+", " ext. ", "#");
  const piece = fc.oneof(
    fc.string({ unit: fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), minLength: 1, maxLength: 5 }),
    separators,
  );
  const regions = fc.constantFrom<string | null | undefined>(
    ...COUNTRIES,
    undefined,
    null,
    "us",
    "gb",
    "XX",
    "001",
    "USA",
    "",
  );

  it("answers E.164 digits (7 to 15, no leading zero) or nothing, whatever the separators", () => {
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 8 }), regions, (pieces, region) => {
        const raw = pieces.join("");
        const phone = normalizePhone(raw, region);
        // Separators other than "+" carry no meaning.
        expect(normalizePhone(raw.replace(/[^\d+]/g, ""), region)).toBe(phone);
        if (phone !== undefined) expect(phone).toMatch(/^[1-9]\d{6,14}$/);
      }),
      { numRuns: 5_000 },
    );
  });
});
