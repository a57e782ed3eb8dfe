// validateEvent trusts the page URL just built here without parsing it again: it must always be
// an absolute http(s) URL, whatever the order's URL was.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPageUrlJustBuilt, pageUrlWithoutSecrets } from "./page-url";

describe("pageUrlWithoutSecrets", () => {
  it("drops the query and fragment, keeps origin and path", () => {
    expect(pageUrlWithoutSecrets("https://shop.example/742/orders/abc/authenticate?key=secret#x", "f")).toBe("https://shop.example/742/orders/abc/authenticate");
    expect(pageUrlWithoutSecrets("ftp://shop.example/x", "https://fallback/")).toBe("https://fallback/");
    expect(pageUrlWithoutSecrets("not a url", "https://fallback/")).toBe("https://fallback/");
  });

  it("what it reports as just built parses as an absolute http(s) URL (property)", () => {
    const piece = fc.constantFrom("https://", "http://", "ftp://", "shop.example", "[::1]", ":8080", "/", "orders", "?key=1", "#f", "%2F", " ", "é", "..", "\\\\", "@", "xn--bcher-kva.example");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const built = pageUrlWithoutSecrets(pieces.join(""), "fallback");
        if (!isPageUrlJustBuilt(built)) return;
        const protocol = new URL(built).protocol;
        expect(protocol === "https:" || protocol === "http:").toBe(true);
      }),
      { numRuns: 10_000 },
    );
  });
});
