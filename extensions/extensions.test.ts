// Tests of the two app extensions against the server's own code: the cart attributes the theme
// embed writes must read back through app/events/browser-ids.ts, and the web pixel's event ids
// must equal the server events' event_id for the same order / checkout (Meta's deduplication).
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { CART_ATTRIBUTE, browserIds, noteAttribute, parseConsent, type Consent } from "../app/events/browser-ids";
import type { BuildOutcome } from "../app/events/outcome";
import { prepareEvent } from "../app/events/prepare";
import { DEFAULT_SETTINGS } from "../app/events/settings";
import { isValidFbc, isValidFbp } from "../app/meta/browser-ids";
import { PIXEL_ID_PATTERN } from "../app/meta/pixel-id";
import { RECORDED_NOW_SECONDS, shopifyFixture } from "../test/support/fixtures";
import {
  addToCartCall,
  isPixelId,
  checkoutParams,
  initiateCheckoutCall,
  pixelRequest,
  purchaseCall,
  purchaseEventId,
  shopifyNumericId,
} from "./capi-relay-pixel/src/mapping.js";

// The theme asset is a plain script; it exports its functions only when `module` exists.
// extensions/capi-relay-embed/package.json ("type": "commonjs") makes require() treat it as such.
const require = createRequire(import.meta.url);
const embed = require("./capi-relay-embed/assets/capi-relay.js");

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
    expect(embed.desiredAttributes({ fbp: "fb.1.x.y", fbc: "nonsense" }, {}, "")).toEqual({});
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
      "data-pixel-id": " 123456789012345 ",
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
      pixelId: "123456789012345",
      loadPixel: false,
      pageType: "product",
      currency: "EUR",
      product: { id: "8912345678901", variantId: "46123456789012", price: 1656 },
    });
    expect(embed.readConfig({ getElementById: () => null })).toEqual({});
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
  appended: Array<Record<string, any>>;
  runTimers(): Promise<void>;
  dispatch(type: string, detail: unknown): void;
}

const PUBLIC_SUFFIXES = new Set(["com", "co.uk", "myshopify.com"]);

