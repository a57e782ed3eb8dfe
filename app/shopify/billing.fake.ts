// A stand-in for the Admin API's Billing API, for tests: one shop's app subscriptions, created
// PENDING by appSubscriptionCreate (with the confirmation URL the merchant approves at), moved
// through Shopify's statuses by the test (approve, decline, expire, freeze, thaw, cancel), and
// listed by currentAppInstallation.activeSubscriptions as Shopify lists them: only what it bills.
// Approving a plan replaces the shop's other active one (Shopify's standard replacement).
import type { AdminGraphql } from "./admin-graphql";
import type { SubscriptionStatus } from "./admin-subscriptions";

export interface FakeSubscription {
  id: string;
  name: string;
  status: SubscriptionStatus;
  test: boolean;
  trialDays: number;
  createdAt: string;
  currentPeriodEnd: string | null;
  returnUrl: string;
  price: number;
}

export interface FakeBilling extends AdminGraphql {
  subscriptions: FakeSubscription[];
  /** Operations called, in order. */
  calls: string[];
  /** Every status change, as app_subscriptions/update would tell it. */
  updates: Array<Pick<FakeSubscription, "id" | "name" | "status" | "createdAt">>;
  approve(id: string): void;
  decline(id: string): void;
  expire(id: string): void;
  freeze(id: string): void;
  thaw(id: string): void;
  cancel(id: string): void;
  /** The one ACTIVE or FROZEN subscription, if any. */
  current(): FakeSubscription | undefined;
}

let nextId = 1000;

export function fakeBilling(shop: string, now: () => Date = () => new Date()): FakeBilling {
  const set = (id: string, status: SubscriptionStatus) => {
    const sub = fn.subscriptions.find((s) => s.id === id);
    if (!sub) throw new Error(`no subscription ${id}`);
    sub.status = status;
    fn.updates.push({ id: sub.id, name: sub.name, status, createdAt: sub.createdAt });
  };
  const lineItems = (s: FakeSubscription) => [
    {
      id: `${s.id}/line`,
      plan: {
        pricingDetails: {
          price: { amount: s.price.toFixed(2), currencyCode: "USD" },
          interval: "EVERY_30_DAYS",
          discount: null,
        },
      },
    },
  ];
  const node = (s: FakeSubscription) => ({ ...s, lineItems: lineItems(s) });
  const handler = async (query: string, variables: Record<string, unknown>): Promise<unknown> => {
    const op = /\b(appSubscriptionCreate|appSubscriptionCancel|currentAppInstallation)\s*[({]/.exec(query)?.[1];
    if (!op) throw new Error(`the billing stand-in does not answer ${query.slice(0, 80)}`);
    fn.calls.push(op);
    if (op === "currentAppInstallation") {
      return {
        data: {
          currentAppInstallation: {
            activeSubscriptions: fn.subscriptions.filter((s) => s.status === "ACTIVE").map(node),
            oneTimePurchases: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } },
          },
        },
      };
    }
    if (op === "appSubscriptionCreate") {
      const price = (
        variables.lineItems as Array<{ plan: { appRecurringPricingDetails?: { price: { amount: number } } } }>
      )?.[0]?.plan.appRecurringPricingDetails?.price.amount;
      if (typeof variables.name !== "string" || typeof price !== "number" || !variables.returnUrl) {
        return {
          data: {
            appSubscriptionCreate: {
              appSubscription: null,
              confirmationUrl: null,
              userErrors: [{ field: ["lineItems"], message: "Line items are invalid" }],
            },
          },
        };
      }
      const created = now();
      const id = `gid://shopify/AppSubscription/${nextId++}`;
      const sub: FakeSubscription = {
        id,
        name: variables.name,
        status: "PENDING",
        test: variables.test === true,
        trialDays: Number(variables.trialDays ?? 0),
        createdAt: created.toISOString(),
        currentPeriodEnd: new Date(created.getTime() + 30 * 24 * 3600_000).toISOString(),
        returnUrl: String(variables.returnUrl),
        price,
      };
      fn.subscriptions.push(sub);
      const confirmationUrl = `https://${shop}/admin/charges/capi-relay/${id.split("/").pop()}/RecurringApplicationCharge/confirm_recurring_application_charge?signature=stand-in`;
      return { data: { appSubscriptionCreate: { appSubscription: node(sub), confirmationUrl, userErrors: [] } } };
    }
    const sub = fn.subscriptions.find((s) => s.id === variables.id);
    if (!sub || sub.status !== "ACTIVE") {
      return {
        data: {
          appSubscriptionCancel: {
            appSubscription: null,
            userErrors: [{ field: ["id"], message: "Subscription not found or not active" }],
          },
        },
      };
    }
    set(sub.id, "CANCELLED");
    return { data: { appSubscriptionCancel: { appSubscription: node(sub), userErrors: [] } } };
  };
  const fn: FakeBilling = Object.assign(handler, {
    subscriptions: [] as FakeSubscription[],
    calls: [] as string[],
    updates: [] as FakeBilling["updates"],
    approve(id: string) {
      for (const other of fn.subscriptions.filter((s) => s.id !== id && s.status === "ACTIVE"))
        set(other.id, "CANCELLED");
      set(id, "ACTIVE");
    },
    decline: (id: string) => set(id, "DECLINED"),
    expire: (id: string) => set(id, "EXPIRED"),
    freeze: (id: string) => set(id, "FROZEN"),
    thaw: (id: string) => set(id, "ACTIVE"),
    cancel: (id: string) => set(id, "CANCELLED"),
    current: () => fn.subscriptions.find((s) => s.status === "ACTIVE" || s.status === "FROZEN"),
  });
  return fn;
}
