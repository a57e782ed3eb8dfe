// The accuracy report's shell: reads a shop's recent orders through the Admin API (the same
// orders reconciliation reads), our Purchase copies and reconciliation's receipts for them,
// and stores one row per UTC day and pixel (AccuracyDay). Run by the worker after each
// reconciliation, and when the merchant asks on the Accuracy page.
import { Prisma, type PrismaClient } from "@prisma/client";
import { connectionPages, type AdminGraphql } from "../shopify/admin-graphql";
import { graphqlOrderHeadSchema, orderEventId, RECENT_ORDER_HEADS_QUERY } from "../shopify/admin-orders";
import {
  accuracyDays,
  measureDays,
  ORDER_FATES,
  STORED_NO_EVENT,
  type AccuracyDayCounts,
  type FateCounts,
  type OrderHead,
  type OrderRecords,
} from "./accuracy";
import { isEventState, RECEIPT_OUTCOMES, type EventState, type ReceiptOutcome } from "./lifecycle";
import { reconcileOrderEventId } from "./reconcile.server";

/** At most this many orders are read per measurement (20 pages): a bigger week measures its latest days only. */
export const MAX_ACCURACY_ORDERS = 5_000;
/** Rows looked up per query (an IN list of order ids). */
const LOOKUP_CHUNK = 1_000;

export interface AccuracyMeasurement {
  /** Orders read from Shopify. */
  orders: number;
  unreadable: number;
  /** The days stored (the oldest is left out when the cap cut it short). */
  days: string[];
  pixels: number;
}

export async function measureAccuracy(
  deps: { prisma: PrismaClient; graphql: AdminGraphql },
  shop: string,
  now = new Date(),
  maxOrders = MAX_ACCURACY_ORDERS,
): Promise<AccuracyMeasurement> {
  const pixels = await deps.prisma.destination.findMany({
    where: { shop, events: { has: "Purchase" } },
    select: { id: true, createdAt: true, sendTestOrders: true },
  });
  let days = accuracyDays(now);
  const orders: OrderHead[] = [];
  let unreadable = 0;
  let cut = false;
  read: for await (const nodes of connectionPages(deps.graphql, RECENT_ORDER_HEADS_QUERY, "orders", {
    query: `created_at:>='${days[0]}T00:00:00Z'`,
  })) {
    for (const node of nodes) {
      if (orders.length + unreadable >= maxOrders) {
        cut = true;
        break read;
      }
      const parsed = graphqlOrderHeadSchema.safeParse(node);
      if (!parsed.success) {
        unreadable++;
        continue;
      }
      orders.push({
        id: orderEventId(parsed.data.id),
        createdAt: new Date(parsed.data.createdAt),
        test: parsed.data.test ?? false,
      });
    }
  }
  // Newest first: when the cap stopped the read, the oldest day read is incomplete, and older ones unread.
  if (cut) {
    const oldest = orders
      .reduce((min, o) => (o.createdAt < min ? o.createdAt : min), now)
      .toISOString()
      .slice(0, 10);
    days = days.filter((d) => d > oldest);
  }
  const records = await loadRecords(
    deps.prisma,
    shop,
    orders.map((o) => o.id),
  );
  const rows = measureDays(days, orders, pixels, (id) => records.get(id) ?? { copies: new Map() });
  await storeDays(deps.prisma, shop, rows, now);
  return { orders: orders.length, unreadable, days, pixels: pixels.length };
}

