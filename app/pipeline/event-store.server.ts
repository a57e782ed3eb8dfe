// Every read and write of webhook receipts and Meta event rows. PostgreSQL is the source of
// truth for an event's fate; Redis only says "there is work for this shop". Every query is
// scoped by shop.
import { Prisma, type PrismaClient } from "@prisma/client";
import type { MetaEvent } from "../meta/event";
import type { EventState, Transition } from "./schedule";

export interface ReceiptInput {
  shop: string;
  topic: string;
  webhookId: string;
  eventId?: string | null;
  triggeredAt?: Date | null;
  outcome: string;
  reason?: string | null;
}

/** Records a delivery; false when Shopify already delivered this one (same event id). */
export async function recordReceipt(prisma: PrismaClient, r: ReceiptInput): Promise<boolean> {
  const { count } = await prisma.webhookReceipt.createMany({
    data: [
      {
        shop: r.shop,
        topic: r.topic,
        webhookId: r.webhookId,
        eventId: r.eventId ?? null,
        dedupeKey: r.eventId || r.webhookId,
        triggeredAt: r.triggeredAt ?? null,
        outcome: r.outcome,
        reason: r.reason ?? null,
      },
    ],
    skipDuplicates: true,
  });
  return count === 1;
}

export async function receiptExists(prisma: PrismaClient, shop: string, topic: string, dedupeKey: string): Promise<boolean> {
  const found = await prisma.webhookReceipt.findUnique({ where: { shop_topic_dedupeKey: { shop, topic, dedupeKey } }, select: { id: true } });
  return found !== null;
}

export interface NewEvent {
  shop: string;
  topic: string;
  event: MetaEvent;
  state: EventState;
  pixelId?: string | null;
  testEventCode?: string | null;
  reasonCode?: string | null;
  reason?: string | null;
  customerHash?: string | null;
}

/**
 * Inserts the event unless one with the same (shop, event name, event id) exists: that
 * natural key is what makes orders/create + orders/paid + redeliveries one Purchase.
 * Returns the new row's id, or undefined for a duplicate.
 */
export async function insertEvent(prisma: PrismaClient, e: NewEvent, now: Date): Promise<bigint | undefined> {
  const rows = await prisma.$queryRaw<Array<{ id: bigint }>>`
    INSERT INTO "Event" ("shop", "eventName", "eventId", "topic", "state", "pixelId", "testEventCode", "payload",
                         "eventTime", "nextAttemptAt", "reasonCode", "reason", "customerHash", "createdAt", "updatedAt")
    VALUES (${e.shop}, ${e.event.event_name}, ${e.event.event_id}, ${e.topic}, ${e.state}, ${e.pixelId ?? null},
            ${e.testEventCode ?? null}, ${JSON.stringify(e.event)}::jsonb, ${new Date(e.event.event_time * 1000)}, ${now},
            ${e.reasonCode ?? null}, ${e.reason ?? null}, ${e.customerHash ?? null}, ${now}, ${now})
    ON CONFLICT ("shop", "eventName", "eventId") DO NOTHING
    RETURNING "id"`;
  const id = rows[0]?.id;
  if (id !== undefined) {
    await prisma.eventTransition.create({ data: { eventPk: id, at: now, state: e.state, detail: e.reason ?? `from ${e.topic}` } });
  }
  return id;
}

/** How many events of a shop are due (capped at `cap`) and since when the oldest waits. */
export async function dueSummary(prisma: PrismaClient, shop: string, cap: number, now: Date): Promise<{ count: number; oldest: Date | null }> {
  const rows = await prisma.$queryRaw<Array<{ count: number; oldest: Date | null }>>`
    SELECT COUNT(*)::int AS "count", MIN("nextAttemptAt") AS "oldest" FROM (
      SELECT "nextAttemptAt" FROM "Event"
      WHERE "shop" = ${shop}
        AND (("state" IN ('queued', 'retrying') AND "nextAttemptAt" <= ${now})
             OR ("state" = 'sending' AND "leaseUntil" < ${now}))
      LIMIT ${cap}) AS due`;
  return rows[0] ?? { count: 0, oldest: null };
}

