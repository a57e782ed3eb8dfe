// The Accuracy page in Chromium (Debian's, driven by playwright-core), served by the production
// server from the production build, with App Bridge stood in: stored days of a shop's pixel,
// one under the threshold, shown with their reasons at 1280 and 390 px; screenshots in bench/out.
// The page reads only stored rows: no request reaches Shopify.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canRunBrowserTests, chromiumLaunchOptions, fakeAppBridge } from "../../test/support/browser";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";

const ROOT = path.resolve(__dirname, "../..");
const STORE = "accuracy-browser";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "accuracy-browser-key";
const API_SECRET = "accuracy-browser-secret";
const OUT = path.join(ROOT, "bench/out");
// Headless Chromium's own user agent names it, and the library refuses bots (410).
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
const CONSENT = "the buyer declined marketing tracking";
const DAY_MS = 86_400_000;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);

let testDb: TestDatabase;
let server: { port: number; close(): Promise<void> };
let browser: Browser;

beforeAll(async () => {
  // The page is served from the production build, made here when missing.
  if (!existsSync(path.join(ROOT, "build/index.js"))) {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/@remix-run/dev/dist/cli.js"), "build"], {
      cwd: ROOT,
      stdio: "ignore",
    });
  }
  testDb = await createTestDatabase();
  Object.assign(process.env, {
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: "https://capi-relay.example.com",
    DATABASE_URL: testDb.url,
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    REDIS_URL,
  });
  const { loadBuild, startWebServer } = await import("../../server/main");
  const { sessionStorage } = await import("../shopify.server");
  const { Session } = await import("@shopify/shopify-api");
  await sessionStorage!.storeSession(
    new Session({
      id: `offline_${SHOP}`,
      shop: SHOP,
      state: "accuracy",
      isOnline: false,
      accessToken: "shpat_accuracy",
      scope: "read_orders",
      // An expiring token with its hour ahead, as the app stores them: no token exchange is needed.
      expires: new Date(Date.now() + 3600_000),
    }),
  );
  const destinationId = crypto.randomUUID();
  await testDb.prisma.destination.create({
    data: {
      id: destinationId,
      shop: SHOP,
      pixelId: "123456789012345",
      label: "Brand A",
      accessTokenEnc: "sealed-ciphertext-accuracy",
      tokenFingerprint: "fingerprint-accuracy",
    },
  });
  const zero = { recovered: 0, heldBack: 0, rejected: 0, invalid: 0, pending: 0, expired: 0, neverReceived: 0 };
  // Yesterday: 12 orders, 2 held back, 8 of the other 10 accepted (80%), one rejected, one never received.
  await testDb.prisma.accuracyDay.create({
    data: {
      ...zero,
      shop: SHOP,
      day: new Date(`${yesterday}T00:00:00Z`),
      destinationId,
      orders: 12,
      accepted: 8,
      recovered: 1,
      heldBack: 2,
      rejected: 1,
      neverReceived: 1,
      heldBackReasons: { [CONSENT]: 2 },
      measuredAt: new Date(),
    },
  });
  await testDb.prisma.accuracyDay.create({
    data: {
      ...zero,
      shop: SHOP,
      day: new Date(`${today}T00:00:00Z`),
      destinationId,
      orders: 5,
      accepted: 5,
      measuredAt: new Date(),
    },
  });
  mkdirSync(OUT, { recursive: true });
  server = await startWebServer({ port: 0, host: "127.0.0.1", build: await loadBuild(), mode: "production" });
  browser = await chromium.launch(chromiumLaunchOptions);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await testDb?.drop();
});

async function open(width: number): Promise<{ page: Page; external: string[] }> {
  const page = await browser.newPage({ userAgent: USER_AGENT, viewport: { width, height: 900 } });
  const external: string[] = [];
  // Nothing leaves this machine: Shopify's CDN scripts are refused, and every other host is noted.
  await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => {
    const url = route.request().url();
    if (url !== "https://cdn.shopify.com/shopifycloud/app-bridge.js") external.push(url);
    return route.abort();
  });
  const { token } = await getJwt(STORE, API_KEY, API_SECRET);
  await page.addInitScript(fakeAppBridge(token));
  const host = Buffer.from(`admin.shopify.com/store/${STORE}`).toString("base64url");
  const response = await page.goto(
    `http://127.0.0.1:${server.port}/app/accuracy?embedded=1&shop=${SHOP}&host=${host}&id_token=${token}`,
  );
  expect(response?.status()).toBe(200);
  await page.waitForLoadState("networkidle");
  return { page, external };
}

const SUITE = "the Accuracy page in Chromium";

describe.skipIf(!canRunBrowserTests(`${SUITE} (app/routes/app.accuracy.browser.test.ts)`))(SUITE, () => {
  for (const width of [1280, 390]) {
    it(`at ${width} px: each day's orders, what Meta accepted, the percentage and the gap by reason`, async () => {
      const { page, external } = await open(width);
      await expect.poll(() => page.getByRole("heading", { name: "Brand A", exact: true }).count()).toBe(1);
      expect(await page.locator("ui-title-bar").getAttribute("title")).toBe("Accuracy");
      expect(await page.getByText(`Meta accepted 80.0% of your orders on ${yesterday} (Brand A)`).count()).toBe(1);
      expect(await page.getByText("12 orders in Shopify, 8 accepted by Meta.").count()).toBe(1);
      expect(await page.getByText("80.0% accepted (under 95%)").count()).toBe(1);
      expect(await page.getByText("5 orders in Shopify, 5 accepted by Meta.").count()).toBe(1);
      expect(await page.getByText("100% accepted", { exact: true }).count()).toBe(1);
      expect(await page.getByRole("heading", { name: yesterday, exact: true }).count()).toBe(1);
      expect(await page.getByText("1 rejected by Meta", { exact: true }).count()).toBe(1);
      expect(await page.getByText("1 never received", { exact: true }).count()).toBe(1);
      expect(await page.getByText(`2: ${CONSENT}`).count()).toBe(1);
      expect(await page.getByText("1 of those sent recovered by reconciliation", { exact: false }).count()).toBe(1);
      expect(await page.getByRole("heading", { name: "What the reasons mean" }).count()).toBe(1);
      // Keyboard: the one control is reached with Tab.
      const measure = page.getByRole("button", { name: "Measure now" });
      for (let i = 0; i < 20 && !(await measure.evaluate((el) => el === document.activeElement)); i++)
        await page.keyboard.press("Tab");
      expect(await measure.evaluate((el) => el === document.activeElement)).toBe(true);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      expect(external).toEqual([]);
      await page.screenshot({ path: path.join(OUT, `admin-accuracy-${width}.png`), fullPage: true });
      await page.close();
    });
  }
});
