// README promises that web processes and workers may start at once on a fresh database: each
// process runs the migrations on start, and only the advisory lock keeps them from colliding.
import { spawn } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createEmptyDatabase, type EmptyDatabase } from "../../test/support/services";

const ROOT = path.resolve(__dirname, "../..");
const PROCESSES = 4;
const created: EmptyDatabase[] = [];

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
  for (const empty of created) await empty.drop();
});

describe("migrations", () => {
  it(`${PROCESSES} processes starting on one fresh database all succeed, and each migration is applied once`, async () => {
    // Several fresh databases, since a race shows only some of the time.
    for (let trial = 0; trial < 3; trial++) {
      const empty = await createEmptyDatabase("capi_m");
      created.push(empty);
      const results = await Promise.all(Array.from({ length: PROCESSES }, () => startProcess(empty.url)));
      for (const result of results) expect(result.code, result.stderr).toBe(0);

      const client = new pg.Client({ connectionString: empty.url });
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
