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

describe("web pixel bundle (as the Shopify CLI builds it)", () => {
  it("builds without errors or warnings, with every import resolved into the bundle", async () => {
    const result = await bundle();
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs).toContain("extensions/capi-relay-pixel/src/index.js");
    expect(inputs).toContain("extensions/capi-relay-pixel/src/mapping.js");
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

  it("runs in a worker-like sandbox: registers with Shopify and sends a checkout_completed to Meta", async () => {
    const code = (await bundle()).outputFiles![0]!.text;
    const extensions: Array<[string, (api: unknown) => void]> = [];
    const requests: Array<{ url: string; init: Record<string, unknown> }> = [];
    // The strict sandbox is a web worker: no DOM, no document; fetch and URLSearchParams exist.
    vm.runInNewContext(code, {
      shopify: { extend: (point: string, fn: (api: unknown) => void) => extensions.push([point, fn]) },
      fetch: async (url: string, init: Record<string, unknown>) => {
        requests.push({ url, init });
        return { ok: true };
      },
      URL,
      URLSearchParams,
    });
    expect(extensions.map(([point]) => point)).toEqual(["WebPixel::Render"]);

    const handlers = new Map<string, (event: unknown) => Promise<void> | void>();
    extensions[0]![1]({
      settings: { pixelId: "123456789012345" },
      analytics: { subscribe: (name: string, handler: (event: unknown) => void) => handlers.set(name, handler) },
      browser: { cookie: { get: async (name: string) => (name === "_fbp" ? "fb.1.1763650000000.1234567890" : "") } },
    });
    expect([...handlers.keys()]).toEqual(["checkout_started", "checkout_completed", "product_added_to_cart"]);

    await handlers.get("checkout_completed")!({
      name: "checkout_completed",
      timestamp: "2026-11-20T15:15:30.000Z",
      context: {
        document: {
          location: { href: "https://northwind-woolens-demo.myshopify.com/checkouts/c/abc/thank-you" },
          referrer: "",
        },
      },
      data: {
        checkout: {
          token: "abc",
          currencyCode: "USD",
          totalPrice: { amount: 82.25, currencyCode: "USD" },
          order: { id: "gid://shopify/Order/5678901234567" },
          lineItems: [],
        },
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(requests).toHaveLength(1);
    const sent = new URL(requests[0]!.url);
    expect(sent.origin + sent.pathname).toBe("https://www.facebook.com/tr/");
    expect(Object.fromEntries(["id", "ev", "eid", "fbp"].map((k) => [k, sent.searchParams.get(k)]))).toEqual({
      id: "123456789012345",
      ev: "Purchase",
      eid: "5678901234567",
      fbp: "fb.1.1763650000000.1234567890",
    });
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
      settings: { pixelId: "not-a-pixel" },
      analytics: { subscribe: (name: string) => subscribed.push(name) },
      browser: {},
    });
    expect(subscribed).toEqual([]);
  });
});
