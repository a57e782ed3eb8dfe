// What a plan counts. One rule: the orders whose Purchase the app stored to send this calendar
// month (UTC), real orders only. An order is counted once however many webhooks it came
// with (orders/create, orders/paid, redeliveries, reconciliation: the event store keeps one
// Purchase per order), whether or not Meta has taken it yet (a held one counts: it goes once a
// plan covers it). Not counted: checkouts (InitiateCheckout follows the order, it is not what
// the merchant sells), test orders, orders held back (declined consent, cancelled: no event is
// stored) and events stored invalid (they are never sent). Pure: the shell's count query
// (./billing.server.ts) reads these constants.
import type { EventState } from "../pipeline/lifecycle";

export const COUNTED_EVENT = "Purchase";
/** States an event in never reaches Meta from: not counted. */
export const UNCOUNTED_STATES: readonly EventState[] = ["invalid"];

export interface UsagePeriod {
  start: Date;
  /** Exclusive: the start of the next month. */
  end: Date;
}

/**
 * The calendar month (UTC) `now` is in. Shopify bills every 30 days from each subscription's
 * start, which no merchant remembers; a month with a name ("December: 812 of 1,000 orders")
 * is what they can plan with, and every plan change keeps the same count.
 */
export function usagePeriod(now: Date): UsagePeriod {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start, end };
}

export interface Usage {
  /** Orders counted this period. */
  orders: number;
  /**
   * When the first order past the plan's monthly orders was stored (the plan's allowance + 1st
   * counted order of the period), or null while within it.
   */
  overSince: Date | null;
}
