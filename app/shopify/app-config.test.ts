// shopify.app.toml and the extensions' tomls, checked as Shopify's CLI would check them
// (./app-config.ts) and against the app itself: its scopes, its API version, its webhook routes.
// And `npm run config`, which writes the deploy-time values into a copy of the file.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { z } from "zod";
import { webhookRouteFiles } from "../../test/support/shopify-webhooks";
import { checkAppConfig, placeholdersLeft, runAppConfig } from "../cli/app-config";
import { DEFAULT_SCOPES } from "../config/env.server";
import { SHOPIFY_API_VERSION } from "./api-version";
import {
  appConfigSchema,
  deployValuesSchema,
  extensionConfigSchema,
  isPlaceholderUrl,
  normalizeScopes,
  PLACEHOLDER_CLIENT_ID,
  withDeployValues,
  type AppConfig,
} from "./app-config";
import { SALES_CHANNEL_SCOPES } from "./sales-channels";
import { WEB_PIXEL_SCOPES } from "./web-pixel";

const ROOT = path.resolve(__dirname, "../..");
const APP_TOML = readFileSync(path.join(ROOT, "shopify.app.toml"), "utf8");
const COMPLIANCE = ["customers/data_request", "customers/redact", "shop/redact"];
const scopeSet = (scopes: string | undefined) =>
  normalizeScopes(scopes ?? "")
    .split(",")
    .sort();

function committed(): AppConfig {
  const { config, problems } = checkAppConfig(APP_TOML);
  expect(problems).toEqual([]);
  return config!;
}

describe("shopify.app.toml as committed", () => {
  it("has only fields Shopify's CLI accepts", () => {
    expect(appConfigSchema.safeParse(parseToml(APP_TOML)).error?.issues).toBeUndefined();
  });

  it("names no real app: client_id and every URL are placeholders, which --check reports", () => {
    const config = committed();
    expect(config.client_id).toBe(PLACEHOLDER_CLIENT_ID);
    expect(isPlaceholderUrl(config.application_url)).toBe(true);
    expect(config.auth.redirect_urls.every(isPlaceholderUrl)).toBe(true);
    expect(config.app_proxy && isPlaceholderUrl(config.app_proxy.url)).toBe(true);
    expect(placeholdersLeft(config)).toEqual(["client_id", "application_url", "auth.redirect_urls", "app_proxy.url"]);
  });

  it("asks for the app's scopes (SCOPES), the web pixel's and the sales channels' among them", () => {
    const scopes = scopeSet(committed().access_scopes?.scopes);
    expect(scopes).toEqual(scopeSet(DEFAULT_SCOPES));
    expect(scopes).toEqual(expect.arrayContaining([...WEB_PIXEL_SCOPES, ...SALES_CHANNEL_SCOPES]));
  });

  it("takes webhook payloads in the app's own Admin API version", () => {
    expect(committed().webhooks.api_version).toBe(SHOPIFY_API_VERSION);
  });

  it("subscribes every webhook route of the app to its own topic, and nothing else", () => {
    const routes = webhookRouteFiles();
    const subscriptions = committed().webhooks.subscriptions ?? [];
    const subscribed = (kind: "topics" | "compliance_topics") =>
      subscriptions.flatMap((s) => (s[kind] ?? []).map((topic) => ({ topic, uri: s.uri })));
    const routeTopics = Object.keys(routes).sort();
    expect(routeTopics).toEqual(expect.arrayContaining(COMPLIANCE));
    expect(
      subscribed("topics")
        .map((s) => s.topic)
        .sort(),
    ).toEqual(routeTopics.filter((t) => !COMPLIANCE.includes(t)));
    expect(
      subscribed("compliance_topics")
        .map((s) => s.topic)
        .sort(),
    ).toEqual(COMPLIANCE);
    for (const { topic, uri } of [...subscribed("topics"), ...subscribed("compliance_topics")]) {
      expect(uri, topic).toBe(`/webhooks/${topic}`);
    }
  });
});

