// The Events page's list, its CSV export and `capi events`: one shop's events matching a filter
// (./event-filter.ts), a page at a time by (createdAt, id) descending, which the index
// Event(shop, createdAt, id) serves. Every query is narrowed to the shop; the payload leaves
// the server masked (./mask.ts) and the export holds hashed data only (./events-csv.ts).
import type { Prisma, PrismaClient } from "@prisma/client";
import { createdRange, EVENTS_PAGE_SIZE, searchTerms, type Cursor, type EventFilter } from "./event-filter";
import type { EventView } from "./dashboard.server";
import type { CsvEvent } from "./events-csv";
import { maskPayload } from "./mask";
import { sumEventCounts } from "../pipeline/event-counts.server";
import { retryDecision, RETRYABLE_STATES } from "../pipeline/retry-rule";

/** What the list is narrowed by: the page's filter (no page), and for `capi events --since` a moment. */
export type ListFilter = Omit<EventFilter, "cursor" | "dir"> & { since?: Date };

/** The most Purchases one search resolves to checkout tokens (an order has one; a search names few). */
const SEARCH_ORDERS_LIMIT = 20;
/** The list counts matching events up to here, then says "more than". */
export const COUNT_LIMIT = 10_000;

/**
 * The condition of a filter for one shop. A search finds the events of an order by its name,
 * its id or its checkout token: the Purchase (event id = order id), its copies for each pixel,
 * and the order's InitiateCheckout (event id = the Purchase's checkout token).
 */
export async function eventWhere(
  prisma: PrismaClient,
  shop: string,
  filter: ListFilter,
): Promise<Prisma.EventWhereInput> {
  const range = createdRange(filter);
  const and: Prisma.EventWhereInput[] = [{ shop }];
  if (filter.since) and.push({ createdAt: { gte: filter.since } });
  if (filter.state) and.push({ state: filter.state });
  if (filter.event) and.push({ eventName: filter.event });
  if (filter.destination) and.push({ destinationId: filter.destination });
  if (range.gte || range.lt) and.push({ createdAt: range });
  if (filter.q) {
    const { ids, orderNames } = searchTerms(filter.q);
    const orders = await prisma.event.findMany({
      where: {
        shop,
        eventName: "Purchase",
        checkoutToken: { not: null },
        OR: [{ eventId: { in: ids } }, { orderName: { in: orderNames } }, { checkoutToken: { in: ids } }],
      },
      select: { checkoutToken: true },
      distinct: ["checkoutToken"],
      take: SEARCH_ORDERS_LIMIT,
    });
    const tokens = orders.map((o) => o.checkoutToken!).filter(Boolean);
    and.push({
      OR: [{ eventId: { in: [...ids, ...tokens] } }, { orderName: { in: orderNames } }, { checkoutToken: { in: ids } }],
    });
  }
  return { AND: and };
}

/**
 * Rows past the cursor: (createdAt, id) beyond it. The plain bound on createdAt is redundant
 * with the OR but is what PostgreSQL turns into a range of the (shop, createdAt, id) index, so
 * a deep page starts at its place in the index instead of scanning the pages before it.
 */
export const afterCursor = (c: Cursor, dir: "next" | "prev"): Prisma.EventWhereInput =>
  dir === "next"
    ? {
        createdAt: { lte: c.createdAt },
        OR: [{ createdAt: { lt: c.createdAt } }, { createdAt: c.createdAt, id: { lt: c.id } }],
      }
    : {
        createdAt: { gte: c.createdAt },
        OR: [{ createdAt: { gt: c.createdAt } }, { createdAt: c.createdAt, id: { gt: c.id } }],
      };

/** The pixels' names by destination id (label, else the pixel id). */
export async function pixelNames(prisma: PrismaClient, shop: string): Promise<Map<string, string>> {
  const rows = await prisma.destination.findMany({
    where: { shop },
    select: { id: true, label: true, pixelId: true },
    orderBy: { createdAt: "asc" },
  });
  return new Map(rows.map((d) => [d.id, d.label?.trim() || d.pixelId]));
}

