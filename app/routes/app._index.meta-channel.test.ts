// The Overview's warning about Meta's Facebook & Instagram channel as the embedded admin reaches
// it: session tokens signed with the app's secret (Shopify's own test helper), stored offline
// sessions with the scopes each shop granted, the Admin API stand-ins behind fetch (the shop's
// sales channels are its publications) and the real PostgreSQL. A shop with the channel sees the
// warning; one without it, one that has not granted read_publications, one Shopify refuses and
// one with no pixel do not, and none of them makes the page fail. Shopify is asked again only
// after 6 hours.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { LoaderFunctionArgs } from "@remix-run/node";
import {
  adminRequest,
  offlineSession,
  perShop,
  PIXEL_SCOPES,
  setAppEnv,
  settle,
  STOREFRONT_OPERATION,
  stubAdminGraphql,
} from "../../test/support/admin-requests";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { fakeBilling } from "../shopify/billing.fake";
import { META_CHANNEL_RECHECK_MS } from "../shopify/sales-channels";
import { fakeShopify } from "../shopify/web-pixel.fake";

const API_KEY = "meta-channel-test-key";
const API_SECRET = "meta-channel-test-secret";
const APP_URL = "https://capi-relay.example.com";
const GRANTED = `${PIXEL_SCOPES},read_publications`;
const WITH = "channel-with.myshopify.com";
const WITHOUT = "channel-without.myshopify.com";
const NOT_GRANTED = "channel-not-granted.myshopify.com";
const REFUSED = "channel-refused.myshopify.com";
const NO_PIXEL = "channel-no-pixel.myshopify.com";
const PIXEL = { [WITH]: "4200000001", [WITHOUT]: "4200000002", [NOT_GRANTED]: "4200000003", [REFUSED]: "4200000004" };
const META_CHANNELS = ["Online Store", "Point of Sale", "Facebook & Instagram"];

type Loader = (args: LoaderFunctionArgs) => Promise<Response>;
let db: TestDatabase;
let meta: MetaSandbox;
let overview: { loader: Loader };
const billingApi = perShop(fakeBilling);
const shopifyApi = perShop(() => fakeShopify());

const APP = { apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL };

async function loadOverview(shop: string) {
  const request = await adminRequest(APP, shop.replace(".myshopify.com", ""), "/app?index", {
    routeId: "routes/app._index",
  });
  const response = await settle(overview.loader({ request, params: {}, context: {} }));
  expect(response.status).toBe(200);
  return (await response.json()) as { metaChannel: { pixels: { pixelId: string; label: string | null }[] } | null };
}

beforeAll(async () => {
  stubAdminGraphql((shop, query, variables) =>
    STOREFRONT_OPERATION.test(query) ? shopifyApi.of(shop)(query, variables) : billingApi.of(shop)(query, variables),
  );
  db = await createTestDatabase();
  meta = await startMetaSandbox();
  setAppEnv(APP, db.url, { META_GRAPH_URL: meta.url });
  const { database } = await import("../process-clients.server");
  await database().ready;
  const { sessionStorage } = await import("../shopify.server");
  const { saveDestination } = await import("../pipeline/destinations.server");
  for (const shop of [WITH, WITHOUT, REFUSED, NO_PIXEL])
    await sessionStorage.storeSession(offlineSession(shop, { scope: GRANTED }));
  // Installed before the app asked for read_publications, and not approved since.
  await sessionStorage.storeSession(offlineSession(NOT_GRANTED, { scope: PIXEL_SCOPES }));
  for (const [shop, pixelId] of Object.entries(PIXEL))
    await saveDestination(db.prisma, shop, { pixelId, accessToken: `EAAchannel-${pixelId}`, label: "Main store" });
  shopifyApi.of(WITH).salesChannels = [...META_CHANNELS];
  shopifyApi.of(WITHOUT).salesChannels = ["Online Store", "Google & YouTube"];
  shopifyApi.of(NOT_GRANTED).salesChannels = [...META_CHANNELS];
  shopifyApi.of(REFUSED).salesChannels = [...META_CHANNELS];
  shopifyApi.of(REFUSED).denyPublications = true;
  shopifyApi.of(NO_PIXEL).salesChannels = [...META_CHANNELS];
  overview = (await import("./app._index")) as unknown as typeof overview;
});

afterAll(async () => {
  vi.unstubAllGlobals();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await meta?.close();
  await db?.drop();
});

const calls = (shop: string) => shopifyApi.of(shop).publicationCalls.length;
const stored = (shop: string) =>
  db.prisma.shop.findUnique({ where: { shop }, select: { metaChannelInstalled: true, metaChannelCheckedAt: true } });

describe("the Overview's warning about Meta's Facebook & Instagram channel", () => {
  it("warns a shop that has the channel, naming its pixel", async () => {
    const data = await loadOverview(WITH);
    expect(data.metaChannel).toEqual({ pixels: [{ pixelId: PIXEL[WITH], label: "Main store" }] });
    expect(calls(WITH)).toBe(1);
    expect(await stored(WITH)).toMatchObject({ metaChannelInstalled: true });
  });

  it("does not warn a shop without the channel", async () => {
    expect((await loadOverview(WITHOUT)).metaChannel).toBeNull();
    expect(calls(WITHOUT)).toBe(1);
    expect(await stored(WITHOUT)).toMatchObject({ metaChannelInstalled: false });
  });

  it("neither warns nor asks Shopify for a shop that has not granted read_publications", async () => {
    expect((await loadOverview(NOT_GRANTED)).metaChannel).toBeNull();
    expect(calls(NOT_GRANTED)).toBe(0);
    expect(await stored(NOT_GRANTED)).toMatchObject({ metaChannelInstalled: null, metaChannelCheckedAt: null });
  });

  it("shows the page without a warning when Shopify refuses, and does not ask again on the next load", async () => {
    expect((await loadOverview(REFUSED)).metaChannel).toBeNull();
    expect((await loadOverview(REFUSED)).metaChannel).toBeNull();
    expect(calls(REFUSED)).toBe(1);
    expect(await stored(REFUSED)).toMatchObject({ metaChannelInstalled: null, metaChannelCheckedAt: expect.any(Date) });
  });

  it("does not ask Shopify for a shop with no pixel yet", async () => {
    expect((await loadOverview(NO_PIXEL)).metaChannel).toBeNull();
    expect(calls(NO_PIXEL)).toBe(0);
  });

  it("asks Shopify again only once the last read is 6 hours old", async () => {
    await loadOverview(WITH);
    expect(calls(WITH)).toBe(1);
    // The merchant removed the channel; the Overview keeps the last read until it is 6 hours old.
    shopifyApi.of(WITH).salesChannels = ["Online Store"];
    expect((await loadOverview(WITH)).metaChannel).not.toBeNull();
    expect(calls(WITH)).toBe(1);
    await db.prisma.shop.update({
      where: { shop: WITH },
      data: { metaChannelCheckedAt: new Date(Date.now() - META_CHANNEL_RECHECK_MS - 60_000) },
    });
    expect((await loadOverview(WITH)).metaChannel).toBeNull();
    expect(calls(WITH)).toBe(2);
  });
});
