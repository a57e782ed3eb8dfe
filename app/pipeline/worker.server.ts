// The delivery worker: takes "shop S has work" messages from BullMQ, claims that shop's due
// events from PostgreSQL, sends them to Meta in batches of up to 1,000 and records each
// event's fate. Any number of workers may run on any number of machines.
import type { PrismaClient } from "@prisma/client";
import { Worker } from "bullmq";
import type { MetaAnswer } from "../meta/classify";
import { deliverBatch } from "../meta/deliver";
import type { MetaEvent } from "../meta/event";
import { prismaSql, type SqlRunner } from "../db/client.server";
import { sendGraphRequest } from "../meta/graph-client.server";
import { graphRequest, MAX_EVENTS_PER_REQUEST, planBatches } from "../meta/request";
import {
  openDestination,
  pauseDestination,
  pauseUnreadableDestination,
  resumeReadableTokens,
  slowDestination,
  UNREADABLE_TOKEN_REASON,
  type DestinationRef,
  type OpenDestination,
} from "./destinations.server";
import { VaultError, type VaultKeyInput } from "../security/token-vault";
import { afterBatch, afterDelivery, notAttempted, splitByDeadline, stops, type StopSignals } from "./delivery-plan";
import {
  applyTransitions,
  claimDue,
  dueSummary,
  releaseLease,
  renewLease,
  resumeStrayPaused,
  setPendingState,
  shopsWithDueEvents,
  type ClaimedEvent,
} from "./event-store.server";
import {
  createDeliveryQueue,
  FLUSH_JOB,
  FLUSH_WINDOW_MS,
  QUEUE_NAME,
  redisConnection,
  type DeliveryQueue,
  type FlushJob,
} from "./queue.server";
import { enforceBillingForAll } from "../billing/billing.server";
import { deleteExpiredDataRequests } from "./privacy.server";
import { measureAccuracy } from "./accuracy.server";
import { readDueDatasetQuality } from "./dataset-quality.server";
import { reconcileShop, type AdminGraphql } from "./reconcile.server";
import { foldEventCounts } from "./event-counts.server";
import { applyRetention } from "./retention.server";

export const RECONCILE_JOB = "reconcile";
/** How often every shop's plan standing is applied: grace periods end and months begin unattended. */
const BILLING_CHECK_MS = 10 * 60_000;
/** How soon a shop is looked at again when its due events are all held by another worker. */
const RECHECK_MS = 200;
/** sendGraphRequest's own default: the longest one Meta request may take. */
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** Some rows of the batch were claimed by another worker (our lease ran out): stop working on it. */
class LeaseLostError extends Error {
  constructor(readonly lost: number) {
    super(`${lost} event(s) of the batch are held by another worker now`);
  }
}

export interface WorkerOptions {
  prisma: PrismaClient;
  /** The database's plain SQL channel for claims and outcomes (Prisma's when absent). */
  sql?: SqlRunner;
  redisUrl: string;
  graphUrl: string;
  queuePrefix?: string;
  /** Shops processed at once by this process. */
  concurrency?: number;
  /** How often due work is re-announced (Redis restarted, retries coming due, lost leases). */
  sweepEveryMs?: number;
  /** How long a claimed batch stays ours before another worker may take it over. */
  leaseMs?: number;
  /**
   * A batch goes when it is full or its oldest event has waited this long: light traffic is
   * flushed within a second, heavy traffic fills requests of 1,000.
   */
  batchWindowMs?: number;
  requestTimeoutMs?: number;
  appSecret?: string;
  /** ENCRYPTION_KEY (and ENCRYPTION_KEY_PREVIOUS) when absent. */
  vaultKey?: VaultKeyInput;
  now?: () => number;
  random?: () => number;
  log?: (line: string) => void;
  /** RETENTION_DAYS: rows older than this are deleted hourly (app/pipeline/retention.server.ts); off when absent (tests, the demo). */
  retentionDays?: number;
  /** Scheduled reconciliation through the Admin API; off when absent (tests, the demo). */
  reconcile?: { everyMs: number; graphqlFor(shop: string): Promise<AdminGraphql | undefined> };
  /** How often the sweep looks for pixels due a Dataset Quality read (each is read every 6 hours); off when absent (tests, the demo). */
  datasetQuality?: { everyMs: number };
}

export interface RunningWorker {
  queue: DeliveryQueue;
  /** Delivers every due event of one shop now (used by tests and the CLI). */
  flushShop(shop: string): Promise<FlushReport>;
  close(): Promise<void>;
}

export interface FlushReport {
  claimed: number;
  requests: number;
  delivered: number;
}

