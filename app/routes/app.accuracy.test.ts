// The Accuracy page and the Overview's banner as the embedded admin reaches them: session tokens
// signed with the app's secret (Shopify's own test helper), offline sessions already stored,
// Shopify's orders served behind fetch (test/support/shopify-orders.ts), the web pixel and
// billing stand-ins for the Overview, and the real PostgreSQL. Each shop sees only its own.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import {
  adminRequest,
  formPost,
  offlineSession,
  perShop,
  setAppEnv,
  settle,
  STOREFRONT_OPERATION,
  stubAdminGraphql,
} from "../../test/support/admin-requests";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { ordersConnection } from "../../test/support/shopify-orders";
import { fakeBilling } from "../shopify/billing.fake";
import { fakeShopify } from "../shopify/web-pixel.fake";

const API_KEY = "accuracy-test-key";
const API_SECRET = "accuracy-test-secret";
const APP_URL = "https://capi-relay.example.com";
const A = "acc-a.myshopify.com";
const B = "acc-b.myshopify.com";
const HOUR = 3_600_000;

type Loader = (args: LoaderFunctionArgs) => Promise<Response>;
type Action = (args: ActionFunctionArgs) => Promise<Response>;
let db: TestDatabase;
let page: { loader: Loader; action: Action };
let overview: { loader: Loader };
const billingApi = perShop(fakeBilling);
const pixelApi = perShop(() => fakeShopify());
const ordersAsked: string[] = [];
const orders = new Map<string, Array<Record<string, unknown>>>();
const pixelOf = new Map<string, string>();

const head = (id: number, hoursAgo: number) => ({
  id: `gid://shopify/Order/${id}`,
  createdAt: new Date(Date.now() - hoursAgo * HOUR).toISOString(),
  test: false,
});

const APP = { apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL };
const fromAdmin = (store: string, path: string, routeId: string, init: RequestInit = {}, secret = API_SECRET) =>
  adminRequest(APP, store.replace(".myshopify.com", ""), path, { routeId, init, secret });

const load = async (store: string, secret = API_SECRET) =>
  settle(
    page.loader({
      request: await fromAdmin(store, "/app/accuracy", "routes/app.accuracy", {}, secret),
      params: {},
      context: {},
    }),
  );

const measure = async (store: string, fields: Record<string, string> = { intent: "measure" }, secret = API_SECRET) =>
  settle(
    page.action({
      request: await fromAdmin(store, "/app/accuracy", "routes/app.accuracy", formPost(fields), secret),
      params: {},
      context: {},
    }),
  );

beforeAll(async () => {
  stubAdminGraphql((shop, query, variables) => {
    if (STOREFRONT_OPERATION.test(query)) return pixelApi.of(shop)(query, variables);
    if (/RecentOrderHeads/.test(query)) {
      ordersAsked.push(shop);
      return ordersConnection(() => orders.get(shop) ?? [])(query, variables);
    }
    return billingApi.of(shop)(query, variables);
  });
  db = await createTestDatabase();
  setAppEnv(APP, db.url);
  const { database } = await import("../process-clients.server");
  await database().ready;
  const { sessionStorage } = await import("../shopify.server");
  for (const [shop, shopifyId] of [
    [A, "7701"],
    [B, "7702"],
  ] as const) {
    await sessionStorage.storeSession(offlineSession(shop));
    const id = crypto.randomUUID();
    pixelOf.set(shop, id);
    await db.prisma.destination.create({
      data: {
        id,
        shop,
        pixelId: shop === A ? "111111111111111" : "222222222222222",
        label: shop === A ? "Brand A" : null,
        accessTokenEnc: `sealed-${shop}`,
        tokenFingerprint: `fp-${shop}`,
        createdAt: new Date(Date.now() - 30 * 24 * HOUR),
      },
    });
    await db.prisma.shop.create({ data: { shop, shopifyId } });
  }
  // Shop A: 4 orders an hour ago; Meta accepted 3, one never came (75%). Shop B: 2 orders, both accepted.
  orders.set(A, [head(5001, 1), head(5002, 1), head(5003, 1), head(5004, 1)]);
  orders.set(B, [head(6001, 1), head(6002, 1)]);
  const sent = (shop: string, ids: number[]) =>
    db.prisma.event.createMany({
      data: ids.map((id) => ({
        shop,
        eventName: "Purchase",
        eventId: String(id),
        topic: "orders/create",
        state: "sent",
        destinationId: pixelOf.get(shop)!,
        eventTime: new Date(Date.now() - HOUR),
      })),
    });
  await sent(A, [5001, 5002, 5003]);
  await sent(B, [6001, 6002]);
  page = (await import("./app.accuracy")) as unknown as typeof page;
  overview = (await import("./app._index")) as unknown as typeof overview;
});

