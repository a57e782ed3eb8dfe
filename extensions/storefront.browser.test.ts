// The theme app embed's built asset (assets/capi-relay.js) on a storefront page in a real
// browser (Debian's Chromium through playwright-core), and the web pixel's bundle in a real Web
// Worker, on the storefront of test/support/storefront.ts: the embed block's real Liquid
// (rendered with liquidjs), a stand-in for window.Shopify's Customer Privacy API driven by the
// test, and a fake Ajax Cart API with Shopify's cart cookie. Meta's fbevents.js is replaced by a
// recorder, the pixel's facebook.com/tr answered with nothing; every other outside host is
// refused, and all are recorded. What is asserted: consent scenarios (API slow, API error,
// declined, accepted later, withdrawn, sale of data refused), cart attributes after fetch and
// XHR cart changes and before checkout, no cart for a visitor without one, bots skipped,
// another Meta pixel on the page (the theme's, before or after ours: no PageView twice, a
// sighting posted to the app proxy once per tab, the "Take over" setting, nothing without
// consent); and the storefront cost (script size, requests, main-thread time), printed and
// kept in bench/out/ with screenshots and the recorded calls.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashValue } from "../app/meta/user-data";
import { canRunBrowserTests, chromiumLaunchOptions, screenshotWith } from "../test/support/browser";
import {
  bundleWebPixel,
  CHROME_USER_AGENT as USER_AGENT,
  cookiesOf as cookies,
  FBEVENTS_RECORDER,
  FBEVENTS_URL,
  isMetaPixelEndpoint,
  GOOGLEBOT_USER_AGENT,
  metaSnippet,
  routeOutside,
  startStorefront,
  type OutsideRequest,
  type PixelRequest,
  type Storefront,
  type StorefrontProduct,
} from "../test/support/storefront";
import { waitFor } from "../test/support/wait";

const ROOT = path.resolve(__dirname, "..");
const OUT = path.join(ROOT, "bench/out");
const ASSET = readFileSync(path.join(__dirname, "capi-relay-embed/assets/capi-relay.js"), "utf8");
const PIXEL_ID = "123456789012345";
const OTHER_PIXEL_ID = "987654321098";
const FBCLID = "IwAR2F4-dbP0l7Mn1IawQQ";
const SUITE = "storefront embed and web pixel in Chromium";
const SOCKS: StorefrontProduct = {
  handle: "wool-socks",
  title: "Wool socks",
  id: 8912345678901,
  variantId: 46123456789012,
  price: 1800,
};

// ------------------------------------------------------------------ harness

let browser: Browser;
let storefront: Storefront;
const outside: OutsideRequest[] = [];
const record: Record<string, unknown> = {};

beforeAll(async () => {
  if (!canRunBrowserTests(SUITE)) return;
  mkdirSync(OUT, { recursive: true });
  storefront = await startStorefront({
    products: [SOCKS],
    currency: "USD",
    appPixelIds: PIXEL_ID,
    pixelBundle: await bundleWebPixel(),
  });
  browser = await chromium.launch(chromiumLaunchOptions);
});

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
  if (Object.keys(record).length) {
    writeFileSync(path.join(OUT, "storefront-embed-calls.json"), `${JSON.stringify(record, null, 2)}\n`);
  }
});

/** The outside URLs the browser asked for, from `from` on. */
const externalSince = (from: number) => outside.slice(from).map((r) => r.url);

/**
 * A fresh visitor (own cookies and storage), fbevents.js replaced by a recorder, the pixel's
 * sends answered with nothing (the worker records them), other hosts refused.
 */
async function visitor(
  options: { userAgent?: string; cart?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ userAgent: options.userAgent ?? USER_AGENT });
  await routeOutside(context, outside, (url) => {
    if (url.href === FBEVENTS_URL) return { contentType: "text/javascript", body: FBEVENTS_RECORDER };
    if (isMetaPixelEndpoint(url)) return { status: 204 };
    return undefined;
  });
  if (options.cart) {
    const cart = storefront.openCart([{ variantId: SOCKS.variantId, quantity: 1 }]);
    await context.addCookies([{ name: "cart", value: cart.token, url: storefront.origin }]);
  }
  return { context, page: await context.newPage() };
}

