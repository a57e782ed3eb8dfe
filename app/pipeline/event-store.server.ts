// Every read and write of webhook receipts and Meta event rows. PostgreSQL is the source of
// truth for an event's fate; Redis only says "there is work for this shop". Every query is
// scoped by shop.
import { randomUUID } from "node:crypto";
import { Prisma, type PrismaClient } from "@prisma/client";
import { prismaSql, type SqlRunner } from "../db/client.server";
import { unnestColumns } from "../db/unnest-columns";
import type { Note } from "../events/outcome";
import type { MetaEvent } from "../meta/event";
import {
  DEFERRAL_REASON_CODE,
  FINAL_STATES,
  SCHEDULED_STATES,
  sqlStates,
  type EventState,
  type ReceiptOutcome,
} from "./lifecycle";
import { CLIENT_DATA_REMOVED, CLIENT_KEYS } from "./client-data";
import type { Transition } from "./schedule";

export interface ReceiptInput {
  shop: string;
  topic: string;
  webhookId: string;
  eventId?: string | null;
  triggeredAt?: Date | null;
  outcome: ReceiptOutcome;
  reason?: string | null;
  /** Default: the event id, else the webhook id. */
  dedupeKey?: string;
  /** Default: the database's clock. Ingest gives its own, as it does for the receipts written with an event. */
  receivedAt?: Date;
  /** The order an orders/* delivery is about (./ingest-plan.ts receiptOrderId). */
  orderId?: string | null;
}

/**
 * The key of a refused webhook's receipt. Kept apart from the delivery's own key: the ids of
 * a forged request are whatever its sender chose, and a refusal must never make the genuine
 * delivery of those ids look like a duplicate.
 */
export const refusedDedupeKey = (r: { eventId?: string | null; webhookId: string }) =>
  `refused:${r.eventId || r.webhookId}`;

/** Records a delivery; false when Shopify already delivered this one (same event id). */
export async function recordReceipt(prisma: PrismaClient, r: ReceiptInput): Promise<boolean> {
  return (await recordReceipts(prisma, [r])) === 1;
}

/** Records deliveries in one statement; those already recorded (same dedupe key) are skipped. Returns how many were new. */
export async function recordReceipts(prisma: PrismaClient, receipts: ReceiptInput[]): Promise<number> {
  if (receipts.length === 0) return 0;
  const { count } = await prisma.webhookReceipt.createMany({
    data: receipts.map((r) => ({
      shop: r.shop,
      topic: r.topic,
      webhookId: r.webhookId,
      eventId: r.eventId ?? null,
      dedupeKey: r.dedupeKey ?? (r.eventId || r.webhookId),
      triggeredAt: r.triggeredAt ?? null,
      ...(r.receivedAt ? { receivedAt: r.receivedAt } : {}),
      outcome: r.outcome,
      reason: r.reason ?? null,
      orderId: r.orderId ?? null,
    })),
    skipDuplicates: true,
  });
  return count;
}

/** One destination's copy of a Meta event (a shop with several pixels has one per pixel). */
export interface NewEvent {
  shop: string;
  topic: string;
  event: MetaEvent;
  state: EventState;
  /** The destination it goes to; "" (the default) while the shop has none. */
  destinationId?: string;
  pixelId?: string | null;
  testEventCode?: string | null;
  reasonCode?: string | null;
  reason?: string | null;
  customerHash?: string | null;
  /** A Purchase's order checkout_token (its InitiateCheckout's event id), for customers/redact. */
  checkoutToken?: string | null;
  /** A Purchase's order name ("#1001"), for the Events page's search. */
  orderName?: string | null;
  /** What the event went without and why (no user agent, a private IP...): stored as given. */
  notes?: Note[] | null;
  /**
   * The shop is only what a webhook's header claims: the event is refused when another shop
   * holds its id (Shopify's order ids and checkout tokens are global, so the body is that
   * shop's, replayed). Reconciliation reads a shop's own orders with its own token: not set.
   */
  refuseForeign?: boolean;
}

/** The notes column: null rather than an empty list, so that only events with notes hold any. */
function notesJson(notes: Note[] | null | undefined): string | null {
  return notes && notes.length > 0 ? JSON.stringify(notes) : null;
}

/**
 * Inserts the copy unless one with the same (shop, destination, event name, event id) exists:
 * that natural key is what makes orders/create + orders/paid + redeliveries one Purchase per
 * pixel. Returns the new row's id, or undefined for a duplicate.
 */
