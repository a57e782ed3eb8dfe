// The Events page in a real browser (Debian's Chromium driven by playwright-core), served by the
// production server from the production build, as the embedded admin opens it
// (test/support/admin-browser.ts: a signed session token, a stored offline session, the stand-in
// App Bridge). A
// merchant filters, searches, pages, opens an event and retries it, retries all, and exports the
// list as CSV, at 1280 and 390 px; every number shown is checked against a SQL count, and each
// step is photographed into bench/out/ (admin-events-*.png).
import { readFileSync } from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
import { sha256Hex } from "../meta/user-data";
import { RETRIED_DETAIL } from "../pipeline/retry-rule";

const STORE = "events-browser";
const SHOP = `${STORE}.myshopify.com`;
const OTHER_STORE = "events-browser-other";
const API_KEY = "events-browser-key";
const API_SECRET = "events-browser-secret";
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const BUYER_IP = "203.0.113.77";
const MAIN = randomUUID();
const AGENCY = randomUUID();
const WIDTHS = [1280, 390] as const;
/** The order each width retries from its dialog, so that the two runs do not share one. */
const RETRIED_ORDER: Record<(typeof WIDTHS)[number], string> = { 1280: "#1001", 390: "#1002" };

let testDb: TestDatabase;
let app: AdminApp;

async function sqlCount(condition = "TRUE", ...params: unknown[]): Promise<number> {
  const rows = await testDb.prisma.$queryRawUnsafe<Array<{ n: number }>>(
    `SELECT COUNT(*)::int AS n FROM "Event" WHERE "shop" = $1 AND (${condition})`,
    SHOP,
    ...params,
  );
  return rows[0]!.n;
}

async function event(o: {
  hoursAgo: number;
  name: "Purchase" | "InitiateCheckout";
  eventId: string;
  state: string;
  destinationId: string;
  orderName?: string;
  checkoutToken?: string;
}) {
  const createdAt = new Date(Date.now() - o.hoursAgo * HOUR_MS);
  await testDb.prisma.event.create({
    data: {
      shop: SHOP,
      eventName: o.name,
      eventId: o.eventId,
      topic: o.name === "Purchase" ? "orders/create" : "checkouts/create",
      state: o.state,
      destinationId: o.destinationId,
      orderName: o.orderName ?? null,
      checkoutToken: o.checkoutToken ?? null,
      eventTime: createdAt,
      createdAt,
      attempts: o.state === "queued" ? 0 : 1,
      reasonCode: o.state === "rejected" ? "invalid_parameter" : null,
      reason: o.state === "rejected" ? "Meta error 100/2804050: Invalid parameter" : null,
      fbtraceId: o.state === "rejected" ? `TRACE-${o.eventId}` : null,
      payload: {
        event_name: o.name,
        event_id: o.eventId,
        event_time: Math.floor(createdAt.getTime() / 1000),
        action_source: "website",
        event_source_url: `https://${SHOP}/orders/${o.eventId}`,
        user_data: {
          em: sha256Hex(`${o.eventId}@example.com`),
          ...(o.state === "queued" ? { client_ip_address: BUYER_IP } : {}),
        },
        custom_data: { value: 42, currency: "USD" },
      },
      history: {
        create: [
          {
            at: createdAt,
            state: o.state,
            detail: `from ${o.name === "Purchase" ? "orders/create" : "checkouts/create"}`,
          },
        ],
      },
    },
  });
}

