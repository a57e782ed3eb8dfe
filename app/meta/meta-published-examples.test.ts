// Meta's own normalisation examples (Customer Information Parameters and fbp/fbc pages),
// recorded in test/fixtures/meta with their sources. Where Meta prints a hash, ours must equal it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fbcFromClickId, fbclidFrom, isValidFbc, isValidFbp } from "./browser-ids";
import { buildUserData, HASHED_KEYS, hashValue, normalizeValue, type HashedKey } from "./user-data";

interface Example {
  key: string;
  input: string;
  normalized: string;
  sha256: string | null;
  hashing: "required" | "do_not_hash";
  note?: string;
}
const examples: Example[] = JSON.parse(
  readFileSync(path.resolve(__dirname, "../../test/fixtures/meta/published-normalization-examples.json"), "utf8"),
);
const isHashed = (e: Example) => (HASHED_KEYS as readonly string[]).includes(e.key) && e.hashing === "required";
// Meta labels its phone example "US phone number": the country comes from the address.
const countryFor = (e: Example) => (e.key === "ph" || e.key === "zp" ? "US" : undefined);
// Birth dates are judged at the conversion's time; any day after Meta's examples will do.
const NOW_MS = Date.UTC(2026, 10, 20);

describe("Meta's published normalisation examples", () => {
  it("the fixture holds Meta's examples, seven of them with hashes", () => {
    expect(examples.filter((e) => e.sha256).length).toBeGreaterThanOrEqual(7);
  });

  it.each(examples.filter((e) => isHashed(e) && e.sha256).map((e) => [e.key, e.input, e] as const))(
    "%s %j hashes to Meta's published value",
    (_key, _input, e) => {
      expect(hashValue(e.key as HashedKey, { value: e.input, country: countryFor(e) }, NOW_MS)).toBe(e.sha256);
    },
  );

  it.each(examples.filter(isHashed).map((e) => [e.key, e.input, e] as const))(
    "%s %j normalises as Meta shows",
    (_key, _input, e) => {
      const country =
        e.key === "zp" && e.normalized === "m11ae"
          ? "GB"
          : e.key === "zp" && e.normalized === "1987"
            ? "AU"
            : countryFor(e);
      expect(normalizeValue(e.key as HashedKey, e.input, country, NOW_MS)).toBe(e.normalized);
    },
  );

  it.each(
    examples
      .filter((e) => e.hashing === "do_not_hash" && !e.input.startsWith("http"))
      .map((e) => [e.key, e.input] as const),
  )("%s %j is passed through unhashed", (key, input) => {
    const ud = buildUserData({ [key]: input }, NOW_MS);
    expect(ud[key as keyof typeof ud]).toBe(input);
    if (key === "fbc") expect(isValidFbc(input)).toBe(true);
    if (key === "fbp") expect(isValidFbp(input)).toBe(true);
  });

  it("builds fbc from a landing URL's fbclid exactly as Meta's example", () => {
    const example = examples.find((e) => e.key === "fbc" && e.input.startsWith("http"))!;
    const ms = Number(example.normalized.split(".")[2]);
    expect(fbcFromClickId(fbclidFrom(example.input)!, ms)).toBe(example.normalized);
  });
});
