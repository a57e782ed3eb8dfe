// The one place billing touches delivery: a standing that holds pauses each of the shop's
// destinations with the billing reason (its events stay stored, paused, with that reason), and a standing
// that delivers again resumes a destination billing paused (its paused events are re-queued;
// the worker marks those past Meta's window `expired` with the reason, and sends the rest).
// Through app/pipeline/destinations.server.ts only.
import type { PrismaClient } from "@prisma/client";
import { pauseDestination, resumeDestination } from "../pipeline/destinations.server";
import { isBillingHoldReason, type BillingStanding } from "./standing";

export type HoldChange = "held" | "released" | "unchanged";

/** Applies the standing to every destination of the shop: a plan holds or releases them all. */
export async function applyBillingHold(
  prisma: PrismaClient,
  shop: string,
  standing: Pick<BillingStanding, "hold" | "plan">,
  now: Date,
): Promise<HoldChange> {
  const destinations = await prisma.destination.findMany({
    where: { shop },
    select: { id: true, pausedAt: true, pauseReason: true, pauseMessage: true },
  });
  // No pixel yet: its events wait paused already, and connecting one re-reads the standing.
  const changes = new Set<HoldChange>();
  for (const destination of destinations)
    changes.add(await applyToDestination(prisma, shop, destination, standing, now));
  return changes.has("held") ? "held" : changes.has("released") ? "released" : "unchanged";
}

async function applyToDestination(
  prisma: PrismaClient,
  shop: string,
  destination: { id: string; pausedAt: Date | null; pauseReason: string | null; pauseMessage: string | null },
  standing: Pick<BillingStanding, "hold" | "plan">,
  now: Date,
): Promise<HoldChange> {
  const ref = { shop, id: destination.id };
  const billingPaused = !!destination.pausedAt && isBillingHoldReason(destination.pauseReason);
  if (!standing.hold) {
    if (!billingPaused) return "unchanged";
    await resumeDestination(prisma, ref, `billing: the ${standing.plan.name} plan covers these events: resumed`, now);
    return "released";
  }
  // Paused for another cause (a revoked token, an uninstall): that pause already holds every
  // event, and its words tell the merchant the first thing to fix. Saving the fix resumes it,
  // and the next reading of the standing holds again if billing still says so.
  if (destination.pausedAt && !billingPaused) return "unchanged";
  if (
    billingPaused &&
    destination.pauseReason === standing.hold.reason &&
    destination.pauseMessage === standing.hold.message
  )
    return "unchanged";
  await pauseDestination(prisma, ref, standing.hold.reason, standing.hold.message, now);
  return billingPaused ? "unchanged" : "held";
}