async function seed() {
  // 64 everyday events over the last days (two pages), and the orders the tests look for.
  for (let i = 0; i < 64; i++) {
    const purchase = i % 3 !== 0;
    await event({
      hoursAgo: 3 + i * 2,
      name: purchase ? "Purchase" : "InitiateCheckout",
      eventId: purchase ? String(6_000_000_000_000 + i) : `tok-${i}`,
      state: ["sent", "sent", "queued", "sent", "retrying"][i % 5]!,
      destinationId: i % 2 ? AGENCY : MAIN,
      orderName: purchase ? `#${2000 + i}` : undefined,
    });
  }
  // Two recent orders Meta rejected (one retried from its dialog at each width), with their checkout.
  for (const [n, hoursAgo] of [
    [1001, 1],
    [1002, 2],
  ] as const) {
    await event({
      hoursAgo,
      name: "Purchase",
      eventId: `700000000${n}`,
      state: "rejected",
      destinationId: MAIN,
      orderName: `#${n}`,
      checkoutToken: `ck-${n}`,
    });
    await event({
      hoursAgo,
      name: "Purchase",
      eventId: `700000000${n}`,
      state: "sent",
      destinationId: AGENCY,
      orderName: `#${n}`,
      checkoutToken: `ck-${n}`,
    });
    await event({
      hoursAgo: hoursAgo + 0.5,
      name: "InitiateCheckout",
      eventId: `ck-${n}`,
      state: "sent",
      destinationId: MAIN,
    });
  }
  // Rejected ten days ago: past Meta's window, never sent again.
  await event({
    hoursAgo: 240,
    name: "Purchase",
    eventId: "7000000000999",
    state: "rejected",
    destinationId: AGENCY,
    orderName: "#999",
  });
  // Two more recent rejections for "retry all".
  await event({
    hoursAgo: 20,
    name: "Purchase",
    eventId: "7000000001500",
    state: "rejected",
    destinationId: AGENCY,
    orderName: "#1500",
  });
  await event({ hoursAgo: 26, name: "InitiateCheckout", eventId: "ck-1501", state: "rejected", destinationId: MAIN });
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  for (const [id, pixelId, label] of [
    [MAIN, "123456789012345", "Main store"],
    [AGENCY, "543210987654321", null],
  ] as const) {
    await testDb.prisma.destination.create({
      data: { id, shop: SHOP, pixelId, label, accessTokenEnc: `sealed-${id}`, tokenFingerprint: `fp-${id}` },
    });
  }
  await seed();
  app = await startAdminApp({
    db: testDb,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    stores: [STORE, OTHER_STORE],
    env: { QUEUE_PREFIX: `events-browser-${randomBytes(4).toString("hex")}` },
  });
}, 180_000);

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

const open = (query: string, width: number, store = STORE): Promise<OpenedPage> =>
  app.open(`/app/events${query ? `?${query}` : ""}`, width, { store });

const screenshot = (page: Page, name: string) => photograph(page, `admin-events-${name}`);

const toasts = async (page: Page) => (await appBridgeCalls(page)).toasts;

/** The events' open buttons on the page: one per row shown. */
const rowButtons = (page: Page) => page.getByRole("button", { name: /^Open (Purchase|InitiateCheckout) / });

const countLine = (n: number, filtered: boolean) =>
  new RegExp(`^${n.toLocaleString("en-US")} events?${filtered ? " match" : ""}`);

const SUITE = "the Events page in Chromium";

