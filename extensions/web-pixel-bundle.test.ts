// The web pixel bundled the way the Shopify CLI bundles it for `shopify app build` / `deploy`
// (Shopify/cli, packages/app: services/build/extension.ts buildUIExtension and
// services/extensions/bundle.ts): esbuild reads stdin `import './src/index.js';` resolved in
// the extension's folder and writes one minified browser script (no format given, so esbuild's
// iife) for target es6; then the web_pixel_extension spec refuses a bundle over 128 KB. A broken
// import, syntax esbuild cannot lower to es6, or a dependency that grows the bundle past the
// limit fails here, without the Shopify CLI or a Partner account.
import path from "node:path";
import vm from "node:vm";
import { build, type BuildOptions } from "esbuild";
import { describe, expect, it } from "vitest";
import { hashValue } from "../app/meta/user-data";

const PIXEL_DIR = path.resolve(__dirname, "capi-relay-pixel");
const OUTFILE = path.join(PIXEL_DIR, "dist/capi-relay-pixel.js");
// BUNDLE_SIZE_LIMIT of the CLI's web_pixel_extension specification, checked on the output file.
const BUNDLE_SIZE_LIMIT = 128 * 1024;

/** The CLI's esbuild options for a UI extension built for production (minify: true). */
function cliOptions(entry: string): BuildOptions {
  return {
    stdin: { contents: entry, resolveDir: PIXEL_DIR, loader: "tsx" },
    outfile: OUTFILE,
    bundle: true,
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    jsx: "automatic",
    loader: { ".esnext": "ts", ".js": "jsx" },
    legalComments: "none",
    minify: true,
    target: "es6",
    resolveExtensions: [".tsx", ".ts", ".js", ".json", ".esnext", ".mjs", ".ejs"],
    // In memory: the test leaves no dist/ behind. Metafile paths relative to the repository.
    write: false,
    absWorkingDir: path.resolve(__dirname, ".."),
    metafile: true,
    logLevel: "silent",
  };
}

const bundle = (entry = "import './src/index.js';") => build(cliOptions(entry));

const ALLOWED = {
  analyticsProcessingAllowed: true,
  marketingAllowed: true,
  preferencesProcessingAllowed: false,
  saleOfDataAllowed: true,
};

/**
 * The bundle in a fresh context shaped like the strict sandbox (a web worker: no DOM; fetch,
 * URL, crypto.subtle, TextEncoder), with the Web Pixels API's analytics, browser (cookie,
 * localStorage: `storage` stands for the browser's, kept across "reloads"), init and
 * customerPrivacy recorded.
 */
