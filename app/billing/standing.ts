// The decision table: from a shop's billing record, this month's usage and the date, whether
// its events are delivered (with what the merchant is told) or held, and in which words.
// Nothing here ever drops an event: "hold" pauses delivery (./hold.server.ts), and a plan that
// covers the shop again sends what Meta still takes (7 days after each conversion).
// Pure; one reading per shop on admin loads, billing webhooks and the worker's billing sweep.
import { DAY_MS, GRACE_DAYS, PLANS, paidPlanNamed, WARN_SHARE, type Plan } from "./plans";
import { trialEndsAt, type BillingRecord } from "./subscription";
import type { Usage, UsagePeriod } from "./usage";

/** What the plan in force is, before usage is counted (the count needs its monthly orders). */
export type PlanInForce =
  | { kind: "plan"; plan: Plan; since: Date | null; trialEndsAt: Date | null }
  | { kind: "lapsed"; plan: Plan; at: Date; inTrial: boolean }
  | { kind: "frozen"; plan: Plan };

export function planInForce(record: BillingRecord, now: Date): PlanInForce {
  const sub = record.subscription;
  const paid = paidPlanNamed(sub?.name);
  if (sub && paid && sub.status === "FROZEN") return { kind: "frozen", plan: paid };
  if (sub && paid && sub.status === "ACTIVE") {
    const trialEnd = trialEndsAt(sub);
    return {
      kind: "plan",
      plan: paid,
      since: sub.createdAt,
      trialEndsAt: trialEnd && trialEnd.getTime() > now.getTime() ? trialEnd : null,
    };
  }
  const lapsed = record.lapsed;
  if (lapsed && (!record.freeChosenAt || record.freeChosenAt.getTime() < lapsed.at.getTime())) {
    return { kind: "lapsed", plan: paidPlanNamed(lapsed.plan) ?? PLANS.free, at: lapsed.at, inTrial: lapsed.inTrial };
  }
  return { kind: "plan", plan: PLANS.free, since: record.freeChosenAt, trialEndsAt: null };
}

export const STANDING_LEVELS = [
  "ok",
  "trial",
  "near_limit",
  "at_limit",
  "over_in_grace",
  "held_over_limit",
  "held_lapsed",
  "held_trial_ended",
  "held_frozen",
] as const;
export type StandingLevel = (typeof STANDING_LEVELS)[number];

/** Why events are held, as the destination's pause reason and each held event's reason. */
export const BILLING_HOLD_REASONS = {
  held_over_limit: "billing: past the plan's monthly orders and the grace period",
  held_lapsed: "billing: the plan was cancelled",
  held_trial_ended: "billing: the trial ended without a plan",
  held_frozen: "billing: Shopify froze the store's billing",
} as const satisfies Partial<Record<StandingLevel, string>>;

export function isBillingHoldReason(reason: string | null | undefined): boolean {
  return (Object.values(BILLING_HOLD_REASONS) as string[]).includes(reason ?? "");
}

export interface Notice {
  tone: "info" | "warning" | "critical";
  title: string;
  body: string;
}

export interface BillingStanding {
  level: StandingLevel;
  deliver: boolean;
  plan: Plan;
  /** The plan's own state in the merchant's words: "Trial until 15 January 2027", "Cancelled on ...". */
  planState: string;
  usage: { orders: number; allowance: number; percent: number };
  period: UsagePeriod;
  trialEndsAt: Date | null;
  graceEndsAt: Date | null;
  /** Set when held: the pause's reason and what the merchant is told to do. */
  hold: { reason: string; message: string } | null;
  notice: Notice | null;
}

const day = (d: Date) =>
  d.toLocaleDateString("en-GB", { timeZone: "UTC", day: "numeric", month: "long", year: "numeric" });
const count = (n: number) => n.toLocaleString("en-US");

const KEPT =
  "Nothing is deleted: events are kept and go to Meta once a plan covers them, those from the last 7 days (Meta takes nothing older).";

