// The Overview's Meta quality card as the embedded admin reaches it: session tokens signed with
// the app's secret (Shopify's own test helper), stored offline sessions, the Admin API stand-ins
// behind fetch, the Meta stand-in at META_GRAPH_URL and the real PostgreSQL. Refresh reads
// Meta's Dataset Quality API from the stand-in; the Overview's loader then shows Meta's numbers
// beside ours, the refusal with what to grant for a token without the permission, and another
// shop sees none of it.
import { createHash } from "node:crypto";
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
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import type { MetaEvent } from "../meta/event";
import { graphRequest } from "../meta/request";
import { fakeBilling } from "../shopify/billing.fake";
import { fakeShopify } from "../shopify/web-pixel.fake";

const API_KEY = "quality-test-key";
const API_SECRET = "quality-test-secret";
const APP_URL = "https://capi-relay.example.com";
const A = "quality-a.myshopify.com";
const B = "quality-b.myshopify.com";
const [PIXEL_A, PIXEL_A2, PIXEL_B] = ["4100000001", "4100000002", "4100000003"];
const TOKEN_A = "EAAquality-a-0123456789";
const TOKEN_A2 = "EAAquality-a2-0123456789";
const TOKEN_B = "EAAquality-b-0123456789";
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

type Loader = (args: LoaderFunctionArgs) => Promise<Response>;
type Action = (args: ActionFunctionArgs) => Promise<Response>;
let db: TestDatabase;
let meta: MetaSandbox;
let overview: { loader: Loader };
let refresh: { action: Action };
const billingApi = perShop(fakeBilling);
const pixelApi = perShop(() => fakeShopify());
const realFetch = globalThis.fetch;
const ids: Record<string, string> = {};

const APP = { apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL };
const fromAdmin = (store: string, path: string, routeId: string, init: RequestInit = {}) =>
  adminRequest(APP, store, path, { routeId, init });

async function loadOverview(store: string) {
  const response = await settle(
    overview.loader({ request: await fromAdmin(store, "/app?index", "routes/app._index"), params: {}, context: {} }),
  );
  expect(response.status).toBe(200);
  return { text: await response.clone().text(), data: await response.json() };
}

async function pressRefresh(store: string, destinationId: string) {
  const request = await fromAdmin(store, "/app/quality", "routes/app.quality", formPost({ destinationId }));
  const response = await settle(refresh.action({ request, params: {}, context: {} }));
  return { status: response.status, body: (await response.json()) as { ok: boolean; message: string } };
}

/** A Purchase as the app stores and sends it: hashed keys, `keys` naming which it carries. */
function purchase(id: string, keys: string[]) {
  const userData: Record<string, unknown> = {};
  if (keys.includes("em")) userData.em = [sha(`${id}@example.com`)];
  if (keys.includes("ph")) userData.ph = [sha(`1415555${id}`)];
  if (keys.includes("fbc")) userData.fbc = "fb.1.1795180805221.IwAR2F4-Nn8kXq_7";
  userData.client_user_agent = "Mozilla/5.0";
  return {
    event_name: "Purchase",
    event_time: Math.floor(Date.now() / 1000) - 600,
    event_id: id,
    action_source: "website" as const,
    event_source_url: "https://shop.example.com/thank_you",
    user_data: userData,
    custom_data: { value: 20, currency: "USD" },
  };
}

/** Stored as sent, and sent to the stand-in with our partner_agent, as the worker does. */
async function sentPurchases(
  shop: string,
  destinationId: string,
  pixelId: string,
  token: string,
  events: ReturnType<typeof purchase>[],
) {
  for (const event of events) {
    await db.prisma.event.create({
      data: {
        shop,
        destinationId,
        pixelId,
        eventName: "Purchase",
        eventId: event.event_id,
        topic: "orders/create",
        state: "sent",
        payload: JSON.parse(JSON.stringify(event)),
        eventTime: new Date(event.event_time * 1000),
      },
    });
  }
  const request = graphRequest({ pixelId, accessToken: token }, events as unknown as MetaEvent[], {
    graphUrl: meta.url,
  });
  expect((await realFetch(request.url, { method: "POST", headers: request.headers, body: request.body })).status).toBe(
    200,
  );
}

beforeAll(async () => {
  stubAdminGraphql((shop, query, variables) =>
    STOREFRONT_OPERATION.test(query) ? pixelApi.of(shop)(query, variables) : billingApi.of(shop)(query, variables),
  );
  db = await createTestDatabase();
  meta = await startMetaSandbox();
  setAppEnv(APP, db.url, { META_GRAPH_URL: meta.url });
  const { database } = await import("../process-clients.server");
  await database().ready;
  const { sessionStorage } = await import("../shopify.server");
  const { saveDestination } = await import("../pipeline/destinations.server");
  for (const shop of [A, B]) {
    await sessionStorage.storeSession(offlineSession(shop));
  }
  ids.a = await saveDestination(db.prisma, A, { pixelId: PIXEL_A, accessToken: TOKEN_A, label: "Main store" });
  ids.a2 = await saveDestination(db.prisma, A, { pixelId: PIXEL_A2, accessToken: TOKEN_A2, label: "Agency" });
  ids.b = await saveDestination(db.prisma, B, { pixelId: PIXEL_B, accessToken: TOKEN_B });
  overview = (await import("./app._index")) as unknown as typeof overview;
  refresh = (await import("./app.quality")) as unknown as typeof refresh;
});

