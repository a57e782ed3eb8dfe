import { createHash } from "node:crypto";
import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  HASHED_KEYS,
  PLAIN_KEYS,
  buildUserData,
  hashValue,
  isSha256Hex,
  normalizeCity,
  normalizeName,
  normalizeValue,
  sha256Hex,
  type HashedKey,
  type UserDataInput,
} from "./user-data";
import { EMAIL_CASES } from "../../test/support/contact-vectors";

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
// The conversion's time the values are judged at (birth dates after it are refused).
const NOW_MS = Date.UTC(2026, 10, 20, 18, 40); // 2026-11-20T18:40:00Z

// [key, raw input, address country, normalised form or undefined when it must be omitted]
const normalisationCases: Array<[HashedKey, string, string | undefined, string | undefined]> = [
  // em: trim, lowercase; junk omitted
  ...EMAIL_CASES.map(([raw, expected]): [HashedKey, string, undefined, string | undefined] => [
    "em",
    raw,
    undefined,
    expected,
  ]),
  // ph: digits only, with the country calling code, no leading zeros, no "+"
  ["ph", "+1 (616) 954-7888", undefined, "16169547888"],
  ["ph", "(415) 555-0132", "US", "14155550132"],
  ["ph", "415.555.0132", "us", "14155550132"],
  ["ph", "16505551212", undefined, undefined], // no country: a calling code is not guessed
  ["ph", "16505551212", "US", "16505551212"],
  ["ph", "(201) 555-0144", undefined, undefined], // not Egypt's +20 1555 0144
  ["ph", "49 1512 3456789", "DE", "4915123456789"], // the calling code is not added twice
  ["ph", "0011 44 20 7946 0958", "AU", "442079460958"], // Australia's international prefix
  ["ph", "0021 44 20 7946 0958", "BR", "442079460958"],
  ["ph", "011 44 20 7946 0958", "US", "442079460958"],
  ["ph", "010 44 20 7946 0958", "JP", "442079460958"],
  ["ph", "030 1234567", "DE", "49301234567"],
  ["ph", "0049 30 1234567", undefined, "49301234567"],
  ["ph", "+49 30 1234567", "US", "49301234567"],
  ["ph", "06 12 34 56 78", "FR", "33612345678"],
  ["ph", "07700 900123", "GB", "447700900123"],
  ["ph", "090-1234-5678", "JP", "819012345678"],
  ["ph", "+44 7700 900123", undefined, "447700900123"],
  ["ph", "555-0132", undefined, undefined],
  ["ph", "12345", "US", undefined],
  ["ph", "call me", "US", undefined],
  ["ph", "1234567890123456789", undefined, undefined],
  // fn / ln: lowercase, no punctuation, UTF-8 letters kept
  ["fn", "Mary", undefined, "mary"],
  ["fn", "  JANE ", undefined, "jane"],
  ["fn", "Valéry", undefined, "valéry"],
  ["fn", "Vale\u0301ry", undefined, "valéry"], // decomposed accent hashes like the composed one
  ["ln", "O'Brien", undefined, "obrien"],
  ["ln", "Müller-Lüdenscheidt", undefined, "müllerlüdenscheidt"],
  ["ln", "Smith Jr.", undefined, "smithjr"],
  ["fn", "山田", undefined, "山田"],
  ["fn", "...", undefined, undefined],
  // emoji go with their variation selectors, joiners, skin tones, keycaps and flags
  ["fn", "Mary ❤️", undefined, "mary"],
  ["fn", "👩‍👩‍👧 Ann", undefined, "ann"],
  ["fn", "José 👍🏽", undefined, "josé"],
  ["fn", "Ann #️⃣", undefined, "ann"],
  ["fn", "1️⃣ Lee", undefined, "lee"],
  ["fn", "🇫🇷 Marie", undefined, "marie"],
  ["fn", "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Iain", undefined, "iain"],
  ["fn", "ℹ️ Ann", undefined, "ann"],
  ["fn", "Zoë ✌︎", undefined, "zoë"],
  ["fn", "❤️", undefined, undefined],
  // letters of every script keep their combining marks
  ["fn", "अनुराग", undefined, "अनुराग"],
  ["fn", "प्रिया", undefined, "प्रिया"],
  ["fn", "สมชาย", undefined, "สมชาย"],
  ["fn", "שָׁלוֹם", undefined, "שָׁלוֹם"],
  ["fn", "محمد", undefined, "محمد"],
  ["ln", "Nguyễn", undefined, "nguyễn"],
  ["ln", "Łódź", undefined, "łódź"],
  // ge
  ["ge", "F", undefined, "f"],
  ["ge", "female", undefined, "f"],
  ["ge", "Male", undefined, "m"],
  ["ge", "other", undefined, undefined],
  // db: YYYYMMDD
  ["db", "1997-02-16", undefined, "19970216"],
  ["db", "19970216", undefined, "19970216"],
  ["db", "1997/2/6", undefined, "19970206"],
  ["db", "1997-02-30", undefined, undefined],
  ["db", "2/16/1997", undefined, "19970216"],
  ["db", "16.02.1997", undefined, "19970216"],
  ["db", "16/02/1997", undefined, undefined],
  ["db", "1899-12-31", undefined, undefined],
  ["db", "2026-11-20", undefined, "20261120"], // the day of the conversion
  ["db", "2026-11-21", undefined, undefined], // after it: a typo or a placeholder
  ["db", "12/31/2099", undefined, undefined],
  ["db", "01.01.2030", undefined, undefined],
  // ct: lowercase, no spaces or punctuation, UTF-8 letters kept
  ["ct", "Menlo Park", undefined, "menlopark"],
  ["ct", "San Francisco", "US", "sanfrancisco"],
  ["ct", "München", "DE", "münchen"],
  ["ct", "Saint-Étienne", "FR", "saintétienne"],
  ["ct", "St. John's", "CA", "stjohns"],
  ["ct", "São Paulo 🌴", "BR", "sãopaulo"],
  ["ct", "Zürich ☀️", "CH", "zürich"],
  ["ct", "İstanbul", "TR", "i̇stanbul"],
  // st: US/CA two-letter code; elsewhere lowercase without spaces or punctuation
  ["st", "CA", "US", "ca"],
  ["st", "US-NY", "US", "ny"],
  ["st", "ON", "CA", "on"],
  // US/CA: a province name without its code stands for the code
  ["st", "California", "US", "ca"],
  ["st", "New York", "US", "ny"],
  ["st", "NEW YORK", "US", "ny"],
  ["st", "District of Columbia", "US", "dc"],
  ["st", "Puerto Rico", "US", "pr"],
  ["st", "Armed Forces Europe", "US", "ae"],
  ["st", "Québec", "CA", "qc"],
  ["st", "Quebec", "CA", "qc"],
  ["st", "British Columbia", "CA", "bc"],
  ["st", "Newfoundland and Labrador", "CA", "nl"],
  ["st", "Île-du-Prince-Édouard", "CA", "pe"],
  ["st", "Ontario", "US", undefined],
  ["st", "California", "CA", undefined],
  ["st", "Atlantis", "US", undefined],
  ["st", "Bavaria", "DE", "bavaria"],
  ["st", "Île-de-France", "FR", "îledefrance"],
  // zp: lowercase, no spaces or dashes; US first 5 digits; UK area+district+sector
  ["zp", "94103-1234", "US", "94103"],
  ["zp", "94035", "US", "94035"],
  ["zp", "9410", "US", undefined],
  ["zp", "80331", "DE", "80331"],
  ["zp", "SW1A 1AA", "GB", "sw1a1aa"],
  ["zp", "M1 1AE", "GB", "m11ae"],
  ["zp", "1016 GV", "NL", "1016gv"],
  ["zp", "K1A 0B1", "CA", "k1a0b1"],
  ["zp", "100-0001", "JP", "1000001"],
  ["zp", "1", "FR", undefined],
  // country: ISO 3166-1 alpha-2, lowercase
  ["country", "US", undefined, "us"],
  ["country", "de", undefined, "de"],
  ["country", "United States", undefined, "us"],
  ["country", "Germany", undefined, "de"],
  ["country", "USA", undefined, "us"],
  ["country", "Atlantis", undefined, undefined],
  ["country", "UK", undefined, "gb"], // an alias with two letters, not an ISO code
  ["country", "uk", undefined, "gb"],
  ["country", "GB", undefined, "gb"],
  ["country", "United Kingdom", undefined, "gb"],
  ["country", "XK", undefined, "xk"], // Kosovo, as Shopify writes it
  ["country", "AQ", undefined, "aq"], // ISO, though without a telephone plan
  ["country", "Antarctica", undefined, "aq"],
  ["country", "XX", undefined, undefined],
  ["country", "EU", undefined, undefined],
  ["country", "ZZ", undefined, undefined],
  // external_id: trimmed, stable
  ["external_id", " 7001 ", undefined, "7001"],
];

