// Expiring offline tokens as background work meets them, against the real PostgreSQL and the
// Admin API stand-in (test/support/shopify-admin.ts) behind fetch, through Shopify's own
// library (its refresh grant, its migration exchange, its GraphQL client and, for the merchant
// reopening the app, its token exchange with the expiringOfflineAccessTokens flag).
import { randomBytes } from "node:crypto";
import { Session } from "@shopify/shopify-api";
import { RequestType, setUpValidRequest } from "@shopify/shopify-api/test-helpers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { atShop, shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";
import { signedWebhookRequest, webhookRouteActions } from "../../test/support/shopify-webhooks";
import { ACCESS_TOKEN_SECONDS, adminStandIn, type TokenPair } from "../../test/support/shopify-admin";
import { isSealed } from "../security/token-vault";
import type { OfflineAccessDeps } from "./offline-token.server";

const API_KEY = "offline-token-test-key";
const API_SECRET = "offline-token-test-secret";
const APP_URL = "https://capi-relay.example.com";
const key = randomBytes(32);
const MIN = 60_000;
const realFetch = globalThis.fetch;
const standIn = adminStandIn({ apiKey: API_KEY, apiSecret: API_SECRET, passThrough: realFetch });

let db: TestDatabase;
let shell: typeof import("./offline-token.server");
let storage: typeof import("./session-storage.server");
let reconcile: typeof import("../pipeline/reconcile.server");
let baseDeps: Omit<OfflineAccessDeps, "prisma">;
const logs: string[] = [];

const deps = (): OfflineAccessDeps => ({ ...baseDeps, prisma: db.prisma });
const domain = (store: string) => `${store}.myshopify.com`;
const tokenRequests = (shop: string, grant?: string) =>
  standIn.tokenRequests.filter((r) => r.shop === shop && (!grant || r.grant === grant));
const statuses = (shop: string) => standIn.graphqlRequests.filter((r) => r.shop === shop).map((r) => r.status);

/**
 * The install's token exchange, as stored: the stand-in's pair, and an expiry `expiresInMs`
 * from now as the app records it (shorter than the stand-in's hour stands for a token issued
 * earlier).
 */
async function install(shop: string, options: { expiresInMs?: number; expiring?: boolean } = {}): Promise<TokenPair> {
  const pair = standIn.issue(shop, { expiring: options.expiring ?? true });
  const { sessionStorage } = await import("../shopify.server");
  await sessionStorage.storeSession(
    new Session({
      id: `offline_${shop}`,
      shop,
      state: "",
      isOnline: false,
      scope: pair.scope,
      accessToken: pair.access_token,
      ...(pair.refresh_token && {
        expires: new Date(Date.now() + (options.expiresInMs ?? ACCESS_TOKEN_SECONDS * 1000)),
        refreshToken: pair.refresh_token,
        refreshTokenExpires: new Date(Date.now() + pair.refresh_token_expires_in! * 1000),
      }),
    }),
  );
  const { handleInstalled } = await import("../pipeline/privacy.server");
  await handleInstalled(db.prisma, shop);
  return pair;
}

const SHOP_QUERY = `#graphql
  query { shop { name } }`;

/** Orders created an hour ago, as the Admin API lists them, in pages of `perPage`. */
function ordersApi(shop: string, pages: number, perPage: number, onPage?: (index: number) => void) {
  const createdAt = new Date(Date.now() - 3600_000).toISOString();
  const money = (amount: string) => ({
    shopMoney: { amount, currencyCode: "USD" },
    presentmentMoney: { amount, currencyCode: "USD" },
  });
  const order = (id: number) => ({
    id: `gid://shopify/Order/${id}`,
    name: `#${id}`,
    createdAt,
    processedAt: createdAt,
    email: `buyer${id}@example.com`,
    test: false,
    sourceName: "web",
    displayFinancialStatus: "PAID",
    currencyCode: "USD",
    totalPriceSet: money("30.00"),
    subtotalPriceSet: money("30.00"),
    checkoutToken: null,
    lineItems: { nodes: [{ quantity: 1, title: "Socks", originalUnitPriceSet: money("30.00") }] },
  });
  standIn.handle(shop, (query, variables) => {
    if (query.includes("abandonedCheckouts(")) {
      return { data: { abandonedCheckouts: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] } } };
    }
    if (query.includes("shop {")) return { data: { shop: { name: shop } } };
    const index = variables.after ? Number(variables.after) : 0;
    onPage?.(index);
    const nodes = Array.from({ length: perPage }, (_, i) => order(9000 + index * perPage + i));
    return { data: { orders: { pageInfo: { hasNextPage: index + 1 < pages, endCursor: String(index + 1) }, nodes } } };
  });
}

