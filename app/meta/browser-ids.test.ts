import { describe, expect, it } from "vitest";
import { fbclidFrom, isValidFbc, isValidFbp } from "./browser-ids";

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
