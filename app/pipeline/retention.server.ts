// What is kept, and for how long (README "What is kept, where, for how long"). Run hourly by
// the worker. Every statement touches at most `batch` rows, so none holds locks for long on a
// busy table; a run loops until a statement finds less than a full batch. Rows locked by
// someone else (a worker writing an outcome, another worker's run) are skipped, not waited for:
// the next hour takes them.
import { foldEventCounts } from "./event-counts.server";
import type { SqlRunner } from "../db/client.server";
import { CLIENT_KEYS_SQL, scrubClientDataSql } from "./event-store.server";
import { FINAL_STATES, sqlStates } from "./lifecycle";
import { MAX_AGE_PHYSICAL_STORE_SECONDS, MAX_AGE_SECONDS } from "../meta/validate";

export const RETENTION_BATCH = 5_000;
const DAY_MS = 86_400_000;

export interface RetentionReport {
  events: number;
  receipts: number;
  dataRequests: number;
  /** Days of the accuracy report (AccuracyDay) older than the cut-off. */
  accuracyDays: number;
  /** What the storefront reported: ids its pixel fired (BrowserEvent), other pixels seen (PixelSighting). */
  browserEvents: number;
  /** Events whose IP / user agent were dropped here rather than when their outcome was written. */
  scrubbed: number;
}

// An event "past sending": in a final state, or so old that Meta's 7-day window is closed
// (a paused event that will only ever expire: 62 days for physical_store events). $1 = now.
const PAST_SENDING = `(e."state" IN (${sqlStates(FINAL_STATES)})
  OR e."eventTime" + CASE WHEN e."payload"->>'action_source' = 'physical_store' THEN interval '${MAX_AGE_PHYSICAL_STORE_SECONDS} seconds'
                          ELSE interval '${MAX_AGE_SECONDS} seconds' END < ($1::timestamptz AT TIME ZONE 'UTC'))`;

/**
 * Events paused beyond Meta's window, and rows written before IP / user agent were dropped on
 * delivery or on arrival (an event stored final by an older release): their IP and user agent
 * go here. 'sending' rows are left to their worker, whose outcome drops them.
 */
const SCRUB = `
  UPDATE "Event" e SET ${scrubClientDataSql("TRUE")}
  WHERE e."id" IN (SELECT e."id" FROM "Event" e
                   WHERE e."state" <> 'sending' AND ${PAST_SENDING} AND (e."payload"->'user_data') ?| ${CLIENT_KEYS_SQL}
                   LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING e."id"`;

/**
 * Events created before the cut-off ($2) go with their transitions (ON DELETE CASCADE).
 * Pending ones (queued, retrying, paused; sending once its lease ran out) go only when Meta's
 * window is closed too: an event that can still be sent is never deleted unsent, whatever RETENTION_DAYS says.
 */
const DELETE_EVENTS = `
  DELETE FROM "Event" WHERE "id" IN (
    SELECT e."id" FROM "Event" e
    WHERE e."createdAt" < ($2::timestamptz AT TIME ZONE 'UTC') AND ${PAST_SENDING} AND (e."state" <> 'sending' OR e."leaseUntil" < ($1::timestamptz AT TIME ZONE 'UTC'))
    LIMIT $3 FOR UPDATE SKIP LOCKED)
  RETURNING "id"`;

const DELETE_RECEIPTS = `
  DELETE FROM "WebhookReceipt" WHERE "id" IN (
    SELECT "id" FROM "WebhookReceipt" WHERE "receivedAt" < ($1::timestamptz AT TIME ZONE 'UTC') LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING "id"`;

// Reports have their own 30 days (expiresAt, deleteExpiredDataRequests); a shorter
// RETENTION_DAYS shortens them too.
const DELETE_DATA_REQUESTS = `
  DELETE FROM "DataRequest" WHERE "id" IN (
    SELECT "id" FROM "DataRequest" WHERE "createdAt" < ($1::timestamptz AT TIME ZONE 'UTC') OR "expiresAt" <= ($2::timestamptz AT TIME ZONE 'UTC') LIMIT $3 FOR UPDATE SKIP LOCKED)
  RETURNING "id"`;

const DELETE_ACCURACY_DAYS = `
  DELETE FROM "AccuracyDay" WHERE ("shop", "day", "destinationId") IN (
    SELECT "shop", "day", "destinationId" FROM "AccuracyDay" WHERE "day" < ($1::timestamptz AT TIME ZONE 'UTC')::date LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING "shop"`;

// Ids only, joined with events of the same age: they go when those events may.
const DELETE_BROWSER_EVENTS = `
  DELETE FROM "BrowserEvent" WHERE "id" IN (
    SELECT "id" FROM "BrowserEvent" WHERE "firedAt" < ($1::timestamptz AT TIME ZONE 'UTC') LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING "id"`;

const DELETE_PIXEL_SIGHTINGS = `
  DELETE FROM "PixelSighting" WHERE ("shop", "pixelId") IN (
    SELECT "shop", "pixelId" FROM "PixelSighting" WHERE "lastSeenAt" < ($1::timestamptz AT TIME ZONE 'UTC') LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING "shop"`;

async function inBatches(batch: number, run: () => Promise<unknown[]>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = (await run()).length;
    total += n;
    if (n < batch) return total;
  }
}

export async function applyRetention(
  sql: SqlRunner,
  retentionDays: number,
  now: Date,
  batch = RETENTION_BATCH,
): Promise<RetentionReport> {
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS).toISOString();
  const at = now.toISOString();
  // Deleting first: no row is rewritten only to be deleted.
  const events = await inBatches(batch, () => sql(DELETE_EVENTS, [at, cutoff, batch]));
  const scrubbed = await inBatches(batch, () => sql(SCRUB, [at, batch]));
  const receipts = await inBatches(batch, () => sql(DELETE_RECEIPTS, [cutoff, batch]));
  const dataRequests = await inBatches(batch, () => sql(DELETE_DATA_REQUESTS, [cutoff, at, batch]));
  const accuracyDays = await inBatches(batch, () => sql(DELETE_ACCURACY_DAYS, [cutoff, batch]));
  const browserEvents = await inBatches(batch, () => sql(DELETE_BROWSER_EVENTS, [cutoff, batch]));
  // Counted with the browser ids: both are the storefront's reports.
  const sightings = await inBatches(batch, () => sql(DELETE_PIXEL_SIGHTINGS, [cutoff, batch]));
  // The deleted events' counts were taken out of the rollup by its trigger (folded here, not at
  // the next sweep); the groups they emptied go too, so the rollup stays the size of what is kept.
  await foldEventCounts(sql);
  for (const [table, time] of [
    ["EventCount", "hour"],
    ["EventStateCount", "hour"],
    ["EventDayCount", "day"],
  ]) {
    await sql(`DELETE FROM "${table}" WHERE "${time}" < ($1::timestamptz AT TIME ZONE 'UTC') AND "count" = 0`, [
      cutoff,
    ]);
  }
  return { events, receipts, dataRequests, accuracyDays, browserEvents: browserEvents + sightings, scrubbed };
}
