// README promises that web processes and workers may start at once on a fresh database: each
// process runs the migrations on start, and only the advisory lock keeps them from colliding.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createEmptyDatabase, type EmptyDatabase } from "../../test/support/services";
import { migrate } from "./migrate.server";

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
        const rows = (
          await client.query<{ name: string; n: string }>(
            `SELECT "name", count(*) AS n FROM "_capi_migrations" GROUP BY "name"`,
          )
        ).rows;
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) expect(Number(row.n), row.name).toBe(1);
      } finally {
        await client.end();
      }
    }
  }, 120_000);
});

describe("the lifecycle vocabulary migration (20261215000000_lifecycle_vocabulary)", () => {
  it("renames the words stored before it: events never sent and refused by our check become invalid, receipts skipped and rejected become held_back and invalid", async () => {
    const empty = await createEmptyDatabase("capi_m");
    created.push(empty);
    const client = new pg.Client({ connectionString: empty.url });
    await client.connect();
    const exec = async (sql: string) => void (await client.query(sql));
    const applied = async () =>
      (await client.query<{ name: string }>(`SELECT "name" FROM "_capi_migrations"`)).rows.map((r) => r.name);
    // The database as the release before it left it: every earlier migration applied.
    const all = path.join(ROOT, "prisma", "migrations");
    const before = mkdtempSync(path.join(tmpdir(), "capi-migrations-"));
    for (const name of readdirSync(all).filter((n) => n < "20261215000000_lifecycle_vocabulary"))
      cpSync(path.join(all, name), path.join(before, name), { recursive: true });
    try {
      await migrate(exec, async () => [], before);
      const event = async (eventId: string, state: string, attempts: number) =>
        (
          await client.query<{ id: string }>(
            `INSERT INTO "Event" ("shop", "eventName", "eventId", "topic", "state", "eventTime", "attempts", "updatedAt")
             VALUES ('m.myshopify.com', 'Purchase', $1, 'orders/create', $2, now(), $3, now()) RETURNING "id"::text AS "id"`,
            [eventId, state, attempts],
          )
        ).rows[0]!.id;
      const atIngest = await event("built-invalid", "rejected", 0);
      const byMeta = await event("meta-refused", "rejected", 1);
      await event("too-old", "expired", 0);
      await client.query(
        `INSERT INTO "EventTransition" ("eventPk", "state", "detail") VALUES ($1, 'rejected', 'a website event needs client_user_agent'),
           ($2, 'queued', 'from orders/create'), ($2, 'sending', NULL), ($2, 'rejected', 'Meta error 100')`,
        [atIngest, byMeta],
      );
      for (const [key, outcome] of [
        ["r1", "skipped"],
        ["r2", "rejected"],
        ["r3", "queued"],
        ["r4", "refused"],
      ]) {
        await client.query(
          `INSERT INTO "WebhookReceipt" ("shop", "topic", "webhookId", "dedupeKey", "outcome") VALUES ('m.myshopify.com', 'orders/create', $1, $1, $2)`,
          [key, outcome],
        );
      }

      expect(await migrate(exec, applied)).toContain("20261215000000_lifecycle_vocabulary");

      const states = (
        await client.query<{ eventId: string; state: string }>(
          `SELECT "eventId", "state" FROM "Event" ORDER BY "eventId"`,
        )
      ).rows;
      expect(states).toEqual([
        { eventId: "built-invalid", state: "invalid" },
        { eventId: "meta-refused", state: "rejected" },
        { eventId: "too-old", state: "expired" },
      ]);
      const history = (
        await client.query<{ eventPk: string; state: string }>(
          `SELECT "eventPk"::text AS "eventPk", "state" FROM "EventTransition" ORDER BY "id"`,
        )
      ).rows;
      expect(history).toEqual([
        { eventPk: atIngest, state: "invalid" },
        { eventPk: byMeta, state: "queued" },
        { eventPk: byMeta, state: "sending" },
        { eventPk: byMeta, state: "rejected" },
      ]);
      const outcomes = (
        await client.query<{ dedupeKey: string; outcome: string }>(
          `SELECT "dedupeKey", "outcome" FROM "WebhookReceipt" ORDER BY "dedupeKey"`,
        )
      ).rows;
      expect(outcomes.map((r) => r.outcome)).toEqual(["held_back", "invalid", "queued", "refused"]);
    } finally {
      rmSync(before, { recursive: true, force: true });
      await client.end();
    }
  });
});

describe("the browser events migration (20261231600000_browser_events)", () => {
  it("has every shop whose web pixel is on synced again, so the pixel gets its new report setting", async () => {
    const empty = await createEmptyDatabase("capi_m");
    created.push(empty);
    const client = new pg.Client({ connectionString: empty.url });
    await client.connect();
    const exec = async (sql: string) => void (await client.query(sql));
    const applied = async () =>
      (await client.query<{ name: string }>(`SELECT "name" FROM "_capi_migrations"`)).rows.map((r) => r.name);
    const all = path.join(ROOT, "prisma", "migrations");
    const before = mkdtempSync(path.join(tmpdir(), "capi-migrations-"));
    for (const name of readdirSync(all).filter((n) => n < "20261231600000_browser_events"))
      cpSync(path.join(all, name), path.join(before, name), { recursive: true });
    try {
      await migrate(exec, async () => [], before);
      await client.query(
        `INSERT INTO "Shop" ("shop", "webPixelStatus", "webPixelSyncedAt", "updatedAt") VALUES
           ('on.myshopify.com', 'active', now(), now()), ('failed.myshopify.com', 'failed', now(), now())`,
      );
      expect(await migrate(exec, applied)).toContain("20261231600000_browser_events");
      const rows = (
        await client.query<{ shop: string; synced: boolean }>(
          `SELECT "shop", "webPixelSyncedAt" IS NOT NULL AS "synced" FROM "Shop" ORDER BY "shop"`,
        )
      ).rows;
      // The active one syncs on its next page load (webPixelNeedsSync); a failed one keeps its retry time.
      expect(rows).toEqual([
        { shop: "failed.myshopify.com", synced: true },
        { shop: "on.myshopify.com", synced: false },
      ]);
      const { webPixelNeedsSync } = await import("../shopify/web-pixel");
      expect(
        webPixelNeedsSync(
          { webPixelStatus: "active", webPixelPixelId: "123456", webPixelSyncedAt: null, uninstalledAt: null },
          "123456",
          new Date(),
        ),
      ).toBe(true);
    } finally {
      rmSync(before, { recursive: true, force: true });
      await client.end();
    }
  });
});
