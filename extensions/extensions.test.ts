// Tests of the two app extensions against the server's own code: the cart attributes the theme
// embed writes must read back through app/events/browser-ids.ts, and the web pixel's event ids
// must equal the server events' event_id for the same order / checkout (Meta's deduplication).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { getCountries, getCountryCallingCode, getExampleNumber } from "libphonenumber-js/max";
import phoneMetadata from "libphonenumber-js/metadata.max.json";
import examples from "libphonenumber-js/examples.mobile.json";
import { Liquid } from "liquidjs";
import { describe, expect, it } from "vitest";
import { CART_ATTRIBUTE, browserIds, noteAttribute, parseConsent, type Consent } from "../app/events/browser-ids";
import type { BuildOutcome } from "../app/events/outcome";
import { prepareEvent } from "../app/events/prepare";
import { consentDecision } from "../app/events/consent";
import { DEFAULT_SETTINGS } from "../app/events/settings";
import { CALLING_CODE_LIST } from "../app/meta/contact-normalization";
import { hashValue, normalizePhone } from "../app/meta/user-data";
import { EMAIL_CASES, PHONE_CASES } from "../test/support/contact-vectors";
import { isValidFbc, isValidFbp } from "../app/meta/browser-ids";
import { PIXEL_ID_PATTERN } from "../app/meta/pixel-id";
import { RECORDED_NOW_SECONDS, shopifyFixture } from "../test/support/fixtures";
import { hashedMatch, matchValues, sha256Hex } from "./capi-relay-pixel/src/advanced-matching.js";
import {
  SENT_MAX,
  addToCartCall,
  isPixelId,
  checkoutParams,
  initiateCheckoutCall,
  parseSent,
  pixelConsent,
  pixelRequest,
  purchaseCall,
  purchaseEventId,
  recordSent,
  sentKey,
  shopifyNumericId,
} from "./capi-relay-pixel/src/mapping.js";

// The embed's source is a plain script (.cjs); it exports its functions only when `module`
// exists. The minified asset built from it drops the exports and runs in Chromium
// (storefront.browser.test.ts); embed-build.test.ts holds the asset to this source.
const require = createRequire(import.meta.url);
const embed = require("./embed-source/capi-relay.cjs");

// A pinned clock, with the fixtures as recorded.
const fixture = (name: string) => shopifyFixture(name, { asRecorded: true });
const SHOP = "northwind-woolens-demo.myshopify.com";
const NOW_SECONDS = RECORDED_NOW_SECONDS;
const NOW_MS = NOW_SECONDS * 1000;

function ready(outcome: BuildOutcome) {
  if (outcome.status !== "ready")
    throw new Error(`expected ready, got ${outcome.status}: ${"reason" in outcome ? outcome.reason : ""}`);
  return outcome.event;
}
const serverEvent = (topic: "orders/create" | "checkouts/create", payload: unknown) =>
  ready(prepareEvent(topic, payload, DEFAULT_SETTINGS, { shop: SHOP, nowSeconds: NOW_SECONDS }));

const asNoteAttributes = (attributes: Record<string, string>) =>
  Object.entries(attributes).map(([name, value]) => ({ name, value }));

// ------------------------------------------------------------------ theme app embed: pure logic

describe("theme embed: cookies and Meta browser ids", () => {
  it("parses document.cookie: decodes values, strips quotes, first occurrence wins", () => {
    const cookies = embed.parseCookies(
      '_fbp=fb.1.1763650000000.1234567890; cart=Z2Nw%3D%3D; _fbc="fb.1.1763650000000.AbC_dEf-123"; _fbp=fb.1.1.shadowed; broken; =x',
    );
    expect(cookies).toEqual({
      _fbp: "fb.1.1763650000000.1234567890",
      cart: "Z2Nw==",
      _fbc: "fb.1.1763650000000.AbC_dEf-123",
    });
    expect(embed.parseCookies("")).toEqual({});
    expect(embed.parseCookies(undefined)).toEqual({});
  });

  it("reads fbclid from the URL exactly as written", () => {
    const fbclid = "IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMs";
    expect(embed.fbclidFromUrl(`https://shop.example/products/socks?utm_source=fb&fbclid=${fbclid}`)).toBe(fbclid);
    expect(embed.fbclidFromUrl(`/?fbclid=${fbclid}`)).toBe(fbclid);
    expect(embed.fbclidFromUrl("https://shop.example/?fbclid=short")).toBeUndefined();
    expect(embed.fbclidFromUrl("https://shop.example/?fbclid=has%20a%20space%20in%20it")).toBeUndefined();
    expect(embed.fbclidFromUrl("https://shop.example/?utm_source=fb")).toBeUndefined();
    expect(embed.fbclidFromUrl("")).toBeUndefined();
  });

  it("builds fbc from fbclid with a millisecond timestamp, keeping the click id's case", () => {
    const fbclid = "IwAR1abcDEF_ghi-JKL";
    const fbc = embed.nextFbc(undefined, fbclid, NOW_MS);
    expect(fbc).toBe(`fb.1.${NOW_MS}.IwAR1abcDEF_ghi-JKL`);
    expect(fbc).toMatch(/^fb\.1\.\d{13}\.IwAR1abcDEF_ghi-JKL$/);
    expect(isValidFbc(fbc)).toBe(true);
    // The server reads it back unchanged from the cart attribute.
    expect(browserIds([{ name: CART_ATTRIBUTE.fbc, value: fbc }], null, NOW_MS).fbc).toBe(fbc);
  });

  it("keeps an existing fbc for the same click, replaces it for a new click, drops a malformed one", () => {
    const existing = "fb.1.1763650000000.IwAR1abcDEF_ghi-JKL";
    expect(embed.nextFbc(existing, "IwAR1abcDEF_ghi-JKL", NOW_MS)).toBe(existing);
    expect(embed.nextFbc(existing, undefined, NOW_MS)).toBe(existing);
    expect(embed.nextFbc(existing, "IwAR9newClickId_xyz", NOW_MS)).toBe(`fb.1.${NOW_MS}.IwAR9newClickId_xyz`);
    expect(embed.nextFbc("garbage", undefined, NOW_MS)).toBeUndefined();
    expect(embed.nextFbc(undefined, undefined, NOW_MS)).toBeUndefined();
  });

  it("builds fbp as fb.1.<13-digit ms>.<10 digits>, whatever the random source gives", () => {
    const sources = [Math.random, () => 0, () => 0.9999999999, () => 1];
    for (const random of sources) {
      for (let i = 0; i < 200; i++) {
        const fbp = embed.buildFbp(NOW_MS, random);
        expect(fbp).toMatch(/^fb\.1\.\d{13}\.\d{10}$/);
        expect(fbp.startsWith(`fb.1.${NOW_MS}.`)).toBe(true);
        expect(isValidFbp(fbp)).toBe(true);
      }
    }
  });

  it("tries the registrable domain first for first-party cookies", () => {
    expect(embed.cookieDomainCandidates("www.shop.example.co.uk")).toEqual([
      "co.uk",
      "example.co.uk",
      "shop.example.co.uk",
      "www.shop.example.co.uk",
    ]);
    expect(embed.cookieDomainCandidates("northwind.myshopify.com")).toEqual([
      "myshopify.com",
      "northwind.myshopify.com",
    ]);
    expect(embed.cookieDomainCandidates("localhost")).toEqual([]);
    expect(embed.cookieDomainCandidates("127.0.0.1")).toEqual([]);
  });
});

