// Per-statement limits of each process kind, against this machine's PostgreSQL: a wait on a
// lock, a long statement or a busy pool becomes an error soon enough for a webhook to answer
// 503, and that error reads as transient; migrations run free of any limit.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createEmptyDatabase,
  createTestDatabase,
  type EmptyDatabase,
  type TestDatabase,
} from "../../test/support/services";
import {
  createDatabase,
  isTransientDatabaseError,
  WEB_DATABASE_LIMITS,
  WORKER_DATABASE_LIMITS,
  type Database,
} from "./client.server";

let base: TestDatabase;
let web: Database;
const created: EmptyDatabase[] = [];

/** The error a promise rejects with, and how long it took. */
async function failure(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await work;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error("expected a failure");
}

beforeAll(async () => {
  base = await createTestDatabase(); // migrated, no limits
  web = createDatabase({ databaseUrl: base.url, poolSize: 2, limits: WEB_DATABASE_LIMITS });
  await web.ready;
});
afterAll(async () => {
  await web?.close();
  await base?.drop();
  for (const empty of created) await empty.drop();
});

describe("web limits", () => {
  it("a lock held elsewhere fails the statement after 1 s, through the driver and through Prisma", async () => {
    const locker = new pg.Client({ connectionString: base.url });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query('LOCK TABLE "Event" IN ACCESS EXCLUSIVE MODE');
    try {
      for (const work of [web.sql('SELECT COUNT(*) FROM "Event"', []), web.prisma.event.count()]) {
        const { error, ms } = await failure(work);
        expect(String((error as Error).message)).toMatch(/lock timeout/);
        expect(isTransientDatabaseError(error)).toBe(true);
        expect(ms).toBeGreaterThanOrEqual(900);
        expect(ms).toBeLessThan(2_000);
      }
    } finally {
      await locker.query("ROLLBACK");
      await locker.end();
    }
  });

  it("a statement longer than 3 s is cancelled", async () => {
    const { error, ms } = await failure(web.sql("SELECT pg_sleep(10)", []));
    expect(String((error as Error).message)).toMatch(/statement timeout/);
    expect(isTransientDatabaseError(error)).toBe(true);
    expect(ms).toBeLessThan(4_000);
  });

  it("a busy pool fails the wait for a connection after 1.5 s", async () => {
    const busy = [web.sql("SELECT pg_sleep(2.5)", []), web.sql("SELECT pg_sleep(2.5)", [])]; // both connections
    const { error, ms } = await failure(web.prisma.event.count());
    expect(isTransientDatabaseError(error)).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(1_400);
    expect(ms).toBeLessThan(2_400);
    await Promise.all(busy);
  });

  it("an error of the statement itself is not transient", async () => {
    // Started one at a time: a query started early would reject before anything awaits it.
    for (const work of [
      () => web.sql("SELECT 1/0", []),
      () => web.prisma.$queryRawUnsafe("SELECT 1/0"),
      () => web.sql("SELECT $1::int", ["x"]),
    ]) {
      expect(isTransientDatabaseError((await failure(work())).error)).toBe(false);
    }
  });
});

describe("each process kind", () => {
  it("gets its own limits on every pooled connection", async () => {
    const worker = createDatabase({ databaseUrl: base.url, poolSize: 1, limits: WORKER_DATABASE_LIMITS });
    try {
      const show = async (db: Database) =>
        (
          await db.sql<{ s: string; l: string }>(
            "SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l",
            [],
          )
        )[0];
      expect(await show(web)).toEqual({ s: "3s", l: "1s" });
      expect(await show(worker)).toEqual({ s: "20s", l: "5s" });
    } finally {
      await worker.close();
    }
  });

  it("migrations run free of the limits (a 1 ms statement limit would fail every one of them)", async () => {
    const empty = await createEmptyDatabase("capi_l");
    created.push(empty);
    const url = empty.url;
    const strict = createDatabase({
      databaseUrl: url.toString(),
      poolSize: 1,
      limits: { acquireMs: 5_000, lockMs: 1, statementMs: 1 },
    });
    try {
      await strict.ready;
      const check = new pg.Client({ connectionString: url.toString() });
      await check.connect();
      const applied = (await check.query('SELECT COUNT(*)::int AS n FROM "_capi_migrations"')).rows[0].n;
      await check.end();
      expect(applied).toBeGreaterThanOrEqual(4);
      // While the pool's own connections do carry the 1 ms limit.
      const { error } = await failure(strict.sql("SELECT pg_sleep(0.05)", []));
      expect(String((error as Error).message)).toMatch(/statement timeout/);
    } finally {
      await strict.close();
    }
  });
});
