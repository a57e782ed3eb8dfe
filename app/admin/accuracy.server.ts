// The Accuracy page's and the Overview banner's read: the shop's stored days and its pixels
// that receive Purchase, as app/admin/accuracy.ts words them. Scoped by shop.
import type { PrismaClient } from "@prisma/client";
import { loadAccuracy } from "../pipeline/accuracy.server";
import { accuracyView, type AccuracyView } from "./accuracy";

export async function loadAccuracyView(prisma: PrismaClient, shop: string, now = new Date()): Promise<AccuracyView> {
  const [days, pixels] = await Promise.all([
    loadAccuracy(prisma, shop, now),
    prisma.destination.findMany({
      where: { shop, events: { has: "Purchase" } },
      orderBy: [{ createdAt: "asc" }, { pixelId: "asc" }],
      select: { id: true, pixelId: true, label: true },
    }),
  ]);
  return accuracyView(days, pixels);
}