const fbqCalls = (page: Page) => page.evaluate(() => (window as any).__fbq ?? null);
/** What the pixels sent, as the fbevents.js recorder counts it: [pixel id, event, eventID]. */
const sent = (page: Page) => page.evaluate(() => (window as any).__sent as Array<[string, string, string | null]>);
const countOf = (list: Array<[string, string, string | null]>, pixelId: string, event: string) =>
  list.filter(([id, name]) => id === pixelId && name === event).length;
const cartOf = async (context: BrowserContext) => storefront.cart((await cookies(context)).cart)?.attributes;
/** Requests the storefront saw from `from` on, without the page and its scripts. */
const cartRequestsSince = (from: number) => storefront.requests.slice(from).filter((r) => /\/cart/.test(r));

/** A screenshot with what the embed did written on the page (it shows nothing of its own). */
async function screenshot(page: Page, context: BrowserContext, name: string) {
  const state = { cookies: await cookies(context), cart: await cartOf(context), fbq: await fbqCalls(page) };
  await screenshotWith(page, path.join(OUT, `${name}.png`), state);
}

async function open(page: Page, query: string) {
  await page.goto(`${storefront.origin}/products/${SOCKS.handle}?${query}`);
  await page.waitForFunction(() => (window as any).__capiRelay !== undefined);
}

