// Dropping the buyer's IP / user agent and deleting old rows, against the real PostgreSQL of
// this machine. Every date is explicit: nothing depends on today's date.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { applyTransitions } from "./event-store.server";
import { applyRetention } from "./retention.server";

const SHOP = "retention.myshopify.com";
const NOW = new Date("2026-06-15T12:00:00Z");
const DAY = 86_400_000;
const IP = "198.51.100.23";
const UA = "Mozilla/5.0 BuyerBrowser/1.0";
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

let db: TestDatabase;
let seq = 0;

async function addEvent(
  state: string,
  createdDaysAgo: number,
  o: { eventDaysAgo?: number; leaseId?: string; actionSource?: string; leaseUntil?: Date } = {},
) {
  const id = `e${++seq}`;
  const row = await db.prisma.event.create({
    data: {
      shop: SHOP,
      eventName: "Purchase",
      eventId: id,
      topic: "orders/create",
      state,
      leaseId: o.leaseId ?? null,
      leaseUntil: o.leaseUntil ?? null,
      payload: {
        event_name: "Purchase",
        event_id: id,
        action_source: o.actionSource ?? "website",
        user_data: { em: ["h"], client_ip_address: IP, client_user_agent: UA },
      },
      eventTime: ago(o.eventDaysAgo ?? createdDaysAgo),
      createdAt: ago(createdDaysAgo),
      history: { create: [{ at: ago(createdDaysAgo), state: "queued", detail: "from orders/create" }] },
    },
  });
  return row.id;
}

