// The app's plans, priced in USD and sized by orders a month, and the one trial. Pure: the
// Shopify billing config (app/shopify.server.ts), the decision table (./standing.ts), the
// admin's plan page and README read these numbers from here only.

export const PLAN_IDS = ["free", "starter", "growth", "scale"] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export interface Plan {
  id: PlanId;
  /** The subscription's name at Shopify (appSubscriptionCreate's `name`), and what the merchant reads. */
  name: string;
  /** Every 30 days, in USD; 0 for Free, which has no Shopify subscription. */
  priceUsd: number;
  /** Orders a calendar month (UTC) whose Purchase the plan covers (./usage.ts). */
  monthlyOrders: number;
}

export const PLANS: Record<PlanId, Plan> = {
  free: { id: "free", name: "Free", priceUsd: 0, monthlyOrders: 50 },
  starter: { id: "starter", name: "Starter", priceUsd: 19, monthlyOrders: 1_000 },
  growth: { id: "growth", name: "Growth", priceUsd: 49, monthlyOrders: 5_000 },
  scale: { id: "scale", name: "Scale", priceUsd: 149, monthlyOrders: 25_000 },
};

export const PAID_PLANS: readonly Plan[] = [PLANS.starter, PLANS.growth, PLANS.scale];

/** Days of a paid plan Shopify charges nothing for; once per shop, however often it changes plan. */
export const TRIAL_DAYS = 14;

/** Days events keep flowing after a plan's monthly orders are passed, before new ones are held. */
export const GRACE_DAYS = 14;

/** The share of the monthly orders at which the merchant is first told the limit is coming. */
export const WARN_SHARE = 0.8;

export const DAY_MS = 24 * 3600_000;

/** The paid plan a Shopify subscription name stands for (undefined: not one of ours). */
export function paidPlanNamed(name: string | null | undefined): Plan | undefined {
  return PAID_PLANS.find((p) => p.name === name);
}

export function isPlanId(value: string): value is PlanId {
  return (PLAN_IDS as readonly string[]).includes(value);
}

/**
 * The trial days a new subscription gets: what is left of the shop's one trial. Shopify starts
 * a new trial with every subscription it is asked for, so a shop that switches plans (or
 * cancels and comes back) would otherwise get a fresh 14 days each time.
 */
export function trialDaysLeft(trialStartedAt: Date | null, now: Date): number {
  if (!trialStartedAt) return TRIAL_DAYS;
  const used = Math.floor((now.getTime() - trialStartedAt.getTime()) / DAY_MS);
  return Math.max(0, Math.min(TRIAL_DAYS, TRIAL_DAYS - used));
}
