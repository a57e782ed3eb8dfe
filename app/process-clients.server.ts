// The clients a process keeps for its whole life: the database, the delivery queue on Redis
// and the webhook write batcher. Each is made from the environment on first use, and
// closeProcessClients() closes whichever were made (shutdown, the end of a test file).
import { env } from "./config/env.server";
import { createDatabase, WEB_DATABASE_LIMITS, WORKER_DATABASE_LIMITS, type Database } from "./db/client.server";
import { WriteBatcher } from "./pipeline/ingest-batcher.server";
import { createDeliveryQueue, redisConnection, type DeliveryQueue } from "./pipeline/queue.server";
import type { Redis } from "ioredis";

interface ProcessClients {
  database?: Database;
  queue?: DeliveryQueue;
  batcher?: WriteBatcher;
  redis?: Redis;
}

declare global {
  // Remix dev reloads modules, and the server build is a module graph of its own beside
  // server/ and the demo that load it: one slot per process, so that all of them find the
  // same clients.
  var __capiProcessClients: ProcessClients | undefined;
}

function clients(): ProcessClients {
  return (globalThis.__capiProcessClients ??= {});
}

/**
 * `kind` picks the statement limits (see db/client.server.ts): the worker process asks for
 * "worker"; everything else is the web tier. The first call opens the database, so a process
 * running both (the embedded database, RUN_WORKER=1) keeps the web limits.
 */
export function database(kind: "web" | "worker" = "web"): Database {
  return (clients().database ??= createDatabase({
    databaseUrl: env().DATABASE_URL,
    dataDir: env().DATA_DIR,
    limits: kind === "worker" ? WORKER_DATABASE_LIMITS : WEB_DATABASE_LIMITS,
  }));
}

/** Where the web tier announces due work. */
export function deliveryQueue(): DeliveryQueue {
  return (clients().queue ??= createDeliveryQueue(env().REDIS_URL, env().QUEUE_PREFIX));
}

/** The group commit of the webhooks this process answers (pipeline/ingest-batcher.server.ts). */
export function ingestBatcher(): WriteBatcher {
  return (clients().batcher ??= new WriteBatcher(database().sql));
}

/** Plain Redis commands of the web tier (the storefront reports' rate limit). */
export function redis(): Redis {
  if (clients().redis) return clients().redis!;
  // One retry, then the command fails: a report is answered 503, never held.
  const connection = redisConnection(env().REDIS_URL, { maxRetriesPerRequest: 1 });
  connection.on("error", () => undefined);
  return (clients().redis = connection);
}

/** Closes what was opened; the next use opens anew. */
export async function closeProcessClients(): Promise<void> {
  const open = globalThis.__capiProcessClients;
  globalThis.__capiProcessClients = undefined;
  await open?.queue?.close();
  open?.redis?.disconnect();
  await open?.database?.close();
}