export interface EventListRow extends EventView {
  orderName: string | null;
  /** The pixel's name; empty while the shop had none. */
  pixel: string;
  /** Whether the merchant may send it again, and if not why (../pipeline/retry-rule.ts). */
  retry: { allowed: true } | { allowed: false; reason: string };
}

export interface EventPage {
  events: EventListRow[];
  /** The cursor of the next (older) page, and of the previous (newer) one; null at either end. */
  next: Cursor | null;
  prev: Cursor | null;
  /** Events matching the filter, counted up to COUNT_LIMIT (then `countCapped`). */
  count: number;
  countCapped: boolean;
  /** Of those, how many are in a state a retry may change (rejected, invalid), up to COUNT_LIMIT. */
  retryCandidates: number;
}

const LIST_SELECT = {
  id: true,
  eventName: true,
  eventId: true,
  orderName: true,
  topic: true,
  state: true,
  attempts: true,
  reasonCode: true,
  reason: true,
  fbtraceId: true,
  testEventCode: true,
  createdAt: true,
  destinationId: true,
  payload: true,
  history: { orderBy: [{ at: "asc" }, { id: "asc" }], select: { at: true, state: true, detail: true } },
} satisfies Prisma.EventSelect;

type SelectedRow = Prisma.EventGetPayload<{ select: typeof LIST_SELECT }>;

function listRow(row: SelectedRow, names: Map<string, string>, nowSeconds: number): EventListRow {
  const decision = retryDecision(
    { state: row.state, payload: row.payload, hasDestination: names.has(row.destinationId) },
    nowSeconds,
  );
  return {
    id: row.id.toString(),
    eventName: row.eventName,
    eventId: row.eventId,
    orderName: row.orderName,
    topic: row.topic,
    state: row.state,
    attempts: row.attempts,
    reasonCode: row.reasonCode,
    reason: row.reason,
    fbtraceId: row.fbtraceId,
    testEventCode: row.testEventCode,
    createdAt: row.createdAt.toISOString(),
    pixel: names.get(row.destinationId) ?? "",
    payload: maskPayload(row.payload ?? null),
    history: row.history.map((t) => ({ at: t.at.toISOString(), state: t.state, detail: t.detail })),
    retry: decision.retry ? { allowed: true } : { allowed: false, reason: decision.reason },
  };
}

/** One of the shop's events as the list shows it (the dialog after a retry, when it left the filter). */
export async function loadEventRow(
  prisma: PrismaClient,
  shop: string,
  id: bigint,
  now: Date = new Date(),
): Promise<EventListRow | undefined> {
  const [row, names] = await Promise.all([
    prisma.event.findFirst({ where: { shop, id }, select: LIST_SELECT }),
    pixelNames(prisma, shop),
  ]);
  return row ? listRow(row, names, Math.floor(now.getTime() / 1000)) : undefined;
}

/**
 * How many events match. Without a search the filter's every condition is a column of the
 * counts rollup, which answers at once and exactly; a search's few events are counted
 * themselves, stopping one past the cap, so a big shop's table is never counted for a page.
 */
async function cappedCount(
  prisma: PrismaClient,
  shop: string,
  filter: ListFilter,
  where: Prisma.EventWhereInput,
  states?: readonly string[],
): Promise<number> {
  if (!filter.q) {
    const range = createdRange(filter);
    const starts = [range.gte, filter.since].filter((d): d is Date => d !== undefined);
    const since = starts.length ? new Date(Math.max(...starts.map((d) => d.getTime()))) : undefined;
    // The rollup's windows end inclusively; createdAt is stored to the millisecond.
    const until = range.lt && new Date(range.lt.getTime() - 1);
    if (since && until && since > until) return 0;
    return countWindow(prisma, shop, filter, { since: since ?? (until ? new Date(0) : undefined), until }, states);
  }
  const rows = await prisma.event.findMany({
    where: states ? { AND: [where, { state: { in: [...states] } }] } : where,
    select: { id: true },
    take: COUNT_LIMIT + 1,
  });
  return rows.length;
}

