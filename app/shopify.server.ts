// The Shopify side of the app: authentication of admin pages (token exchange, embedded),
// webhooks, and the session table. Webhook subscriptions are declared in shopify.app.toml and
// kept in sync by `shopify app deploy`; nothing here registers them, so no shop ever receives
// a delivery twice from an API-made duplicate. The afterAuth hook only records the install.
import "@shopify/shopify-app-remix/adapters/node";
import { AppDistribution, BillingInterval, shopifyApp } from "@shopify/shopify-app-remix/server";
import { PAID_PLANS, TRIAL_DAYS } from "./billing/plans";
import { env } from "./config/env.server";
import { database } from "./process-clients.server";
import { handleInstalled } from "./pipeline/privacy.server";
import { vaultKeys } from "./security/vault-key.server";
import { SHOPIFY_API_VERSION } from "./shopify/api-version";
import { MigratedSessionStorage } from "./shopify/session-storage.server";

const settings = env();

/** The Admin API version of this app (./shopify/api-version.ts); shopify.app.toml's webhooks name the same. */
export const apiVersion = SHOPIFY_API_VERSION;

const shopify = shopifyApp({
  apiKey: settings.SHOPIFY_API_KEY,
  apiSecretKey: settings.SHOPIFY_API_SECRET,
  appUrl: settings.SHOPIFY_APP_URL,
  scopes: settings.SCOPES.split(",")
    .map((s) => s.trim())
    .filter(Boolean),
  apiVersion,
  authPathPrefix: "/auth",
  distribution: AppDistribution.AppStore,
  isEmbeddedApp: true,
  // The Billing API's plans (app/billing/plans.ts): one subscription per plan, priced every 30
  // days in USD, with the trial; app/routes/app.billing.tsx asks for them and cancels them.
  billing: Object.fromEntries(
    PAID_PLANS.map((plan) => [
      plan.name,
      {
        trialDays: TRIAL_DAYS,
        lineItems: [{ amount: plan.priceUsd, currencyCode: "USD", interval: BillingInterval.Every30Days as const }],
      },
    ]),
  ),
  // Offline tokens are sealed in the Session table (app/shopify/session-storage.server.ts).
  sessionStorage: new MigratedSessionStorage(database(), vaultKeys),
  hooks: {
    // Runs when token exchange stores a new offline token: at install, at a reinstall (the
    // uninstall deleted the sessions), or when the stored session was lost. Each means the app
    // is installed now: the Shop row says so (webhooks of shops that never installed are
    // refused) and what an uninstall paused resumes. Idempotent.
    afterAuth: async ({ session }) => {
      const db = database();
      await db.ready;
      await handleInstalled(db.prisma, session.shop);
    },
  },
  future: {
    // Token exchange: Shopify installs the app from the TOML's scopes, and admin pages trade
    // the App Bridge session token for an access token; no OAuth redirects inside the iframe.
    unstable_newEmbeddedAuthStrategy: true,
    // Offline tokens expire after 60 minutes and come with a refresh token (required of public
    // apps from 1 January 2027). Admin pages get a new pair by token exchange; background work
    // renews through app/shopify/offline-token.server.ts, the library never by itself (the
    // session storage hides refresh tokens from it: see asTheLibrarySees).
    expiringOfflineAccessTokens: true,
  },
});

export default shopify;
export const authenticate = shopify.authenticate;
export const unauthenticated = shopify.unauthenticated;
export const login = shopify.login;
export const sessionStorage = shopify.sessionStorage;
export const addDocumentResponseHeaders = shopify.addDocumentResponseHeaders;