describe("theme embed: consent attribute round-trips through the server's parseConsent", () => {
  const flags = [true, false, undefined];
  const combos: Consent[] = [];
  for (const marketing of flags)
    for (const analytics of flags) for (const saleOfData of flags) combos.push({ marketing, analytics, saleOfData });

  it("writes the documented format", () => {
    expect(embed.consentString({ marketing: true, analytics: true, saleOfData: false })).toBe(
      "marketing=1;analytics=1;sale_of_data=0",
    );
    expect(embed.consentString({ marketing: false, analytics: undefined, saleOfData: true })).toBe(
      "marketing=0;sale_of_data=1",
    );
    expect(embed.consentString({})).toBe("");
  });

  it.each(combos)("%o", (consent) => {
    const value = embed.consentString(consent);
    const parsed = parseConsent(value ? [{ name: CART_ATTRIBUTE.consent, value }] : []);
    const expected = Object.fromEntries(Object.entries(consent).filter(([, v]) => v !== undefined));
    expect(parsed).toEqual(expected);
  });

  it("reads window.Shopify.customerPrivacy, treating missing or throwing functions as unknown", () => {
    const api = {
      marketingAllowed: () => true,
      analyticsProcessingAllowed: () => false,
      saleOfDataAllowed: () => {
        throw new Error("not loaded");
      },
    };
    expect(embed.readConsent(api)).toEqual({ marketing: true, analytics: false, saleOfData: undefined });
    expect(embed.readConsent(undefined)).toEqual({ marketing: undefined, analytics: undefined, saleOfData: undefined });
    // A visitorConsentCollected detail wins over the API for what it carries.
    expect(embed.consentFromEvent({ marketingAllowed: false, saleOfDataAllowed: true }, api)).toEqual({
      marketing: false,
      analytics: false,
      saleOfData: true,
    });
  });
});

describe("consent: the browser decides as the server does, and fails closed", () => {
  const flags = [true, false, undefined];
  const combos: Consent[] = [];
  for (const marketing of flags)
    for (const analytics of flags) for (const saleOfData of flags) combos.push({ marketing, analytics, saleOfData });
  // The server decides on what the embed recorded on the cart.
  const server = (consent: Consent, respectMarketingConsent: boolean) =>
    consentDecision(parseConsent([{ name: CART_ATTRIBUTE.consent, value: embed.consentString(consent) }]), {
      ...DEFAULT_SETTINGS,
      respectMarketingConsent,
    });

  it.each(combos)("%o", (consent) => {
    for (const respect of [true, false]) {
      const decision = server(consent, respect);
      const serverLdu = decision.processing.data_processing_options?.includes("LDU") ?? false;
      // Limited Data Use exactly when the server applies it (when it sends at all), in the
      // embed and in the web pixel (whose status names are the Web Pixels API's).
      if (!decision.skip) expect(embed.limitedDataUse(consent)).toBe(serverLdu);
      expect(pixelConsent({ saleOfDataAllowed: consent.saleOfData }).ldu).toBe(embed.limitedDataUse(consent));
    }
    // The browser tracks only on a yes: never where the server would skip, never on unknown.
    expect(embed.trackingAllowed(consent)).toBe(consent.marketing === true);
    if (embed.trackingAllowed(consent)) expect(server(consent, true).skip).toBeUndefined();
    expect(pixelConsent({ marketingAllowed: consent.marketing }).send).toBe(embed.trackingAllowed(consent));
  });
});

describe("theme embed: cart attributes", () => {
  const ids = { fbp: "fb.1.1763650000000.1234567890", fbc: "fb.1.1763650000000.IwAR2F4-dbP0l7Mn1Iaw" };
  const ua =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/154.0.0.0 Safari/537.36";
  const granted = { marketing: true, analytics: true, saleOfData: false };

  it("uses the contract's attribute names", () => {
    expect(embed.ATTR).toEqual(CART_ATTRIBUTE);
  });

  it("what it writes is what the server reads", () => {
    const attributes = embed.desiredAttributes(ids, granted, ua);
    expect(attributes).toEqual({
      _fbp: ids.fbp,
      _fbc: ids.fbc,
      _capi_consent: "marketing=1;analytics=1;sale_of_data=0",
      _capi_ua: ua,
    });
    const noteAttributes = asNoteAttributes(attributes);
    expect(browserIds(noteAttributes, null, NOW_MS)).toEqual({ fbp: ids.fbp, fbc: ids.fbc, dropped: [] });
    expect(parseConsent(noteAttributes)).toEqual(granted);
    expect(noteAttribute(noteAttributes, CART_ATTRIBUTE.userAgent)).toBe(ua);
  });

  it("leaves out identifiers the server would drop", () => {
    expect(embed.desiredAttributes({ fbp: "fb.1.x.y", fbc: "nonsense" }, granted, "")).toEqual({
      _capi_consent: "marketing=1;analytics=1;sale_of_data=0",
    });
  });

  it("keeps no identifiers without a yes: unknown consent writes nothing new", () => {
    const unknown = embed.desiredAttributes(ids, {}, ua);
    expect(unknown).toEqual({ _fbp: "", _fbc: "", _capi_ua: "" });
    // Nothing to write on a bare cart, so no request at all.
    expect(embed.attributeChanges(unknown, {})).toBeNull();
  });

  it("clears Meta identifiers when marketing is declined, but records the consent", () => {
    const attributes = embed.desiredAttributes(ids, { marketing: false, analytics: true }, ua);
    expect(attributes).toEqual({ _capi_consent: "marketing=0;analytics=1", _fbp: "", _fbc: "", _capi_ua: "" });
    // Nothing to clear on a cart that never had them.
    expect(embed.attributeChanges(attributes, { _capi_consent: "marketing=0;analytics=1" })).toBeNull();
    expect(embed.attributeChanges(attributes, { _fbp: ids.fbp, other: "kept" })).toEqual({
      _capi_consent: "marketing=0;analytics=1",
      _fbp: "",
    });
  });

  it("writes only what differs from the cart", () => {
    const desired = embed.desiredAttributes(ids, granted, ua);
    expect(embed.attributeChanges(desired, { ...desired, gift_note: "hello" })).toBeNull();
    expect(embed.attributeChanges(desired, { ...desired, _fbc: "fb.1.1700000000000.OldClick_123" })).toEqual({
      _fbc: ids.fbc,
    });
    expect(embed.attributeChanges(desired, null)).toEqual(desired);
    expect(embed.attributeChanges(desired, {})).toEqual(desired);
  });

  it("ViewContent uses the variant id and a per-session event id", () => {
    const view = embed.viewContent(
      {
        pageType: "product",
        currency: "usd",
        product: { id: "8912345678901", variantId: "46123456789012", price: 1800 },
      },
      "s1",
    );
    expect(view).toEqual({
      params: { content_ids: ["46123456789012"], content_type: "product", value: 18, currency: "USD" },
      eventID: "view_8912345678901_s1",
    });
    expect(embed.viewContent({ pageType: "collection" }, "s1")).toBeNull();
  });

  it("reads the block's settings from the rendered data attributes", () => {
    const attributes: Record<string, string> = {
      "data-pixel-ids": " 123456789012345,987654321098 ",
      "data-load-pixel": "false",
      "data-page-type": "product",
      "data-currency": "EUR",
      "data-product-id": "8912345678901",
      "data-variant-id": "46123456789012",
      "data-price": "1656",
    };
    const doc = {
      getElementById: (id: string) =>
        id === "capi-relay-config" ? { getAttribute: (n: string) => attributes[n] ?? null } : null,
    };
    expect(embed.readConfig(doc)).toEqual({
      pixelIds: [" 123456789012345", "987654321098 "],
      override: false,
      loadPixel: false,
      takeOver: false,
      pageType: "product",
      currency: "EUR",
      product: { id: "8912345678901", variantId: "46123456789012", price: 1656 },
    });
    for (const [setting, takeOver] of [
      ["take_over", true],
      ["leave", false],
      ["", false],
      ["TAKE_OVER", false],
    ] as const) {
      attributes["data-other-pixel"] = setting;
      expect([setting, embed.readConfig(doc).takeOver]).toEqual([setting, takeOver]);
    }
    expect(embed.readConfig({ getElementById: () => null })).toEqual({});
  });
});

// ------------------------------------------------------------------ theme app embed: another Meta pixel

const OURS = "123456789012345";
const OTHER = "987654321098";
const SECOND = "555555555555";

/** Meta's standard snippet's queueing stub, as a page that ran `calls` before us has it. */
function metaStub(calls: unknown[][]) {
  const stub: any = function (this: unknown) {
    // eslint-disable-next-line prefer-rest-params
    stub.queue.push(arguments);
  };
  stub.queue = [];
  for (const call of calls) stub(...call);
  stub.loaded = true;
  stub.version = "2.0";
  return stub;
}

