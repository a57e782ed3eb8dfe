// What becomes of a verified webhook, decided without I/O: which receipt, which event row (if
// any) and which answer; then what the write's result makes of that answer. The ingest shell
// (./ingest.server.ts) loads the shop's context, writes the plan and announces the work.
import { z } from "zod";
import type { BuildOutcome } from "../events/outcome";
import { prepareEvent, type EventTopic } from "../events/prepare";
import type { ShopEventSettings } from "../events/settings";
import { sha256Hex } from "../meta/user-data";
import { maxAgeSeconds } from "../meta/validate";
import { withoutClientData } from "./client-data";
import type { IngestWrite, NewEvent } from "./event-store.server";
import {
  arrivalState,
  DEFERRAL_REASON_CODE,
  expiredOnArrival,
  FINAL_STATES,
  receiptOutcomeOfBuild,
  type ReceiptOutcome,
} from "./lifecycle";

/** A receipt outcome (./lifecycle.ts); `handled` is for lifecycle and privacy webhooks, never ingested. */
export type IngestOutcome = Exclude<ReceiptOutcome, "handled">;

export interface IngestResult {
  outcome: IngestOutcome;
  reason?: string;
}

/** One of the shop's destinations, as ingest sees it (./destinations.server.ts). */
export interface DestinationTarget {
  id: string;
  pixelId: string;
  label?: string | null;
  /** The Meta events it receives. */
  events: readonly string[];
  testEventCode: string | null;
  /** Whether Shopify test orders go to its test event code (else they are not sent to it). */
  sendTestOrders: boolean;
  paused: boolean;
  pauseReason?: string | null;
}

/** What ingest knows of the shop when the webhook arrives (a short cache of its rows). */
export interface ShopSnapshot {
  settings: ShopEventSettings;
  /** Every event fans out to each; none: the event waits for the first one connected. */
  destinations: readonly DestinationTarget[];
}

export interface PlannedWebhook {
  shop: string;
  topic: EventTopic;
  payload: unknown;
  /** The shop is only what the webhook's header claims (VerifiedWebhook.shopFromHeader). */
  shopFromHeader?: boolean;
  /** When Shopify triggered the webhook (X-Shopify-Triggered-At, read by triggeredAtOf); null when not given. */
  triggeredAt?: Date | null;
}

export interface IngestPlan {
  /** The answer, and the receipt's outcome and reason, when the write goes as planned. */
  result: IngestResult;
  /** The event's copies written with the receipt, one per destination; none: a receipt alone. */
  copies: NewEvent[];
}

/** What the write made of a plan, and whether the shop now has work to announce. */
export interface IngestAnswer {
  result: IngestResult;
  kick: boolean;
}

export const ALREADY_DELIVERED: IngestResult = {
  outcome: "duplicate",
  reason: "Shopify delivered this webhook before",
};

const orderReference = z.object({
  id: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).transform(String),
});

/**
 * The order an orders/* delivery is about, kept on its receipt: an order held back on arrival
 * (consent, the shop's settings) has no event, and the accuracy report finds why by this id.
 * null for other topics and for a body without a numeric id.
 */
export function receiptOrderId(topic: string, payload: unknown): string | null {
  if (!topic.startsWith("orders/")) return null;
  const parsed = orderReference.safeParse(payload);
  return parsed.success ? parsed.data.id : null;
}

/** A webhook of a topic no event is built from: its receipt says so. */
export function ignoredTopic(topic: string): IngestPlan {
  return { result: { outcome: "ignored", reason: `no event is built from ${topic}` }, copies: [] };
}

/** The stand-in destination of a shop that has none yet: its copy waits, paused, for the first. */
const WAITING: DestinationTarget = {
  id: "",
  pixelId: "",
  events: [],
  testEventCode: null,
  sendTestOrders: false,
  paused: true,
};

export function planIngest(webhook: PlannedWebhook, shop: ShopSnapshot, now: Date): IngestPlan {
  // The event is built once per test event code in use: only a test order's outcome depends on it.
  const builds = new Map<string, BuildOutcome>();
  const build = (code: string | undefined): BuildOutcome => {
    let built = builds.get(code ?? "");
    if (!built) {
      built = fresh(
        prepareEvent(
          webhook.topic,
          webhook.payload,
          { ...shop.settings, testEventCode: code },
          { shop: webhook.shop, nowSeconds: Math.floor(now.getTime() / 1000) },
        ),
        webhook.triggeredAt,
        now,
      );
      builds.set(code ?? "", built);
    }
    return built;
  };
  const targets = shop.destinations.length > 0 ? shop.destinations : [WAITING];
  const copies: NewEvent[] = [];
  // The receipt says what became of the first copy stored.
  let first: BuildOutcome | undefined;
  const skipped: string[] = [];
  for (const target of targets) {
    const built = build(target.sendTestOrders ? (target.testEventCode ?? undefined) : undefined);
    if (built.status === "held_back" || (built.status === "invalid" && !built.event)) {
      skipped.push(built.reason);
      continue;
    }
    const event = built.event!;
    if (target !== WAITING && !target.events.includes(event.event_name)) {
      skipped.push(`pixel ${target.label || target.pixelId} is set not to receive ${event.event_name}`);
      continue;
    }
    copies.push(copyFor(webhook, target, built));
    first ??= built;
  }
  if (copies.length === 0) {
    const invalid = [...builds.values()].find((b) => b.status === "invalid");
    const reason = [...new Set(skipped)].join("; ");
    return { result: { outcome: invalid ? "invalid" : "held_back", reason }, copies };
  }
  const built = first!;
  const outcome = receiptOutcomeOfBuild(built, !copies.some((c) => c.state === "queued"));
  return { result: { outcome, ...(built.status === "invalid" ? { reason: built.reason } : {}) }, copies };
}

