// The Accuracy page in Chromium (Debian's, driven by playwright-core), served by the production
// server from the production build, with App Bridge stood in: stored days of a shop's pixel,
// one under the threshold, shown with their reasons at 1280 and 390 px; screenshots in bench/out.
// The page reads only stored rows: no request reaches Shopify.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { overflowsViewport, screenshot, startAdminApp, type AdminApp } from "../../test/support/admin-browser";
import { canRunBrowserTests } from "../../test/support/browser";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";

const STORE = "accuracy-browser";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "accuracy-browser-key";
const API_SECRET = "accuracy-browser-secret";
const CONSENT = "the buyer declined marketing tracking";
const DAY_MS = 86_400_000;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);

let testDb: TestDatabase;
let app: AdminApp;

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = await startAdminApp({ db: testDb, apiKey: API_KEY, apiSecret: API_SECRET, stores: [STORE] });
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
}, 120_000);

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

const open = (width: number) => app.open("/app/accuracy", width);

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
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      expect(external).toEqual([]);
      await screenshot(page, `admin-accuracy-${width}`);
      await page.close();
    });
  }
});
