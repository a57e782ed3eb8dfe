// The deduplication health's numbers against SQL counts of the same seeded rows: every figure
// the Overview shows is a count a person could make by hand from Event and BrowserEvent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../../test/support/services";
import { redisConnection } from "./queue.server";
import { allowFiredReport, loadDedupHealth, recordBrowserEvents } from "./dedup-health.server";
import { DEDUP_DAYS } from "./dedup-health";

const SHOP = "dedup.myshopify.com";
const OTHER = "dedup-other.myshopify.com";
const DAY = 86_400_000;
let db: TestDatabase;

/** A small deterministic generator: the same rows on every run, dates built from now. */
function generator(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function seed(now: Date) {
  const random = generator(7);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const events: Array<Record<string, unknown>> = [];
  const browser: Array<{ shop: string; eventName: string; eventId: string }> = [];
  for (let i = 0; i < 300; i++) {
    const shop = random() < 0.85 ? SHOP : OTHER;
    const eventName = pick(["Purchase", "InitiateCheckout", "Purchase"] as const);
    const eventId = `${eventName === "Purchase" ? "" : "tok"}${100_000 + i}`;
    // Some inside the window, some just outside it, a few at a UTC day's edges.
    const daysAgo = Math.floor(random() * (DEDUP_DAYS + 3));
    const eventTime = new Date(now.getTime() - daysAgo * DAY - Math.floor(random() * DAY));
    const destinations = random() < 0.3 ? ["d1", "d2"] : ["d1"];
    for (const destinationId of destinations) {
      events.push({
        shop,
        eventName,
        eventId,
        destinationId,
        topic: eventName === "Purchase" ? "orders/create" : "checkouts/create",
        state: pick(["sent", "sent", "sent", "rejected", "queued", "retrying"]),
        testEventCode: random() < 0.05 ? "TEST123" : null,
        eventTime,
      });
    }
    if (random() < 0.6) browser.push({ shop, eventName, eventId });
    // The browser also names ids the server never sent (a forger, an unpaid order): never a pair.
    if (random() < 0.1) browser.push({ shop, eventName, eventId: `browser-only-${i}` });
  }
  // The same id fired as the other event name is not a pair.
  browser.push({ shop: SHOP, eventName: "InitiateCheckout", eventId: String(events[0]!.eventId) });
  await db.prisma.event.createMany({ data: events as never, skipDuplicates: true });
  await db.prisma.browserEvent.createMany({ data: browser, skipDuplicates: true });
}

describe("loadDedupHealth", () => {
  it("gives, per event name and UTC day, the server's distinct sent ids, the pairs and the server-only ones, as SQL counts them", async () => {
    const now = new Date();
    await seed(now);
    const health = await loadDedupHealth(db.sql, SHOP, now);
    const since = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (DEDUP_DAYS - 1) * DAY,
    );
    // The same figures counted another way: every (name, id) sent to any pixel, its first day.
    const expected = await db.sql<{ eventName: string; day: string; sent: number; paired: number }>(
      `SELECT "eventName", "day", COUNT(*)::int AS "sent",
              COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM "BrowserEvent" b
                WHERE b."shop" = $1 AND b."eventName" = x."eventName" AND b."eventId" = x."eventId"))::int AS "paired"
       FROM (SELECT DISTINCT ON ("eventName", "eventId") "eventName", "eventId", to_char("eventTime", 'YYYY-MM-DD') AS "day"
             FROM "Event" WHERE "shop" = $1 AND "state" = 'sent' AND "testEventCode" IS NULL AND "eventTime" >= $2
             ORDER BY "eventName", "eventId", "eventTime") x
       GROUP BY 1, 2`,
      [SHOP, since],
    );
    expect(expected.length).toBeGreaterThan(DEDUP_DAYS); // the seed covers both names on most days
    expect(
      health.rows.map((r) => ({ eventName: r.eventName, day: r.day, sent: r.serverSent, paired: r.paired })),
    ).toEqual(
      expect.arrayContaining(
        expected.map((e) => ({ eventName: e.eventName, day: e.day, sent: e.sent, paired: e.paired })),
      ),
    );
    expect(health.rows).toHaveLength(expected.length);
    for (const row of health.rows) {
      expect(row.serverOnly).toBe(row.serverSent - row.paired);
      expect(row.pairedShare! + row.serverOnlyShare!).toBeCloseTo(1, 10);
      expect(row.day >= since.toISOString().slice(0, 10)).toBe(true);
    }
    for (const name of ["Purchase", "InitiateCheckout"]) {
      const total = health.totals.find((t) => t.eventName === name)!;
      const mine = expected.filter((e) => e.eventName === name);
      expect(total.serverSent).toBe(mine.reduce((n, e) => n + e.sent, 0));
      expect(total.paired).toBe(mine.reduce((n, e) => n + e.paired, 0));
      expect(total.paired).toBeGreaterThan(0);
      expect(total.serverOnly).toBeGreaterThan(0);
    }
    expect(health.browserReported).toBe(true);
  });

  it("says when the browser reported nothing, so that no pair is not read as 0 %", async () => {
    const health = await loadDedupHealth(db.sql, "dedup-silent.myshopify.com", new Date());
    expect(health).toEqual({ days: DEDUP_DAYS, rows: [], totals: [], browserReported: false });
  });
});

describe("recordBrowserEvents and allowFiredReport", () => {
  it("keeps each id once per shop, and counts a shop's reports per minute apart from another shop's", async () => {
    const now = new Date();
    const report = {
      events: [
        { name: "Purchase" as const, id: "x1" },
        { name: "Purchase" as const, id: "x1" },
      ],
    };
    expect(await recordBrowserEvents(db.sql, "rec.myshopify.com", report, now)).toBe(1);
    expect(await recordBrowserEvents(db.sql, "rec.myshopify.com", report, now)).toBe(0);
    expect(await recordBrowserEvents(db.sql, "rec-2.myshopify.com", report, now)).toBe(1);

    const redis = redisConnection(REDIS_URL);
    try {
      const prefix = uniquePrefix();
      const at = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 10_000);
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await allowFiredReport(redis, prefix, "a.myshopify.com", at, 3));
      expect(seen).toEqual([true, true, true, false]);
      expect(await allowFiredReport(redis, prefix, "b.myshopify.com", at, 3)).toBe(true);
      // The next minute is a fresh window.
      expect(await allowFiredReport(redis, prefix, "a.myshopify.com", new Date(at.getTime() + 60_000), 3)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});
