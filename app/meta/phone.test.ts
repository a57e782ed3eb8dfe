// The fast phone path (phone.ts) must answer exactly what libphonenumber-js answers, for every
// country the library knows and for numbers written every way buyers write them. The library
// is the reference: when an update changes its rules, these tests fail until phone.ts follows.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { getCountries, getCountryCallingCode, getExampleNumber, type CountryCode, type MetadataJson } from "libphonenumber-js/core";
import examples from "libphonenumber-js/examples.mobile.json";
import metadataJson from "libphonenumber-js/min/metadata";
import { parsePhone, viaLibrary } from "./phone";
import { normalizePhone, normalizePhoneByLibrary } from "./user-data";

const metadata = metadataJson as MetadataJson;
const COUNTRIES = getCountries(metadata);
// Regions as they reach normalizePhone: ISO codes in either case, unknown and odd ones too.
const REGIONS: Array<string | undefined> = [...COUNTRIES, undefined, "us", "gb", "XX", "ZZ", "001", "U", "USA", ""];

/** Digits of each country's example number, with and without its national (trunk) prefix. */
function nationalForms(country: CountryCode): string[] {
  const example = getExampleNumber(country, examples, metadata);
  if (!example) return [];
  const national = example.formatNational().replace(/\D/g, "");
  return [...new Set([example.nationalNumber as string, national])];
}

/** The ways one number is written: national, international, IDD, no "+", truncated, too long. */
function writings(country: CountryCode): string[] {
  const callingCode = getCountryCallingCode(country, metadata);
  const out: string[] = [];
  for (const national of nationalForms(country)) {
    const significant = getExampleNumber(country, examples, metadata)!.nationalNumber as string;
    out.push(
      national,
      `+${callingCode}${significant}`,
      `+${callingCode}${national}`,
      `00${callingCode}${significant}`,
      `011${callingCode}${significant}`,
      `${callingCode}${significant}`,
      `${callingCode}${national}`,
      national.slice(0, -1),
      national.slice(0, -2),
      `${national}0`,
      `${national}12`,
      `+${callingCode}${significant.slice(0, -1)}`,
      `+${callingCode}${significant}9`,
      `+${callingCode}0${significant}`,
      `+${callingCode}1${significant}`,
    );
  }
  return out;
}

const same = (text: string, region: string | undefined) => {
  expect(parsePhone(text, region), `${text} (${region})`).toEqual(viaLibrary(text, region));
};

describe("parsePhone agrees with libphonenumber-js", () => {
  it("on every country's example number, written every way, read with its own country, its calling code's countries and none", () => {
    let compared = 0;
    for (const country of COUNTRIES) {
      const callingCode = getCountryCallingCode(country, metadata);
      // Every country sharing the calling code (US/CA/JM..., GB/GG/IM/JE...) plus a far one.
      const regions = [country, undefined, "DE", ...COUNTRIES.filter((c) => getCountryCallingCode(c, metadata) === callingCode)];
      for (const text of writings(country)) {
        for (const region of regions) {
          same(text, region);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  it("on the numbers of the unit table and the benchmark's formats", () => {
    const cases: Array<[string, string | undefined]> = [
      ["+16169547888", undefined], ["4155550132", "US"], ["16505551212", "US"], ["16505551212", undefined],
      ["0301234567", "DE"], ["+49301234567", "US"], ["0612345678", "FR"], ["07700900123", "GB"], ["+447700900123", undefined],
      ["09012345678", "JP"], ["5550132", undefined], ["5550132", "CA"], ["3102345", "CA"], ["2345678", "VI"], ["2345678", "AG"],
      ["+13102345", undefined], ["07624369230", "GB"], ["07624369230", "IM"], ["+447624369230", undefined], ["01481123456", "GG"],
      ["88005553535", "RU"], ["+78005553535", undefined], ["0111523456789", "AR"], ["+5491123456789", undefined],
      ["01112345678", "US"], ["011441234567890", "US"], ["0044207946095", "GB"], ["+80012345678", undefined], ["+0123456789", undefined],
      ["+1", undefined], ["+12", undefined], ["12", "US"], ["1", "US"], ["+999123456789", undefined], ["+1+4155550132", undefined],
      ["1234567890123456789", undefined], ["4155550132", "XX"], ["4155550132", "001"],
    ];
    for (const [text, region] of cases) same(text, region);
  });

  it("on generated digit strings in every region (property)", () => {
    const prefixes = ["", "+", "+1", "+44", "+49", "+33", "+7", "+61", "00", "011", "0", "1", "8", "44", "+0", "+800", "+290", "+599", "+262"];
    fc.assert(
      fc.property(
        fc.constantFrom(...prefixes),
        fc.string({ unit: fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), minLength: 1, maxLength: 16 }),
        fc.constantFrom(...REGIONS),
        (prefix, digits, region) => {
          expect(parsePhone(prefix + digits, region)).toEqual(viaLibrary(prefix + digits, region));
        },
      ),
      { numRuns: 30_000 },
    );
  });
});

describe("normalizePhone (fast path) agrees with normalizePhone on the library alone", () => {
  it("on raw values as buyers type them (property)", () => {
    const separators = fc.constantFrom("", " ", "-", ".", "(", ")", "/", "+", " ext. ", "#");
    const piece = fc.oneof(fc.string({ unit: fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), minLength: 1, maxLength: 5 }), separators);
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 8 }), fc.constantFrom(...REGIONS, null), (pieces, region) => {
        const raw = pieces.join("");
        expect(normalizePhone(raw, region)).toBe(normalizePhoneByLibrary(raw, region));
      }),
      { numRuns: 30_000 },
    );
  });

  it("on every country's example number, national and international", () => {
    for (const country of COUNTRIES) {
      for (const text of writings(country)) {
        for (const region of [country, country.toLowerCase(), undefined, "US", "GB"]) {
          expect(normalizePhone(text, region), `${text} (${region})`).toBe(normalizePhoneByLibrary(text, region));
        }
      }
    }
  });
});
