// End to end, from an ad click to Meta, in Chromium: a visitor lands on a product page with
// ?fbclid= (the embed block's real Liquid, rendered with liquidjs, and its built asset), agrees
// to tracking, adds to cart with the Ajax Cart API on two product pages; the cart's attributes
// become the note_attributes of an orders/create that Shopify would sign, posted to the app's
// production server, whose delivery worker (in this process) delivers the
// Purchase to the Meta stand-in; the web pixel's bundle, in a real Web Worker, gets the same
// order's checkout_completed and sends its Purchase to the stand-in's /tr. At the stand-in the
// two copies carry one event id and one fbc, and Meta counts them as one event. Recorded calls
// and screenshots go to bench/out/.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../sandbox/meta-graph/server";
import { startAdminApp, type AdminApp } from "../test/support/admin-browser";
import { canRunBrowserTests, screenshotWith } from "../test/support/browser";
import { atShop, shopifyFixture } from "../test/support/fixtures";
import { createTestDatabase, uniquePrefix, type TestDatabase } from "../test/support/services";
import { signedWebhookRequest } from "../test/support/shopify-webhooks";
import {
  bundleWebPixel,
  CHROME_USER_AGENT as USER_AGENT,
  cookiesOf as cookies,
  FBEVENTS_URL,
  isMetaPixelEndpoint,
  routeOutside,
  startStorefront,
  type OutsideRequest,
  type Storefront,
  type StorefrontProduct,
} from "../test/support/storefront";
import { waitFor } from "../test/support/wait";

const SUITE = "end to end, ad click to Meta, in Chromium";
const OUT = path.resolve(__dirname, "../bench/out");
// The fixtures' own shop: their status links name it, and webhooks are bound to their shop.
const STORE = "northwind-woolens-demo";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "end-to-end-key";
const API_SECRET = "end-to-end-secret";
const APP_URL = "https://capi-relay.example.com";
const PIXEL_ID = "3200000001";
const TOKEN = `EAAendtoend${"e".repeat(40)}`;
const FBCLID = "IwAR3xEnd2EndClick_Q7mZ";

// orders-create-web's two lines, as products of the storefront.
const SOCKS: StorefrontProduct = {
  handle: "merino-wool-socks",
  title: "Merino Wool Socks",
  id: 8912345678901,
  variantId: 46123456789012,
  price: 1800,
};
const BEANIE: StorefrontProduct = {
  handle: "alpaca-beanie",
  title: "Alpaca Beanie",
  id: 8912345678902,
  variantId: 46123456789013,
  price: 4200,
};

let db: TestDatabase;
let meta: MetaSandbox;
let app: AdminApp;
let storefront: Storefront;
let worker: { close(): Promise<void> } | undefined;
const runnable = canRunBrowserTests(SUITE);

/** Every request the browser made to a host other than this machine's: what was done with it. */
const routed: OutsideRequest[] = [];

beforeAll(async () => {
  if (!runnable) return;
  mkdirSync(OUT, { recursive: true });
  db = await createTestDatabase();
  meta = await startMetaSandbox();
  app = await startAdminApp({
    db,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    stores: [STORE],
    // A queue of this run's own: Redis is shared with other test files.
    env: { META_GRAPH_URL: meta.url, SHOPIFY_APP_URL: APP_URL, QUEUE_PREFIX: uniquePrefix() },
  });
  // The shop connected as Settings connects it (the token sealed with this process's key).
  const { saveDestination } = await import("../app/pipeline/destinations.server");
  const { database } = await import("../app/process-clients.server");
  await saveDestination(database().prisma, SHOP, { pixelId: PIXEL_ID, accessToken: TOKEN });
  // The worker as server/worker.ts starts it, but for reconciliation, which would call
  // Shopify's Admin API (no stand-in here).
  const { startWorker } = await import("../app/pipeline/worker.server");
  const { env } = await import("../app/config/env.server");
  const settings = env();
  worker = await startWorker({
    prisma: database().prisma,
    redisUrl: settings.REDIS_URL,
    graphUrl: settings.META_GRAPH_URL,
    queuePrefix: settings.QUEUE_PREFIX,
    log: (line) => console.log(`worker: ${line}`),
  });
  storefront = await startStorefront({
    products: [SOCKS, BEANIE],
    currency: "USD",
    appPixelIds: PIXEL_ID,
    pixelBundle: await bundleWebPixel(),
  });
}, 240_000);

afterAll(async () => {
  await worker?.close();
  await app?.close();
  await storefront?.close();
  await meta?.close();
  await db?.drop();
});

/**
 * Meta's hosts are this machine's stand-in: fbevents.js from connect.facebook.net, the web
 * pixel's facebook.com/tr; the app's own URL (the pixel's fired-ids report) is the app's
 * server. Anything else is refused.
 */
