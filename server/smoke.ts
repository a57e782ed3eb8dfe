// `npm run smoke` (after `npm run build`): the built app behind the production server, in
// production mode, against a throwaway PostgreSQL database. It renders the admin page as the
// embedded admin would open it (signed session token, stored offline session) and checks the
// pages, redirects, assets and a webhook signature refusal. No browser, no network.
import { createHmac, randomBytes } from "node:crypto";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { seedEmbeddedShop } from "../test/support/embedded-shop";
import { createTestDatabase, REDIS_URL } from "../test/support/services";
import { loadBuild, startWebServer } from "./main";

const STORE = "smoke-shop";
const SHOP = `${STORE}.myshopify.com`;
const API_KEY = "smoke-key";
const API_SECRET = "smoke-secret";
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

let failures = 0;
function check(name: string, ok: boolean, detail = ""): void {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok || !detail ? "" : `: ${detail}`}`);
  if (!ok) failures++;
}

async function main(): Promise<void> {
  const testDb = await createTestDatabase();
  Object.assign(process.env, {
    NODE_ENV: "production",
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: "https://capi-relay.example.com",
    DATABASE_URL: testDb.url,
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    REDIS_URL,
  });
  const { closeProcessClients, database } = await import("../app/process-clients.server");
  const db = database();
  let server: Awaited<ReturnType<typeof startWebServer>> | undefined;
  try {
    await db.ready;
    const build = await loadBuild();
    const { sessionStorage } = await import("../app/shopify.server");
    await seedEmbeddedShop(db.prisma, sessionStorage, {
      shop: SHOP,
      label: "smoke",
      scope: "read_orders,write_pixels,read_customer_events",
      pause: { reason: "token_invalid", message: "Meta no longer accepts the access token of this pixel." },
    });
    for (const [i, state] of ["sent", "rejected", "queued"].entries()) {
      await db.prisma.event.create({
        data: {
          shop: SHOP,
          eventName: "Purchase",
          eventId: `SMOKE-ORDER-${i}`,
          topic: "orders/create",
          state,
          eventTime: new Date(),
          payload: { event_name: "Purchase", event_id: `SMOKE-ORDER-${i}`, user_data: { em: ["0".repeat(64)] } },
          reason: state === "rejected" ? "Invalid parameter" : null,
          fbtraceId: state === "rejected" ? "SMOKE-TRACE" : null,
          history: { create: [{ state: "queued", detail: "from orders/create" }] },
        },
      });
    }

    server = await startWebServer({ port: 0, host: "127.0.0.1", build, mode: "production" });
    const base = `http://127.0.0.1:${server.port}`;
    const get = (path: string) => fetch(base + path, { headers: { "User-Agent": BROWSER }, redirect: "manual" });

    const landing = await get("/");
    const landingHtml = await landing.text();
    check(
      "GET / renders the landing page",
      landing.status === 200 && landingHtml.includes("CAPI Relay") && landingHtml.includes('action="/auth/login"'),
    );

    const app = await get("/app");
    check(
      "GET /app without a shop redirects to the login page",
      app.status === 302 && app.headers.get("location") === "/auth/login",
      `${app.status} ${app.headers.get("location")}`,
    );

    const loginPage = await get("/auth/login");
    check("GET /auth/login renders", loginPage.status === 200 && (await loginPage.text()).includes("Shop domain"));

    const { token } = await getJwt(STORE, API_KEY, API_SECRET);
    const host = Buffer.from(`admin.shopify.com/store/${STORE}`).toString("base64url");
    const page = await get(`/app?embedded=1&shop=${SHOP}&host=${host}&id_token=${token}`);
    const html = await page.text();
    check(
      "GET /app (embedded, signed) renders the admin page",
      page.status === 200,
      `${page.status} ${html.slice(0, 300)}`,
    );
    check(
      "  with the paused banner and its message",
      html.includes("Meta is not accepting events for pixel 123456789012345") &&
        html.includes("Meta no longer accepts the access token"),
    );
    check(
      "  with the events, their reason and fbtrace_id",
      html.includes("SMOKE-ORDER-1") && html.includes("Invalid parameter") && html.includes("SMOKE-TRACE"),
    );
    check(
      "  with the theme embed reminder and a saved-token placeholder",
      html.includes("App embeds") && html.includes("•••• saved"),
    );
    check(
      "  framed only by Shopify (CSP frame-ancestors)",
      (page.headers.get("content-security-policy") ?? "").includes(`frame-ancestors https://${SHOP}`),
    );
    check(
      "  without the token's ciphertext or fingerprint",
      !html.includes("sealed-ciphertext-smoke") && !html.includes("fingerprint-smoke"),
    );

    const asset = html.match(/\/build\/[^"]+\.js/)?.[0];
    const assetResponse = asset ? await get(asset) : undefined;
    check(
      "browser assets are served with year-long caching",
      assetResponse?.status === 200 &&
        assetResponse.headers.get("cache-control") === "public, max-age=31536000, immutable",
      asset,
    );

    const body = JSON.stringify({ shop_id: 1, shop_domain: SHOP });
    const webhook = (hmac: string) =>
      fetch(`${base}/webhooks/shop/redact`, {
        method: "POST",
        body,
        headers: {
          "Content-Type": "application/json",
          "X-Shopify-Hmac-Sha256": hmac,
          "X-Shopify-Topic": "shop/redact",
          "X-Shopify-Shop-Domain": SHOP,
          "X-Shopify-API-Version": "2026-10",
          "X-Shopify-Webhook-Id": "smoke-1",
        },
      });
    check("a compliance webhook with a bad signature answers 401", (await webhook("bad")).status === 401);
    const signed = await webhook(createHmac("sha256", API_SECRET).update(body).digest("base64"));
    check(
      "a correctly signed compliance webhook is accepted (raw body intact)",
      signed.status === 200,
      String(signed.status),
    );
  } finally {
    await server?.close();
    await closeProcessClients();
    await testDb.drop();
  }
  console.log(failures ? `smoke: ${failures} check(s) failed` : "smoke: all checks passed");
  process.exit(failures ? 1 : 0);
}

main().catch((error) => {
  console.error("smoke: failed:", error);
  process.exit(1);
});
