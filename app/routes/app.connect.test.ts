// Connect with Meta end to end through the routes: the embedded admin's Connect with Meta page
// and its action with session tokens signed by the app's secret (Shopify's own test helper,
// offline sessions stored so token exchange never calls Shopify), the public callback Meta
// redirects to, the Meta stand-in's dialog, code exchange, debug_token and listings, the real
// saveDestination and PostgreSQL. A second shop sees and uses nothing of the first's login.
import { soleDestination } from "../../test/support/destinations";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import {
  adminRequest,
  formPost,
  offlineSession,
  perShop,
  settle,
  stubAdminGraphql,
} from "../../test/support/admin-requests";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { DEFAULT_BUSINESSES } from "../../sandbox/meta-graph/login";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { fakeShopify } from "../shopify/web-pixel.fake";

const API_KEY = "connect-test-key";
const API_SECRET = "connect-test-secret";
const APP_URL = "https://capi-relay.example.com";
const META_APP = { appId: "4455667788", appSecret: "connect-meta-s3cret" };
const CONFIG_ID = "776655443322";
const SHOP_A = "shop-a.myshopify.com";
const SHOP_B = "shop-b.myshopify.com";
const PIXEL = DEFAULT_BUSINESSES[0]!.pixels[0]!.id;
const BUSINESS = DEFAULT_BUSINESSES[0]!.id;
const DAY_MS = 86_400_000;
const key = randomBytes(32);

type Loader = (args: LoaderFunctionArgs) => Promise<Response>;
type Action = (args: ActionFunctionArgs) => Promise<Response>;
let connect: { loader: Loader; action: Action };
let callback: { loader: Loader };
let settings: { loader: Loader };
let login: typeof import("../pipeline/meta-login.server");
let connectServer: typeof import("../admin/connect.server");
let db: TestDatabase;
let meta: MetaSandbox;
const shopifyApi = perShop(() => fakeShopify());
const realFetch = globalThis.fetch;

/** A request from the embedded page of `store` ("shop-a"), with its session token. */
const fromAdmin = (store: string, path: string, init: RequestInit = {}, secret = API_SECRET) =>
  adminRequest({ apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL }, store, path, { init, secret });

async function loadConnect(store: string, query = "") {
  const response = await settle(
    connect.loader({
      request: await fromAdmin(store, `/app/connect?${query}${query ? "&" : ""}_data=routes%2Fapp.connect`),
      params: {},
      context: {},
    }),
  );
  expect(response.status).toBe(200);
  return { text: await response.clone().text(), data: (await response.json()) as Record<string, any> };
}

async function post(store: string, fields: Record<string, string>) {
  const request = await fromAdmin(store, "/app/connect?_data=routes%2Fapp.connect", formPost(fields));
  const response = await settle(connect.action({ request, params: {}, context: {} }));
  return {
    status: response.status,
    text: await response.clone().text(),
    data: (await response.json()) as Record<string, any>,
  };
}

/** Meta's dialog as the merchant's browser goes through it: the page, then Continue or Cancel. Returns the callback URL. */
async function throughDialog(dialogUrl: string, decision: "continue" | "cancel"): Promise<string> {
  const page = await realFetch(dialogUrl);
  expect(page.status).toBe(200);
  const fields = Object.fromEntries(
    [...(await page.text()).matchAll(/name="(\w+)" value="([^"]*)"/g)].map((m) => [
      m[1]!,
      m[2]!.replaceAll("&amp;", "&"),
    ]),
  );
  const decided = await realFetch(`${meta.url}/dialog/oauth/decide`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...fields, decision }),
    redirect: "manual",
  });
  expect(decided.status).toBe(302);
  return decided.headers.get("location")!;
}

async function runCallback(url: string): Promise<Response> {
  return settle(callback.loader({ request: new Request(url), params: {}, context: {} }));
}

/** Press Connect with Meta in `store`'s admin, go through the dialog, come back through the callback. */
async function signIn(store: string, decision: "continue" | "cancel" = "continue") {
  const started = await post(store, { intent: "start-login" });
  expect(started.status).toBe(200);
  const callbackUrl = await throughDialog(started.data.dialogUrl, decision);
  return { started, callbackUrl, response: await runCallback(callbackUrl) };
}

