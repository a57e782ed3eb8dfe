// The install as the embedded admin makes it, and customers/data_request reports as the
// merchant downloads them: session tokens signed with the app's secret (Shopify's own test
// helper), Shopify's token exchange a stand-in behind fetch (no test reaches the network), the
// real PostgreSQL, and `capi data-request` as a process.
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { adminRequest, offlineSession, settle } from "../../test/support/admin-requests";
import { atShop, shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";

const API_KEY = "data-requests-test-key";
const API_SECRET = "data-requests-test-secret";
const APP_URL = "https://capi-relay.example.com";
const ROOT = path.resolve(__dirname, "../..");
const key = randomBytes(32);

type Loader = (args: LoaderFunctionArgs) => Promise<Response>;
let loader: Loader;
let db: TestDatabase;
let privacy: typeof import("../pipeline/privacy.server");
const tokenExchanges: string[] = [];
const realFetch = globalThis.fetch;

/** The report route, requested from the embedded admin of `store` (e.g. "shop-a"). */
async function download(store: string, id: string): Promise<Response> {
  const app = { apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL };
  return settle(
    loader({ request: await adminRequest(app, store, `/app/data-requests/${id}`), params: { id }, context: {} }),
  );
}

beforeAll(async () => {
  // Before Shopify's library is imported: its Node adapter keeps the fetch it finds.
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!url.hostname.endsWith(".myshopify.com") || url.pathname !== "/admin/oauth/access_token")
      return realFetch(input, init);
    tokenExchanges.push(url.hostname);
    return Response.json({
      access_token: `shpat_${url.hostname}`,
      scope: "read_orders,write_pixels,read_customer_events",
    });
  });
  db = await createTestDatabase();
  Object.assign(process.env, {
    NODE_ENV: "test",
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: APP_URL,
    DATABASE_URL: db.url,
    ENCRYPTION_KEY: key.toString("hex"),
  });
  const { database } = await import("../process-clients.server");
  await database().ready;
  const { sessionStorage } = await import("../shopify.server");
  for (const shop of ["shop-a.myshopify.com", "shop-b.myshopify.com"]) {
    await sessionStorage.storeSession(offlineSession(shop, { scope: "read_orders" }));
  }
  loader = (await import("./app.data-requests.$id")).loader as unknown as Loader;
  privacy = await import("../pipeline/privacy.server");
});
afterAll(async () => {
  vi.unstubAllGlobals();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

describe("an install seen through token exchange (afterAuth)", () => {
  it("records the shop as installed and resumes what its uninstall paused", async () => {
    const shop = "shop-c.myshopify.com";
    const { saveDestination } = await import("../pipeline/destinations.server");
    const { ingestWebhook } = await import("../pipeline/ingest.server");
    await saveDestination(
      db.prisma,
      shop,
      { pixelId: "6200000001", accessToken: "EAAreinstall-0123456789abcdef" },
      key,
    );
    await privacy.handleUninstalled(db.prisma, shop);
    await ingestWebhook(
      { prisma: db.prisma },
      { shop, topic: "orders/create", webhookId: "c-1", payload: atShop(shopifyFixture("orders-create-web"), shop) },
    );
    expect(await db.prisma.event.findMany({ where: { shop }, select: { state: true, reason: true } })).toEqual([
      { state: "paused", reason: "app uninstalled" },
    ]);

    // The merchant opens the app again: no session is stored (the uninstall removed it).
    const response = await download("shop-c", randomUUID());
    expect(response.status).toBe(404);
    expect(tokenExchanges).toEqual([shop]);
    expect(await db.prisma.session.count({ where: { shop } })).toBe(1);
    expect((await db.prisma.shop.findUniqueOrThrow({ where: { shop } })).uninstalledAt).toBeNull();
    expect(
      await db.prisma.destination.findFirstOrThrow({ where: { shop }, select: { pausedAt: true, pauseReason: true } }),
    ).toEqual({ pausedAt: null, pauseReason: null });
    expect(await db.prisma.event.findMany({ where: { shop }, select: { state: true } })).toEqual([{ state: "queued" }]);
  });
});

describe("a data request report", () => {
  let id: string;
  const A = "shop-a.myshopify.com";

  beforeAll(async () => {
    const { ingestWebhook } = await import("../pipeline/ingest.server");
    const order = atShop(shopifyFixture("orders-create-web"), A);
    await ingestWebhook({ prisma: db.prisma }, { shop: A, topic: "orders/create", webhookId: "a-1", payload: order });
    ({ id } = await privacy.recordDataRequest(db.prisma, A, {
      shop_domain: A,
      customer: { id: order.customer.id, email: order.customer.email },
      orders_requested: [order.id],
      data_request: { id: 1 },
    }));
  });

  it("is downloaded as JSON by its shop's admin", async () => {
    const response = await download("shop-a", id);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="data-request-${id}.json"`);
    const report = await response.json();
    expect(report).toMatchObject({
      id,
      shop: A,
      shopifyRequestId: "1",
      events: [{ eventName: "Purchase", eventId: "5678901234567", state: "paused" }],
    });
    expect(report.identifiers.em).toHaveLength(1);
  });

  it("is not found from another shop's admin, nor by a malformed id", async () => {
    expect((await download("shop-b", id)).status).toBe(404);
    expect((await download("shop-a", "1 OR 1=1")).status).toBe(404);
  });

  it("is listed and printed by `capi data-request`, for its shop only", () => {
    const capi = (args: string[]) => {
      const r = spawnSync(
        process.execPath,
        [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "app/cli/capi.ts", "data-request", ...args],
        {
          cwd: ROOT,
          encoding: "utf8",
          env: { ...process.env, NODE_ENV: "development", DATABASE_URL: db.url },
        },
      );
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const list = capi(["--shop", A]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({
      shop: A,
      dataRequests: [{ id, requestedAt: expect.any(String), keptUntil: expect.any(String), events: 1 }],
    });
    const one = capi(["--shop", A, "--id", id]);
    expect(JSON.parse(one.stdout)).toMatchObject({ id, events: [{ eventId: "5678901234567" }] });
    const other = capi(["--shop", "shop-b.myshopify.com", "--id", id]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^no data request report/);
  });

  it("is deleted once its 30 days are over", async () => {
    const kept = await db.prisma.dataRequest.findUniqueOrThrow({ where: { id } });
    expect(kept.expiresAt.getTime() - kept.createdAt.getTime()).toBe(30 * 86_400_000);
    expect(await privacy.deleteExpiredDataRequests(db.prisma, new Date(kept.expiresAt.getTime() - 1))).toBe(0);
    expect(await privacy.deleteExpiredDataRequests(db.prisma, kept.expiresAt)).toBe(1);
    expect((await download("shop-a", id)).status).toBe(404);
  });
});