export async function insertEvent(prisma: PrismaClient, e: NewEvent, now: Date): Promise<bigint | undefined> {
  const rows = await prisma.$queryRaw<Array<{ id: bigint }>>`
    INSERT INTO "Event" ("shop", "destinationId", "eventName", "eventId", "topic", "state", "pixelId", "testEventCode", "payload",
                         "eventTime", "nextAttemptAt", "reasonCode", "reason", "customerHash", "checkoutToken", "orderName", "notes", "createdAt", "updatedAt")
    VALUES (${e.shop}, ${e.destinationId ?? ""}, ${e.event.event_name}, ${e.event.event_id}, ${e.topic}, ${e.state}, ${e.pixelId ?? null},
            ${e.testEventCode ?? null}, ${JSON.stringify(e.event)}::jsonb, ${new Date(e.event.event_time * 1000)}, ${now},
            ${e.reasonCode ?? null}, ${e.reason ?? null}, ${e.customerHash ?? null}, ${e.checkoutToken ?? null}, ${e.orderName ?? null}, ${notesJson(e.notes)}::jsonb, ${now}, ${now})
    ON CONFLICT ("shop", "destinationId", "eventName", "eventId") DO NOTHING
    RETURNING "id"`;
  const id = rows[0]?.id;
  if (id !== undefined) {
    await prisma.eventTransition.create({
      data: { eventPk: id, at: now, state: e.state, detail: e.reason ?? `from ${e.topic}` },
    });
  }
  return id;
}

/**
 * The rows the worker may take: scheduled and due, or left sending by a worker whose lease ran
 * out. Written once around the SQL expression of the moment, `now`: statements of fixed text
 * give it a parameter's cast, Prisma's tagged queries bind the moment (withMoment).
 */
const abandonedSendingSql = (now: string) => `"state" = 'sending' AND "leaseUntil" < ${now}`;
const dueSql = (now: string) =>
  `(("state" IN (${sqlStates(SCHEDULED_STATES)}) AND "nextAttemptAt" <= ${now}) OR (${abandonedSendingSql(now)}))`;

const MOMENT = "\u0000now\u0000";
/** A condition for a tagged query, the moment bound wherever the condition compares with it. */
function withMoment(condition: (now: string) => string, now: Date): Prisma.Sql {
  const parts = condition(MOMENT).split(MOMENT);
  return Prisma.sql(parts, ...parts.slice(1).map(() => now));
}

/** How many events of a destination are due (capped at `cap`) and since when the oldest waits. */
export async function dueSummary(
  prisma: PrismaClient,
  ref: { shop: string; id: string },
  cap: number,
  now: Date,
): Promise<{ count: number; oldest: Date | null }> {
  const rows = await prisma.$queryRaw<Array<{ count: number; oldest: Date | null }>>`
    SELECT COUNT(*)::int AS "count", MIN("nextAttemptAt") AS "oldest" FROM (
      SELECT "nextAttemptAt" FROM "Event"
      WHERE "shop" = ${ref.shop} AND "destinationId" = ${ref.id} AND ${withMoment(dueSql, now)}
      LIMIT ${cap}) AS due`;
  return rows[0] ?? { count: 0, oldest: null };
}

export interface IngestWrite {
  /** False when Shopify had delivered this webhook before (same event id). */
  receiptInserted: boolean;
  /** The new event row, or undefined when the natural key already existed. */
  eventPk?: bigint;
  /** Refused (NewEvent.refuseForeign): another shop holds the event's id. Nothing was stored but a receipt saying so. */
  refused?: boolean;
}

