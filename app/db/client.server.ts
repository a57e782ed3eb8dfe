// Opens the database: PostgreSQL when DATABASE_URL is set, else an embedded PGlite under
// ./data so that the app runs on a fresh machine. PGlite is single-process: web and worker
// must then share one process, and the database must be closed on shutdown.
import path from "node:path";
import { mkdir } from "node:fs/promises";
import { PrismaClient } from "@prisma/client";
import { migrate } from "./migrate.server";

export interface Database {
  prisma: PrismaClient;
  kind: "postgres" | "pglite";
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string;
  /** Folder of the embedded database when no URL is given. */
  dataDir?: string;
  /** Pool size per process (PostgreSQL only). */
  poolSize?: number;
}

export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  if (options.databaseUrl) {
    const { Pool } = await import("pg");
    const { PrismaPg } = await import("@prisma/adapter-pg");
    const pool = new Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // A dropped connection must not crash the process: the pool reconnects on next use.
    pool.on("error", () => undefined);
    const client = await pool.connect();
    try {
      await migrate(
        async (sql) => void (await client.query(sql)),
        async () => (await client.query<{ name: string }>(`SELECT "name" FROM "_capi_migrations"`)).rows.map((r) => r.name),
      );
    } finally {
      client.release();
    }
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    return {
      prisma,
      kind: "postgres",
      close: async () => {
        await prisma.$disconnect();
        await pool.end().catch(() => undefined);
      },
    };
  }
  const dataDir = path.resolve(options.dataDir ?? "data/pglite");
  await mkdir(dataDir, { recursive: true });
  const { PGlite } = await import("@electric-sql/pglite");
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  const pglite = new PGlite(dataDir);
  await migrate(
    async (sql) => void (await pglite.exec(sql)),
    async () => (await pglite.query<{ name: string }>(`SELECT "name" FROM "_capi_migrations"`)).rows.map((r) => r.name),
  );
  // The adapter ships its own copy of Prisma's adapter types; they agree at run time.
  const adapter = new PrismaPGlite(pglite) as unknown as ConstructorParameters<typeof PrismaClient>[0] extends infer O
    ? O extends { adapter?: infer A }
      ? A
      : never
    : never;
  const prisma = new PrismaClient({ adapter });
  return {
    prisma,
    kind: "pglite",
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
