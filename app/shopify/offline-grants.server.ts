// Shopify's library, as background work uses it: the refresh grant, the one-time trade of a
// non-expiring token for an expiring pair, and Admin GraphQL with a given session. The Remix
// package keeps its API object to itself, so the worker builds one of its own from the same
// settings. Its failures come back in the shell's terms (app/shopify/offline-token.ts): a 401
// to a GraphQL call is an AccessTokenRejected, a grant that gave no token a GrantRefused.
// The adapter the Remix package itself loads: the Node one would replace, for the whole
// process, how the library reads requests, and the web routes' webhooks would fail validation.
import "@shopify/shopify-api/adapters/web-api";
import {
  GraphqlQueryError,
  HttpResponseError,
  LogSeverity,
  shopifyApi,
  type Session,
  type Shopify,
} from "@shopify/shopify-api";
import type { AdminGraphql } from "./admin-graphql";
import { AccessTokenRejected, GrantRefused } from "./offline-token";

export interface OfflineGrants {
  /** POST /admin/oauth/access_token, grant_type=refresh_token: a new pair. */
  refresh(shop: string, refreshToken: string): Promise<Session>;
  /** The token exchange that trades a non-expiring offline token for an expiring pair. */
  migrate(shop: string, accessToken: string): Promise<Session>;
  graphql(session: Session): AdminGraphql;
}

export interface ShopifyAppKeys {
  apiKey: string;
  apiSecretKey: string;
  appUrl: string;
  scopes: string[];
  apiVersion: string;
}

export function offlineShopifyApi(keys: ShopifyAppKeys): Shopify {
  const url = new URL(keys.appUrl);
  return shopifyApi({
    apiKey: keys.apiKey,
    apiSecretKey: keys.apiSecretKey,
    scopes: keys.scopes,
    hostName: url.host,
    hostScheme: url.protocol === "http:" ? "http" : "https",
    apiVersion: keys.apiVersion as Shopify["config"]["apiVersion"],
    isEmbeddedApp: true,
    logger: { level: LogSeverity.Warning },
    future: {},
    _logDisabledFutureFlags: false,
  });
}

function refused(error: unknown): GrantRefused {
  if (error instanceof HttpResponseError) {
    const body = (error.response.body ?? {}) as { error?: unknown; error_description?: unknown };
    const text = (v: unknown) => (typeof v === "string" ? v.slice(0, 200) : undefined);
    return new GrantRefused(
      { status: error.response.code, error: text(body.error), description: text(body.error_description) },
      error.message,
    );
  }
  return new GrantRefused({}, error instanceof Error ? error.message : String(error));
}

export function libraryGrants(api: Shopify): OfflineGrants {
  return {
    async refresh(shop, refreshToken) {
      try {
        return (await api.auth.refreshToken({ shop, refreshToken })).session;
      } catch (error) {
        throw refused(error);
      }
    },
    async migrate(shop, accessToken) {
      try {
        return (await api.auth.migrateToExpiringToken({ shop, nonExpiringOfflineAccessToken: accessToken })).session;
      } catch (error) {
        throw refused(error);
      }
    },
    graphql(session) {
      return async (query, variables) => {
        const client = new api.clients.Graphql({ session });
        try {
          const answer = await client.request(query, { variables });
          return { data: answer.data, extensions: answer.extensions };
        } catch (error) {
          // The shape Shopify sent, as adminGraphqlOf gives it: callers handle one shape.
          if (error instanceof GraphqlQueryError) {
            const errors = (error.body as { errors?: { graphQLErrors?: unknown } } | undefined)?.errors?.graphQLErrors;
            if (Array.isArray(errors) && errors.length > 0) return { errors };
          }
          if (error instanceof HttpResponseError && error.response.code === 401)
            throw new AccessTokenRejected(session.shop);
          throw error;
        }
      };
    },
  };
}
