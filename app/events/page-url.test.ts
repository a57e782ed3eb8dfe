// The page URL Meta gets: origin and path of the order's page, never its access keys.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pageUrlWithoutSecrets } from "./page-url";

describe("pageUrlWithoutSecrets", () => {
  it.each([
    [
      "https://shop.example/742/orders/abc/authenticate?key=secret#x",
      "https://shop.example/742/orders/abc/authenticate",
    ],
    [
      "https://shop.example/checkouts/cn/abc/recover?key=secret&locale=en",
      "https://shop.example/checkouts/cn/abc/recover",
    ],
    ["http://shop.example:8080/orders/1", "http://shop.example:8080/orders/1"],
    ["HTTPS://Shop.Example/Orders", "https://shop.example/Orders"],
    ["ftp://shop.example/x", "https://fallback/"],
    ["javascript:alert(1)", "https://fallback/"],
    ["not a url", "https://fallback/"],
    ["/orders/1?key=secret", "https://fallback/"],
    ["", "https://fallback/"],
    [null, "https://fallback/"],
    [undefined, "https://fallback/"],
  ])("%j -> %s", (url, expected) => {
    expect(pageUrlWithoutSecrets(url, "https://fallback/")).toBe(expected);
  });

  it("builds an absolute http(s) URL without query or fragment, or answers the fallback (property)", () => {
    const piece = fc.constantFrom(
      "https://",
      "http://",
      "ftp://",
      "shop.example",
      "[::1]",
      ":8080",
      "/",
      "orders",
      "?key=1",
      "#f",
      "%2F",
      " ",
      "é",
      "..",
      "\\\\",
      "@",
      "xn--bcher-kva.example",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const built = pageUrlWithoutSecrets(pieces.join(""), "fallback");
        if (built === "fallback") return;
        const url = new URL(built);
        expect(url.protocol === "https:" || url.protocol === "http:").toBe(true);
        expect(url.search + url.hash).toBe("");
      }),
      { numRuns: 10_000 },
    );
  });
});
