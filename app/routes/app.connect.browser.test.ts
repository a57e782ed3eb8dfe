// Connect with Meta in a real browser (Debian's Chromium driven by playwright-core), served by
// the production server from the production build: Settings' Connect with Meta button, the
// Meta stand-in's login dialog opened top level, Continue (or Cancel), Meta's redirect to the
// app's callback, the shop's admin opening the app again in its frame (a stand-in: the admin's
// URL is answered with the app's page and a fresh session token, as Shopify's admin loads it),
// the pick of business and pixel, and the saved connection; then the warnings before and after
// the token's end. Screenshots at 1280 and 390 px go to bench/out/.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import { Session } from "@shopify/shopify-api";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { canRunBrowserTests, chromiumLaunchOptions, fakeAppBridge } from "../../test/support/browser";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";

const ROOT = path.resolve(__dirname, "../..");
const STORE = "browser-login";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "browser-login-key";
const API_SECRET = "browser-login-secret";
const META_APP = { appId: "5566778899", appSecret: "browser-meta-s3cret" };
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
const OUT = path.join(ROOT, "bench/out");
const DAY_MS = 86_400_000;
const BUSINESSES = [
  { id: "900000000000001", name: "Main Street Goods", pixels: [{ id: "1234567890123", name: "Old pixel" }] },
  {
    id: "900000000000002",
    name: "Main Street Online",
    pixels: [
      { id: "2220000001", name: "Store pixel" },
      { id: "2220000002", name: "Blog pixel" },
    ],
  },
];

let testDb: TestDatabase;
let meta: MetaSandbox;
let server: { port: number; close(): Promise<void> };
let browser: Browser;
let appUrl: string;

/** A port free now: the app's public URL (the callback's) must be known before the app starts. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, "build/index.js"))) {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/@remix-run/dev/dist/cli.js"), "build"], {
      cwd: ROOT,
      stdio: "ignore",
    });
  }
  testDb = await createTestDatabase();
  meta = await startMetaSandbox({ loginApp: META_APP });
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  Object.assign(process.env, {
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: appUrl,
    DATABASE_URL: testDb.url,
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    REDIS_URL,
    META_GRAPH_URL: meta.url,
    META_DIALOG_URL: meta.url,
    META_APP_ID: META_APP.appId,
    META_APP_SECRET: META_APP.appSecret,
    META_LOGIN_CONFIG_ID: "112233445566",
  });
  const { loadBuild, startWebServer } = await import("../../server/main");
  const { sessionStorage } = await import("../shopify.server");
  await sessionStorage!.storeSession(
    new Session({
      id: `offline_${SHOP}`,
      shop: SHOP,
      state: "login",
      isOnline: false,
      accessToken: "shpat_login",
      scope: "read_orders",
      // An expiring token with its hour ahead, as the app stores them: no token exchange is needed.
      expires: new Date(Date.now() + 3600_000),
    }),
  );
  mkdirSync(OUT, { recursive: true });
  server = await startWebServer({ port, host: "127.0.0.1", build: await loadBuild(), mode: "production" });
  browser = await chromium.launch(chromiumLaunchOptions);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await testDb?.drop();
  await meta?.close();
});

const SUITE = "Connect with Meta in Chromium";

interface Opened {
  page: Page;
  /** Requests to any host but this machine's (the app, the Meta stand-in), App Bridge's script excepted. */
  external: string[];
  /** The app pages the shop's admin opened in its frame, after Meta's redirect. */
  reembedded: string[];
}

async function open(path_: string, width: number): Promise<Opened> {
  const page = await browser.newPage({ userAgent: USER_AGENT, viewport: { width, height: 900 } });
  const external: string[] = [];
  const reembedded: string[] = [];
  await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => {
    const url = route.request().url();
    if (url !== "https://cdn.shopify.com/shopifycloud/app-bridge.js") external.push(url);
    return route.abort();
  });
  const { token } = await getJwt(STORE, API_KEY, API_SECRET);
  const host = Buffer.from(`admin.shopify.com/store/${STORE}`).toString("base64url");
  const embedded = (appPath: string, query = "") =>
    `${appUrl}${appPath}?embedded=1&shop=${SHOP}&host=${host}&id_token=${token}${query ? `&${query}` : ""}`;
  // The shop's admin, where the callback sends the merchant: it loads the app's page with a session token.
  await page.route(`https://${SHOP}/admin/apps/${API_KEY}/**`, (route) => {
    const url = new URL(route.request().url());
    const appPath = url.pathname.slice(`/admin/apps/${API_KEY}`.length);
    reembedded.push(`${appPath}${url.search}`);
    return route.fulfill({ status: 302, headers: { location: embedded(appPath, url.searchParams.toString()) } });
  });
  await page.addInitScript(fakeAppBridge(token));
  const response = await page.goto(embedded(path_));
  expect(response?.status()).toBe(200);
  await page.waitForLoadState("networkidle");
  return { page, external, reembedded };
}

async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

const overflowsViewport = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

const toasts = (page: Page) =>
  page.evaluate(
    () => (window as unknown as { __appBridge: { toasts: Array<{ message: string }> } }).__appBridge.toasts,
  );

/** From Settings' button to Meta's dialog, at the top of the window. */
async function toDialog(page: Page) {
  await page.getByRole("button", { name: "Connect with Meta" }).click();
  await page.waitForURL((url) => url.origin === meta.url && url.pathname.endsWith("/dialog/oauth"));
  await page.waitForLoadState("networkidle");
}

