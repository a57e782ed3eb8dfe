// The theme app embed's built asset (assets/capi-relay.js) on a storefront page in a real
// browser (Debian's Chromium through playwright-core), and the web pixel's bundle in a real Web
// Worker. The page is the embed block's markup as Liquid renders it (data attributes), a stand-in
// for window.Shopify's Customer Privacy API driven by the test, and a fake Ajax Cart API with
// Shopify's cart cookie. Meta's fbevents.js is replaced by a recorder; every other outside host
// is refused and recorded. What is asserted: consent scenarios (API slow, API error, declined,
// accepted later, withdrawn, sale of data refused), cart attributes after fetch and XHR cart
// changes and before checkout, no cart for a visitor without one, bots skipped, another Meta
// pixel on the page (the theme's, before or after ours: no PageView twice, a sighting posted to
// the app proxy once per tab, the "Take over" setting, nothing without consent); and the
// storefront cost (script size, requests, main-thread time), printed and kept in bench/out/
// with screenshots and the recorded calls.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { build } from "esbuild";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashValue } from "../app/meta/user-data";
import { canRunBrowserTests, chromiumLaunchOptions } from "../test/support/browser";
import { waitFor } from "../test/support/wait";

const ROOT = path.resolve(__dirname, "..");
const OUT = path.join(ROOT, "bench/out");
const ASSET = readFileSync(path.join(__dirname, "capi-relay-embed/assets/capi-relay.js"), "utf8");
const PIXEL_ID = "123456789012345";
const OTHER_PIXEL_ID = "987654321098";
const FBCLID = "IwAR2F4-dbP0l7Mn1IawQQ";
const USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
const SUITE = "storefront embed and web pixel in Chromium";

// ------------------------------------------------------------------ the fake storefront

interface Cart {
  token: string;
  attributes: Record<string, string>;
  items: number;
}

/** What the storefront server saw: every request, carts, and the cart at checkout. */
const seen = {
  requests: [] as string[],
  carts: new Map<string, Cart>(),
  checkouts: [] as Array<Record<string, string>>,
  /** The pixel ids posted to the app proxy's /apps/capi-relay/seen. */
  sightings: [] as string[],
};

// window.Shopify as the test wants it: `privacy` in the page's query picks how the Customer
// Privacy API behaves; window.__privacy lets the test answer or change it later.
const PRIVACY_STAND_IN = `(function () {
  var mode = new URLSearchParams(location.search).get("privacy") || "yes";
  var consent = { marketing: mode === "yes" || mode === "ldu", analytics: mode !== "no", sale: mode !== "ldu" };
  var api = {
    marketingAllowed: function () { return consent.marketing; },
    analyticsProcessingAllowed: function () { return consent.analytics; },
    saleOfDataAllowed: function () { return consent.sale; },
    shouldShowBanner: function () { return mode === "later"; },
  };
  var waiting = [];
  window.Shopify = {
    routes: { root: "/" },
    loadFeatures: function (features, callback) {
      if (mode === "error") return setTimeout(function () { callback(new Error("consent-tracking-api failed")); }, 0);
      if (mode === "slow") return waiting.push(callback);
      window.Shopify.customerPrivacy = api;
      setTimeout(function () { callback(); }, 0);
    },
  };
  window.__privacy = {
    answer: function (values) {
      Object.assign(consent, values);
      window.Shopify.customerPrivacy = api;
      waiting.splice(0).forEach(function (callback) { callback(); });
    },
    decide: function (values) {
      Object.assign(consent, values);
      document.dispatchEvent(new CustomEvent("visitorConsentCollected", { detail: {
        marketingAllowed: consent.marketing, analyticsAllowed: consent.analytics, saleOfDataAllowed: consent.sale,
      } }));
    },
  };
})();`;

// The block as blocks/capi-relay.liquid renders it on a product page (settings: the pixel id,
// load_pixel on, "When another Meta pixel is on the page" as given; product 8912345678901,
// variant 46123456789012 at 18.00 USD). Written out here.
const embedMarkup = (otherPixel: string) => `<div id="capi-relay-config" hidden data-pixel-ids="${PIXEL_ID}"
  data-load-pixel="true" data-other-pixel="${otherPixel}" data-page-type="product" data-currency="USD"
  data-product-id="8912345678901" data-variant-id="46123456789012" data-price="1800"></div>`;

