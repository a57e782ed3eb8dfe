// Setting up Meta in a real browser (Debian's Chromium driven by playwright-core), served by the
// production server from the production build and checked against the Meta stand-in: a revoked
// token is refused with its fix and never shown as connected; a good one connects; the test event
// goes to Test events with Meta's answer shown and the checklist moves on; a second pixel with
// its own name, token and events is added, and a signed orders/create then reaches both pixels
// as the same Purchase (one event id), while a checkout reaches only the pixel set to receive
// InitiateCheckout. Screenshots at 1280 and 390 px go to bench/out/.
import { type Page } from "playwright-core";
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
import { shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";
import { signedWebhookRequest } from "../../test/support/shopify-webhooks";

// The fixtures' own shop: their status links name it, and webhooks are bound to their shop.
const STORE = "northwind-woolens-demo";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "browser-pixels-key";
const API_SECRET = "browser-pixels-secret";
const MAIN = { label: "Main store", pixelId: "3100000001", token: `EAAmain${"m".repeat(40)}` };
const REVOKED = `EAArevoked${"r".repeat(40)}`;
const TEST_CODE = "TEST4242";
const AGENCY = { label: "Agency", pixelId: "3100000002", token: `EAAagency${"a".repeat(40)}` };

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
}, 240_000);

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
  await meta?.close();
});

const SUITE = "several pixels in Chromium";
const open = (path_: string, width: number) => app.open(path_, width);
const toasts = async (page: Page) => (await appBridgeCalls(page)).toasts;

/** Fills the pixel card at `index` (Settings' cards in order) and saves it. */
async function fillPixelCard(
  page: Page,
  index: number,
  pixel: { label: string; pixelId: string; token: string },
  options: { initiateCheckout?: boolean; testEventCode?: string } = {},
) {
  await page.getByLabel("Name (optional)").nth(index).fill(pixel.label);
  await page.getByLabel("Pixel (dataset) ID").nth(index).fill(pixel.pixelId);
  await page.getByLabel("Conversions API access token").nth(index).fill(pixel.token);
  if (options.testEventCode) await page.getByLabel("Test event code (optional)").nth(index).fill(options.testEventCode);
  if (options.initiateCheckout === false)
    await page.getByLabel("InitiateCheckout (checkouts)").nth(index).setChecked(false);
  const before = (await toasts(page)).length;
  await page.getByRole("button", { name: "Connect pixel" }).click();
  await expect
    .poll(async () => (await toasts(page)).slice(before).map((t) => t.message), { timeout: 20_000 })
    .toEqual([expect.stringMatching(/^Pixel connection saved/)]);
}

const post = (topic: string, payload: unknown) =>
  fetch(signedWebhookRequest(`http://127.0.0.1:${app.port}`, { topic, shop: SHOP, payload, secret: API_SECRET }));

