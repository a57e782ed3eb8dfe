// buildUserData takes shortcuts (ASCII text skips Unicode normalisation and Unicode regexps,
// only values of 64+ characters are tested for being hashes, cities/states/zips/countries/
// genders are memoised, duplicates are found without building keys). Each must give exactly
// what the plain rules give: the reference below is those rules written the slow, direct way
// (the implementation before the shortcuts), and both must agree on every generated input.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  HASHED_KEYS,
  PLAIN_KEYS,
  buildUserData,
  isSha256Hex,
  normalizeName,
  normalizeCity,
  normalizePhoneByLibrary,
  normalizeValue,
  type HashedKey,
  type MetaUserData,
  type RawValue,
  type UserDataInput,
} from "./user-data";
import { isIP } from "node:net";

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const PLACEHOLDERS = new Set(["", "null", "undefined", "none", "n/a", "na", "-", "nil"]);

function cleanReference(raw: string | number | null | undefined): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  const text = String(raw).normalize("NFC").trim();
  return PLACEHOLDERS.has(text.toLowerCase()) ? undefined : text;
}

const lettersReference = (text: string) => text.toLowerCase().replace(/[^\p{L}\p{M}]/gu, "");

function normalizeReference(key: HashedKey, text: string, country: string | null | undefined): string | undefined {
  switch (key) {
    case "fn":
    case "ln":
    case "ct":
      return lettersReference(text) || undefined;
    case "ph":
      return normalizePhoneByLibrary(text, country);
    default:
      return normalizeValue(key, text, country);
  }
}

function prepareReference(key: HashedKey, raw: RawValue | string | null | undefined): { hashed: string } | { plain: string } | undefined {
  const { value, country } = typeof raw === "object" && raw !== null ? raw : { value: raw, country: undefined };
  const text = cleanReference(value);
  if (text === undefined) return undefined;
  if (/^[a-f0-9]{64}(\.[A-Za-z0-9_-]+)?$/.test(text)) return { hashed: text };
  if (/^[a-f0-9]{64}$/.test(text.toLowerCase())) return { hashed: text.toLowerCase() };
  const normalized = normalizeReference(key, text, country);
  return normalized === undefined ? undefined : { plain: normalized };
}

function buildUserDataReference(input: UserDataInput): MetaUserData {
  const out: MetaUserData = {};
  for (const key of HASHED_KEYS) {
    const values = input[key];
    if (!values) continue;
    const plain = new Set<string>();
    const hashes = new Set<string>();
    for (const v of values) {
      const prepared = prepareReference(key, v);
      if (!prepared) continue;
      if ("hashed" in prepared) hashes.add(prepared.hashed);
      else if (!plain.has(prepared.plain)) {
        plain.add(prepared.plain);
        hashes.add(sha(prepared.plain));
      }
    }
    if (hashes.size === 1) out[key] = [...hashes][0];
    else if (hashes.size > 1) out[key] = [...hashes];
  }
  for (const key of PLAIN_KEYS) {
    const text = cleanReference(input[key]);
    if (text === undefined) continue;
    if (key === "client_ip_address" && !isIP(text)) continue;
    out[key] = text;
  }
  return out;
}

