// The Overview's "Meta's quality numbers" card in Chromium, from the production build: the
// merchant presses Refresh (by keyboard), the app reads Meta's Dataset Quality API from the
// stand-in, and the card shows Meta's Event Match Quality and coverage beside ours, and for a
// pixel whose token lacks the permission, what to grant. At 1280 and 390 px, screenshots in bench/out/.
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { canRunBrowserTests, chromiumLaunchOptions, fakeAppBridge } from "../../test/support/browser";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";
import type { MetaEvent } from "../meta/event";
import { graphRequest } from "../meta/request";

const ROOT = path.resolve(__dirname, "../..");
const STORE = "quality-browser";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "quality-browser-key";
const API_SECRET = "quality-browser-secret";
const OUT = path.join(ROOT, "bench/out");
// Shopify's library answers 410 to a headless browser's own user agent (a bot); a person's browser it serves.
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
const [PIXEL, DENIED_PIXEL] = ["6100000001", "6100000002"];
const [TOKEN, DENIED_TOKEN] = ["EAAbrowser-quality-1", "EAAbrowser-quality-2"];
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

let testDb: TestDatabase;
let meta: MetaSandbox;
let server: { port: number; close(): Promise<void> };
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, "build/index.js"))) {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/@remix-run/dev/dist/cli.js"), "build"], {
      cwd: ROOT,
      stdio: "ignore",
    });
  }
  testDb = await createTestDatabase();
  meta = await startMetaSandbox();
  Object.assign(process.env, {
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: "https://capi-relay.example.com",
    DATABASE_URL: testDb.url,
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    REDIS_URL,
    META_GRAPH_URL: meta.url,
  });
  const { loadBuild, startWebServer } = await import("../../server/main");
  const { sessionStorage } = await import("../shopify.server");
  const { Session } = await import("@shopify/shopify-api");
  const { saveDestination } = await import("../pipeline/destinations.server");
  await sessionStorage!.storeSession(
    new Session({
      id: `offline_${SHOP}`,
      shop: SHOP,
      state: "quality",
      isOnline: false,
      accessToken: "shpat_quality",
      scope: "read_orders",
      // An expiring token with its hour ahead, as the app stores them: no token exchange is needed.
      expires: new Date(Date.now() + 3600_000),
    }),
  );
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
  mkdirSync(OUT, { recursive: true });
  server = await startWebServer({ port: 0, host: "127.0.0.1", build: await loadBuild(), mode: "production" });
  browser = await chromium.launch(chromiumLaunchOptions);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await meta?.close();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await testDb?.drop();
});

async function open(width: number): Promise<Page> {
  const page = await browser.newPage({ userAgent: USER_AGENT, viewport: { width, height: 900 } });
  await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  const { token } = await getJwt(STORE, API_KEY, API_SECRET);
  await page.addInitScript(fakeAppBridge(token));
  const host = Buffer.from(`admin.shopify.com/store/${STORE}`).toString("base64url");
  const response = await page.goto(
    `http://127.0.0.1:${server.port}/app?embedded=1&shop=${SHOP}&host=${host}&id_token=${token}`,
  );
  expect(response?.status()).toBe(200);
  await page.waitForLoadState("networkidle");
  return page;
}

const toasts = (page: Page) =>
  page.evaluate(
    () =>
      (window as unknown as { __appBridge: { toasts: Array<{ message: string; isError: boolean }> } }).__appBridge
        .toasts,
  );

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
    await page.screenshot({ path: path.join(OUT, "admin-meta-quality-1280.png"), fullPage: true });
    await page.close();
  });

  it("says what to grant when Meta refuses the token these numbers, and fits 390 px", async () => {
    const page = await open(390);
    await page.getByRole("button", { name: "Refresh Meta's numbers for Agency" }).click();
    const card = page.getByRole("region", { name: "Meta's quality numbers" });
    await card.getByText("Meta refuses these numbers").waitFor();
    expect(await card.innerText()).toMatch(/Manage pixel/);
    expect((await toasts(page)).at(-1)).toMatchObject({ isError: true });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(OUT, "admin-meta-quality-390.png"), fullPage: true });
    await page.close();
  });
});