describe("normalisation, key by key", () => {
  it.each(normalisationCases)("%s %j (%s) -> %j", (key, raw, country, expected) => {
    expect(normalizeValue(key, raw.normalize("NFC").trim(), country, NOW_MS)).toBe(expected);
    expect(hashValue(key, { value: raw, country }, NOW_MS)).toBe(expected === undefined ? undefined : sha(expected));
  });
});

describe("values that must never be hashed", () => {
  it.each([[""], ["   "], ["null"], ["NULL"], ["undefined"], ["n/a"], ["None"], ["-"], ["nil"], [null], [undefined]])(
    "%j is omitted",
    (raw) => {
      for (const key of HASHED_KEYS) {
        expect(hashValue(key, raw, NOW_MS)).toBeUndefined();
      }
    },
  );

  it("passes a pre-hashed value through instead of hashing a hash", () => {
    const hash = sha("jane@example.com");
    expect(hashValue("em", hash)).toBe(hash);
    expect(hashValue("em", hash.toUpperCase())).toBe(hash);
    expect(hashValue("em", ` ${hash} `)).toBe(hash);
    expect(hashValue("ph", `${hash}.AQYBAQIA`)).toBe(`${hash}.AQYBAQIA`);
    // Not hashes: hashed like any other value (or omitted when not a valid one).
    expect(hashValue("external_id", `${hash.slice(0, 63)}g`)).toBe(sha(`${hash.slice(0, 63)}g`));
    expect(hashValue("external_id", "x".repeat(70))).toBe(sha("x".repeat(70)));
  });

  it("sends no birth date without the time to judge it at", () => {
    expect(normalizeValue("db", "1997-02-16")).toBeUndefined();
    expect(hashValue("db", "1997-02-16")).toBeUndefined();
    expect(hashValue("db", "1997-02-16", Number.NaN)).toBeUndefined();
    expect(hashValue("db", "1997-02-16", NOW_MS)).toBe(sha("19970216"));
  });
});

