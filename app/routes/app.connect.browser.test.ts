// Connect with Meta in a real browser (Debian's Chromium driven by playwright-core), served by
// the production server from the production build: Settings' Connect with Meta button, the
// Meta stand-in's login dialog opened top level, Continue (or Cancel), Meta's redirect to the
// app's callback, the shop's admin opening the app again in its frame (a stand-in: the admin's
// URL is answered with the app's page and a fresh session token, as Shopify's admin loads it),
// the pick of business and pixel, and the saved connection; then the warnings before and after
// the token's end. Screenshots at 1280 and 390 px go to bench/out/.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import {
  appBridgeCalls,
  overflowsViewport,
  screenshot as photograph,
  startAdminApp,
  type AdminApp,
  type OpenedPage,
} from "../../test/support/admin-browser";
import { canRunBrowserTests } from "../../test/support/browser";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";

const STORE = "browser-login";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "browser-login-key";
const API_SECRET = "browser-login-secret";
const META_APP = { appId: "5566778899", appSecret: "browser-meta-s3cret" };
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
let app: AdminApp;

beforeAll(async () => {
  testDb = await createTestDatabase();
  meta = await startMetaSandbox({ loginApp: META_APP });
  // Meta sends the merchant back to the app's own URL: the app must know it before it starts.
  app = await startAdminApp({
    db: testDb,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    stores: [STORE],
    publicUrl: true,
    env: {
      META_GRAPH_URL: meta.url,
      META_DIALOG_URL: meta.url,
      META_APP_ID: META_APP.appId,
      META_APP_SECRET: META_APP.appSecret,
      META_LOGIN_CONFIG_ID: "112233445566",
    },
  });
}, 240_000);

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
  await meta?.close();
});

const SUITE = "Connect with Meta in Chromium";

const open = (path: string, width: number): Promise<OpenedPage> => app.open(path, width);

const screenshot = photograph;

const toasts = async (page: Page) => (await appBridgeCalls(page)).toasts;

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