/** Delivers the due events of every destination of the shop, one after the other. */
export async function flushShop(
  options: WorkerOptions & { queue?: DeliveryQueue },
  shop: string,
): Promise<FlushReport> {
  const report: FlushReport = { claimed: 0, requests: 0, delivered: 0 };
  const destinations = await options.prisma.destination.findMany({ where: { shop }, select: { id: true } });
  for (const { id } of destinations) await flushDestination(options, { shop, id }, report);
  return report;
}

async function flushDestination(
  options: WorkerOptions & { queue?: DeliveryQueue },
  ref: DestinationRef,
  report: FlushReport,
): Promise<void> {
  const { prisma } = options;
  const { shop } = ref;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  let destination: OpenDestination | undefined;
  try {
    destination = await openDestination(prisma, ref, options.vaultKey);
  } catch (error) {
    if (!(error instanceof VaultError)) throw error;
    // No retry can open it: pause with a reason the merchant sees, not a failed job every sweep.
    const pixelId = await pauseUnreadableDestination(prisma, ref, new Date(now()));
    if (pixelId) options.log?.(`paused ${shop} pixel ${pixelId}: ${UNREADABLE_TOKEN_REASON}`);
    return;
  }
  if (!destination) return;
  if (destination.pausedAt) {
    // Ingest caches a shop's state for a moment, so events can arrive queued just after the
    // pause, and a worker killed mid-batch leaves its rows 'sending': they wait with the
    // others, with the reason, rather than stay where they are for ever.
    await setPendingState(
      prisma,
      { shop, destinationId: ref.id },
      ["queued", "retrying"],
      "paused",
      destination.pauseReason ?? "the pixel is paused until the merchant acts",
      new Date(now()),
      true,
    );
    return;
  }
  if (destination.slowUntil && destination.slowUntil.getTime() > now()) {
    await options.queue?.kick(shop, destination.slowUntil.getTime() - now(), "s");
    return;
  }
  const window = options.batchWindowMs ?? FLUSH_WINDOW_MS;
  for (;;) {
    // Full batches, or whatever has waited a whole window: decided inside the claim, so that
    // two workers flushing one shop at once cannot split a batch into a full one and a scrap.
    const claimedAt = now();
    const claimed = await claimDue(
      options.sql ?? prismaSql(prisma),
      ref,
      MAX_EVENTS_PER_REQUEST,
      options.leaseMs ?? 60_000,
      new Date(claimedAt),
      new Date(claimedAt - window),
    );
    if (claimed.length === 0) {
      if (window > 0) {
        const due = await dueSummary(prisma, ref, MAX_EVENTS_PER_REQUEST, new Date(now()));
        const waited = now() - (due.oldest?.getTime() ?? now());
        // Rows another worker holds are its business; look again shortly in case it dies.
        if (due.count > 0) await options.queue?.kick(shop, Math.max(window - waited, RECHECK_MS), "w");
      }
      break;
    }
    report.claimed += claimed.length;
    const stop = await deliverClaimed(options, destination, claimed, claimedAt, report, now, random);
    if (stop || claimed.length < MAX_EVENTS_PER_REQUEST) break;
  }
}

async function deliverClaimed(
  options: WorkerOptions & { queue?: DeliveryQueue },
  destination: OpenDestination,
  claimed: ClaimedEvent[],
  claimedAt: number,
  report: FlushReport,
  now: () => number,
  random: () => number,
): Promise<boolean> {
  const { prisma } = options;
  const sql = options.sql ?? prismaSql(prisma);
  const lease = keptLease(sql, claimed, claimedAt, options, now);
  const { expired, sendable } = splitByDeadline(claimed, destination.pixelId, now());
  const transitions = [...expired];
  let signals: StopSignals = { rateLimited: false };
  try {
    for (const batch of planBatches(sendable)) {
      const result = await deliverBatch(batch, async (events) => {
        await lease.keep();
        return sendToPixel(options, destination, events, batch[0]!.testEventCode);
      });
      report.requests += result.requests;
      const outcome = afterBatch(result.fates, now(), random);
      report.delivered += outcome.delivered;
      transitions.push(...outcome.transitions);
      signals = outcome.stop;
      if (stops(signals)) break;
    }
  } catch (error) {
    if (!(error instanceof LeaseLostError)) throw error;
    // Write what is known of the rows still ours (earlier sub-batches), hand the rest back at
    // once, and leave the batch to the worker that took part of it: Meta's event_id
    // deduplication absorbs whatever both of us sent.
    await applyTransitions(sql, lease.id, transitions, new Date(now()));
    const released = await releaseLease(sql, lease.id, lease.ids, new Date(now()));
    options.log?.(
      `${destination.shop}: lease lost mid-batch (${error.message}); stopped, ${released} event(s) handed back`,
    );
    return true;
  }
  transitions.push(...notAttempted(sendable, transitions, signals, now()));
  const lost = await applyTransitions(sql, lease.id, transitions, new Date(now()));
  if (lost.length > 0) {
    // The lease ran out before the outcome was written and another worker claimed these rows:
    // theirs is the outcome that counts now.
    options.log?.(
      `${destination.shop}: lease lost: ${lost.length} of ${transitions.length} outcome(s) not written, another worker holds those events now`,
    );
  }
  const next = afterDelivery(signals, lost.length);
  if (next.next === "pause") {
    await pauseDestination(prisma, destination, next.verdict.reason, next.verdict.merchantMessage, new Date(now()));
    options.log?.(`paused ${destination.shop} pixel ${destination.pixelId}: ${next.verdict.reason}`);
  } else if (next.next === "slow") {
    await slowDestination(prisma, destination, new Date(now() + next.forMs));
    await options.queue?.kick(destination.shop, next.forMs, "s");
  }
  return next.next !== "continue";
}

