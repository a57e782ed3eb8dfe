import { describe, expect, it } from "vitest";
import { browserIds, embedPixelNotes, parseConsent } from "./browser-ids";

const attrs = (pairs: Record<string, string | null>) => Object.entries(pairs).map(([name, value]) => ({ name, value }));
const MS = 1_795_187_730_000;

describe("browserIds", () => {
  it("prefers the _fbc cookie the browser had over one built from the landing fbclid", () => {
    const ids = browserIds(
      attrs({ _fbp: "fb.1.1763650000000.1234567890", _fbc: "fb.1.1763650000000.IwAR2F4abc" }),
      "/?fbclid=IwAROTHERclick",
      MS,
    );
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
    [
      { _capi_consent: "marketing=1;analytics=1;sale_of_data=1" },
      { marketing: true, analytics: true, saleOfData: true },
    ],
    [{ _capi_consent: "marketing=0;sale_of_data=0" }, { marketing: false, saleOfData: false }],
    [{ _capi_consent: "marketing=granted&analytics=denied" }, { marketing: true, analytics: false }],
    [{ _capi_consent: "marketing=maybe" }, {}],
    [{}, {}],
    // Pairs split on ";", "&" or ","; keys and values trimmed, in any case; the last pair wins.
    [{ _capi_consent: "Marketing = TRUE ; SALE_OF_DATA=denied" }, { marketing: true, saleOfData: false }],
    [
      { _capi_consent: "marketing=granted&analytics=denied&sale_of_data=false" },
      { marketing: true, analytics: false, saleOfData: false },
    ],
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

describe("embedPixelNotes", () => {
  it.each<[string, Record<string, string | null>, string[] | null]>([
    ["no attribute: the embed fired the app's pixels", {}, null],
    ["empty (the override was cleared)", { _capi_pixels: "" }, null],
    ["one pixel from the theme's own field", { _capi_pixels: "123456789012" }, ["123456789012"]],
    ["two, spaces around", { _capi_pixels: " 123456789012 , 987654321098" }, ["123456789012", "987654321098"]],
    [
      "anything but pixel ids is left out",
      { _capi_pixels: "123456789012,<script>,jane@example.com" },
      ["123456789012"],
    ],
    ["nothing usable", { _capi_pixels: "pixel" }, null],
  ])("%s", (_name, pairs, ids) => {
    const notes = embedPixelNotes(attrs(pairs));
    if (!ids) return expect(notes).toEqual([]);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.code).toBe("embed_pixel_override");
    expect(notes[0]!.message).toContain(`Meta pixel ${ids.join(", ")} from its own`);
    expect(notes[0]!.message).not.toMatch(/script|jane/);
  });

  it("keeps at most 10 ids", () => {
    const many = Array.from({ length: 15 }, (_, i) => String(100000000000 + i)).join(",");
    const [note] = embedPixelNotes(attrs({ _capi_pixels: many }));
    expect(note!.message.match(/\d{12}/g)).toHaveLength(10);
  });
});