/** Meta's standard base code as a theme or another app pastes it, for one pixel. */
const metaSnippet = (pixelId: string) => `!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '${pixelId}');
fbq('track', 'PageView');`;

/**
 * The page; `?theme_pixel=<id>` puts Meta's snippet for that pixel in the theme's <head>
 * (before the embed), `?other_pixel=take_over` is the embed's setting.
 */
function productPage(withEmbed: boolean, query: URLSearchParams = new URLSearchParams()): string {
  const themePixel = query.get("theme_pixel");
  return `<!doctype html><html><head><meta charset="utf-8"><title>Wool socks</title>
<script>${PRIVACY_STAND_IN}</script>${themePixel ? `\n<script>${metaSnippet(themePixel)}</script>` : ""}</head>
<body style="font-family: sans-serif; padding: 24px">
<h1>Wool socks</h1><p>18.00 USD</p>
<button id="add-fetch">Add to cart</button>
<button id="add-xhr">Add to cart (XHR theme)</button>
<button id="quantity">Quantity +1 (cart drawer)</button>
<form action="/cart" method="post"><button type="submit" name="checkout" id="checkout">Check out</button></form>
<p><a id="checkout-link" href="/checkout">Checkout link</a></p>
<script>
  var item = JSON.stringify({ items: [{ id: 46123456789012, quantity: 1 }] });
  var json = { "Content-Type": "application/json" };
  document.getElementById("add-fetch").onclick = function () {
    fetch("/cart/add.js", { method: "POST", headers: json, body: item });
  };
  document.getElementById("add-xhr").onclick = function () {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/cart/add.js");
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.send(item);
  };
  document.getElementById("quantity").onclick = function () {
    fetch("/cart/change.js?sections=cart-drawer", { method: "POST", headers: json, body: JSON.stringify({ line: 1, quantity: 2 }) });
  };
</script>
${withEmbed ? `${embedMarkup(query.get("other_pixel") ?? "leave")}\n<script src="/assets/capi-relay.js" defer></script>` : ""}
</body></html>`;
}

const cartCookie = (req: http.IncomingMessage) => /(?:^|;\s*)cart=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];

async function body(req: http.IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

function storefront(): http.Server {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url!, "http://127.0.0.1");
    seen.requests.push(`${req.method} ${url.pathname}`);
    const json = (value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(200, { "Content-Type": "application/json", ...headers });
      res.end(JSON.stringify(value));
    };
    const token = cartCookie(req);
    const cart = token ? seen.carts.get(token) : undefined;
    const view = (c: Cart | undefined) => ({
      token: c?.token ?? null,
      attributes: c?.attributes ?? {},
      item_count: c?.items ?? 0,
    });
    const created = () => {
      const fresh: Cart = { token: `c1-${seen.carts.size + 1}`, attributes: {}, items: 0 };
      seen.carts.set(fresh.token, fresh);
      return fresh;
    };
    const setCookie = (c: Cart) => ({ "Set-Cookie": `cart=${c.token}; Path=/; SameSite=Lax` });
    if (url.pathname === "/products/wool-socks") {
      res.writeHead(200, { "Content-Type": "text/html" });
      return res.end(productPage(url.searchParams.get("embed") !== "off", url.searchParams));
    }
    if (url.pathname === "/pixel") {
      res.writeHead(200, { "Content-Type": "text/html" });
      return res.end(`<!doctype html><title>pixel</title><script>${PIXEL_PAGE}</script>`);
    }
    if (url.pathname === "/pixel-worker.js") {
      res.writeHead(200, { "Content-Type": "text/javascript" });
      return res.end(`${PIXEL_WORKER_PRELUDE}\n${pixelBundle}`);
    }
    if (url.pathname === "/assets/capi-relay.js") {
      res.writeHead(200, { "Content-Type": "text/javascript" });
      return res.end(ASSET);
    }
    if (url.pathname === "/apps/capi-relay/seen" && req.method === "POST") {
      // Shopify's app proxy would sign it and forward it to app/routes/proxy.seen.tsx.
      seen.sightings.push(url.searchParams.get("id") ?? "");
      res.writeHead(204);
      return res.end();
    }
    if (url.pathname === "/cart.js") return json(view(cart));
    if (url.pathname === "/cart/add.js") {
      const target = cart ?? created();
      target.items += 1;
      await body(req);
      return json({ items: [] }, cart ? {} : setCookie(target));
    }
    if (url.pathname === "/cart/change.js") return json(view(cart));
    if (url.pathname === "/cart/update.js") {
      // Shopify creates a cart for an update without one: the embed must never cause that.
      const target = cart ?? created();
      const { attributes = {} } = JSON.parse((await body(req)) || "{}");
      for (const [key, value] of Object.entries(attributes as Record<string, string>)) {
        if (value === "") delete target.attributes[key];
        else target.attributes[key] = value;
      }
      return json(view(target), cart ? {} : setCookie(target));
    }
    if (url.pathname === "/cart" && req.method === "POST") {
      seen.checkouts.push({ ...(cart?.attributes ?? {}) });
      res.writeHead(302, { Location: "/checkout" });
      return res.end();
    }
    if (url.pathname === "/checkout") {
      seen.checkouts.push({ ...(cart?.attributes ?? {}) });
      res.writeHead(200, { "Content-Type": "text/html" });
      return res.end("<!doctype html><title>Checkout</title><h1>Checkout</h1>");
    }
    res.writeHead(404);
    res.end();
  });
}

