// The Overview's reports that read every event of their window (delivery latency over 7 days,
// deduplication pairs over 14: at a big shop's size, hundreds of thousands of rows each, half a
// second of the database per load) are kept as last computed in "ReportSnapshot". A load reads
// the snapshot and, once it is older than SNAPSHOT_MAX_AGE_MS, has it computed again in the
// background: the page never waits for the scan, except on the shop's very first load, and
// shows numbers at most a few minutes old (deliveries and the browser's reports settle over
// minutes anyway). Counts and durations only.
import type { Prisma, PrismaClient } from "@prisma/client";

export const SNAPSHOT_MAX_AGE_MS = 10 * 60_000;

/** The reports kept this way. */
export type SnapshotReport = "latency" | "dedup";

export interface Snapshot<T> {
  value: T;
  measuredAt: string;
}

/** Refreshes under way in this process: a burst of loads starts one, not one each. */
const refreshing = new Set<string>();

async function measure<T>(
  prisma: PrismaClient,
  shop: string,
  report: SnapshotReport,
  now: Date,
  compute: () => Promise<T>,
): Promise<Snapshot<T>> {
  const value = await compute();
  const json = value as unknown as Prisma.InputJsonValue;
  await prisma.reportSnapshot.upsert({
    where: { shop_report: { shop, report } },
    create: { shop, report, measuredAt: now, value: json },
    update: { measuredAt: now, value: json },
  });
  return { value, measuredAt: now.toISOString() };
}

/**
 * The shop's `report`: its snapshot when there is one (refreshed in the background once stale),
 * else computed now and kept. `compute` must return plain JSON.
 */
export async function snapshotted<T>(
  prisma: PrismaClient,
  shop: string,
  report: SnapshotReport,
  now: Date,
  compute: () => Promise<T>,
): Promise<Snapshot<T>> {
  const row = await prisma.reportSnapshot.findUnique({ where: { shop_report: { shop, report } } });
  if (!row) return measure(prisma, shop, report, now, compute);
  const key = `${shop}\n${report}`;
  if (now.getTime() - row.measuredAt.getTime() >= SNAPSHOT_MAX_AGE_MS && !refreshing.has(key)) {
    refreshing.add(key);
    void measure(prisma, shop, report, now, compute)
      // The next load tries again; this one has its answer already.
      .catch((error: Error) => console.error(`report ${report} for ${shop}: ${error.message}`))
      .finally(() => refreshing.delete(key));
  }
  return { value: row.value as T, measuredAt: row.measuredAt.toISOString() };
}