beforeAll(async () => {
  // Before Shopify's library is imported: its Node adapter keeps the fetch it finds.
  vi.stubGlobal("fetch", standIn.fetch);
  db = await createTestDatabase();
  Object.assign(process.env, {
    NODE_ENV: "test",
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: APP_URL,
    DATABASE_URL: db.url,
    REDIS_URL,
    ENCRYPTION_KEY: key.toString("hex"),
  });
  const { database } = await import("../process-clients.server");
  await database().ready;
  shell = await import("./offline-token.server");
  storage = await import("./session-storage.server");
  reconcile = await import("../pipeline/reconcile.server");
  // What the worker process builds from the settings above.
  const { offlineAccessDeps } = await import("../../server/worker");
  baseDeps = { ...(await offlineAccessDeps()), log: (line) => logs.push(line) };
});
afterAll(async () => {
  vi.unstubAllGlobals();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

describe("renewal before use", () => {
  it("refreshes a token about to expire, stores the new pair sealed, and calls with it", async () => {
    const shop = domain("soon");
    const first = await install(shop, { expiresInMs: 3 * MIN });
    ordersApi(shop, 1, 1);
    const graphql = await shell.offlineAdminGraphql(deps(), shop);
    expect(await graphql!(SHOP_QUERY, {})).toEqual({ data: { shop: { name: shop } }, extensions: undefined });

    expect(tokenRequests(shop, "refresh_token")).toHaveLength(1);
    expect(statuses(shop)).toEqual([200]);
    const row = await db.prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } });
    expect(isSealed(row.accessToken) && isSealed(row.refreshToken!)).toBe(true);
    const stored = await storage.loadOfflineSession(db.prisma, shop, key);
    expect(stored!.session.refreshToken).not.toBe(first.refresh_token);
    expect(stored!.session.accessToken).not.toBe(first.access_token);
    expect(stored!.session.expires!.getTime()).toBeGreaterThan(Date.now() + 50 * MIN);
    // What Shopify's library loads never carries the refresh token: it must not renew on its own.
    const { sessionStorage } = await import("../shopify.server");
    const loaded = await sessionStorage.loadSession(`offline_${shop}`);
    expect(loaded?.accessToken).toBe(stored!.session.accessToken);
    expect(loaded?.refreshToken).toBeUndefined();
  });

  it("uses a token with time left as it is", async () => {
    const shop = domain("fresh");
    await install(shop);
    ordersApi(shop, 1, 1);
    const graphql = await shell.offlineAdminGraphql(deps(), shop);
    await graphql!(SHOP_QUERY, {});
    expect(tokenRequests(shop)).toEqual([]);
    expect(statuses(shop)).toEqual([200]);
  });

  it("trades a non-expiring token once for an expiring pair", async () => {
    const shop = domain("legacy");
    const old = await install(shop, { expiring: false });
    ordersApi(shop, 1, 1);
    await (await shell.offlineAdminGraphql(deps(), shop))!(SHOP_QUERY, {});
    await (await shell.offlineAdminGraphql(deps(), shop))!(SHOP_QUERY, {});
    expect(tokenRequests(shop).map((r) => r.grant)).toEqual(["urn:ietf:params:oauth:grant-type:token-exchange"]);
    const stored = (await storage.loadOfflineSession(db.prisma, shop, key))!.session;
    expect(stored.accessToken).not.toBe(old.access_token);
    expect(stored.refreshToken).toBeTruthy();
    expect(stored.expires!.getTime()).toBeGreaterThan(Date.now());
    expect(statuses(shop)).toEqual([200, 200]);
  });
});