export interface IngestWrite {
  /** False when Shopify had delivered this webhook before (same event id). */
  receiptInserted: boolean;
  /** The new event row, or undefined when the natural key already existed. */
  eventPk?: bigint;
}

/**
 * Records a webhook and its event in one statement: one round trip and one commit per
 * webhook, which is what keeps the answer to Shopify in milliseconds under a burst. The
 * event is inserted only when the receipt is new, and only when its natural key is new.
 */
export async function recordWebhookEvent(prisma: PrismaClient, r: ReceiptInput, e: NewEvent, now: Date): Promise<IngestWrite> {
  const dedupeKey = r.eventId || r.webhookId;
  const rows = await prisma.$queryRaw<Array<{ receipt: number; event: bigint | null }>>`
    WITH receipt AS (
      INSERT INTO "WebhookReceipt" ("shop", "topic", "webhookId", "eventId", "dedupeKey", "triggeredAt", "receivedAt", "outcome", "reason")
      VALUES (${r.shop}, ${r.topic}, ${r.webhookId}, ${r.eventId ?? null}, ${dedupeKey}, ${r.triggeredAt ?? null}, ${now},
              CASE WHEN EXISTS (SELECT 1 FROM "Event" WHERE "shop" = ${e.shop} AND "eventName" = ${e.event.event_name} AND "eventId" = ${e.event.event_id})
                   THEN 'duplicate' ELSE ${r.outcome} END,
              ${r.reason ?? null})
      ON CONFLICT ("shop", "topic", "dedupeKey") DO NOTHING
      RETURNING "id"
    ), event AS (
      INSERT INTO "Event" ("shop", "eventName", "eventId", "topic", "state", "pixelId", "testEventCode", "payload",
                           "eventTime", "nextAttemptAt", "reasonCode", "reason", "customerHash", "createdAt", "updatedAt")
      SELECT ${e.shop}, ${e.event.event_name}, ${e.event.event_id}, ${e.topic}, ${e.state}, ${e.pixelId ?? null},
             ${e.testEventCode ?? null}, ${JSON.stringify(e.event)}::jsonb, ${new Date(e.event.event_time * 1000)}, ${now},
             ${e.reasonCode ?? null}, ${e.reason ?? null}, ${e.customerHash ?? null}, ${now}, ${now}
      WHERE EXISTS (SELECT 1 FROM receipt)
      ON CONFLICT ("shop", "eventName", "eventId") DO NOTHING
      RETURNING "id"
    ), transition AS (
      INSERT INTO "EventTransition" ("eventPk", "at", "state", "detail")
      SELECT "id", ${now}, ${e.state}, ${e.reason ?? `from ${e.topic}`} FROM event
    )
    SELECT (SELECT COUNT(*) FROM receipt)::int AS "receipt", (SELECT "id" FROM event) AS "event"`;
  const row = rows[0]!;
  return { receiptInserted: row.receipt === 1, eventPk: row.event ?? undefined };
}

export interface ClaimedEvent {
  id: bigint;
  eventId: string;
  eventName: string;
  testEventCode: string | null;
  attempts: number;
  payload: MetaEvent;
}

/**
 * Takes up to `limit` due events of one shop for `leaseMs`. SKIP LOCKED lets any number of
 * workers claim side by side; a lease that runs out (worker killed mid-batch) makes the rows
 * claimable again, and Meta's event_id deduplication makes the resend harmless.
 */