/**
 * A claim's lease, kept before each Meta request: a batch whose isolation (halving until the
 * bad event is found, each half a request) could outlast the lease renews it while every row
 * is still ours, and gives the batch up the moment one is not (another worker took it over).
 */
function keptLease(
  sql: SqlRunner,
  claimed: ClaimedEvent[],
  claimedAt: number,
  options: Pick<WorkerOptions, "leaseMs" | "requestTimeoutMs">,
  now: () => number,
) {
  const leaseMs = options.leaseMs ?? 60_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const id = claimed[0]!.leaseId;
  const ids = claimed.map((row) => row.id);
  let until = claimedAt + leaseMs;
  return {
    id,
    ids,
    async keep(): Promise<void> {
      if (until - now() >= Math.max(leaseMs / 2, requestTimeoutMs)) return;
      const held = await renewLease(sql, id, ids, leaseMs, new Date(now()));
      if (held < ids.length) throw new LeaseLostError(ids.length - held);
      until = now() + leaseMs;
    },
  };
}

function sendToPixel(
  options: WorkerOptions,
  destination: OpenDestination,
  events: MetaEvent[],
  testEventCode: string | undefined,
): Promise<MetaAnswer> {
  return sendGraphRequest(
    graphRequest(
      {
        pixelId: destination.pixelId,
        accessToken: destination.accessToken,
        apiVersion: destination.apiVersion,
        appSecret: options.appSecret,
      },
      events,
      { testEventCode, graphUrl: options.graphUrl },
    ),
    options.requestTimeoutMs,
  );
}

async function reconcileAll(options: WorkerOptions & { queue?: DeliveryQueue }): Promise<void> {
  if (!options.reconcile) return;
  const shops = await options.prisma.destination.findMany({
    where: { pausedAt: null },
    distinct: ["shop"],
    select: { shop: true },
  });
  for (const { shop } of shops) {
    try {
      const graphql = await options.reconcile.graphqlFor(shop);
      if (!graphql) continue;
      const report = await reconcileShop({ prisma: options.prisma, queue: options.queue, graphql }, shop);
      if (report.recovered || report.checkouts.recovered) {
        options.log?.(
          `${shop}: reconciliation recovered ${report.recovered} order(s) and ${report.checkouts.recovered} checkout(s)`,
        );
      }
    } catch (error) {
      // One shop's failure (no session, API down) must not stop the others.
      options.log?.(`${shop}: reconciliation failed: ${(error as Error).message}`);
    }
  }
  // Every shop with a pixel that receives Purchase, paused ones too: their orders wait, and the report says so.
  const measured = await options.prisma.destination.findMany({
    where: { events: { has: "Purchase" } },
    distinct: ["shop"],
    select: { shop: true },
  });
  for (const { shop } of measured) await measureShopAccuracy(options, shop);
}

/** After reconciliation (whose receipts it reads): the shop's accuracy days against Shopify's orders. */
async function measureShopAccuracy(options: WorkerOptions, shop: string): Promise<void> {
  try {
    const graphql = await options.reconcile?.graphqlFor(shop);
    if (graphql) await measureAccuracy({ prisma: options.prisma, graphql }, shop);
  } catch (error) {
    options.log?.(`${shop}: accuracy not measured: ${(error as Error).message}`);
  }
}

export async function sweepDueWork(prisma: PrismaClient, queue: DeliveryQueue, now = new Date()): Promise<number> {
  await resumeStrayPaused(prisma, now);
  const shops = await shopsWithDueEvents(prisma, now);
  await Promise.all(shops.map((shop) => queue.kick(shop, 0)));
  return shops.length;
}

