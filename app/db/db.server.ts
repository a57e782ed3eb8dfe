// The process's one database, opened from the environment on first use.
import { env } from "../config/env.server";
import { createDatabase, WEB_DATABASE_LIMITS, WORKER_DATABASE_LIMITS, type Database } from "./client.server";

declare global {
  // Remix dev reloads modules; the database must survive reloads.
  var __capiDatabase: Database | undefined;
}

/**
 * `kind` picks the statement limits (see client.server.ts): the worker process asks for
 * "worker"; everything else is the web tier. The first call opens the database, so a process
 * running both (the embedded database, RUN_WORKER=1) keeps the web limits.
 */
export function database(kind: "web" | "worker" = "web"): Database {
  globalThis.__capiDatabase ??= createDatabase({
    databaseUrl: env().DATABASE_URL,
    dataDir: env().DATA_DIR,
    limits: kind === "worker" ? WORKER_DATABASE_LIMITS : WEB_DATABASE_LIMITS,
  });
  return globalThis.__capiDatabase;
}
