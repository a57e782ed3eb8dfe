// The embedded admin in Chromium, as the admin's browser tests open it: the production build
// (made when missing) served by the production server on the test's database, each store with
// an expiring offline session (so Shopify's token exchange is never called), and pages opened
// as Shopify's admin opens them: a signed session token, the stand-in App Bridge, and every
// request to another host refused and noted (App Bridge's own script excepted).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";
import { offlineSession } from "./admin-requests";
import { chromiumLaunchOptions, fakeAppBridge } from "./browser";
import { REDIS_URL, type TestDatabase } from "./services";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SCREENSHOTS = path.join(ROOT, "bench/out");
// Headless Chromium's own user agent names it, and the library refuses bots (410).
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
const APP_BRIDGE_SCRIPT = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

export interface OpenedPage {
  page: Page;
  /** Requests to any host but this machine's, App Bridge's script excepted. */
  external: string[];
  /** The app pages the shop's admin opened in its frame again (after a redirect to the admin, as Meta's login ends). */
  reembedded: string[];
}

export interface AdminApp {
  readonly port: number;
  /** The app's URL as Shopify knows it (SHOPIFY_APP_URL). */
  readonly url: string;
  readonly browser: Browser;
  /** An admin page of `store` (the first store by default) at `width` px, as the admin embeds it;
   * `path` may carry a query of its own (a page's filters). */
  open(path: string, width: number, options?: { store?: string; status?: number }): Promise<OpenedPage>;
  close(): Promise<void>;
}

export interface AdminAppOptions {
  db: TestDatabase;
  apiKey: string;
  apiSecret: string;
  /** Store names (`<store>.myshopify.com`), each given an offline session. */
  stores: string[];
  /** More settings (a Meta stand-in's URL, say). */
  env?: Record<string, string>;
  /**
   * Serve on a port chosen before the app starts, which is then its public URL: for pages that
   * send the browser to another site and back (Meta's login), whose return URL the app builds.
   */
  publicUrl?: boolean;
}

/** A port free now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startAdminApp(o: AdminAppOptions): Promise<AdminApp> {
  if (!existsSync(path.join(ROOT, "build/index.js"))) {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/@remix-run/dev/dist/cli.js"), "build"], {
      cwd: ROOT,
      stdio: "ignore",
    });
  }
  const fixedPort = o.publicUrl ? await freePort() : 0;
  const appUrl = o.publicUrl ? `http://127.0.0.1:${fixedPort}` : "https://capi-relay.example.com";
  Object.assign(process.env, {
    SHOPIFY_API_KEY: o.apiKey,
    SHOPIFY_API_SECRET: o.apiSecret,
    SHOPIFY_APP_URL: appUrl,
    DATABASE_URL: o.db.url,
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    REDIS_URL,
    ...o.env,
  });
  const { loadBuild, startWebServer } = await import("../../server/main");
  const { sessionStorage } = await import("../../app/shopify.server");
  for (const store of o.stores) {
    await sessionStorage!.storeSession(
      offlineSession(`${store}.myshopify.com`, { scope: "read_orders", state: store, accessToken: `shpat_${store}` }),
    );
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  const server = await startWebServer({
    port: fixedPort,
    host: "127.0.0.1",
    build: await loadBuild(),
    mode: "production",
  });
  const browser = await chromium.launch(chromiumLaunchOptions);
  return {
    port: server.port,
    url: appUrl,
    browser,
    async open(pagePath, width, options = {}) {
      const store = options.store ?? o.stores[0]!;
      const shop = `${store}.myshopify.com`;
      const page = await browser.newPage({ userAgent: USER_AGENT, viewport: { width, height: 900 } });
      const external: string[] = [];
      const reembedded: string[] = [];
      await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => {
        const url = route.request().url();
        if (url !== APP_BRIDGE_SCRIPT) external.push(url);
        return route.abort();
      });
      const { token } = await getJwt(store, o.apiKey, o.apiSecret);
      const host = Buffer.from(`admin.shopify.com/store/${store}`).toString("base64url");
      const embedded = (appPath: string) =>
        `http://127.0.0.1:${server.port}${appPath}${appPath.includes("?") ? "&" : "?"}embedded=1&shop=${shop}&host=${host}&id_token=${token}`;
      // The shop's admin, where a redirect out of the frame lands: it opens the app's page in its frame again.
      await page.route(`https://${shop}/admin/apps/${o.apiKey}/**`, (route) => {
        const url = new URL(route.request().url());
        const appPath = `${url.pathname.slice(`/admin/apps/${o.apiKey}`.length)}${url.search}`;
        reembedded.push(appPath);
        return route.fulfill({ status: 302, headers: { location: embedded(appPath) } });
      });
      await page.addInitScript(fakeAppBridge(token));
      const response = await page.goto(embedded(pagePath));
      expect(response?.status()).toBe(options.status ?? 200);
      await page.waitForLoadState("networkidle");
      return { page, external, reembedded };
    },
    async close() {
      await browser.close();
      await server.close();
      const { closeProcessClients } = await import("../../app/process-clients.server");
      await closeProcessClients();
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** How far the page is wider than the viewport: nothing to scroll sideways for when ≤ 0. */
export function overflowsViewport(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** What the stand-in App Bridge was asked: toasts shown and save bar calls. */
export function appBridgeCalls(page: Page) {
  return page.evaluate(
    () =>
      (
        window as unknown as {
          __appBridge: { toasts: Array<{ message: string; isError: boolean }>; saveBar: string[] };
        }
      ).__appBridge,
  );
}