export async function claimDue(prisma: PrismaClient, shop: string, limit: number, leaseMs: number, now: Date): Promise<ClaimedEvent[]> {
  const leaseUntil = new Date(now.getTime() + leaseMs);
  return prisma.$queryRaw<ClaimedEvent[]>`
    UPDATE "Event" SET "state" = 'sending', "leaseUntil" = ${leaseUntil}, "attempts" = "attempts" + 1, "updatedAt" = ${now}
    WHERE "id" IN (
      SELECT "id" FROM "Event"
      WHERE "shop" = ${shop}
        AND (("state" IN ('queued', 'retrying') AND "nextAttemptAt" <= ${now})
             OR ("state" = 'sending' AND "leaseUntil" < ${now}))
      ORDER BY "nextAttemptAt"
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING "id", "eventId", "eventName", "testEventCode", "attempts", "payload"`;
}

export interface AppliedTransition extends Transition {
  id: bigint;
}

/** Writes the outcome of an attempt, grouped so a batch of 1,000 costs a few statements. */
export async function applyTransitions(prisma: PrismaClient, transitions: AppliedTransition[], now: Date): Promise<void> {
  if (transitions.length === 0) return;
  const groups = new Map<string, AppliedTransition[]>();
  for (const t of transitions) {
    const key = JSON.stringify([t.state, t.reasonCode ?? null, t.reason ?? null, t.fbtraceId ?? null, t.nextAttemptAt?.getTime() ?? null]);
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  await prisma.$transaction([
    ...[...groups.values()].map((group) => {
      const t = group[0]!;
      return prisma.event.updateMany({
        where: { id: { in: group.map((g) => g.id) } },
        data: {
          state: t.state,
          leaseUntil: null,
          updatedAt: now,
          ...(t.nextAttemptAt ? { nextAttemptAt: t.nextAttemptAt } : {}),
          ...(t.reasonCode !== undefined || t.state === "sent" ? { reasonCode: t.reasonCode ?? null, reason: t.reason ?? null } : {}),
          ...(t.fbtraceId ? { fbtraceId: t.fbtraceId } : {}),
        },
      });
    }),
    prisma.eventTransition.createMany({
      data: transitions.map((t) => ({
        eventPk: t.id,
        at: now,
        state: t.state,
        detail: [t.reason, t.fbtraceId && `fbtrace_id ${t.fbtraceId}`].filter(Boolean).join(" · ") || null,
      })),
    }),
  ]);
}

/** Pauses or resumes all pending events of a shop (token revoked, or replaced). */
export async function setPendingState(prisma: PrismaClient, shop: string, from: EventState[], to: EventState, detail: string, now: Date): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ id: bigint }>>`
    UPDATE "Event" SET "state" = ${to}, "nextAttemptAt" = ${now}, "leaseUntil" = NULL, "updatedAt" = ${now},
                       "reasonCode" = ${to === "paused" ? "pixel_paused" : null}, "reason" = ${to === "paused" ? detail : null}
    WHERE "shop" = ${shop} AND "state" IN (${Prisma.join(from)})
    RETURNING "id"`;
  if (rows.length) {
    await prisma.eventTransition.createMany({ data: rows.map((r) => ({ eventPk: r.id, at: now, state: to, detail })) });
  }
  return rows.length;
}

/** Shops with work due now: what the sweeper re-announces after Redis was away. */
export async function shopsWithDueEvents(prisma: PrismaClient, now: Date, limit = 1000): Promise<string[]> {
  const rows = await prisma.$queryRaw<Array<{ shop: string }>>`
    SELECT DISTINCT "shop" FROM "Event"
    WHERE ("state" IN ('queued', 'retrying') AND "nextAttemptAt" <= ${now})
       OR ("state" = 'sending' AND "leaseUntil" < ${now})
    LIMIT ${limit}`;
  return rows.map((r) => r.shop);
}

export async function countByState(prisma: PrismaClient, shop: string): Promise<Record<string, number>> {
  const rows = await prisma.event.groupBy({ by: ["state"], where: { shop }, _count: { _all: true } });
  return Object.fromEntries(rows.map((r) => [r.state, r._count._all]));
}