export function startWorker(options: WorkerOptions): RunningWorker {
  const log = options.log ?? (() => undefined);
  const queue = createDeliveryQueue(options.redisUrl, options.queuePrefix);
  const opts = { ...options, queue };
  const connection = redisConnection(options.redisUrl);
  connection.on("error", () => undefined);
  const worker = new Worker<FlushJob>(
    QUEUE_NAME,
    async (job) => {
      if (job.name === RECONCILE_JOB) return reconcileAll(opts);
      if (job.name !== FLUSH_JOB) return;
      const report = await flushShop(opts, job.data.shop);
      if (report.claimed)
        log(`${job.data.shop}: ${report.delivered}/${report.claimed} delivered in ${report.requests} request(s)`);
    },
    { connection, prefix: options.queuePrefix ?? "capi", concurrency: options.concurrency ?? 2, autorun: true },
  );
  worker.on("error", (error) => log(`worker: ${error.message}`));
  if (options.reconcile) {
    // One scheduler id for all workers: Redis runs it once per period, on whichever is free.
    void queue.queue
      .upsertJobScheduler(
        RECONCILE_JOB,
        { every: options.reconcile.everyMs },
        { name: RECONCILE_JOB, data: { shop: "*" } },
      )
      .catch((error: Error) => log(`reconcile schedule: ${error.message}`));
  }
  worker.on("failed", (job, error) => log(`flush ${job?.data.shop ?? "?"} failed: ${error.message}`));

  let sweeping = false;
  let purgedAt = 0;
  let billedAt = 0;
  let qualityAt = 0;
  let readingQuality = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const nowMs = (options.now ?? Date.now)();
      for (const ref of await resumeReadableTokens(options.prisma, options.vaultKey, new Date(nowMs)))
        log(`resumed ${ref.shop}: its access token can be read again`);
      await sweepDueWork(options.prisma, queue, new Date(nowMs));
      // The admin's counts: the changes the triggers appended since the last sweep.
      await foldEventCounts(options.sql ?? prismaSql(options.prisma));
      if (nowMs - billedAt >= BILLING_CHECK_MS) {
        billedAt = nowMs;
        await enforceBillingForAll(options.prisma, new Date(nowMs), log);
      }
      // Not awaited, like retention: Meta's answers may take seconds each, and due work must keep moving.
      if (options.datasetQuality && !readingQuality && nowMs - qualityAt >= options.datasetQuality.everyMs) {
        qualityAt = nowMs;
        readingQuality = true;
        void readDueDatasetQuality({
          prisma: options.prisma,
          meta: { graphUrl: options.graphUrl, appSecret: options.appSecret, timeoutMs: options.requestTimeoutMs },
          vaultKey: options.vaultKey,
          now: options.now,
        })
          .then(
            (read) => read > 0 && log(`dataset quality: read ${read} pixel(s)`),
            (error: Error) => log(`dataset quality: ${error.message}`),
          )
          .finally(() => (readingQuality = false));
      }
      // Data request reports are kept DATA_REQUEST_RETENTION_DAYS; checking hourly is soon enough.
      if (nowMs - purgedAt >= 3_600_000) {
        purgedAt = nowMs;
        await deleteExpiredDataRequests(options.prisma, new Date(nowMs));
        // Not awaited: a first run on a large table takes many batches, and due work must
        // keep being swept meanwhile.
        if (options.retentionDays !== undefined) {
          void applyRetention(options.sql ?? prismaSql(options.prisma), options.retentionDays, new Date(nowMs)).then(
            (kept) => {
              if (
                kept.events +
                  kept.receipts +
                  kept.dataRequests +
                  kept.accuracyDays +
                  kept.browserEvents +
                  kept.scrubbed >
                0
              ) {
                log(
                  `retention: deleted ${kept.events} event(s), ${kept.receipts} receipt(s), ${kept.dataRequests} data request(s), ${kept.accuracyDays} accuracy day(s), ${kept.browserEvents} browser event id(s); dropped IP/user agent of ${kept.scrubbed}`,
                );
              }
            },
            (error: Error) => log(`retention: ${error.message}`),
          );
        }
      }
    } catch (error) {
      log(`sweep: ${(error as Error).message}`);
    } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(sweep, options.sweepEveryMs ?? 2_000);
  void sweep();

  return {
    queue,
    flushShop: (shop) => flushShop(opts, shop),
    async close() {
      clearInterval(timer);
      await worker.close().catch(() => undefined);
      connection.disconnect();
      await queue.close();
    },
  };
}
