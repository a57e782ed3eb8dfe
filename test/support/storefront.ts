// A storefront for browser tests of the theme app embed and the web pixel: the embed block's
// real Liquid rendered with liquidjs (Shopify's objects as the test gives them), product pages
// around it with the asset Shopify injects for the schema's "javascript", a fake Ajax Cart API
// with Shopify's cart cookie and a checkout that records what the cart carried, the app proxy's
// sighting endpoint, a stand-in for window.Shopify's Customer Privacy API the test can drive,
// Meta's standard snippet for a theme's own pixel, a recorder in place of fbevents.js, and a
// page running the web pixel's bundle (built as the Shopify CLI builds it) in a real Web Worker
// under a recorded Web Pixels API. The worker's fetch is its own: where the pixel sends is up to
// the test's routing (routeOutside).
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Liquid, Tag, type TagToken, type TopLevelToken } from "liquidjs";
import type { BrowserContext, Route } from "playwright-core";
import { z } from "zod";

const EXTENSIONS = fileURLToPath(new URL("../../extensions/", import.meta.url));
const BLOCK = path.join(EXTENSIONS, "capi-relay-embed/blocks/capi-relay.liquid");
const ASSETS = path.join(EXTENSIONS, "capi-relay-embed/assets");

// ------------------------------------------------------------------ the embed block's Liquid

const schemaSchema = z.object({
  name: z.string(),
  target: z.string(),
  javascript: z.string().regex(/^[\w.-]+\.js$/),
  settings: z.array(z.object({ id: z.string(), type: z.string(), default: z.unknown().optional() })),
});
export type EmbedSchema = z.infer<typeof schemaSchema>;

/** Shopify's objects the block reads, as the test sets them. */
export interface EmbedContext {
  /** app.metafields.capi_relay.pixel_ids: what the app writes; undefined when it wrote none. */
  appPixelIds?: string;
  /** block.settings, over the schema's defaults. */
  settings?: Record<string, unknown>;
  /** request.page_type: "product", "collection", "index", "cart"... */
  pageType: string;
  designMode?: boolean;
  /** product on a product page; price in minor units, as Liquid's variant.price. */
  product?: { id: number; variantId: number; price: number };
  /** cart.currency.iso_code: the buyer's (presentment) currency. */
  currency: string;
}

export interface RenderedBlock {
  html: string;
  schema: EmbedSchema;
}

/**
 * blocks/capi-relay.liquid rendered as Shopify would for `context`. `{% schema %}` is Shopify's
 * tag, not Liquid's: it renders nothing and its JSON is returned, as Shopify reads it.
 */
export async function renderEmbedBlock(context: EmbedContext): Promise<RenderedBlock> {
  let schemaText: string | undefined;
  const engine = new Liquid({ strictFilters: true });
  engine.registerTag(
    "schema",
    class extends Tag {
      constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
        super(token, remain, liquid);
        const parts: string[] = [];
        while (remain.length) {
          const next = remain.shift()!;
          if ("name" in next && next.name === "endschema") {
            schemaText = parts.join("");
            return;
          }
          parts.push(next.getText());
        }
        throw new Error("{% schema %} is not closed");
      }
      render(): string {
        return "";
      }
    },
  );
  const template = engine.parse(readFileSync(BLOCK, "utf8"));
  // Parsing runs the tag's constructor: the schema is known before rendering.
  const schema = schemaSchema.parse(JSON.parse(schemaText ?? "null"));
  const defaults = Object.fromEntries(schema.settings.map((s) => [s.id, s.default ?? null]));
  const html = await engine.render(template, {
    app: {
      metafields: {
        capi_relay: context.appPixelIds === undefined ? {} : { pixel_ids: { value: context.appPixelIds } },
      },
    },
    block: { settings: { ...defaults, ...context.settings } },
    request: { page_type: context.pageType, design_mode: context.designMode ?? false },
    product: context.product && {
      id: context.product.id,
      selected_or_first_available_variant: { id: context.product.variantId, price: context.product.price },
    },
    cart: { currency: { iso_code: context.currency } },
  });
  return { html, schema };
}