function fakePage(options: {
  href: string;
  consent?: Record<string, boolean>;
  fetchFails?: boolean;
  cartIgnoresWrites?: boolean;
  fbq?: unknown;
}): FakePage {
  const url = new URL(options.href);
  const jar = new Map<string, string>();
  const timers: Array<() => void> = [];
  const listeners = new Map<string, Array<(e: unknown) => void>>();
  const cart = { attributes: {} as Record<string, string> };
  const posts: Array<Record<string, string>> = [];
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
  const privacy = options.consent
    ? {
        marketingAllowed: () => options.consent!.marketing,
        analyticsProcessingAllowed: () => options.consent!.analytics,
        saleOfDataAllowed: () => options.consent!.saleOfData,
      }
    : undefined;
  const window: Record<string, any> = {
    location: { href: url.href, hostname: url.hostname, protocol: url.protocol },
    navigator: { userAgent: "Mozilla/5.0 TestBrowser" },
    Shopify: { customerPrivacy: privacy, routes: { root: "/" } },
    sessionStorage: new Map<string, string>([["capi_relay_sid", "sess1"]]),
    ...(options.fbq ? { fbq: options.fbq } : {}),
  };
  window.sessionStorage.getItem = (k: string) => window.sessionStorage.get(k) ?? null;
  window.sessionStorage.setItem = (k: string, v: string) => window.sessionStorage.set(k, v);
  const fetch = async (input: string, init: { method?: string; body?: string }) => {
    if (options.fetchFails) throw new TypeError("network down");
    if (input === "/cart.js")
      return { ok: true, json: async () => ({ token: "c1", attributes: { ...cart.attributes } }) };
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
  const env = {
    window,
    document,
    fetch,
    now: () => NOW_MS,
    random: () => 0.5,
    setTimeout: (fn: () => void) => timers.push(fn),
    clearTimeout: () => {},
    config: {
      pixelId: "123456789012345",
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
    appended,
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
  };
}

describe("theme embed: on a storefront page", () => {
  const fbclid = "IwAR2F4-dbP0l7Mn1IawQQ";

  it("ad click with consent: sets _fbc/_fbp, loads the pixel, writes the cart once", async () => {
    const page = fakePage({
      href: `https://www.northwind.example.com/products/wool-socks?fbclid=${fbclid}`,
      consent: { marketing: true, analytics: true, saleOfData: true },
    });
    const relay = embed.createRelay(page.env);
    relay.start();
    await page.runTimers();

    expect(page.jar.get("_fbc")).toBe(`fb.1.${NOW_MS}.${fbclid}`);
    expect(page.jar.get("_fbp")).toMatch(/^fb\.1\.\d{13}\.\d{10}$/);
    expect(page.appended).toEqual([
      { tag: "script", async: true, src: "https://connect.facebook.net/en_US/fbevents.js" },
    ]);
    const calls = page.window.fbq.queue.map((args: IArguments) => [...args]);
    expect(calls).toEqual([
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

  it("marketing declined: no pixel, no new cookies, only the consent attribute (and clears old ids)", async () => {
    const page = fakePage({
      href: `https://shop.example.com/?fbclid=${fbclid}`,
      consent: { marketing: false, analytics: false, saleOfData: false },
    });
    page.cart.attributes = { _fbp: "fb.1.1763650000000.1234567890", note: "gift" };
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(page.jar.size).toBe(0);
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

  it("consent given later (visitorConsentCollected): then cookies, pixel and an updated cart", async () => {
    const consent = { marketing: false, analytics: false, saleOfData: true };
    const page = fakePage({ href: `https://shop.example.com/?fbclid=${fbclid}`, consent });
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(page.jar.size).toBe(0);

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

    // Withdrawn again: the loaded pixel is told, the cart loses the ids.
    Object.assign(consent, { marketing: false });
    page.dispatch("visitorConsentCollected", {
      marketingAllowed: false,
      analyticsAllowed: true,
      saleOfDataAllowed: true,
    });
    await page.runTimers();
    expect([...page.window.fbq.queue.at(-1)]).toEqual(["consent", "revoke"]);
    expect(page.cart.attributes).toEqual({ _capi_consent: "marketing=0;analytics=1;sale_of_data=1" });
  });

  it("leaves a pixel loaded by someone else alone", async () => {
    const existing = Object.assign(() => {}, { queue: [] });
    const page = fakePage({
      href: "https://shop.example.com/",
      consent: { marketing: true, analytics: true, saleOfData: true },
      fbq: existing,
    });
    const relay = embed.createRelay(page.env);
    relay.start();
    await page.runTimers();
    expect(page.window.fbq).toBe(existing);
    expect(relay.state.pixel).toBe("external");
    expect(page.posts).toHaveLength(1);
  });

  it("never throws into the page and never loops", async () => {
    const broken = fakePage({ href: "https://shop.example.com/", fetchFails: true });
    const relay = embed.createRelay(broken.env);
    expect(() => relay.start()).not.toThrow();
    await broken.runTimers();
    await expect(relay.sync()).resolves.toBeUndefined();

    // A cart that never keeps the attributes: the page gives up after a few writes.
    const stubborn = fakePage({
      href: "https://shop.example.com/",
      consent: { marketing: true, analytics: true, saleOfData: true },
      cartIgnoresWrites: true,
    });
    const again = embed.createRelay(stubborn.env);
    again.start();
    await stubborn.runTimers();
    for (let i = 0; i < 10; i++) await again.sync();
    expect(stubborn.posts.length).toBeLessThanOrEqual(4);
  });

  it("without the customer privacy API: consent unknown, identifiers still written, no consent attribute", async () => {
    const page = fakePage({ href: "https://shop.example.com/" });
    page.env.config = { loadPixel: false };
    embed.createRelay(page.env).start();
    await page.runTimers();
    expect(page.window.fbq).toBeUndefined();
    expect(page.posts).toEqual([{ _fbp: page.jar.get("_fbp"), _capi_ua: "Mozilla/5.0 TestBrowser" }]);
    expect(parseConsent(asNoteAttributes(page.cart.attributes))).toEqual({});
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