/** The input of RECORD_WEBHOOK_EVENTS, a webhook and its event per row. */
const WEBHOOK_COLUMNS = unnestColumns<WebhookWrite>([
  { name: "idx", type: "int", value: (_, i) => i },
  { name: "shop", type: "text", value: (w) => w.receipt.shop },
  { name: "topic", type: "text", value: (w) => w.receipt.topic },
  { name: "webhookId", type: "text", value: (w) => w.receipt.webhookId },
  { name: "eventId", type: "text", value: (w) => w.receipt.eventId ?? null },
  { name: "dedupeKey", type: "text", value: (w) => w.receipt.eventId || w.receipt.webhookId },
  { name: "triggeredAt", type: "timestamp", value: (w) => w.receipt.triggeredAt ?? null },
  { name: "now", type: "timestamp", value: (w) => w.now },
  { name: "outcome", type: "text", value: (w) => w.receipt.outcome },
  { name: "reason", type: "text", value: (w) => w.receipt.reason ?? null },
  { name: "orderId", type: "text", value: (w) => w.receipt.orderId ?? null },
  { name: "eventName", type: "text", value: (w) => w.event.event.event_name },
  { name: "evId", type: "text", value: (w) => w.event.event.event_id },
  { name: "evTopic", type: "text", value: (w) => w.event.topic },
  { name: "copies", type: "jsonb", value: (w) => copiesJson(w) },
  { name: "payload", type: "jsonb", value: (w) => JSON.stringify(w.event.event) },
  { name: "eventTime", type: "timestamp", value: (w) => new Date(w.event.event.event_time * 1000) },
  { name: "customerHash", type: "text", value: (w) => w.event.customerHash ?? null },
  { name: "notes", type: "jsonb", value: (w) => notesJson(w.event.notes) },
  { name: "checkoutToken", type: "text", value: (w) => w.event.checkoutToken ?? null },
  { name: "orderName", type: "text", value: (w) => w.event.orderName ?? null },
  { name: "refuseForeign", type: "boolean", value: (w) => w.event.refuseForeign ?? false },
]);

/** What differs between a webhook's copies (one per destination): the rest is the event's. */
function copiesJson(w: WebhookWrite): string {
  return JSON.stringify(
    [w.event, ...(w.more ?? [])].map((e) => ({
      destinationId: e.destinationId ?? "",
      pixelId: e.pixelId ?? null,
      testEventCode: e.testEventCode ?? null,
      state: e.state,
      reasonCode: e.reasonCode ?? null,
      reason: e.reason ?? null,
    })),
  );
}

/**
 * Records webhooks and their events in one statement and one commit, whatever their number:
 * that is what keeps the answer to Shopify in milliseconds under a burst. An event is
 * inserted (one copy per destination) only when its receipt is new and its natural key (shop,
 * event name, event id) is new; a receipt whose natural key is already held is recorded as a duplicate; a webhook whose
 * event id another shop holds (refuseForeign) is refused, its receipt under refusedDedupeKey.
 * The text never changes (one array per column, ../db/unnest-columns.ts), so the driver
 * parses nothing new per batch.
 */
