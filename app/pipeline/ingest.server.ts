// What happens to a verified webhook: de-duplicate, build the Meta event with the event core,
// persist it (hashed) and announce it. Raw payloads are never stored: only the hashed event.
import type { PrismaClient } from "@prisma/client";
import { isEventTopic } from "../events/prepare";
import { storedSettings } from "../events/settings";
import { recordReceipt, recordWebhookEvent, type ReceiptInput } from "./event-store.server";
import type { WriteBatcher } from "./ingest-batcher.server";
import {
  answerOfWrite,
  ignoredTopic,
  planIngest,
  refusedByDatabase,
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
  loadedAt: number;
}

// Settings change rarely and webhooks come in bursts: a short cache keeps the webhook answer
// to a couple of writes.
const CONTEXT_TTL_MS = 2_000;
const contexts = new Map<string, ShopContext>();

export function forgetShopContext(shop: string): void {
  contexts.delete(shop);
}

async function shopContext(prisma: PrismaClient, shop: string, nowMs: number): Promise<ShopContext> {
  const cached = contexts.get(shop);
  if (cached && nowMs - cached.loadedAt < CONTEXT_TTL_MS) return cached;
  const [row, destination] = await Promise.all([
    prisma.shop.findUnique({ where: { shop } }),
    prisma.destination.findUnique({
      where: { shop },
      select: { pixelId: true, pausedAt: true, pauseReason: true, testEventCode: true },
    }),
  ]);
  const { settings } = storedSettings(row?.settings);
  const context: ShopContext = {
    install: row ? { installedAt: row.installedAt, uninstalledAt: row.uninstalledAt, shopifyId: row.shopifyId } : null,
    // The destination's test code is the one the merchant typed in the admin page.
    settings: destination?.testEventCode ? { ...settings, testEventCode: destination.testEventCode } : settings,
    pixelId: destination?.pixelId,
    paused: !destination || destination.pausedAt !== null,
    pauseReason: destination?.pauseReason,
    loadedAt: nowMs,
  };
  contexts.set(shop, context);
  return context;
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
    triggeredAt: webhook.triggeredAt ? new Date(webhook.triggeredAt) : null,
  };
  // Only an event topic needs the shop's context.
  const plan = isEventTopic(webhook.topic)
    ? planIngest({ ...webhook, topic: webhook.topic }, await shopContext(deps.prisma, webhook.shop, now.getTime()), now)
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
  if (!plan.event)
    return answerOfWrite(plan, { receiptInserted: await recordReceipt(deps.prisma, { ...row, receivedAt: now }) });
  const written = deps.batcher
    ? deps.batcher.write(row, plan.event, now)
    : recordWebhookEvent(deps.prisma, row, plan.event, now);
  return written.then(
    (result) => answerOfWrite(plan, result),
    (error: unknown) => {
      const instead = refusedByDatabase(error);
      if (!instead) throw error;
      return write(deps, receipt, instead, now);
    },
  );
}
