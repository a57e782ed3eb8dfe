// Tests of shops with one pixel name it through the shop: the ref of that shop's only (or first) destination.
import type { PrismaClient } from "@prisma/client";
import type { DestinationRef } from "../../app/pipeline/destinations.server";

export async function soleDestination(prisma: PrismaClient, shop: string): Promise<DestinationRef> {
  const row = await prisma.destination.findFirst({
    where: { shop },
    orderBy: { createdAt: "asc" },
    select: { id: true },
  });
  if (!row) throw new Error(`${shop} has no destination`);
  return { shop, id: row.id };
}