const RECORD_WEBHOOK_EVENTS = `
  WITH input AS (
    SELECT ${WEBHOOK_COLUMNS.select}
    FROM ${WEBHOOK_COLUMNS.from}
  ),
  checked AS (
    -- Held by another shop, or given to another shop by an earlier webhook of this batch
    -- (Event_eventId_idx makes the look-up an index probe).
    SELECT i.*, (i."refuseForeign" AND (
             EXISTS (SELECT 1 FROM "Event" x WHERE x."eventId" = i."evId" AND x."eventName" = i."eventName" AND x."shop" <> i."shop")
             OR EXISTS (SELECT 1 FROM input j WHERE j."evId" = i."evId" AND j."eventName" = i."eventName" AND j."shop" <> i."shop" AND j."idx" < i."idx")
           )) AS "foreign"
    FROM input i
  ),
  receipt AS (
    INSERT INTO "WebhookReceipt" ("shop", "topic", "webhookId", "eventId", "dedupeKey", "triggeredAt", "receivedAt", "outcome", "reason", "orderId")
    SELECT i."shop", i."topic", i."webhookId", i."eventId",
           CASE WHEN i."foreign" THEN 'refused:' || i."dedupeKey" ELSE i."dedupeKey" END, i."triggeredAt", i."now",
           CASE WHEN i."foreign" THEN 'refused'
                WHEN EXISTS (SELECT 1 FROM "Event" x WHERE x."shop" = i."shop" AND x."eventName" = i."eventName" AND x."eventId" = i."evId")
                  -- An earlier new webhook of this batch carries the same event (orders/create
                  -- and orders/paid of one order arriving together): its event is the one kept.
                  OR EXISTS (SELECT 1 FROM input j
                             WHERE j."shop" = i."shop" AND j."eventName" = i."eventName" AND j."evId" = i."evId"
                               AND j."idx" < i."idx" AND j."dedupeKey" <> i."dedupeKey"
                               AND NOT EXISTS (SELECT 1 FROM "WebhookReceipt" w
                                               WHERE w."shop" = j."shop" AND w."topic" = j."topic" AND w."dedupeKey" = j."dedupeKey"))
                THEN 'duplicate' ELSE i."outcome" END,
           CASE WHEN i."foreign" THEN i."eventName" || ' ' || i."evId" || ' is held for another shop (Shopify ids are global): another shop''s body under this shop''s header'
                ELSE i."reason" END,
           i."orderId"
    FROM checked i
    ON CONFLICT ("shop", "topic", "dedupeKey") DO NOTHING
    RETURNING "shop", "topic", "dedupeKey", "outcome"
  ),
  fresh AS (
    SELECT DISTINCT ON (i."shop", i."eventName", i."evId") i.*
    FROM checked i JOIN receipt r ON r."shop" = i."shop" AND r."topic" = i."topic" AND r."dedupeKey" = i."dedupeKey" AND NOT i."foreign"
    ORDER BY i."shop", i."eventName", i."evId", i."idx"
  ),
  event AS (
    INSERT INTO "Event" ("shop", "destinationId", "eventName", "eventId", "topic", "state", "pixelId", "testEventCode", "payload",
                         "eventTime", "nextAttemptAt", "reasonCode", "reason", "customerHash", "checkoutToken", "orderName", "notes", "createdAt", "updatedAt")
    SELECT f."shop", c."destinationId", f."eventName", f."evId", f."evTopic", c."state", c."pixelId", c."testEventCode", f."payload",
           f."eventTime", f."now", c."reasonCode", c."reason", f."customerHash", f."checkoutToken", f."orderName", f."notes", f."now", f."now"
    FROM fresh f
    CROSS JOIN LATERAL jsonb_to_recordset(f."copies")
      AS c("destinationId" text, "pixelId" text, "testEventCode" text, "state" text, "reasonCode" text, "reason" text)
    ON CONFLICT ("shop", "destinationId", "eventName", "eventId") DO NOTHING
    RETURNING "id", "shop", "eventName", "eventId", "state", "reason", "topic", "createdAt"
  ),
  transition AS (
    INSERT INTO "EventTransition" ("eventPk", "at", "state", "detail")
    SELECT "id", "createdAt", "state", COALESCE("reason", 'from ' || "topic") FROM event
  )
  SELECT i."idx", (r."dedupeKey" IS NOT NULL) AS "receipt", r."outcome", e."id"::text AS "event", i."foreign"
  FROM checked i
  LEFT JOIN (SELECT DISTINCT "shop", "topic", "dedupeKey", "outcome" FROM receipt) r
    ON r."shop" = i."shop" AND r."topic" = i."topic" AND r."dedupeKey" = i."dedupeKey"
  LEFT JOIN fresh f ON f."idx" = i."idx"
  LEFT JOIN (SELECT "shop", "eventName", "eventId", MIN("id") AS "id" FROM event GROUP BY 1, 2, 3) e
    ON f."idx" IS NOT NULL AND e."shop" = f."shop" AND e."eventName" = f."eventName" AND e."eventId" = f."evId"
  ORDER BY i."idx"`;

export interface WebhookWrite {
  receipt: ReceiptInput;
  /** The event's first copy; `more` holds the copies for the shop's other destinations. */
  event: NewEvent;
  more?: NewEvent[];
  now: Date;
}

export async function recordWebhookEvents(sql: SqlRunner, rows: WebhookWrite[]): Promise<IngestWrite[]> {
  const result = await sql<{
    idx: number;
    receipt: boolean;
    outcome: string | null;
    event: string | null;
    foreign: boolean;
  }>(RECORD_WEBHOOK_EVENTS, WEBHOOK_COLUMNS.arrays(rows));
  // Two copies of one webhook in a batch: the receipt is new for the first only.
  const seen = new Set<string>();
  const writes = result.map((row) => {
    const r = rows[row.idx]!.receipt;
    const key = `${r.shop}\u0000${r.topic}\u0000${r.eventId || r.webhookId}`;
    const first = !seen.has(key);
    seen.add(key);
    return {
      receiptInserted: row.receipt && first,
      eventPk: row.event === null ? undefined : BigInt(row.event),
      ...(row.foreign ? { refused: true } : {}),
    };
  });
  // The receipt's outcome was decided on the statement's snapshot, which cannot see another
  // batch's Event row that was not committed yet (orders/create and orders/paid of one order
  // in two batches writing at once); the event insert then waited for that row and found it.
  // The webhook was answered "duplicate", so its receipt must say so too.
  const late = result.filter(
    (row, i) => writes[i]!.receiptInserted && row.event === null && row.outcome !== "duplicate",
  );
  if (late.length) {
    await sql(MARK_DUPLICATE_RECEIPTS, DUPLICATE_COLUMNS.arrays(late.map((row) => rows[row.idx]!)));
  }
  return writes;
}

