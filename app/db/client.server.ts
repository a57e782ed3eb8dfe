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

export interface DatabaseOptions {
  databaseUrl?: string;
  /** Folder of the embedded database when no URL is given. */
  dataDir?: string;
  /** Connections per process (PostgreSQL only). */
  poolSize?: number;
}

type Adapter = NonNullable<ConstructorParameters<typeof PrismaClient>[0]> extends { adapter?: infer A } ? A : never;

export function createDatabase(options: DatabaseOptions = {}): Database {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // A dropped connection (PostgreSQL restarting) must not crash the process: the pool
    // replaces it on next use.
    pool.on("error", () => undefined);
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    const ready = (async () => {
      const client = await pool.connect();
      try {
        await migrate(
          async (sql) => void (await client.query(sql)),
          async () => (await client.query<{ name: string }>(`SELECT "name" FROM "_capi_migrations"`)).rows.map((r) => r.name),
        );
      } finally {
        client.release();
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
