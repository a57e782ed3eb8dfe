// Opens the database: PostgreSQL when DATABASE_URL is set, else an embedded PGlite under
// ./data so that the app runs on a fresh machine. The client exists at once (Shopify's session
// storage wants one synchronously); `ready` resolves when migrations have run. PGlite is
// single-process: web and worker then share one process, and `close()` must run on shutdown.
import path from "node:path";
import { mkdirSync } from "node:fs";
import { PrismaClient } from "@prisma/client";
import { PrismaPg } from "@prisma/adapter-pg";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import pg from "pg";
import { migrate } from "./migrate.server";

export interface Database {
  prisma: PrismaClient;
  kind: "postgres" | "pglite";
  /** Resolves once the schema is migrated; every user awaits it before the first query. */
  ready: Promise<void>;
  /**
   * Plain SQL on the same connections, past Prisma's query compiler, for the statement every
   * webhook burst runs: compiling a statement that carries hundreds of event payloads cost
   * more CPU than running it. Placeholders are $1, $2, …
   */
  sql: SqlRunner;
  close(): Promise<void>;
}

export type SqlRunner = <T>(text: string, params: unknown[]) => Promise<T[]>;

/** The same channel through Prisma, for callers that hold only a client (tests, the CLI). */
export function prismaSql(prisma: PrismaClient): SqlRunner {
  return (text, params) => prisma.$queryRawUnsafe(text, ...params);
}

/**
 * How long one statement may wait (PostgreSQL only). A process that waits without bound on a
 * lock or a busy pool answers nobody: these turn the wait into an error the caller can
 * report (a webhook answers 503 and Shopify delivers it again).
 */
export interface DatabaseLimits {
  /** Waiting for a pooled connection, or for a new one to open (pg's connectionTimeoutMillis). */
  acquireMs: number;
  /** PostgreSQL lock_timeout: waiting for a row or table lock. */
  lockMs: number;
  /** PostgreSQL statement_timeout: the whole statement, waits included. */
  statementMs: number;
}

/**
 * Web processes: Shopify waits 5 s for a webhook's answer. A lock held elsewhere fails the
 * write after 1 s and a busy pool after 1.5 s, so the 503 reaches Shopify in time; no webhook
 * statement comes near 3 s unless something is wrong.
 */
export const WEB_DATABASE_LIMITS: DatabaseLimits = { acquireMs: 1_500, lockMs: 1_000, statementMs: 3_000 };

/**
 * Workers answer nobody in real time, but a claimed batch must be finished (or failed) well
 * inside its 60 s lease; a batch's statements carry up to 1,000 rows.
 */
export const WORKER_DATABASE_LIMITS: DatabaseLimits = { acquireMs: 10_000, lockMs: 5_000, statementMs: 20_000 };

export interface DatabaseOptions {
  databaseUrl?: string;
  /** Folder of the embedded database when no URL is given. */
  dataDir?: string;
  /** Connections per process (PostgreSQL only). */
  poolSize?: number;
  /** Per-statement limits of this process's kind (PostgreSQL only); none when absent. Migrations never have any. */
  limits?: DatabaseLimits;
}

/** SQLSTATEs of a statement that failed because of the moment, not of what it does: the same statement later may pass. */
const TRANSIENT_SQLSTATES = new Set([
  "55P03", // lock_not_available: lock_timeout
  "57014", // query_canceled: statement_timeout
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "53300", // too_many_connections
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, recovering)
]);
const TRANSIENT_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|connection timeout|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/i;

/**
 * True when a database error says "not now" (a lock or statement timeout, a busy pool, the
 * server away or restarting): retrying later may succeed, so a webhook answers 503. Driver
 * errors come bare (db.sql) or wrapped by Prisma's adapter.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  type Shape = {
    code?: unknown;
    originalCode?: unknown;
    message?: unknown;
    cause?: unknown;
    meta?: { driverAdapterError?: { cause?: unknown } };
  };
  // Prisma nests the driver's error under meta.driverAdapterError.cause, or under cause.
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length && seen < 8; seen++) {
    const e = pending.shift() as Shape | null | undefined;
    if (!e || typeof e !== "object") continue;
    for (const code of [e.code, e.originalCode]) {
      if (typeof code === "string" && (TRANSIENT_SQLSTATES.has(code) || code.startsWith("08"))) return true;
    }
    if (typeof e.message === "string" && TRANSIENT_MESSAGES.test(e.message)) return true;
    pending.push(e.cause, e.meta?.driverAdapterError?.cause);
  }
  return false;
}

type Adapter = NonNullable<ConstructorParameters<typeof PrismaClient>[0]> extends { adapter?: infer A } ? A : never;

export function createDatabase(options: DatabaseOptions = {}): Database {
  if (options.databaseUrl) {
    const limits = options.limits;
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // Sent as connection parameters: every connection of the pool carries them, Prisma's too.
      ...(limits && {
        connectionTimeoutMillis: limits.acquireMs,
        lock_timeout: limits.lockMs,
        statement_timeout: limits.statementMs,
      }),
    });
    // A dropped connection (PostgreSQL restarting) must not crash the process: the pool
    // replaces it on next use.
    pool.on("error", () => undefined);
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    const ready = (async () => {
      // On a connection of its own, outside the pool and its limits: a migration may hold a
      // table and rewrite it for longer than any webhook may wait, and several processes
      // starting at once queue on the migrations' advisory lock.
      const client = new pg.Client({ connectionString: options.databaseUrl });
      client.on("error", () => undefined); // a dropped connection fails the query under way
      try {
        await client.connect();
        await migrate(
          async (sql) => void (await client.query(sql)),
          async () =>
            (await client.query<{ name: string }>(`SELECT "name" FROM "_capi_migrations"`)).rows.map((r) => r.name),
        );
      } finally {
        await client.end().catch(() => undefined);
      }
    })();
    ready.catch(() => undefined);
    return {
      prisma,
      kind: "postgres",
      ready,
      sql: async <T>(text: string, params: unknown[]) => (await pool.query(text, params)).rows as T[],
      close: async () => {
        await prisma.$disconnect().catch(() => undefined);
        await pool.end().catch(() => undefined);
      },
    };
  }
  const dataDir = path.resolve(options.dataDir ?? "data", "pglite");
  mkdirSync(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir);
  // The adapter ships its own copy of Prisma's adapter types; they agree at run time.
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) as unknown as Adapter });
  const ready = migrate(
    async (sql) => void (await pglite.exec(sql)),
    async () => (await pglite.query<{ name: string }>(`SELECT "name" FROM "_capi_migrations"`)).rows.map((r) => r.name),
  ).then(() => undefined);
  ready.catch(() => undefined);
  return {
    prisma,
    kind: "pglite",
    ready,
    sql: async <T>(text: string, params: unknown[]) => (await pglite.query<T>(text, params)).rows,
    close: async () => {
      await prisma.$disconnect().catch(() => undefined);
      await pglite.close().catch(() => undefined);
    },
  };
}