describe("a non-expiring token, from before the app asked for expiring ones", () => {
  it("is traded for an expiring pair by the admin's token exchange when the merchant opens the app", async () => {
    const shop = domain("oldinstall");
    await install(shop, { expiring: false });
    const { authenticate } = await import("../shopify.server");
    const request = await setUpValidRequest(
      { type: RequestType.Bearer, store: "oldinstall", apiKey: API_KEY, apiSecretKey: API_SECRET },
      new Request(`${APP_URL}/app`),
    );
    await authenticate.admin(request);
    expect(tokenRequests(shop)).toEqual([
      { shop, grant: "urn:ietf:params:oauth:grant-type:token-exchange", expiring: "1" },
    ]);
    const stored = (await storage.loadOfflineSession(db.prisma, shop, key))!.session;
    expect(stored.expires!.getTime()).toBeGreaterThan(Date.now() + 50 * MIN);
    expect(stored.refreshToken).toBeTruthy();
  });
});

describe("a token that expires mid-run", () => {
  it("is refreshed at the first 401 and the reconciliation completes", async () => {
    const shop = domain("midrun");
    await install(shop);
    // After the first page, Shopify's clock passes the token's hour.
    ordersApi(shop, 3, 2, (index) => index === 0 && standIn.advance(61 * MIN));
    const graphql = await shell.offlineAdminGraphql(deps(), shop);
    const report = await reconcile.reconcileShop({ prisma: db.prisma, graphql: graphql! }, shop);

    expect(report.seen).toBe(6);
    expect(report.unreadable).toBe(0);
    expect(await db.prisma.event.count({ where: { shop, eventName: "Purchase" } })).toBe(6);
    // Page 2 was refused once, renewed, asked again; page 3 and the abandoned checkouts went through.
    expect(statuses(shop)).toEqual([200, 401, 200, 200, 200]);
    expect(tokenRequests(shop, "refresh_token")).toHaveLength(1);
    expect(await shell.offlineAccessLost(db.prisma, shop)).toBeNull();
  });
});

describe("two workers renewing at once", () => {
  it("spend the refresh token once: one waits for the other's pair and uses it", async () => {
    const shop = domain("race");
    await install(shop, { expiresInMs: 2 * MIN });
    ordersApi(shop, 1, 1);
    // Two workers: separate states, the same table. The stand-in refuses a refresh token's second use.
    const [a, b] = await Promise.all([
      shell.offlineAdminGraphql(deps(), shop),
      shell.offlineAdminGraphql(deps(), shop),
    ]);
    await Promise.all([a!(SHOP_QUERY, {}), b!(SHOP_QUERY, {})]);
    expect(tokenRequests(shop, "refresh_token")).toHaveLength(1);
    expect(statuses(shop)).toEqual([200, 200]);
    expect(await shell.offlineAccessLost(db.prisma, shop)).toBeNull();
  });
});

