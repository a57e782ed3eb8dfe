// The process's one database, opened from the environment on first use.
import { env } from "../config/env.server";
import { createDatabase, type Database } from "./client.server";

declare global {
  // Remix dev reloads modules; the database must survive reloads.
  var __capiDatabase: Database | undefined;
}

export function database(): Database {
  globalThis.__capiDatabase ??= createDatabase({ databaseUrl: env().DATABASE_URL, dataDir: env().DATA_DIR });
  return globalThis.__capiDatabase;
}