// ------------------------------------------------------------------ the web pixel's bundle

/** The pixel built as the Shopify CLI builds it (see extensions/web-pixel-bundle.test.ts). */
export async function bundleWebPixel(): Promise<string> {
  const built = await build({
    stdin: {
      contents: "import './src/index.js';",
      resolveDir: path.join(EXTENSIONS, "capi-relay-pixel"),
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
  return built.outputFiles[0]!.text;
}

// ------------------------------------------------------------------ the visitor's browser

/** A desktop Chrome's user agent, which the embed treats as a person. */
export const CHROME_USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
/** A crawler's, which the embed must leave alone. */
export const GOOGLEBOT_USER_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

export const FBEVENTS_URL = "https://connect.facebook.net/en_US/fbevents.js";
/** Meta's browser pixel endpoint, where fbevents.js and the web pixel send: www.facebook.com/tr. */
export const isMetaPixelEndpoint = (url: URL) => url.host === "www.facebook.com" && /^\/tr\/?$/.test(url.pathname);

/** The context's cookies by name, decoded as the embed reads them. */
export const cookiesOf = async (context: BrowserContext): Promise<Record<string, string>> =>
  Object.fromEntries((await context.cookies()).map((cookie) => [cookie.name, decodeURIComponent(cookie.value)]));

/** What became of a request the browser made to a host other than this machine. */
export interface OutsideRequest {
  url: string;
  method: string;
  body?: string;
  /** "refused", "answered" (by the test) or the URL it was forwarded to. */
  to: string;
  status?: number;
}

/** How the test answers an outside request: forwarded to a local URL, or answered on the spot. */
export type OutsideAnswer = { forward: string } | { status?: number; contentType?: string; body?: string };

/**
 * Every request of `context` to a host other than 127.0.0.1, recorded in `routed` in order and
 * answered as `answer` says; refused when it says nothing. Nothing leaves the machine.
 */
export async function routeOutside(
  context: BrowserContext,
  routed: OutsideRequest[],
  answer: (url: URL) => OutsideAnswer | undefined,
): Promise<void> {
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, async (route: Route) => {
    const request = route.request();
    const entry: OutsideRequest = { url: request.url(), method: request.method(), to: "refused" };
    const body = request.postData();
    if (body !== null) entry.body = body;
    routed.push(entry);
    const how = answer(new URL(request.url()));
    if (!how) return route.abort();
    if ("forward" in how) {
      entry.to = how.forward;
      const response = await route.fetch({ url: how.forward });
      entry.status = response.status();
      return route.fulfill({ response });
    }
    entry.to = "answered";
    entry.status = how.status ?? 200;
    return route.fulfill({ status: entry.status, contentType: how.contentType, body: how.body ?? "" });
  });
}

/** Meta's standard base code as a theme or another app pastes it, for one pixel. */
export const metaSnippet = (
  pixelId: string,
) => `!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}(window,document,'script','${FBEVENTS_URL}');
fbq('init', '${pixelId}');
fbq('track', 'PageView');`;

// In place of Meta's fbevents.js: it records every call (window.__fbq) and, as fbevents.js
// does, what each pixel would send (window.__sent: [pixel id, event, eventID]): a pixel inited
// again is ignored, track goes to every pixel inited, trackSingle to the one named. Its
// getState().pixels is the shape fbevents.js gives.
export const FBEVENTS_RECORDER = `(function () {
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

// ------------------------------------------------------------------ the storefront

// window.Shopify as the test wants it: `privacy` in the page's query says how the Customer
// Privacy API behaves: "yes" (the default), "no", "ldu" (marketing yes, sale of data refused),
// "later" (the banner shows, marketing not yet), "slow" (loadFeatures never answers by itself),
// "error" (loadFeatures fails). window.__privacy lets the test answer the slow API, or decide
// on the banner later (Shopify's visitorConsentCollected).
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

// The Web Pixels API inside the worker: shopify.extend, analytics, init, customerPrivacy, and
// browser.cookie / localStorage asked of the page (in Shopify they also run in the top frame).
// fetch is recorded, then sent: the test's routing answers it.
const PIXEL_WORKER_PRELUDE = `
var render, handlers = {}, consentListeners = [], asks = {}, seq = 0;
self.shopify = { extend: function (point, fn) { render = fn; postMessage({ type: "registered", point: point }); } };
function ask(op, key, value) {
  return new Promise(function (resolve) { var id = ++seq; asks[id] = resolve; postMessage({ type: "ask", id: id, op: op, key: key, value: value }); });
}
var workerFetch = self.fetch.bind(self);
self.fetch = function (url, init) {
  postMessage({ type: "fetch", url: String(url), method: (init && init.method) || "GET", body: init && typeof init.body === "string" ? init.body : undefined });
  return workerFetch(url, init);
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
  if (m.type === "emit") Promise.resolve(handlers[m.event.name] && handlers[m.event.name](m.event)).then(function () { postMessage({ type: "handled" }); });
};`;

// window.harness on /pixel: start(init, settings) renders the pixel, emit(event) resolves once
// its handler has, consent(status) is a change on the page; requests are the worker's fetches.
const PIXEL_PAGE = `
window.harness = { requests: [], registered: [] };
var worker = new Worker("/pixel-worker.js");
var handled = [];
worker.onmessage = function (message) {
  var m = message.data;
  if (m.type === "registered") harness.registered.push(m.point);
  if (m.type === "fetch") harness.requests.push({ url: m.url, method: m.method, body: m.body });
  if (m.type === "handled") handled.splice(0).forEach(function (resolve) { resolve(); });
  if (m.type === "ask") {
    var value = null;
    if (m.op === "cookie") value = decodeURIComponent((document.cookie.match(new RegExp("(?:^|; )" + m.key + "=([^;]*)")) || [])[1] || "");
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

/** A request the pixel's worker made, as window.harness.requests lists it. */
export interface PixelRequest {
  url: string;
  method: string;
  body?: string;
}

export interface StorefrontProduct {
  handle: string;
  title: string;
  id: number;
  variantId: number;
  /** Minor units. */
  price: number;
}

export interface CartLine {
  variantId: number;
  quantity: number;
}

export interface Cart {
  token: string;
  attributes: Record<string, string>;
  lines: CartLine[];
}

export interface Storefront {
  origin: string;
  /** Every request, "METHOD /path". */
  requests: string[];
  /** The cart's attributes each time the checkout was reached (the cart form's post, the checkout page). */
  checkouts: Array<Record<string, string>>;
  /** The pixel ids posted to the app proxy's /apps/capi-relay/seen. */
  sightings: string[];
  cart(token: string | undefined): Cart | undefined;
  /** A cart made earlier in the visit, for a visitor who already has one: its token is the cookie's value. */
  openCart(lines: CartLine[]): Cart;
  close(): Promise<void>;
}

export interface StorefrontOptions {
  products: StorefrontProduct[];
  currency: string;
  /** app.metafields.capi_relay.pixel_ids. */
  appPixelIds: string;
  settings?: Record<string, unknown>;
  /** The web pixel's bundle, for /pixel. */
  pixelBundle: string;
}

const addSchema = z.object({
  items: z
    .array(z.object({ id: z.coerce.number().int().positive(), quantity: z.coerce.number().int().min(1).max(100) }))
    .min(1)
    .max(20),
});
const changeSchema = z.object({
  line: z.coerce.number().int().min(1).max(100),
  quantity: z.coerce.number().int().min(0).max(100),
});
const updateSchema = z.object({ attributes: z.record(z.string().max(100), z.string().max(2000)).default({}) });
const otherPixelSchema = z.enum(["leave", "take_over"]);
const pixelIdSchema = z.string().regex(/^\d{6,20}$/);

async function readBody(req: http.IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

const cartCookie = (req: http.IncomingMessage) => /(?:^|;\s*)cart=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];

/**
 * A product page. What a test varies from page to page is in its query, beside `privacy`:
 * `embed=off` (the app embed switched off in the theme editor), `other_pixel` (the block's
 * "When another Meta pixel is on the page" setting), `theme_pixel=<id>` (the theme pastes
 * Meta's snippet for that pixel in its <head>, before the embed).
 */
async function productPage(product: StorefrontProduct, o: StorefrontOptions, query: URLSearchParams): Promise<string> {
  const otherPixel = query.get("other_pixel");
  const themePixel = query.get("theme_pixel");
  const { html, schema } = await renderEmbedBlock({
    appPixelIds: o.appPixelIds,
    settings: { ...o.settings, ...(otherPixel === null ? {} : { other_pixel: otherPixelSchema.parse(otherPixel) }) },
    pageType: "product",
    product: { id: product.id, variantId: product.variantId, price: product.price },
    currency: o.currency,
  });
  const price = (product.price / 100).toFixed(2);
  // Shopify places an app embed of target "body" before </body>, with its schema's
  // javascript as a deferred script from the extension's assets.
  const embed =
    query.get("embed") === "off" ? "" : `${html}\n<script src="/assets/${schema.javascript}" defer></script>`;
  const theme = themePixel === null ? "" : `\n<script>${metaSnippet(pixelIdSchema.parse(themePixel))}</script>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${product.title}</title>
<script>${PRIVACY_STAND_IN}</script>${theme}</head>
<body style="font-family: sans-serif; padding: 24px">
<h1>${product.title}</h1><p>${price} ${o.currency}</p>
<label>Quantity <input id="quantity" type="number" value="1" min="1"></label>
<button id="add-to-cart">Add to cart</button>
<button id="add-xhr">Add to cart (XHR theme)</button>
<button id="drawer-quantity">Quantity 2 (cart drawer)</button>
<form action="/cart" method="post"><button type="submit" name="checkout" id="checkout">Check out</button></form>
<p><a id="checkout-link" href="/checkout">Checkout link</a></p>
<script>
  var json = { "Content-Type": "application/json" };
  var item = function () {
    return JSON.stringify({ items: [{ id: ${product.variantId}, quantity: Number(document.getElementById("quantity").value) }] });
  };
  document.getElementById("add-to-cart").onclick = function () {
    fetch("/cart/add.js", { method: "POST", headers: json, body: item() });
  };
  document.getElementById("add-xhr").onclick = function () {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/cart/add.js");
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.send(item());
  };
  document.getElementById("drawer-quantity").onclick = function () {
    fetch("/cart/change.js?sections=cart-drawer", { method: "POST", headers: json, body: JSON.stringify({ line: 1, quantity: 2 }) });
  };
</script>
${embed}
</body></html>`;
}

export async function startStorefront(o: StorefrontOptions): Promise<Storefront> {
  const requests: string[] = [];
  const checkouts: Array<Record<string, string>> = [];
  const sightings: string[] = [];
  const carts = new Map<string, Cart>();
  const openCart = (lines: CartLine[]): Cart => {
    const fresh: Cart = { token: `c1-${carts.size + 1}`, attributes: {}, lines };
    carts.set(fresh.token, fresh);
    return fresh;
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, "http://127.0.0.1");
    requests.push(`${req.method} ${url.pathname}`);
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "Content-Type": type, ...headers });
      res.end(body);
    };
    const token = cartCookie(req);
    const cart = token ? carts.get(token) : undefined;
    const view = (c: Cart | undefined) => ({
      token: c?.token ?? null,
      attributes: c?.attributes ?? {},
      item_count: c?.lines.reduce((n, l) => n + l.quantity, 0) ?? 0,
      items: c?.lines.map((l) => ({ id: l.variantId, variant_id: l.variantId, quantity: l.quantity })) ?? [],
      currency: o.currency,
    });
    // Shopify makes a cart on the first write without one, and says so in its cookie: an
    // update from the embed without a cart would make one, which it must never cause.
    const target = (): { cart: Cart; headers: Record<string, string> } => {
      if (cart) return { cart, headers: {} };
      const fresh = openCart([]);
      return { cart: fresh, headers: { "Set-Cookie": `cart=${fresh.token}; Path=/; SameSite=Lax` } };
    };
    const product = o.products.find((p) => url.pathname === `/products/${p.handle}`);
    try {
      if (product) return send(200, "text/html", await productPage(product, o, url.searchParams));
      if (url.pathname.startsWith("/assets/")) {
        const name = path.basename(url.pathname);
        return send(200, "text/javascript", readFileSync(path.join(ASSETS, name), "utf8"));
      }
      if (url.pathname === "/pixel")
        return send(200, "text/html", `<!doctype html><title>Thank you</title><script>${PIXEL_PAGE}</script>`);
      if (url.pathname === "/pixel-worker.js")
        return send(200, "text/javascript", `${PIXEL_WORKER_PRELUDE}\n${o.pixelBundle}`);
      if (url.pathname === "/apps/capi-relay/seen" && req.method === "POST") {
        // Shopify's app proxy would sign it and forward it to app/routes/proxy.seen.tsx.
        sightings.push(pixelIdSchema.parse(url.searchParams.get("id")));
        return send(204, "text/plain", "");
      }
      if (url.pathname === "/cart.js") return send(200, "application/json", JSON.stringify(view(cart)));
      if (url.pathname === "/cart/add.js" && req.method === "POST") {
        const { items } = addSchema.parse(JSON.parse(await readBody(req)));
        const { cart: c, headers } = target();
        for (const item of items) {
          const line = c.lines.find((l) => l.variantId === item.id);
          if (line) line.quantity += item.quantity;
          else c.lines.push({ variantId: item.id, quantity: item.quantity });
        }
        return send(200, "application/json", JSON.stringify({ items }), headers);
      }
      if (url.pathname === "/cart/change.js" && req.method === "POST") {
        const { line, quantity } = changeSchema.parse(JSON.parse(await readBody(req)));
        if (!cart || line > cart.lines.length) return send(400, "text/plain", "no such line in the cart");
        if (quantity === 0) cart.lines.splice(line - 1, 1);
        else cart.lines[line - 1]!.quantity = quantity;
        return send(200, "application/json", JSON.stringify(view(cart)));
      }
      if (url.pathname === "/cart/update.js" && req.method === "POST") {
        const { attributes } = updateSchema.parse(JSON.parse((await readBody(req)) || "{}"));
        const { cart: c, headers } = target();
        for (const [key, value] of Object.entries(attributes)) {
          if (value === "") delete c.attributes[key];
          else c.attributes[key] = value;
        }
        return send(200, "application/json", JSON.stringify(view(c)), headers);
      }
      if (url.pathname === "/cart" && req.method === "POST") {
        checkouts.push({ ...cart?.attributes });
        return send(302, "text/plain", "", { Location: "/checkout" });
      }
      if (url.pathname === "/checkout") {
        checkouts.push({ ...cart?.attributes });
        return send(200, "text/html", "<!doctype html><title>Checkout</title><h1>Checkout</h1>");
      }
      send(404, "text/plain", "not found");
    } catch (error) {
      send(400, "text/plain", (error as Error).message);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    checkouts,
    sightings,
    cart: (token) => (token ? carts.get(token) : undefined),
    openCart,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
