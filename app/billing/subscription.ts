// A shop's billing record and how each thing Shopify tells the app changes it: a read of
// currentAppInstallation.activeSubscriptions (on admin loads and after app_subscriptions/update)
// or the webhook's own status. Pure; the record is stored by ./billing.server.ts (ShopBilling)
// and judged by ./standing.ts.
import type { Subscription, SubscriptionStatus } from "../shopify/admin-subscriptions";
import { DAY_MS, paidPlanNamed } from "./plans";

export type { Subscription, SubscriptionStatus };

export interface BillingRecord {
  /** The subscription the shop's plan rests on (the last one seen ACTIVE or FROZEN), if any. */
  subscription: Subscription | null;
  /** When the shop's one trial began (./plans.ts trialDaysLeft). */
  trialStartedAt: Date | null;
  /** A paid plan that ended with no plan after it: cancelled, or its trial ended. */
  lapsed: { plan: string; at: Date; inTrial: boolean } | null;
  /** The merchant chose Free in the app (after a lapse, or instead of a paid plan). */
  freeChosenAt: Date | null;
}

export const EMPTY_RECORD: BillingRecord = {
  subscription: null,
  trialStartedAt: null,
  lapsed: null,
  freeChosenAt: null,
};

/** Whether `sub` is within its trial at `now` (Shopify charges from createdAt + trialDays). */
export function trialEndsAt(sub: Pick<Subscription, "createdAt" | "trialDays">): Date | null {
  return sub.trialDays > 0 ? new Date(sub.createdAt.getTime() + sub.trialDays * DAY_MS) : null;
}

function inTrial(sub: Subscription, now: Date): boolean {
  const end = trialEndsAt(sub);
  return !!end && end.getTime() > now.getTime();
}

/** The plan rests on it: Shopify bills it (ACTIVE) or holds it with the store's own bill (FROZEN). */
const standing = (status: SubscriptionStatus) => status === "ACTIVE" || status === "FROZEN";

function adopt(record: BillingRecord, sub: Subscription): BillingRecord {
  const startsTrial = sub.status === "ACTIVE" && sub.trialDays > 0 && !record.trialStartedAt;
  return {
    ...record,
    subscription: sub,
    lapsed: null,
    trialStartedAt: startsTrial ? sub.createdAt : record.trialStartedAt,
  };
}

function lapse(record: BillingRecord, status: SubscriptionStatus, now: Date): BillingRecord {
  const sub = record.subscription;
  if (!sub || !standing(sub.status)) return { ...record, subscription: sub ? { ...sub, status } : null };
  return {
    ...record,
    subscription: { ...sub, status },
    lapsed: { plan: sub.name, at: now, inTrial: inTrial(sub, now) },
  };
}

/**
 * A read of the installation's active subscriptions. The app's own (a name of ./plans.ts; the
 * newest when Shopify lists two during a plan change) becomes the record's. None while one
 * was ACTIVE: it ended (Shopify cancels it on a plan cancelled in the admin or an uninstall).
 * A FROZEN one stays FROZEN until a webhook or a read says otherwise: Shopify lists only
 * what it bills, and a frozen plan is not cancelled.
 */
export function afterRead(record: BillingRecord, active: readonly Subscription[], now: Date): BillingRecord {
  const ours = active
    .filter((s) => paidPlanNamed(s.name) && standing(s.status))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
  if (ours) return adopt(record, ours);
  if (record.subscription?.status === "FROZEN") return record;
  return lapse(record, "CANCELLED", now);
}

/** What app_subscriptions/update says of one subscription. */
export interface SubscriptionUpdate {
  id: string;
  name: string;
  status: SubscriptionStatus;
  createdAt: Date | null;
}

/**
 * app_subscriptions/update. A subscription becoming ACTIVE or FROZEN is the shop's plan now.
 * The record's own subscription ending (CANCELLED, EXPIRED, DECLINED) lapses the plan; another
 * one ending changes nothing (the plan replaced in an upgrade is cancelled by Shopify, in any
 * order with its successor's activation; a declined or unapproved request leaves the plan as
 * it was). PENDING changes nothing: nothing is approved yet.
 */
export function afterUpdate(record: BillingRecord, update: SubscriptionUpdate, now: Date): BillingRecord {
  const known = record.subscription?.id === update.id ? record.subscription : null;
  if (update.status === "PENDING") return record;
  if (standing(update.status)) {
    if (!paidPlanNamed(update.name)) return record;
    return adopt(record, {
      id: update.id,
      name: update.name,
      status: update.status,
      test: known?.test ?? false,
      trialDays: known?.trialDays ?? 0,
      createdAt: known?.createdAt ?? update.createdAt ?? now,
      currentPeriodEnd: known?.currentPeriodEnd ?? null,
    });
  }
  if (!known) return record;
  return lapse(record, update.status, now);
}

/**
 * The merchant chose Free: the paid subscription (if any) was cancelled by the app, at their
 * request, so its cancellation is no lapse.
 */
export function afterFreeChosen(record: BillingRecord, now: Date): BillingRecord {
  const sub = record.subscription;
  return {
    ...record,
    subscription: sub && standing(sub.status) ? { ...sub, status: "CANCELLED" } : sub,
    lapsed: null,
    freeChosenAt: now,
  };
}
