// A report kept as last computed: computed on the shop's first load, read from the snapshot
// while it is younger than SNAPSHOT_MAX_AGE_MS, then still read once stale while one refresh
// (not one per load) runs in the background; the next load has the new value. Shops and
// reports apart; a failed refresh keeps the last value.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { SNAPSHOT_MAX_AGE_MS, snapshotted } from "./report-snapshot.server";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const T0 = new Date("2026-12-01T10:00:00.000Z");
const later = (ms: number) => new Date(T0.getTime() + ms);

describe("snapshotted", () => {
  it("computes once, serves the snapshot while young, refreshes once in the background when stale", async () => {
    let value = 1;
    let computed = 0;
    const compute = async () => {
      computed++;
      return { n: value };
    };
    expect(await snapshotted(db.prisma, "a.myshopify.com", "dedup", T0, compute)).toEqual({
      value: { n: 1 },
      measuredAt: T0.toISOString(),
    });
    value = 2;
    const young = await snapshotted(db.prisma, "a.myshopify.com", "dedup", later(SNAPSHOT_MAX_AGE_MS - 1), compute);
    expect([young.value, computed]).toEqual([{ n: 1 }, 1]);

    const stale = later(SNAPSHOT_MAX_AGE_MS);
    const burst = await Promise.all(
      [0, 1, 2].map(() => snapshotted(db.prisma, "a.myshopify.com", "dedup", stale, compute)),
    );
    expect(burst.map((s) => s.value)).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
    await expect
      .poll(async () => (await db.prisma.reportSnapshot.findFirst({ where: { shop: "a.myshopify.com" } }))?.value)
      .toEqual({ n: 2 });
    expect(computed).toBe(2);
    const next = await snapshotted(db.prisma, "a.myshopify.com", "dedup", later(SNAPSHOT_MAX_AGE_MS + 1), compute);
    expect(next).toEqual({ value: { n: 2 }, measuredAt: stale.toISOString() });
  });

  it("keeps each shop's and each report's own, and the last value when a refresh fails", async () => {
    await snapshotted(db.prisma, "b.myshopify.com", "dedup", T0, async () => ({ shop: "b" }));
    await snapshotted(db.prisma, "b.myshopify.com", "latency", T0, async () => ({ report: "latency" }));
    const b = await snapshotted(db.prisma, "b.myshopify.com", "dedup", T0, async () => ({ shop: "never" }));
    expect(b.value).toEqual({ shop: "b" });
    const failing = async (): Promise<{ shop: string }> => {
      throw new Error("the database went away");
    };
    const stale = later(SNAPSHOT_MAX_AGE_MS * 2);
    expect((await snapshotted(db.prisma, "b.myshopify.com", "dedup", stale, failing)).value).toEqual({ shop: "b" });
    // The failed refresh is let go: a later load tries again and stores it.
    await expect
      .poll(() => snapshotted(db.prisma, "b.myshopify.com", "dedup", stale, async () => ({ shop: "b2" })))
      .toMatchObject({ measuredAt: stale.toISOString() });
    const l = await snapshotted(db.prisma, "b.myshopify.com", "latency", stale, async () => ({ report: "other" }));
    expect(l.value).toEqual({ report: "latency" });
  });
});