const HASH = sha("jane@example.com");

describe("isSha256Hex", () => {
  it.each([
    [HASH, true],
    [`${HASH}.AQYBAQIA`, true],
    [`${HASH}.AQYB_-9`, true],
    [HASH.toUpperCase(), false],
    [`${HASH}\n`, false],
    [`${HASH} `, false],
    [`${HASH}.`, false],
    [`${HASH}.a b`, false],
    [HASH.slice(0, 63), false],
    [`${HASH}0`, false],
    [`${HASH.slice(0, 63)}g`, false],
    ["", false],
  ])("%j -> %s", (value, expected) => expect(isSha256Hex(value)).toBe(expected));
});

describe("buildUserData", () => {
  it("hashes every hashed key and passes never-hash keys as received", () => {
    const ud = buildUserData(
      {
        em: ["jane@example.com"],
        ph: [{ value: "(415) 555-0132", country: "US" }],
        client_ip_address: "203.0.113.7",
        client_user_agent: "Mozilla/5.0",
        fbc: "fb.1.1763650000000.IwAR2F4",
        fbp: "fb.1.1763650000000.1234567890",
      },
      NOW_MS,
    );
    expect(ud).toEqual({
      em: sha("jane@example.com"),
      ph: sha("14155550132"),
      client_ip_address: "203.0.113.7",
      client_user_agent: "Mozilla/5.0",
      fbc: "fb.1.1763650000000.IwAR2F4",
      fbp: "fb.1.1763650000000.1234567890",
    });
  });

  it("de-duplicates several values of one key after normalisation and sends them as an array", () => {
    const ud = buildUserData(
      {
        em: ["Jane@Example.com", " jane@example.com", "jane.work@example.com", "bad@@", null],
        fn: ["Jane", "JANE"],
      },
      NOW_MS,
    );
    expect(ud.em).toEqual([sha("jane@example.com"), sha("jane.work@example.com")]);
    expect(ud.fn).toBe(sha("jane"));
  });

  it("the same raw value under another country is another value where the country matters", () => {
    const ud = buildUserData(
      {
        st: [
          { value: "CA", country: "US" },
          { value: "CA", country: "FR" },
        ],
        zp: [
          { value: "94110-2231", country: "US" },
          { value: "94110-2231", country: "FR" },
        ],
        ph: [
          { value: "07700 900123", country: "GB" },
          { value: "07700 900123", country: "DE" },
        ],
      },
      NOW_MS,
    );
    expect(ud.st).toBe(sha("ca"));
    expect(ud.zp).toEqual([sha("94110"), sha("941102231")]);
    expect(ud.ph).toEqual([sha("447700900123"), sha("497700900123")]);
  });

  it("omits keys whose every value is junk, and a client IP that is not an address", () => {
    expect(buildUserData({ em: ["", "null"], ph: ["abc"], client_ip_address: "unknown" }, NOW_MS)).toEqual({});
    expect(buildUserData({ client_ip_address: "2001:db8::1" }, NOW_MS)).toEqual({ client_ip_address: "2001:db8::1" });
    expect(buildUserData({ client_ip_address: " 203.0.113.9 " }, NOW_MS)).toEqual({ client_ip_address: "203.0.113.9" });
  });

  it("never lets a raw value through: every hashed key holds 64 hex characters", () => {
    const ud = buildUserData(
      {
        em: ["a@b.co"],
        ph: ["+16505551212"],
        fn: ["Ann"],
        ln: ["Lee"],
        ge: ["f"],
        db: ["1990-01-01"],
        ct: ["Paris"],
        st: [{ value: "IDF", country: "FR" }],
        zp: [{ value: "75001", country: "FR" }],
        country: ["FR"],
        external_id: ["42"],
      },
      NOW_MS,
    );
    for (const [key, value] of Object.entries(ud)) {
      expect(value, key).toMatch(/^[a-f0-9]{64}$/);
    }
    expect(Object.keys(ud)).toHaveLength(11);
  });

  it("refuses a birth date after the conversion", () => {
    expect(buildUserData({ db: ["2026-11-21", "1990-01-01"] }, NOW_MS)).toEqual({ db: sha("19900101") });
    expect(buildUserData({ db: ["2026-11-21"] }, NOW_MS)).toEqual({});
  });

  it("hashes UTF-8 bytes, as Meta requires", () => {
    expect(sha256Hex("valéry")).toBe(createHash("sha256").update(Buffer.from("valéry", "utf8")).digest("hex"));
  });
});

