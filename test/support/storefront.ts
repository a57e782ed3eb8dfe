// A storefront for browser tests of the theme app embed and the web pixel: the embed block's
// real Liquid rendered with liquidjs (Shopify's objects as the test gives them), product pages
// around it with the asset Shopify injects for the schema's "javascript", a fake Ajax Cart API
// with Shopify's cart cookie, a stand-in for window.Shopify's Customer Privacy API, and a page
// running the web pixel's bundle (built as the Shopify CLI builds it) in a real Web Worker under
// a recorded Web Pixels API. Its fetch is the worker's own: where the pixel sends is up to the
// test's routing.
//
// extensions/storefront.browser.test.ts has its own copy of the cart, privacy and worker
// stand-ins (written before this file); the two may be merged.
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Liquid, Tag, type TagToken, type TopLevelToken } from "liquidjs";
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

// ------------------------------------------------------------------ the storefront

// window.Shopify as the test wants it: `privacy` in the page's query says what the visitor
// decided ("yes" by default, "no", "ldu": marketing yes, sale of data refused).
const PRIVACY_STAND_IN = `(function () {
  var mode = new URLSearchParams(location.search).get("privacy") || "yes";
  var consent = { marketing: mode !== "no", analytics: mode !== "no", sale: mode !== "ldu" };
  var api = {
    marketingAllowed: function () { return consent.marketing; },
    analyticsProcessingAllowed: function () { return consent.analytics; },
    saleOfDataAllowed: function () { return consent.sale; },
    shouldShowBanner: function () { return false; },
  };
  window.Shopify = {
    routes: { root: "/" },
    loadFeatures: function (features, callback) {
      window.Shopify.customerPrivacy = api;
      setTimeout(function () { callback(); }, 0);
    },
  };
})();`;

/** The Web Pixels API inside the worker, asking the page for cookies and storage as Shopify's does. */
const PIXEL_WORKER_PRELUDE = `
var render, handlers = {}, asks = {}, seq = 0;
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
    customerPrivacy: { subscribe: function () { return Promise.resolve(); } },
    browser: {
      cookie: { get: function (name) { return ask("cookie", name); } },
      localStorage: { getItem: function (key) { return ask("get", key); }, setItem: function (key, value) { return ask("set", key, value); } },
    },
  });
  if (m.type === "emit") Promise.resolve(handlers[m.event.name] && handlers[m.event.name](m.event)).then(function () { postMessage({ type: "handled" }); });
};`;

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
harness.emit = function (event) {
  return new Promise(function (resolve) { handled.push(resolve); worker.postMessage({ type: "emit", event: event }); });
};`;

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
  cart(token: string | undefined): Cart | undefined;
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
const updateSchema = z.object({ attributes: z.record(z.string().max(100), z.string().max(2000)).default({}) });

async function readBody(req: http.IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

const cartCookie = (req: http.IncomingMessage) => /(?:^|;\s*)cart=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];

async function productPage(product: StorefrontProduct, o: StorefrontOptions): Promise<string> {
  const { html, schema } = await renderEmbedBlock({
    appPixelIds: o.appPixelIds,
    settings: o.settings,
    pageType: "product",
    product: { id: product.id, variantId: product.variantId, price: product.price },
    currency: o.currency,
  });
  const price = (product.price / 100).toFixed(2);
  // Shopify places an app embed of target "body" before </body>, with its schema's
  // javascript as a deferred script from the extension's assets.
  return `<!doctype html><html><head><meta charset="utf-8"><title>${product.title}</title>
<script>${PRIVACY_STAND_IN}</script></head>
<body style="font-family: sans-serif; padding: 24px">
<h1>${product.title}</h1><p>${price} ${o.currency}</p>
<label>Quantity <input id="quantity" type="number" value="1" min="1"></label>
<button id="add-to-cart">Add to cart</button>
<script>
  document.getElementById("add-to-cart").onclick = function () {
    var quantity = Number(document.getElementById("quantity").value);
    fetch("/cart/add.js", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ items: [{ id: ${product.variantId}, quantity: quantity }] }) });
  };
</script>
${html}
<script src="/assets/${schema.javascript}" defer></script>
</body></html>`;
}

export async function startStorefront(o: StorefrontOptions): Promise<Storefront> {
  const requests: string[] = [];
  const carts = new Map<string, Cart>();
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
    // Shopify makes a cart on the first write without one, and says so in its cookie.
    const target = (): { cart: Cart; headers: Record<string, string> } => {
      if (cart) return { cart, headers: {} };
      const fresh: Cart = { token: `c1-${carts.size + 1}`, attributes: {}, lines: [] };
      carts.set(fresh.token, fresh);
      return { cart: fresh, headers: { "Set-Cookie": `cart=${fresh.token}; Path=/; SameSite=Lax` } };
    };
    const product = o.products.find((p) => url.pathname === `/products/${p.handle}`);
    try {
      if (product) return send(200, "text/html", await productPage(product, o));
      if (url.pathname.startsWith("/assets/")) {
        const name = path.basename(url.pathname);
        return send(200, "text/javascript", readFileSync(path.join(ASSETS, name), "utf8"));
      }
      if (url.pathname === "/pixel")
        return send(200, "text/html", `<!doctype html><title>Thank you</title><script>${PIXEL_PAGE}</script>`);
      if (url.pathname === "/pixel-worker.js")
        return send(200, "text/javascript", `${PIXEL_WORKER_PRELUDE}\n${o.pixelBundle}`);
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
      if (url.pathname === "/cart/update.js" && req.method === "POST") {
        const { attributes } = updateSchema.parse(JSON.parse((await readBody(req)) || "{}"));
        const { cart: c, headers } = target();
        for (const [key, value] of Object.entries(attributes)) {
          if (value === "") delete c.attributes[key];
          else c.attributes[key] = value;
        }
        return send(200, "application/json", JSON.stringify(view(c)), headers);
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
    cart: (token) => (token ? carts.get(token) : undefined),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