async function countWindow(
  prisma: PrismaClient,
  shop: string,
  filter: ListFilter,
  window: { since?: Date; until?: Date },
  states?: readonly string[],
): Promise<number> {
  const [row] = await sumEventCounts(prisma, shop, [], window, {
    ...(filter.state ? { state: filter.state } : {}),
    ...(states ? { states } : {}),
    ...(filter.event ? { eventName: filter.event } : {}),
    ...(filter.destination ? { destinationId: filter.destination } : {}),
  });
  return row?.count ?? 0;
}

export async function loadEventPage(
  prisma: PrismaClient,
  shop: string,
  filter: EventFilter,
  now: Date = new Date(),
  pageSize: number = EVENTS_PAGE_SIZE,
): Promise<EventPage> {
  const [where, names] = await Promise.all([eventWhere(prisma, shop, filter), pixelNames(prisma, shop)]);
  const dir = filter.cursor ? filter.dir : "next";
  const rows = await prisma.event.findMany({
    where: filter.cursor ? { AND: [where, afterCursor(filter.cursor, dir)] } : where,
    orderBy: dir === "next" ? [{ createdAt: "desc" }, { id: "desc" }] : [{ createdAt: "asc" }, { id: "asc" }],
    take: pageSize + 1,
    select: LIST_SELECT,
  });
  const beyond = rows.length > pageSize;
  const page = rows.slice(0, pageSize);
  if (dir === "prev") page.reverse();
  const first = page[0];
  const last = page[page.length - 1];
  const cursorOf = (r: { createdAt: Date; id: bigint }) => ({ createdAt: r.createdAt, id: r.id });
  const [count, retryCandidates] = await Promise.all([
    cappedCount(prisma, shop, filter, where),
    cappedCount(prisma, shop, filter, where, RETRYABLE_STATES),
  ]);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  return {
    events: page.map((row) => listRow(row, names, nowSeconds)),
    next: last && (dir === "prev" || beyond) ? cursorOf(last) : null,
    prev: first && (dir === "next" ? filter.cursor !== undefined : beyond) ? cursorOf(first) : null,
    count: Math.min(count, COUNT_LIMIT),
    countCapped: count > COUNT_LIMIT,
    retryCandidates: Math.min(retryCandidates, COUNT_LIMIT),
  };
}

/** Rows read per query while streaming: memory stays at one page whatever the number of events. */
export const STREAM_PAGE = 1_000;

/**
 * Every event matching the filter, newest first, read a page at a time by cursor (never the
 * whole list in memory), as the CSV export writes them. `limit` stops early (`capi events`).
 */
export async function* streamEvents(
  prisma: PrismaClient,
  shop: string,
  filter: ListFilter,
  options: { limit?: number; pageSize?: number } = {},
): AsyncGenerator<CsvEvent> {
  const pageSize = options.pageSize ?? STREAM_PAGE;
  let left = options.limit ?? Infinity;
  const [where, names] = await Promise.all([eventWhere(prisma, shop, filter), pixelNames(prisma, shop)]);
  let cursor: Cursor | undefined;
  while (left > 0) {
    const rows = await prisma.event.findMany({
      where: cursor ? { AND: [where, afterCursor(cursor, "next")] } : where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: Math.min(pageSize, left),
      select: {
        id: true,
        createdAt: true,
        eventTime: true,
        eventName: true,
        eventId: true,
        orderName: true,
        state: true,
        destinationId: true,
        attempts: true,
        reasonCode: true,
        reason: true,
        fbtraceId: true,
        testEventCode: true,
        payload: true,
      },
    });
    for (const row of rows) yield { ...row, pixel: names.get(row.destinationId) ?? "" };
    left -= rows.length;
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1]!;
    cursor = { createdAt: last.createdAt, id: last.id };
  }
}
