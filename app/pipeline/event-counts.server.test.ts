// The EventCount rollup against the events it counts: after inserts (one by one and in bulk),
// state changes as the workers write them, payloads losing the buyer's IP and user agent,
// updates that change nothing counted, deletions and a truncate, every group of the rollup
// (folded or not) equals a GROUP BY over "Event", and a window with ragged ends sums to a plain
// count. Folding moves the changes without altering a count, also beside an open writer and
// another fold.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { CLIENT_DATA_REMOVED } from "../pipeline/client-data";
import { bitsOf, COUNTED_KEYS, foldEventCounts, sumEventCounts } from "./event-counts.server";

const A = "counts-a.myshopify.com";
const B = "counts-b.myshopify.com";
const HOUR = 3_600_000;
// Whole hours from the machine's clock, and minutes into them: windows start and end mid-hour.
const base = Math.floor(Date.now() / HOUR) * HOUR;
const at = (hoursAgo: number, minute = 0) => new Date(base - hoursAgo * HOUR + minute * 60_000);

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

/**
 * The rollup's groups (folded counts and pending changes, or with `folded` the folded counts
 * alone) and the events' own, both without the empty groups; the table without the key
 * columns is checked against the events here.
 */
async function bothSides(o: { folded?: boolean } = {}) {
  const columns = `"shop", "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys"`;
  const pending = o.folded ? "" : `UNION ALL SELECT ${columns}, "count" FROM "EventCountDelta"`;
  const rollup = await db.sql<Record<string, unknown>>(
    `SELECT ${columns}, sum("count")::int AS "count"
       FROM (SELECT ${columns}, "count" FROM "EventCount" ${pending}) c
      GROUP BY ${columns} HAVING sum("count") <> 0 ORDER BY ${columns}`,
    [],
  );
  // The table without the key columns holds the same counts, summed over them.
  const narrow = `"shop", "hour", "destinationId", "eventName", "state", "test"`;
  const states = await db.sql<Record<string, unknown>>(
    `SELECT ${narrow}, sum("count")::int AS "count"
       FROM (SELECT ${narrow}, "count" FROM "EventStateCount" ${pending.replace(columns, narrow)}) c
      GROUP BY ${narrow} HAVING sum("count") <> 0 ORDER BY ${narrow}`,
    [],
  );
  const eventStates = await db.sql<Record<string, unknown>>(
    `SELECT "shop", date_trunc('hour', "createdAt") AS "hour", "destinationId", "eventName", "state",
            "testEventCode" IS NOT NULL AS "test", count(*)::int AS "count"
       FROM "Event" GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`,
    [],
  );
  expect(states).toEqual(eventStates);
  const days = await db.sql<Record<string, unknown>>(
    `SELECT "shop", "day", ${narrow.replace(`"shop", "hour", `, "")}, sum("count")::int AS "count"
       FROM (SELECT "shop", "day", ${narrow.replace(`"shop", "hour", `, "")}, "count" FROM "EventDayCount"
             ${o.folded ? "" : `UNION ALL SELECT "shop", date_trunc('day', "hour"), ${narrow.replace(`"shop", "hour", `, "")}, "count" FROM "EventCountDelta"`}) c
      GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum("count") <> 0 ORDER BY 1, 2, 3, 4, 5, 6`,
    [],
  );
  const eventDays = await db.sql<Record<string, unknown>>(
    `SELECT "shop", date_trunc('day', "createdAt") AS "day", "destinationId", "eventName", "state",
            "testEventCode" IS NOT NULL AS "test", count(*)::int AS "count"
       FROM "Event" GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`,
    [],
  );
  expect(days).toEqual(eventDays);
  const events = await db.sql<Record<string, unknown>>(
    `SELECT ${columns}, count(*)::int AS "count" FROM (
       SELECT "shop", date_trunc('hour', "createdAt") AS "hour", "destinationId", "eventName", "state",
              "testEventCode" IS NOT NULL AS "test", "payload" IS NOT NULL AS "hasPayload",
              capi_event_keys("payload", "notes") AS "keys" FROM "Event") e
     GROUP BY ${columns} ORDER BY ${columns}`,
    [],
  );
  return { rollup, events };
}

const STATES = ["queued", "retrying", "sent", "rejected", "paused"];

async function seed(shop: string, n: number) {
  for (let i = 0; i < n; i++) {
    const userData: Record<string, string | string[]> = { em: ["h"], fbp: "fb.1.1.1" };
    if (i % 2) userData.ph = ["h"];
    if (i % 3) userData.client_ip_address = "203.0.113.9";
    await db.prisma.event.create({
      data: {
        shop,
        eventName: i % 4 ? "Purchase" : "InitiateCheckout",
        eventId: `${shop}-${i}`,
        topic: "orders/paid",
        state: STATES[i % STATES.length]!,
        destinationId: i % 2 ? "d1" : "d2",
        testEventCode: i % 9 === 0 ? "TEST1" : null,
        payload: i % 11 === 0 ? undefined : { user_data: userData },
        eventTime: at(i % 30, 17),
        createdAt: at(i % 30, (i * 7) % 60),
      },
    });
  }
}

