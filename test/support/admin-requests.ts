// How route tests reach the embedded admin's loaders and actions: requests signed as Shopify's
// admin signs them (the library's own test helper), offline sessions stored as the app stores
// them, and a loader's thrown Response (a redirect, a 401) taken as its answer.
import { randomBytes } from "node:crypto";
import { Session } from "@shopify/shopify-api";
import { RequestType, setUpValidRequest } from "@shopify/shopify-api/test-helpers";
import { vi } from "vitest";

/** What the app asks of a shop that has the web pixel: the scopes most route tests install with. */
export const PIXEL_SCOPES = "read_orders,write_pixels,read_customer_events";

/** An offline session as the app keeps them: an expiring token with its hour ahead, so no token exchange is needed. */
export function offlineSession(
  shop: string,
  o: { scope?: string; accessToken?: string; state?: string } = {},
): Session {
  return new Session({
    id: `offline_${shop}`,
    shop,
    state: o.state ?? "test",
    isOnline: false,
    accessToken: o.accessToken ?? `shpat_${shop}`,
    scope: o.scope ?? PIXEL_SCOPES,
    expires: new Date(Date.now() + 3600_000),
  });
}

export async function storeOfflineSessions(
  storage: { storeSession(session: Session): Promise<boolean> },
  shops: readonly string[],
  scope = PIXEL_SCOPES,
): Promise<void> {
  for (const shop of shops) await storage.storeSession(offlineSession(shop, { scope }));
}

export interface SigningApp {
  apiKey: string;
  apiSecret: string;
  appUrl: string;
}

/**
 * The settings the app reads once, at its first import: this app's keys and URL, the test's
 * database, a fresh token-encryption key, and `more` (a Meta stand-in's URL, say).
 */
export function setAppEnv(app: SigningApp, databaseUrl: string, more: Record<string, string> = {}): void {
  Object.assign(process.env, {
    NODE_ENV: "test",
    SHOPIFY_API_KEY: app.apiKey,
    SHOPIFY_API_SECRET: app.apiSecret,
    SHOPIFY_APP_URL: app.appUrl,
    DATABASE_URL: databaseUrl,
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    ...more,
  });
}

/**
 * A request from the embedded admin of `store` to `path`, with its session token signed by
 * `secret` (the app's by default). `routeId` asks Remix for that route's data (`_data`), as the
 * admin's client-side navigation does.
 */
export function adminRequest(
  app: SigningApp,
  store: string,
  path: string,
  o: { routeId?: string; init?: RequestInit; secret?: string } = {},
): Promise<Request> {
  const url = `${app.appUrl}${path}`;
  const data = o.routeId ? `${url.includes("?") ? "&" : "?"}_data=${encodeURIComponent(o.routeId)}` : "";
  return setUpValidRequest(
    { type: RequestType.Bearer, store, apiKey: app.apiKey, apiSecretKey: o.secret ?? app.apiSecret },
    new Request(`${url}${data}`, o.init),
  );
}

/** A form POST's init, as the admin's forms send it. */
export const formPost = (fields: Record<string, string>): RequestInit => ({
  method: "POST",
  body: new URLSearchParams(fields),
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
});

/** The route's answer, thrown or returned. */
export async function settle(promise: Promise<Response>): Promise<Response> {
  try {
    return await promise;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

type GraphqlAnswer = (shop: string, query: string, variables: Record<string, unknown>) => unknown;

/**
 * Shopify's Admin GraphQL behind fetch: every POST to a shop's `graphql.json` is answered by
 * `answer` (given the shop and the operation); other hosts pass through to the real fetch. Call
 * it before Shopify's library is imported: its Node adapter keeps the fetch it finds.
 */
export function stubAdminGraphql(answer: GraphqlAnswer): void {
  const realFetch = globalThis.fetch;
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!(url.hostname.endsWith(".myshopify.com") && url.pathname.endsWith("/graphql.json")))
      return realFetch(input, init);
    const { query, variables } = JSON.parse(
      String(init?.body ?? (input instanceof Request ? await input.text() : "{}")),
    );
    return Response.json(await answer(url.hostname, query, variables ?? {}));
  });
}

/** One stand-in per shop, made at its first use. */
export function perShop<T>(make: (shop: string) => T): { of(shop: string): T; all: Map<string, T> } {
  const all = new Map<string, T>();
  return {
    all,
    of(shop) {
      if (!all.has(shop)) all.set(shop, make(shop));
      return all.get(shop)!;
    },
  };
}

/**
 * The calls the web pixel stand-in answers: the storefront's own (the web pixel, the pixel ids'
 * metafield) and the sales channels' publications (Meta's own channel).
 */
export const STOREFRONT_OPERATION =
  /webPixel|query CapiRelayAppInstallation\b|CapiRelayPixelIds|CapiRelayAppPublications/;