const DUPLICATE_COLUMNS = unnestColumns<WebhookWrite>([
  { name: "shop", type: "text", value: (w) => w.receipt.shop },
  { name: "topic", type: "text", value: (w) => w.receipt.topic },
  { name: "dedupeKey", type: "text", value: (w) => w.receipt.eventId || w.receipt.webhookId },
  {
    name: "reason",
    type: "text",
    value: (w) => `${w.event.event.event_name} ${w.event.event.event_id} was already recorded`,
  },
]);

const MARK_DUPLICATE_RECEIPTS = `
  UPDATE "WebhookReceipt" w SET "outcome" = 'duplicate', "reason" = t."reason"
  FROM ${DUPLICATE_COLUMNS.from}
  WHERE w."shop" = t."shop" AND w."topic" = t."topic" AND w."dedupeKey" = t."dedupeKey"`;

/** One webhook and its event's copies (tests, the CLI, reconciliation): the same statement. */
export async function recordWebhookEvent(
  prisma: PrismaClient,
  receipt: ReceiptInput,
  copies: [NewEvent, ...NewEvent[]],
  now: Date,
): Promise<IngestWrite> {
  const [event, ...more] = copies;
  const [write] = await recordWebhookEvents(prismaSql(prisma), [{ receipt, event, more, now }]);
  return write!;
}

export interface ClaimedEvent {
  id: bigint;
  eventId: string;
  eventName: string;
  testEventCode: string | null;
  attempts: number;
  payload: MetaEvent;
  /** The claim's fencing token, the same on every row of one claim. */
  leaseId: string;
}

// A batch is taken when it is full, or when its oldest event is due since `onlyIfOlderThan`
// ($5, the batching window); otherwise nothing is claimed and the rows stay free.
const CLAIM_DUE = `
  WITH picked AS (
    SELECT "id", "nextAttemptAt" FROM "Event"
    WHERE "shop" = $3 AND "destinationId" = $7 AND ${dueSql(`($2::timestamptz AT TIME ZONE 'UTC')`)}
    ORDER BY "nextAttemptAt"
    LIMIT $4
    FOR UPDATE SKIP LOCKED
  ), go AS (
    SELECT COUNT(*) >= $4 OR MIN("nextAttemptAt") <= ($5::timestamptz AT TIME ZONE 'UTC') AS "go" FROM picked
  )
  UPDATE "Event" SET "state" = 'sending', "leaseUntil" = ($1::timestamptz AT TIME ZONE 'UTC'), "leaseId" = $6,
                     "attempts" = "attempts" + 1, "updatedAt" = ($2::timestamptz AT TIME ZONE 'UTC')
  WHERE "id" IN (SELECT "id" FROM picked) AND (SELECT "go" FROM go)
  RETURNING "id"::text AS "id", "eventId", "eventName", "testEventCode", "attempts", "payload", "leaseId"`;

/**
 * Takes up to `limit` due events of one destination for `leaseMs`. SKIP LOCKED lets any number of
 * workers claim side by side; a lease that runs out (worker killed mid-batch) makes the rows
 * claimable again, and Meta's event_id deduplication makes the resend harmless. Each claim
 * writes a new lease id on its rows: whoever claims a row after us replaces it, and our
 * outcomes (applyTransitions) and renewals (renewLease) then no longer match the row.
 */
export async function claimDue(
  sql: SqlRunner,
  ref: { shop: string; id: string },
  limit: number,
  leaseMs: number,
  now: Date,
  onlyIfOlderThan: Date = now,
): Promise<ClaimedEvent[]> {
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const rows = await sql<Omit<ClaimedEvent, "id"> & { id: string }>(CLAIM_DUE, [
    leaseUntil.toISOString(),
    now.toISOString(),
    ref.shop,
    limit,
    onlyIfOlderThan.toISOString(),
    randomUUID(),
    ref.id,
  ]);
  return rows.map((r) => ({ ...r, id: BigInt(r.id) }));
}