const toStandIns = (url: URL) => {
  if (url.href === FBEVENTS_URL) return { forward: `${meta.url}/en_US/fbevents.js` };
  if (isMetaPixelEndpoint(url)) return { forward: `${meta.url}/tr/${url.search}` };
  if (url.origin === APP_URL) return { forward: `http://127.0.0.1:${app.port}${url.pathname}${url.search}` };
  return undefined;
};

async function openProduct(page: Page, product: StorefrontProduct, query = "") {
  await page.goto(`${storefront.origin}/products/${product.handle}${query}`);
  await page.waitForFunction(() => (window as any).__capiRelay !== undefined);
}

async function addToCart(page: Page, quantity: number) {
  await page.fill("#quantity", String(quantity));
  await page.click("#add-to-cart");
}

const presentment = (set: any) => ({
  amount: Number(set.presentment_money.amount),
  currencyCode: set.presentment_money.currency_code,
});

/** The Web Pixels API's checkout_completed for an order (Shopify's Checkout shape: gids, MoneyV2). */
function checkoutCompleted(order: Record<string, any>, href: string) {
  return {
    id: `sh-${order.id}`,
    name: "checkout_completed",
    timestamp: new Date().toISOString(),
    context: { document: { location: { href }, referrer: "" } },
    data: {
      checkout: {
        token: order.checkout_token,
        email: order.email,
        phone: order.phone,
        currencyCode: order.presentment_currency,
        totalPrice: presentment(order.total_price_set),
        subtotalPrice: presentment(order.subtotal_price_set),
        order: { id: `gid://shopify/Order/${order.id}` },
        lineItems: order.line_items.map((item: Record<string, any>) => ({
          quantity: item.quantity,
          title: item.title,
          variant: {
            id: `gid://shopify/ProductVariant/${item.variant_id}`,
            sku: item.sku || null,
            price: presentment(item.price_set),
            product: { id: `gid://shopify/Product/${item.product_id}`, title: item.title, type: "Accessories" },
          },
        })),
      },
    },
  };
}

