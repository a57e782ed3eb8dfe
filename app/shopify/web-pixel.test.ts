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
  sameSettings,
  WEB_PIXEL_SETTING_FIELDS,
  webPixelSettings,
  webPixelSettingsFor,
  webPixelSettingsSchema,
  type WebPixelState,
} from "./web-pixel";
import { DEFAULT_SETTINGS, shopEventSettingsSchema } from "../events/settings";

const BOTH = ["Purchase", "InitiateCheckout"];
const one = (pixelId: string, events = BOTH) => ({ pixelId, events });

describe("webPixelSettings", () => {
  it("is the JSON string of exactly the fields the extension's toml declares, in its order", () => {
    const toml = readFileSync(
      path.resolve(__dirname, "../../extensions/capi-relay-pixel/shopify.extension.toml"),
      "utf8",
    );
    const declared = [...toml.matchAll(/^\[settings\.fields\.([A-Za-z0-9_]+)\]/gm)].map((m) => m[1]);
    expect(WEB_PIXEL_SETTING_FIELDS).toEqual(declared);
    const url = "https://app.example.com/pixel/fired?shop=a.myshopify.com&token=t";
    const settings = JSON.parse(webPixelSettings(webPixelSettingsFor([one("123456789012345")], DEFAULT_SETTINGS, url)));
    expect(Object.keys(settings)).toEqual(declared);
    // Every field a single_line_text_field: a string on one line.
    for (const value of Object.values(settings)) expect(value).toMatch(/^[^\r\n]+$/);
    expect(settings).toEqual({
      pixelIds: "123456789012345",
      purchasePixelIds: "123456789012345",
      checkoutPixelIds: "123456789012345",
      valueMode: "total",
      contentIdSource: "variant",
      includeGiftCards: "false",
      includeTips: "false",
      sendOnlineStore: "true",
      firedIdsUrl: url,
    });
    // The report URL is optional (the toml does not require it); a bad one is refused.
    const without = webPixelSettingsFor([one("123456")], DEFAULT_SETTINGS);
    expect(JSON.parse(webPixelSettings(without))).not.toHaveProperty("firedIdsUrl");
    expect(() => webPixelSettings({ ...without, firedIdsUrl: "javascript:alert(1)" })).toThrow();
  });

  it.each([
    [
      "two pixels, both events",
      [one("111111"), one("222222")],
      {},
      { pixelIds: "111111,222222", purchasePixelIds: "111111,222222", checkoutPixelIds: "111111,222222" },
    ],
    [
      "one pixel Purchase only",
      [one("111111", ["Purchase"]), one("222222")],
      {},
      { purchasePixelIds: "111111,222222", checkoutPixelIds: "222222" },
    ],
    ["no pixel receives InitiateCheckout", [one("111111", ["Purchase"])], {}, { checkoutPixelIds: "none" }],
    [
      "subtotal, product ids, gift cards and tips in",
      [one("111111")],
      { valueMode: "subtotal", contentIdSource: "product", includeGiftCards: true, includeTips: true },
      { valueMode: "subtotal", contentIdSource: "product", includeGiftCards: "true", includeTips: "true" },
    ],
    ["online store orders skipped", [one("111111")], { sources: { web: "skip" } }, { sendOnlineStore: "false" }],
    [
      "online store orders as another action source",
      [one("111111")],
      { sources: { web: "other" } },
      { sendOnlineStore: "true" },
    ],
  ] as const)("%s", (_name, destinations, input, expected) => {
    const settings = shopEventSettingsSchema.parse(input);
    const written = JSON.parse(webPixelSettings(webPixelSettingsFor(destinations, settings)));
    expect(written).toMatchObject(expected);
    expect(webPixelSettingsSchema.parse(written)).toEqual(written);
  });

  it.each(["", "pixel", "12 34", "12345", "123456789012345678901", "123456,", "123456, 1234567"])(
    "refuses the pixel id %j",
    (input) => {
      expect(() => webPixelSettings(webPixelSettingsFor([one(input)], DEFAULT_SETTINGS))).toThrow();
    },
  );

  it("trims the pixel ids", () => {
    expect(JSON.parse(webPixelSettings(webPixelSettingsFor([one(" 123456 ")], DEFAULT_SETTINGS)))).toMatchObject({
      pixelIds: "123456",
      purchasePixelIds: "123456",
    });
  });

  it("tells settings Shopify holds that equal what the app writes", () => {
    const written = webPixelSettings(webPixelSettingsFor([one("123456")], DEFAULT_SETTINGS));
    expect(sameSettings(written, written)).toBe(true);
    expect(sameSettings(JSON.parse(written), written)).toBe(true);
    expect(sameSettings({ ...JSON.parse(written), valueMode: "subtotal" }, written)).toBe(false);
    expect(sameSettings('{"pixelIds":"123456"}', written)).toBe(false);
    expect(sameSettings("not json", written)).toBe(false);
  });
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

  it.each<[string, string | null | undefined, boolean]>([
    ["the settings written are the shop's", '{"pixelIds":"111111","valueMode":"total"}', false],
    ["the shop's settings changed since", '{"pixelIds":"111111","valueMode":"subtotal"}', true],
    ["written before settings (and the metafield) were recorded", null, true],
  ])("%s", (_name, recorded, expected) => {
    const state = { ...active, webPixelSettings: recorded };
    expect(webPixelNeedsSync(state, "111111", now, '{"pixelIds":"111111","valueMode":"total"}')).toBe(expected);
  });
});
