// The Overview's delivery charts and match-key coverage in a real browser (Debian's Chromium via
// playwright-core), served by the production server from the production build, as the embedded
// admin opens them (the setup of ./app._index.browser.test.ts). A shop with a month of events:
// what the merchant sees at 1280 and 390 px, the charts' numbers reached by keyboard as a table
// equal to SQL counts, the 30-day view, and the advice on low match keys.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { overflowsViewport, screenshot, startAdminApp, type AdminApp } from "../../test/support/admin-browser";
import { canRunBrowserTests } from "../../test/support/browser";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";

const STORE = "charts-shop";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "charts-browser-key";
const API_SECRET = "charts-browser-secret";
const HASH = "c".repeat(64);
const HOUR = 3_600_000;

let testDb: TestDatabase;
let app: AdminApp;

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = await startAdminApp({ db: testDb, apiKey: API_KEY, apiSecret: API_SECRET, stores: [STORE] });
  const pixels = [randomUUID(), randomUUID()];
  for (const [i, id] of pixels.entries()) {
    await testDb.prisma.destination.create({
      data: {
        id,
        shop: SHOP,
        pixelId: `12345678901234${i}`,
        label: i === 0 ? "Main store pixel" : null,
        accessTokenEnc: `sealed-ciphertext-${i}`,
        tokenFingerprint: `fingerprint-${i}`,
      },
    });
  }
  // A month of events: most delivered, some retrying, rejected and paused; Purchases with the
  // embed's fbp on most, fbc on few; checkouts without an IP. The first 80 in the last 23 h 44 min, the
  // rest 9 hours apart from 9 h ago on (none between 23 h 44 min and 27 h ago: the 24-hour
  // window's start never falls near one while the test runs).
  const states = ["sent", "sent", "sent", "sent", "sent", "sent", "retrying", "rejected", "paused", "queued"];
  for (let i = 0; i < 160; i++) {
    const createdAt = new Date(Date.now() - (i < 80 ? i * 0.3 * HOUR : (i - 79) * 9 * HOUR) - 60_000);
    const eventName = i % 3 === 0 ? "InitiateCheckout" : "Purchase";
    const state = states[i % states.length]!;
    const userData: Record<string, string | string[]> = {
      em: [HASH],
      ph: [HASH],
      fn: [HASH],
      ct: [HASH],
      external_id: [HASH],
    };
    if (i % 5 !== 0) userData.fbp = "fb.1.1700000000000.123";
    if (i % 4 === 0) userData.fbc = "fb.1.1700000000000.AbC";
    await testDb.prisma.event.create({
      data: {
        shop: SHOP,
        eventName,
        eventId: `ev-${i}`,
        topic: eventName === "Purchase" ? "orders/create" : "checkouts/create",
        state,
        destinationId: pixels[i % 2]!,
        payload: { event_name: eventName, event_id: `ev-${i}`, user_data: userData },
        notes:
          eventName === "Purchase" && state !== "queued" && state !== "retrying" && state !== "paused"
            ? [{ code: "client_data_removed", message: "removed: client_ip_address, client_user_agent" }]
            : [],
        eventTime: createdAt,
        createdAt,
        // As the worker records an acceptance: the event's sentAt and its history line, the same moment.
        sentAt: state === "sent" ? new Date(createdAt.getTime() + 1000 + (i % 7) * 900) : null,
        history: {
          create: [
            { at: createdAt, state: "queued" },
            ...(state === "sent" ? [{ at: new Date(createdAt.getTime() + 1000 + (i % 7) * 900), state: "sent" }] : []),
          ],
        },
      },
    });
  }
  const reasons = ["Test order: the shop has no test event code", "The buyer declined marketing"];
  for (let i = 0; i < 9; i++) {
    await testDb.prisma.webhookReceipt.create({
      data: {
        shop: SHOP,
        topic: "orders/create",
        webhookId: `h${i}`,
        dedupeKey: `h${i}`,
        receivedAt: new Date(Date.now() - i * 2 * HOUR - 60_000),
        outcome: "held_back",
        reason: reasons[i % 2],
      },
    });
  }
}, 120_000);

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

const open = (width: number) => app.open("/app", width);