// Values as they come in orders: capitals, stray spaces, accents composed and decomposed,
// punctuation, placeholders, numbers, hashes in either case, with and without an appendix.
const HASH = sha("jane@example.com");
const TEXTS = [
  "Jane", "JANE", " jane ", "Jürgen", "Ju\u0308rgen", "O'Brien", "Müller-Lüdenscheidt", "von Bülow", "山田", "Ελένη",
  "San Francisco", "St. Louis", "Saint-Étienne", "Sai\u0301nt-E\u0301tienne", "München", "Köln", "New York", "NEW YORK",
  "CA", "ca", "US-NY", "Ontario", "Île-de-France", "Bavaria", "94103", "94110-2231", "SW1A 1AA", "M1 1AE", "H2X 1Y4", "100-0001",
  "US", "us", "United States", "USA", "Germany", "gb", "Atlantis", "F", "female", "Male", "other", "m",
  "jane.doe@example.com", " Jane.Doe@Example.COM ", "jürgen@beispiel.de", "bad@@", "x y@z.com",
  "(415) 555-0132", "+1 415 555 0132", "07700 900123", "+44 7700 900123", "030 1234567", "0612345678", "555-0132",
  "1997-02-16", "2/16/1997", "16.02.1997", "19970216",
  "", " ", "null", "NULL", "n/a", "-", "nil", "none", "undefined",
  HASH, HASH.toUpperCase(), `${HASH}.AQYBAQIA`, `${HASH} `, `${HASH.slice(0, 63)}g`, "x".repeat(70),
  "\u00a0Jane\u00a0", "a\tb", "ǅ", "İstanbul", "ß", "ﬁ",
];
const COUNTRIES = ["US", "us", "CA", "GB", "DE", "FR", "JP", "XX", "", null, undefined];
const rawValue = fc.oneof(
  fc.constantFrom<string | number | null | undefined>(...TEXTS, null, undefined, 7001, 0),
  fc.string({ maxLength: 12 }),
);
const entry = fc.oneof(
  rawValue.map((v) => (typeof v === "number" ? String(v) : v)),
  fc.record({ value: rawValue, country: fc.constantFrom(...COUNTRIES) }),
);
const input: fc.Arbitrary<UserDataInput> = fc.record(
  {
    ...Object.fromEntries(HASHED_KEYS.map((k) => [k, fc.array(entry, { maxLength: 6 })])),
    client_ip_address: fc.constantFrom("198.51.100.7", "2001:db8::1", "unknown", " 203.0.113.9 ", null, undefined),
    client_user_agent: fc.constantFrom("Mozilla/5.0", " ", "null", undefined),
    fbp: fc.constantFrom("fb.1.1763650000000.1234567890", undefined),
    fbc: fc.constantFrom("fb.1.1763650000000.IwAR2F4", undefined),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<UserDataInput>;

describe("buildUserData's shortcuts give what the plain rules give", () => {
  it("on generated customer facts (property; every input built twice, so memoised values are hit)", () => {
    fc.assert(
      fc.property(input, (facts) => {
        const expected = buildUserDataReference(facts);
        expect(buildUserData(facts)).toEqual(expected);
        expect(buildUserData(facts)).toEqual(expected);
      }),
      { numRuns: 3_000 },
    );
  });

  it("past the memo's bound: more distinct cities and zips than it keeps, in two passes", () => {
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < 10_000; i++) {
        const facts: UserDataInput = {
          ct: [{ value: `Town ${i % 2 ? "É" : "E"}${i}`, country: "FR" }],
          zp: [{ value: `${10_000 + i}-12`, country: i % 3 ? "US" : "DE" }],
          st: [{ value: i % 2 ? "CA" : "Bavaria", country: i % 2 ? "US" : "DE" }],
        };
        expect(buildUserData(facts)).toEqual(buildUserDataReference(facts));
      }
    }
  });

  it("the same raw value under another country is not taken for a duplicate", () => {
    const facts: UserDataInput = {
      st: [{ value: "CA", country: "US" }, { value: "CA", country: "FR" }],
      zp: [{ value: "94110-2231", country: "US" }, { value: "94110-2231", country: "FR" }],
      ph: [{ value: "07700 900123", country: "GB" }, { value: "07700 900123", country: "DE" }],
    };
    const ud = buildUserData(facts);
    expect(ud).toEqual(buildUserDataReference(facts));
    expect(ud.zp).toEqual([sha("94110"), sha("941102231")]);
  });
});

describe("names and cities: the ASCII shortcut and the Unicode rule agree", () => {
  it("on generated text (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.constantFrom(...TEXTS)), (text) => {
        const expected = lettersReference(text) || undefined;
        expect(normalizeName(text)).toBe(expected);
        expect(normalizeCity(text)).toBe(expected);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe("isSha256Hex: the character loop and the pattern agree", () => {
  it("on generated strings around 64 characters (property)", () => {
    const pattern = /^[a-f0-9]{64}(\.[A-Za-z0-9_-]+)?$/;
    const hexish = fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEFg.-_ \n"), minLength: 60, maxLength: 72 });
    fc.assert(
      fc.property(fc.oneof(hexish, fc.constantFrom(HASH, `${HASH}.AQYB`, `${HASH}\n`, HASH.toUpperCase())), (value) => {
        expect(isSha256Hex(value)).toBe(pattern.test(value));
      }),
      { numRuns: 20_000 },
    );
  });
});
