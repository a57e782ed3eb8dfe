// The Admin API stand-in answers as Shopify's token endpoint and Admin GraphQL do, for the
// cases the offline-token tests rely on.
import { describe, expect, it } from "vitest";
import { ACCESS_TOKEN_SECONDS, adminStandIn, REFRESH_TOKEN_SECONDS } from "./shopify-admin";

const API_KEY = "stand-in-key";
const API_SECRET = "stand-in-secret";
const SHOP = "stand-in.myshopify.com";
const HOUR = 3600_000;

const tokenRequest = (api: ReturnType<typeof adminStandIn>, body: Record<string, string>, shop = SHOP) =>
  api.fetch(`https://${shop}/admin/oauth/access_token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_id: API_KEY, client_secret: API_SECRET, ...body }),
  });
const refresh = (api: ReturnType<typeof adminStandIn>, refreshToken: string) =>
  tokenRequest(api, { grant_type: "refresh_token", refresh_token: refreshToken });
const graphql = (api: ReturnType<typeof adminStandIn>, token: string, shop = SHOP) =>
  api.fetch(`https://${shop}/admin/api/2026-10/graphql.json`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-shopify-access-token": token },
    body: JSON.stringify({ query: "{ shop { name } }" }),
  });

const standIn = () => {
  const api = adminStandIn({ apiKey: API_KEY, apiSecret: API_SECRET });
  api.handle(SHOP, () => ({ data: { shop: { name: "Stand-in" } } }));
  return api;
};

describe("the Admin API stand-in", () => {
  it("issues 60-minute tokens with 90-day refresh tokens; a refresh gives a new pair and spends the old refresh token", async () => {
    const api = standIn();
    const pair = api.issue(SHOP);
    expect(pair).toMatchObject({ expires_in: ACCESS_TOKEN_SECONDS, refresh_token_expires_in: REFRESH_TOKEN_SECONDS });
    const renewed = await refresh(api, pair.refresh_token!);
    expect(renewed.status).toBe(200);
    const body = await renewed.json();
    expect(body.access_token).not.toBe(pair.access_token);
    expect(body.refresh_token).not.toBe(pair.refresh_token);
    const again = await refresh(api, pair.refresh_token!);
    expect([again.status, (await again.json()).error]).toEqual([400, "invalid_grant"]);
  });

  it("answers 401 to an access token past its hour, and to another shop's token", async () => {
    const api = standIn();
    const { access_token } = api.issue(SHOP);
    expect((await graphql(api, access_token)).status).toBe(200);
    expect((await graphql(api, access_token, "elsewhere.myshopify.com")).status).toBe(401);
    api.advance(HOUR + 1000);
    expect((await graphql(api, access_token)).status).toBe(401);
    expect(api.graphqlRequests.map((r) => r.status)).toEqual([200, 401, 401]);
  });

  it("refuses a revoked refresh token (400 invalid_grant) and everything after an uninstall (401)", async () => {
    const revoked = standIn();
    const pair = revoked.issue(SHOP);
    revoked.revoke(SHOP, "revoked");
    expect((await refresh(revoked, pair.refresh_token!)).status).toBe(400);
    expect((await graphql(revoked, pair.access_token)).status).toBe(401);

    const gone = standIn();
    const other = gone.issue(SHOP);
    gone.revoke(SHOP, "uninstalled");
    expect((await refresh(gone, other.refresh_token!)).status).toBe(401);
  });

  it("trades a live non-expiring token once for an expiring pair, retiring it", async () => {
    const api = standIn();
    const { access_token } = api.issue(SHOP, { expiring: false });
    const trade = () =>
      tokenRequest(api, {
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: access_token,
        subject_token_type: "urn:shopify:params:oauth:token-type:offline-access-token",
        requested_token_type: "urn:shopify:params:oauth:token-type:offline-access-token",
        expiring: "1",
      });
    const first = await trade();
    expect((await first.json()).expires_in).toBe(ACCESS_TOKEN_SECONDS);
    expect((await graphql(api, access_token)).status).toBe(401);
    expect((await trade()).status).toBe(400);
  });

  it("refuses a wrong client secret", async () => {
    const api = standIn();
    const pair = api.issue(SHOP);
    const response = await tokenRequest(api, {
      grant_type: "refresh_token",
      refresh_token: pair.refresh_token!,
      client_secret: "wrong",
    });
    expect([response.status, (await response.json()).error]).toEqual([401, "invalid_client"]);
  });
});
