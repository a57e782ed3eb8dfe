// The Shopify side of the app: authentication of admin pages (token exchange, embedded),
// webhooks, and the session table. Webhook subscriptions are declared in shopify.app.toml and
// kept in sync by `shopify app deploy`; nothing here registers them (no afterAuth hook), so
// no shop ever receives a delivery twice from an API-made duplicate.
import "@shopify/shopify-app-remix/adapters/node";
import { ApiVersion, AppDistribution, shopifyApp } from "@shopify/shopify-app-remix/server";
import { PrismaSessionStorage, type PrismaSessionStorageInterface } from "@shopify/shopify-app-session-storage-prisma";
import type { PrismaClient } from "@prisma/client";
import type { Session } from "@shopify/shopify-api";
import { env } from "./config/env.server";
import { database } from "./db/db.server";
import type { Database } from "./db/client.server";

/**
 * Shopify's Prisma session storage, opened only once the schema is migrated. Constructed
 * early, PrismaSessionStorage probes the Session table at once and, on a fresh database,
 * logs errors and sleeps 5 s between probes while the migrations are still running.
 */
const SESSION_CACHE_MS = 5_000;

class MigratedSessionStorage implements PrismaSessionStorageInterface {
  private readonly storage: Promise<PrismaSessionStorage<PrismaClient>>;
  /**
   * Every webhook makes Shopify's library load the shop's offline session, and a Prisma query
   * costs milliseconds of CPU under the offline query compiler: during a burst the same
   * session is read thousands of times. Reads are cached briefly; this process's own writes
   * and deletes update the cache at once, another process's within SESSION_CACHE_MS.
   */
  private readonly cache = new Map<string, { session: Session | undefined; at: number }>();

  constructor(db: Database) {
    this.storage = db.ready.then(() => new PrismaSessionStorage(db.prisma));
    // Start-up reports a database that cannot be opened; this promise must not crash the process first.
    this.storage.catch(() => undefined);
  }

  async storeSession(session: Session): Promise<boolean> {
    this.cache.delete(session.id);
    return (await this.storage).storeSession(session);
  }
  async loadSession(id: string): Promise<Session | undefined> {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < SESSION_CACHE_MS) return hit.session;
    const session = await (await this.storage).loadSession(id);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, { session, at: Date.now() });
    return session;
  }
  async deleteSession(id: string): Promise<boolean> {
    this.cache.delete(id);
    return (await this.storage).deleteSession(id);
  }
  async deleteSessions(ids: string[]): Promise<boolean> {
    for (const id of ids) this.cache.delete(id);
    return (await this.storage).deleteSessions(ids);
  }
  async findSessionsByShop(shop: string): Promise<Session[]> {
    return (await this.storage).findSessionsByShop(shop);
  }
  async isReady(): Promise<boolean> {
    try {
      return await (await this.storage).isReady();
    } catch {
      return false;
    }
  }
}

const settings = env();

/** The Admin API version of this app; webhooks use the one in shopify.app.toml. */
export const apiVersion = ApiVersion.October26;

const shopify = shopifyApp({
  apiKey: settings.SHOPIFY_API_KEY,
  apiSecretKey: settings.SHOPIFY_API_SECRET,
  appUrl: settings.SHOPIFY_APP_URL,
  scopes: settings.SCOPES.split(",").map((s) => s.trim()).filter(Boolean),
  apiVersion,
  authPathPrefix: "/auth",
  distribution: AppDistribution.AppStore,
  isEmbeddedApp: true,
  sessionStorage: new MigratedSessionStorage(database()),
  future: {
    // Token exchange: Shopify installs the app from the TOML's scopes, and admin pages trade
    // the App Bridge session token for an access token; no OAuth redirects inside the iframe.
    unstable_newEmbeddedAuthStrategy: true,
  },
});

export default shopify;
export const authenticate = shopify.authenticate;
export const unauthenticated = shopify.unauthenticated;
export const login = shopify.login;
export const registerWebhooks = shopify.registerWebhooks;
export const sessionStorage = shopify.sessionStorage;
export const addDocumentResponseHeaders = shopify.addDocumentResponseHeaders;