// ------------------------------------------------------------------ the web pixel in a Worker

// The Web Pixels API for the bundle inside a dedicated worker: shopify.extend, analytics,
// browser.cookie / localStorage answered by the page (in Shopify they also run in the top
// frame), init and customerPrivacy. fetch is recorded and answered here: the strict sandbox
// sends to Meta, which a test must not reach.
const PIXEL_WORKER_PRELUDE = `
var render, handlers = {}, consentListeners = [], asks = {}, seq = 0;
self.shopify = { extend: function (point, fn) { render = fn; postMessage({ type: "registered", point: point }); } };
function ask(op, key, value) {
  return new Promise(function (resolve) { var id = ++seq; asks[id] = resolve; postMessage({ type: "ask", id: id, op: op, key: key, value: value }); });
}
self.fetch = function (url, init) {
  postMessage({ type: "fetch", url: String(url), method: init && init.method });
  return Promise.resolve(new Response(null, { status: 204 }));
};
self.onmessage = function (message) {
  var m = message.data;
  if (m.type === "answer") return asks[m.id](m.value);
  if (m.type === "render") return render({
    settings: m.settings, init: m.init,
    analytics: { subscribe: function (name, fn) { handlers[name] = fn; } },
    customerPrivacy: { subscribe: function (name, fn) { consentListeners.push(fn); return Promise.resolve(); } },
    browser: {
      cookie: { get: function (name) { return ask("cookie", name); } },
      localStorage: { getItem: function (key) { return ask("get", key); }, setItem: function (key, value) { return ask("set", key, value); } },
    },
  });
  if (m.type === "consent") return consentListeners.forEach(function (fn) { fn({ customerPrivacy: m.status }); });
  if (m.type === "emit") Promise.resolve(handlers[m.event.name](m.event)).then(function () { postMessage({ type: "handled" }); });
};`;

const PIXEL_PAGE = `
window.harness = { requests: [], registered: [] };
var worker = new Worker("/pixel-worker.js");
var handled = [];
worker.onmessage = function (message) {
  var m = message.data;
  if (m.type === "registered") harness.registered.push(m.point);
  if (m.type === "fetch") harness.requests.push(m.url);
  if (m.type === "handled") handled.splice(0).forEach(function (resolve) { resolve(); });
  if (m.type === "ask") {
    var value = null;
    if (m.op === "cookie") value = (document.cookie.match(new RegExp("(?:^|; )" + m.key + "=([^;]*)")) || [])[1] || "";
    if (m.op === "get") value = localStorage.getItem(m.key);
    if (m.op === "set") localStorage.setItem(m.key, m.value);
    worker.postMessage({ type: "answer", id: m.id, value: value });
  }
};
harness.start = function (init, settings) { worker.postMessage({ type: "render", init: init, settings: settings }); };
harness.consent = function (status) { worker.postMessage({ type: "consent", status: status }); };
harness.emit = function (event) {
  return new Promise(function (resolve) { handled.push(resolve); worker.postMessage({ type: "emit", event: event }); });
};`;

