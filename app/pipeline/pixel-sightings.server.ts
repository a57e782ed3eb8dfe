// Another Meta pixel on a shop's storefront running one of the shop's own pixel ids, as the
// theme embed reports it (app/routes/proxy.seen.tsx): kept per shop and pixel id, so that the
// Overview can warn while the sighting is recent. Every statement is scoped by shop.
import type { PrismaClient } from "@prisma/client";
import { listDestinations } from "./destinations.server";

/** A sighting older than this no longer warns: the other pixel was removed, or the embed was. */
export const SIGHTING_WARN_DAYS = 7;
/** A sighting is rewritten at most this often: the embed reports from many page views. */
const REWRITE_MS = 3_600_000;

/** Records a sighting of `pixelId` when it is one of the shop's destinations; false otherwise. */
export async function recordPixelSighting(
  prisma: PrismaClient,
  shop: string,
  pixelId: string,
  now: Date,
): Promise<boolean> {
  const ours = (await listDestinations(prisma, shop)).some((d) => d.pixelId === pixelId);
  if (!ours) return false;
  await prisma.$executeRaw`
    INSERT INTO "PixelSighting" ("shop", "pixelId", "firstSeenAt", "lastSeenAt") VALUES (${shop}, ${pixelId}, ${now}, ${now})
    ON CONFLICT ("shop", "pixelId") DO UPDATE SET "lastSeenAt" = EXCLUDED."lastSeenAt"
    WHERE "PixelSighting"."lastSeenAt" < ${new Date(now.getTime() - REWRITE_MS)}`;
  return true;
}

export interface PixelSightingView {
  pixelId: string;
  /** The destination's label, when it has one. */
  label: string | null;
  lastSeenAt: string;
}

/** The shop's recent sightings, for the Overview's warning. JSON-safe. */
export async function loadPixelSightings(prisma: PrismaClient, shop: string, now: Date): Promise<PixelSightingView[]> {
  const since = new Date(now.getTime() - SIGHTING_WARN_DAYS * 86_400_000);
  const [rows, destinations] = await Promise.all([
    prisma.pixelSighting.findMany({ where: { shop, lastSeenAt: { gte: since } }, orderBy: { pixelId: "asc" } }),
    listDestinations(prisma, shop),
  ]);
  return rows.map((r) => ({
    pixelId: r.pixelId,
    label: destinations.find((d) => d.pixelId === r.pixelId)?.label ?? null,
    lastSeenAt: r.lastSeenAt.toISOString(),
  }));
}
