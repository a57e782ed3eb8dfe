// The Overview's "Meta's quality numbers" card in Chromium, from the production build: the
// merchant presses Refresh (by keyboard), the app reads Meta's Dataset Quality API from the
// stand-in, and the card shows Meta's Event Match Quality and coverage beside ours, and for a
// pixel whose token lacks the permission, what to grant. At 1280 and 390 px, screenshots in bench/out/.
import { createHash } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import {
  appBridgeCalls,
  overflowsViewport,
  screenshot,
  startAdminApp,
  type AdminApp,
} from "../../test/support/admin-browser";
import { canRunBrowserTests } from "../../test/support/browser";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import type { MetaEvent } from "../meta/event";
import { graphRequest } from "../meta/request";

const STORE = "quality-browser";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "quality-browser-key";
const API_SECRET = "quality-browser-secret";
const [PIXEL, DENIED_PIXEL] = ["6100000001", "6100000002"];
const [TOKEN, DENIED_TOKEN] = ["EAAbrowser-quality-1", "EAAbrowser-quality-2"];
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

let testDb: TestDatabase;
let meta: MetaSandbox;
let app: AdminApp;

beforeAll(async () => {
  testDb = await createTestDatabase();
  meta = await startMetaSandbox();
  app = await startAdminApp({
    db: testDb,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    stores: [STORE],
    env: { META_GRAPH_URL: meta.url },
  });
  const { saveDestination } = await import("../pipeline/destinations.server");
  const id = await saveDestination(testDb.prisma, SHOP, { pixelId: PIXEL, accessToken: TOKEN, label: "Main store" });
  await saveDestination(testDb.prisma, SHOP, { pixelId: DENIED_PIXEL, accessToken: DENIED_TOKEN, label: "Agency" });
  meta.denyQuality(DENIED_TOKEN);
  const events = ["a", "b", "c"].map((k, i) => ({
    event_name: "Purchase",
    event_time: Math.floor(Date.now() / 1000) - 600,
    event_id: `10${i}`,
    action_source: "website" as const,
    event_source_url: "https://shop.example.com/thank_you",
    user_data: {
      em: [sha(`${k}@example.com`)],
      ...(i < 2 ? { ph: [sha(`1415555010${i}`)] } : {}),
      client_user_agent: "Mozilla/5.0",
    },
    custom_data: { value: 30, currency: "USD" },
  }));
  for (const event of events)
    await testDb.prisma.event.create({
      data: {
        shop: SHOP,
        destinationId: id,
        pixelId: PIXEL,
        eventName: "Purchase",
        eventId: event.event_id,
        topic: "orders/create",
        state: "sent",
        payload: JSON.parse(JSON.stringify(event)),
        eventTime: new Date(event.event_time * 1000),
      },
    });
  const request = graphRequest({ pixelId: PIXEL, accessToken: TOKEN }, events as MetaEvent[], { graphUrl: meta.url });
  await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await meta?.close();
  await testDb?.drop();
});

const open = async (width: number): Promise<Page> => (await app.open("/app", width)).page;
const toasts = async (page: Page) => (await appBridgeCalls(page)).toasts;

const SUITE = "Meta's quality numbers on the Overview, in Chromium";
describe.skipIf(!canRunBrowserTests(`${SUITE} (app/routes/app.quality.browser.test.ts)`))(SUITE, () => {
  it("Refresh by keyboard reads Meta's numbers from the stand-in and shows them beside ours (1280 px)", async () => {
    const page = await open(1280);
    const card = page.getByRole("region", { name: "Meta's quality numbers" });
    await expect(card.getByText("Not read from Meta yet.").first().isVisible()).resolves.toBe(true);
    await page.getByRole("button", { name: "Refresh Meta's numbers for Main store" }).focus();
    await page.keyboard.press("Enter");
    await card.getByText(/Event Match Quality \d\.\d \/ 10/).waitFor();
    expect(meta.qualityReads()).toEqual([{ datasetId: PIXEL, agentName: "capirelay-shopify", status: 200 }]);
    const text = await card.innerText();
    expect(text).toMatch(/Read from Meta \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\./);
    expect(text).toMatch(/Email\s+100%\s+100%/);
    expect(text).toMatch(/Phone number\s+67%\s+67%/);
    expect(await toasts(page)).toEqual([{ message: "Meta's quality numbers were read again.", isError: false }]);
    await screenshot(page, "admin-meta-quality-1280");
    await page.close();
  });

  it("says what to grant when Meta refuses the token these numbers, and fits 390 px", async () => {
    const page = await open(390);
    await page.getByRole("button", { name: "Refresh Meta's numbers for Agency" }).click();
    const card = page.getByRole("region", { name: "Meta's quality numbers" });
    await card.getByText("Meta refuses these numbers").waitFor();
    expect(await card.innerText()).toMatch(/Manage pixel/);
    expect((await toasts(page)).at(-1)).toMatchObject({ isError: true });
    expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
    await screenshot(page, "admin-meta-quality-390");
    await page.close();
  });
});