describe("the extensions' tomls", () => {
  // The CLI takes a folder of extensions/ for an extension when it holds a shopify.extension.toml;
  // others (embed-source, the embed's unminified script) are the app's build inputs.
  const dirs = readdirSync(path.join(ROOT, "extensions"), { withFileTypes: true }).filter(
    (d) => d.isDirectory() && existsSync(path.join(ROOT, "extensions", d.name, "shopify.extension.toml")),
  );
  const read = (dir: string) =>
    parseToml(readFileSync(path.join(ROOT, "extensions", dir, "shopify.extension.toml"), "utf8")) as unknown;

  it("are the app's two extensions, in the folder the CLI looks in", () => {
    expect(committed().extension_directories).toBeUndefined(); // the CLI's default: extensions/*
    expect(dirs.map((d) => d.name).sort()).toEqual(["capi-relay-embed", "capi-relay-pixel"]);
  });

  it.each(dirs.map((d) => d.name))("%s has only fields Shopify's CLI accepts for its type", (dir) => {
    expect(extensionConfigSchema.safeParse(read(dir)).error?.issues).toBeUndefined();
  });

  it("the web pixel declares the consent Shopify gates it on, and depends on Shopify's web pixel library", () => {
    const pixel = extensionConfigSchema.parse(read("capi-relay-pixel"));
    expect(pixel.type).toBe("web_pixel_extension");
    if (pixel.type !== "web_pixel_extension") return;
    expect(pixel.customer_privacy).toMatchObject({ analytics: true, marketing: true });
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "extensions/capi-relay-pixel/package.json"), "utf8"));
    expect(pkg.dependencies).toHaveProperty("@shopify/web-pixels-extension");
  });
});

describe("what the schemas refuse (each would fail `shopify app deploy`)", () => {
  const base = parseToml(APP_TOML) as Record<string, any>;
  const subscriptions = base.webhooks.subscriptions as Array<Record<string, unknown>>;
  const variant = (change: (c: Record<string, any>) => void) => {
    const copy = structuredClone(base);
    change(copy);
    return copy;
  };
  it.each<[string, Record<string, any>, string]>([
    ["a section the CLI knows nothing of", variant((c) => (c.webhook = {})), "webhook"],
    ["a misspelt key in a section", variant((c) => (c.auth = { redirect_url: [] })), "auth"],
    ["no [auth] redirect_urls", variant((c) => delete c.auth), "auth"],
    ["no [webhooks]", variant((c) => delete c.webhooks), "webhooks"],
    ["an api_version that is no Shopify version", variant((c) => (c.webhooks.api_version = "2026-11")), "webhooks"],
    ["a name over 30 characters", variant((c) => (c.name = "CAPI Relay for Meta Conversions API")), "name"],
    ["an application_url that is not a URL", variant((c) => (c.application_url = "capi-relay")), "application_url"],
    ["embedded as text", variant((c) => (c.embedded = "true")), "embedded"],
    [
      "a subscription with neither topics nor compliance_topics",
      variant((c) => c.webhooks.subscriptions.push({ uri: "/webhooks/x" })),
      "webhooks",
    ],
    [
      "a compliance topic subscribed twice",
      variant((c) => c.webhooks.subscriptions.push({ compliance_topics: ["shop/redact"], uri: "/webhooks/y" })),
      "webhooks",
    ],
    [
      "a compliance topic Shopify does not have",
      variant((c) => c.webhooks.subscriptions.push({ compliance_topics: ["customers/delete"], uri: "/webhooks/z" })),
      "webhooks",
    ],
    [
      "the same topic to the same address twice",
      variant((c) => c.webhooks.subscriptions.push({ ...subscriptions[0] })),
      "webhooks",
    ],
    [
      "an http (not https) webhook address",
      variant((c) => (c.webhooks.subscriptions[0].uri = "http://relay.test/webhooks/orders/create")),
      "webhooks",
    ],
    [
      "an app proxy on http",
      variant((c) => (c.app_proxy = { url: "http://x.test", subpath: "a", prefix: "apps" })),
      "app_proxy",
    ],
  ])("%s", (_what, config, at) => {
    const result = appConfigSchema.safeParse(config);
    expect(result.success).toBe(false);
    // A key the schema does not know is reported at its table, with the key's name.
    const where = (i: z.core.$ZodIssue) => String(i.path[0] ?? (i.code === "unrecognized_keys" ? i.keys[0] : ""));
    expect(result.error!.issues.map(where)).toContain(at);
  });

  it.each<[string, unknown]>([
    ["an unknown extension type", { type: "checkout_ui_extension", name: "x" }],
    [
      "a web pixel with a sale_of_data Shopify does not have",
      {
        type: "web_pixel_extension",
        name: "p",
        runtime_context: "strict",
        customer_privacy: { analytics: true, marketing: true, preferences: false, sale_of_data: "maybe" },
      },
    ],
    ["a web pixel without its runtime_context", { type: "web_pixel_extension", name: "p" }],
    ["a handle with a space", { type: "theme", name: "t", handle: "capi relay" }],
  ])("an extension: %s", (_what, config) => {
    expect(extensionConfigSchema.safeParse(config).success).toBe(false);
  });
});