describe("theme embed: the block's Liquid", () => {
  const source = readFileSync(new URL("./capi-relay-embed/blocks/capi-relay.liquid", import.meta.url), "utf8");
  const [markup, rest] = source.split("{% schema %}");
  const schema = JSON.parse(rest!.split("{% endschema %}")[0]!);
  const render = (settings: Record<string, unknown>) =>
    new Liquid().parseAndRender(markup!, {
      app: { metafields: { capi_relay: { pixel_ids: { value: OURS } } } },
      block: { settings: { pixel_id: "", load_pixel: true, ...settings } },
      request: { page_type: "index", design_mode: false },
      cart: { currency: { iso_code: "USD" } },
    });

  it("has a valid schema: unique ids, every select's default among its options, plain info text", () => {
    const ids = schema.settings.map((setting: { id: string }) => setting.id);
    expect(new Set(ids).size).toBe(ids.length);
    const other = schema.settings.find((setting: { id: string }) => setting.id === "other_pixel");
    expect(other).toMatchObject({ type: "select", default: "leave", label: "When another Meta pixel is on the page" });
    expect(other.options.map((option: { value: string }) => option.value)).toEqual(["leave", "take_over"]);
    for (const setting of schema.settings) {
      if (setting.type === "select") {
        expect(setting.options.map((option: { value: string }) => option.value)).toContain(setting.default);
      }
      expect(setting.info).toMatch(/^[^<>{}]+$/);
    }
  });

  it("renders the setting as the data attribute the embed reads", async () => {
    const attributes = async (settings: Record<string, unknown>) => {
      const html = await render(settings);
      const values: Record<string, string> = {};
      for (const [, name, value] of html.matchAll(/(data-[a-z-]+)="([^"]*)"/g)) values[name!] = value!;
      return embed.readConfig({
        getElementById: (id: string) =>
          html.includes(`id="${id}"`) ? { getAttribute: (n: string) => values[n] ?? null } : null,
      });
    };
    expect(await attributes({ other_pixel: "take_over" })).toMatchObject({ pixelIds: [OURS], takeOver: true });
    expect(await attributes({ other_pixel: "leave" })).toMatchObject({ takeOver: false, loadPixel: true });
    expect(await render({ other_pixel: 'take_over"><script>' })).not.toContain("<script>");
  });
});

describe("theme embed: another Meta pixel's fbq", () => {
  it("tells which pixel ids it runs, from fbevents.js's state or the stub's queue; unknown is null", () => {
    const throwing = Object.assign(() => {}, {
      getState: () => {
        throw new Error("changed");
      },
    });
    const cases: Array<[string, unknown, string[] | null]> = [
      [
        "fbevents.js loaded",
        Object.assign(() => {}, { getState: () => ({ pixels: [{ id: OURS }, { id: 987654321098 }] }) }),
        [OURS, OTHER],
      ],
      ["fbevents.js, no pixel yet", Object.assign(() => {}, { getState: () => ({ pixels: [] }) }), []],
      [
        "the stub, fbevents.js still loading",
        metaStub([
          ["init", OTHER],
          ["track", "PageView"],
          ["init", OURS, { em: "x" }],
        ]),
        [OTHER, OURS],
      ],
      ["the stub, nothing inited", metaStub([["track", "PageView"]]), []],
      [
        "queued arrays, junk ids left out",
        Object.assign(() => {}, { queue: [["init", "12a456"], ["init"], ["init", OURS], []] }),
        [OURS],
      ],
      ["getState throws", throwing, null],
      ["getState without pixels", Object.assign(() => {}, { getState: () => ({}) }), null],
      [
        "pixels keyed by id, not a list",
        Object.assign(() => {}, { getState: () => ({ pixels: { [OURS]: {} } }) }),
        null,
      ],
      ["not Meta's fbq", () => {}, null],
      ["a pixel entry without id", Object.assign(() => {}, { getState: () => ({ pixels: [null] }) }), null],
    ];
    for (const [name, fbq, ids] of cases) expect([name, embed.pixelsRunBy(fbq)]).toEqual([name, ids]);
  });

  it("plans which of our pixels to report and which to fire on it", () => {
    const cases: Array<[string, string[], string[] | null, boolean, { seen: string[]; fire: string[] }]> = [
      ["it runs ours: left alone", [OURS], [OURS], false, { seen: [OURS], fire: [] }],
      ["it runs another: ours added", [OURS], [OTHER], false, { seen: [], fire: [OURS] }],
      ["it runs one of ours two", [OURS, SECOND], [OTHER, SECOND], false, { seen: [SECOND], fire: [OURS] }],
      ["it runs none yet", [OURS], [], false, { seen: [], fire: [OURS] }],
      ["cannot tell: nothing fired", [OURS], null, false, { seen: [], fire: [] }],
      ["taken over, it runs ours", [OURS], [OURS], true, { seen: [OURS], fire: [OURS] }],
      ["taken over, cannot tell", [OURS, SECOND], null, true, { seen: [], fire: [OURS, SECOND] }],
      ["taken over, it runs another", [OURS], [OTHER], true, { seen: [], fire: [OURS] }],
    ];
    for (const [name, ours, running, takeOver, plan] of cases) {
      expect([name, embed.otherPixelPlan(ours, running, takeOver)]).toEqual([name, plan]);
    }
  });

  it("sends another's calls to our fbq only to the pixels it inited, never repeating ours", () => {
    const params = { value: 1 };
    const cases: Array<[string, unknown[], string[], string[], unknown[][], string[]]> = [
      ["its init of another pixel passes", ["init", OTHER], [], [], [["init", OTHER]], [OTHER]],
      ["its init of ours is dropped (fbevents.js ignores it)", ["init", OURS, { em: "x" }], [], [], [], [OURS]],
      [
        "its PageView goes to its pixel only",
        ["track", "PageView"],
        [OTHER],
        ["PageView"],
        [["trackSingle", OTHER, "PageView"]],
        [OTHER],
      ],
      [
        "not to ours, which had ours",
        ["track", "PageView"],
        [OURS, OTHER],
        ["PageView"],
        [["trackSingle", OTHER, "PageView"]],
        [OURS, OTHER],
      ],
      [
        "an event we did not fire reaches ours",
        ["track", "AddToCart", params],
        [OURS],
        ["PageView"],
        [["trackSingle", OURS, "AddToCart", params]],
        [OURS],
      ],
      ["a track before any init of its own", ["track", "PageView"], [], ["PageView"], [], []],
      ["trackCustom passes", ["trackCustom", "Quiz", params], [OTHER], [], [["trackCustom", "Quiz", params]], [OTHER]],
      ["trackSingle passes", ["trackSingle", OTHER, "Lead"], [OTHER], [], [["trackSingle", OTHER, "Lead"]], [OTHER]],
      ["consent passes", ["consent", "revoke"], [], [], [["consent", "revoke"]], []],
    ];
    for (const [name, args, theirs, fired, calls, after] of cases) {
      const known = [...theirs];
      expect([name, embed.foreignCalls(args, [OURS], known, fired)]).toEqual([name, calls]);
      expect([name, known]).toEqual([name, after]);
    }
  });
});

// ------------------------------------------------------------------ theme app embed: in a fake page

interface FakePage {
  env: Record<string, any>;
  window: Record<string, any>;
  document: Record<string, any>;
  jar: Map<string, string>;
  cart: { attributes: Record<string, string> };
  posts: Array<Record<string, string>>;
  requests: string[];
  appended: Array<Record<string, any>>;
  fbqCalls(): unknown[][];
  runTimers(): Promise<void>;
  dispatch(type: string, detail?: unknown): void;
  /** Answers a pending loadFeatures call (the "slow" API), with an error or not. */
  answerLoadFeatures(error?: Error): void;
}

const PUBLIC_SUFFIXES = new Set(["com", "co.uk", "myshopify.com"]);
const META_COOKIES = ["_fbp", "_fbc"];

/**
 * How window.Shopify offers the Customer Privacy API: already loaded; through loadFeatures
 * (answered at once, never until answerLoadFeatures, or with an error); or not at all.
 */
type PrivacyApi = "loaded" | "loadFeatures" | "slow" | "error" | "absent";