async function stored(id: bigint) {
  const row = await db.prisma.event.findUnique({ where: { id } });
  return (
    row && {
      userData: (row.payload as { user_data: Record<string, unknown> }).user_data,
      notes: row.notes as Array<{ code: string; message: string }> | null,
    }
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("applyTransitions", () => {
  it("drops IP and user agent of events sent, rejected or expired, with a note; keeps them for retries", async () => {
    const ids = { sent: 0n, rejected: 0n, expired: 0n, retrying: 0n };
    for (const state of Object.keys(ids) as Array<keyof typeof ids>)
      ids[state] = await addEvent("sending", 0, { leaseId: "L1" });
    const lost = await applyTransitions(
      db.sql,
      "L1",
      [
        { id: ids.sent, state: "sent" },
        { id: ids.rejected, state: "rejected", reasonCode: "bad", reason: "bad" },
        { id: ids.expired, state: "expired", reasonCode: "event_too_old", reason: "old" },
        {
          id: ids.retrying,
          state: "retrying",
          nextAttemptAt: new Date(NOW.getTime() + 60_000),
          reasonCode: "meta_unavailable",
          reason: "503",
        },
      ],
      NOW,
    );
    expect(lost).toEqual([]);
    for (const id of [ids.sent, ids.rejected, ids.expired]) {
      const row = await stored(id);
      expect(row!.userData).toEqual({ em: ["h"] });
      expect(row!.notes).toEqual([
        { code: "client_data_removed", message: expect.stringContaining("client_ip_address, client_user_agent") },
      ]);
    }
    const retrying = await stored(ids.retrying);
    expect(retrying!.userData).toMatchObject({ client_ip_address: IP, client_user_agent: UA });
    expect(retrying!.notes).toBeNull();
  });
});

describe("applyRetention", () => {
  it("deletes old rows in batches, keeps what Meta could still accept, and drops IP/UA of what it never will", async () => {
    await db.prisma.event.deleteMany({});
    const oldSent = await addEvent("sent", 100);
    const oldExpired = await addEvent("expired", 95);
    const recentSent = await addEvent("sent", 10);
    // Created long ago but its event is recent (a reconciled order's event time is kept): only
    // pending ones are spared, and only while Meta's window is open.
    const oldPausedInWindow = await addEvent("paused", 100, { eventDaysAgo: 3 });
    const oldPausedPast = await addEvent("paused", 100);
    const oldQueuedPhysical = await addEvent("queued", 100, { eventDaysAgo: 30, actionSource: "physical_store" });
    const oldSendingLeased = await addEvent("sending", 100, {
      leaseId: "L2",
      leaseUntil: new Date(NOW.getTime() + 60_000),
    });
    const recentPausedPast = await addEvent("paused", 20);
    // Stored invalid with its IP/UA (by a release before ingest dropped them): only this run drops them.
    const recentInvalid = await addEvent("invalid", 1);
    const recentQueued = await addEvent("queued", 1);
    for (const [i, days] of [100, 91, 89].entries()) {
      await db.prisma.webhookReceipt.create({
        data: {
          shop: SHOP,
          topic: "orders/create",
          webhookId: `w${i}`,
          dedupeKey: `w${i}`,
          outcome: "queued",
          receivedAt: ago(days),
        },
      });
    }
    for (const [i, days] of [100, 20, 2].entries()) {
      await db.prisma.dataRequest.create({
        data: {
          id: `dr${i}`,
          shop: SHOP,
          subjectHashes: [],
          report: {},
          createdAt: ago(days),
          expiresAt: new Date(ago(days).getTime() + 30 * DAY),
        },
      });
    }

    for (const days of [100, 91, 89]) {
      const counts = { orders: 1, accepted: 1, recovered: 0, heldBack: 0, rejected: 0, invalid: 0, pending: 0 };
      await db.prisma.accuracyDay.create({
        data: {
          shop: SHOP,
          day: ago(days),
          destinationId: "d1",
          ...counts,
          expired: 0,
          neverReceived: 0,
          measuredAt: ago(days),
        },
      });
    }

    for (const [i, days] of [100, 91, 89].entries()) {
      await db.prisma.browserEvent.create({
        data: { shop: SHOP, eventName: "Purchase", eventId: `b${i}`, firedAt: ago(days) },
      });
    }

    for (const [i, days] of [100, 89].entries()) {
      await db.prisma.pixelSighting.create({
        data: { shop: SHOP, pixelId: `99999999${i}`, firstSeenAt: ago(120), lastSeenAt: ago(days) },
      });
    }

    const report = await applyRetention(db.sql, 90, NOW, 1);

    expect(report).toEqual({
      events: 3,
      receipts: 2,
      dataRequests: 1,
      accuracyDays: 2,
      browserEvents: 3,
      scrubbed: 3,
    });
    const left = (await db.prisma.event.findMany({ select: { id: true } })).map((r) => r.id).sort();
    expect(left).toEqual(
      [
        recentSent,
        oldPausedInWindow,
        oldQueuedPhysical,
        oldSendingLeased,
        recentPausedPast,
        recentInvalid,
        recentQueued,
      ].sort(),
    );
    expect(await db.prisma.event.findMany({ where: { id: { in: [oldSent, oldExpired, oldPausedPast] } } })).toEqual([]);
    expect(
      await db.prisma.eventTransition.count({ where: { eventPk: { in: [oldSent, oldExpired, oldPausedPast] } } }),
    ).toBe(0);
    expect((await db.prisma.webhookReceipt.findMany()).map((r) => r.webhookId)).toEqual(["w2"]);
    expect((await db.prisma.accuracyDay.findMany()).map((r) => r.day.getTime())).toEqual([
      new Date(ago(89).toISOString().slice(0, 10)).getTime(),
    ]);
    expect((await db.prisma.browserEvent.findMany()).map((r) => r.eventId)).toEqual(["b2"]);
    // A sighting goes 90 days after it was last seen, however long ago it was first.
    expect((await db.prisma.pixelSighting.findMany()).map((r) => r.pixelId)).toEqual(["999999991"]);
    expect((await db.prisma.dataRequest.findMany({ orderBy: { id: "asc" } })).map((r) => r.id)).toEqual(["dr1", "dr2"]);

    // Sent, invalid and paused past Meta's window: IP/UA gone, with the note.
    for (const id of [recentSent, recentInvalid, recentPausedPast]) {
      const row = await stored(id);
      expect(row!.userData).toEqual({ em: ["h"] });
      expect(row!.notes?.map((n) => n.code)).toEqual(["client_data_removed"]);
    }
    // Still sendable (or held by a worker): kept as they are.
    for (const id of [oldPausedInWindow, oldQueuedPhysical, oldSendingLeased, recentQueued]) {
      expect((await stored(id))!.userData).toMatchObject({ client_ip_address: IP, client_user_agent: UA });
    }

    // A second run finds nothing more to do.
    expect(await applyRetention(db.sql, 90, NOW)).toEqual({
      events: 0,
      receipts: 0,
      dataRequests: 0,
      accuracyDays: 0,
      browserEvents: 0,
      scrubbed: 0,
    });
  });
});