// A built event is stored even when it cannot go yet (no pixel, paused) or at all (Meta's
// rules refuse it): the merchant sees every conversion and what became of it.
function copyFor(
  webhook: PlannedWebhook,
  target: DestinationTarget,
  built: Exclude<BuildOutcome, { status: "held_back" }>,
): NewEvent {
  const event = built.event!;
  const invalid = built.status === "invalid" ? built : undefined;
  const state = arrivalState(built, target.paused);
  // One that can never be sent keeps no IP or user agent, not even until retention's next run.
  const { event: storedEvent, notes } = FINAL_STATES.includes(state)
    ? withoutClientData(event, built.notes ?? [])
    : { event, notes: built.notes };
  const stored = invalid
    ? { reasonCode: invalid.code, reason: invalid.reason }
    : state === "paused"
      ? pauseOf(target)
      : { reasonCode: null, reason: null };
  return {
    shop: webhook.shop,
    topic: webhook.topic,
    event: storedEvent,
    state,
    destinationId: target.id,
    pixelId: target.pixelId || null,
    testEventCode: built.status === "ready" ? (built.testEventCode ?? null) : null,
    ...stored,
    customerHash: customerHash(webhook.payload),
    checkoutToken: event.event_name === "Purchase" ? checkoutToken(webhook.payload) : null,
    orderName: event.event_name === "Purchase" ? orderName(webhook.payload) : null,
    notes,
    refuseForeign: webhook.shopFromHeader ?? false,
  };
}

const DAY_MS = 86_400_000;

/**
 * The build, unless Shopify delivered the webhook after Meta's window for its event had
 * closed: Shopify triggered it before the conversion could be that old, so however the
 * payload's own times read, Meta would refuse the event. It is stored expired, with how late
 * the delivery was (a queue of Shopify's drained days late, an old delivery replayed).
 */
function fresh(built: BuildOutcome, triggeredAt: Date | null | undefined, now: Date): BuildOutcome {
  const event = built.status === "held_back" ? undefined : built.event;
  if (!event || !triggeredAt) return built;
  const lateMs = now.getTime() - triggeredAt.getTime();
  const windowMs = maxAgeSeconds(event.action_source) * 1000;
  if (!(lateMs > windowMs)) return built;
  return expiredOnArrival(
    built,
    `Shopify delivered this webhook ${Math.floor(lateMs / DAY_MS)} days after it was triggered: ` +
      `Meta accepts events up to ${windowMs / DAY_MS} days old, so it was never sent`,
  );
}

/** X-Shopify-Triggered-At as a date; null when absent or not a date (a header no retry would change). */
export function triggeredAtOf(header: string | null | undefined): Date | null {
  if (!header) return null;
  const at = new Date(header);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** The pause's own reason (its code says it is a pause), worded as the worker and the pause word it. */
function pauseOf(target: DestinationTarget): { reasonCode: string; reason: string } {
  if (target === WAITING) return { reasonCode: "no_destination", reason: "no Meta pixel is connected yet" };
  return {
    reasonCode: DEFERRAL_REASON_CODE["pause-pixel"],
    reason: target.pauseReason ?? "the pixel is paused until the merchant acts",
  };
}

/** The answer once the plan was written: the plan's own, unless the database found it a duplicate or another shop's. */
export function answerOfWrite(plan: IngestPlan, write: IngestWrite): IngestAnswer {
  const none = (result: IngestResult): IngestAnswer => ({ result, kick: false });
  const [copy] = plan.copies;
  if (!copy) return none(write.receiptInserted ? plan.result : ALREADY_DELIVERED);
  const { shop, event } = copy;
  if (write.refused)
    return none({
      outcome: "refused",
      reason: `${event.event_name} ${event.event_id} is held for another shop: this body is not ${shop}'s`,
    });
  if (!write.receiptInserted) return none(ALREADY_DELIVERED);
  if (write.eventPk === undefined)
    return none({ outcome: "duplicate", reason: `${event.event_name} ${event.event_id} was already recorded` });
  return { result: plan.result, kick: plan.copies.some((c) => c.state === "queued") };
}

/**
 * The receipt that replaces an event the database refused for its data: a value PostgreSQL
 * cannot store (a NUL character, a broken surrogate, a date out of range, an id too long to
 * index) fails the same way on each of Shopify's retries. Undefined for an error a retry may
 * cure: the webhook then fails and Shopify delivers it again.
 */
export function refusedByDatabase(error: unknown): IngestPlan | undefined {
  const code = refusedDataCode(error);
  return code
    ? {
        result: { outcome: "invalid", reason: `the database cannot store this event (PostgreSQL ${code})` },
        copies: [],
      }
    : undefined;
}

/** The SQLSTATE of an error caused by the data itself (class 22, or 54000 "too large to index"), from the driver or through Prisma. */
function refusedDataCode(error: unknown): string | undefined {
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

/** Longer than any order name Shopify makes (prefix, number, suffix): kept out of the index. */
const ORDER_NAME_MAX = 64;

/** An order's name as the shop shows it ("#1001"), for the Events page's search; null when absent or too long. */
function orderName(payload: unknown): string | null {
  const name = (payload as { name?: unknown } | null)?.name;
  if (typeof name !== "string") return null;
  const trimmed = name.trim();
  return trimmed && trimmed.length <= ORDER_NAME_MAX ? trimmed : null;
}