beforeAll(async () => {
  stubAdminGraphql((shop, query, variables) => shopifyApi.of(shop)(query, variables));
  db = await createTestDatabase();
  // The stand-in requires appsecret_proof, as an app with "Require App Secret" on does.
  meta = await startMetaSandbox({ loginApp: META_APP, appSecret: META_APP.appSecret });
  Object.assign(process.env, {
    NODE_ENV: "test",
    META_GRAPH_URL: meta.url,
    META_DIALOG_URL: meta.url,
    META_APP_ID: META_APP.appId,
    META_APP_SECRET: META_APP.appSecret,
    META_LOGIN_CONFIG_ID: CONFIG_ID,
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: APP_URL,
    DATABASE_URL: db.url,
    ENCRYPTION_KEY: key.toString("hex"),
  });
  const { database } = await import("../process-clients.server");
  await database().ready;
  const { sessionStorage } = await import("../shopify.server");
  for (const shop of [SHOP_A, SHOP_B]) {
    await sessionStorage.storeSession(offlineSession(shop));
  }
  connect = (await import("./app.connect")) as unknown as typeof connect;
  callback = (await import("./auth.meta.callback")) as unknown as typeof callback;
  settings = (await import("./app.settings")) as unknown as typeof settings;
  login = await import("../pipeline/meta-login.server");
  connectServer = await import("../admin/connect.server");
});

afterAll(async () => {
  vi.unstubAllGlobals();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
  await meta?.close();
});

beforeEach(async () => {
  meta.reset();
  await db.prisma.metaLogin.deleteMany({});
  await db.prisma.destination.deleteMany({});
});