afterAll(async () => {
  vi.unstubAllGlobals();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

describe("the Accuracy page", () => {
  it("refuses a request without a valid session token, loader and action", async () => {
    expect((await load(A, "not-the-secret")).status).toBe(401);
    expect((await measure(A, { intent: "measure" }, "not-the-secret")).status).toBe(401);
    expect(ordersAsked).toEqual([]);
  });

  it("says nothing is measured yet before the first measurement", async () => {
    const data = await (await load(A)).json();
    expect(data).toMatchObject({ alerts: [], measuredAt: null });
    expect(data.pixels).toEqual([{ id: pixelOf.get(A), name: "Brand A", rows: [] }]);
  });

  it("refuses an unknown form, reading nothing from Shopify", async () => {
    expect((await measure(A, { intent: "delete-everything" })).status).toBe(400);
    expect(ordersAsked).toEqual([]);
  });

  it("measures on request from the shop's own orders; the numbers are the SQL counts", async () => {
    const response = await measure(A);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true });
    expect(ordersAsked).toEqual([A]);

    const data = await (await load(A)).json();
    const today = data.pixels[0].rows.find((r: { orders: number }) => r.orders > 0);
    const [sql] = await db.sql<{ accepted: number }>(
      `SELECT COUNT(*)::int AS "accepted" FROM "Event" WHERE "shop" = $1 AND "eventName" = 'Purchase' AND "state" = 'sent' AND "destinationId" = $2`,
      [A, pixelOf.get(A)],
    );
    expect(today).toMatchObject({
      orders: orders.get(A)!.length,
      accepted: sql!.accepted,
      expected: orders.get(A)!.length,
      percent: "75.0%",
      below: true,
    });
    expect(today.gap).toEqual([
      expect.objectContaining({ fate: "never_received", count: 1, text: "1 never received" }),
    ]);
    expect(data.alerts).toEqual([{ pixel: "Brand A", day: today.day, percent: "75.0%", gap: "1 never received" }]);
  });

  it("shows the second shop nothing of the first", async () => {
    const before = await (await load(B)).json();
    expect(before.pixels).toEqual([{ id: pixelOf.get(B), name: "pixel 222222222222222", rows: [] }]);
    expect(JSON.stringify(before)).not.toContain(pixelOf.get(A)!);
    await measure(B);
    expect(ordersAsked).toEqual([A, B]);
    const after = await (await load(B)).json();
    const rows = after.pixels[0].rows.filter((r: { orders: number }) => r.orders > 0);
    expect(rows).toEqual([expect.objectContaining({ orders: 2, accepted: 2, percent: "100%", below: false })]);
    expect(after.alerts).toEqual([]);
  });
});

describe("the Overview's accuracy banner", () => {
  const overviewOf = async (store: string) => {
    const response = await settle(
      overview.loader({ request: await fromAdmin(store, "/app?index", "routes/app._index"), params: {}, context: {} }),
    );
    expect(response.status).toBe(200);
    return response.json();
  };

  it("is raised for the shop whose day fell under 95%, and only for it", async () => {
    expect((await overviewOf(A)).accuracyAlerts).toEqual([
      expect.objectContaining({ pixel: "Brand A", percent: "75.0%" }),
    ]);
    expect((await overviewOf(B)).accuracyAlerts).toEqual([]);
  });
});