let pixelBundle = "";

// ------------------------------------------------------------------ harness

let browser: Browser;
let server: http.Server;
let origin: string;
const external: string[] = [];
const record: Record<string, unknown> = {};

beforeAll(async () => {
  if (!canRunBrowserTests(SUITE)) return;
  mkdirSync(OUT, { recursive: true });
  // The pixel built as the Shopify CLI builds it (see web-pixel-bundle.test.ts).
  const built = await build({
    stdin: {
      contents: "import './src/index.js';",
      resolveDir: path.join(__dirname, "capi-relay-pixel"),
      loader: "tsx",
    },
    bundle: true,
    minify: true,
    target: "es6",
    loader: { ".js": "jsx" },
    resolveExtensions: [".tsx", ".ts", ".js", ".json", ".mjs"],
    write: false,
    logLevel: "silent",
  });
  pixelBundle = built.outputFiles[0]!.text;
  server = storefront();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch(chromiumLaunchOptions);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (Object.keys(record).length) {
    writeFileSync(path.join(OUT, "storefront-embed-calls.json"), `${JSON.stringify(record, null, 2)}\n`);
  }
});

// Meta's fbevents.js replaced: it records every call (window.__fbq) and, as fbevents.js does,
// what each pixel would send (window.__sent: [pixel id, event, eventID]): a pixel inited
// again is ignored, track goes to every pixel inited, trackSingle to the one named. Its
// getState().pixels is the shape fbevents.js gives.
const FBEVENTS_RECORDER = `(function () {
  var f = window.fbq, pixels = [];
  window.__fbq = []; window.__sent = [];
  f.getState = function () { return { pixels: pixels.map(function (id) { return { id: id }; }) }; };
  f.callMethod = function () {
    var a = Array.prototype.slice.call(arguments);
    window.__fbq.push(a);
    var send = function (id, event, options) { window.__sent.push([id, event, (options && options.eventID) || null]); };
    if (a[0] === "init" && pixels.indexOf(String(a[1])) < 0) pixels.push(String(a[1]));
    if (a[0] === "track") pixels.forEach(function (id) { send(id, a[1], a[3]); });
    if (a[0] === "trackSingle" && pixels.indexOf(String(a[1])) >= 0) send(String(a[1]), a[2], a[4]);
  };
  f.queue.splice(0).forEach(function (args) { f.callMethod.apply(f, args); });
})();`;

/** A fresh visitor (own cookies and storage), fbevents.js replaced by a recorder, other hosts refused. */
async function visitor(
  options: { userAgent?: string; cart?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ userAgent: options.userAgent ?? USER_AGENT });
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => {
    const url = route.request().url();
    external.push(url);
    if (url === "https://connect.facebook.net/en_US/fbevents.js") {
      return route.fulfill({ contentType: "text/javascript", body: FBEVENTS_RECORDER });
    }
    return route.abort();
  });
  if (options.cart) {
    const cart: Cart = { token: `c1-existing-${seen.carts.size}`, attributes: {}, items: 1 };
    seen.carts.set(cart.token, cart);
    await context.addCookies([{ name: "cart", value: cart.token, url: origin }]);
  }
  return { context, page: await context.newPage() };
}

const cookies = async (context: BrowserContext) =>
  Object.fromEntries((await context.cookies()).map((cookie) => [cookie.name, cookie.value]));
const fbqCalls = (page: Page) => page.evaluate(() => (window as any).__fbq ?? null);
/** What the pixels sent, as the fbevents.js recorder counts it: [pixel id, event, eventID]. */
const sent = (page: Page) => page.evaluate(() => (window as any).__sent as Array<[string, string, string | null]>);
const countOf = (list: Array<[string, string, string | null]>, pixelId: string, event: string) =>
  list.filter(([id, name]) => id === pixelId && name === event).length;