afterAll(async () => {
  vi.unstubAllGlobals();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await meta?.close();
  await db?.drop();
});

describe("the Overview's Meta quality card", () => {
  it("shows each pixel as not read yet, with no numbers, before any read", async () => {
    const { data } = await loadOverview("quality-a");
    expect(data.quality.destinations.map((d: { name: string; status: string }) => [d.name, d.status])).toEqual([
      ["Main store", "not-read"],
      ["Agency", "not-read"],
    ]);
  });

  it("reads Meta's numbers from the stand-in on Refresh and shows them beside ours", async () => {
    await sentPurchases(A, ids.a!, PIXEL_A, TOKEN_A, [
      purchase("1001", ["em", "ph", "fbc"]),
      purchase("1002", ["em", "ph"]),
      purchase("1003", ["em"]),
      purchase("1004", []),
    ]);
    const pressed = await pressRefresh("quality-a", ids.a!);
    expect(pressed).toEqual({ status: 200, body: { ok: true, message: "Meta's quality numbers were read again." } });
    expect(meta.qualityReads()).toEqual([{ datasetId: PIXEL_A, agentName: "capirelay-shopify", status: 200 }]);

    const { data } = await loadOverview("quality-a");
    const main = data.quality.destinations.find((d: { destinationId: string }) => d.destinationId === ids.a);
    expect(main).toMatchObject({ status: "read", message: null, pixelId: PIXEL_A });
    const row = main.events.find((e: { eventName: string }) => e.eventName === "Purchase");
    expect(row.ourEvents).toBe(4);
    // The stand-in's formula (sandbox/meta-graph/quality.ts): em 2.5, ph 2, fbc 1.5, user agent 0.5.
    const expected = (2.5 + 2 + 1.5 + 0.5 + (2.5 + 2 + 0.5) + (2.5 + 0.5) + 0.5) / 4;
    expect(row.score).toBe(Math.round(expected * 10) / 10);
    expect(row.lines[0]).toBe(`Event Match Quality ${row.score.toFixed(1)} out of 10 (${row.rating}).`);
    const byKey = Object.fromEntries(
      row.keys.map((k: { key: string; ours: number; meta: number }) => [k.key, [k.ours, k.meta]]),
    );
    expect(byKey).toMatchObject({
      em: [75, 75],
      ph: [50, 50],
      fbc: [25, 25],
      client_user_agent: [100, 100],
      fbp: [0, 0],
    });
  });

  it("says when Meta refuses the token these numbers, and which permission to grant", async () => {
    meta.denyQuality(TOKEN_A2);
    const pressed = await pressRefresh("quality-a", ids.a2!);
    expect(pressed.body.ok).toBe(false);
    expect(pressed.body.message).toMatch(/Manage pixel/);
    const { data } = await loadOverview("quality-a");
    const agency = data.quality.destinations.find((d: { destinationId: string }) => d.destinationId === ids.a2);
    expect(agency.status).toBe("refused");
    expect(agency.message).toMatch(new RegExp(`quality numbers of pixel ${PIXEL_A2}.*Manage pixel`));
  });

  it("refreshes one pixel at most once in 10 minutes", async () => {
    const again = await pressRefresh("quality-a", ids.a!);
    expect(again.status).toBe(429);
    expect(again.body.message).toMatch(/Refresh again in \d+ minutes?\./);
    expect(meta.qualityReads().filter((r) => r.datasetId === PIXEL_A)).toHaveLength(1);
  });

  it("shows another shop none of it, and refuses its Refresh of this shop's pixel", async () => {
    const other = await loadOverview("quality-b");
    expect(other.data.quality.destinations).toEqual([
      expect.objectContaining({ destinationId: ids.b, status: "not-read", events: [] }),
    ]);
    for (const secret of [ids.a!, ids.a2!, PIXEL_A, PIXEL_A2, "Main store"]) expect(other.text).not.toContain(secret);
    const reads = meta.qualityReads().length;
    const pressed = await pressRefresh("quality-b", ids.a!);
    expect(pressed.status).toBe(404);
    expect(meta.qualityReads()).toHaveLength(reads);
  });

  it("refuses a Refresh without a valid session token, or without a pixel", async () => {
    const request = new Request(`${APP_URL}/app/quality?_data=routes%2Fapp.quality`, {
      method: "POST",
      body: new URLSearchParams({ destinationId: ids.a! }),
    });
    expect((await settle(refresh.action({ request, params: {}, context: {} }))).status).not.toBe(200);
    expect((await pressRefresh("quality-a", "not-a-uuid")).status).toBe(400);
  });
});
