// The admin pages (Overview, Events, Settings) in a real browser (Debian's Chromium driven by
// playwright-core), served by the production server from the production build, as the
// embedded admin opens them: a signed session token, a stored offline session, and a stand-in
// for App Bridge's `shopify` global (its script from Shopify's CDN is refused) that records the
// toasts and save bar. What the merchant sees at 1280 and 390 px, by keyboard too, what must
// never reach the browser, and that no page asks anything of another host but App Bridge.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appBridgeCalls,
  overflowsViewport,
  screenshot,
  startAdminApp,
  type AdminApp,
  type OpenedPage,
} from "../../test/support/admin-browser";
import { canRunBrowserTests } from "../../test/support/browser";
import { offlineSession } from "../../test/support/admin-requests";
import { seedEmbeddedShop } from "../../test/support/embedded-shop";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";

const STORE = "browser-shop";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "browser-key";
const API_SECRET = "browser-secret";
const HASH = "a".repeat(64);
const EMPTY_STORE = "browser-empty";
// Has Meta's Facebook & Instagram channel, as read from Shopify earlier (the Shop row's cache).
const CHANNEL_STORE = "browser-channel";

let testDb: TestDatabase;
let app: AdminApp;

beforeAll(async () => {
  testDb = await createTestDatabase();
  // The second store is just installed: nothing set up, no events; it must see nothing of the first.
  app = await startAdminApp({
    db: testDb,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    stores: [STORE, EMPTY_STORE, CHANNEL_STORE],
  });
  const { sessionStorage } = await import("../shopify.server");
  const channelShop = `${CHANNEL_STORE}.myshopify.com`;
  await sessionStorage!.storeSession(offlineSession(channelShop, { scope: "read_orders,read_publications" }));
  await testDb.prisma.shop.create({
    data: { shop: channelShop, metaChannelInstalled: true, metaChannelCheckedAt: new Date() },
  });
  await testDb.prisma.destination.create({
    data: {
      id: crypto.randomUUID(),
      shop: channelShop,
      pixelId: "246813579024680",
      label: "Main store",
      accessTokenEnc: "sealed-ciphertext-channel",
      tokenFingerprint: "fingerprint-channel",
    },
  });
  await seedEmbeddedShop(testDb.prisma, sessionStorage!, {
    shop: SHOP,
    label: "browser",
    scope: "read_orders",
    pause: { reason: "Meta error 190/463", message: "Meta no longer accepts your access token: it expired." },
  });
  await testDb.prisma.event.create({
    data: {
      shop: SHOP,
      eventName: "Purchase",
      eventId: "5678901234567",
      topic: "orders/create",
      state: "rejected",
      eventTime: new Date(),
      attempts: 1,
      reasonCode: "invalid_parameter",
      reason: "Meta error 100/2804050: Invalid parameter",
      fbtraceId: "TRACE-42",
      payload: { event_name: "Purchase", event_id: "5678901234567", user_data: { em: HASH } },
      history: {
        create: [
          { state: "queued", detail: "from orders/create" },
          { state: "rejected", detail: "Meta error 100/2804050" },
        ],
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

const SUITE = "admin pages in Chromium";

const open = (path: string, width: number, store = STORE, status = 200): Promise<OpenedPage> =>
  app.open(path, width, { store, status });

describe.skipIf(!canRunBrowserTests(`${SUITE} (app/routes/app._index.browser.test.ts)`))(SUITE, () => {
  for (const width of [1280, 390]) {
    it(`Overview at ${width} px: the pause in plain words, the checklist with its progress, the delivery table`, async () => {
      const { page, external } = await open("/app", width);
      await expect.poll(() => page.getByText("Meta is not accepting events for pixel 123456789012345").count()).toBe(1);
      expect(await page.getByText("it expired").count()).toBeGreaterThan(0);
      expect(await page.getByText("0 of 4 done").count()).toBe(1);
      // The checklist's progress and the plan card's usage.
      expect(await page.getByRole("progressbar").count()).toBe(2);
      expect(await page.getByText("Plan: Free").count()).toBe(1);
      expect(await page.getByText(/^\d+ of 50 orders this month \(\d+%\)$/).count()).toBe(1);
      expect(await page.getByText("Not seen yet").count()).toBe(1);
      const editor = page.getByRole("link", { name: "Open theme editor" });
      expect(await editor.getAttribute("href")).toBe(
        `https://${SHOP}/admin/themes/current/editor?context=apps&activateAppId=${API_KEY}/capi-relay`,
      );
      expect(await page.getByRole("columnheader", { name: "Last 7 days" }).count()).toBe(1);
      const html = await page.content();
      expect(html).not.toContain("sealed-ciphertext-browser");
      expect(html).not.toContain("fingerprint-browser");
      // App Bridge's navigation menu lists the pages.
      expect(
        await page.locator("ui-nav-menu a").evaluateAll((links) => links.map((a) => a.getAttribute("href"))),
      ).toEqual(["/app", "/app/events", "/app/accuracy", "/app/settings", "/app/billing"]);
      expect(await page.locator("ui-title-bar").getAttribute("title")).toBe("Overview");
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      expect(external).toEqual([]);
      await screenshot(page, `admin-overview-${width}`);
      await page.close();
    });

    it(`Plans at ${width} px: every plan with its price and orders, this month's usage, a way to choose`, async () => {
      const { page, external } = await open("/app/billing", width);
      await expect.poll(() => page.getByRole("heading", { name: "Growth", exact: true }).count()).toBe(1);
      for (const name of ["Free", "Starter", "Scale"])
        expect(await page.getByRole("heading", { name, exact: true }).count()).toBe(1);
      expect(await page.getByText("$49 every 30 days").count()).toBe(1);
      expect(await page.getByText("Up to 5,000 orders a month sent to Meta.").count()).toBe(1);
      expect(await page.getByRole("button", { name: "Choose the Growth plan" }).count()).toBe(1);
      expect(await page.getByText("Your plan", { exact: true }).count()).toBe(1);
      expect(await page.getByRole("progressbar").count()).toBe(1);
      expect(await page.locator("ui-title-bar").getAttribute("title")).toBe("Plans");
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      expect(external).toEqual([]);
      await screenshot(page, `admin-plans-${width}`);
      await page.close();
    });

    it(`Events at ${width} px: each event's payload and Meta's answer in a dialog`, async () => {
      const { page, external } = await open("/app/events", width);
      await page.getByText("5678901234567").first().click();
      const dialog = page.getByRole("dialog");
      await expect.poll(() => dialog.count()).toBe(1);
      const text = await dialog.innerText();
      expect(text).toContain("TRACE-42");
      expect(text).toContain(HASH);
      expect(text).toContain("Meta error 100/2804050");
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      expect(external).toEqual([]);
      await screenshot(page, `admin-event-detail-${width}`);
      await page.keyboard.press("Escape");
      await expect.poll(() => dialog.count()).toBe(0);
      await screenshot(page, `admin-events-${width}`);
      await page.close();
    });

    it(`Settings at ${width} px: the token never shown, the check result, the save bar and a toast on save`, async () => {
      const { page, external } = await open("/app/settings", width);
      const html = await page.content();
      expect(html).not.toContain("sealed-ciphertext-browser");
      expect(html).not.toContain("fingerprint-browser");
      // The token field is never filled with the saved token.
      const tokenField = page.getByLabel("Conversions API access token");
      expect(await tokenField.inputValue()).toBe("");
      expect(await tokenField.getAttribute("type")).toBe("password");
      expect(await page.getByText("Not connected").count()).toBeGreaterThan(0);
      expect(await page.getByRole("button", { name: "Send test event" }).count()).toBe(1);
      // This server has no Meta app: the pasted token is the way, and one sentence says why.
      expect(await page.getByText("Connect with Meta is not set up on this server", { exact: false }).count()).toBe(1);
      expect(await page.getByRole("button", { name: "Connect with Meta" }).count()).toBe(0);
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `admin-settings-${width}`);

      // A change opens the contextual save bar; saving closes it and says so in a toast.
      const tips = page.getByLabel("Count tips in the Purchase value");
      await tips.setChecked(!(await tips.isChecked()));
      await expect.poll(async () => (await appBridgeCalls(page)).saveBar).toContain("show event-settings-save-bar");
      await page.getByRole("button", { name: "Save settings" }).click();
      await expect
        .poll(async () => (await appBridgeCalls(page)).toasts)
        .toEqual([{ message: "Settings saved", isError: false }]);
      await expect.poll(async () => (await appBridgeCalls(page)).saveBar.at(-1)).toBe("hide event-settings-save-bar");
      expect(external).toEqual([]);
      await page.close();
    });
  }

  it("goes from Overview to Events inside the app, with a skeleton while the page loads", async () => {
    const { page, external } = await open("/app", 1280);
    // Meta's answer is slow today: the next page's data takes a moment.
    await page.route(/_data=routes%2Fapp\.events/, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });
    await page.getByRole("link", { name: "View events" }).first().click();
    await expect.poll(() => page.getByRole("status", { name: "Page loading" }).count()).toBe(1);
    await expect
      .poll(() => page.getByRole("button", { name: "Open Purchase 5678901234567" }).count(), { timeout: 10_000 })
      .toBe(1);
    expect(await page.getByRole("status", { name: "Page loading" }).count()).toBe(0);
    expect(new URL(page.url()).pathname).toBe("/app/events");
    expect(external).toEqual([]);
    await page.close();
  });

  it("opens an event by keyboard: Tab to its row's button, Enter", async () => {
    const { page } = await open("/app/events", 1280);
    let focused = "";
    for (let i = 0; i < 30 && !focused.startsWith("Open Purchase"); i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(
        () => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent ?? "",
      );
    }
    expect(focused).toBe("Open Purchase 5678901234567");
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog");
    await expect.poll(() => dialog.count()).toBe(1);
    expect(await dialog.innerText()).toContain("TRACE-42");
    await page.close();
  });

  it("shows a new shop its empty state and nothing of another shop", async () => {
    const overview = await open("/app", 1280, EMPTY_STORE);
    expect(await overview.page.getByText("Connect your Meta pixel").count()).toBeGreaterThan(0);
    expect(await overview.page.getByText("No events in the last 7 days yet", { exact: false }).count()).toBe(1);
    await screenshot(overview.page, "admin-overview-new-shop-1280");
    await overview.page.close();
    const events = await open("/app/events", 390, EMPTY_STORE);
    expect(await events.page.getByText("No events yet").count()).toBe(1);
    expect(await events.page.content()).not.toContain("5678901234567");
    await screenshot(events.page, "admin-events-empty-390");
    await events.page.close();
  });

  for (const width of [1280, 390]) {
    it(`warns at ${width} px when Meta's Facebook & Instagram channel may send the same purchases`, async () => {
      const { page, external } = await open("/app", width, CHANNEL_STORE);
      const banner = page.getByText("Meta's Facebook & Instagram channel may count your purchases twice");
      await expect.poll(() => banner.count()).toBe(1);
      expect(await page.getByText("Main store (246813579024680)", { exact: false }).count()).toBeGreaterThan(0);
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      expect(external).toEqual([]);
      await screenshot(page, `admin-overview-meta-channel-${width}`);
      await page.close();
    });
  }

  it("says what failed and retries: the events page while its table is unreadable, then again once it is back", async () => {
    await testDb.prisma.$executeRawUnsafe(`ALTER TABLE "Event" RENAME TO "Event_away"`);
    // What the merchant reads when the page's data cannot be read (the loader throws: 500).
    const { page: p, external } = await open("/app/events", 390, STORE, 500);
    await expect.poll(() => p.getByText("Your events could not be loaded").count()).toBe(1);
    await p.waitForLoadState("networkidle");
    await screenshot(p, "admin-events-error-390");
    await testDb.prisma.$executeRawUnsafe(`ALTER TABLE "Event_away" RENAME TO "Event"`);
    await p.getByRole("button", { name: "Retry" }).click();
    await expect.poll(() => p.getByText("5678901234567").count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(external).toEqual([]);
    await p.close();
  });
});