const cartOf = async (context: BrowserContext) => seen.carts.get((await cookies(context)).cart ?? "")?.attributes;
/** Requests the storefront saw from `from` on, without the page and its scripts. */
const cartRequestsSince = (from: number) => seen.requests.slice(from).filter((r) => /\/cart/.test(r));

/** A screenshot with what the embed did written on the page (it shows nothing of its own). */
async function screenshot(page: Page, context: BrowserContext, name: string) {
  const state = { cookies: await cookies(context), cart: await cartOf(context), fbq: await fbqCalls(page) };
  await page.evaluate(
    (text) => {
      const pre = document.createElement("pre");
      pre.style.cssText = "background:#f4f4f4;padding:12px;font-size:12px;white-space:pre-wrap";
      pre.textContent = text;
      document.body.appendChild(pre);
    },
    JSON.stringify(state, null, 2),
  );
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function open(page: Page, query: string) {
  await page.goto(`${origin}/products/wool-socks?${query}`);
  await page.waitForFunction(() => (window as any).__capiRelay !== undefined);
}

describe.skipIf(!canRunBrowserTests(SUITE))(SUITE, () => {
  it("API slow: past the old 2.5 s deadline nothing fires, no cookie, no pixel, no cart call; then the answer starts it", async () => {
    const { context, page } = await visitor({ cart: true });
    await page.clock.install();
    const from = seen.requests.length;
    const externalFrom = external.length;
    await open(page, `privacy=slow&fbclid=${FBCLID}`);
    await page.clock.runFor(10_000);
    expect(Object.keys(await cookies(context)).filter((name) => name.startsWith("_fb"))).toEqual([]);
    expect(external.slice(externalFrom)).toEqual([]);
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
    const from = seen.requests.length;
    const externalFrom = external.length;
    await open(page, `privacy=error&fbclid=${FBCLID}`);
    await page.clock.runFor(10_000);
    expect(Object.keys(await cookies(context))).toEqual(["cart"]);
    expect(external.slice(externalFrom)).toEqual([]);
    expect(cartRequestsSince(from)).toEqual([]);
    expect(await fbqCalls(page)).toBeNull();
    await context.close();
  });

  it("declined: no Meta cookie or pixel; an existing cart records the refusal", async () => {
    const { context, page } = await visitor({ cart: true });
    const externalFrom = external.length;
    await open(page, `privacy=no&fbclid=${FBCLID}`);
    await waitFor(async () => (await cartOf(context))?._capi_consent !== undefined, 5_000, "the consent attribute");
    expect(await cartOf(context)).toEqual({ _capi_consent: "marketing=0;analytics=0;sale_of_data=1" });
    expect(Object.keys(await cookies(context))).toEqual(["cart"]);
    expect(external.slice(externalFrom)).toEqual([]);
    await context.close();
  });

  it("accepted later, then withdrawn: tracking starts on the yes and stops on the withdrawal", async () => {
    const { context, page } = await visitor({ cart: true });
    const externalFrom = external.length;
    await open(page, `privacy=later&fbclid=${FBCLID}`);
    await waitFor(async () => (await cartOf(context))?._capi_consent !== undefined, 5_000, "the consent attribute");
    expect(external.slice(externalFrom)).toEqual([]);

    await page.evaluate(() => (window as any).__privacy.decide({ marketing: true }));
    await waitFor(async () => (await cartOf(context))?._fbp !== undefined, 5_000, "the ids on the cart");
    await page.waitForFunction(() => Array.isArray((window as any).__fbq));
    expect(external.slice(externalFrom)).toEqual(["https://connect.facebook.net/en_US/fbevents.js"]);
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
    const from = seen.requests.length;
    await open(page, `privacy=yes&fbclid=${FBCLID}`);
    await page.waitForFunction(() => Array.isArray((window as any).__fbq));
    expect(cartRequestsSince(from)).toEqual([]);
    expect((await cookies(context)).cart).toBeUndefined();

    await page.click("#add-fetch");
    await waitFor(async () => (await cartOf(context))?._fbp !== undefined, 5_000, "the attributes after an Ajax add");
    expect(cartRequestsSince(from)).toEqual(["POST /cart/add.js", "GET /cart.js", "POST /cart/update.js"]);

    const afterAdd = seen.requests.length;
    await page.click("#add-xhr");
    await waitFor(async () => cartRequestsSince(afterAdd).includes("GET /cart.js"), 5_000, "a read after the XHR add");
    await page.click("#quantity");
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
      await page.click("#add-fetch");
      await page.waitForFunction(() => document.cookie.includes("cart="));
      const checkoutsFrom = seen.checkouts.length;
      // At once, inside the embed's debounce: without the hold the cart would still be bare.
      await Promise.all([page.waitForURL(/\/checkout$/), page.click(control)]);
      const atCheckout = seen.checkouts.slice(checkoutsFrom)[0]!;
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
      userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      cart: true,
    });
    const from = seen.requests.length;
    const externalFrom = external.length;
    await open(page, `privacy=yes&fbclid=${FBCLID}`);
    expect(await page.evaluate(() => (window as any).__capiRelay.state.bot)).toBe(true);
    expect(Object.keys(await cookies(context))).toEqual(["cart"]);
    expect(external.slice(externalFrom)).toEqual([]);
    expect(cartRequestsSince(from)).toEqual([]);
    await context.close();
  });

  /** The page after the embed decided about the pixel, Meta's script (the recorder) loaded. */
  async function settled(page: Page, pixel: "ours" | "external" | "off") {
    await page.waitForFunction((want) => (window as any).__capiRelay.state.pixel === want, pixel);
    if (pixel !== "off") await page.waitForFunction(() => Array.isArray((window as any).__sent));
    await page.waitForLoadState("networkidle");
  }
  const fbeventsLoads = (from: number) =>
    external.slice(from).filter((url) => url === "https://connect.facebook.net/en_US/fbevents.js").length;

  it("the theme's Meta pixel already running ours: no second PageView, one sighting, not again on the next page", async () => {
    const { context, page } = await visitor({ cart: true });
    const externalFrom = external.length;
    const sightingsFrom = seen.sightings.length;
    await open(page, `privacy=yes&theme_pixel=${PIXEL_ID}`);
    await settled(page, "external");
    await waitFor(async () => seen.sightings.length > sightingsFrom, 5_000, "the sighting");
    const first = await sent(page);
    expect(countOf(first, PIXEL_ID, "PageView")).toBe(1);
    expect(first).toEqual([[PIXEL_ID, "PageView", null]]); // the theme's own, nothing of ours
    expect(fbeventsLoads(externalFrom)).toBe(1);
    expect(seen.sightings.slice(sightingsFrom)).toEqual([PIXEL_ID]);
    // The cart still carries the browser ids for the server.
    await waitFor(async () => (await cartOf(context))?._fbp !== undefined, 5_000, "the cart attributes");

    await page.reload();
    await page.waitForFunction(() => (window as any).__capiRelay !== undefined);
    await settled(page, "external");
    expect(countOf(await sent(page), PIXEL_ID, "PageView")).toBe(1);
    expect(seen.sightings.slice(sightingsFrom)).toEqual([PIXEL_ID]);
    expect(await page.evaluate(() => sessionStorage.getItem("capi_relay_seen"))).toContain(PIXEL_ID);
    record.themePixelRunsOurs = {
      fbq: await fbqCalls(page),
      sent: first,
      sightings: seen.sightings.slice(sightingsFrom),
    };
    await screenshot(page, context, "storefront-embed-theme-pixel-ours");
    await context.close();
  });

  it("the theme's Meta pixel running another pixel: ours is added to its fbq, each pixel gets its own events once", async () => {
    const { context, page } = await visitor({ cart: true });
    const externalFrom = external.length;
    const sightingsFrom = seen.sightings.length;
    await open(page, `privacy=yes&theme_pixel=${OTHER_PIXEL_ID}`);
    await settled(page, "external");
    const list = await sent(page);
    expect(list).toEqual([
      [OTHER_PIXEL_ID, "PageView", null],
      [PIXEL_ID, "PageView", null],
      [PIXEL_ID, "ViewContent", expect.stringMatching(/^view_8912345678901_/)],
    ]);
    expect(fbeventsLoads(externalFrom)).toBe(1);
    expect(seen.sightings.slice(sightingsFrom)).toEqual([]);
    record.themePixelRunsAnother = { fbq: await fbqCalls(page), sent: list };
    await context.close();
  });

  it("Meta's snippet loaded after ours (ours, then another pixel): it uses our fbq, nothing is counted twice, ours is reported", async () => {
    const { context, page } = await visitor({ cart: true });
    const externalFrom = external.length;
    const sightingsFrom = seen.sightings.length;
    await open(page, "privacy=yes");
    await settled(page, "ours");
    await page.addScriptTag({ content: metaSnippet(PIXEL_ID) });
    await page.addScriptTag({ content: metaSnippet(OTHER_PIXEL_ID) });
    await waitFor(async () => seen.sightings.length > sightingsFrom, 5_000, "the sighting");
    const list = await sent(page);
    expect(list).toEqual([
      [PIXEL_ID, "PageView", null],
      [PIXEL_ID, "ViewContent", expect.stringMatching(/^view_8912345678901_/)],
      [OTHER_PIXEL_ID, "PageView", null],
    ]);
    // The snippet returns early when window.fbq exists: one fbevents.js.
    expect(fbeventsLoads(externalFrom)).toBe(1);
    expect(seen.sightings.slice(sightingsFrom)).toEqual([PIXEL_ID]);
    record.snippetAfterOurs = { fbq: await fbqCalls(page), sent: list, sightings: seen.sightings.slice(sightingsFrom) };
    await context.close();
  });

  it('"Take over": ours fires on the theme\'s fbq anyway (PageView twice until the merchant removes the other), and is reported', async () => {
    const { context, page } = await visitor({ cart: true });
    const sightingsFrom = seen.sightings.length;
    await open(page, `privacy=yes&theme_pixel=${PIXEL_ID}&other_pixel=take_over`);
    await settled(page, "external");
    await page.waitForFunction(() => (window as any).__sent.length >= 3);
    const list = await sent(page);
    expect(list).toEqual([
      [PIXEL_ID, "PageView", null],
      [PIXEL_ID, "PageView", null],
      [PIXEL_ID, "ViewContent", expect.stringMatching(/^view_8912345678901_/)],
    ]);
    await waitFor(async () => seen.sightings.length > sightingsFrom, 5_000, "the sighting");
    expect(seen.sightings.slice(sightingsFrom)).toEqual([PIXEL_ID]);
    record.takeOver = { fbq: await fbqCalls(page), sent: list };
    await context.close();
  });

  it("the theme's Meta pixel, marketing declined: no sighting, nothing of ours on its fbq", async () => {
    const { context, page } = await visitor({ cart: true });
    const sightingsFrom = seen.sightings.length;
    const from = seen.requests.length;
    await open(page, `privacy=no&theme_pixel=${PIXEL_ID}`);
    await waitFor(async () => (await cartOf(context))?._capi_consent !== undefined, 5_000, "the consent attribute");
    await page.waitForFunction(() => Array.isArray((window as any).__sent));
    await page.waitForLoadState("networkidle");
    expect(await page.evaluate(() => (window as any).__capiRelay.state.pixel)).toBe("off");
    expect(await sent(page)).toEqual([[PIXEL_ID, "PageView", null]]);
    expect(seen.sightings.slice(sightingsFrom)).toEqual([]);
    expect(seen.requests.slice(from).filter((r) => r.includes("/apps/"))).toEqual([]);
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
      const from = seen.requests.length;
      const externalFrom = external.length;
      await page.goto(`${origin}/products/wool-socks?privacy=yes&embed=${embed ? "on" : "off"}`);
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
        requests: seen.requests.slice(from + 1).filter((r) => !r.endsWith("/favicon.ico")),
        externalRequests: external.slice(externalFrom),
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
      await page.goto(`${origin}/pixel`);
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
      context: { document: { location: { href: `${origin}/checkouts/c/abc/thank-you` }, referrer: "" } },
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
    const requests = () => page.evaluate(() => (window as any).harness.requests as string[]);

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
