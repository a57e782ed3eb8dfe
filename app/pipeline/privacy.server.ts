// Shopify's lifecycle and compliance webhooks. What we hold about a buyer is hashed already;
// these handlers find it by the customer's hashed id, hashed email or order ids, and delete
// or report it.
import type { PrismaClient } from "@prisma/client";
import { z } from "zod";
import { hashValue, sha256Hex } from "../meta/user-data";
import { setPendingState } from "./event-store.server";

const customerRequestSchema = z.object({
  customer: z.object({ id: z.union([z.number(), z.string()]).transform(String).nullish(), email: z.string().nullish() }).nullish(),
  orders_to_redact: z.array(z.union([z.number(), z.string()]).transform(String)).nullish(),
  orders_requested: z.array(z.union([z.number(), z.string()]).transform(String)).nullish(),
});

function customerWhere(shop: string, payload: unknown) {
  const parsed = customerRequestSchema.safeParse(payload);
  if (!parsed.success) return undefined;
  const { customer, orders_to_redact, orders_requested } = parsed.data;
  const orderIds = [...(orders_to_redact ?? []), ...(orders_requested ?? [])];
  const emailHash = hashValue("em", customer?.email);
  const or = [
    ...(customer?.id ? [{ customerHash: sha256Hex(customer.id) }] : []),
    ...(orderIds.length ? [{ eventName: "Purchase", eventId: { in: orderIds } }] : []),
    ...(emailHash ? [{ payload: { path: ["user_data", "em"], equals: emailHash } }] : []),
  ];
  return or.length ? { shop, OR: or } : undefined;
}

/** The app's access is gone: stop delivering, forget the sessions, keep events until shop/redact. */
export async function handleUninstalled(prisma: PrismaClient, shop: string, now = new Date()): Promise<string> {
  await prisma.session.deleteMany({ where: { shop } });
  await prisma.shop.updateMany({ where: { shop }, data: { uninstalledAt: now } });
  await prisma.destination.updateMany({
    where: { shop },
    data: { pausedAt: now, pauseReason: "app uninstalled", pauseMessage: "The app was uninstalled; reinstall it to resume delivery." },
  });
  const paused = await setPendingState(prisma, shop, ["queued", "retrying", "sending"], "paused", "app uninstalled", now);
  return `uninstalled: ${paused} pending event(s) paused`;
}

/** 48 hours after uninstall: every row of the shop goes. */
export async function handleShopRedact(prisma: PrismaClient, shop: string): Promise<string> {
  // A large shop's rows take longer to delete than the web tier's statement limit (3 s) and
  // Prisma's default transaction time (5 s): both are lifted here, else every retry of the
  // redact would fail the same way and the shop's data would stay.
  const events = await prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SET LOCAL statement_timeout = 0`;
      const deleted = await tx.event.deleteMany({ where: { shop } });
      await tx.webhookReceipt.deleteMany({ where: { shop } });
      await tx.destination.deleteMany({ where: { shop } });
      await tx.session.deleteMany({ where: { shop } });
      await tx.shop.deleteMany({ where: { shop } });
      return deleted;
    },
    { timeout: 15 * 60_000 },
  );
  return `shop redacted: ${events.count} event(s) deleted`;
}

export async function handleCustomerRedact(prisma: PrismaClient, shop: string, payload: unknown): Promise<string> {
  const where = customerWhere(shop, payload);
  if (!where) return "customer redact: nothing identifies a customer in the request";
  const { count } = await prisma.event.deleteMany({ where });
  return `customer redacted: ${count} event(s) deleted`;
}

export interface CustomerDataReport {
  shop: string;
  note: string;
  events: Array<{ eventName: string; eventId: string; state: string; createdAt: Date; payload: unknown }>;
}

/** What we hold about one customer: hashed event payloads only, which is all we keep. */
export async function customerDataReport(prisma: PrismaClient, shop: string, payload: unknown): Promise<CustomerDataReport> {
  const where = customerWhere(shop, payload);
  const events = where
    ? await prisma.event.findMany({ where, select: { eventName: true, eventId: true, state: true, createdAt: true, payload: true }, orderBy: { createdAt: "asc" } })
    : [];
  return {
    shop,
    note: "CAPI Relay stores no raw personal data: customer fields are kept only as the SHA-256 hashes sent to Meta.",
    events,
  };
}