describe("npm run config", () => {
  const values = deployValuesSchema.parse({
    SHOPIFY_API_KEY: "0123456789abcdef0123456789abcdef",
    SHOPIFY_APP_URL: "https://relay.merchant-tools.test/",
    SCOPES: DEFAULT_SCOPES,
  });
  const work = mkdtempSync(path.join(tmpdir(), "capi-app-config-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("writes the client id, the URLs and the scopes, keeps the rest of the file, and a second run changes nothing", () => {
    const written = withDeployValues(APP_TOML, values);
    const { config, problems } = checkAppConfig(written);
    expect(problems).toEqual([]);
    expect(placeholdersLeft(config!)).toEqual([]);
    expect(config).toMatchObject({
      client_id: values.SHOPIFY_API_KEY,
      application_url: "https://relay.merchant-tools.test",
      auth: { redirect_urls: ["https://relay.merchant-tools.test/auth/callback"] },
      access_scopes: { scopes: DEFAULT_SCOPES },
    });
    // The app proxy moved to the app's host, on its path (the route of the embed's reports).
    expect(config!.app_proxy).toEqual({ ...committed().app_proxy, url: "https://relay.merchant-tools.test/proxy" });
    // Everything else is as committed: webhooks, sections, comments.
    const { client_id: _c, application_url: _a, auth: _au, app_proxy: _p, ...rest } = config!;
    const { client_id: _c2, application_url: _a2, auth: _au2, app_proxy: _p2, ...committedRest } = committed();
    expect(rest).toEqual(committedRest);
    expect(written.split("\n").filter((l) => l.startsWith("#"))).toEqual(
      APP_TOML.split("\n").filter((l) => l.startsWith("#")),
    );
    expect(withDeployValues(written, values)).toBe(written);
  });

  it("moves a declared app proxy to the app's host, on its own path", () => {
    // Another path than the committed one's: the path is kept, whatever it is.
    const withProxy = APP_TOML.replace(
      'url = "https://capi-relay.example.com/proxy"\nsubpath = "capi-relay"',
      'url = "https://capi-relay.example.com/elsewhere"\nsubpath = "capi"',
    );
    const { config } = checkAppConfig(withDeployValues(withProxy, values));
    expect(config!.app_proxy).toEqual({
      url: "https://relay.merchant-tools.test/elsewhere",
      subpath: "capi",
      prefix: "apps",
    });
  });

  it("refuses a file without a key it must write", () => {
    expect(() => withDeployValues(APP_TOML.replace(/^client_id = .*$/m, ""), values)).toThrow(/no client_id/);
  });

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ["no client id", { SHOPIFY_APP_URL: "https://relay.merchant-tools.test" }, /SHOPIFY_API_KEY is not set/],
    ["a client id that is not one", { SHOPIFY_API_KEY: "my-app", SHOPIFY_APP_URL: "https://a.test" }, /32 hexadecimal/],
    ["an http URL", { SHOPIFY_API_KEY: values.SHOPIFY_API_KEY, SHOPIFY_APP_URL: "http://a.test" }, /https URL/],
    [
      "the placeholder URL",
      { SHOPIFY_API_KEY: values.SHOPIFY_API_KEY, SHOPIFY_APP_URL: "https://capi-relay.example.com" },
      /not an example.com placeholder/,
    ],
  ])("refuses %s with what to set, and writes nothing", (_what, environment, message) => {
    const file = path.join(work, "refused.toml");
    writeFileSync(file, APP_TOML);
    const errors: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(line));
    try {
      expect(runAppConfig(["--file", file], environment)).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join("\n")).toMatch(message);
    expect(readFileSync(file, "utf8")).toBe(APP_TOML);
  });

  it("writes the file from the environment; --check then passes, and fails on the committed placeholders", () => {
    const file = path.join(work, "shopify.app.toml");
    writeFileSync(file, APP_TOML);
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(runAppConfig(["--check", "--file", file], {})).toBe(1);
      const environment = { SHOPIFY_API_KEY: values.SHOPIFY_API_KEY, SHOPIFY_APP_URL: values.SHOPIFY_APP_URL };
      expect(runAppConfig(["--file", file], environment)).toBe(0);
      const once = readFileSync(file, "utf8");
      expect(once).toBe(withDeployValues(APP_TOML, values));
      expect(runAppConfig(["--file", file], environment)).toBe(0);
      expect(readFileSync(file, "utf8")).toBe(once);
      expect(runAppConfig(["--check", "--file", file], {})).toBe(0);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });
});
