// The shell of billing: the shop's billing record in the database (ShopBilling), refreshed from
// the Admin API (admin loads, app_subscriptions/update) or from the webhook's own words, this
// month's usage counted from the event store, and the standing of ./standing.ts applied to
// delivery through ./hold.server.ts. Every query is scoped by shop.
import type { PrismaClient, ShopBilling } from "@prisma/client";
import { saveDestination } from "../pipeline/destinations.server";
import { adminGraphqlOf, type AdminGraphql, type RemixAdminClient } from "../shopify/admin-graphql";
import {
  readActiveSubscriptions,
  subscriptionUpdateSchema,
  type SubscriptionStatus,
} from "../shopify/admin-subscriptions";
import { applyBillingHold, type HoldChange } from "./hold.server";
import {
  afterFreeChosen,
  afterRead,
  afterUpdate,
  EMPTY_RECORD,
  type BillingRecord,
  type SubscriptionUpdate,
} from "./subscription";
import { billingStanding, planInForce, type BillingStanding } from "./standing";
import { COUNTED_EVENT, UNCOUNTED_STATES, usagePeriod, type Usage, type UsagePeriod } from "./usage";

function recordOf(row: ShopBilling | null): BillingRecord {
  if (!row) return EMPTY_RECORD;
  return {
    subscription:
      row.subscriptionId && row.subscriptionName && row.subscriptionStatus && row.subscriptionCreatedAt
        ? {
            id: row.subscriptionId,
            name: row.subscriptionName,
            status: row.subscriptionStatus as SubscriptionStatus,
            test: row.subscriptionTest,
            trialDays: row.trialDays,
            createdAt: row.subscriptionCreatedAt,
            currentPeriodEnd: row.currentPeriodEnd,
          }
        : null,
    trialStartedAt: row.trialStartedAt,
    lapsed:
      row.lapsedPlan && row.lapsedAt ? { plan: row.lapsedPlan, at: row.lapsedAt, inTrial: row.lapsedInTrial } : null,
    freeChosenAt: row.freeChosenAt,
  };
}

function columnsOf(record: BillingRecord) {
  const sub = record.subscription;
  return {
    subscriptionId: sub?.id ?? null,
    subscriptionName: sub?.name ?? null,
    subscriptionStatus: sub?.status ?? null,
    subscriptionTest: sub?.test ?? false,
    trialDays: sub?.trialDays ?? 0,
    subscriptionCreatedAt: sub?.createdAt ?? null,
    currentPeriodEnd: sub?.currentPeriodEnd ?? null,
    trialStartedAt: record.trialStartedAt,
    lapsedPlan: record.lapsed?.plan ?? null,
    lapsedAt: record.lapsed?.at ?? null,
    lapsedInTrial: record.lapsed?.inTrial ?? false,
    freeChosenAt: record.freeChosenAt,
  };
}

export async function loadBillingRecord(prisma: PrismaClient, shop: string): Promise<BillingRecord> {
  return recordOf(await prisma.shopBilling.findUnique({ where: { shop } }));
}

async function saveBillingRecord(
  prisma: PrismaClient,
  shop: string,
  record: BillingRecord,
  checkedAt?: Date,
): Promise<void> {
  const data = { ...columnsOf(record), ...(checkedAt ? { checkedAt } : {}) };
  await prisma.shopBilling.upsert({ where: { shop }, create: { shop, ...data }, update: data });
}

/** This period's counted orders (./usage.ts) and when the first past `allowance` was stored. */
export async function countUsage(
  prisma: PrismaClient,
  shop: string,
  period: UsagePeriod,
  allowance: number,
): Promise<Usage> {
  const where = {
    shop,
    eventName: COUNTED_EVENT,
    testEventCode: null,
    state: { notIn: [...UNCOUNTED_STATES] },
    createdAt: { gte: period.start, lt: period.end },
  };
  const orders = await prisma.event.count({ where });
  if (orders <= allowance) return { orders, overSince: null };
  const first = await prisma.event.findFirst({
    where,
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    skip: allowance,
    select: { createdAt: true },
  });
  return { orders, overSince: first?.createdAt ?? null };
}

export interface BillingView {
  standing: BillingStanding;
  record: BillingRecord;
  change: HoldChange;
}

/** The shop's standing now, from its stored record, applied to delivery. */
export async function enforceBilling(prisma: PrismaClient, shop: string, now: Date): Promise<BillingView> {
  const record = await loadBillingRecord(prisma, shop);
  const inForce = planInForce(record, now);
  const period = usagePeriod(now);
  const usage = await countUsage(prisma, shop, period, inForce.plan.monthlyOrders);
  const standing = billingStanding(inForce, usage, period, now);
  const change = await applyBillingHold(prisma, shop, standing, now);
  return { standing, record, change };
}

