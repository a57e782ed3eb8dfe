// `npm run worker`: one delivery worker process. Run as many as the load needs, on any
// machine that reaches the same PostgreSQL and Redis.
import { ConfigError, env } from "../app/config/env.server";
import { closeProcessClients, database } from "../app/process-clients.server";
import { startWorker, type RunningWorker } from "../app/pipeline/worker.server";
import type { OfflineAccessDeps } from "../app/shopify/offline-token.server";
import { checkRedis } from "./services";

export async function startWorkerProcess(): Promise<RunningWorker> {
  const settings = env();
  // The worker's statement limits, unless this process opened the database as a web server first.
  const db = database("worker");
  await db.ready;
  await checkRedis(settings.REDIS_URL);
  return startWorker({
    prisma: db.prisma,
    sql: db.sql,
    redisUrl: settings.REDIS_URL,
    graphUrl: settings.META_GRAPH_URL,
    appSecret: settings.META_APP_SECRET,
    concurrency: settings.WORKER_CONCURRENCY,
    leaseMs: settings.WORKER_LEASE_MS,
    queuePrefix: settings.QUEUE_PREFIX,
    retentionDays: settings.RETENTION_DAYS,
    log: (line) => console.log(`worker: ${line}`),
    datasetQuality: { everyMs: 5 * 60_000 },
    reconcile: {
      everyMs: 15 * 60_000,
      async graphqlFor(shop) {
        // Loaded lazily: the worker needs Shopify's library only for this. Expiring tokens
        // are renewed there, one worker at a time per shop; a shop whose renewal Shopify
        // refused is skipped (undefined) until its merchant opens the app.
        const { offlineAdminGraphql } = await import("../app/shopify/offline-token.server");
        return offlineAdminGraphql({ ...(await offlineAccessDeps()), prisma: db.prisma }, shop);
      },
    },
  });
}

let grants: Promise<Omit<OfflineAccessDeps, "prisma">> | undefined;
/** Shopify's library for background token renewals, from the app's settings (once per process). */
export function offlineAccessDeps(): Promise<Omit<OfflineAccessDeps, "prisma">> {
  grants ??= (async () => {
    const settings = env();
    const { libraryGrants, offlineShopifyApi } = await import("../app/shopify/offline-grants.server");
    const { apiVersion } = await import("../app/shopify.server");
    const { vaultKeys } = await import("../app/security/vault-key.server");
    const api = offlineShopifyApi({
      apiKey: settings.SHOPIFY_API_KEY,
      apiSecretKey: settings.SHOPIFY_API_SECRET,
      appUrl: settings.SHOPIFY_APP_URL,
      scopes: settings.SCOPES.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      apiVersion,
    });
    return { grants: libraryGrants(api), keys: vaultKeys, log: (line: string) => console.log(`worker: ${line}`) };
  })();
  return grants;
}

export function exitOnStartupError(error: unknown): never {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  console.error(`capi-relay: ${message}`);
  process.exit(1);
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("server/worker.ts");
if (isMain) {
  try {
    const worker = await startWorkerProcess();
    console.log(`CAPI Relay worker started (Meta at ${env().META_GRAPH_URL})`);
    const stop = async () => {
      await worker.close();
      await closeProcessClients();
      process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  } catch (error) {
    exitOnStartupError(error);
  }
}
