// Shopify's Admin API stand-in behind fetch, as far as offline tokens go: the token endpoint
// (POST https://{shop}/admin/oauth/access_token) with the refresh grant and the token exchange
// (a session token, or a non-expiring offline token traded for an expiring pair), issuing
// 60-minute access tokens with 90-day refresh tokens; and Admin GraphQL
// (POST https://{shop}/admin/api/{version}/graphql.json) answering 401 to an expired, replaced
// or revoked access token, and otherwise handing the operation to the shop's handler.
// Stricter than Shopify on one point: a refresh token is retired at its first use (Shopify
// keeps accepting it until the replacement is used), so a test fails if two renewals spend it.
// Its clock is the machine's plus `advance`d time; nothing is dated in absolute terms.
import { randomBytes } from "node:crypto";

export const ACCESS_TOKEN_SECONDS = 3600;
export const REFRESH_TOKEN_SECONDS = 90 * 24 * 3600;

type GraphqlHandler = (query: string, variables: Record<string, unknown>) => unknown | Promise<unknown>;

interface AccessToken {
  shop: string;
  /** undefined: non-expiring. */
  expiresAt?: number;
  retired?: boolean;
}

interface RefreshToken {
  shop: string;
  expiresAt: number;
  used?: boolean;
}

export interface TokenPair {
  access_token: string;
  scope: string;
  expires_in?: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
}

export interface AdminStandIn {
  /** A fetch for *.myshopify.com; anything else goes to `passThrough`. */
  fetch: typeof fetch;
  /** What the install's token exchange gave the app: an expiring pair, or a non-expiring token. */
  issue(shop: string, options?: { expiring?: boolean }): TokenPair;
  /** The shop's Admin GraphQL (orders, web pixels, ...). */
  handle(shop: string, handler: GraphqlHandler): void;
  /** Moves the stand-in's clock: tokens it issued before expire when their hour has passed. */
  advance(ms: number): void;
  /** The merchant revoked the app's access (refresh: 400 invalid_grant), or uninstalled it (401). */
  revoke(shop: string, how: "revoked" | "uninstalled"): void;
  /** Every token request, in order. */
  tokenRequests: Array<{ shop: string; grant: string; expiring?: string }>;
  /** Every GraphQL request with the status it got. */
  graphqlRequests: Array<{ shop: string; status: number }>;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const INVALID_TOKEN = { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" };

export function adminStandIn(options: {
  apiKey: string;
  apiSecret: string;
  scope?: string;
  passThrough?: typeof fetch;
}): AdminStandIn {
  const scope = options.scope ?? "read_orders,write_pixels,read_customer_events";
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;
  const access = new Map<string, AccessToken>();
  const refresh = new Map<string, RefreshToken>();
  const handlers = new Map<string, GraphqlHandler>();
  const revoked = new Map<string, "uninstalled">();
  const tokenRequests: AdminStandIn["tokenRequests"] = [];
  const graphqlRequests: AdminStandIn["graphqlRequests"] = [];

  const token = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;
  const issue = (shop: string, expiring = true): TokenPair => {
    const accessToken = token("shpat");
    if (!expiring) {
      access.set(accessToken, { shop });
      return { access_token: accessToken, scope };
    }
    const refreshToken = token("shprt");
    access.set(accessToken, { shop, expiresAt: now() + ACCESS_TOKEN_SECONDS * 1000 });
    refresh.set(refreshToken, { shop, expiresAt: now() + REFRESH_TOKEN_SECONDS * 1000 });
    return {
      access_token: accessToken,
      scope,
      expires_in: ACCESS_TOKEN_SECONDS,
      refresh_token: refreshToken,
      refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
    };
  };
  const liveAccess = (value: string | null, shop: string) => {
    const t = value ? access.get(value) : undefined;
    return (
      !!t && t.shop === shop && !t.retired && !revoked.has(shop) && (t.expiresAt === undefined || t.expiresAt > now())
    );
  };

  const tokenEndpoint = async (shop: string, init?: RequestInit): Promise<Response> => {
    const body = JSON.parse(String(init?.body ?? "{}")) as Record<string, string>;
    const grant = body.grant_type ?? "";
    tokenRequests.push({ shop, grant, ...(body.expiring !== undefined && { expiring: String(body.expiring) }) });
    if (body.client_id !== options.apiKey || body.client_secret !== options.apiSecret)
      return json({ error: "invalid_client", error_description: "Client authentication failed" }, 401);
    const gone = revoked.get(shop);
    if (gone === "uninstalled") return json(INVALID_TOKEN, 401);
    if (grant === "refresh_token") {
      const t = refresh.get(body.refresh_token ?? "");
      if (!t || t.shop !== shop || t.used || t.expiresAt <= now())
        return json({ error: "invalid_grant", error_description: "Token has been expired or revoked." }, 400);
      t.used = true;
      return json(issue(shop));
    }
    if (grant === "urn:ietf:params:oauth:grant-type:token-exchange") {
      if (body.subject_token_type === "urn:shopify:params:oauth:token-type:offline-access-token") {
        // Migration: the subject is the shop's live non-expiring token, which is retired by the trade.
        const subject = access.get(body.subject_token ?? "");
        if (!subject || subject.expiresAt !== undefined || !liveAccess(body.subject_token!, shop))
          return json({ error: "invalid_subject_token", error_description: "Invalid subject token" }, 400);
        subject.retired = true;
        return json(issue(shop, true));
      }
      // A session token from App Bridge (the merchant opened the app): a fresh pair.
      return json(issue(shop, String(body.expiring) === "1"));
    }
    return json({ error: "unsupported_grant_type" }, 400);
  };

  const graphqlEndpoint = async (shop: string, headers: Headers, init?: RequestInit): Promise<Response> => {
    if (!liveAccess(headers.get("x-shopify-access-token"), shop)) {
      graphqlRequests.push({ shop, status: 401 });
      return json(INVALID_TOKEN, 401);
    }
    graphqlRequests.push({ shop, status: 200 });
    const { query, variables } = JSON.parse(String(init?.body ?? "{}")) as {
      query: string;
      variables?: Record<string, unknown>;
    };
    const handler = handlers.get(shop);
    if (!handler) return json({ errors: [{ message: `no handler for ${shop}` }] });
    return json(await handler(query, variables ?? {}));
  };

  const standInFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : undefined;
    const url = new URL(request ? request.url : String(input));
    if (!url.hostname.endsWith(".myshopify.com")) {
      if (options.passThrough) return options.passThrough(input, init);
      throw new Error(`the Admin stand-in does not reach ${url.hostname}`);
    }
    const headers = new Headers(init?.headers ?? request?.headers);
    const body = init?.body ?? (request ? await request.text() : undefined);
    if (url.pathname === "/admin/oauth/access_token") return tokenEndpoint(url.hostname, { ...init, body });
    if (/^\/admin\/api\/[^/]+\/graphql\.json$/.test(url.pathname))
      return graphqlEndpoint(url.hostname, headers, { ...init, body });
    return json({ errors: "Not Found" }, 404);
  }) as typeof fetch;

  return {
    fetch: standInFetch,
    issue: (shop, o) => issue(shop, o?.expiring ?? true),
    handle: (shop, handler) => void handlers.set(shop, handler),
    advance: (ms) => void (offsetMs += ms),
    revoke(shop, how) {
      for (const t of access.values()) if (t.shop === shop) t.retired = true;
      for (const t of refresh.values()) if (t.shop === shop) t.used = true;
      if (how === "uninstalled") revoked.set(shop, how);
    },
    tokenRequests,
    graphqlRequests,
  };
}