describe("the EventCount rollup", () => {
  it("equals the events' own counts after every kind of write", async () => {
    await seed(A, 60);
    await seed(B, 20);
    expect((await bothSides()).rollup.length).toBeGreaterThan(20);
    let sides = await bothSides();
    expect(sides.rollup).toEqual(sides.events);
    expect(await foldEventCounts(db.sql)).toBeGreaterThan(0);
    expect(await bothSides({ folded: true })).toEqual(sides);

    // In bulk, as the worker claims and records outcomes.
    await db.sql(
      `INSERT INTO "Event" ("shop", "eventName", "eventId", "topic", "state", "eventTime", "createdAt", "updatedAt", "payload")
       SELECT $1, 'Purchase', 'bulk-' || i, 'orders/paid', 'queued', now(), $2::timestamptz AT TIME ZONE 'UTC', now(),
              jsonb_build_object('user_data', jsonb_build_object('em', '["h"]'::jsonb, 'client_user_agent', 'UA'))
       FROM generate_series(1, 40) AS i`,
      [A, at(3, 30).toISOString()],
    );
    // A lease taken: nothing counted changes.
    await db.sql(`UPDATE "Event" SET "leaseUntil" = now(), "attempts" = "attempts" + 1 WHERE "shop" = $1`, [A]);
    // Sent, and the user agent removed with a note naming it, as the outcome's statement writes it.
    await db.sql(
      `UPDATE "Event" SET "state" = 'sent', "payload" = "payload" #- '{user_data,client_user_agent}',
              "notes" = jsonb_build_array(jsonb_build_object('code', 'client_data_removed', 'message', $2::text))
       WHERE "shop" = $1 AND "eventId" LIKE 'bulk-%' AND right("eventId", 1) IN ('1', '2', '3')`,
      [A, `${CLIENT_DATA_REMOVED}client_user_agent`],
    );
    await db.prisma.event.updateMany({ where: { shop: A, state: "retrying" }, data: { state: "rejected" } });
    sides = await bothSides();
    expect(sides.rollup).toEqual(sides.events);
    await foldEventCounts(db.sql);
    expect(await bothSides({ folded: true })).toEqual(sides);

    // Deletions (retention, a customer's redaction), then a whole shop.
    await db.prisma.event.deleteMany({ where: { shop: A, state: "rejected" } });
    await db.prisma.event.deleteMany({ where: { shop: B } });
    sides = await bothSides();
    expect(sides.rollup).toEqual(sides.events);
    expect(sides.rollup.some((r) => r.shop === B)).toBe(false);
    await foldEventCounts(db.sql);
    expect(await bothSides({ folded: true })).toEqual(sides);
    const left = await db.sql<{ n: number }>(`SELECT count(*)::int AS "n" FROM "EventCountDelta"`, []);
    expect(left).toEqual([{ n: 0 }]);
  });

  it("counts nothing twice nor leaves anything out when folds run beside a writer and each other", async () => {
    // A writer's transaction still open: its changes are not visible to a fold, and wait for the next.
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    try {
      await writer.query("BEGIN");
      await writer.query(`UPDATE "Event" SET "state" = 'expired' WHERE "shop" = $1 AND "state" = 'queued'`, [A]);
      await Promise.all([foldEventCounts(db.sql), foldEventCounts(db.sql), foldEventCounts(db.sql)]);
      expect(await bothSides({ folded: true })).toEqual(await bothSides());
      await writer.query("COMMIT");
    } finally {
      await writer.end();
    }
    const sides = await bothSides();
    expect(sides.rollup).toEqual(sides.events);
    expect(sides.rollup.some((r) => r.state === "expired")).toBe(true);
    await Promise.all([foldEventCounts(db.sql), foldEventCounts(db.sql)]);
    // A fold that found the lock taken left its share to the next sweep.
    await foldEventCounts(db.sql);
    expect(await bothSides({ folded: true })).toEqual(sides);
  });

  it("counts the removed user agent as carried, from its note", async () => {
    const [sent] = await db.sql<{ keys: number }>(
      `SELECT capi_event_keys("payload", "notes") AS "keys" FROM "Event" WHERE "eventId" = 'bulk-1'`,
      [],
    );
    const [queued] = await db.sql<{ keys: number }>(
      `SELECT capi_event_keys("payload", "notes") AS "keys" FROM "Event" WHERE "eventId" = 'bulk-4'`,
      [],
    );
    const ua = bitsOf(["client_user_agent"]);
    expect(sent!.keys & ua).toBe(ua);
    expect(queued!.keys & ua).toBe(ua);
    expect(sent!.keys).toBe(bitsOf(["em", "client_user_agent"]));
    expect(bitsOf(COUNTED_KEYS)).toBe(2 ** COUNTED_KEYS.length - 1);
  });

  it("sums a window with ragged ends to a count of the events in it, whatever the filter", async () => {
    const windows = [
      { since: at(20, 13), until: at(2, 41) },
      { since: at(5, 59), until: at(5, 59) },
      { since: at(7, 10), until: at(6, 50) },
      { since: at(29, 0), until: at(0, 0) },
    ];
    for (const w of windows) {
      for (const filter of [{}, { state: "sent" }, { eventName: "Purchase", test: false }]) {
        const rows = await sumEventCounts(db.prisma, A, ["state"], w, filter);
        const got = rows.reduce((n, r) => n + r.count, 0);
        const want = await db.prisma.event.count({
          where: {
            shop: A,
            createdAt: { gte: w.since, lte: w.until },
            ...("state" in filter ? { state: filter.state } : {}),
            ...("eventName" in filter ? { eventName: filter.eventName, testEventCode: null } : {}),
          },
        });
        expect([w, filter, got]).toEqual([w, filter, want]);
      }
    }
    const open = await sumEventCounts(db.prisma, A, [], { since: at(10, 25) });
    expect(open[0]?.count ?? 0).toBe(
      await db.prisma.event.count({ where: { shop: A, createdAt: { gte: at(10, 25) } } }),
    );
    const all = await sumEventCounts(db.prisma, A, [], {});
    expect(all[0]!.count).toBe(await db.prisma.event.count({ where: { shop: A } }));
  });

  it("sums windows of several days (whole days from the day table) to counts of the events", async () => {
    const C = "counts-c.myshopify.com";
    for (let i = 0; i < 90; i++) {
      await db.prisma.event.create({
        data: {
          shop: C,
          eventName: i % 3 ? "Purchase" : "InitiateCheckout",
          eventId: `c-${i}`,
          topic: "orders/paid",
          state: STATES[i % STATES.length]!,
          destinationId: i % 2 ? "d1" : "d2",
          testEventCode: i % 7 === 0 ? "TEST1" : null,
          payload: { user_data: { em: ["h"] } },
          eventTime: at(i, 0),
          // Two an hour back to 90 hours: four UTC days, whatever the hour now.
          createdAt: at(i, (i * 13) % 60),
        },
      });
    }
    const windows = [
      { since: at(89, 41), until: at(0, 3) },
      { since: at(70, 0), until: at(22, 30) },
      { since: at(50, 59) },
      {},
    ];
    // Before the fold (the changes pending) and after it.
    for (const w of [...windows, "fold" as const, ...windows]) {
      if (w === "fold") {
        await foldEventCounts(db.sql);
        continue;
      }
      for (const columns of [[], ["state"], ["day", "eventName"], ["hour"]] as const) {
        for (const filter of [{}, { state: "sent" }, { eventName: "Purchase", test: false, destinationId: "d1" }]) {
          const rows = await sumEventCounts(db.prisma, C, columns, w, filter);
          const got = rows.reduce((n, r) => n + r.count, 0);
          const want = await db.prisma.event.count({
            where: {
              shop: C,
              createdAt: { ...(w.since ? { gte: w.since } : {}), ...(w.until ? { lte: w.until } : {}) },
              ...("state" in filter ? { state: filter.state } : {}),
              ...("eventName" in filter
                ? { eventName: filter.eventName, testEventCode: null, destinationId: "d1" }
                : {}),
            },
          });
          expect([w, columns, filter, got]).toEqual([w, columns, filter, want]);
        }
      }
    }
    // By day: each day's count is the events' of that UTC day within the window.
    const w = { since: at(89, 41), until: at(0, 3) };
    const byDay = await sumEventCounts(db.prisma, C, ["day"], w);
    const want = await db.sql<{ day: Date; count: number }>(
      `SELECT date_trunc('day', "createdAt") AS "day", count(*)::int AS "count" FROM "Event"
        WHERE "shop" = $1 AND "createdAt" >= $2::timestamptz AT TIME ZONE 'UTC' AND "createdAt" <= $3::timestamptz AT TIME ZONE 'UTC'
        GROUP BY 1 ORDER BY 1`,
      [C, w.since.toISOString(), w.until.toISOString()],
    );
    expect(byDay.sort((a, b) => a.day.getTime() - b.day.getTime())).toEqual(want);
    await bothSides();
  });

  it("is emptied with the events by a truncate", async () => {
    await db.sql(`TRUNCATE "Event" CASCADE`, []);
    expect((await bothSides()).rollup).toEqual([]);
  });
});