describe.skipIf(!runnable)(SUITE, () => {
  it("ad click, Ajax cart, signed orders/create and the web pixel's checkout_completed: one Purchase at Meta, same event id and fbc", async () => {
    const context = await app.browser.newContext({ userAgent: USER_AGENT });
    await routeOutside(context, routed, toStandIns);
    const page = await context.newPage();

    // The ad click: the embed keeps fbclid as _fbc, Meta's pixel (the stand-in's) fires.
    await openProduct(page, SOCKS, `?fbclid=${FBCLID}&utm_source=facebook`);
    await waitFor(async () => meta.browserEvents(PIXEL_ID).length === 2, 10_000, "PageView and ViewContent at /tr");
    const landed = await cookies(context);
    expect(landed._fbc).toMatch(new RegExp(`^fb\\.1\\.\\d{13}\\.${FBCLID}$`));
    expect(landed._fbp).toMatch(/^fb\.1\.\d{13}\.\d{10}$/);
    expect(landed.cart).toBeUndefined();

    // Two Ajax adds on two pages: the first makes the cart and gets the attributes at once.
    await addToCart(page, 2);
    await waitFor(
      async () => storefront.cart((await cookies(context)).cart)?.attributes._fbc !== undefined,
      10_000,
      "the embed's cart attributes",
    );
    await openProduct(page, BEANIE);
    await addToCart(page, 1);
    await waitFor(
      async () => storefront.cart((await cookies(context)).cart)?.lines.length === 2,
      10_000,
      "the second line in the cart",
    );
    const jar = await cookies(context);
    const cart = storefront.cart(jar.cart)!;
    expect(cart.attributes).toEqual({
      _capi_consent: "marketing=1;analytics=1;sale_of_data=1",
      _fbp: jar._fbp,
      _fbc: landed._fbc,
      _capi_ua: USER_AGENT,
    });
    expect(cart.lines).toEqual([
      { variantId: SOCKS.variantId, quantity: 2 },
      { variantId: BEANIE.variantId, quantity: 1 },
    ]);
    await screenshotWith(page, path.join(OUT, "end-to-end-storefront-cart.png"), { cookies: jar, cart });

    // The order Shopify makes of that cart: its attributes as note_attributes, its token.
    const order = atShop(shopifyFixture("orders-create-web"), SHOP);
    order.note_attributes = Object.entries(cart.attributes).map(([name, value]) => ({ name, value }));
    order.cart_token = cart.token;
    order.landing_site = `/products/${SOCKS.handle}?fbclid=${FBCLID}&utm_source=facebook`;
    order.client_details = { ...order.client_details, user_agent: USER_AGENT };
    order.phone = "+16135551111";
    expect(order.line_items.map((l: any) => ({ variantId: l.variant_id, quantity: l.quantity }))).toEqual(cart.lines);
    const webhook = signedWebhookRequest(`http://127.0.0.1:${app.port}`, {
      topic: "orders/create",
      shop: SHOP,
      payload: order,
      secret: API_SECRET,
    });
    expect((await fetch(webhook)).status).toBe(200);
    await waitFor(
      async () => meta.accepted(PIXEL_ID).some((a) => a.event.event_name === "Purchase"),
      30_000,
      "the worker's Purchase at the Meta stand-in",
    );

    // The thank-you page: the web pixel in a Web Worker, with this browser's cookies.
    const thankYou = await context.newPage();
    await thankYou.goto(`${storefront.origin}/pixel`);
    await thankYou.waitForFunction(() => (window as any).harness.registered.length === 1);
    const { webPixelSettingsFor } = await import("../app/shopify/web-pixel");
    const { storedSettings } = await import("../app/events/settings");
    const { firedIdsUrl } = await import("../app/pipeline/fired-ids");
    const { database } = await import("../app/process-clients.server");
    const destinations = await database().prisma.destination.findMany({
      where: { shop: SHOP },
      select: { pixelId: true, events: true },
    });
    // What the app writes into the shop's web pixel (web-pixel.server.ts).
    const settings = webPixelSettingsFor(
      destinations,
      storedSettings(null).settings,
      firedIdsUrl(APP_URL, API_SECRET, SHOP),
    );
    const allowed = { analyticsProcessingAllowed: true, marketingAllowed: true, saleOfDataAllowed: true };
    await thankYou.evaluate(([init, s]) => (window as any).harness.start(init, s), [
      { customerPrivacy: allowed },
      settings,
    ] as const);
    const event = checkoutCompleted(order, `${storefront.origin}/checkouts/c/${order.checkout_token}/thank-you`);
    await thankYou.evaluate((e) => (window as any).harness.emit(e), event);
    await waitFor(
      async () => meta.browserEvents(PIXEL_ID).some((e) => e.eventName === "Purchase"),
      10_000,
      "the web pixel's Purchase at /tr",
    );

    // At Meta: one order id, one fbc (the cookie the embed set), one fbp, one buyer; one event.
    const server = meta.accepted(PIXEL_ID).find((a) => a.event.event_name === "Purchase")!.event as any;
    const browser = meta.browserEvents(PIXEL_ID).find((e) => e.eventName === "Purchase")!;
    expect(server.event_id).toBe(String(order.id));
    expect(browser.eventId).toBe(String(order.id));
    expect(server.user_data.fbc).toBe(landed._fbc);
    expect(browser.fbc).toBe(landed._fbc);
    expect(server.user_data.fbp).toBe(jar._fbp);
    expect(browser.fbp).toBe(jar._fbp);
    // The server sends one hash as a string, Meta takes a string or a list.
    expect([server.user_data.em].flat()).toEqual([browser.userData.em]);
    // The server also has the shipping address's phone; the browser the checkout's only.
    expect([server.user_data.ph].flat()).toContain(browser.userData.ph);
    expect(Number(browser.customData.value)).toBe(server.custom_data.value);
    expect(browser.customData.currency).toBe(server.custom_data.currency);
    const counts = meta.eventCounts(PIXEL_ID);
    expect(counts.byEvent.Purchase).toEqual({ received: 2, browser: 1, server: 1, counted: 1 });
    expect(counts.byEvent.PageView).toEqual({ received: 2, browser: 2, server: 0, counted: 2 });
    expect(counts.byEvent.ViewContent).toMatchObject({ received: 2, browser: 2, server: 0 });
    // Nothing left the machine: Meta and the app were reached through their stand-ins only.
    expect(routed.filter((r) => r.to === "refused")).toEqual([]);
    // The pixel told the app which id it fired (deduplication health), and the app took it.
    expect(routed.filter((r) => r.url.startsWith(APP_URL)).map((r) => [r.body, r.status])).toEqual([
      [JSON.stringify({ events: [{ name: "Purchase", id: String(order.id) }] }), 204],
    ]);
    expect(await db.prisma.event.count({ where: { shop: SHOP, state: "sent" } })).toBe(1);

    const recorded = {
      storefrontRequests: storefront.requests,
      cookies: jar,
      cart,
      orderNoteAttributes: order.note_attributes,
      serverPurchase: server,
      browserEvents: meta.browserEvents(PIXEL_ID),
      metaCounts: counts,
      routed,
    };
    writeFileSync(path.join(OUT, "end-to-end-calls.json"), `${JSON.stringify(recorded, null, 2)}\n`);
    await screenshotWith(thankYou, path.join(OUT, "end-to-end-meta.png"), {
      purchase: {
        server: { event_id: server.event_id, fbc: server.user_data.fbc, fbp: server.user_data.fbp },
        browser: { eid: browser.eventId, fbc: browser.fbc, fbp: browser.fbp },
      },
      metaCounts: counts,
    });
    await context.close();
  }, 120_000);
});
