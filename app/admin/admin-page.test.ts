// The admin pages' loaders (Overview, Events, Settings) and the Settings action as the embedded
// admin calls them: a session token signed with the app's secret (Shopify's own test helper), an
// offline session already stored (so token exchange does not call Shopify), the real
// saveDestination and the real PostgreSQL.
// Shopify's Admin API (web pixel creation) is a stand-in behind fetch, and Meta is the
// project's stand-in (META_GRAPH_URL): no test reaches the network.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import {
  adminRequest,
  formPost,
  offlineSession,
  perShop,
  setAppEnv,
  settle,
  stubAdminGraphql,
} from "../../test/support/admin-requests";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { firedIdsUrl } from "../pipeline/fired-ids";
import { fakeShopify } from "../shopify/web-pixel.fake";

const API_KEY = "admin-page-test-key";
const API_SECRET = "admin-page-test-secret";
const APP_URL = "https://capi-relay.example.com";
const TOKEN = "EAAGadminpagetoken" + "z".repeat(48);

type Loader = (args: LoaderFunctionArgs) => Promise<Response>;
type Action = (args: ActionFunctionArgs) => Promise<Response>;
type Page = "overview" | "events" | "settings";
const ROUTE_IDS: Record<Page, { path: string; id: string }> = {
  overview: { path: "/app?index", id: "routes/app._index" },
  events: { path: "/app/events", id: "routes/app.events" },
  settings: { path: "/app/settings", id: "routes/app.settings" },
};
let routes: Record<Page, { loader: Loader }> & { settings: { action: Action } };
let db: TestDatabase;
let meta: MetaSandbox;

/** A fetch from the embedded page `page` of `store` (e.g. "shop-a" = shop-a.myshopify.com), with its session token. */
function fromAdmin(store: string, init: RequestInit = {}, secret = API_SECRET, page: Page = "settings") {
  const { path, id } = ROUTE_IDS[page];
  return adminRequest({ apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL }, store, path, {
    routeId: id,
    init,
    secret,
  });
}

async function load(store: string, page: Page = "settings") {
  const response = await settle(
    routes[page].loader({ request: await fromAdmin(store, {}, API_SECRET, page), params: {}, context: {} }),
  );
  expect(response.status).toBe(200);
  return { text: await response.clone().text(), data: (await response.json()) as Record<string, any> };
}

/** Every page of `store`, as one text (what reaches that shop's browser) and each page's data. */
async function loadAll(store: string) {
  const [overview, events, settings] = await Promise.all([
    load(store, "overview"),
    load(store, "events"),
    load(store, "settings"),
  ]);
  return {
    overview: overview.data,
    events: events.data,
    settings: settings.data,
    text: overview.text + events.text + settings.text,
  };
}

async function post(store: string, fields: Record<string, string>) {
  const request = await fromAdmin(store, formPost(fields));
  const response = await settle(routes.settings.action({ request, params: {}, context: {} }));
  return {
    status: response.status,
    text: await response.clone().text(),
    data: (await response.json()) as Record<string, any>,
  };
}

const stepsOf = (overview: Record<string, any>) =>
  Object.fromEntries((overview.checklist.steps as Array<{ id: string; done: boolean }>).map((s) => [s.id, s.done]));

const shopifyApi = perShop(() => fakeShopify());

beforeAll(async () => {
  stubAdminGraphql((shop, query, variables) => shopifyApi.of(shop)(query, variables));
  db = await createTestDatabase();
  meta = await startMetaSandbox();
  setAppEnv({ apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL }, db.url, { META_GRAPH_URL: meta.url });
  // Imported only now: shopify.server and the database read the settings above once.
  const { database } = await import("../process-clients.server");
  await database().ready;
  const { sessionStorage } = await import("../shopify.server");
  for (const shop of ["shop-a.myshopify.com", "shop-b.myshopify.com", "shop-dedup-a.myshopify.com"]) {
    await sessionStorage.storeSession(offlineSession(shop));
  }
  routes = {
    overview: await import("../routes/app._index"),
    events: await import("../routes/app.events"),
    settings: await import("../routes/app.settings"),
  } as unknown as typeof routes;

  await db.prisma.event.create({
    data: {
      shop: "shop-b.myshopify.com",
      eventName: "Purchase",
      eventId: "B-ORDER-1",
      topic: "orders/create",
      state: "rejected",
      eventTime: new Date(),
      fbtraceId: "B-TRACE",
    },
  });
});

