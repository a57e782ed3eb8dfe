// What happens to a verified webhook: de-duplicate, build the Meta event with the event core,
// persist it (hashed) and announce it. Raw payloads are never stored: only the hashed event.
import type { PrismaClient } from "@prisma/client";
import { isEventTopic } from "../events/prepare";
import { storedSettings } from "../events/settings";
import { listDestinations } from "./destinations.server";
import { recordReceipt, recordWebhookEvent, type ReceiptInput } from "./event-store.server";
import type { WriteBatcher } from "./ingest-batcher.server";
import {
  answerOfWrite,
  ignoredTopic,
  planIngest,
  receiptOrderId,
  refusedByDatabase,
  triggeredAtOf,
  type IngestAnswer,
  type IngestPlan,
  type IngestResult,
  type ShopSnapshot,
} from "./ingest-plan";
import type { DeliveryQueue } from "./queue.server";

export interface VerifiedWebhook {
  shop: string;
  topic: string;
  webhookId: string;
  eventId?: string | null;
  triggeredAt?: string | null;
  payload: unknown;
  /**
   * Arrived as a webhook, whose shop is only what its header claims (bound to the body by
   * app/shopify/webhook-binding.ts as far as the body tells): an event whose id another shop
   * holds is refused. Not set for reconciliation, which reads the shop's own orders.
   */
  shopFromHeader?: boolean;
}

interface ShopContext extends ShopSnapshot {
  /** The Shop row's install facts; null when there is no row. */
  install: { installedAt: Date; uninstalledAt: Date | null; shopifyId: string | null } | null;
}

// Settings change rarely and webhooks come in bursts: a short cache keeps the webhook answer
// to a couple of writes. Webhooks arriving together share one load (not one each), and go on
// in the order they came: the write batcher then sees them in that order.
const CONTEXT_TTL_MS = 2_000;
const contexts = new Map<string, { loadedAt: number; context: Promise<ShopContext> }>();

export function forgetShopContext(shop: string): void {
  contexts.delete(shop);
}

function shopContext(prisma: PrismaClient, shop: string, nowMs: number): Promise<ShopContext> {
  const cached = contexts.get(shop);
  if (cached && nowMs - cached.loadedAt < CONTEXT_TTL_MS) return cached.context;
  const entry = { loadedAt: nowMs, context: loadShopContext(prisma, shop) };
  contexts.set(shop, entry);
  // A failed load is not kept: the next webhook tries again.
  entry.context.catch(() => {
    if (contexts.get(shop) === entry) contexts.delete(shop);
  });
  return entry.context;
}

async function loadShopContext(prisma: PrismaClient, shop: string): Promise<ShopContext> {
  const [row, destinations] = await Promise.all([
    prisma.shop.findUnique({ where: { shop } }),
    listDestinations(prisma, shop),
  ]);
  return {
    install: row ? { installedAt: row.installedAt, uninstalledAt: row.uninstalledAt, shopifyId: row.shopifyId } : null,
    settings: storedSettings(row?.settings).settings,
    destinations: destinations.map((d) => ({
      id: d.id,
      pixelId: d.pixelId,
      label: d.label,
      events: d.events,
      testEventCode: d.testEventCode,
      sendTestOrders: d.sendTestOrders,
      paused: d.pausedAt !== null,
      pauseReason: d.pauseReason,
    })),
  };
}

/** The Shop row's install facts, from the same short cache as the rest of the shop's context (the webhook route's binding). */
export async function shopInstall(
  prisma: PrismaClient,
  shop: string,
  nowMs = Date.now(),
): Promise<ShopContext["install"]> {
  return (await shopContext(prisma, shop, nowMs)).install;
}

export async function ingestWebhook(
  deps: { prisma: PrismaClient; queue?: DeliveryQueue; batcher?: WriteBatcher },
  webhook: VerifiedWebhook,
  now = new Date(),
): Promise<IngestResult> {
  const receipt = {
    shop: webhook.shop,
    topic: webhook.topic,
    webhookId: webhook.webhookId,
    eventId: webhook.eventId,
    triggeredAt: triggeredAtOf(webhook.triggeredAt),
    orderId: receiptOrderId(webhook.topic, webhook.payload),
  };
  // Only an event topic needs the shop's context.
  const plan = isEventTopic(webhook.topic)
    ? planIngest(
        { ...webhook, topic: webhook.topic, triggeredAt: receipt.triggeredAt },
        await shopContext(deps.prisma, webhook.shop, now.getTime()),
        now,
      )
    : ignoredTopic(webhook.topic);
  const answer = await write(deps, receipt, plan, now);
  if (answer.kick) await deps.queue?.kick(webhook.shop);
  return answer.result;
}

async function write(
  deps: { prisma: PrismaClient; batcher?: WriteBatcher },
  receipt: Omit<ReceiptInput, "outcome" | "reason">,
  plan: IngestPlan,
  now: Date,
): Promise<IngestAnswer> {
  const row = { ...receipt, outcome: plan.result.outcome, reason: plan.result.reason };
  const [first, ...more] = plan.copies;
  if (!first)
    return answerOfWrite(plan, { receiptInserted: await recordReceipt(deps.prisma, { ...row, receivedAt: now }) });
  const copies: [typeof first, ...typeof more] = [first, ...more];
  const written = deps.batcher
    ? deps.batcher.write(row, copies, now)
    : recordWebhookEvent(deps.prisma, row, copies, now);
  return written.then(
    (result) => answerOfWrite(plan, result),
    (error: unknown) => {
      const instead = refusedByDatabase(error);
      if (!instead) throw error;
      return write(deps, receipt, instead, now);
    },
  );
}