function fakePage(options: {
  href: string;
  consent?: Record<string, boolean>;
  api?: PrivacyApi;
  cart?: boolean;
  userAgent?: string;
  fetchFails?: boolean;
  cartIgnoresWrites?: boolean;
  fbq?: unknown;
  pixelIds?: string[];
  override?: boolean;
}): FakePage {
  const url = new URL(options.href);
  const jar = new Map<string, string>();
  if (options.cart !== false) jar.set("cart", "c1-7a2b");
  const timers: Array<() => void> = [];
  const listeners = new Map<string, Array<(e: unknown) => void>>();
  const cart = { attributes: {} as Record<string, string> };
  const posts: Array<Record<string, string>> = [];
  const requests: string[] = [];
  const appended: Array<Record<string, any>> = [];
  const document = {
    get cookie() {
      return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    },
    set cookie(line: string) {
      const [pair, ...attrs] = line.split(";").map((s) => s.trim());
      const domain = attrs.find((a) => a.startsWith("domain="))?.slice("domain=".length);
      if (domain && (PUBLIC_SUFFIXES.has(domain) || !`.${url.hostname}`.endsWith(`.${domain}`))) return; // the browser refuses it
      const eq = pair!.indexOf("=");
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    },
    getElementById: () => null,
    createElement: (tag: string) => ({ tag }),
    head: { appendChild: (node: Record<string, any>) => appended.push(node) },
    addEventListener: (type: string, fn: (e: unknown) => void) =>
      listeners.set(type, [...(listeners.get(type) ?? []), fn]),
  };
  const privacy = {
    marketingAllowed: () => options.consent?.marketing,
    analyticsProcessingAllowed: () => options.consent?.analytics,
    saleOfDataAllowed: () => options.consent?.saleOfData,
  };
  const api: PrivacyApi = options.api ?? (options.consent ? "loaded" : "absent");
  let pendingLoad: ((error?: Error) => void) | undefined;
  const shopify: Record<string, any> = { routes: { root: "/" } };
  if (api === "loaded") shopify.customerPrivacy = privacy;
  if (api === "loadFeatures" || api === "slow" || api === "error") {
    shopify.loadFeatures = (_features: unknown, callback: (error?: Error) => void) => {
      pendingLoad = (error) => {
        if (!error) shopify.customerPrivacy = privacy;
        callback(error);
      };
      if (api === "loadFeatures") timers.push(() => pendingLoad!());
      if (api === "error") timers.push(() => pendingLoad!(new Error("consent-tracking-api failed to load")));
    };
  }
  const window: Record<string, any> = {
    location: { href: url.href, hostname: url.hostname, protocol: url.protocol },
    navigator: { userAgent: options.userAgent ?? "Mozilla/5.0 TestBrowser" },
    Shopify: shopify,
    sessionStorage: new Map<string, string>([["capi_relay_sid", "sess1"]]),
    ...(options.fbq ? { fbq: options.fbq } : {}),
  };
  window.sessionStorage.getItem = (k: string) => window.sessionStorage.get(k) ?? null;
  window.sessionStorage.setItem = (k: string, v: string) => window.sessionStorage.set(k, v);
  const fetch = async (input: string, init: { method?: string; body?: string } = {}) => {
    requests.push(`${init.method ?? "GET"} ${input}`);
    if (options.fetchFails) throw new TypeError("network down");
    if (input === "/cart.js")
      return { ok: true, json: async () => ({ token: "c1", attributes: { ...cart.attributes } }) };
    if (input === "/cart/add.js" && init.method === "POST") {
      jar.set("cart", "c1-new"); // Shopify creates the cart and its cookie
      return { ok: true, json: async () => ({}) };
    }
    if (input === "/cart/update.js" && init.method === "POST") {
      const { attributes } = JSON.parse(init.body!);
      posts.push(attributes);
      if (!options.cartIgnoresWrites) {
        for (const [k, v] of Object.entries(attributes as Record<string, string>)) {
          if (v === "") delete cart.attributes[k];
          else cart.attributes[k] = v;
        }
      }
      return { ok: true, json: async () => ({ attributes: { ...cart.attributes } }) };
    }
    return { ok: false, json: async () => ({}) };
  };
  // The page's own fetch (theme code calls it; the embed hooks it); the embed's requests use it unhooked.
  window.fetch = fetch;
  const env = {
    window,
    document,
    fetch,
    now: () => NOW_MS,
    random: () => 0.5,
    setTimeout: (fn: () => void) => timers.push(fn),
    clearTimeout: () => {},
    config: {
      pixelIds: options.pixelIds ?? ["123456789012345"],
      override: options.override ?? false,
      loadPixel: true,
      pageType: "product",
      currency: "USD",
      product: { id: "8912345678901", variantId: "46123456789012", price: 1800 },
    },
  };
  return {
    env,
    window,
    document,
    jar,
    cart,
    posts,
    requests,
    appended,
    fbqCalls: () => (window.fbq?.queue ?? []).map((args: IArguments) => [...args]),
    async runTimers() {
      for (let round = 0; round < 50 && timers.length; round++) {
        const due = timers.splice(0);
        due.forEach((fn) => fn());
        for (let i = 0; i < 20; i++) await Promise.resolve();
      }
    },
    dispatch(type, detail) {
      for (const fn of listeners.get(type) ?? []) fn({ detail });
    },
    answerLoadFeatures(error) {
      pendingLoad?.(error);
    },
  };
}

/** Nothing happened: no Meta cookie, no pixel, no script, no cart request. */
function expectUntouched(page: FakePage) {
  expect(META_COOKIES.filter((name) => page.jar.has(name))).toEqual([]);
  expect(page.window.fbq).toBeUndefined();
  expect(page.appended).toEqual([]);
  expect(page.requests).toEqual([]);
}