export interface AppliedTransition extends Transition {
  id: bigint;
}

/**
 * Keeps a claim's rows ours for `leaseMs` more, before a further Meta request of a batch that
 * would outlast its lease (isolating a bad event under a slow Meta). Only rows that still
 * carry `leaseId` are extended; returns how many did, so the caller knows whether it still
 * holds the whole batch.
 */
export async function renewLease(
  sql: SqlRunner,
  leaseId: string,
  ids: bigint[],
  leaseMs: number,
  now: Date,
): Promise<number> {
  if (ids.length === 0) return 0;
  // By primary key (no index on leaseId needed); the lease id is the fence.
  const rows = await sql<{ id: string }>(
    `UPDATE "Event" SET "leaseUntil" = ($3::timestamptz AT TIME ZONE 'UTC')
     WHERE "id" = ANY($1::bigint[]) AND "leaseId" = $2
     RETURNING "id"::text AS "id"`,
    [ids.map(String), leaseId, new Date(now.getTime() + leaseMs).toISOString()],
  );
  return rows.length;
}

/**
 * Gives a claim's rows up at once (the worker stops working on them): rows still carrying
 * `leaseId` become claimable by any worker now rather than when their lease would run out.
 */
export async function releaseLease(sql: SqlRunner, leaseId: string, ids: bigint[], now: Date): Promise<number> {
  if (ids.length === 0) return 0;
  // "Run out a millisecond ago": the claim's own condition (leaseUntil < now) takes them over.
  const rows = await sql<{ id: string }>(
    `UPDATE "Event" SET "leaseUntil" = ($3::timestamptz AT TIME ZONE 'UTC'), "leaseId" = NULL
     WHERE "id" = ANY($1::bigint[]) AND "leaseId" = $2 AND "state" = 'sending'
     RETURNING "id"::text AS "id"`,
    [ids.map(String), leaseId, new Date(now.getTime() - 1).toISOString()],
  );
  return rows.length;
}

/**
 * Drops the buyer's IP and user agent from an event row past sending, with the note saying so
 * (./client-data.ts holds the keys and the note's words). `e` is the Event row, `done` a SQL
 * condition saying the event is past sending.
 */
