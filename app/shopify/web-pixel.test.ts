// The web pixel's settings, Shopify's refusals in the merchant's words, and when the admin
// page has to (re)create the pixel: tables of cases, no Shopify.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  graphqlErrorsMessage,
  joinPixelIds,
  missingWebPixelScopes,
  settingsPixelIds,
  thrownMessage,
  userErrorsMessage,
  WEB_PIXEL_RETRY_MS,
  webPixelNeedsSync,
  webPixelSettings,
  type WebPixelState,
} from "./web-pixel";

describe("webPixelSettings", () => {
  it("is the JSON string of exactly the fields the extension's toml declares", () => {
    const toml = readFileSync(
      path.resolve(__dirname, "../../extensions/capi-relay-pixel/shopify.extension.toml"),
      "utf8",
    );
    const declared = [...toml.matchAll(/^\[settings\.fields\.([A-Za-z0-9_]+)\]/gm)].map((m) => m[1]);
    const settings = JSON.parse(webPixelSettings("123456789012345"));
    expect(Object.keys(settings)).toEqual(declared);
    expect(settings).toEqual({ pixelIds: "123456789012345" });
  });

  it.each([
    [" 123456789012345 ", '{"pixelIds":"123456789012345"}'],
    ["123456", '{"pixelIds":"123456"}'],
    ["123456,1234567890", '{"pixelIds":"123456,1234567890"}'],
  ])("%j gives %s", (input, json) => {
    expect(webPixelSettings(input)).toBe(json);
  });

  it.each(["", "pixel", "12 34", "12345", "123456789012345678901", "123456,", "123456, 1234567"])(
    "refuses %j",
    (input) => {
      expect(() => webPixelSettings(input)).toThrow();
    },
  );
});

describe("joinPixelIds", () => {
  it.each([
    [["123456"], "123456"],
    [["123456", " 654321 "], "123456,654321"],
    [["123456", "123456"], "123456"],
  ])("%j -> %s", (ids, joined) => {
    expect(joinPixelIds(ids)).toBe(joined);
  });
});

describe("settingsPixelIds", () => {
  it.each([
    ['{"pixelIds":"987"}', "987"],
    [{ pixelIds: "987,654" }, "987,654"],
    [{ pixelId: "987" }, undefined],
    ["not json", undefined],
    [{ accountID: "234" }, undefined],
    [null, undefined],
  ])("%j -> %j", (settings, pixelId) => {
    expect(settingsPixelIds(settings)).toBe(pixelId);
  });
});

describe("missingWebPixelScopes", () => {
  it.each([
    ["read_orders,write_pixels,read_customer_events", []],
    [" read_customer_events , write_pixels ", []],
    ["read_orders", ["write_pixels", "read_customer_events"]],
    ["read_orders,read_pixels,read_customer_events", ["write_pixels"]],
    ["write_pixels,write_customer_events", []],
    ["", ["write_pixels", "read_customer_events"]],
    [null, []],
    [undefined, []],
  ])("granted %j lacks %j", (granted, missing) => {
    expect(missingWebPixelScopes(granted)).toEqual(missing);
  });
});

describe("the merchant's messages", () => {
  it.each([
    [
      [{ code: "NO_EXTENSION", message: "No extension found." }],
      ["no usable web pixel extension", "“No extension found.”"],
    ],
    [[{ code: "INVALID_SETTINGS", message: "Settings are invalid." }], ["refused its settings", "Check the pixel ID"]],
    [[{ code: "INVALID_CONFIGURATION_JSON", message: "Bad JSON." }], ["refused its settings"]],
    [[{ code: "UNEXPECTED_ERROR", message: "Oops." }], ["tried again when you open this page", "“Oops.”"]],
    [
      [
        { code: null, message: "Something else." },
        { code: "TAKEN", message: "Taken." },
      ],
      ["Shopify refused it", "“Something else. Taken.”"],
    ],
  ])("userErrors %j", (errors, fragments) => {
    const message = userErrorsMessage(errors.map((e) => ({ ...e, field: null })));
    expect(message).toMatch(/^The storefront pixel is off/);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it.each([
    [
      [
        {
          message: "Access denied for webPixelCreate field. Required access: `write_pixels` access scope.",
          extensions: { code: "ACCESS_DENIED" },
        },
      ],
      [
        "write_pixels and read_customer_events",
        "Approve the app's updated permissions",
        "Access denied for webPixelCreate field.",
      ],
    ],
    [[{ message: "Throttled", extensions: { code: "THROTTLED" } }], ["slow down", "“Throttled”"]],
    [[{ message: "Internal error" }], ["refused the request", "“Internal error”"]],
  ])("top-level errors %j", (errors, fragments) => {
    const message = graphqlErrorsMessage(errors);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it.each([
    [new Response("", { status: 401 }), "Reload this page to sign in again"],
    [new Response("", { status: 502 }), "HTTP 502"],
    [
      new Error("getaddrinfo ENOTFOUND shop.myshopify.com"),
      "could not be reached (getaddrinfo ENOTFOUND shop.myshopify.com)",
    ],
  ])("a failed call %#", (error, fragment) => {
    expect(thrownMessage(error)).toContain(fragment);
  });
});

describe("webPixelNeedsSync", () => {
  const now = new Date("2026-11-24T12:00:00Z");
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const active: WebPixelState = {
    webPixelStatus: "active",
    webPixelPixelId: "111111",
    webPixelSyncedAt: ago(86_400_000),
    uninstalledAt: null,
  };
  it.each<[string, WebPixelState | null, string | null, boolean]>([
    ["no destination, nothing to put in the settings", null, null, false],
    ["first load after install", null, "111111", true],
    [
      "a shop row without a web pixel yet",
      { webPixelStatus: null, webPixelPixelId: null, webPixelSyncedAt: null, uninstalledAt: null },
      "111111",
      true,
    ],
    ["active with the current pixel", active, "111111", false],
    ["the Meta pixel changed since", active, "222222", true],
    ["reinstalled since the pixel was made", { ...active, uninstalledAt: ago(3_600_000) }, "111111", true],
    ["made after the last uninstall", { ...active, uninstalledAt: ago(2 * 86_400_000) }, "111111", false],
    [
      "failed a while ago",
      { ...active, webPixelStatus: "failed", webPixelSyncedAt: ago(WEB_PIXEL_RETRY_MS) },
      "111111",
      true,
    ],
    [
      "failed a moment ago (the save that just failed)",
      { ...active, webPixelStatus: "failed", webPixelSyncedAt: ago(1_000) },
      "111111",
      false,
    ],
  ])("%s", (_name, state, pixelId, expected) => {
    expect(webPixelNeedsSync(state, pixelId, now)).toBe(expected);
  });
});