describe("Connect with Meta", () => {
  it("refuses the page and its action without a valid session token", async () => {
    const page = await settle(
      connect.loader({
        request: await fromAdmin("shop-a", "/app/connect", {}, "not-the-secret"),
        params: {},
        context: {},
      }),
    );
    expect(page.status).toBe(401);
    const request = await fromAdmin(
      "shop-a",
      "/app/connect",
      { method: "POST", body: new URLSearchParams({ intent: "start-login" }) },
      "not-the-secret",
    );
    expect((await settle(connect.action({ request, params: {}, context: {} }))).status).toBe(401);
    expect(await db.prisma.metaLogin.count()).toBe(0);
  });

  it("offers the login on Settings, and never sends the Meta app secret to the browser", async () => {
    const response = await settle(
      settings.loader({
        request: await fromAdmin("shop-a", "/app/settings?_data=routes%2Fapp.settings"),
        params: {},
        context: {},
      }),
    );
    const text = await response.clone().text();
    expect(((await response.json()) as any).metaLogin).toEqual({ available: true });
    const started = await post("shop-a", { intent: "start-login" });
    expect(text + started.text).not.toContain(META_APP.appSecret);
  });

  it("goes from Connect with Meta through the dialog to a saved, connected pixel, with the token sealed and its end stored", async () => {
    const before = Date.now();
    const { started, callbackUrl, response } = await signIn("shop-a");
    const dialog = new URL(started.data.dialogUrl);
    expect(dialog.origin).toBe(meta.url);
    expect(dialog.pathname).toMatch(/^\/v\d+\.0\/dialog\/oauth$/);
    expect(Object.fromEntries(dialog.searchParams)).toMatchObject({
      client_id: META_APP.appId,
      config_id: CONFIG_ID,
      response_type: "code",
      redirect_uri: `${APP_URL}/auth/meta/callback`,
    });
    // Back to the app's page inside the shop's admin, with no Referer carrying the code onward.
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`https://${SHOP_A}/admin/apps/${API_KEY}/app/connect`);
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");

    const [issued] = meta.issuedTokens();
    const row = await db.prisma.metaLogin.findFirstOrThrow({ where: { shop: SHOP_A } });
    expect(row.accessTokenEnc).toBeTruthy();
    expect(row.accessTokenEnc).not.toContain(issued!.token);
    expect(row.tokenExpiresAt?.getTime()).toBe(issued!.expiresAt * 1000);

    // The same callback again (a replayed URL) is refused and leaves the login as it is.
    const replay = await runCallback(callbackUrl);
    expect(replay.headers.get("location")).toBe(`https://${SHOP_A}/admin/apps/${API_KEY}/app/connect?problem=state`);
    expect(await db.prisma.metaLogin.count({ where: { shop: SHOP_A, accessTokenEnc: { not: null } } })).toBe(1);

    // The page lists the business (the only one, so chosen) and its pixels; no token in it.
    const page = await loadConnect("shop-a");
    expect(page.data).toMatchObject({
      configured: true,
      businesses: [{ id: BUSINESS, name: "Stand-in Business" }],
      businessId: BUSINESS,
      pixels: [{ id: PIXEL, name: "Stand-in Store pixel" }],
      pending: { loginId: row.id, tokenExpiresAt: row.tokenExpiresAt!.toISOString() },
    });
    expect(page.data.problem).toBeUndefined();
    expect(page.text).not.toContain(issued!.token);
    expect(page.text).not.toContain(row.accessTokenEnc!);

    const saved = await post("shop-a", { intent: "connect-pixel", loginId: row.id, pixelId: PIXEL });
    expect(saved.status).toBe(200);
    expect(saved.data).toMatchObject({ ok: true, message: `Connected with Meta: pixel ${PIXEL}` });
    expect(saved.text).not.toContain(issued!.token);
    // The connection check read the pixel with the login's token, proven with the app secret.
    expect(meta.pixelReads()).toEqual([{ pixelId: PIXEL, status: 200, tokenInQuery: false }]);

    const destination = await db.prisma.destination.findFirstOrThrow({ where: { shop: SHOP_A } });
    expect(destination).toMatchObject({ pixelId: PIXEL, connectedVia: "facebook-login", checkStatus: "connected" });
    expect(destination.tokenExpiresAt?.getTime()).toBe(issued!.expiresAt * 1000);
    expect(destination.tokenExpiresAt!.getTime()).toBeGreaterThan(before + 59 * DAY_MS);
    const { openDestination } = await import("../pipeline/destinations.server");
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, SHOP_A), key))!.accessToken).toBe(
      issued!.token,
    );
    // Used, so gone.
    expect(await db.prisma.metaLogin.count({ where: { shop: SHOP_A } })).toBe(0);
    // The storefront pixel follows, as with a pasted token.
    expect(JSON.parse(shopifyApi.of(SHOP_A).pixel!.settings)).toMatchObject({ pixelIds: PIXEL });
    expect(shopifyApi.of(SHOP_A).metafields.get("capi_relay.pixel_ids")?.value).toBe(PIXEL);

    const after = await settle(
      settings.loader({
        request: await fromAdmin("shop-a", "/app/settings?_data=routes%2Fapp.settings"),
        params: {},
        context: {},
      }),
    );
    expect(((await after.json()) as any).destinations[0]).toMatchObject({
      connectedVia: "facebook-login",
      tokenExpiry: { state: "valid", daysLeft: 60 },
      check: { status: "connected" },
    });
  });

  it("shows a second shop nothing of the first's login, and refuses it the first's login id", async () => {
    await signIn("shop-a");
    const row = await db.prisma.metaLogin.findFirstOrThrow({ where: { shop: SHOP_A } });
    const b = await loadConnect("shop-b");
    expect(b.data).toMatchObject({ configured: true, businesses: [], pixels: [] });
    expect(b.data.pending).toBeUndefined();
    expect(b.text).not.toContain(row.id);
    expect(b.text).not.toContain("Stand-in Business");

    const stolen = await post("shop-b", { intent: "connect-pixel", loginId: row.id, pixelId: PIXEL });
    expect(stolen.status).toBe(400);
    expect(stolen.data.formError).toMatch(/expired/);
    expect(await db.prisma.destination.count()).toBe(0);
    // Nor can it discard the first shop's login.
    await post("shop-b", { intent: "discard-login" });
    expect(await db.prisma.metaLogin.count({ where: { shop: SHOP_A } })).toBe(1);
    expect(meta.pixelReads()).toEqual([]);
  });

  it("Cancel on Facebook: back to the page with what happened and what to do; the login is gone", async () => {
    const { response } = await signIn("shop-a", "cancel");
    expect(response.headers.get("location")).toBe(`https://${SHOP_A}/admin/apps/${API_KEY}/app/connect?problem=denied`);
    expect(await db.prisma.metaLogin.count()).toBe(0);
    expect(meta.issuedTokens()).toEqual([]);
    const page = await loadConnect("shop-a", "problem=denied");
    expect(page.data.problem).toMatchObject({
      kind: "denied",
      message: expect.stringMatching(/cancelled.*Connect with Meta/),
    });
  });

  it("Meta unreachable when the code is exchanged: back to the page with what to do; the login is gone", async () => {
    const started = await post("shop-a", { intent: "start-login" });
    const callbackUrl = await throughDialog(started.data.dialogUrl, "continue");
    meta.setFault({ mode: "server-error", status: 503, count: 1 });
    const response = await runCallback(callbackUrl);
    expect(response.headers.get("location")).toBe(
      `https://${SHOP_A}/admin/apps/${API_KEY}/app/connect?problem=meta-unreachable`,
    );
    expect(await db.prisma.metaLogin.count()).toBe(0);
    expect(meta.issuedTokens()).toEqual([]);
    const page = await loadConnect("shop-a", "problem=meta-unreachable");
    expect(page.data.problem).toMatchObject({
      kind: "meta-unreachable",
      message: expect.stringMatching(/Wait a minute/),
    });
  });

  it("refuses a forged or unknown state without naming any shop, and a state past its time", async () => {
    const started = await post("shop-a", { intent: "start-login" });
    const state = new URL(started.data.dialogUrl).searchParams.get("state")!;
    const forged = `${state.split(".")[0]}.${randomBytes(32).toString("base64url")}`;
    const refused = await runCallback(`${APP_URL}/auth/meta/callback?code=AQx&state=${forged}`);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).message).toMatch(/did not start from this app/);
    expect((await runCallback(`${APP_URL}/auth/meta/callback?code=AQx`)).status).toBe(400);

    // Meta's redirect after the state's time (the merchant left the dialog open).
    const setup = login.loginSetupFromEnv()!;
    const late = await login.finishLogin(db.prisma, new URLSearchParams({ code: "AQx", state }), setup, {
      key,
      now: new Date(Date.now() + login.STATE_TTL_MS + 1000),
    });
    expect(late).toMatchObject({ problem: "expired" });
    expect(await db.prisma.metaLogin.count()).toBe(0);
  });

  it("says when Meta gives no business, when the business has no pixel, and when Meta cannot be reached", async () => {
    await signIn("shop-a");
    meta.setBusinesses([]);
    expect((await loadConnect("shop-a")).data.problem).toMatchObject({ kind: "no-business" });
    meta.setBusinesses([
      { id: "111", name: "First", pixels: [] },
      { id: "222", name: "Second", pixels: [{ id: "2220000001", name: "Second pixel" }] },
    ]);
    // Two businesses: none chosen until the merchant picks.
    const two = await loadConnect("shop-a");
    expect(two.data.businessId).toBeUndefined();
    expect(two.data.pixels).toEqual([]);
    expect((await loadConnect("shop-a", "business=111")).data.problem).toMatchObject({ kind: "no-pixel" });
    expect((await loadConnect("shop-a", "business=222")).data).toMatchObject({
      businessId: "222",
      pixels: [{ id: "2220000001" }],
    });
    // A business not in the list is not asked of Meta.
    expect((await loadConnect("shop-a", "business=333")).data.businessId).toBeUndefined();
    const unreachable = { ...login.loginSetupFromEnv()!, graphUrl: "http://127.0.0.1:9" };
    const view = await connectServer.loadConnectView(db.prisma, SHOP_A, new URLSearchParams(), unreachable, { key });
    expect(view.problem).toMatchObject({ kind: "meta-unreachable", message: expect.stringMatching(/Wait a minute/) });
  });

  it("keeps the login when Meta refuses the chosen pixel, so another can be picked", async () => {
    await signIn("shop-a");
    const row = await db.prisma.metaLogin.findFirstOrThrow({ where: { shop: SHOP_A } });
    meta.unknownPixel(PIXEL);
    const refused = await post("shop-a", { intent: "connect-pixel", loginId: row.id, pixelId: PIXEL });
    expect(refused.status).toBe(400);
    expect(refused.data.formError).toMatch(/^Not connected: Meta refused this pixel/);
    expect(await db.prisma.destination.count()).toBe(0);
    expect(await db.prisma.metaLogin.count({ where: { shop: SHOP_A } })).toBe(1);
    const bad = await post("shop-a", { intent: "connect-pixel", loginId: row.id, pixelId: "abc" });
    expect(bad.data.fieldErrors).toMatchObject({ pixelId: "Choose a pixel (dataset)" });
    await post("shop-a", { intent: "discard-login" });
    expect(await db.prisma.metaLogin.count()).toBe(0);
  });

  it("without a Meta app on the server: the page and its action say so and offer the pasted token", async () => {
    const view = await connectServer.loadConnectView(db.prisma, SHOP_A, new URLSearchParams(), undefined);
    expect(view).toMatchObject({ configured: false, notConfigured: login.LOGIN_NOT_CONFIGURED });
    const { saveDestination } = await import("../pipeline/destinations.server");
    const form = new FormData();
    form.set("intent", "start-login");
    expect(
      await connectServer.runConnectAction(db.prisma, SHOP_A, form, undefined, { save: saveDestination }),
    ).toMatchObject({
      ok: false,
      formError: login.LOGIN_NOT_CONFIGURED,
    });
    const { parseEnv } = await import("../config/env.server");
    expect(login.loginSetupFromEnv(parseEnv({ META_APP_ID: "1", META_LOGIN_CONFIG_ID: "2" }))).toBeUndefined();
    expect(
      login.loginSetupFromEnv(parseEnv({ META_APP_ID: "1", META_APP_SECRET: "s", META_LOGIN_CONFIG_ID: "2" })),
    ).toMatchObject({
      appId: "1",
      configId: "2",
      dialogUrl: "https://www.facebook.com",
    });
  });
});