export const CLIENT_KEYS_SQL = `ARRAY[${CLIENT_KEYS.map((k) => `'${k}'`).join(", ")}]`;
export const scrubClientDataSql = (done: string) =>
  `"payload" = CASE WHEN ${done} THEN e."payload"${CLIENT_KEYS.map((k) => ` #- '{user_data,${k}}'`).join("")} ELSE e."payload" END,
   "notes" = CASE WHEN ${done} AND (e."payload"->'user_data') ?| ${CLIENT_KEYS_SQL}
     THEN COALESCE(e."notes", '[]'::jsonb) || jsonb_build_array(jsonb_build_object('code', 'client_data_removed', 'message',
       '${CLIENT_DATA_REMOVED}' ||
       array_to_string(ARRAY(SELECT k FROM jsonb_object_keys(e."payload"->'user_data') k WHERE k = ANY(${CLIENT_KEYS_SQL}) ORDER BY k), ', ')))
     ELSE e."notes" END`;

/** The input of APPLY_TRANSITIONS, a transition per row; the moment and the lease id are the parameters after its arrays. */
const TRANSITION_COLUMNS = unnestColumns<AppliedTransition>([
  { name: "id", type: "bigint", value: (t) => t.id },
  { name: "state", type: "text", value: (t) => t.state },
  { name: "nextAttemptAt", type: "timestamp", value: (t) => t.nextAttemptAt ?? null },
  // A delivery clears the reason of an earlier failure; other transitions set theirs.
  { name: "setReason", type: "boolean", value: (t) => t.reasonCode !== undefined || t.state === "sent" },
  { name: "reasonCode", type: "text", value: (t) => t.reasonCode ?? null },
  { name: "reason", type: "text", value: (t) => t.reason ?? null },
  { name: "fbtraceId", type: "text", value: (t) => t.fbtraceId || null },
  {
    name: "detail",
    type: "text",
    value: (t) => [t.reason, t.fbtraceId && `fbtrace_id ${t.fbtraceId}`].filter(Boolean).join(" · ") || null,
  },
]);
const TRANSITIONS_AT = `($${TRANSITION_COLUMNS.next}::timestamptz AT TIME ZONE 'UTC')`;
const TRANSITIONS_LEASE = `$${TRANSITION_COLUMNS.next + 1}`;

/**
 * Writes the outcome of an attempt: every event's new state and its history line, for a batch
 * of 1,000 in one statement (one array per column, so its text never changes). Fenced: only
 * rows still carrying the claim's lease id are written, in the same statement, so a worker
 * whose lease ran out and was taken over cannot overwrite the new holder's work. The rows it
 * could not write come back.
 */
const APPLY_TRANSITIONS = `
  WITH t AS (
    SELECT ${TRANSITION_COLUMNS.select} FROM ${TRANSITION_COLUMNS.from}
  ),
  changed AS (
    UPDATE "Event" e
    SET "state" = t."state", "leaseUntil" = NULL, "updatedAt" = ${TRANSITIONS_AT},
        "nextAttemptAt" = COALESCE(t."nextAttemptAt", e."nextAttemptAt"),
        "reasonCode" = CASE WHEN t."setReason" THEN t."reasonCode" ELSE e."reasonCode" END,
        "reason" = CASE WHEN t."setReason" THEN t."reason" ELSE e."reason" END,
        "fbtraceId" = COALESCE(t."fbtraceId", e."fbtraceId"), "leaseId" = NULL,
        "sentAt" = CASE WHEN t."state" = 'sent' THEN COALESCE(e."sentAt", ${TRANSITIONS_AT}) ELSE e."sentAt" END,
        ${scrubClientDataSql(`t."state" IN (${sqlStates(FINAL_STATES)})`)}
    FROM t WHERE e."id" = t."id" AND e."leaseId" = ${TRANSITIONS_LEASE}
    RETURNING e."id"
  ),
  history AS (
    INSERT INTO "EventTransition" ("eventPk", "at", "state", "detail")
    SELECT t."id", ${TRANSITIONS_AT}, t."state", t."detail" FROM t JOIN changed c ON c."id" = t."id"
  )
  SELECT t."id"::text AS "id" FROM t WHERE NOT EXISTS (SELECT 1 FROM changed c WHERE c."id" = t."id")`;

/** Returns the ids whose outcome was not written: no longer held under `leaseId` (taken over, or deleted by a redact). */
export async function applyTransitions(
  sql: SqlRunner,
  leaseId: string,
  transitions: AppliedTransition[],
  now: Date,
): Promise<bigint[]> {
  if (transitions.length === 0) return [];
  const lost = await sql<{ id: string }>(APPLY_TRANSITIONS, [
    ...TRANSITION_COLUMNS.arrays(transitions),
    now.toISOString(),
    leaseId,
  ]);
  return lost.map((r) => BigInt(r.id));
}

/** A shop's events, or one destination's copies of them. */
export interface EventScope {
  shop: string;
  destinationId?: string;
}

/**
 * Pauses or resumes the pending events of a destination, or of all a shop's (token revoked, or
 * replaced; the app uninstalled). With `abandonedSending`, rows a dead worker left in
 * 'sending' (lease run out) are taken too.
 */
export async function setPendingState(
  prisma: PrismaClient,
  scope: EventScope,
  from: readonly EventState[],
  to: EventState,
  detail: string,
  now: Date,
  abandonedSending = false,
): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ id: bigint }>>`
    UPDATE "Event" SET "state" = ${to}, "nextAttemptAt" = ${now}, "leaseUntil" = NULL, "updatedAt" = ${now},
                       "reasonCode" = ${to === "paused" ? DEFERRAL_REASON_CODE["pause-pixel"] : null}, "reason" = ${to === "paused" ? detail : null}
    WHERE "shop" = ${scope.shop} AND (${scope.destinationId ?? null}::text IS NULL OR "destinationId" = ${scope.destinationId ?? null})
      AND ("state" IN (${Prisma.join(from)}) OR (${abandonedSending} AND ${withMoment(abandonedSendingSql, now)}))
    RETURNING "id"`;
  if (rows.length) {
    await prisma.eventTransition.createMany({ data: rows.map((r) => ({ eventPk: r.id, at: now, state: to, detail })) });
  }
  return rows.length;
}

/**
 * The copies that waited for a shop's first destination (stored with none) become its own; those
 * not sent yet are queued for it.
 */
export async function adoptWaitingEvents(
  prisma: PrismaClient,
  shop: string,
  destination: { id: string; pixelId: string },
  now: Date,
): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ id: bigint; state: string }>>`
    UPDATE "Event" SET "destinationId" = ${destination.id}, "pixelId" = ${destination.pixelId},
      "state" = CASE WHEN "state" IN (${Prisma.join(["queued", "retrying", "paused"])}) THEN 'queued' ELSE "state" END,
      "reasonCode" = CASE WHEN "state" = 'paused' THEN NULL ELSE "reasonCode" END,
      "reason" = CASE WHEN "state" = 'paused' THEN NULL ELSE "reason" END,
      "nextAttemptAt" = ${now}, "updatedAt" = ${now}
    WHERE "shop" = ${shop} AND "destinationId" = ''
    RETURNING "id", "state"`;
  const queued = rows.filter((r) => r.state === "queued");
  if (queued.length) {
    await prisma.eventTransition.createMany({
      data: queued.map((r) => ({ eventPk: r.id, at: now, state: "queued", detail: "pixel connected" })),
    });
  }
  return queued.length;
}

/**
 * The paused events of a shop whose pause had `reason` become queued again: what paused them
 * is over (the app was installed again). Events paused for another reason stay paused.
 */
export async function resumePausedFor(
  prisma: PrismaClient,
  shop: string,
  reason: string,
  detail: string,
  now: Date,
): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ id: bigint }>>`
    UPDATE "Event" SET "state" = 'queued', "nextAttemptAt" = ${now}, "leaseUntil" = NULL, "updatedAt" = ${now}, "reasonCode" = NULL, "reason" = NULL
    WHERE "shop" = ${shop} AND "state" = 'paused' AND "reason" = ${reason}
    RETURNING "id"`;
  if (rows.length) {
    await prisma.eventTransition.createMany({
      data: rows.map((r) => ({ eventPk: r.id, at: now, state: "queued", detail })),
    });
  }
  return rows.length;
}

/**
 * Paused events of pixels that are no longer paused become queued. Ingest reads a shop's state
 * from a cache of a moment, so an order arriving just after the merchant reconnected is stored
 * paused under the old pause, after saving the destination resumed the others: nothing else
 * would ever send it. Ingest dates such an event's nextAttemptAt to its arrival, so the
 * index on (state, nextAttemptAt) finds the recent ones without reading every paused row of
 * long-paused shops; a week covers any stop of the workers, and older events are past Meta's
 * window anyway.
 */
export async function resumeStrayPaused(prisma: PrismaClient, now: Date): Promise<number> {
  const since = new Date(now.getTime() - 7 * 24 * 3600_000);
  const rows = await prisma.$queryRaw<Array<{ id: bigint }>>`
    UPDATE "Event" AS e SET "state" = 'queued', "nextAttemptAt" = ${now}, "leaseUntil" = NULL, "updatedAt" = ${now}, "reasonCode" = NULL, "reason" = NULL
    FROM "Destination" AS d
    WHERE e."state" = 'paused' AND e."nextAttemptAt" >= ${since} AND d."id" = e."destinationId" AND d."shop" = e."shop" AND d."pausedAt" IS NULL
    RETURNING e."id"`;
  if (rows.length) {
    await prisma.eventTransition.createMany({
      data: rows.map((r) => ({ eventPk: r.id, at: now, state: "queued", detail: "the pixel is no longer paused" })),
    });
  }
  return rows.length;
}

/** Shops with work due now: what the sweeper re-announces after Redis was away. */
export async function shopsWithDueEvents(prisma: PrismaClient, now: Date, limit = 1000): Promise<string[]> {
  const rows = await prisma.$queryRaw<Array<{ shop: string }>>`
    SELECT DISTINCT "shop" FROM "Event"
    WHERE ${withMoment(dueSql, now)}
    LIMIT ${limit}`;
  return rows.map((r) => r.shop);
}

export async function countByState(prisma: PrismaClient, shop: string): Promise<Record<string, number>> {
  const rows = await prisma.event.groupBy({ by: ["state"], where: { shop }, _count: { _all: true } });
  return Object.fromEntries(rows.map((r) => [r.state, r._count._all]));
}
