// README promises that web processes and workers may start at once on a fresh database: each
// process runs the migrations on start, and only the advisory lock keeps them from colliding.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ADMIN_DATABASE_URL } from "../../test/support/services";

const ROOT = path.resolve(__dirname, "../..");
const PROCESSES = 4;
const created: string[] = [];

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** One process that opens the database (which migrates it) and exits: 0 on success. */
function startProcess(databaseUrl: string): Promise<{ code: number | null; stderr: string }> {
  const script = `const { createDatabase } = await import(${JSON.stringify(path.join(ROOT, "app/db/client.server.ts"))});
const db = createDatabase({ databaseUrl: process.env.MIGRATE_URL, poolSize: 2 });
try { await db.ready; } finally { await db.close(); }`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      env: { ...process.env, MIGRATE_URL: databaseUrl },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

afterAll(async () => {
  await admin(async (client) => {
    for (const name of created) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
});

describe("migrations", () => {
  it(`${PROCESSES} processes starting on one fresh database all succeed, and each migration is applied once`, async () => {
    // Several fresh databases, since a race shows only some of the time.
    for (let trial = 0; trial < 3; trial++) {
      const name = `capi_m_${randomBytes(6).toString("hex")}`;
      created.push(name);
      await admin((client) => client.query(`CREATE DATABASE "${name}"`));
      const url = new URL(ADMIN_DATABASE_URL);
      url.pathname = `/${name}`;
      const results = await Promise.all(Array.from({ length: PROCESSES }, () => startProcess(url.toString())));
      for (const result of results) expect(result.code, result.stderr).toBe(0);

      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        const rows = (await client.query<{ name: string; n: string }>(`SELECT "name", count(*) AS n FROM "_capi_migrations" GROUP BY "name"`)).rows;
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) expect(Number(row.n), row.name).toBe(1);
      } finally {
        await client.end();
      }
    }
  }, 120_000);
});