const sqlCount = async (text: string, ...params: unknown[]) =>
  (await testDb.prisma.$queryRawUnsafe<Array<{ n: number }>>(text, ...params))[0]!.n;

const SUITE = "Overview charts in Chromium";

describe.skipIf(!canRunBrowserTests(`${SUITE} (app/routes/app._index.charts.browser.test.ts)`))(SUITE, () => {
  for (const width of [1280, 390]) {
    it(`at ${width} px: the charts, their numbers as a table by keyboard, 30 days, coverage and advice`, async () => {
      const { page, external } = await open(width);
      const chart = page.getByRole("img", { name: /Last 24 hours, per hour \(UTC\)/ });
      await expect.poll(() => chart.count()).toBe(1);
      expect(await page.getByRole("heading", { name: "By event" }).count()).toBe(1);
      expect(await page.getByRole("heading", { name: "By pixel" }).count()).toBe(1);
      expect(await page.getByText("Main store pixel", { exact: true }).count()).toBeGreaterThan(0); // here and in the Meta quality card
      expect(await page.getByText("Pixel 123456789012341", { exact: true }).count()).toBeGreaterThan(0);
      expect(await page.getByRole("heading", { name: "Held back, by reason" }).count()).toBe(1);
      expect(await page.getByRole("heading", { name: "Time to reach Meta" }).count()).toBe(1);

      // The keyboard reaches the table toggle; the table's Total column adds up to SQL's count.
      const toggle = page.getByRole("button", { name: "Show as table" }).first();
      let focused = false;
      for (let i = 0; i < 60 && !focused; i++) {
        await page.keyboard.press("Tab");
        focused = await toggle.evaluate((el) => el === document.activeElement);
      }
      expect(focused).toBe(true);
      await page.keyboard.press("Enter");
      await expect.poll(() => page.getByRole("button", { name: "Hide table" }).count()).toBe(1);
      const table = page.locator("table").filter({ has: page.getByRole("columnheader", { name: "Hour (UTC)" }) });
      expect(await table.isVisible()).toBe(true);
      const totals = await table
        .locator("tbody tr")
        .evaluateAll((rows) => rows.map((r) => Number(r.lastElementChild?.textContent ?? "NaN")));
      expect(totals).toHaveLength(25);
      // The window is the 24 hours before the page was read: no seeded row is within minutes of its start.
      const firstHour = new Date(Date.now() - 24 * HOUR);
      const events = await sqlCount(
        `SELECT count(*)::int AS n FROM "Event" WHERE "shop" = $1 AND "createdAt" >= $2`,
        SHOP,
        firstHour,
      );
      const held = await sqlCount(
        `SELECT count(*)::int AS n FROM "WebhookReceipt" WHERE "shop" = $1 AND "outcome" = 'held_back' AND "receivedAt" >= $2`,
        SHOP,
        firstHour,
      );
      expect(totals.reduce((a, b) => a + b, 0)).toBe(events + held);
      // The seeded deliveries took 1 to 6.4 s: the latency table has them.
      const latency = page.locator("table").filter({ has: page.getByRole("columnheader", { name: /7 days: median/ }) });
      expect(await latency.getByRole("rowheader", { name: "All events" }).count()).toBe(1);
      expect(await page.getByRole("img").first().isVisible()).toBe(true);
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `admin-overview-charts-${width}`);

      // 30 days, per day.
      await page.getByRole("button", { name: "30 days" }).click();
      await expect.poll(() => page.getByRole("img", { name: /Last 30 days, per day \(UTC\)/ }).count()).toBe(1);

      // Match keys: the table and the advice on the low ones.
      expect(await page.getByRole("heading", { name: "Customer information sent (last 7 days)" }).count()).toBe(1);
      expect(await page.getByRole("rowheader", { name: "Ad click id (fbc)" }).count()).toBe(1);
      expect(await page.getByText(/Client IP address on 0% of InitiateCheckouts/).count()).toBe(1);
      expect(await page.getByText(/Ad click id \(fbc\) on \d+% of Purchases/).count()).toBe(1);
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      expect(external).toEqual([]);
      await screenshot(page, `admin-overview-charts-30d-${width}`);
      await page.close();
    });
  }
});
