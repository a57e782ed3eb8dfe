// fbclidFrom skips URL parsing for landing pages that cannot name an fbclid parameter, and
// parseConsent reads its pairs without splitting into arrays. The references below are the
// direct versions; both must agree on every generated input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fbclidByParsing, fbclidFrom, parseConsent, type Consent } from "./browser-ids";

describe("fbclidFrom: the shortcut and parsing agree", () => {
  it("on landing pages as Shopify records them", () => {
    for (const site of [
      "/", "/collections/all", "/products/merino-crew-socks?fbclid=IwAR123456abcDEF12345678&utm_source=facebook",
      "/?fbclid=IwAR1abcDEF_ghi-JKL", "/?FBCLID=IwAR1abcDEF_ghi-JKL", "/?fbcl%69d=IwAR1abcDEF_ghi-JKL", "/?fb\tclid=IwAR1abcDEF_ghi-JKL",
      "/?fb\nclid=IwAR1abcDEF_ghi-JKL", "https://shop.example/?a=1&fbclid=%49wAR1abcDEF_ghi-JKL", "http://[bad", "/?fbclid=short", "", null, undefined,
    ]) {
      expect(fbclidFrom(site), String(site)).toBe(fbclidByParsing(site));
    }
  });

  it("on generated landing pages (property)", () => {
    const piece = fc.constantFrom("/", "?", "&", "=", "#", "fbclid", "fbcl", "id", "%69", "%", "\t", "\n", "\r", " ", "+", "IwAR1abcDEF_ghi-JKL", "x", "https://a.example", "\\", "..");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), (pieces) => {
        const site = pieces.join("");
        expect(fbclidFrom(site)).toBe(fbclidByParsing(site));
      }),
      { numRuns: 20_000 },
    );
  });
});

function parseConsentBySplitting(raw: string): Consent {
  const consent: Consent = {};
  for (const part of raw.split(/[;&,]/)) {
    const [key, value] = part.split("=").map((s) => s.trim().toLowerCase());
    const flag = value === "1" || value === "true" || value === "granted" ? true : value === "0" || value === "false" || value === "denied" ? false : undefined;
    if (flag === undefined) continue;
    if (key === "marketing") consent.marketing = flag;
    else if (key === "analytics") consent.analytics = flag;
    else if (key === "sale_of_data") consent.saleOfData = flag;
  }
  return consent;
}

describe("parseConsent: reading pairs in place and splitting agree", () => {
  it("on generated consent records (property)", () => {
    const piece = fc.constantFrom("marketing", "analytics", "sale_of_data", "Marketing ", " SALE_OF_DATA", "=", "==", ";", "&", ",", "1", "0", "true", "FALSE", "granted", "denied", " ", "x", "\u00a0");
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), (pieces) => {
        const raw = pieces.join("");
        const attributes = [{ name: "_capi_consent", value: raw }];
        expect(parseConsent(attributes)).toEqual(raw.trim() ? parseConsentBySplitting(raw.trim()) : {});
      }),
      { numRuns: 20_000 },
    );
  });
});
