// The admin page in a real browser (Debian's Chromium driven by playwright-core), served by
// the production server from the production build, as the embedded admin opens it: a signed
// session token, a stored offline session. What the merchant sees, and what must never reach
// the browser.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canRunBrowserTests, chromiumLaunchOptions } from "../../test/support/browser";
import { seedEmbeddedShop } from "../../test/support/embedded-shop";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";

const ROOT = path.resolve(__dirname, "../..");
const STORE = "browser-shop";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "browser-key";
const API_SECRET = "browser-secret";
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
const HASH = "a".repeat(64);

let testDb: TestDatabase;
let server: { port: number; close(): Promise<void> };
let browser: Browser;

beforeAll(async () => {
  // The page is served from the production build, made here when missing.
  if (!existsSync(path.join(ROOT, "build/index.js"))) {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/@remix-run/dev/dist/cli.js"), "build"], { cwd: ROOT, stdio: "ignore" });
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
      history: { create: [{ state: "queued", detail: "from orders/create" }, { state: "rejected", detail: "Meta error 100/2804050" }] },
    },
  });
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

const SUITE = "admin page in Chromium";
describe.skipIf(!canRunBrowserTests(`${SUITE} (app/routes/app._index.browser.test.ts)`))(SUITE, () => {
  it("shows the pause in plain words, the delivery table, and each event's payload and Meta's answer", async () => {
    const page = await browser.newPage({ userAgent: USER_AGENT, viewport: { width: 1280, height: 1600 } });
    // Nothing leaves this machine: Shopify's CDN scripts are refused.
    await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
    const { token } = await getJwt(STORE, API_KEY, API_SECRET);
    const host = Buffer.from(`admin.shopify.com/store/${STORE}`).toString("base64url");
    const response = await page.goto(`http://127.0.0.1:${server.port}/app?embedded=1&shop=${SHOP}&host=${host}&id_token=${token}`);
    expect(response?.status()).toBe(200);

    await expect.poll(() => page.getByText("Meta is not accepting events for pixel 123456789012345").count()).toBe(1);
    expect(await page.getByText("it expired").count()).toBeGreaterThan(0);
    const html = await page.content();
    expect(html).not.toContain("sealed-ciphertext-browser");
    expect(html).not.toContain("fingerprint-browser");
    // The token field is never filled with the saved token.
    const tokenField = page.getByLabel("Conversions API access token");
    expect(await tokenField.inputValue()).toBe("");
    expect(await tokenField.getAttribute("type")).toBe("password");

    await page.getByText("5678901234567").first().click();
    const dialog = page.getByRole("dialog");
    await expect.poll(() => dialog.count()).toBe(1);
    const text = await dialog.innerText();
    expect(text).toContain("TRACE-42");
    expect(text).toContain(HASH);
    expect(text).toContain("Meta error 100/2804050");
    await page.screenshot({ path: path.join(ROOT, "bench/out/admin-page.png"), fullPage: true });
    await page.close();
  });
});
