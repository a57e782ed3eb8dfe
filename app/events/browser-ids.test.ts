import { describe, expect, it } from "vitest";
import { browserIds, fbclidFrom, isValidFbc, isValidFbp, parseConsent } from "./browser-ids";

const attrs = (pairs: Record<string, string | null>) => Object.entries(pairs).map(([name, value]) => ({ name, value }));
const MS = 1_795_187_730_000;

describe("fbc and fbp formats", () => {
  it.each([
    ["fb.1.1763650000000.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMs", true],
    ["fb.1.1763650000000.IwAR2F4.AQYBAQIA", true],
    ["fb.0.1763650000.abc_DEF-123", true],
    ["IwAR2F4-dbP0l7Mn1IawQQ", false],
    ["fb.1..IwAR2F4", false],
    ["fb.1.1763650000000.", false],
    ["fb.1.1763650000000.abc def", false],
  ])("fbc %s -> %s", (value, ok) => expect(isValidFbc(value)).toBe(ok));

  it.each([
    ["fb.1.1763650000000.1234567890", true],
    ["fb.2.1763650000000.1234567890.AQYBAQIA", true],
    ["GA1.2.1234567890.1763650000", false],
    ["fb.1.1763650000000.abc", false],
  ])("fbp %s -> %s", (value, ok) => expect(isValidFbp(value)).toBe(ok));
});

describe("fbclidFrom", () => {
  it.each([
    ["/?fbclid=IwAR1abcDEF_ghi-JKL&utm_campaign=bf", "IwAR1abcDEF_ghi-JKL"],
    ["https://shop.example.com/products/socks?utm_source=fb&fbclid=IwAR1abcDEF_ghi-JKL", "IwAR1abcDEF_ghi-JKL"],
    ["/products/socks?utm_source=facebook", undefined],
    ["/?fbclid=", undefined],
    ["/?fbclid=<script>", undefined],
    [null, undefined],
    // Landing pages as Shopify records them, and the ways a parameter name can be written.
    ["/", undefined],
    ["/collections/all", undefined],
    ["/products/merino-crew-socks?fbclid=IwAR123456abcDEF12345678&utm_source=facebook", "IwAR123456abcDEF12345678"],
    ["/?FBCLID=IwAR1abcDEF_ghi-JKL", undefined],
    ["/?fbcl%69d=IwAR1abcDEF_ghi-JKL", "IwAR1abcDEF_ghi-JKL"],
    ["/?fb\tclid=IwAR1abcDEF_ghi-JKL", "IwAR1abcDEF_ghi-JKL"],
    ["/?fb\nclid=IwAR1abcDEF_ghi-JKL", "IwAR1abcDEF_ghi-JKL"],
    ["https://shop.example/?a=1&fbclid=%49wAR1abcDEF_ghi-JKL", "IwAR1abcDEF_ghi-JKL"],
    ["/?fbclid=IwAR1abcDEF_ghi-JKL#fbclid=other", "IwAR1abcDEF_ghi-JKL"],
    ["/?fbclid=+IwAR1abcDEF_ghi-JKL+", "IwAR1abcDEF_ghi-JKL"],
    ["/?fbclid=IwAR1abcDEF&fbclid=IwAR2second", "IwAR1abcDEF"],
    ["http://[bad", undefined],
    ["/?fbclid=short", undefined],
    ["", undefined],
    [undefined, undefined],
  ])("%j -> %s", (landing, fbclid) => expect(fbclidFrom(landing)).toBe(fbclid));
});

describe("browserIds", () => {
  it("prefers the _fbc cookie the browser had over one built from the landing fbclid", () => {
    const ids = browserIds(attrs({ _fbp: "fb.1.1763650000000.1234567890", _fbc: "fb.1.1763650000000.IwAR2F4abc" }), "/?fbclid=IwAROTHERclick", MS);
    expect(ids).toEqual({ fbp: "fb.1.1763650000000.1234567890", fbc: "fb.1.1763650000000.IwAR2F4abc", dropped: [] });
  });
  it("builds fbc from the fbclid with the conversion's timestamp, so rebuilding gives the same value", () => {
    const first = browserIds(attrs({}), "/?fbclid=IwAR1abcDEF_ghi-JKL", MS);
    expect(first.fbc).toBe(`fb.1.${MS}.IwAR1abcDEF_ghi-JKL`);
    expect(browserIds(attrs({}), "/?fbclid=IwAR1abcDEF_ghi-JKL", MS)).toEqual(first);
  });
  it("drops malformed cookie values (Meta rejects a request for a malformed fbc) and says why", () => {
    const ids = browserIds(attrs({ _fbp: "garbage", _fbc: "IwAR2F4-not-an-fbc" }), null, MS);
    expect(ids).toEqual({
      fbp: undefined,
      fbc: undefined,
      dropped: [
        { code: "malformed_fbp", message: "malformed _fbp cart attribute" },
        { code: "malformed_fbc", message: "malformed _fbc cart attribute" },
      ],
    });
  });
  it("replaces a malformed _fbc with one built from the landing fbclid", () => {
    expect(browserIds(attrs({ _fbc: "oops" }), "/?fbclid=IwAR1abcDEF_ghi", MS).fbc).toBe(`fb.1.${MS}.IwAR1abcDEF_ghi`);
  });
});

describe("parseConsent", () => {
  it.each([
    [{ _capi_consent: "marketing=1;analytics=1;sale_of_data=1" }, { marketing: true, analytics: true, saleOfData: true }],
    [{ _capi_consent: "marketing=0;sale_of_data=0" }, { marketing: false, saleOfData: false }],
    [{ _capi_consent: "marketing=granted&analytics=denied" }, { marketing: true, analytics: false }],
    [{ _capi_consent: "marketing=maybe" }, {}],
    [{}, {}],
    // Pairs split on ";", "&" or ","; keys and values trimmed, in any case; the last pair wins.
    [{ _capi_consent: "Marketing = TRUE ; SALE_OF_DATA=denied" }, { marketing: true, saleOfData: false }],
    [{ _capi_consent: "marketing=granted&analytics=denied&sale_of_data=false" }, { marketing: true, analytics: false, saleOfData: false }],
    [{ _capi_consent: "sale_of_data=0,analytics=true" }, { saleOfData: false, analytics: true }],
    [{ _capi_consent: "\u00a0marketing\u00a0=\u00a01" }, { marketing: true }],
    [{ _capi_consent: "marketing=1,marketing=0" }, { marketing: false }],
    // In "key=value=more" the value is "value"; a pair without a key or a value says nothing.
    [{ _capi_consent: "marketing=1=0" }, { marketing: true }],
    [{ _capi_consent: "marketing==1" }, {}],
    [{ _capi_consent: "marketing;=1" }, {}],
    [{ _capi_consent: "=1;analytics=0" }, { analytics: false }],
    [{ _capi_consent: "analytics" }, {}],
    [{ _capi_consent: ";;&&,," }, {}],
    [{ _capi_consent: "marketing=yes" }, {}],
    [{ _capi_consent: "   " }, {}],
  ])("%j -> %j", (pairs, consent) => expect(parseConsent(attrs(pairs))).toEqual(consent));
});
