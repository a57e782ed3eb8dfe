// The app's Shopify subscriptions (Billing API): the Admin GraphQL read of the installation's
// active subscriptions and the app_subscriptions/update webhook body, each validated with zod.
// Pure: app/billing/billing.server.ts runs the query and acts on what they say.
import { z } from "zod";
import { graphqlData, type AdminGraphql } from "./admin-graphql";

/** Shopify's AppSubscriptionStatus. */
export const SUBSCRIPTION_STATUSES = ["ACTIVE", "PENDING", "CANCELLED", "DECLINED", "EXPIRED", "FROZEN"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** One of the app's subscriptions, as Shopify gives it. */
export interface Subscription {
  id: string;
  name: string;
  status: SubscriptionStatus;
  test: boolean;
  trialDays: number;
  createdAt: Date;
  currentPeriodEnd: Date | null;
}

export const ACTIVE_SUBSCRIPTIONS_QUERY = `#graphql
query ActiveSubscriptions {
  currentAppInstallation {
    activeSubscriptions { id name status test trialDays createdAt currentPeriodEnd }
  }
}`;

const status = z.enum(SUBSCRIPTION_STATUSES);
const subscriptionSchema = z.object({
  id: z.string().min(1).max(200),
  name: z.string().max(255),
  status,
  test: z.boolean(),
  trialDays: z.number().int().min(0).max(1000),
  createdAt: z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
  currentPeriodEnd: z.iso
    .datetime({ offset: true })
    .nullish()
    .transform((s) => (s ? new Date(s) : null)),
});
const activeSchema = z.object({
  data: z.object({
    currentAppInstallation: z.object({ activeSubscriptions: z.array(subscriptionSchema).max(100) }),
  }),
});

/** The installation's active subscriptions; throws AdminGraphqlError when Shopify refuses the read. */
export async function readActiveSubscriptions(graphql: AdminGraphql): Promise<Subscription[]> {
  return graphqlData(await graphql(ACTIVE_SUBSCRIPTIONS_QUERY, {}), activeSchema).data.currentAppInstallation
    .activeSubscriptions;
}

/**
 * app_subscriptions/update: `{ app_subscription: { admin_graphql_api_id, name, status,
 * admin_graphql_api_shop_id, created_at, updated_at, ... } }`. Statuses come lowercase in
 * some deliveries and uppercase in others; both are read.
 */
export const subscriptionUpdateSchema = z.object({
  app_subscription: z.object({
    admin_graphql_api_id: z.string().min(1).max(200),
    name: z.string().max(255),
    status: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(status),
    admin_graphql_api_shop_id: z.string().max(200).nullish(),
    created_at: z.string().max(64).nullish(),
  }),
});

/** The numeric shop id of `gid://shopify/Shop/123`, for binding the webhook to its shop. */
export function shopIdOfGid(gid: string | null | undefined): string | undefined {
  return gid ? /^gid:\/\/shopify\/Shop\/(\d+)$/.exec(gid)?.[1] : undefined;
}