// Values as they come in orders: capitals, stray spaces, accents composed and decomposed,
// punctuation, placeholders, numbers, hashes in either case, with and without an appendix.
const TEXTS = [
  "Jane",
  "JANE",
  " jane ",
  "Jürgen",
  "Ju\u0308rgen",
  "O'Brien",
  "Müller-Lüdenscheidt",
  "von Bülow",
  "山田",
  "Ελένη",
  "San Francisco",
  "St. Louis",
  "Saint-Étienne",
  "Sai\u0301nt-E\u0301tienne",
  "München",
  "Köln",
  "New York",
  "NEW YORK",
  "CA",
  "ca",
  "US-NY",
  "Ontario",
  "Île-de-France",
  "Bavaria",
  "94103",
  "94110-2231",
  "SW1A 1AA",
  "M1 1AE",
  "H2X 1Y4",
  "100-0001",
  "US",
  "us",
  "United States",
  "USA",
  "UK",
  "Germany",
  "gb",
  "Atlantis",
  "F",
  "female",
  "Male",
  "other",
  "m",
  "jane.doe@example.com",
  " Jane.Doe@Example.COM ",
  "jürgen@beispiel.de",
  "bad@@",
  "x y@z.com",
  "(415) 555-0132",
  "+1 415 555 0132",
  "07700 900123",
  "+44 7700 900123",
  "030 1234567",
  "0612345678",
  "555-0132",
  "1997-02-16",
  "2/16/1997",
  "16.02.1997",
  "19970216",
  "2030-01-01",
  "",
  " ",
  "null",
  "NULL",
  "n/a",
  "-",
  "nil",
  "none",
  "undefined",
  HASH,
  HASH.toUpperCase(),
  `${HASH}.AQYBAQIA`,
  `${HASH} `,
  `${HASH.slice(0, 63)}g`,
  "x".repeat(70),
  "\u00a0Jane\u00a0",
  "a\tb",
  "ǅ",
  "İstanbul",
  "ß",
  "ﬁ",
  "Mary ❤️",
  "👩‍👩‍👧 Ann",
  "1️⃣",
  "अनुराग",
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
const facts: fc.Arbitrary<UserDataInput> = fc.record(
  {
    ...Object.fromEntries(HASHED_KEYS.map((k) => [k, fc.array(entry, { maxLength: 6 })])),
    client_ip_address: fc.constantFrom("198.51.100.7", "2001:db8::1", "unknown", " 203.0.113.9 ", null, undefined),
    client_user_agent: fc.constantFrom("Mozilla/5.0", " ", "null", undefined),
    fbp: fc.constantFrom("fb.1.1763650000000.1234567890", undefined),
    fbc: fc.constantFrom("fb.1.1763650000000.IwAR2F4", undefined),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<UserDataInput>;

describe("buildUserData on generated customer facts (property)", () => {
  it("each hashed key holds the distinct hashes of its values, in order; plain keys pass trimmed", () => {
    fc.assert(
      fc.property(facts, (input) => {
        const ud = buildUserData(input, NOW_MS);
        for (const key of HASHED_KEYS) {
          const expected = [
            ...new Set((input[key] ?? []).map((v) => hashValue(key, v, NOW_MS)).filter((h) => h !== undefined)),
          ];
          if (expected.length === 0) expect(ud[key], key).toBeUndefined();
          else expect(ud[key], key).toEqual(expected.length === 1 ? expected[0] : expected);
          for (const hash of [ud[key] ?? []].flat()) expect(isSha256Hex(hash), key).toBe(true);
        }
        for (const key of PLAIN_KEYS) {
          const raw = input[key]?.trim();
          const kept =
            raw && !["null", "undefined"].includes(raw) && (key !== "client_ip_address" || isIP(raw)) ? raw : undefined;
          expect(ud[key], key).toBe(kept);
        }
        // Pure: the same facts give the same user_data.
        expect(buildUserData(input, NOW_MS)).toEqual(ud);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("names and cities: letters of every script with their marks, nothing else (property)", () => {
  const LETTERS_WITH_MARKS = /^(?:\p{L}\p{M}*)+$/u;
  it("on generated text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.constantFrom(...TEXTS)), (text) => {
        const name = normalizeName(text);
        expect(normalizeCity(text)).toBe(name);
        if (name === undefined) return;
        expect(name).toMatch(LETTERS_WITH_MARKS);
        expect(name).not.toMatch(/[\uFE0E\uFE0F\p{Extended_Pictographic}]/u);
        // Text without marks or pictographs: exactly its letters, lowercased.
        if (!/[\p{M}\p{Extended_Pictographic}]/u.test(text))
          expect(name).toBe(text.toLowerCase().replace(/[^\p{L}\p{M}]/gu, ""));
      }),
      { numRuns: 20_000 },
    );
  });
});
