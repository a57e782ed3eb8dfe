// The Overview's charts and match-key coverage as the embedded admin loads them: a session token
// signed with the app's secret, an offline session already stored, the real PostgreSQL. Each shop
// sees its own numbers, equal to SQL counts of its rows, and nothing of another shop's; the
// buyer's IP never reaches the page. Shopify's Admin API is a stand-in behind fetch.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { LoaderFunctionArgs } from "@remix-run/node";
import {
  adminRequest,
  offlineSession,
  perShop,
  setAppEnv,
  settle,
  stubAdminGraphql,
} from "../../test/support/admin-requests";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { fakeShopify } from "../shopify/web-pixel.fake";

const API_KEY = "charts-test-key";
const API_SECRET = "charts-test-secret";
const APP_URL = "https://capi-relay.example.com";
const A = "charts-a.myshopify.com";
const B = "charts-b.myshopify.com";
const BUYER_IP = "203.0.113.77";
const HOUR = 3_600_000;

let db: TestDatabase;
let loader: (args: LoaderFunctionArgs) => Promise<Response>;
const shopifyApi = perShop(() => fakeShopify());

const overview = async (store: string, secret = API_SECRET): Promise<Response> =>
  settle(
    loader({
      request: await adminRequest({ apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL }, store, "/app?index", {
        routeId: "routes/app._index",
        secret,
      }),
      params: {},
      context: {},
    }),
  );

beforeAll(async () => {
  stubAdminGraphql((shop, query, variables) => shopifyApi.of(shop)(query, variables));
  db = await createTestDatabase();
  setAppEnv({ apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL }, db.url);
  const { database } = await import("../process-clients.server");
  await database().ready;
  const { sessionStorage } = await import("../shopify.server");
  for (const shop of [A, B]) {
    await sessionStorage.storeSession(offlineSession(shop));
  }
  loader = (await import("./app._index")).loader as typeof loader;
  // Shop A: sent, retrying and rejected events over the last hours, one still holding the buyer's IP.
  const states = ["sent", "sent", "sent", "retrying", "rejected", "queued"];
  for (const [i, state] of states.entries()) {
    const createdAt = new Date(Date.now() - (i + 1) * HOUR);
    await db.prisma.event.create({
      data: {
        shop: A,
        eventName: "Purchase",
        eventId: `a-${i}`,
        topic: "orders/create",
        state,
        payload: {
          user_data: { em: ["a".repeat(64)], ...(state === "queued" ? { client_ip_address: BUYER_IP } : {}) },
        },
        eventTime: createdAt,
        createdAt,
        sentAt: state === "sent" ? new Date(createdAt.getTime() + (i + 1) * 2000) : null,
        history: {
          create: [
            { at: createdAt, state: "queued" },
            ...(state === "sent" ? [{ at: new Date(createdAt.getTime() + (i + 1) * 2000), state: "sent" }] : []),
          ],
        },
      },
    });
  }
  await db.prisma.webhookReceipt.create({
    data: {
      shop: A,
      topic: "orders/create",
      webhookId: "held",
      dedupeKey: "held",
      outcome: "held_back",
      reason: "test order without a test event code",
    },
  });
});

afterAll(async () => {
  vi.unstubAllGlobals();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

const sql = async (text: string, ...params: unknown[]) =>
  (await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(text, ...params))[0]!.n;

describe("Overview charts", () => {
  it("refuses a request without a valid session token", async () => {
    expect((await overview("charts-a", "not-the-secret")).status).toBe(401);
  });

  it("shows the shop its own counts, equal to SQL counts, the latency and the coverage; never the buyer's IP", async () => {
    const response = await overview("charts-a");
    expect(response.status).toBe(200);
    const text = await response.clone().text();
    const data = (await response.json()) as Record<string, any>;
    const day = data.charts.windows["24h"];
    const count = (state: string) =>
      sql(`SELECT count(*)::int AS n FROM "Event" WHERE "shop" = $1 AND "state" = $2`, A, state);
    expect(day.totals.delivered).toBe(await count("sent"));
    expect(day.totals.retrying).toBe(await count("retrying"));
    expect(day.totals.rejected).toBe(await count("rejected"));
    expect(day.totals.queued).toBe(await count("queued"));
    expect(day.totals.held_back).toBe(
      await sql(`SELECT count(*)::int AS n FROM "WebhookReceipt" WHERE "shop" = $1 AND "outcome" = 'held_back'`, A),
    );
    expect(day.heldBackReasons).toEqual([{ reason: "test order without a test event code", count: 1 }]);
    // Sent after 2, 4 and 6 seconds: the median is 4.
    expect(data.charts.latency["24h"][0]).toMatchObject({ eventName: "", delivered: 3 });
    expect(data.charts.latency["24h"][0].p50).toBeCloseTo(4, 3);
    const purchase = data.coverage.events.find((e: { eventName: string }) => e.eventName === "Purchase");
    expect(purchase.total).toBe(await sql(`SELECT count(*)::int AS n FROM "Event" WHERE "shop" = $1`, A));
    expect(purchase.keys.find((k: { key: string }) => k.key === "em").count).toBe(purchase.total);
    expect(purchase.keys.find((k: { key: string }) => k.key === "client_ip_address").count).toBe(1);
    expect(text).not.toContain(BUYER_IP);
  });

  it("shows a second shop nothing of the first", async () => {
    const response = await overview("charts-b");
    expect(response.status).toBe(200);
    const text = await response.clone().text();
    const data = (await response.json()) as Record<string, any>;
    for (const w of ["24h", "30d"]) {
      for (const n of Object.values(data.charts.windows[w].totals)) expect(n).toBe(0);
      expect(data.charts.windows[w].heldBackReasons).toEqual([]);
    }
    expect(data.charts.latency["7d"]).toEqual([{ eventName: "", delivered: 0, p50: null, p95: null }]);
    expect(data.coverage.events).toEqual([]);
    expect(text).not.toContain("test order without a test event code");
  });
});