function loadPixel(
  code: string,
  options: {
    storage?: Map<string, string>;
    privacy?: Record<string, boolean>;
    pixelIds?: string;
    /** The other fields the app writes (app/shopify/web-pixel.ts). */
    settings?: Record<string, string>;
    firedIdsUrl?: string;
  },
) {
  const points: string[] = [];
  let render: ((api: unknown) => void) | undefined;
  const requests: Array<{ url: string; init: Record<string, unknown> }> = [];
  const storage = options.storage ?? new Map<string, string>();
  vm.runInNewContext(code, {
    shopify: {
      extend: (point: string, fn: (api: unknown) => void) => {
        points.push(point);
        render = fn;
      },
    },
    fetch: async (url: string, init: Record<string, unknown>) => {
      requests.push({ url, init });
      return { ok: true };
    },
    URL,
    URLSearchParams,
    TextEncoder,
    crypto: globalThis.crypto,
  });
  const handlers = new Map<string, (event: unknown) => Promise<void> | void>();
  const consentListeners: Array<(event: unknown) => void> = [];
  render!({
    settings: {
      pixelIds: options.pixelIds ?? "123456789012345",
      ...options.settings,
      ...(options.firedIdsUrl ? { firedIdsUrl: options.firedIdsUrl } : {}),
    },
    init: { customerPrivacy: options.privacy ?? ALLOWED },
    customerPrivacy: { subscribe: async (_name: string, fn: (event: unknown) => void) => consentListeners.push(fn) },
    analytics: { subscribe: (name: string, handler: (event: unknown) => void) => handlers.set(name, handler) },
    browser: {
      cookie: { get: async (name: string) => (name === "_fbp" ? "fb.1.1763650000000.1234567890" : "") },
      localStorage: {
        getItem: async (key: string) => storage.get(key) ?? null,
        setItem: async (key: string, value: string) => void storage.set(key, value),
      },
    },
  });
  return {
    points,
    requests,
    subscribed: () => [...handlers.keys()],
    async emit(event: { name: string }) {
      await handlers.get(event.name)!(event);
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
    consentCollected(status: Record<string, boolean>) {
      for (const fn of consentListeners) fn({ customerPrivacy: status });
    },
  };
}

function checkoutCompleted() {
  return {
    name: "checkout_completed",
    timestamp: new Date().toISOString(),
    context: {
      document: {
        location: { href: "https://northwind-woolens-demo.myshopify.com/checkouts/c/abc/thank-you" },
        referrer: "",
      },
    },
    data: {
      checkout: {
        token: "abc",
        email: "Jane.Doe@Example.com",
        phone: "+16135551111",
        currencyCode: "USD",
        totalPrice: { amount: 82.25, currencyCode: "USD" },
        order: { id: "gid://shopify/Order/5678901234567" },
        lineItems: [],
      },
    },
  };
}

describe("web pixel bundle (as the Shopify CLI builds it)", () => {
  it("builds without errors or warnings, with every import resolved into the bundle", async () => {
    const result = await bundle();
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs).toContain("extensions/capi-relay-pixel/src/index.js");
    expect(inputs).toContain("extensions/capi-relay-pixel/src/mapping.js");
    // The server's own email / phone rules, bundled (advanced matching).
    expect(inputs).toContain("extensions/capi-relay-pixel/src/advanced-matching.js");
    expect(inputs).toContain("app/meta/contact-normalization.ts");
    // The package comes from the root install (npm workspaces), bundled in, not left external.
    expect(inputs.some((i) => i.includes("node_modules/@shopify/web-pixels-extension/"))).toBe(true);
    const outputs = Object.values(result.metafile!.outputs);
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.imports).toEqual([]);
    const code = result.outputFiles![0]!.text;
    // esbuild's stand-in for a require() it could not bundle, which throws when the pixel loads.
    expect(code).not.toMatch(/Dynamic require of|\brequire\(|\bimport\s*[({"']/);
  });

  it(`stays within Shopify's ${BUNDLE_SIZE_LIMIT / 1024} KB limit for a web pixel`, async () => {
    const result = await bundle();
    const bytes = result.outputFiles![0]!.contents.byteLength;
    expect(bytes).toBeGreaterThan(1000);
    expect(bytes).toBeLessThanOrEqual(BUNDLE_SIZE_LIMIT);
  });

  it("fails on an import that does not resolve (the check can fail)", async () => {
    await expect(bundle("import './src/index.js'; import '@shopify/web-pixels-extension-typo';")).rejects.toThrow(
      /Could not resolve "@shopify\/web-pixels-extension-typo"/,
    );
  });

  it("runs in a worker-like sandbox: registers with Shopify and sends a checkout_completed to Meta, once", async () => {
    const code = (await bundle()).outputFiles![0]!.text;
    const storage = new Map<string, string>();
    const page = loadPixel(code, { storage });
    expect(page.points).toEqual(["WebPixel::Render"]);
    expect(page.subscribed()).toEqual(["checkout_started", "checkout_completed", "product_added_to_cart"]);

    await page.emit(checkoutCompleted());
    expect(page.requests).toHaveLength(1);
    const sent = new URL(page.requests[0]!.url);
    expect(sent.origin + sent.pathname).toBe("https://www.facebook.com/tr/");
    expect(Object.fromEntries(["id", "ev", "eid", "fbp"].map((k) => [k, sent.searchParams.get(k)]))).toEqual({
      id: "123456789012345",
      ev: "Purchase",
      eid: "5678901234567",
      fbp: "fb.1.1763650000000.1234567890",
    });
    // Advanced matching: hashed in the sandbox with crypto.subtle, as the server hashes them.
    expect(sent.searchParams.get("ud[em]")).toBe(hashValue("em", "Jane.Doe@Example.com"));
    expect(sent.searchParams.get("ud[ph]")).toBe(hashValue("ph", { value: "+16135551111", country: "CA" }));
    expect(sent.searchParams.get("dpo")).toBeNull();

    // The same event again in this page, and after a reload of the thank-you page (a new
    // sandbox, the same browser storage): not sent again.
    await page.emit(checkoutCompleted());
    const reloaded = loadPixel(code, { storage });
    await reloaded.emit(checkoutCompleted());
    expect(page.requests).toHaveLength(1);
    expect(reloaded.requests).toHaveLength(0);
    expect(JSON.parse(storage.get("capi_relay_sent")!)).toEqual(["Purchase:5678901234567"]);
  });

  it("fires every pixel of the shop with the same event id, once each", async () => {
    const code = (await bundle()).outputFiles![0]!.text;
    const page = loadPixel(code, { pixelIds: "123456789012345,987654321098" });
    await page.emit(checkoutCompleted());
    await page.emit(checkoutCompleted());
    const sent = page.requests.map((r) => new URL(r.url).searchParams);
    expect(sent.map((q) => [q.get("id"), q.get("ev"), q.get("eid")])).toEqual([
      ["123456789012345", "Purchase", "5678901234567"],
      ["987654321098", "Purchase", "5678901234567"],
    ]);
  });

  it("each pixel gets the events the app's settings give it, with the shop's value; none when the shop skips the online store", async () => {
    const code = (await bundle()).outputFiles![0]!.text;
    const settings = {
      purchasePixelIds: "123456789012345",
      checkoutPixelIds: "987654321098",
      valueMode: "subtotal",
      contentIdSource: "sku",
    };
    const page = loadPixel(code, { pixelIds: "123456789012345,987654321098", settings });
    const event = checkoutCompleted();
    Object.assign(event.data.checkout, {
      subtotalPrice: { amount: 70.2, currencyCode: "USD" },
      lineItems: [
        {
          quantity: 2,
          variant: {
            id: "gid://shopify/ProductVariant/46123456789012",
            sku: "SOCK-MER-M-CHR",
            price: { amount: 18, currencyCode: "USD" },
            product: { id: "gid://shopify/Product/8912345678901", type: "Socks" },
          },
        },
      ],
    });
    await page.emit(event);
    await page.emit({ ...event, name: "checkout_started" });
    const sent = page.requests.map((r) => new URL(r.url).searchParams);
    expect(sent.map((q) => [q.get("id"), q.get("ev")])).toEqual([
      ["123456789012345", "Purchase"],
      ["987654321098", "InitiateCheckout"],
    ]);
    // Purchase by the subtotal; InitiateCheckout by the total, as the server builds them.
    expect([sent[0]!.get("cd[value]"), sent[1]!.get("cd[value]")]).toEqual(["70.2", "82.25"]);
    expect(JSON.parse(sent[0]!.get("cd[content_ids]")!)).toEqual(["SOCK-MER-M-CHR"]);

    const skipped = loadPixel(code, { settings: { sendOnlineStore: "false" } });
    await skipped.emit(checkoutCompleted());
    await skipped.emit({ ...checkoutCompleted(), name: "checkout_started" });
    expect(skipped.requests).toHaveLength(0);
  });

  it("reports each Purchase and InitiateCheckout it fired to the app's URL, ids only, once; nothing without consent", async () => {
    const code = (await bundle()).outputFiles![0]!.text;
    const firedIdsUrl = "https://app.example.com/pixel/fired?shop=a.myshopify.com&token=t";
    const storage = new Map<string, string>();
    const page = loadPixel(code, { storage, firedIdsUrl });
    await page.emit(checkoutCompleted());
    await page.emit({ ...checkoutCompleted(), name: "checkout_started" });
    await page.emit(checkoutCompleted());
    const reports = page.requests.filter((r) => r.url === firedIdsUrl);
    expect(reports.map((r) => JSON.parse(String(r.init.body)))).toEqual([
      { events: [{ name: "Purchase", id: "5678901234567" }] },
      { events: [{ name: "InitiateCheckout", id: "abc" }] },
    ]);
    for (const r of reports) {
      expect(r.init).toMatchObject({ method: "POST", mode: "no-cors", credentials: "omit" });
      // No email, phone or cookie travels to the app.
      expect(String(r.init.body)).not.toMatch(/jane|6135551111|fb\.1\./i);
    }
    const refused = loadPixel(code, { firedIdsUrl, privacy: { ...ALLOWED, marketingAllowed: false } });
    await refused.emit(checkoutCompleted());
    expect(refused.requests).toEqual([]);
  });

  it("checkout_started fires InitiateCheckout once per checkout, however often the buyer comes back", async () => {
    const code = (await bundle()).outputFiles![0]!.text;
    const storage = new Map<string, string>();
    for (let visit = 0; visit < 3; visit++) {
      const page = loadPixel(code, { storage });
      await page.emit({ ...checkoutCompleted(), name: "checkout_started" });
      expect([visit, page.requests.length]).toEqual([visit, visit === 0 ? 1 : 0]);
    }
    // Another checkout is another event.
    const page = loadPixel(code, { storage });
    const other = checkoutCompleted();
    other.data.checkout.token = "def";
    await page.emit({ ...other, name: "checkout_started" });
    expect(page.requests).toHaveLength(1);
  });

  it("consent: nothing without marketing, nothing after a withdrawal, LDU when the sale of data is refused", async () => {
    const code = (await bundle()).outputFiles![0]!.text;
    const refused = loadPixel(code, { privacy: { ...ALLOWED, marketingAllowed: false } });
    await refused.emit(checkoutCompleted());
    expect(refused.requests).toHaveLength(0);

    const withdrawn = loadPixel(code, {});
    withdrawn.consentCollected({ ...ALLOWED, marketingAllowed: false });
    await withdrawn.emit(checkoutCompleted());
    expect(withdrawn.requests).toHaveLength(0);
    // Given back: it sends (the withdrawn attempt was not recorded as sent).
    withdrawn.consentCollected(ALLOWED);
    await withdrawn.emit(checkoutCompleted());
    expect(withdrawn.requests).toHaveLength(1);

    const noSale = loadPixel(code, { privacy: { ...ALLOWED, saleOfDataAllowed: false } });
    await noSale.emit(checkoutCompleted());
    const q = new URL(noSale.requests[0]!.url).searchParams;
    expect([q.get("dpo"), q.get("dpoco"), q.get("dpost")]).toEqual(["LDU", "0", "0"]);
  });

  it("subscribes to nothing without a valid pixel id", async () => {
    const code = (await bundle()).outputFiles![0]!.text;
    let render: ((api: unknown) => void) | undefined;
    vm.runInNewContext(code, {
      shopify: { extend: (_point: string, fn: (api: unknown) => void) => (render = fn) },
      URL,
      URLSearchParams,
    });
    const subscribed: string[] = [];
    render!({
      settings: { pixelIds: "not-a-pixel" },
      analytics: { subscribe: (name: string) => subscribed.push(name) },
      browser: {},
    });
    expect(subscribed).toEqual([]);
  });
});
