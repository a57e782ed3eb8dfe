// Accuracy: Shopify's orders of each day against the Purchases each Meta pixel accepted, and
// the gap explained order by order. Pure: the shell (./accuracy.server.ts) reads the orders
// through the Admin API and our rows for them; the admin page and the banner read the days.
//
// Every order falls in exactly one bucket per pixel. The ratio is accepted / expected, where
// expected is every order but those deliberately held back (a test order, a buyer who declined
// marketing, one of the shop's settings): those were never meant to reach Meta.
import type { EventState, ReceiptOutcome } from "./lifecycle";

/** The days measured, today (UTC) included: Meta's window, past which nothing can be recovered. */
export const ACCURACY_DAYS = 7;
/** A day whose ratio falls under this raises the Overview's banner. */
export const ACCURACY_THRESHOLD = 0.95;

/** One of Shopify's orders, as the Admin API gave it. */
export interface OrderHead {
  /** The order id as its Purchase's event_id holds it. */
  id: string;
  createdAt: Date;
  test: boolean;
}

/** A pixel the report is kept for (one that receives Purchase). */
export interface AccuracyPixel {
  id: string;
  createdAt: Date;
  sendTestOrders: boolean;
}

/** What we hold about one order: its Purchase copy for each pixel, and reconciliation's receipt. */
export interface OrderRecords {
  /** destinationId -> the state of that pixel's copy. */
  copies: ReadonlyMap<string, EventState>;
  /** The receipt reconciliation recorded when it read the order with no event held (reconcileOrderEventId). */
  reconcileReceipt?: { outcome: ReceiptOutcome; reason: string | null };
  /**
   * Why Shopify's own webhook of the order stored no event, when it did not (held back, invalid
   * or too late on arrival): its receipt, found by the order id it carries.
   */
  webhookReceipt?: { outcome: ReceiptOutcome; reason: string | null };
}

/** Receipt outcomes of a delivery that stored no event: each is the order's fate for every pixel. */
export const STORED_NO_EVENT = ["held_back", "invalid", "expired"] as const satisfies readonly ReceiptOutcome[];

export const ORDER_FATES = [
  "accepted",
  "recovered",
  "held_back",
  "rejected",
  "invalid",
  "pending",
  "expired",
  "never_received",
] as const;
export type OrderFate = (typeof ORDER_FATES)[number];

export interface OrderFateInfo {
  label: string;
  /** What the bucket means, and what to do about it, for the merchant. */
  meaning: string;
}

export const ORDER_FATE_INFO: Record<OrderFate, OrderFateInfo> = {
  accepted: { label: "Accepted by Meta", meaning: "Meta accepted its Purchase." },
  recovered: {
    label: "Recovered by reconciliation",
    meaning:
      "Shopify never sent its webhook; the app found the order when it read your recent orders, and Meta accepted it.",
  },
  held_back: {
    label: "Held back",
    meaning:
      "Deliberately not sent (a test order, a buyer who declined marketing, one of your settings): not counted against the ratio.",
  },
  rejected: {
    label: "Rejected by Meta",
    meaning: "Meta refused its Purchase: open it on the Events page to read Meta's answer.",
  },
  invalid: {
    label: "Invalid",
    meaning: "Its Purchase breaks one of Meta's rules as built, so it was never sent: the Events page says which.",
  },
  pending: {
    label: "Still on its way",
    meaning:
      "Queued, retrying or paused: it goes out by itself, unless the pixel is paused (then fix what Settings says).",
  },
  expired: {
    label: "Expired",
    meaning:
      "Meta's 7-day window closed before it could be delivered (the pixel was paused or Meta was down too long).",
  },
  never_received: {
    label: "Never received",
    meaning:
      "No webhook came and reconciliation has not recovered it (every 15 minutes it reads your orders of the last 2 days): many of these mean webhooks are not arriving; reinstalling the app registers them again.",
  },
};

/** The fates that count as Meta accepting the order. */
const ACCEPTED: readonly OrderFate[] = ["accepted", "recovered"];

export interface Classified {
  fate: OrderFate;
  /** For held_back: why, in the receipt's words (or the pixel's own setting). */
  reason?: string;
}

export const TEST_ORDER_NOT_FOR_PIXEL = "Shopify test order: this pixel is set not to receive test orders";
export const BEFORE_PIXEL = "placed before this pixel was added to the app";
export const LEFT_OUT_FOR_PIXEL = "received, but this pixel's settings left it out";

/**
 * A receipt's reason as a line many orders share: the order's own instant ("cancelled (at
 * 2026-...)") is dropped, so a day's cancelled orders are counted on one line.
 */
export function sharedReason(reason: string | null): string {
  return (reason ?? "").replace(/ \(at [^)]*\)/g, "").trim() || "held back";
}