/** The decision for one shop. `usage` is counted against `inForce.plan`'s monthly orders. */
export function billingStanding(inForce: PlanInForce, usage: Usage, period: UsagePeriod, now: Date): BillingStanding {
  const plan = inForce.plan;
  const allowance = plan.monthlyOrders;
  const base = {
    plan,
    usage: { orders: usage.orders, allowance, percent: Math.floor((usage.orders * 100) / allowance) },
    period,
    trialEndsAt: inForce.kind === "plan" ? inForce.trialEndsAt : null,
    graceEndsAt: null as Date | null,
  };
  const held = (level: keyof typeof BILLING_HOLD_REASONS, planState: string, title: string, message: string) => ({
    ...base,
    level,
    deliver: false,
    planState,
    hold: { reason: BILLING_HOLD_REASONS[level], message },
    notice: { tone: "critical" as const, title, body: message },
  });

  if (inForce.kind === "frozen") {
    return held(
      "held_frozen",
      "Frozen by Shopify",
      "Events are held: Shopify froze your store's billing",
      `Shopify has put your store's billing on hold, and this app's ${plan.name} plan with it. Pay your Shopify bill (Settings > Billing in your Shopify admin) and the plan resumes by itself. ${KEPT}`,
    );
  }
  if (inForce.kind === "lapsed") {
    const level = inForce.inTrial ? "held_trial_ended" : "held_lapsed";
    const what = inForce.inTrial
      ? `Your ${plan.name} trial ended on ${day(inForce.at)}`
      : `Your ${plan.name} plan was cancelled on ${day(inForce.at)}`;
    return held(
      level,
      inForce.inTrial ? `Trial ended ${day(inForce.at)}` : `Cancelled ${day(inForce.at)}`,
      inForce.inTrial ? "Events are held: your trial ended without a plan" : "Events are held: your plan was cancelled",
      `${what} and no plan follows it. Choose a plan under Plans (Free included) to send events again. ${KEPT}`,
    );
  }

  const planState = inForce.trialEndsAt
    ? `Trial until ${day(inForce.trialEndsAt)}`
    : plan.priceUsd > 0
      ? `$${plan.priceUsd} every 30 days`
      : "No charge";
  const nextMonth = day(period.end);
  if (usage.overSince) {
    const graceStart = Math.max(usage.overSince.getTime(), inForce.since?.getTime() ?? 0);
    const graceEndsAt = new Date(graceStart + GRACE_DAYS * DAY_MS);
    const over = `This month's ${count(usage.orders)} orders are past the ${plan.name} plan's ${count(allowance)}.`;
    if (now.getTime() < graceEndsAt.getTime()) {
      return {
        ...base,
        graceEndsAt,
        level: "over_in_grace",
        deliver: true,
        planState,
        hold: null,
        notice: {
          tone: "critical",
          title: `Over your plan: events are sent until ${day(graceEndsAt)}`,
          body: `${over} Every event is still sent during the ${GRACE_DAYS}-day grace period, until ${day(graceEndsAt)}; after that new events are held (kept, not sent) until you upgrade or the month ends on ${nextMonth}. Upgrade under Plans to keep sending. There is never an overage charge.`,
        },
      };
    }
    const message = `${over} The ${GRACE_DAYS}-day grace period ended on ${day(graceEndsAt)}, so new events are held, not sent. Upgrade under Plans to send them now; otherwise they go out when the month ends on ${nextMonth}. ${KEPT}`;
    return {
      ...held("held_over_limit", planState, "Events are held: your plan's orders for this month are used up", message),
      graceEndsAt,
    };
  }
  if (usage.orders >= allowance) {
    return {
      ...base,
      level: "at_limit",
      deliver: true,
      planState,
      hold: null,
      notice: {
        tone: "warning",
        title: `You have used all ${count(allowance)} orders of your plan this month`,
        body: `Events keep going to Meta: the next orders start a ${GRACE_DAYS}-day grace period, after which new events are held (kept, not sent) until you upgrade or the month ends on ${nextMonth}. Upgrade under Plans to avoid it. There is never an overage charge.`,
      },
    };
  }
  if (usage.orders >= Math.ceil(allowance * WARN_SHARE)) {
    return {
      ...base,
      level: "near_limit",
      deliver: true,
      planState,
      hold: null,
      notice: {
        tone: "warning",
        title: `${base.usage.percent}% of your plan's orders used this month`,
        body: `${count(usage.orders)} of ${count(allowance)} orders so far; the count starts again on ${nextMonth}. Past ${count(allowance)}, events keep being sent for ${GRACE_DAYS} days, then new ones are held until you upgrade. Upgrade under Plans if you expect more orders this month.`,
      },
    };
  }
  if (inForce.trialEndsAt) {
    return {
      ...base,
      level: "trial",
      deliver: true,
      planState,
      hold: null,
      notice: {
        tone: "info",
        title: `${plan.name} trial until ${day(inForce.trialEndsAt)}`,
        body: `Shopify charges nothing until then, and $${plan.priceUsd} every 30 days after, on your Shopify bill. Cancel before it ends by choosing Free under Plans.`,
      },
    };
  }
  return { ...base, level: "ok", deliver: true, planState, hold: null, notice: null };
}
