// Sending events again at the merchant's request (the Events page, `capi retry`): each
// candidate is judged by ./retry-rule.ts; those it allows become queued now with a history line
// saying who asked, and the shop is announced to the delivery queue. Scoped by shop: the
// condition given is always narrowed to it.
import { Prisma, type PrismaClient } from "@prisma/client";
import type { DeliveryQueue } from "./queue.server";
import {
  RETRIED_DETAIL,
  RETRY_ALL_LIMIT,
  RETRY_REFUSAL_SUMMARY,
  RETRYABLE_STATES,
  retryDecision,
  type RetryRefusal,
} from "./retry-rule";

export interface RetryResult {
  /** Events queued again. */
  retried: number;
  /**
   * Events looked at and left as they are, by kind of reason, most frequent first: the event's
   * own reason when it is the only one of its kind, else what they have in common.
   */
  notRetried: Array<{ code: RetryRefusal; reason: string; count: number }>;
  /** More events matched than one retry takes (RETRY_ALL_LIMIT): run it again for the rest. */
  more: boolean;
}

const CHUNK = 1_000;

/**
 * Re-queues the shop's events matching `where` that the retry rule allows, at most `limit`
 * looked at (newest first). Only rows still in a retryable state are written, so an event the
 * worker or another click moved meanwhile is left alone.
 */
export async function retryEvents(
  prisma: PrismaClient,
  shop: string,
  where: Prisma.EventWhereInput,
  options: { now: Date; queue?: DeliveryQueue | null; limit?: number },
): Promise<RetryResult> {
  const { now } = options;
  const limit = Math.min(options.limit ?? RETRY_ALL_LIMIT, RETRY_ALL_LIMIT);
  const destinations = new Set(
    (await prisma.destination.findMany({ where: { shop }, select: { id: true } })).map((d) => d.id),
  );
  const notRetried = new Map<RetryRefusal, { first: string; count: number }>();
  let retried = 0;
  let seen = 0;
  let cursor: { createdAt: Date; id: bigint } | undefined;
  let more = false;
  while (seen < limit) {
    const take = Math.min(CHUNK, limit - seen);
    const rows = await prisma.event.findMany({
      where: {
        AND: [
          where,
          { shop },
          // As the Events page pages (app/admin/events-list.server.ts afterCursor): the plain bound lets the index range start there.
          cursor
            ? {
                createdAt: { lte: cursor.createdAt },
                OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }],
              }
            : {},
        ],
      },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: take + 1,
      select: { id: true, createdAt: true, state: true, payload: true, destinationId: true },
    });
    const page = rows.slice(0, take);
    seen += page.length;
    const allowed: bigint[] = [];
    const nowSeconds = Math.floor(now.getTime() / 1000);
    for (const row of page) {
      const decision = retryDecision(
        { state: row.state, payload: row.payload, hasDestination: destinations.has(row.destinationId) },
        nowSeconds,
      );
      if (decision.retry) allowed.push(row.id);
      else {
        const kind = notRetried.get(decision.code) ?? { first: decision.reason, count: 0 };
        kind.count += 1;
        notRetried.set(decision.code, kind);
      }
    }
    if (allowed.length) retried += await requeue(prisma, shop, allowed, now);
    if (rows.length <= take) break;
    if (seen >= limit) {
      more = true;
      break;
    }
    const last = page[page.length - 1]!;
    cursor = { createdAt: last.createdAt, id: last.id };
  }
  if (retried > 0) await options.queue?.kick(shop, 0);
  return {
    retried,
    notRetried: [...notRetried]
      .map(([code, { first, count }]) => ({ code, reason: count === 1 ? first : RETRY_REFUSAL_SUMMARY[code], count }))
      .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
    more,
  };
}

async function requeue(prisma: PrismaClient, shop: string, ids: bigint[], now: Date): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ id: bigint }>>`
    UPDATE "Event" SET "state" = 'queued', "nextAttemptAt" = ${now}, "leaseUntil" = NULL, "leaseId" = NULL,
                       "reasonCode" = NULL, "reason" = NULL, "updatedAt" = ${now}
    WHERE "shop" = ${shop} AND "id" = ANY(${ids.map(String)}::text[]::bigint[]) AND "state" IN (${Prisma.join(RETRYABLE_STATES)})
    RETURNING "id"`;
  if (rows.length) {
    await prisma.eventTransition.createMany({
      data: rows.map((r) => ({ eventPk: r.id, at: now, state: "queued", detail: RETRIED_DETAIL })),
    });
  }
  return rows.length;
}
