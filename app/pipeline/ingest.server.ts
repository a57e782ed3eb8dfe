// What happens to a verified webhook: de-duplicate, build the Meta event with the event core,
// persist it (hashed) and announce it. Raw payloads are never stored: only the hashed event.
import type { PrismaClient } from "@prisma/client";
import { isEventTopic, prepareEvent } from "../events/prepare";
import { storedSettings, type ShopEventSettings } from "../events/settings";
import { sha256Hex } from "../meta/user-data";
import { recordReceipt, recordWebhookEvent } from "./event-store.server";
import type { WriteBatcher } from "./ingest-batcher.server";
import { arrivalState, DEFERRAL_REASON_CODE, receiptOutcomeOfBuild, type ReceiptOutcome } from "./lifecycle";
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

/** A receipt outcome (./lifecycle.ts); `handled` is for lifecycle and privacy webhooks, never ingested. */
export type IngestOutcome = Exclude<ReceiptOutcome, "handled">;

export interface IngestResult {
  outcome: IngestOutcome;
  reason?: string;
}

interface ShopContext {
  /** The Shop row's install facts; null when there is no row. */
  install: { installedAt: Date; uninstalledAt: Date | null; shopifyId: string | null } | null;
  settings: ShopEventSettings;
  pixelId?: string;
  paused: boolean;
  pauseReason?: string | null;
  testEventCode?: string | null;
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
    prisma.destination.findUnique({ where: { shop }, select: { pixelId: true, pausedAt: true, pauseReason: true, testEventCode: true } }),
  ]);
  const { settings } = storedSettings(row?.settings);
  const context: ShopContext = {
    install: row ? { installedAt: row.installedAt, uninstalledAt: row.uninstalledAt, shopifyId: row.shopifyId } : null,
    // The destination's test code is the one the merchant typed in the admin page.
    settings: destination?.testEventCode ? { ...settings, testEventCode: destination.testEventCode } : settings,
    pixelId: destination?.pixelId,
    paused: !destination || destination.pausedAt !== null,
    pauseReason: destination?.pauseReason,
    testEventCode: destination?.testEventCode,
    loadedAt: nowMs,
  };
  contexts.set(shop, context);
  return context;
}

/** The Shop row's install facts, from the same short cache as the rest of the shop's context (the webhook route's binding). */
export async function shopInstall(prisma: PrismaClient, shop: string, nowMs = Date.now()): Promise<ShopContext["install"]> {
  return (await shopContext(prisma, shop, nowMs)).install;
}

/**
 * The SQLSTATE of an error caused by the data itself (class 22, or 54000 "too large to
 * index"), from the driver or through Prisma; undefined for anything a retry may cure.
 */
function refusedData(error: unknown): string | undefined {
  const e = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { code?: unknown } } } } | null;
  for (const code of [e?.code, e?.meta?.driverAdapterError?.cause?.code]) {
    if (typeof code === "string" && /^(22[0-9A-Z]{3}|54000)$/.test(code)) return code;
  }
  return undefined;
}

/**
 * SHA-256 of the payload's customer id, as user_data.external_id hashes it. The payload must
 * come from a lossless parse (app/shopify/webhook-json.ts): an id above 2^53 is then its exact
 * digits. A number that is not a safe integer was rounded on the way; its hash would match no
 * customers/redact request, so none is stored (the event core rejects such an id too).
 */
function customerHash(payload: unknown): string | null {
  const id = (payload as { customer?: { id?: unknown } } | null)?.customer?.id;
  if (typeof id === "string") return /^\d+$/.test(id.trim()) ? sha256Hex(id.trim()) : null;
  return typeof id === "number" && Number.isSafeInteger(id) ? sha256Hex(String(id)) : null;
}

/** An order's checkout_token: the event id of its checkout's InitiateCheckout (customers/redact removes both). */
function checkoutToken(payload: unknown): string | null {
  const token = (payload as { checkout_token?: unknown } | null)?.checkout_token;
  return typeof token === "string" && token.trim() ? token.trim() : null;
}

