// Reads Meta's Dataset Quality numbers for each destination's pixel (app/meta/dataset-quality.ts)
// and keeps the last answer per destination (table DatasetQuality): on a schedule from the
// worker's sweep (every 6 hours per pixel, spread), and when the merchant presses Refresh (at
// most every 10 minutes per pixel). Any number of workers may sweep: a read is claimed in one
// SQL statement first, so each due pixel is read once.
import type { PrismaClient } from "@prisma/client";
import {
  classifyDatasetQuality,
  datasetQualityRequest,
  nextQualityReadAt,
  refreshAllowed,
  type DatasetQualityRead,
  type EventQualitySummary,
} from "../meta/dataset-quality";
import { sendGraphRequest } from "../meta/graph-client.server";
import { VaultError, type VaultKeyInput } from "../security/token-vault";
import { vaultKeys } from "../security/vault-key.server";
import type { MetaAccess } from "./connection.server";
import { openDestination, UNREADABLE_TOKEN_MESSAGE, type DestinationRef } from "./destinations.server";

export interface QualityReadOptions {
  prisma: PrismaClient;
  meta: MetaAccess;
  vaultKey?: VaultKeyInput;
  now?: () => number;
}

/** A claimed read holds the row this long; a worker that dies mid-read lets another retry after it. */
const CLAIM_MS = 5 * 60_000;
/** Pixels read per sweep: Meta's rate limits are per app, so reads trickle rather than burst. */
export const QUALITY_READS_PER_SWEEP = 20;

/** What the Overview and `capi quality` show of one destination. */
export interface StoredQuality {
  destinationId: string;
  /** read | refused | unavailable, or pending before the first answer. */
  status: "read" | "refused" | "unavailable" | "pending";
  readAt: string | null;
  attemptedAt: string;
  events: EventQualitySummary[];
  message: string | null;
}

/**
 * Takes the destination's read: true when this caller is to read it now (no row yet, or the
 * row is due; `force` for a Refresh within its own rate limit).
 */
async function claim(prisma: PrismaClient, ref: DestinationRef, now: Date, force: boolean): Promise<boolean> {
  const until = new Date(now.getTime() + CLAIM_MS);
  const rows = await prisma.$queryRawUnsafe<Array<{ destinationId: string }>>(
    `INSERT INTO "DatasetQuality" ("destinationId", "shop", "status", "attemptedAt", "nextReadAt", "updatedAt")
     SELECT d."id", d."shop", 'pending', $3, $4, $3 FROM "Destination" d WHERE d."id" = $1 AND d."shop" = $2
     ON CONFLICT ("destinationId") DO UPDATE SET "nextReadAt" = EXCLUDED."nextReadAt", "attemptedAt" = EXCLUDED."attemptedAt"
       WHERE "DatasetQuality"."shop" = $2 AND ($5 OR "DatasetQuality"."nextReadAt" <= $3)
     RETURNING "destinationId"`,
    ref.id,
    ref.shop,
    now,
    until,
    force,
  );
  return rows.length === 1;
}

async function store(prisma: PrismaClient, ref: DestinationRef, read: DatasetQualityRead, now: Date): Promise<void> {
  const next = nextQualityReadAt(ref.id, now, read.status === "unavailable" && read.rateLimited);
  // A refusal or an outage keeps the last numbers Meta gave (and when), with the message beside them.
  const data =
    read.status === "read"
      ? { status: "read", readAt: now, metrics: read.events as object[], message: null, reason: null }
      : { status: read.status, message: read.message, reason: read.reason };
  await prisma.datasetQuality.updateMany({
    where: { destinationId: ref.id, shop: ref.shop },
    data: { ...data, attemptedAt: now, nextReadAt: next },
  });
}

/** Reads one destination's numbers now (already claimed) and stores them. */
async function readAndStore(options: QualityReadOptions, ref: DestinationRef, now: Date): Promise<DatasetQualityRead> {
  let read: DatasetQualityRead;
  try {
    const destination = await openDestination(options.prisma, ref, options.vaultKey ?? vaultKeys());
    if (!destination) return { status: "refused", problem: "dataset", message: "", reason: "no such destination" };
    const answer = await sendGraphRequest(
      datasetQualityRequest(
        {
          pixelId: destination.pixelId,
          accessToken: destination.accessToken,
          apiVersion: destination.apiVersion,
          appSecret: options.meta.appSecret,
        },
        { graphUrl: options.meta.graphUrl },
      ),
      options.meta.timeoutMs,
    );
    read = classifyDatasetQuality(answer, destination.pixelId);
  } catch (error) {
    if (!(error instanceof VaultError)) throw error;
    read = { status: "refused", problem: "token", message: UNREADABLE_TOKEN_MESSAGE, reason: "token unreadable" };
  }
  await store(options.prisma, ref, read, now);
  return read;
}

/** The worker's scheduled reads: the due destinations, a few per sweep. Returns how many were read. */
export async function readDueDatasetQuality(
  options: QualityReadOptions,
  limit = QUALITY_READS_PER_SWEEP,
): Promise<number> {
  const now = new Date((options.now ?? Date.now)());
  const due = await options.prisma.destination.findMany({
    where: { OR: [{ quality: null }, { quality: { nextReadAt: { lte: now } } }] },
    orderBy: { createdAt: "asc" },
    take: limit,
    select: { id: true, shop: true },
  });
  let read = 0;
  for (const ref of due) {
    if (!(await claim(options.prisma, ref, now, false))) continue;
    await readAndStore(options, ref, now);
    read++;
  }
  return read;
}

export type RefreshResult =
  { ok: true; read: DatasetQualityRead } | { ok: false; reason: "no-destination" | "too-soon"; message: string };

/** The merchant's Refresh of one pixel: at most once per QUALITY_REFRESH_MIN_MS. */
export async function refreshDatasetQuality(options: QualityReadOptions, ref: DestinationRef): Promise<RefreshResult> {
  const now = new Date((options.now ?? Date.now)());
  const exists = await options.prisma.destination.findFirst({
    where: { id: ref.id, shop: ref.shop },
    select: { quality: { select: { attemptedAt: true } } },
  });
  if (!exists) return { ok: false, reason: "no-destination", message: "This pixel is no longer connected." };
  const allowed = refreshAllowed(exists.quality?.attemptedAt, now);
  if (!allowed.ok)
    return {
      ok: false,
      reason: "too-soon",
      message: `Meta's numbers were read moments ago; they change slowly. Refresh again in ${allowed.waitMinutes} minute${allowed.waitMinutes === 1 ? "" : "s"}.`,
    };
  if (!(await claim(options.prisma, ref, now, true)))
    return { ok: false, reason: "no-destination", message: "This pixel is no longer connected." };
  return { ok: true, read: await readAndStore(options, ref, now) };
}

/** The shop's stored numbers, one per destination that has been read (or is being read). */
export async function loadDatasetQuality(prisma: PrismaClient, shop: string): Promise<StoredQuality[]> {
  const rows = await prisma.datasetQuality.findMany({ where: { shop }, orderBy: { destinationId: "asc" } });
  return rows.map((row) => ({
    destinationId: row.destinationId,
    status: row.status as StoredQuality["status"],
    readAt: row.readAt?.toISOString() ?? null,
    attemptedAt: row.attemptedAt.toISOString(),
    // Written by store() above from a parsed answer; an absent value is no numbers yet.
    events: Array.isArray(row.metrics) ? (row.metrics as unknown as EventQualitySummary[]) : [],
    message: row.message,
  }));
}