describe.skipIf(!canRunBrowserTests(`${SUITE} (app/routes/app.events.browser.test.ts)`))(SUITE, () => {
  for (const width of WIDTHS) {
    it(`filters by state and pixel at ${width} px, from the URL, and the back button returns`, async () => {
      const { page, external } = await open("", width);
      const total = await sqlCount();
      await expect.poll(() => page.getByText(countLine(total, false)).count()).toBe(1);
      expect(await rowButtons(page).count()).toBe(50);
      await screenshot(page, `list-${width}`);

      await page.getByLabel("State").selectOption("rejected");
      await page.getByLabel("Pixel").selectOption({ label: "Main store" });
      await page.getByRole("button", { name: "Apply" }).click();
      const rejectedMain = await sqlCount(`"state" = 'rejected' AND "destinationId" = $2`, MAIN);
      await expect.poll(() => new URL(page.url()).searchParams.get("state")).toBe("rejected");
      expect(new URL(page.url()).searchParams.get("destination")).toBe(MAIN);
      await expect.poll(() => page.getByText(countLine(rejectedMain, true)).count()).toBe(1);
      expect(await rowButtons(page).count()).toBe(rejectedMain);
      expect(await overflowsViewport(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `filter-${width}`);

      await page.goBack();
      await expect.poll(() => page.getByText(countLine(total, false)).count()).toBe(1);
      expect(new URL(page.url()).searchParams.get("state")).toBeNull();
      expect(await page.getByLabel("State").inputValue()).toBe("");

      // The next page, by its button: older events, and a way back to the newer.
      await page.getByRole("button", { name: "Older events" }).click();
      await expect.poll(() => new URL(page.url()).searchParams.get("cursor")).not.toBeNull();
      await expect.poll(() => rowButtons(page).count()).toBe(total - 50);
      expect(await page.getByRole("button", { name: "Newer events" }).isEnabled()).toBe(true);
      await screenshot(page, `page-2-${width}`);
      expect(external).toEqual([]);
      await page.close();
    });

    it(`searches by order name at ${width} px: the order's events for each pixel and its checkout`, async () => {
      const { page, external } = await open("", width);
      const search = page.getByLabel("Search");
      await search.fill("#1001");
      await search.press("Enter");
      await expect.poll(() => new URL(page.url()).searchParams.get("q")).toBe("#1001");
      await expect.poll(() => rowButtons(page).count()).toBe(3);
      const names = await rowButtons(page).evaluateAll((buttons) => buttons.map((b) => b.getAttribute("aria-label")));
      expect(names.sort()).toEqual([
        "Open InitiateCheckout ck-1001",
        "Open Purchase 7000000001001",
        "Open Purchase 7000000001001",
      ]);
      expect(await page.getByText(countLine(3, true)).count()).toBe(1);
      await screenshot(page, `search-${width}`);

      // By the checkout token too, and an unknown order says that nothing matches.
      await search.fill("ck-1002");
      await search.press("Enter");
      await expect.poll(() => page.getByRole("button", { name: "Open InitiateCheckout ck-1002" }).count()).toBe(1);
      expect(await rowButtons(page).count()).toBe(3);
      await search.fill("#424242");
      await search.press("Enter");
      await expect.poll(() => page.getByText("No events match").count()).toBe(1);
      await screenshot(page, `search-nothing-${width}`);
      expect(external).toEqual([]);
      await page.close();
    });

    it(`retries a rejected event from its dialog at ${width} px, and says why an old one cannot be`, async () => {
      const order = RETRIED_ORDER[width];
      const { page, external } = await open(`q=${encodeURIComponent(order)}&state=rejected`, width);
      await expect.poll(() => rowButtons(page).count()).toBe(1);
      await rowButtons(page).first().click();
      const dialog = page.getByRole("dialog");
      await expect.poll(() => dialog.count()).toBe(1);
      expect(await dialog.innerText()).toContain(`order ${order}`);
      await screenshot(page, `retry-dialog-${width}`);
      await dialog.getByRole("button", { name: "Retry this event" }).click();
      await expect.poll(() => toasts(page)).toEqual([{ message: "1 event sent again", isError: false }]);
      const row = await testDb.prisma.event.findFirstOrThrow({
        where: { shop: SHOP, orderName: order, destinationId: MAIN },
        include: { history: { orderBy: { id: "desc" }, take: 1 } },
      });
      expect(row.state).toBe("queued");
      expect(row.history[0]!.detail).toBe(RETRIED_DETAIL);
      // The dialog shows the event as it is now: on its way, nothing more to retry.
      await expect
        .poll(() => dialog.getByText("Cannot be sent again: It is already on its way to Meta").count())
        .toBe(1);
      expect(await dialog.getByText(RETRIED_DETAIL).count()).toBe(1);
      await screenshot(page, `retried-${width}`);
      await page.keyboard.press("Escape");
      await page.close();

      const old = await open("q=%23999", width);
      await old.page.getByRole("button", { name: "Open Purchase 7000000000999" }).click();
      const oldDialog = old.page.getByRole("dialog");
      await expect
        .poll(() =>
          oldDialog
            .getByText(
              /Cannot be sent again: Meta accepts events up to 7 days after the conversion; this one is 10 days old/,
            )
            .count(),
        )
        .toBe(1);
      expect(await oldDialog.getByRole("button", { name: "Retry this event" }).count()).toBe(0);
      await screenshot(old.page, `not-retryable-${width}`);
      expect([...external, ...old.external]).toEqual([]);
      await old.page.close();
    });

    it(`exports the filtered list as CSV at ${width} px: one line per event, hashed data only`, async () => {
      const { page, external } = await open("state=sent&event=Purchase", width);
      const expected = await sqlCount(`"state" = 'sent' AND "eventName" = 'Purchase'`);
      await expect.poll(() => page.getByText(countLine(expected, true)).count()).toBe(1);
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Export CSV" }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`capi-events-${STORE}-${new Date().toISOString().slice(0, 10)}.csv`);
      const text = readFileSync((await download.path())!, "utf8").replace(/^\uFEFF/, "");
      const lines = text.trimEnd().split("\r\n");
      expect(lines[0]!.startsWith("created_at,event_time,event_name,event_id,order_name,state")).toBe(true);
      expect(lines.length - 1).toBe(expected);
      expect(lines.slice(1).every((l) => l.includes(",Purchase,") && l.includes(",sent,Delivered,"))).toBe(true);
      expect(text).not.toContain(BUYER_IP);
      expect(text).not.toContain(sha256Hex("6000000000001@example.com"));
      await screenshot(page, `export-${width}`);
      expect(external).toEqual([]);
      await page.close();
    });
  }

  it("retries all retryable events of the filter, says why not the others, at 1280 then 390 px", async () => {
    const windowStart = new Date(Date.now() - 7 * DAY_MS);
    const retryable = await sqlCount(`"state" = 'rejected' AND "eventTime" > $2`, windowStart);
    const tooOld = await sqlCount(`"state" = 'rejected' AND "eventTime" <= $2`, windowStart);
    expect(retryable).toBeGreaterThan(0);
    expect(tooOld).toBe(1);
    const { page, external } = await open("state=rejected", 1280);
    await expect.poll(() => page.getByText(countLine(retryable + tooOld, true)).count()).toBe(1);
    await page.getByRole("button", { name: "Retry all retryable" }).click();
    const banner = page.getByText(`${retryable} events sent again: they go to Meta within seconds.`, { exact: false });
    await expect.poll(() => banner.count()).toBe(1);
    expect(await page.getByText("1 event not sent: Meta accepts events up to 7 days", { exact: false }).count()).toBe(
      1,
    );
    expect(await sqlCount(`"state" = 'rejected'`)).toBe(tooOld);
    // The list follows: only the old one is still rejected.
    await expect.poll(() => rowButtons(page).count()).toBe(tooOld);
    await screenshot(page, "retry-all-1280");
    await page.close();

    // Again at 390 px: nothing left Meta would take, and the page says why.
    const phone = await open("state=rejected", 390);
    await phone.page.getByRole("button", { name: "Retry all retryable" }).click();
    await expect.poll(() => phone.page.getByText("Nothing sent again").count()).toBe(1);
    expect(
      await phone.page.getByText("No event was sent again. 1 event not sent: Meta accepts", { exact: false }).count(),
    ).toBe(1);
    expect(await overflowsViewport(phone.page)).toBeLessThanOrEqual(0);
    await screenshot(phone.page, "retry-all-390");
    expect([...external, ...phone.external]).toEqual([]);
    await phone.page.close();
  });

  it("shows another shop none of these events, and its export is empty", async () => {
    const { page } = await open("", 390, OTHER_STORE);
    await expect.poll(() => page.getByText("No events yet").count()).toBe(1);
    expect(await page.content()).not.toContain("7000000001001");
    expect(await page.getByRole("button", { name: "Export CSV" }).isDisabled()).toBe(true);
    await page.close();
  });
});