describe.skipIf(!canRunBrowserTests(`${SUITE} (app/routes/app.connect.browser.test.ts)`))(SUITE, () => {
  for (const width of [1280, 390]) {
    it(`at ${width} px: Settings → Connect with Meta → Meta's dialog → Continue → business and pixel → connected`, async () => {
      meta.reset();
      meta.setBusinesses(BUSINESSES);
      await testDb.prisma.destination.deleteMany({});
      const { page, external, reembedded } = await open("/app/settings", width);
      expect(await page.getByText("Sign in with Facebook and choose your business and pixel").count()).toBe(1);
      // The pasted-token way stays, below.
      expect(await page.getByLabel("Conversions API access token").count()).toBe(1);
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `admin-settings-connect-with-meta-${width}`);

      await toDialog(page);
      await screenshot(page, `meta-standin-login-dialog-${width}`);
      await page.getByRole("button", { name: "Continue" }).click();

      // Back in the admin: the merchant picks the business, then the pixel.
      await expect.poll(() => page.getByText("Choose your business and pixel").count(), { timeout: 15_000 }).toBe(1);
      expect(reembedded).toEqual(["/app/connect"]);
      // The page is served; the choice waits for it to come alive in the browser.
      await page.waitForLoadState("networkidle");
      const html = await page.content();
      for (const issued of meta.issuedTokens()) expect(html).not.toContain(issued.token);
      expect(html).not.toContain(META_APP.appSecret);
      await page.getByLabel("Business").selectOption("900000000000002");
      const storePixel = page.getByLabel("Store pixel (2220000001)");
      await expect.poll(() => storePixel.count()).toBe(1);
      expect(await page.getByLabel("Blog pixel (2220000002)").count()).toBe(1);
      // By keyboard: the radio button takes focus and Space chooses it.
      await storePixel.focus();
      await page.keyboard.press("Space");
      await expect.poll(() => storePixel.isChecked()).toBe(true);
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `admin-connect-pick-pixel-${width}`);

      await page.getByRole("button", { name: "Connect this pixel" }).click();
      await page.waitForURL((url) => url.pathname === "/app/settings");
      await expect
        .poll(() => toasts(page))
        .toEqual([{ message: "Connected with Meta: pixel 2220000001", isError: false }]);
      await expect.poll(() => page.getByText("Connected", { exact: true }).count()).toBeGreaterThan(0);
      expect(await page.getByText("Connected with Facebook. To renew the connection").count()).toBe(1);
      expect(await page.getByLabel("Pixel (dataset) ID").inputValue()).toBe("2220000001");
      const saved = await testDb.prisma.destination.findFirstOrThrow({ where: { shop: SHOP } });
      expect(saved).toMatchObject({ pixelId: "2220000001", connectedVia: "facebook-login", checkStatus: "connected" });
      expect(await testDb.prisma.metaLogin.count()).toBe(0);
      await screenshot(page, `admin-settings-connected-with-meta-${width}`);
      expect(external).toEqual([]);
      await page.close();
    }, 90_000);
  }

  it("Cancel in Meta's dialog: back on the page with what happened and how to start again", async () => {
    meta.reset();
    const { page, external } = await open("/app/settings", 390);
    await toDialog(page);
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect
      .poll(() => page.getByText("You cancelled on Facebook", { exact: false }).count(), { timeout: 15_000 })
      .toBe(1);
    await page.waitForLoadState("networkidle");
    expect(await page.getByRole("button", { name: "Connect with Meta" }).count()).toBe(1);
    expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
    await screenshot(page, "admin-connect-cancelled-390");
    expect(external).toEqual([]);
    await page.close();
  }, 60_000);

  for (const width of [1280, 390]) {
    it(`at ${width} px: warns two weeks before the token's end, and shows an expired one as not connected with the fix`, async () => {
      await testDb.prisma.destination.updateMany({
        where: { shop: SHOP },
        data: { tokenExpiresAt: new Date(Date.now() + 3 * DAY_MS + 3_600_000) },
      });
      const overview = await open("/app", width);
      await expect.poll(() => overview.page.getByText("Your Meta connection expires in 4 days").count()).toBe(1);
      expect(await overflowsViewport(overview.page)).toBeLessThanOrEqual(0);
      await screenshot(overview.page, `admin-overview-token-expiring-${width}`);
      await overview.page.close();

      await testDb.prisma.destination.updateMany({
        where: { shop: SHOP },
        data: { tokenExpiresAt: new Date(Date.now() - DAY_MS) },
      });
      const settings = await open("/app/settings", width);
      await expect.poll(() => settings.page.getByText("Your Meta connection has expired").count()).toBe(1);
      expect(await settings.page.getByText("Not connected", { exact: true }).count()).toBeGreaterThan(0);
      expect(
        await settings.page.getByText("Press Connect with Meta again in Settings", { exact: false }).count(),
      ).toBeGreaterThan(0);
      expect(await overflowsViewport(settings.page)).toBeLessThanOrEqual(0);
      await screenshot(settings.page, `admin-settings-token-expired-${width}`);
      expect(settings.external).toEqual([]);
      await settings.page.close();
    }, 60_000);
  }

  it("the Connect with Meta page before any sign-in", async () => {
    for (const width of [1280, 390]) {
      const { page } = await open("/app/connect", width);
      expect(await page.getByRole("button", { name: "Connect with Meta" }).count()).toBe(1);
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `admin-connect-start-${width}`);
      await page.close();
    }
  }, 60_000);
});