export async function ingestWebhook(
  deps: { prisma: PrismaClient; queue?: DeliveryQueue; batcher?: WriteBatcher },
  webhook: VerifiedWebhook,
  now = new Date(),
): Promise<IngestResult> {
  const { prisma } = deps;
  const receipt = {
    shop: webhook.shop,
    topic: webhook.topic,
    webhookId: webhook.webhookId,
    eventId: webhook.eventId,
    triggeredAt: webhook.triggeredAt ? new Date(webhook.triggeredAt) : null,
  };
  const duplicate: IngestResult = { outcome: "duplicate", reason: "Shopify delivered this webhook before" };
  const receiptOnly = async (result: IngestResult): Promise<IngestResult> =>
    (await recordReceipt(prisma, { ...receipt, outcome: result.outcome, reason: result.reason, receivedAt: now })) ? result : duplicate;

  if (!isEventTopic(webhook.topic)) return receiptOnly({ outcome: "ignored", reason: `no event is built from ${webhook.topic}` });
  const context = await shopContext(prisma, webhook.shop, now.getTime());
  const built = prepareEvent(webhook.topic, webhook.payload, context.settings, {
    shop: webhook.shop,
    nowSeconds: Math.floor(now.getTime() / 1000),
  });
  if (built.status === "held_back" || (built.status === "invalid" && !built.event)) {
    return receiptOnly({ outcome: receiptOutcomeOfBuild(built, context.paused), reason: built.reason });
  }

  // A built event is stored even when it cannot go yet (no pixel, paused) or at all (Meta's
  // rules refuse it): the merchant sees every conversion and what became of it.
  const event = built.event!;
  const invalid = built.status === "invalid" ? built : undefined;
  const state = arrivalState(built, context.paused);
  // The pause's own reason (reasonCode says it is a pause), as the worker and the pause word it.
  const pausedReason = !context.pixelId ? "no Meta pixel is connected yet" : context.pauseReason ?? "the pixel is paused until the merchant acts";
  const result: IngestResult = { outcome: receiptOutcomeOfBuild(built, context.paused), ...(invalid ? { reason: invalid.reason } : {}) };
  const write = await (deps.batcher ? deps.batcher.write.bind(deps.batcher) : recordWebhookEvent.bind(null, prisma))(
    { ...receipt, outcome: result.outcome, reason: result.reason },
    {
      shop: webhook.shop,
      topic: webhook.topic,
      event,
      state,
      pixelId: context.pixelId,
      testEventCode: built.status === "ready" ? built.testEventCode : null,
      reasonCode: invalid ? invalid.code : state === "paused" ? (context.pixelId ? DEFERRAL_REASON_CODE["pause-pixel"] : "no_destination") : null,
      reason: invalid ? invalid.reason : state === "paused" ? pausedReason : null,
      customerHash: customerHash(webhook.payload),
      checkoutToken: event.event_name === "Purchase" ? checkoutToken(webhook.payload) : null,
      notes: built.notes,
      refuseForeign: webhook.shopFromHeader ?? false,
    },
    now,
  ).catch((error: unknown) => {
    // A value PostgreSQL cannot store (a NUL character, a broken surrogate, a date out of
    // range, an id too long to index) fails the same way on each of Shopify's retries.
    const code = refusedData(error);
    if (!code) throw error;
    return receiptOnly({ outcome: "invalid", reason: `the database cannot store this event (PostgreSQL ${code})` });
  });
  if ("outcome" in write) return write;
  if (write.refused) return { outcome: "refused", reason: `${event.event_name} ${event.event_id} is held for another shop: this body is not ${webhook.shop}'s` };
  if (!write.receiptInserted) return duplicate;
  if (write.eventPk === undefined) return { outcome: "duplicate", reason: `${event.event_name} ${event.event_id} was already recorded` };
  if (state === "queued") await deps.queue?.kick(webhook.shop);
  return result;
}