/** What became of one order for one pixel. */
export function classifyOrder(order: OrderHead, pixel: AccuracyPixel, records: OrderRecords): Classified {
  const state = records.copies.get(pixel.id);
  const receipt = records.reconcileReceipt;
  if (state !== undefined) {
    if (state === "sent") {
      // Reconciliation ingests an order only when no event of it was held: its receipt
      // stored the event (queued or paused) only when the webhook never came.
      const viaReconcile = receipt?.outcome === "queued" || receipt?.outcome === "paused";
      return { fate: viaReconcile ? "recovered" : "accepted" };
    }
    switch (state) {
      case "queued":
      case "sending":
      case "retrying":
      case "paused":
        return { fate: "pending" };
      case "rejected":
      case "invalid":
      case "expired":
        return { fate: state };
      default:
        return unreachable(state);
    }
  }
  for (const r of [receipt, records.webhookReceipt]) {
    if (r?.outcome === "held_back") return { fate: "held_back", reason: sharedReason(r.reason) };
    if (r?.outcome === "invalid") return { fate: "invalid" };
    if (r?.outcome === "expired") return { fate: "expired" };
  }
  if (order.test && !pixel.sendTestOrders) return { fate: "held_back", reason: TEST_ORDER_NOT_FOR_PIXEL };
  if (order.createdAt < pixel.createdAt) return { fate: "held_back", reason: BEFORE_PIXEL };
  if (records.copies.size > 0) return { fate: "held_back", reason: LEFT_OUT_FOR_PIXEL };
  return { fate: "never_received" };
}

export type FateCounts = Record<OrderFate, number>;

/** One UTC day of one pixel. */
export interface AccuracyDayCounts {
  /** YYYY-MM-DD, UTC. */
  day: string;
  destinationId: string;
  orders: number;
  counts: FateCounts;
  /** reason -> how many held-back orders it covers. */
  heldBackReasons: Record<string, number>;
}

const zeroCounts = (): FateCounts => Object.fromEntries(ORDER_FATES.map((f) => [f, 0])) as FateCounts;

export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/** The UTC days measured at `now`, oldest first: today and the ACCURACY_DAYS - 1 before. */
export function accuracyDays(now: Date): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: ACCURACY_DAYS }, (_, i) =>
    utcDay(new Date(today - (ACCURACY_DAYS - 1 - i) * 86_400_000)),
  );
}

/**
 * Every pixel's days. Each day of `days` gets a row per pixel, orders or none (a day without
 * orders is measured too: zero, not unknown).
 */
export function measureDays(
  days: readonly string[],
  orders: readonly OrderHead[],
  pixels: readonly AccuracyPixel[],
  recordsOf: (orderId: string) => OrderRecords,
): AccuracyDayCounts[] {
  const rows = new Map<string, AccuracyDayCounts>();
  const key = (day: string, pixel: string) => `${day} ${pixel}`;
  for (const day of days)
    for (const pixel of pixels)
      rows.set(key(day, pixel.id), {
        day,
        destinationId: pixel.id,
        orders: 0,
        counts: zeroCounts(),
        heldBackReasons: {},
      });
  for (const order of orders) {
    const records = recordsOf(order.id);
    for (const pixel of pixels) {
      const row = rows.get(key(utcDay(order.createdAt), pixel.id));
      if (!row) continue;
      const { fate, reason } = classifyOrder(order, pixel, records);
      row.orders++;
      row.counts[fate]++;
      if (reason) row.heldBackReasons[reason] = (row.heldBackReasons[reason] ?? 0) + 1;
    }
  }
  return [...rows.values()];
}

export interface AccuracyRatio {
  /** Orders meant to reach Meta: all but those held back. */
  expected: number;
  /** Accepted by Meta, recovered ones included. */
  accepted: number;
  /** accepted / expected; null when nothing was expected. */
  ratio: number | null;
}

export function accuracyRatio(counts: FateCounts): AccuracyRatio {
  const total = ORDER_FATES.reduce((n, f) => n + counts[f], 0);
  const expected = total - counts.held_back;
  const accepted = ACCEPTED.reduce((n, f) => n + counts[f], 0);
  return { expected, accepted, ratio: expected > 0 ? accepted / expected : null };
}

export const belowThreshold = (counts: FateCounts): boolean => {
  const { ratio } = accuracyRatio(counts);
  return ratio !== null && ratio < ACCURACY_THRESHOLD;
};

/** The gap of a day: each fate that kept orders from Meta, with its count, largest first. */
export function gapOf(counts: FateCounts): Array<{ fate: OrderFate; count: number }> {
  return ORDER_FATES.filter((f) => !ACCEPTED.includes(f) && counts[f] > 0)
    .map((fate) => ({ fate, count: counts[fate] }))
    .sort((a, b) => b.count - a.count);
}

function unreachable(value: never): never {
  throw new Error(`unhandled state ${JSON.stringify(value)}`);
}