describe.skipIf(!canRunBrowserTests(`${SUITE} (app/routes/app.settings.pixels.browser.test.ts)`))(SUITE, () => {
  it("connects two pixels from Settings, each with its own name, token and events; an order reaches both as one Purchase", async () => {
    const { page, external } = await open("/app/settings", 1280);
    // A token Meta revoked: refused with what to do, nothing saved, never shown as connected.
    meta.revokeToken(REVOKED);
    await page.getByLabel("Pixel (dataset) ID").fill(MAIN.pixelId);
    await page.getByLabel("Conversions API access token").fill(REVOKED);
    await page.getByRole("button", { name: "Connect pixel" }).click();
    await expect
      .poll(() => page.getByText(/does not accept this access token/).count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await page.getByText("Connected", { exact: true }).count()).toBe(0);
    expect(await testDb.prisma.destination.count({ where: { shop: SHOP } })).toBe(0);
    await screenshot(page, "admin-settings-revoked-token-1280");

    await fillPixelCard(page, 0, MAIN, { testEventCode: TEST_CODE });
    expect(await page.getByText("Connected", { exact: true }).count()).toBe(1);

    // The test event: Meta's answer on the page, the event in Test events under the code.
    const before = (await toasts(page)).length;
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect
      .poll(async () => (await toasts(page)).slice(before).map((t) => t.message), { timeout: 15_000 })
      .toEqual([expect.stringContaining(`Test events, under code ${TEST_CODE}`)]);
    // Meta's own answer stays on the card: how many events it received, its trace id, where to look.
    expect(await page.getByText(/events_received 1, fbtrace_id \S+/).count()).toBe(1);
    expect(meta.accepted(MAIN.pixelId).map((a) => [a.event.event_name, a.testEventCode])).toEqual([
      ["Purchase", TEST_CODE],
    ]);
    // The checklist saw it: connected and a test event seen; the embed and going live remain.
    const overview = await open("/app", 1280);
    await expect.poll(() => overview.page.getByText("2 of 4 done").count()).toBe(1);
    expect(await overview.page.getByText(`Test event code ${TEST_CODE} is set`).count()).toBe(1);
    await screenshot(overview.page, "admin-overview-checklist-2-of-4-1280");
    await overview.page.close();

    await page.getByRole("button", { name: "Add another pixel" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Add a Meta pixel" }).count()).toBe(1);
    // The agency's dataset takes orders only.
    await fillPixelCard(page, 1, AGENCY, { initiateCheckout: false });
    await expect.poll(() => page.getByRole("heading", { name: "Agency", exact: true }).count()).toBe(1);
    expect(await page.getByRole("heading", { name: "Main store", exact: true }).count()).toBe(1);
    // Each checked with Meta with its own token (the revoked one refused first).
    expect(meta.pixelReads().map((r) => [r.pixelId, r.status])).toEqual([
      [MAIN.pixelId, 400],
      [MAIN.pixelId, 200],
      [AGENCY.pixelId, 200],
    ]);
    const html = await page.content();
    for (const token of [MAIN.token, AGENCY.token]) expect(html).not.toContain(token);
    expect(external).toEqual([]);
    await page.close();

    for (const width of [1280, 390]) {
      const opened = await open("/app/settings", width);
      expect(await opened.page.getByRole("heading", { name: "Agency", exact: true }).count()).toBe(1);
      expect(await opened.page.getByRole("button", { name: "Remove pixel" }).count()).toBe(2);
      expect(await overflowsViewport(opened.page)).toBeLessThanOrEqual(0);
      await screenshot(opened.page, `admin-settings-two-pixels-${width}`);
      await opened.page.close();
    }

    // One order and one checkout, as Shopify signs them.
    const order = shopifyFixture("orders-create-web");
    const checkout = shopifyFixture("checkouts-create");
    expect((await post("orders/create", order)).status).toBe(200);
    expect((await post("checkouts/create", checkout)).status).toBe(200);
    const { flushShop } = await import("../pipeline/worker.server");
    const { database } = await import("../process-clients.server");
    const report = await flushShop(
      { prisma: database().prisma, redisUrl: REDIS_URL, graphUrl: meta.url, batchWindowMs: 0 },
      SHOP,
    );
    expect(report.delivered).toBe(3);

    // Real orders never carry the test event code: the test event above is the one that did.
    const received = (pixelId: string) =>
      meta
        .accepted(pixelId)
        .filter((a) => a.testEventCode === undefined)
        .map((a) => [a.event.event_name, a.event.event_id] as const);
    expect(received(MAIN.pixelId)).toEqual([
      ["Purchase", String(order.id)],
      ["InitiateCheckout", checkout.token],
    ]);
    expect(received(AGENCY.pixelId)).toEqual([["Purchase", String(order.id)]]);
    // The same event to both: what the browser pixel fires for each carries this id too.
    const purchaseOf = (pixelId: string) =>
      meta.accepted(pixelId).find((x) => x.testEventCode === undefined && x.event.event_name === "Purchase")!.event;
    const [a, b] = [purchaseOf(MAIN.pixelId), purchaseOf(AGENCY.pixelId)];
    expect(b).toEqual(a);
    // Each pixel was sent with its own token.
    expect(await testDb.prisma.event.count({ where: { shop: SHOP, state: "sent" } })).toBe(3);
  });
});