describe.skipIf(!canRunBrowserTests(SUITE))(SUITE, () => {
  it("API slow: past the old 2.5 s deadline nothing fires, no cookie, no pixel, no cart call; then the answer starts it", async () => {
    const { context, page } = await visitor({ cart: true });
    await page.clock.install();
    const from = storefront.requests.length;
    const externalFrom = outside.length;
    await open(page, `privacy=slow&fbclid=${FBCLID}`);
    await page.clock.runFor(10_000);
    expect(Object.keys(await cookies(context)).filter((name) => name.startsWith("_fb"))).toEqual([]);
    expect(externalSince(externalFrom)).toEqual([]);
    expect(cartRequestsSince(from)).toEqual([]);
    expect(await cartOf(context)).toEqual({});

    await page.evaluate(() => (window as any).__privacy.answer({ marketing: true, analytics: true, sale: true }));
    await page.clock.runFor(1_000);
    await waitFor(async () => (await cartOf(context))?._fbc !== undefined, 5_000, "the cart attributes");
    const jar = await cookies(context);
    expect(jar._fbc).toMatch(new RegExp(`^fb\\.1\\.\\d{13}\\.${FBCLID}$`));
    expect(jar._fbp).toMatch(/^fb\.1\.\d{13}\.\d{10}$/);
    expect(await cartOf(context)).toEqual({
      _capi_consent: "marketing=1;analytics=1;sale_of_data=1",
      _fbp: jar._fbp,
      _fbc: jar._fbc,
      _capi_ua: USER_AGENT,
    });
    await context.close();
  });

  it("API error: loadFeatures fails, so nothing at all", async () => {
    const { context, page } = await visitor({ cart: true });
    await page.clock.install();
    const from = storefront.requests.length;
    const externalFrom = outside.length;
    await open(page, `privacy=error&fbclid=${FBCLID}`);
    await page.clock.runFor(10_000);
    expect(Object.keys(await cookies(context))).toEqual(["cart"]);
    expect(externalSince(externalFrom)).toEqual([]);
    expect(cartRequestsSince(from)).toEqual([]);
    expect(await fbqCalls(page)).toBeNull();
    await context.close();
  });

  it("declined: no Meta cookie or pixel; an existing cart records the refusal", async () => {
    const { context, page } = await visitor({ cart: true });
    const externalFrom = outside.length;
    await open(page, `privacy=no&fbclid=${FBCLID}`);
    await waitFor(async () => (await cartOf(context))?._capi_consent !== undefined, 5_000, "the consent attribute");
    expect(await cartOf(context)).toEqual({ _capi_consent: "marketing=0;analytics=0;sale_of_data=1" });
    expect(Object.keys(await cookies(context))).toEqual(["cart"]);
    expect(externalSince(externalFrom)).toEqual([]);
    await context.close();
  });

  it("accepted later, then withdrawn: tracking starts on the yes and stops on the withdrawal", async () => {
    const { context, page } = await visitor({ cart: true });
    const externalFrom = outside.length;
    await open(page, `privacy=later&fbclid=${FBCLID}`);
    await waitFor(async () => (await cartOf(context))?._capi_consent !== undefined, 5_000, "the consent attribute");
    expect(externalSince(externalFrom)).toEqual([]);

    await page.evaluate(() => (window as any).__privacy.decide({ marketing: true }));
    await waitFor(async () => (await cartOf(context))?._fbp !== undefined, 5_000, "the ids on the cart");
    await page.waitForFunction(() => Array.isArray((window as any).__fbq));
    expect(externalSince(externalFrom)).toEqual(["https://connect.facebook.net/en_US/fbevents.js"]);
    expect((await fbqCalls(page)).map((call: unknown[]) => call.slice(0, 2))).toEqual([
      ["init", PIXEL_ID],
      ["track", "PageView"],
      ["track", "ViewContent"],
    ]);
    await screenshot(page, context, "storefront-embed-accepted-later");

    await page.evaluate(() => (window as any).__privacy.decide({ marketing: false }));
    await waitFor(async () => (await cartOf(context))?._fbp === undefined, 5_000, "the ids cleared from the cart");
    expect((await fbqCalls(page)).at(-1)).toEqual(["consent", "revoke"]);
    expect(await cartOf(context)).toEqual({ _capi_consent: "marketing=0;analytics=1;sale_of_data=1" });
    record.acceptedThenWithdrawn = { fbq: await fbqCalls(page), cart: await cartOf(context) };
    await context.close();
  });

  it("sale of data refused: the browser pixel gets Limited Data Use before init, the cart says so for the server", async () => {
    const { context, page } = await visitor({ cart: true });
    await open(page, "privacy=ldu");
    await page.waitForFunction(() => Array.isArray((window as any).__fbq));
    expect((await fbqCalls(page)).slice(0, 2)).toEqual([
      ["dataProcessingOptions", ["LDU"], 0, 0],
      ["init", PIXEL_ID],
    ]);
    await waitFor(async () => (await cartOf(context))?._capi_consent !== undefined, 5_000, "the consent attribute");
    expect((await cartOf(context))!._capi_consent).toBe("marketing=1;analytics=1;sale_of_data=0");
    record.saleOfDataRefused = { fbq: await fbqCalls(page) };
    await context.close();
  });

  it("a first visit makes no cart; an Ajax add (fetch, then XHR) gets the attributes at once, a quantity change only reads", async () => {
    const { context, page } = await visitor();
    const from = storefront.requests.length;
    await open(page, `privacy=yes&fbclid=${FBCLID}`);
    await page.waitForFunction(() => Array.isArray((window as any).__fbq));
    expect(cartRequestsSince(from)).toEqual([]);
    expect((await cookies(context)).cart).toBeUndefined();

    await page.click("#add-to-cart");
    await waitFor(async () => (await cartOf(context))?._fbp !== undefined, 5_000, "the attributes after an Ajax add");
    expect(cartRequestsSince(from)).toEqual(["POST /cart/add.js", "GET /cart.js", "POST /cart/update.js"]);

    const afterAdd = storefront.requests.length;
    await page.click("#add-xhr");
    await waitFor(async () => cartRequestsSince(afterAdd).includes("GET /cart.js"), 5_000, "a read after the XHR add");
    await page.click("#drawer-quantity");
    await waitFor(
      async () => cartRequestsSince(afterAdd).filter((r) => r === "GET /cart.js").length === 2,
      5_000,
      "a read after the quantity change",
    );
    // The attributes were current: read twice, written never.
    expect(cartRequestsSince(afterAdd)).toEqual([
      "POST /cart/add.js",
      "GET /cart.js",
      "POST /cart/change.js",
      "GET /cart.js",
    ]);
    record.ajaxCart = { requests: cartRequestsSince(from), cart: await cartOf(context) };
    await screenshot(page, context, "storefront-embed-ajax-cart");
    await context.close();
  });

  it.each(["#checkout", "#checkout-link"])(
    "checkout (%s) right after an add waits for the attributes: the checkout sees them",
    async (control) => {
      const { context, page } = await visitor();
      await open(page, `privacy=yes&fbclid=${FBCLID}`);
      await page.waitForFunction(() => Array.isArray((window as any).__fbq));
      await page.click("#add-to-cart");
      await page.waitForFunction(() => document.cookie.includes("cart="));
      const checkoutsFrom = storefront.checkouts.length;
      // At once, inside the embed's debounce: without the hold the cart would still be bare.
      await Promise.all([page.waitForURL(/\/checkout$/), page.click(control)]);
      const atCheckout = storefront.checkouts.slice(checkoutsFrom)[0]!;
      const jar = await cookies(context);
      expect(atCheckout).toEqual({
        _capi_consent: "marketing=1;analytics=1;sale_of_data=1",
        _fbp: jar._fbp,
        _fbc: jar._fbc,
        _capi_ua: USER_AGENT,
      });
      await context.close();
    },
  );

  it("known bots: no cookie, no pixel, no cart call", async () => {
    const { context, page } = await visitor({
      userAgent: GOOGLEBOT_USER_AGENT,
      cart: true,
    });
    const from = storefront.requests.length;
    const externalFrom = outside.length;
    await open(page, `privacy=yes&fbclid=${FBCLID}`);
    expect(await page.evaluate(() => (window as any).__capiRelay.state.bot)).toBe(true);
    expect(Object.keys(await cookies(context))).toEqual(["cart"]);
    expect(externalSince(externalFrom)).toEqual([]);
    expect(cartRequestsSince(from)).toEqual([]);
    await context.close();
  });

  /** The page after the embed decided about the pixel, Meta's script (the recorder) loaded. */
  async function settled(page: Page, pixel: "ours" | "external" | "off") {
    await page.waitForFunction((want) => (window as any).__capiRelay.state.pixel === want, pixel);
    if (pixel !== "off") await page.waitForFunction(() => Array.isArray((window as any).__sent));
    await page.waitForLoadState("networkidle");
  }
  const fbeventsLoads = (from: number) => externalSince(from).filter((url) => url === FBEVENTS_URL).length;

  it("the theme's Meta pixel already running ours: no second PageView, one sighting, not again on the next page", async () => {
    const { context, page } = await visitor({ cart: true });
    const externalFrom = outside.length;
    const sightingsFrom = storefront.sightings.length;
    await open(page, `privacy=yes&theme_pixel=${PIXEL_ID}`);
    await settled(page, "external");
    await waitFor(async () => storefront.sightings.length > sightingsFrom, 5_000, "the sighting");
    const first = await sent(page);
    expect(countOf(first, PIXEL_ID, "PageView")).toBe(1);
    expect(first).toEqual([[PIXEL_ID, "PageView", null]]); // the theme's own, nothing of ours
    expect(fbeventsLoads(externalFrom)).toBe(1);
    expect(storefront.sightings.slice(sightingsFrom)).toEqual([PIXEL_ID]);
    // The cart still carries the browser ids for the server.
    await waitFor(async () => (await cartOf(context))?._fbp !== undefined, 5_000, "the cart attributes");

    await page.reload();
    await page.waitForFunction(() => (window as any).__capiRelay !== undefined);
    await settled(page, "external");
    expect(countOf(await sent(page), PIXEL_ID, "PageView")).toBe(1);
    expect(storefront.sightings.slice(sightingsFrom)).toEqual([PIXEL_ID]);
    expect(await page.evaluate(() => sessionStorage.getItem("capi_relay_seen"))).toContain(PIXEL_ID);
    record.themePixelRunsOurs = {
      fbq: await fbqCalls(page),
      sent: first,
      sightings: storefront.sightings.slice(sightingsFrom),
    };
    await screenshot(page, context, "storefront-embed-theme-pixel-ours");
    await context.close();
  });

  it("the theme's Meta pixel running another pixel: ours is added to its fbq, each pixel gets its own events once", async () => {
    const { context, page } = await visitor({ cart: true });
    const externalFrom = outside.length;
    const sightingsFrom = storefront.sightings.length;
    await open(page, `privacy=yes&theme_pixel=${OTHER_PIXEL_ID}`);
    await settled(page, "external");
    const list = await sent(page);
    expect(list).toEqual([
      [OTHER_PIXEL_ID, "PageView", null],
      [PIXEL_ID, "PageView", null],
      [PIXEL_ID, "ViewContent", expect.stringMatching(/^view_8912345678901_/)],
    ]);
    expect(fbeventsLoads(externalFrom)).toBe(1);
    expect(storefront.sightings.slice(sightingsFrom)).toEqual([]);
    record.themePixelRunsAnother = { fbq: await fbqCalls(page), sent: list };
    await context.close();
  });

  it("Meta's snippet loaded after ours (ours, then another pixel): it uses our fbq, nothing is counted twice, ours is reported", async () => {
    const { context, page } = await visitor({ cart: true });
    const externalFrom = outside.length;
    const sightingsFrom = storefront.sightings.length;
    await open(page, "privacy=yes");
    await settled(page, "ours");
    await page.addScriptTag({ content: metaSnippet(PIXEL_ID) });
    await page.addScriptTag({ content: metaSnippet(OTHER_PIXEL_ID) });
    await waitFor(async () => storefront.sightings.length > sightingsFrom, 5_000, "the sighting");
    const list = await sent(page);
    expect(list).toEqual([
      [PIXEL_ID, "PageView", null],
      [PIXEL_ID, "ViewContent", expect.stringMatching(/^view_8912345678901_/)],
      [OTHER_PIXEL_ID, "PageView", null],
    ]);
    // The snippet returns early when window.fbq exists: one fbevents.js.
    expect(fbeventsLoads(externalFrom)).toBe(1);
    expect(storefront.sightings.slice(sightingsFrom)).toEqual([PIXEL_ID]);
    record.snippetAfterOurs = {
      fbq: await fbqCalls(page),
      sent: list,
      sightings: storefront.sightings.slice(sightingsFrom),
    };
    await context.close();
  });

  it('"Take over": ours fires on the theme\'s fbq anyway (PageView twice until the merchant removes the other), and is reported', async () => {
    const { context, page } = await visitor({ cart: true });
    const sightingsFrom = storefront.sightings.length;
    await open(page, `privacy=yes&theme_pixel=${PIXEL_ID}&other_pixel=take_over`);
    await settled(page, "external");
    await page.waitForFunction(() => (window as any).__sent.length >= 3);
    const list = await sent(page);
    expect(list).toEqual([
      [PIXEL_ID, "PageView", null],
      [PIXEL_ID, "PageView", null],
      [PIXEL_ID, "ViewContent", expect.stringMatching(/^view_8912345678901_/)],
    ]);
    await waitFor(async () => storefront.sightings.length > sightingsFrom, 5_000, "the sighting");
    expect(storefront.sightings.slice(sightingsFrom)).toEqual([PIXEL_ID]);
    record.takeOver = { fbq: await fbqCalls(page), sent: list };
    await context.close();
  });

  it("the theme's Meta pixel, marketing declined: no sighting, nothing of ours on its fbq", async () => {
    const { context, page } = await visitor({ cart: true });
    const sightingsFrom = storefront.sightings.length;
    const from = storefront.requests.length;
    await open(page, `privacy=no&theme_pixel=${PIXEL_ID}`);
    await waitFor(async () => (await cartOf(context))?._capi_consent !== undefined, 5_000, "the consent attribute");
    await page.waitForFunction(() => Array.isArray((window as any).__sent));
    await page.waitForLoadState("networkidle");
    expect(await page.evaluate(() => (window as any).__capiRelay.state.pixel)).toBe("off");
    expect(await sent(page)).toEqual([[PIXEL_ID, "PageView", null]]);
    expect(storefront.sightings.slice(sightingsFrom)).toEqual([]);
    expect(storefront.requests.slice(from).filter((r) => r.includes("/apps/"))).toEqual([]);
    record.themePixelDeclined = { fbq: await fbqCalls(page), sightings: [] };
    await context.close();
  });

  it("storefront cost: script size, requests, main-thread time (printed, kept in bench/out)", async () => {
    const measure = async (embed: boolean) => {
      const { context, page } = await visitor({ cart: true });
      const cdp = await context.newCDPSession(page);
      await cdp.send("Performance.enable");
      await page.addInitScript(() => {
        (window as any).__longTasks = [];
        new PerformanceObserver((list) =>
          (window as any).__longTasks.push(...list.getEntries().map((e) => e.duration)),
        ).observe({ type: "longtask", buffered: true });
      });
      const from = storefront.requests.length;
      const externalFrom = outside.length;
      await page.goto(`${storefront.origin}/products/${SOCKS.handle}?privacy=yes&embed=${embed ? "on" : "off"}`);
      if (embed) await waitFor(async () => (await cartOf(context))?._fbp !== undefined, 5_000, "the cart write");
      await page.waitForLoadState("networkidle");
      const { metrics } = await cdp.send("Performance.getMetrics");
      const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
      const result = await page.evaluate(() => ({
        longTasks: (window as any).__longTasks as number[],
        script: performance
          .getEntriesByType("resource")
          .filter((e) => e.name.endsWith("/assets/capi-relay.js"))
          .map((e) => (e as PerformanceResourceTiming).encodedBodySize)[0],
      }));
      await context.close();
      return {
        scriptBytes: result.script ?? 0,
        // Besides the page itself (and the favicon Chromium may ask for).
        requests: storefront.requests.slice(from + 1).filter((r) => !r.endsWith("/favicon.ico")),
        externalRequests: externalSince(externalFrom),
        longTasks: result.longTasks.length,
        scriptDurationMs: Math.round(metric("ScriptDuration") * 1000 * 10) / 10,
        taskDurationMs: Math.round(metric("TaskDuration") * 1000 * 10) / 10,
      };
    };
    const without = await measure(false);
    const withEmbed = await measure(true);
    const cost = { without, withEmbed };
    console.log(
      "storefront embed cost (Chromium, product page, consent given, a cart):",
      JSON.stringify(cost, null, 2),
    );
    writeFileSync(path.join(OUT, "storefront-embed-cost.json"), `${JSON.stringify(cost, null, 2)}\n`);
    // What does not vary from run to run: the bytes and the requests.
    expect(withEmbed.scriptBytes).toBe(Buffer.byteLength(ASSET));
    expect(withEmbed.scriptBytes).toBeLessThan(10_000);
    expect(without.requests).toEqual([]);
    // The asset, one cart read, one cart write; Meta's script outside.
    expect(withEmbed.requests).toEqual(["GET /assets/capi-relay.js", "GET /cart.js", "POST /cart/update.js"]);
    expect(withEmbed.externalRequests).toEqual(["https://connect.facebook.net/en_US/fbevents.js"]);
  });

  it("web pixel in a real Web Worker: hashed email and phone as the server hashes them, one Purchase across a reload, LDU", async () => {
    const { context, page } = await visitor();
    const start = async (status: Record<string, boolean>) => {
      await page.goto(`${storefront.origin}/pixel`);
      await page.waitForFunction(() => (window as any).harness.registered.length === 1);
      await page.evaluate(([init, settings]) => (window as any).harness.start(init, settings), [
        { customerPrivacy: status },
        { pixelIds: PIXEL_ID },
      ] as const);
    };
    const allowed = { analyticsProcessingAllowed: true, marketingAllowed: true, saleOfDataAllowed: true };
    const checkout = {
      id: "sh-1",
      name: "checkout_completed",
      timestamp: new Date().toISOString(),
      context: { document: { location: { href: `${storefront.origin}/checkouts/c/abc/thank-you` }, referrer: "" } },
      data: {
        checkout: {
          token: "abc",
          email: " Jane.Doe@Example.com ",
          phone: "+1 613 555 1111",
          currencyCode: "USD",
          totalPrice: { amount: 82.25, currencyCode: "USD" },
          order: { id: "gid://shopify/Order/5678901234567" },
          lineItems: [],
        },
      },
    };
    const emit = (event: unknown) => page.evaluate((e) => (window as any).harness.emit(e), event);
    const requests = async () =>
      (await page.evaluate(() => (window as any).harness.requests as PixelRequest[])).map((r) => r.url);

    await start(allowed);
    await emit(checkout);
    const [sent] = await requests();
    const q = new URL(sent!).searchParams;
    expect([q.get("ev"), q.get("eid")]).toEqual(["Purchase", "5678901234567"]);
    expect(q.get("ud[em]")).toBe(hashValue("em", " Jane.Doe@Example.com "));
    expect(q.get("ud[em]")).toBe(createHash("sha256").update("jane.doe@example.com").digest("hex"));
    expect(q.get("ud[ph]")).toBe(hashValue("ph", { value: "+1 613 555 1111", country: "CA" }));
    await emit(checkout);
    expect(await requests()).toHaveLength(1);

    // The thank-you page reloaded: a new worker, the same browser storage.
    await start(allowed);
    await emit(checkout);
    expect(await requests()).toEqual([]);

    // Another order, the sale of data refused: LDU. Consent withdrawn on the page: nothing.
    await start({ ...allowed, saleOfDataAllowed: false });
    const other = structuredClone(checkout);
    other.data.checkout.order.id = "gid://shopify/Order/5678901234568";
    await emit(other);
    const ldu = new URL((await requests())[0]!).searchParams;
    expect([ldu.get("dpo"), ldu.get("dpoco"), ldu.get("dpost")]).toEqual(["LDU", "0", "0"]);
    await page.evaluate(() => (window as any).harness.consent({ marketingAllowed: false }));
    const third = structuredClone(checkout);
    third.data.checkout.order.id = "gid://shopify/Order/5678901234569";
    await emit(third);
    expect(await requests()).toHaveLength(1);
    record.webPixel = { purchase: sent, ldu: (await requests())[0] };
    await context.close();
  });
});