describe("a renewal Shopify refuses for good", () => {
  it("stops the shop's background work with the reason recorded; other shops go on", async () => {
    const revoked = domain("revoked");
    const other = domain("other");
    // The revoked shop's token still has most of its hour: the 401 is what sends it to renewal.
    await install(revoked);
    await install(other, { expiresInMs: 2 * MIN });
    ordersApi(revoked, 1, 1);
    ordersApi(other, 1, 1);
    const graphqlBefore = await shell.offlineAdminGraphql(deps(), revoked);
    standIn.revoke(revoked, "revoked");

    await expect(graphqlBefore!(SHOP_QUERY, {})).rejects.toBeInstanceOf(shell.OfflineAccessLost);
    expect(statuses(revoked)).toEqual([401]);
    const lost = await shell.offlineAccessLost(db.prisma, revoked);
    expect(lost?.reason).toMatch(/400 invalid_grant/);
    expect(logs).toContainEqual(
      expect.stringMatching(/revoked\.myshopify\.com: background work stopped: .*invalid_grant/),
    );
    // The next run asks Shopify nothing for it.
    const asked = standIn.tokenRequests.length;
    expect(await shell.offlineAdminGraphql(deps(), revoked)).toBeUndefined();
    expect(standIn.tokenRequests.length).toBe(asked);

    const graphql = await shell.offlineAdminGraphql(deps(), other);
    expect(await graphql!(SHOP_QUERY, {})).toMatchObject({ data: { shop: { name: other } } });
    expect(await shell.offlineAccessLost(db.prisma, other)).toBeNull();
  });

  it("an uninstall met mid-run (401, then 401 on the refresh) stops the run and records why", async () => {
    const shop = domain("gone");
    await install(shop);
    ordersApi(shop, 2, 1, (index) => index === 0 && standIn.revoke(shop, "uninstalled"));
    const graphql = await shell.offlineAdminGraphql(deps(), shop);
    await expect(reconcile.reconcileShop({ prisma: db.prisma, graphql: graphql! }, shop)).rejects.toBeInstanceOf(
      shell.OfflineAccessLost,
    );
    expect(statuses(shop)).toEqual([200, 401]);
    expect((await shell.offlineAccessLost(db.prisma, shop))?.reason).toMatch(/\(401\)/);
  });

  it("resumes once the merchant opens the app: token exchange stores a new expiring pair", async () => {
    const shop = domain("revoked");
    expect(await shell.offlineAccessLost(db.prisma, shop)).not.toBeNull();
    const { authenticate } = await import("../shopify.server");
    const request = await setUpValidRequest(
      { type: RequestType.Bearer, store: "revoked", apiKey: API_KEY, apiSecretKey: API_SECRET },
      new Request(`${APP_URL}/app`),
    );
    await authenticate.admin(request);
    // The stored token still had time left, but the refusal marked it expired: the library
    // traded the session token for a new pair, asking for an expiring one.
    expect(tokenRequests(shop).at(-1)).toEqual({
      shop,
      grant: "urn:ietf:params:oauth:grant-type:token-exchange",
      expiring: "1",
    });
    expect(await shell.offlineAccessLost(db.prisma, shop)).toBeNull();

    const asked = tokenRequests(shop).length;
    const graphql = await shell.offlineAdminGraphql(deps(), shop);
    expect(await graphql!(SHOP_QUERY, {})).toMatchObject({ data: { shop: { name: shop } } });
    expect(tokenRequests(shop)).toHaveLength(asked);
  });
});

describe("a renewal refused for a reason of the app's, not the shop's", () => {
  it("(a wrong client secret) fails the run and records nothing: the next run tries again", async () => {
    const shop = domain("misconfigured");
    await install(shop, { expiresInMs: 2 * MIN });
    const grants = await import("./offline-grants.server");
    const { apiVersion } = await import("../shopify.server");
    const wrong = grants.offlineShopifyApi({
      apiKey: API_KEY,
      apiSecretKey: "not-the-secret",
      appUrl: APP_URL,
      scopes: ["read_orders"],
      apiVersion,
    });
    const misconfigured = { ...deps(), grants: grants.libraryGrants(wrong) };
    await expect(shell.offlineAdminGraphql(misconfigured, shop)).rejects.toThrow(/invalid_client/);
    expect(await shell.offlineAccessLost(db.prisma, shop)).toBeNull();
    // Fixed, the next run renews with the stored refresh token.
    expect(await shell.offlineAdminGraphql(deps(), shop)).toBeDefined();
    expect(tokenRequests(shop, "refresh_token")).toHaveLength(2);
  });
});

describe("webhooks of a shop whose token is about to expire", () => {
  it("are answered without renewing anything: only background work renews, one at a time", async () => {
    const shop = domain("hook");
    await install(shop, { expiresInMs: MIN });
    const actions = await webhookRouteActions();
    const orders = [1, 2, 3].map((n) => ({ ...atShop(shopifyFixture("orders-create-web"), shop), id: 7_770_000 + n }));
    const responses = await Promise.all(
      orders.map((payload, i) =>
        actions["orders/create"]!({
          request: signedWebhookRequest(APP_URL, {
            topic: "orders/create",
            shop,
            payload,
            secret: API_SECRET,
            eventId: `hook-${i}`,
          }),
          params: {},
          context: {},
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(tokenRequests(shop)).toEqual([]);
    // The stored pair is untouched, refresh token included.
    expect((await storage.loadOfflineSession(db.prisma, shop, key))!.session.refreshToken).toBeTruthy();
  });
});