/** Reads the shop's subscriptions from Shopify, records what they say, and applies the standing. */
export async function refreshBilling(
  prisma: PrismaClient,
  shop: string,
  graphql: AdminGraphql,
  now: Date,
): Promise<BillingView> {
  const active = await readActiveSubscriptions(graphql);
  const record = afterRead(await loadBillingRecord(prisma, shop), active, now);
  await saveBillingRecord(prisma, shop, record, now);
  return enforceBilling(prisma, shop, now);
}

/** app_subscriptions/update, when no Admin API read is possible (no offline session). */
export async function recordSubscriptionUpdate(
  prisma: PrismaClient,
  shop: string,
  update: SubscriptionUpdate,
  now: Date,
): Promise<BillingView> {
  await saveBillingRecord(prisma, shop, afterUpdate(await loadBillingRecord(prisma, shop), update, now));
  return enforceBilling(prisma, shop, now);
}

/** The merchant chose Free (any paid subscription was cancelled at Shopify first). */
export async function recordFreeChosen(prisma: PrismaClient, shop: string, now: Date): Promise<BillingView> {
  await saveBillingRecord(prisma, shop, afterFreeChosen(await loadBillingRecord(prisma, shop), now));
  return enforceBilling(prisma, shop, now);
}

/**
 * Every connected shop's standing, applied: grace periods end, months begin and trials run out
 * without anyone opening the app. Run by the worker's sweep every few minutes; one shop's
 * failure does not stop the others.
 */
export async function enforceBillingForAll(
  prisma: PrismaClient,
  now: Date,
  log?: (line: string) => void,
): Promise<number> {
  const shops = await prisma.destination.findMany({ select: { shop: true } });
  let changed = 0;
  for (const { shop } of shops) {
    try {
      const { change, standing } = await enforceBilling(prisma, shop, now);
      if (change !== "unchanged") {
        changed++;
        log?.(`${shop}: billing ${change} (${standing.level})`);
      }
    } catch (error) {
      log?.(`${shop}: billing check failed: ${(error as Error).message}`);
    }
  }
  return changed;
}

/**
 * app_subscriptions/update. With the shop's offline session the subscriptions are read back
 * from Shopify (the body carries no trial or period, and a read cannot be replayed); without
 * one (uninstalled) the body's status is applied to the subscription already recorded only,
 * so that a body the app cannot confirm never starts a plan.
 */
export async function handleSubscriptionWebhook(
  prisma: PrismaClient,
  shop: string,
  payload: unknown,
  admin: RemixAdminClient | undefined,
  now: Date,
): Promise<{ outcome: "handled" | "invalid"; reason: string }> {
  const parsed = subscriptionUpdateSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      outcome: "invalid",
      reason: `app_subscriptions/update body: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "unreadable"}`,
    };
  }
  const sub = parsed.data.app_subscription;
  if (admin) {
    try {
      const { standing } = await refreshBilling(prisma, shop, adminGraphqlOf(admin), now);
      return { outcome: "handled", reason: `subscription ${sub.status.toLowerCase()}: read back, ${standing.level}` };
    } catch (error) {
      // Shopify unreachable or refusing the read: the body's own word, for the recorded subscription.
      console.warn(`${shop}: subscription read failed (${(error as Error).message}); applying the webhook's status`);
    }
  }
  const record = await loadBillingRecord(prisma, shop);
  if (record.subscription?.id !== sub.admin_graphql_api_id) {
    return {
      outcome: "handled",
      reason: `subscription ${sub.status.toLowerCase()}: not the recorded one and not confirmed with Shopify, ignored`,
    };
  }
  const createdAt = sub.created_at && !Number.isNaN(Date.parse(sub.created_at)) ? new Date(sub.created_at) : null;
  const { standing } = await recordSubscriptionUpdate(
    prisma,
    shop,
    { id: sub.admin_graphql_api_id, name: sub.name, status: sub.status, createdAt },
    now,
  );
  return { outcome: "handled", reason: `subscription ${sub.status.toLowerCase()}: ${standing.level}` };
}

/**
 * Saving a pixel (admin Settings, `capi connect`) resumes whatever paused it, a billing hold
 * too: the plan's standing is applied again at once, so a new token never sends what the plan holds.
 */
export const saveDestinationUnderPlan: typeof saveDestination = async (prisma, shop, input, key, now) => {
  const id = await saveDestination(prisma, shop, input, key, now);
  await enforceBilling(prisma, shop, now ?? new Date());
  return id;
};
