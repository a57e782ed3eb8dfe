// The admin's reading of a shop's billing: the subscription read from Shopify on every load of
// the Overview and Plans pages (so a plan approved or cancelled in Shopify's admin shows at
// once, and holds or resumes delivery), or the stored record when Shopify does not answer.
// Plain JSON for the page: plan, this month's usage, the banner, and the plans to choose from.
import type { PrismaClient } from "@prisma/client";
import { enforceBilling, refreshBilling, type BillingView } from "../billing/billing.server";
import { PAID_PLANS, PLANS, trialDaysLeft, type PlanId } from "../billing/plans";
import type { Notice, StandingLevel } from "../billing/standing";
import type { AdminGraphql } from "../shopify/admin-graphql";

export interface BillingCardView {
  plan: { id: PlanId; name: string; priceUsd: number; monthlyOrders: number };
  planState: string;
  level: StandingLevel;
  deliver: boolean;
  usage: { orders: number; allowance: number; percent: number };
  /** The first day of next month (UTC), when the count starts again: "1 January 2027". */
  resetsOn: string;
  notice: Notice | null;
  /** Set when Shopify could not be asked: what is shown is the last known plan. */
  staleNote: string | null;
}

export interface PlanChoice {
  id: PlanId;
  name: string;
  priceUsd: number;
  monthlyOrders: number;
  current: boolean;
}

export interface PlansPageView extends BillingCardView {
  choices: PlanChoice[];
  /** Days of trial a paid plan chosen now starts with. */
  trialDays: number;
}

const day = (d: Date) =>
  d.toLocaleDateString("en-GB", { timeZone: "UTC", day: "numeric", month: "long", year: "numeric" });

async function readBilling(
  prisma: PrismaClient,
  shop: string,
  graphql: AdminGraphql,
  now: Date,
): Promise<{ view: BillingView; staleNote: string | null }> {
  try {
    return { view: await refreshBilling(prisma, shop, graphql, now), staleNote: null };
  } catch (error) {
    console.warn(`${shop}: subscription read failed: ${(error as Error).message}`);
    return {
      view: await enforceBilling(prisma, shop, now),
      staleNote: "Shopify did not answer just now, so this is your plan as last seen. Reload the page to check again.",
    };
  }
}

function cardOf({ standing }: BillingView, staleNote: string | null): BillingCardView {
  const { plan } = standing;
  return {
    plan: { id: plan.id, name: plan.name, priceUsd: plan.priceUsd, monthlyOrders: plan.monthlyOrders },
    planState: standing.planState,
    level: standing.level,
    deliver: standing.deliver,
    usage: standing.usage,
    resetsOn: day(standing.period.end),
    notice: standing.notice,
    staleNote,
  };
}

export async function loadBillingCard(
  prisma: PrismaClient,
  shop: string,
  graphql: AdminGraphql,
  now = new Date(),
): Promise<BillingCardView> {
  const { view, staleNote } = await readBilling(prisma, shop, graphql, now);
  return cardOf(view, staleNote);
}

export async function loadPlansPage(
  prisma: PrismaClient,
  shop: string,
  graphql: AdminGraphql,
  now = new Date(),
): Promise<PlansPageView> {
  const { view, staleNote } = await readBilling(prisma, shop, graphql, now);
  const card = cardOf(view, staleNote);
  // A lapsed or frozen plan is not the plan in force: nothing is marked current then.
  const inForce = card.deliver || card.level === "held_over_limit" ? card.plan.id : null;
  return {
    ...card,
    trialDays: trialDaysLeft(view.record.trialStartedAt, now),
    choices: [PLANS.free, ...PAID_PLANS].map((p) => ({
      id: p.id,
      name: p.name,
      priceUsd: p.priceUsd,
      monthlyOrders: p.monthlyOrders,
      current: p.id === inForce,
    })),
  };
}