describe("theme embed: on a storefront page", () => {
  const fbclid = "IwAR2F4-dbP0l7Mn1IawQQ";
  const allowed = { marketing: true, analytics: true, saleOfData: true };

  it("ad click with consent: sets _fbc/_fbp, loads the pixel, writes the cart once", async () => {
    const page = fakePage({
      href: `https://www.northwind.example.com/products/wool-socks?fbclid=${fbclid}`,
      consent: allowed,
    });
    const relay = embed.createRelay(page.env);
    relay.start();
    await page.runTimers();

    expect(page.jar.get("_fbc")).toBe(`fb.1.${NOW_MS}.${fbclid}`);
    expect(page.jar.get("_fbp")).toMatch(/^fb\.1\.\d{13}\.\d{10}$/);
    expect(page.appended).toEqual([
      { tag: "script", async: true, src: "https://connect.facebook.net/en_US/fbevents.js" },
    ]);
    expect(page.fbqCalls()).toEqual([
      ["init", "123456789012345"],
      ["track", "PageView"],
      [
        "track",
        "ViewContent",
        { content_ids: ["46123456789012"], content_type: "product", value: 18, currency: "USD" },
        { eventID: "view_8912345678901_sess1" },
      ],
    ]);
    expect(page.posts).toEqual([
      {
        _capi_consent: "marketing=1;analytics=1;sale_of_data=1",
        _fbp: page.jar.get("_fbp"),
        _fbc: `fb.1.${NOW_MS}.${fbclid}`,
        _capi_ua: "Mozilla/5.0 TestBrowser",
      },
    ]);
    // The server reads the cart's attributes as the order's note_attributes.
    const ids = browserIds(asNoteAttributes(page.cart.attributes), null, NOW_MS);
    expect(ids).toEqual({ fbp: page.jar.get("_fbp"), fbc: `fb.1.${NOW_MS}.${fbclid}`, dropped: [] });

    // A later sync with nothing new does not write again.
    await relay.sync();
    expect(page.posts).toHaveLength(1);
  });

  it("the theme editor's override: the cart names the pixels it fires, and the order's Purchase notes it for the admin", async () => {
    const page = fakePage({
      href: "https://www.northwind.example.com/products/wool-socks",
      consent: allowed,
      pixelIds: ["555555555555"],
      override: true,
    });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(page.fbqCalls()[0]).toEqual(["init", "555555555555"]);
    expect(page.cart.attributes._capi_pixels).toBe("555555555555");

    const order = { ...fixture("orders-create-web"), note_attributes: asNoteAttributes(page.cart.attributes) };
    const outcome = prepareEvent("orders/create", order, DEFAULT_SETTINGS, { shop: SHOP, nowSeconds: NOW_SECONDS });
    expect(outcome.status).toBe("ready");
    expect(outcome.status === "ready" && outcome.notes.map((n) => n.code)).toContain("embed_pixel_override");

    // Marketing refused later: the attribute goes with the other identifiers.
    const refused = fakePage({
      href: "https://www.northwind.example.com/",
      consent: { ...allowed, marketing: false },
      pixelIds: ["555555555555"],
      override: true,
    });
    refused.cart.attributes._capi_pixels = "555555555555";
    embed.createRelay(refused.env).start();
    await refused.runTimers();
    expect(refused.cart.attributes).not.toHaveProperty("_capi_pixels");
  });

  it("the app's list of pixels: each initialised once, every event fired once to all of them with one eventID", async () => {
    const page = fakePage({
      href: "https://www.northwind.example.com/products/wool-socks",
      consent: allowed,
      // As data-pixel-ids="111111111111, 222222222222,111111111111,not-a-pixel" reads.
      pixelIds: ["111111111111", " 222222222222", "111111111111", "not-a-pixel"],
    });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(page.fbqCalls().map((call) => call.slice(0, 2))).toEqual([
      ["init", "111111111111"],
      ["init", "222222222222"],
      ["track", "PageView"],
      ["track", "ViewContent"],
    ]);

    // The app's own list: the cart names no pixel (the server knows the app's).
    expect(page.cart.attributes).not.toHaveProperty("_capi_pixels");

    const none = fakePage({ href: "https://www.northwind.example.com/", consent: allowed, pixelIds: [""] });
    embed.createRelay(none.env).start();
    await none.runTimers();
    expect(none.window.fbq).toBeUndefined();
    expect(none.appended).toEqual([]);
  });

  it("API slow: nothing fires, no cookie, no pixel, no cart request, however long it takes", async () => {
    const page = fakePage({ href: `https://shop.example.com/?fbclid=${fbclid}`, consent: allowed, api: "slow" });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expectUntouched(page);

    // It answers at last, with a yes: tracking starts then.
    page.answerLoadFeatures();
    await page.runTimers();
    expect(page.jar.get("_fbc")).toBe(`fb.1.${NOW_MS}.${fbclid}`);
    expect(page.fbqCalls().map((call) => call[1])).toEqual(["123456789012345", "PageView", "ViewContent"]);
    expect(page.posts).toHaveLength(1);
  });

  it("API error: loadFeatures fails, so consent is unknown and the answer is no", async () => {
    const page = fakePage({ href: `https://shop.example.com/?fbclid=${fbclid}`, consent: allowed, api: "error" });
    page.cart.attributes = { _fbp: "fb.1.1763650000000.1234567890" };
    embed.createRelay(page.env).start();
    await page.runTimers();
    expectUntouched(page);
  });

  it("API absent (no window.Shopify privacy API at all): no", async () => {
    const page = fakePage({ href: `https://shop.example.com/?fbclid=${fbclid}`, api: "absent" });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expectUntouched(page);
  });

  it("API loaded through loadFeatures with a yes (the region needs no consent): tracks", async () => {
    const page = fakePage({ href: "https://shop.example.com/", consent: allowed, api: "loadFeatures" });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(page.jar.get("_fbp")).toMatch(/^fb\.1\.\d{13}\.\d{10}$/);
    expect(typeof page.window.fbq).toBe("function");
  });

  it("marketing declined: no pixel, no new cookies, only the consent attribute (and clears old ids)", async () => {
    const page = fakePage({
      href: `https://shop.example.com/?fbclid=${fbclid}`,
      consent: { marketing: false, analytics: false, saleOfData: false },
    });
    page.cart.attributes = { _fbp: "fb.1.1763650000000.1234567890", note: "gift" };
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(META_COOKIES.filter((name) => page.jar.has(name))).toEqual([]);
    expect(page.window.fbq).toBeUndefined();
    expect(page.appended).toEqual([]);
    expect(page.posts).toEqual([{ _capi_consent: "marketing=0;analytics=0;sale_of_data=0", _fbp: "" }]);
    expect(page.cart.attributes).toEqual({ _capi_consent: "marketing=0;analytics=0;sale_of_data=0", note: "gift" });
    expect(parseConsent(asNoteAttributes(page.cart.attributes))).toEqual({
      marketing: false,
      analytics: false,
      saleOfData: false,
    });
  });

  it("sale of data refused: Limited Data Use before init, as the server's event gets it", async () => {
    const consent = { marketing: true, analytics: true, saleOfData: false };
    const page = fakePage({ href: "https://shop.example.com/", consent });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(page.fbqCalls().slice(0, 2)).toEqual([
      ["dataProcessingOptions", ["LDU"], 0, 0],
      ["init", "123456789012345"],
    ]);
    const server = consentDecision(parseConsent(asNoteAttributes(page.cart.attributes)), DEFAULT_SETTINGS);
    expect(server.processing).toEqual({
      data_processing_options: ["LDU"],
      data_processing_options_country: 0,
      data_processing_options_state: 0,
    });

    // Allowed later on the page: the pixel leaves LDU.
    Object.assign(consent, { saleOfData: true });
    page.dispatch("visitorConsentCollected", {
      marketingAllowed: true,
      analyticsAllowed: true,
      saleOfDataAllowed: true,
    });
    await page.runTimers();
    expect(page.fbqCalls().at(-1)).toEqual(["dataProcessingOptions", [], 0, 0]);
  });

  it("consent given later (visitorConsentCollected): then cookies, pixel and an updated cart; withdrawn: stopped", async () => {
    const consent = { marketing: false, analytics: false, saleOfData: true };
    const page = fakePage({ href: `https://shop.example.com/?fbclid=${fbclid}`, consent });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(META_COOKIES.filter((name) => page.jar.has(name))).toEqual([]);

    Object.assign(consent, { marketing: true, analytics: true });
    page.dispatch("visitorConsentCollected", {
      marketingAllowed: true,
      analyticsAllowed: true,
      saleOfDataAllowed: true,
      preferencesAllowed: false,
    });
    await page.runTimers();
    expect(page.jar.get("_fbc")).toBe(`fb.1.${NOW_MS}.${fbclid}`);
    expect(typeof page.window.fbq).toBe("function");
    expect(page.posts).toHaveLength(2);
    expect(page.cart.attributes._capi_consent).toBe("marketing=1;analytics=1;sale_of_data=1");
    expect(page.cart.attributes._fbc).toBe(`fb.1.${NOW_MS}.${fbclid}`);

    // Withdrawn: the loaded pixel is told, the cart loses the ids, nothing more is tracked.
    Object.assign(consent, { marketing: false });
    page.dispatch("visitorConsentCollected", {
      marketingAllowed: false,
      analyticsAllowed: true,
      saleOfDataAllowed: true,
    });
    await page.runTimers();
    expect(page.fbqCalls().at(-1)).toEqual(["consent", "revoke"]);
    expect(page.cart.attributes).toEqual({ _capi_consent: "marketing=0;analytics=1;sale_of_data=1" });
    const tracked = page.fbqCalls().filter((call) => call[0] === "track").length;
    await page.window.fetch("/cart/add.js", { method: "POST", body: "{}" });
    await page.runTimers();
    expect(page.fbqCalls().filter((call) => call[0] === "track")).toHaveLength(tracked);
    expect(page.cart.attributes._fbp).toBeUndefined();
  });

  it("a visitor without a cart gets none: no cart request until a cart change creates one", async () => {
    const page = fakePage({ href: "https://shop.example.com/", consent: allowed, cart: false });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(page.jar.get("_fbp")).toBeDefined();
    expect(page.requests).toEqual([]);

    // The theme adds to cart with AJAX: Shopify creates the cart, the embed writes it at once.
    await page.window.fetch("/cart/add.js", { method: "POST", body: "{}" });
    await page.runTimers();
    expect(page.requests).toEqual(["POST /cart/add.js", "GET /cart.js", "POST /cart/update.js"]);
    expect(page.cart.attributes._fbp).toBe(page.jar.get("_fbp"));
  });

  it("after every cart change the attributes are checked again, and written only when they differ", async () => {
    const page = fakePage({ href: "https://shop.example.com/", consent: allowed });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(page.posts).toHaveLength(1);
    // Another script replaces the cart (e.g. /cart/clear.js then a new add): the ids go back.
    page.cart.attributes = {};
    await page.window.fetch("/cart/change.js", { method: "POST", body: "{}" });
    await page.runTimers();
    expect(page.posts).toHaveLength(2);
    expect(page.cart.attributes._fbp).toBe(page.jar.get("_fbp"));
    // A quantity change that keeps them (a cart drawer's, with sections): read, not written.
    await page.window.fetch("/cart/change.js?line=1&quantity=2&sections=cart-drawer", { method: "POST", body: "{}" });
    await page.runTimers();
    expect(page.posts).toHaveLength(2);
    expect(page.requests.filter((r) => r === "GET /cart.js")).toHaveLength(3);
    // Other requests are no cart changes.
    await page.window.fetch("/products/wool-socks.js");
    await page.runTimers();
    expect(page.requests.filter((r) => r === "GET /cart.js")).toHaveLength(3);
    // A cart change passed as a URL or a Request object is one.
    for (const input of [
      new URL("https://shop.example.com/cart/change.js"),
      { url: "https://shop.example.com/cart/add.js" },
    ]) {
      await page.window.fetch(input);
      await page.runTimers();
    }
    expect(page.requests.filter((r) => r === "GET /cart.js")).toHaveLength(5);
  });

  it("known bots: nothing at all", async () => {
    for (const userAgent of [
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
      "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
      "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
      "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    ]) {
      const page = fakePage({ href: "https://shop.example.com/", consent: allowed, userAgent });
      embed.createRelay(page.env).start();
      await page.runTimers();
      expect([userAgent, page.requests, page.jar.has("_fbp")]).toEqual([userAgent, [], false]);
    }
    expect(
      embed.isBot("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"),
    ).toBe(false);
  });

  it("recognises the Ajax Cart API's writes", () => {
    for (const [url, change] of [
      ["/cart/add.js", true],
      ["/cart/add", true],
      ["/fr/cart/change.js?line=1", true],
      ["https://shop.example.com/cart/update.js", true],
      ["/cart/clear.js", true],
      ["/cart.js", false],
      ["/cart", false],
      ["/products/cart/addons", false],
      ["/search?q=/cart/add.js", false],
    ] as const) {
      expect([url, embed.isCartChange(url)]).toEqual([url, change]);
    }
  });

  const sightings = (page: FakePage) => page.requests.filter((r) => r.includes("/apps/capi-relay/seen"));

  it("another pixel already running ours: fires nothing of ours on it, reports it once per tab", async () => {
    const existing = metaStub([
      ["init", OURS],
      ["track", "PageView"],
    ]);
    const page = fakePage({ href: "https://shop.example.com/", consent: allowed, fbq: existing });
    const relay = embed.createRelay(page.env);
    relay.start();
    await page.runTimers();
    expect(page.window.fbq).toBe(existing);
    expect(relay.state.pixel).toBe("external");
    expect(page.appended).toEqual([]); // no second fbevents.js
    expect(page.fbqCalls()).toEqual([
      ["init", OURS],
      ["track", "PageView"],
    ]);
    expect(sightings(page)).toEqual([`POST /apps/capi-relay/seen?id=${OURS}`]);
    expect(page.posts).toHaveLength(1); // the cart still gets the browser ids

    // The next page of the same tab (same sessionStorage): no second report.
    const next = embed.createRelay({ ...page.env, window: { ...page.window, fbq: metaStub([["init", OURS]]) } });
    next.start();
    await page.runTimers();
    expect(sightings(page)).toHaveLength(1);
  });

  it("another pixel running another id: ours is added to its fbq, and only ours gets our events", async () => {
    const existing = metaStub([
      ["init", OTHER],
      ["track", "PageView"],
    ]);
    const page = fakePage({ href: "https://shop.example.com/", consent: allowed, fbq: existing });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(page.appended).toEqual([]);
    expect(page.fbqCalls()).toEqual([
      ["init", OTHER],
      ["track", "PageView"],
      ["init", OURS],
      ["trackSingle", OURS, "PageView"],
      [
        "trackSingle",
        OURS,
        "ViewContent",
        { content_ids: ["46123456789012"], content_type: "product", value: 18, currency: "USD" },
        { eventID: "view_8912345678901_sess1" },
      ],
    ]);
    expect(sightings(page)).toEqual([]);
  });

  it("Meta's snippet after ours: its init of ours is reported and dropped, its PageView reaches its own pixel only", async () => {
    const page = fakePage({ href: "https://shop.example.com/", consent: allowed });
    embed.createRelay(page.env).start();
    await page.runTimers();
    // The snippet finds window.fbq and returns early, then calls it.
    page.window.fbq("init", OURS);
    page.window.fbq("init", OTHER);
    page.window.fbq("track", "PageView");
    page.window.fbq("track", "AddToCart", { value: 18 });
    expect(page.fbqCalls().map((call) => call.slice(0, 3))).toEqual([
      ["init", OURS],
      ["track", "PageView"],
      ["track", "ViewContent", expect.anything()],
      ["init", OTHER],
      ["trackSingle", OTHER, "PageView"],
      ["trackSingle", OURS, "AddToCart"],
      ["trackSingle", OTHER, "AddToCart"],
    ]);
    await page.runTimers();
    expect(sightings(page)).toEqual([`POST /apps/capi-relay/seen?id=${OURS}`]);
  });

  it("take over: ours fires on the other fbq anyway, and the admin still hears of it", async () => {
    const existing = metaStub([["init", OURS]]);
    const page = fakePage({ href: "https://shop.example.com/", consent: allowed, fbq: existing });
    embed.createRelay({ ...page.env, config: { ...page.env.config, takeOver: true } }).start();
    await page.runTimers();
    expect(page.fbqCalls().map((call) => call.slice(0, 3))).toEqual([
      ["init", OURS],
      ["init", OURS],
      ["trackSingle", OURS, "PageView"],
      ["trackSingle", OURS, "ViewContent"],
    ]);
    expect(sightings(page)).toEqual([`POST /apps/capi-relay/seen?id=${OURS}`]);
  });

  it("another pixel without the visitor's yes: no report, nothing fired; an fbq it cannot read: nothing fired", async () => {
    const declined = fakePage({
      href: "https://shop.example.com/",
      consent: { marketing: false, analytics: true, saleOfData: true },
      fbq: metaStub([["init", OURS]]),
    });
    embed.createRelay(declined.env).start();
    await declined.runTimers();
    expect(declined.fbqCalls()).toEqual([["init", OURS]]);
    expect(sightings(declined)).toEqual([]);

    const unknown = Object.assign(() => {}, { getState: () => ({}) });
    const page = fakePage({ href: "https://shop.example.com/", consent: allowed, fbq: unknown });
    const relay = embed.createRelay(page.env);
    relay.start();
    await page.runTimers();
    expect(relay.state.pixel).toBe("external");
    expect(page.appended).toEqual([]);
    expect(sightings(page)).toEqual([]);
    expect(page.posts).toHaveLength(1);
  });

  it("never throws into the page and never loops", async () => {
    const broken = fakePage({ href: "https://shop.example.com/", consent: allowed, fetchFails: true });
    const relay = embed.createRelay(broken.env);
    expect(() => relay.start()).not.toThrow();
    await broken.runTimers();
    await expect(relay.sync()).resolves.toBeUndefined();

    // A cart that never keeps the attributes: the page gives up after a few writes.
    const stubborn = fakePage({ href: "https://shop.example.com/", consent: allowed, cartIgnoresWrites: true });
    const again = embed.createRelay(stubborn.env);
    again.start();
    await stubborn.runTimers();
    for (let i = 0; i < 10; i++) {
      await stubborn.window.fetch("/cart/change.js", { method: "POST", body: "{}" });
      await stubborn.runTimers();
    }
    expect(stubborn.posts.filter((p) => "_capi_consent" in p).length).toBeLessThanOrEqual(6);
  });
});

// ------------------------------------------------------------------ web pixel vs server events

type OrderIdForm = "gid" | "identity" | "plain" | "number";

function orderIdAs(id: number, form: OrderIdForm): string | number {
  if (form === "gid") return `gid://shopify/Order/${id}`;
  if (form === "identity") return `gid://shopify/OrderIdentity/${id}`;
  if (form === "plain") return String(id);
  return id;
}

/** A web pixel `checkout` (Shopify's Checkout shape) for the order in a webhook fixture. */
function pixelCheckoutFromOrder(order: Record<string, any>, form: OrderIdForm) {
  const currency = order.presentment_currency;
  const presentment = (set: any) => ({
    amount: Number(set.presentment_money.amount),
    currencyCode: set.presentment_money.currency_code,
  });
  return {
    token: order.checkout_token,
    currencyCode: currency,
    totalPrice: presentment(order.total_price_set),
    subtotalPrice: presentment(order.subtotal_price_set),
    order: {
      id: orderIdAs(order.id, form),
      customer: order.customer ? { id: `gid://shopify/Customer/${order.customer.id}` } : null,
    },
    lineItems: order.line_items.map((item: any) => ({
      id: `gid://shopify/CheckoutLineItem/${item.id}`,
      title: item.title,
      quantity: item.quantity,
      finalLinePrice: {
        amount: Number(item.price_set.presentment_money.amount) * item.quantity,
        currencyCode: currency,
      },
      variant: {
        id: String(item.variant_id),
        title: item.variant_title,
        sku: item.sku,
        price: presentment(item.price_set),
        product: { id: String(item.product_id), title: item.title, vendor: item.vendor },
      },
    })),
  };
}

/** A web pixel `checkout` for a checkouts/create webhook fixture (REST prices, no price sets). */
function pixelCheckoutFromCheckout(checkout: Record<string, any>) {
  const currency = checkout.presentment_currency;
  return {
    token: checkout.token,
    currencyCode: currency,
    totalPrice: { amount: Number(checkout.total_price), currencyCode: currency },
    order: null,
    lineItems: checkout.line_items.map((item: any) => ({
      title: item.title,
      quantity: item.quantity,
      variant: {
        id: `gid://shopify/ProductVariant/${item.variant_id}`,
        sku: item.sku,
        price: { amount: Number(item.price), currencyCode: currency },
        product: { id: `gid://shopify/Product/${item.product_id}` },
      },
    })),
  };
}

function pixelEvent(name: string, checkout: unknown, timestamp: string) {
  return {
    id: `sh-${name}-0001`,
    name,
    type: "standard",
    timestamp,
    clientId: "client-1",
    context: {
      document: { location: { href: `https://${SHOP}/checkouts/cn/abc/thank-you` }, referrer: `https://${SHOP}/cart` },
    },
    data: { checkout },
  };
}

describe("web pixel: Purchase deduplicates with the server's Purchase", () => {
  const order = fixture("orders-create-web");
  const server = serverEvent("orders/create", order);

  it.each<OrderIdForm>(["gid", "identity", "plain", "number"])("checkout.order.id as %s", (form) => {
    const call = purchaseCall(
      pixelEvent("checkout_completed", pixelCheckoutFromOrder(order, form), order.processed_at),
    );
    expect(call).not.toBeNull();
    const [command, eventName, params, options] = call!;
    expect(command).toBe("track");
    expect(eventName).toBe(server.event_name);
    expect(options.eventID).toBe(server.event_id);
    expect(options.eventID).toBe("5678901234567");
    expect(params.content_ids).toEqual(server.custom_data?.content_ids);
    // Same value, currency, contents, num_items and order_id as the server sends.
    expect(params).toEqual(server.custom_data);
  });

  it("in the buyer's currency for a multi-currency order", () => {
    const multi = fixture("orders-create-multicurrency");
    const multiServer = serverEvent("orders/create", multi);
    const [, , params, options] = purchaseCall(
      pixelEvent("checkout_completed", pixelCheckoutFromOrder(multi, "gid"), multi.processed_at),
    )!;
    expect(options.eventID).toBe(multiServer.event_id);
    expect(params).toEqual(multiServer.custom_data);
    expect(params).toMatchObject({ value: 146.28, currency: "EUR" });
  });

  it("no order id, no browser Purchase (the server's event counts alone)", () => {
    const checkout = { ...pixelCheckoutFromOrder(order, "gid"), order: null };
    expect(purchaseCall(pixelEvent("checkout_completed", checkout, order.processed_at))).toBeNull();
    expect(purchaseEventId({ order: { id: "gid://shopify/Checkout/5678901234567" } })).toBeUndefined();
  });
});

describe("web pixel: InitiateCheckout deduplicates with the server's InitiateCheckout", () => {
  const checkoutPayload = fixture("checkouts-create");
  const server = serverEvent("checkouts/create", checkoutPayload);

  it("eventID = checkout token = the server's event_id", () => {
    const call = initiateCheckoutCall(
      pixelEvent("checkout_started", pixelCheckoutFromCheckout(checkoutPayload), checkoutPayload.created_at),
    );
    expect(call).not.toBeNull();
    const [, eventName, params, options] = call!;
    expect(eventName).toBe(server.event_name);
    expect(options.eventID).toBe(checkoutPayload.token);
    expect(options.eventID).toBe(server.event_id);
    // The order of this checkout carries the same token as checkout_token.
    expect(options.eventID).toBe(fixture("orders-create-web").checkout_token);
    expect(params.content_ids).toEqual(server.custom_data?.content_ids);
    expect(params).toEqual(server.custom_data);
  });

  it("no token, no event", () => {
    expect(
      initiateCheckoutCall(pixelEvent("checkout_started", { lineItems: [] }, checkoutPayload.created_at)),
    ).toBeNull();
  });
});

describe("web pixel: mapping details", () => {
  it("normalises Shopify ids", () => {
    expect(shopifyNumericId("gid://shopify/Order/5678901234567")).toBe("5678901234567");
    expect(shopifyNumericId(5678901234567)).toBe("5678901234567");
    expect(
      shopifyNumericId(Buffer.from("gid://shopify/ProductVariant/46123456789012").toString("base64"), [
        "ProductVariant",
      ]),
    ).toBe("46123456789012");
    expect(shopifyNumericId("gid://shopify/Product/1", ["ProductVariant"])).toBeUndefined();
    expect(shopifyNumericId("f7b7e2ceb7cb153ee55467724bea2141")).toBeUndefined();
    expect(shopifyNumericId(null)).toBeUndefined();
  });

  it("merges repeated variants and drops non-positive quantities, like the server", () => {
    const line = (id: string, quantity: number, amount: number) => ({
      quantity,
      variant: { id, price: { amount, currencyCode: "USD" } },
    });
    expect(
      checkoutParams({
        totalPrice: { amount: 54, currencyCode: "USD" },
        lineItems: [line("1", 1, 18), line("1", 2, 18), line("2", 0, 5)],
      }),
    ).toEqual({
      value: 54,
      currency: "USD",
      content_ids: ["1"],
      contents: [{ id: "1", quantity: 3, item_price: 18 }],
      content_type: "product",
      num_items: 3,
    });
  });

  it("AddToCart from product_added_to_cart", () => {
    const call = addToCartCall({
      id: "evt-1",
      data: {
        cartLine: {
          quantity: 2,
          cost: { totalAmount: { amount: 36, currencyCode: "USD" } },
          merchandise: {
            id: "46123456789012",
            price: { amount: 18, currencyCode: "USD" },
            product: { id: "8912345678901" },
          },
        },
      },
    });
    expect(call).toEqual([
      "track",
      "AddToCart",
      {
        value: 36,
        currency: "USD",
        content_ids: ["46123456789012"],
        contents: [{ id: "46123456789012", quantity: 2, item_price: 18 }],
        content_type: "product",
        num_items: 2,
      },
      { eventID: "atc_46123456789012_evt-1" },
    ]);
  });

  it("sends the call to Meta's pixel endpoint with eid, custom data and browser ids", () => {
    const order = fixture("orders-create-web");
    const call = purchaseCall(
      pixelEvent("checkout_completed", pixelCheckoutFromOrder(order, "gid"), order.processed_at),
    )!;
    const request = pixelRequest("123456789012345", call, {
      href: "https://northwind.example/thank-you",
      timestampMs: NOW_MS,
      fbp: "fb.1.1763650000000.1234567890",
      fbc: "fb.1.1763650000000.IwAR2F4-dbP0l7Mn1Iaw",
    });
    expect(request.method).toBe("GET");
    const url = new URL(request.url);
    expect(url.origin + url.pathname).toBe("https://www.facebook.com/tr/");
    const q = url.searchParams;
    expect(q.get("id")).toBe("123456789012345");
    expect(q.get("ev")).toBe("Purchase");
    expect(q.get("eid")).toBe("5678901234567");
    expect(q.get("cd[value]")).toBe("82.25");
    expect(q.get("cd[currency]")).toBe("USD");
    expect(JSON.parse(q.get("cd[content_ids]")!)).toEqual(["46123456789012", "46123456789013"]);
    expect(q.get("fbp")).toBe("fb.1.1763650000000.1234567890");
    expect(q.get("fbc")).toBe("fb.1.1763650000000.IwAR2F4-dbP0l7Mn1Iaw");

    // Large carts go as a form POST instead of an over-long URL.
    const many = Array.from({ length: 80 }, (_, i) => ({
      quantity: 1,
      variant: { id: String(46000000000000 + i), price: { amount: 10, currencyCode: "USD" } },
    }));
    const big = pixelRequest("123456789012345", [
      "track",
      "Purchase",
      checkoutParams({ totalPrice: { amount: 800, currencyCode: "USD" }, lineItems: many }),
      { eventID: "1" },
    ]);
    expect(big.method).toBe("POST");
    expect(big.url).toBe("https://www.facebook.com/tr/");
    expect(new URLSearchParams(big.body).get("eid")).toBe("1");
  });
});

describe("web pixel: advanced matching normalises as the server does", () => {
  const sha = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
  // Values as they reach hashValue on the server: placeholders and padding included.
  const emails = [...EMAIL_CASES.map(([raw]) => raw), "null", " N/A ", "", "Ame\u0301lie@Example.fr"];

  it.each(emails)("email %j: the browser's hash is the server's user_data.em", async (raw) => {
    const browser = (await hashedMatch({ email: raw })).em;
    expect(browser).toBe(hashValue("em", raw));
    if (browser) expect(browser).toBe(await sha256Hex(matchValues({ email: raw }).em));
  });

  it("phones: on the core's vectors the browser's answer is the server's, or it sends none", () => {
    const agreed: string[] = [];
    for (const [raw, country, expected] of PHONE_CASES) {
      const browser = matchValues({ phone: raw, shippingAddress: { countryCode: country } }).ph;
      expect([raw, browser === undefined || browser === normalizePhone(raw, country)]).toEqual([raw, true]);
      if (browser !== undefined) agreed.push(raw);
      if (browser !== undefined) expect(browser).toBe(expected);
    }
    // International numbers, the form Shopify's checkout keeps, are all read.
    expect(agreed.length).toBeGreaterThanOrEqual(8);
  });

  it("phones: every country's example number, as E.164 and written internationally, hashes as on the server", () => {
    const omitted: string[] = [];
    let agreed = 0;
    for (const country of getCountries()) {
      const example = getExampleNumber(country, examples);
      if (!example) continue;
      for (const raw of [example.number, example.formatInternational()]) {
        const browser = matchValues({ phone: raw }).ph;
        if (browser === undefined) {
          omitted.push(`${country} ${raw}`);
          // The one documented gap: a 0 right after the calling code.
          expect([raw, example.nationalNumber.startsWith("0")]).toEqual([raw, true]);
        } else {
          expect([country, raw, browser]).toEqual([country, raw, normalizePhone(raw, country)]);
          agreed += 1;
        }
      }
    }
    expect(agreed).toBeGreaterThan(400);
    expect(omitted.length).toBeLessThan(agreed / 20);
  });

  it("knows every calling code libphonenumber knows, and no other", () => {
    const known = new Set([
      ...getCountries().map((country) => getCountryCallingCode(country)),
      ...Object.keys(phoneMetadata.nonGeographic ?? {}),
    ]);
    expect([...CALLING_CODE_LIST].sort()).toEqual([...known].sort());
  });

  it("known gaps: written forms only the phone metadata can read are left out, never hashed differently", () => {
    // A trunk 0 after the calling code: the server drops it with libphonenumber's data.
    for (const raw of ["+44 (0)20 7946 0958", "+43 (0) 664 123456"]) {
      expect(normalizePhone(raw, undefined)).toBeDefined();
      expect(matchValues({ phone: raw }).ph).toBeUndefined();
    }
    // National numbers need the country's plan.
    expect(matchValues({ phone: "(415) 555-0132", shippingAddress: { countryCode: "US" } }).ph).toBeUndefined();
  });

  it("takes the checkout's phone, then the shipping, then the billing address's", () => {
    const checkout = {
      email: " Jane.Doe@Example.COM ",
      phone: null,
      shippingAddress: { phone: "0 30 1234567" },
      billingAddress: { phone: "+49 30 1234567" },
    };
    expect(matchValues(checkout)).toEqual({ em: "jane.doe@example.com", ph: "49301234567" });
    expect(matchValues(undefined)).toEqual({});
    expect(sha("49301234567")).toBe(hashValue("ph", { value: "+49 30 1234567", country: "DE" }));
  });

  it("goes to Meta's pixel endpoint as ud[em] / ud[ph], only as hashes, with LDU when asked", async () => {
    const userData = await hashedMatch({ email: "jane@example.com", phone: "+1 650 555 1212" });
    const call = ["track", "Purchase", { value: 1, currency: "USD" }, { eventID: "42" }];
    const q = new URL(pixelRequest("123456789012345", call, { userData, ldu: true }).url).searchParams;
    expect(q.get("ud[em]")).toBe(sha("jane@example.com"));
    expect(q.get("ud[ph]")).toBe(sha("16505551212"));
    expect([q.get("dpo"), q.get("dpoco"), q.get("dpost")]).toEqual(["LDU", "0", "0"]);
    const plain = new URL(pixelRequest("123456789012345", call, { userData: { em: "jane@example.com" } }).url)
      .searchParams;
    expect(plain.get("ud[em]")).toBeNull();
    expect(plain.get("dpo")).toBeNull();
  });
});

describe("web pixel: once per event", () => {
  it("keys on event name and event id", () => {
    expect(sentKey(["track", "Purchase", {}, { eventID: "5678901234567" }])).toBe("Purchase:5678901234567");
    expect(sentKey(["track", "InitiateCheckout", {}, { eventID: "tok" }])).not.toBe(
      sentKey(["track", "Purchase", {}, { eventID: "tok" }]),
    );
  });

  it("keeps a bounded record, newest last, and survives junk in storage", () => {
    let list: string[] = [];
    for (let i = 0; i < SENT_MAX + 20; i++) list = recordSent(list, `Purchase:${i}`);
    expect(list).toHaveLength(SENT_MAX);
    expect(list.at(-1)).toBe(`Purchase:${SENT_MAX + 19}`);
    expect(list).not.toContain("Purchase:0");
    expect(recordSent(["a", "b"], "a")).toEqual(["b", "a"]);
    expect(parseSent(JSON.stringify(list))).toEqual(list);
    for (const junk of [null, undefined, "", "{", '{"a":1}', "[1,2]"]) expect(parseSent(junk)).toEqual([]);
    expect(parseSent(JSON.stringify(Array.from({ length: 500 }, (_, i) => `k${i}`)))).toHaveLength(SENT_MAX);
  });
});

describe("pixel IDs", () => {
  it("are accepted by both extensions exactly when the app accepts them", () => {
    for (const id of [
      "1234",
      "12345",
      "123456",
      "123456789012345",
      "12345678901234567890",
      "123456789012345678901",
      "12a456",
      " 123456",
      "",
    ]) {
      expect([id, isPixelId(id)]).toEqual([id, PIXEL_ID_PATTERN.test(id)]);
      expect([id, embed.isPixelId(id)]).toEqual([id, PIXEL_ID_PATTERN.test(id)]);
    }
  });
});