afterAll(async () => {
  vi.unstubAllGlobals();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
  await meta?.close();
});

describe("admin pages", () => {
  it("refuses a request without a valid session token, on every page and the action", async () => {
    for (const page of ["overview", "events", "settings"] as const) {
      const response = await settle(
        routes[page].loader({
          request: await fromAdmin("shop-a", {}, "not-the-secret", page),
          params: {},
          context: {},
        }),
      );
      expect(response.status).toBe(401);
    }
    const request = await fromAdmin(
      "shop-a",
      { method: "POST", body: new URLSearchParams({ intent: "send-test-event" }) },
      "not-the-secret",
    );
    expect((await settle(routes.settings.action({ request, params: {}, context: {} }))).status).toBe(401);
  });

  it("shows a shop with nothing set up: no destination, default settings, a checklist with nothing done, none of another shop's events", async () => {
    const { overview, events, settings, text } = await loadAll("shop-a");
    for (const page of [overview, events, settings]) expect(page.shop).toBe("shop-a.myshopify.com");
    expect(overview.destinations).toEqual([]);
    expect(settings.destinations).toEqual([]);
    expect(events.events).toEqual([]);
    expect(overview.stats.last7d.counts.total).toBe(0);
    expect(settings.settings.settings.purchaseTrigger).toBe("orders/create");
    expect(overview.checklist).toMatchObject({ done: 0, total: 4, complete: false });
    // The theme editor's deep link selects our embed, with the app's client id.
    expect(overview.checklist.steps[1].action.url).toBe(
      `https://shop-a.myshopify.com/admin/themes/current/editor?context=apps&activateAppId=${API_KEY}/capi-relay`,
    );
    expect(text).not.toContain("B-TRACE");
    expect(text).not.toContain("B-ORDER-1");
    // Shop B sees its own event on its Events page.
    expect((await load("shop-b", "events")).data.events).toMatchObject([
      { eventId: "B-ORDER-1", fbtraceId: "B-TRACE" },
    ]);
  });

  it("shows the shop's own deduplication health and other-pixel sightings, none of another shop's", async () => {
    const [a, b] = ["shop-dedup-a.myshopify.com", "shop-dedup-b.myshopify.com"];
    for (const [shop, prefix] of [
      [a, "A"],
      [b, "B"],
    ] as const) {
      for (const n of [1, 2, 3, 4]) {
        await db.prisma.event.create({
          data: {
            shop,
            eventName: "Purchase",
            eventId: `${prefix}-DEDUP-${n}`,
            topic: "orders/create",
            state: "sent",
            eventTime: new Date(),
          },
        });
      }
    }
    // a: the browser fired one of its four; b: all four, and another pixel was seen on b's storefront.
    await db.prisma.browserEvent.create({ data: { shop: a, eventName: "Purchase", eventId: "A-DEDUP-1" } });
    for (const n of [1, 2, 3, 4])
      await db.prisma.browserEvent.create({ data: { shop: b, eventName: "Purchase", eventId: `B-DEDUP-${n}` } });
    await db.prisma.pixelSighting.create({ data: { shop: b, pixelId: "1234567890" } });
    const { overview, text } = await loadAll("shop-dedup-a");
    expect(overview.dedup.totals).toEqual([
      expect.objectContaining({
        eventName: "Purchase",
        serverSent: 4,
        paired: 1,
        serverOnly: 3,
        serverOnlyShare: 0.75,
      }),
    ]);
    expect(overview.dedup.browserReported).toBe(true);
    expect(overview.sightings).toEqual([]);
    expect(text).not.toContain("B-DEDUP");
  });

  it("connects the pixel with the real saveDestination: token sealed, never sent back", async () => {
    const saved = await post("shop-a", {
      intent: "save-destination",
      pixelId: "987654321098765",
      accessToken: TOKEN,
      testEventCode: "TEST42",
      apiVersion: "v24.0",
    });
    expect(saved.status).toBe(200);
    expect(saved.data).toMatchObject({ ok: true });
    expect(saved.text).not.toContain(TOKEN);

    const row = await db.prisma.destination.findFirstOrThrow({ where: { shop: "shop-a.myshopify.com" } });
    expect(row.accessTokenEnc).not.toContain(TOKEN);

    const { overview, settings, text } = await loadAll("shop-a");
    expect(settings.destinations).toMatchObject([
      {
        pixelId: "987654321098765",
        testEventCode: "TEST42",
        hasAccessToken: true,
        paused: false,
      },
    ]);
    expect(overview.destinations).toMatchObject([
      {
        pixelId: "987654321098765",
        testEventCode: "TEST42",
        hasAccessToken: true,
        paused: false,
      },
    ]);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(row.accessTokenEnc);
    expect(text).not.toContain(row.tokenFingerprint);

    // The storefront pixel was turned on with the saved pixel ID, through the Admin API, and the
    // theme app embed's metafield names the same.
    expect(JSON.parse(shopifyApi.of("shop-a.myshopify.com").pixel!.settings)).toMatchObject({
      pixelIds: "987654321098765",
      // Where the pixel reports the ids it fired: the shop's own URL (app/pipeline/fired-ids.ts).
      firedIdsUrl: firedIdsUrl(APP_URL, API_SECRET, "shop-a.myshopify.com"),
    });
    expect(shopifyApi.of("shop-a.myshopify.com").metafields.get("capi_relay.pixel_ids")?.value).toBe("987654321098765");
    expect(overview.webPixel.status).not.toBe("failed");
    // The check passed: the checklist's first step is done.
    expect(stepsOf(overview)).toEqual({ connect: true, embed: false, "test-event": false, live: false });

    // Shop B still has no destination, and nothing of shop A's checklist.
    const b = await loadAll("shop-b");
    expect(b.settings.destinations).toEqual([]);
    expect(b.overview.destinations).toEqual([]);
    expect(b.overview.checklist.done).toBe(0);
  });

  it("answers invalid forms with field errors (400) and changes nothing", async () => {
    const result = await post("shop-a", {
      intent: "save-destination",
      pixelId: "pixel",
      accessToken: "",
      testEventCode: "",
      apiVersion: "v24.0",
    });
    expect(result.status).toBe(400);
    expect(result.data.fieldErrors).toHaveProperty("pixelId");
    expect((await db.prisma.destination.findFirstOrThrow({ where: { shop: "shop-a.myshopify.com" } })).pixelId).toBe(
      "987654321098765",
    );
  });

  it("shows the connection Meta confirmed, and the test event code in plain words", async () => {
    const { data } = await load("shop-a");
    expect(data.destinations[0].check).toMatchObject({
      status: "connected",
      message: expect.stringMatching(/^Connected: Meta accepts this access token for pixel/),
    });
    expect(meta.pixelReads()).toEqual([{ pixelId: "987654321098765", status: 200, tokenInQuery: false }]);
  });

  it("never reports a revoked token as connected: 400, nothing saved, the field says what to do", async () => {
    const revoked = "EAAGrevokedtoken" + "r".repeat(48);
    meta.revokeToken(revoked);
    const before = await db.prisma.destination.findFirstOrThrow({ where: { shop: "shop-a.myshopify.com" } });
    const result = await post("shop-a", {
      intent: "save-destination",
      pixelId: "987654321098765",
      accessToken: revoked,
      testEventCode: "TEST42",
      apiVersion: "v24.0",
    });
    expect(result.status).toBe(400);
    expect(result.data).toMatchObject({
      ok: false,
      fieldErrors: { accessToken: expect.stringMatching(/does not accept this access token.*Generate a new one/) },
    });
    expect(result.text).not.toContain("Pixel connection saved");
    expect(result.text).not.toContain(revoked);
    const after = await db.prisma.destination.findFirstOrThrow({ where: { shop: "shop-a.myshopify.com" } });
    expect(after.tokenFingerprint).toBe(before.tokenFingerprint);
  });

  it("sends a test event with the shop's test event code, shows Meta's answer, and marks the checklist's step", async () => {
    const result = await post("shop-a", { intent: "send-test-event" });
    expect(result.status).toBe(200);
    expect(result.data).toMatchObject({
      intent: "send-test-event",
      ok: true,
      answer: { eventsReceived: 1, fbtraceId: expect.any(String) },
    });
    expect(result.data.message).toMatch(/Test events, under code TEST42/);
    expect(meta.accepted("987654321098765")).toMatchObject([
      { testEventCode: "TEST42", event: { event_name: "Purchase" } },
    ]);
    expect(result.text).not.toContain(TOKEN);
    expect(stepsOf((await load("shop-a", "overview")).data)).toMatchObject({
      connect: true,
      "test-event": true,
      live: false,
    });
    // A shop without a pixel is told to connect one first, and its checklist is untouched.
    expect((await post("shop-b", { intent: "send-test-event" })).data).toMatchObject({
      ok: false,
      formError: expect.stringMatching(/^Connect your Meta pixel first/),
    });
    expect((await load("shop-b", "overview")).data.checklist.done).toBe(0);
  });

  it("marks the embed from orders carrying its browser id, and live only once the test code is cleared", async () => {
    const fbp = "fb.1.1733000000000.1234567890";
    await db.prisma.event.create({
      data: {
        shop: "shop-a.myshopify.com",
        eventName: "Purchase",
        eventId: "A-ORDER-1",
        topic: "orders/create",
        state: "sent",
        eventTime: new Date(),
        payload: { event_name: "Purchase", user_data: { fbp } },
      },
    });
    let overview = (await load("shop-a", "overview")).data;
    expect(stepsOf(overview)).toEqual({ connect: true, embed: true, "test-event": true, live: false });
    expect(overview.checklist.steps[1].detail).toMatch(/seen the embed's data on 1 order in the last 7 days/);
    expect(overview.checklist.steps[3].detail).toMatch(/clear the test event code/);

    const cleared = await post("shop-a", {
      intent: "save-destination",
      pixelId: "987654321098765",
      accessToken: "",
      testEventCode: "",
      apiVersion: "v24.0",
    });
    expect(cleared.data).toMatchObject({ ok: true });
    overview = (await load("shop-a", "overview")).data;
    expect(overview.checklist).toMatchObject({ done: 4, complete: true });

    // Shop B's event (rejected, no fbp) and shop A's do not mix.
    const b = (await load("shop-b", "overview")).data;
    expect(stepsOf(b)).toEqual({ connect: false, embed: false, "test-event": false, live: false });
    expect(JSON.stringify((await load("shop-b", "events")).data)).not.toContain("A-ORDER-1");
  });

  it("saves settings for the session's shop only", async () => {
    const result = await post("shop-b", {
      intent: "save-settings",
      purchaseTrigger: "orders/paid",
      valueMode: "total",
      contentIdSource: "product",
      "sources.web": "website",
      "sources.pos": "physical_store",
      "sources.shopify_draft_order": "skip",
      "sources.other": "other",
      respectMarketingConsent: "true",
    });
    expect(result.data).toMatchObject({ ok: true });
    expect((await load("shop-b")).data.settings.settings).toMatchObject({
      purchaseTrigger: "orders/paid",
      contentIdSource: "product",
      sources: { shopify_draft_order: "skip" },
    });
    expect((await load("shop-a")).data.settings.settings.purchaseTrigger).toBe("orders/create");
  });
});