async function loadRecords(prisma: PrismaClient, shop: string, ids: string[]): Promise<Map<string, OrderRecords>> {
  const records = new Map<
    string,
    { -readonly [K in keyof OrderRecords]: OrderRecords[K] } & { copies: Map<string, EventState> }
  >();
  const of = (id: string) => {
    let r = records.get(id);
    if (!r) records.set(id, (r = { copies: new Map() }));
    return r;
  };
  for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
    const chunk = ids.slice(i, i + LOOKUP_CHUNK);
    const byReceiptId = new Map(chunk.map((id) => [reconcileOrderEventId(id), id]));
    const [events, receipts, webhookReceipts] = await Promise.all([
      prisma.event.findMany({
        where: { shop, eventName: "Purchase", eventId: { in: chunk } },
        select: { eventId: true, destinationId: true, state: true },
      }),
      prisma.webhookReceipt.findMany({
        where: { shop, topic: "orders/create", eventId: { in: [...byReceiptId.keys()] } },
        select: { eventId: true, outcome: true, reason: true },
      }),
      // orders/create or orders/paid (whichever the shop builds its Purchase from) that stored no event.
      prisma.webhookReceipt.findMany({
        where: { shop, orderId: { in: chunk }, outcome: { in: [...STORED_NO_EVENT] } },
        select: { orderId: true, outcome: true, reason: true },
        orderBy: { receivedAt: "asc" },
      }),
    ]);
    for (const e of events) if (isEventState(e.state)) of(e.eventId).copies.set(e.destinationId, e.state);
    for (const r of receipts) {
      const id = byReceiptId.get(r.eventId ?? "");
      if (id && (RECEIPT_OUTCOMES as readonly string[]).includes(r.outcome))
        of(id).reconcileReceipt = { outcome: r.outcome as ReceiptOutcome, reason: r.reason };
    }
    for (const r of webhookReceipts)
      if (r.orderId) of(r.orderId).webhookReceipt = { outcome: r.outcome as ReceiptOutcome, reason: r.reason };
  }
  return records;
}

async function storeDays(prisma: PrismaClient, shop: string, rows: AccuracyDayCounts[], now: Date): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map(
    (
      r,
    ) => Prisma.sql`(${shop}, ${r.day}::date, ${r.destinationId}, ${r.orders}, ${r.counts.accepted + r.counts.recovered},
      ${r.counts.recovered}, ${r.counts.held_back}, ${r.counts.rejected}, ${r.counts.invalid}, ${r.counts.pending},
      ${r.counts.expired}, ${r.counts.never_received}, ${JSON.stringify(r.heldBackReasons)}::jsonb, ${now})`,
  );
  await prisma.$executeRaw`
    INSERT INTO "AccuracyDay" ("shop", "day", "destinationId", "orders", "accepted", "recovered", "heldBack", "rejected",
      "invalid", "pending", "expired", "neverReceived", "heldBackReasons", "measuredAt")
    VALUES ${Prisma.join(values)}
    ON CONFLICT ("shop", "day", "destinationId") DO UPDATE SET
      "orders" = EXCLUDED."orders", "accepted" = EXCLUDED."accepted", "recovered" = EXCLUDED."recovered",
      "heldBack" = EXCLUDED."heldBack", "rejected" = EXCLUDED."rejected", "invalid" = EXCLUDED."invalid",
      "pending" = EXCLUDED."pending", "expired" = EXCLUDED."expired", "neverReceived" = EXCLUDED."neverReceived",
      "heldBackReasons" = EXCLUDED."heldBackReasons", "measuredAt" = EXCLUDED."measuredAt"`;
}

/** One stored day of one pixel, as the admin shows it. */
export interface AccuracyDayView {
  day: string;
  destinationId: string;
  orders: number;
  counts: FateCounts;
  heldBackReasons: Record<string, number>;
  measuredAt: string;
}

/** The shop's stored days of the measured window, newest first, for its pixels that still exist. */
export async function loadAccuracy(prisma: PrismaClient, shop: string, now = new Date()): Promise<AccuracyDayView[]> {
  const [first] = accuracyDays(now);
  const rows = await prisma.accuracyDay.findMany({
    where: { shop, day: { gte: new Date(`${first}T00:00:00Z`) } },
    orderBy: [{ day: "desc" }, { destinationId: "asc" }],
  });
  const pixels = new Set(
    (await prisma.destination.findMany({ where: { shop }, select: { id: true } })).map((d) => d.id),
  );
  return rows
    .filter((r) => pixels.has(r.destinationId))
    .map((r) => {
      const counts = Object.fromEntries(ORDER_FATES.map((f) => [f, 0])) as FateCounts;
      Object.assign(counts, {
        accepted: r.accepted - r.recovered,
        recovered: r.recovered,
        held_back: r.heldBack,
        rejected: r.rejected,
        invalid: r.invalid,
        pending: r.pending,
        expired: r.expired,
        never_received: r.neverReceived,
      });
      return {
        day: r.day.toISOString().slice(0, 10),
        destinationId: r.destinationId,
        orders: r.orders,
        counts,
        heldBackReasons: reasonsOf(r.heldBackReasons),
        measuredAt: r.measuredAt.toISOString(),
      };
    });
}

function reasonsOf(value: Prisma.JsonValue): Record<string, number> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => typeof e[1] === "number"));
}
