import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildUserData, hashValue, normalizeValue, sha256Hex, type HashedKey } from "./user-data";

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

// [key, raw input, address country, normalised form or undefined when it must be omitted]
const normalisationCases: Array<[HashedKey, string, string | undefined, string | undefined]> = [
  // em: trim, lowercase; junk omitted
  ["em", " Jane.Doe@Example.COM ", undefined, "jane.doe@example.com"],
  ["em", "jane+socks@example.co.uk", undefined, "jane+socks@example.co.uk"],
  ["em", "jürgen@beispiel.de", undefined, "jürgen@beispiel.de"],
  ["em", "jane.doe@@example", undefined, undefined],
  ["em", "jane.doe@example", undefined, undefined],
  ["em", "not an email", undefined, undefined],
  ["em", "jane..doe@example.com", undefined, undefined],
  ["em", "@example.com", undefined, undefined],
  // ph: digits only, with the country calling code, no leading zeros, no "+"
  ["ph", "+1 (616) 954-7888", undefined, "16169547888"],
  ["ph", "(415) 555-0132", "US", "14155550132"],
  ["ph", "415.555.0132", "us", "14155550132"],
  ["ph", "16505551212", undefined, "16505551212"],
  ["ph", "16505551212", "US", "16505551212"],
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
  // ct: lowercase, no spaces or punctuation, UTF-8 letters kept
  ["ct", "Menlo Park", undefined, "menlopark"],
  ["ct", "San Francisco", "US", "sanfrancisco"],
  ["ct", "München", "DE", "münchen"],
  ["ct", "Saint-Étienne", "FR", "saintétienne"],
  ["ct", "St. John's", "CA", "stjohns"],
  // st: US/CA two-letter code; elsewhere lowercase without spaces or punctuation
  ["st", "CA", "US", "ca"],
  ["st", "US-NY", "US", "ny"],
  ["st", "ON", "CA", "on"],
  ["st", "California", "US", undefined],
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
  // external_id: trimmed, stable
  ["external_id", " 7001 ", undefined, "7001"],
];

describe("normalisation, key by key", () => {
  it.each(normalisationCases)("%s %j (%s) -> %j", (key, raw, country, expected) => {
    expect(normalizeValue(key, raw.normalize("NFC").trim(), country)).toBe(expected);
    expect(hashValue(key, { value: raw, country })).toBe(expected === undefined ? undefined : sha(expected));
  });
});

describe("values that must never be hashed", () => {
  it.each([[""], ["   "], ["null"], ["NULL"], ["undefined"], ["n/a"], [null], [undefined]])("%j is omitted", (raw) => {
    for (const key of ["em", "ph", "fn", "ln", "ct", "zp", "external_id"] as HashedKey[]) {
      expect(hashValue(key, raw)).toBeUndefined();
    }
  });

  it("passes a pre-hashed value through instead of hashing a hash", () => {
    const hash = sha("jane@example.com");
    expect(hashValue("em", hash)).toBe(hash);
    expect(hashValue("em", hash.toUpperCase())).toBe(hash);
    expect(hashValue("ph", `${hash}.AQYBAQIA`)).toBe(`${hash}.AQYBAQIA`);
  });
});

describe("buildUserData", () => {
  it("hashes every hashed key and passes never-hash keys as received", () => {
    const ud = buildUserData({
      em: ["jane@example.com"],
      ph: [{ value: "(415) 555-0132", country: "US" }],
      client_ip_address: "203.0.113.7",
      client_user_agent: "Mozilla/5.0",
      fbc: "fb.1.1763650000000.IwAR2F4",
      fbp: "fb.1.1763650000000.1234567890",
    });
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
    const ud = buildUserData({
      em: ["Jane@Example.com", " jane@example.com", "jane.work@example.com", "bad@@", null],
      fn: ["Jane", "JANE"],
    });
    expect(ud.em).toEqual([sha("jane@example.com"), sha("jane.work@example.com")]);
    expect(ud.fn).toBe(sha("jane"));
  });

  it("omits keys whose every value is junk, and a client IP that is not an address", () => {
    expect(buildUserData({ em: ["", "null"], ph: ["abc"], client_ip_address: "unknown" })).toEqual({});
    expect(buildUserData({ client_ip_address: "2001:db8::1" })).toEqual({ client_ip_address: "2001:db8::1" });
  });

  it("never lets a raw value through: every hashed key holds 64 hex characters", () => {
    const ud = buildUserData({
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
    });
    for (const [key, value] of Object.entries(ud)) {
      expect(value, key).toMatch(/^[a-f0-9]{64}$/);
    }
    expect(Object.keys(ud)).toHaveLength(11);
  });

  it("hashes UTF-8 bytes, as Meta requires", () => {
    expect(sha256Hex("valéry")).toBe(createHash("sha256").update(Buffer.from("valéry", "utf8")).digest("hex"));
  });
});
