// Billing against the pipeline, subscription state by subscription state: the real PostgreSQL,
// the Meta stand-in, the Admin API's Billing API stand-in (app/shopify/billing.fake.ts), the
// real ingest and worker. Each state shows whether events go to Meta or are held, that a held
// event is kept (never deleted), and that a plan becoming active sends what Meta still takes
// while older ones end `expired` with the reason.
// The simulated clock is the 20th of the real current month (a grace period of 14 days must
// fit inside one month whatever day the suite runs).
import { soleDestination } from "../../test/support/destinations";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { atShop, shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { saveDestination } from "../pipeline/destinations.server";
import { countByState } from "../pipeline/event-store.server";
import { forgetShopContext, ingestWebhook } from "../pipeline/ingest.server";
import { flushShop } from "../pipeline/worker.server";
import type { SubscriptionStatus } from "../shopify/admin-subscriptions";
import { fakeBilling, type FakeBilling } from "../shopify/billing.fake";
import {
  enforceBilling,
  enforceBillingForAll,
  recordFreeChosen,
  recordSubscriptionUpdate,
  refreshBilling,
  saveDestinationUnderPlan,
} from "./billing.server";
import { DAY_MS, GRACE_DAYS, PLANS, TRIAL_DAYS } from "./plans";
import { BILLING_HOLD_REASONS } from "./standing";

const real = new Date();
const DAY20 = Date.UTC(real.getUTCFullYear(), real.getUTCMonth(), 20, 12);
let clock = DAY20;
const at = (ms: number) => new Date(ms);
const key = randomBytes(32);

let db: TestDatabase;
let meta: MetaSandbox;
let shopCount = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox({ now: () => clock });
});
afterAll(async () => {
  await meta?.close();
  await db?.drop();
});

interface TestShop {
  shop: string;
  pixelId: string;
  billing: FakeBilling;
  next: number;
  base: number;
}

async function newShop(label: string): Promise<TestShop> {
  shopCount++;
  const shop = `billing-${label}.myshopify.com`;
  const pixelId = `71000000${String(shopCount).padStart(2, "0")}`;
  clock = DAY20;
  await saveDestination(db.prisma, shop, { pixelId, accessToken: "EAAbillingtoken-0123456789abcdef" }, key, at(clock));
  return {
    shop,
    pixelId,
    billing: fakeBilling(shop, () => at(clock)),
    next: 0,
    base: 8_000_000_000_000 + shopCount * 100_000,
  };
}

/** One real web order of `s`, placed a few minutes before the clock, through ingest. */
async function order(s: TestShop) {
  const id = s.base + s.next++;
  const payload = atShop(shopifyFixture("orders-create-web", { now: clock }), s.shop);
  Object.assign(payload, { id, admin_graphql_api_id: `gid://shopify/Order/${id}`, checkout_token: `billing${id}` });
  forgetShopContext(s.shop);
  return ingestWebhook(
    { prisma: db.prisma },
    { shop: s.shop, topic: "orders/create", webhookId: `wh-${id}`, eventId: `ev-${id}`, payload },
    at(clock),
  );
}

const flush = (s: TestShop) =>
  flushShop(
    { prisma: db.prisma, redisUrl: "", graphUrl: meta.url, vaultKey: key, now: () => clock, batchWindowMs: 0 },
    s.shop,
  );

/** What the merchant's approval at Shopify comes to: a subscription created, approved, read back. */
async function subscribe(s: TestShop, plan: keyof typeof PLANS, trialDays = 0) {
  const answer = (await s.billing(`mutation { appSubscriptionCreate(name: $name) { confirmationUrl } }`, {
    name: PLANS[plan].name,
    returnUrl: "https://capi-relay.example.com/app/billing",
    test: true,
    trialDays,
    lineItems: [
      { plan: { appRecurringPricingDetails: { price: { amount: PLANS[plan].priceUsd, currencyCode: "USD" } } } },
    ],
  })) as { data: { appSubscriptionCreate: { appSubscription: { id: string } } } };
  const id = answer.data.appSubscriptionCreate.appSubscription.id;
  s.billing.approve(id);
  return { id, view: await refreshBilling(db.prisma, s.shop, s.billing, at(clock)) };
}

/** app_subscriptions/update as Shopify sends it after `status` happened to `id`. */
async function webhook(s: TestShop, id: string, name: string, status: SubscriptionStatus) {
  return recordSubscriptionUpdate(db.prisma, s.shop, { id, name, status, createdAt: null }, at(clock));
}

const states = (s: TestShop) => countByState(db.prisma, s.shop);
const total = async (s: TestShop) => db.prisma.event.count({ where: { shop: s.shop } });
const held = (s: TestShop) =>
  db.prisma.event.findMany({ where: { shop: s.shop, state: "paused" }, select: { reason: true } });

describe("each subscription state against the pipeline", () => {
  it("active: events go to Meta, the plan and usage read back", async () => {
    const s = await newShop("active");
    const { view } = await subscribe(s, "growth");
    expect(view.standing).toMatchObject({ level: "ok", deliver: true, plan: { name: "Growth" } });
    await order(s);
    await order(s);
    await flush(s);
    expect(await states(s)).toEqual({ sent: 2 });
    expect(meta.accepted(s.pixelId)).toHaveLength(2);
    expect((await enforceBilling(db.prisma, s.shop, at(clock))).standing.usage).toEqual({
      orders: 2,
      allowance: PLANS.growth.monthlyOrders,
      percent: 0,
    });
  });

  it("trial: events go to Meta and the merchant is told when the trial ends", async () => {
    const s = await newShop("trial");
    const { view } = await subscribe(s, "starter", TRIAL_DAYS);
    expect(view.standing.level).toBe("trial");
    expect(view.standing.trialEndsAt?.getTime()).toBe(clock + TRIAL_DAYS * DAY_MS);
    expect(view.record.trialStartedAt?.getTime()).toBe(clock);
    await order(s);
    await flush(s);
    expect(await states(s)).toEqual({ sent: 1 });
  });

  it("trial ended without a plan: held, kept, and sent once a plan is active", async () => {
    const s = await newShop("trial-ended");
    const { id } = await subscribe(s, "growth", TRIAL_DAYS);
    await order(s);
    await flush(s);
    clock += 3 * DAY_MS;
    s.billing.cancel(id);
    const lapsed = await webhook(s, id, "Growth", "CANCELLED");
    expect(lapsed.standing).toMatchObject({ level: "held_trial_ended", deliver: false });
    expect(lapsed.change).toBe("held");
    await order(s);
    await order(s);
    await flush(s);
    expect(await states(s)).toEqual({ sent: 1, paused: 2 });
    expect(await held(s)).toEqual([
      { reason: BILLING_HOLD_REASONS.held_trial_ended },
      { reason: BILLING_HOLD_REASONS.held_trial_ended },
    ]);
    expect(meta.accepted(s.pixelId)).toHaveLength(1);

    // A day later the merchant picks Starter: what was held goes out; what is left of the trial is theirs.
    clock += DAY_MS;
    const { view } = await subscribe(s, "starter", TRIAL_DAYS - 4);
    expect(view.change).toBe("released");
    await flush(s);
    expect(await states(s)).toEqual({ sent: 3 });
    expect(meta.accepted(s.pixelId)).toHaveLength(3);
  });

  it("cancelled: held and kept; choosing Free sends them", async () => {
    const s = await newShop("cancelled");
    const { id } = await subscribe(s, "starter");
    s.billing.cancel(id);
    // Shopify's cancellation seen by a read (the admin opened), without the webhook.
    const view = await refreshBilling(db.prisma, s.shop, s.billing, at(clock));
    expect(view.standing).toMatchObject({ level: "held_lapsed", deliver: false });
    expect(view.standing.hold?.message).toMatch(/Starter plan was cancelled/);
    await order(s);
    await flush(s);
    expect(await held(s)).toEqual([{ reason: BILLING_HOLD_REASONS.held_lapsed }]);
    const destination = await db.prisma.destination.findFirstOrThrow({ where: { shop: s.shop } });
    expect(destination.pauseMessage).toBe(view.standing.hold?.message);

    clock += DAY_MS;
    const free = await recordFreeChosen(db.prisma, s.shop, at(clock));
    expect(free.standing).toMatchObject({ level: "ok", plan: { name: "Free" } });
    await flush(s);
    expect(await states(s)).toEqual({ sent: 1 });
  });

  it("frozen: held while Shopify holds the store's billing, sent when it thaws", async () => {
    const s = await newShop("frozen");
    const { id } = await subscribe(s, "growth");
    s.billing.freeze(id);
    expect((await webhook(s, id, "Growth", "FROZEN")).standing.level).toBe("held_frozen");
    // A read while frozen (Shopify lists only what it bills) keeps it frozen, not cancelled.
    expect((await refreshBilling(db.prisma, s.shop, s.billing, at(clock))).standing.level).toBe("held_frozen");
    await order(s);
    await flush(s);
    expect(await held(s)).toEqual([{ reason: BILLING_HOLD_REASONS.held_frozen }]);
    clock += 2 * DAY_MS;
    s.billing.thaw(id);
    expect((await webhook(s, id, "Growth", "ACTIVE")).change).toBe("released");
    await flush(s);
    expect(await states(s)).toEqual({ sent: 1 });
  });

  it("over the limit within the grace period: every event still goes, with the warning", async () => {
    const s = await newShop("grace");
    const free = PLANS.free.monthlyOrders;
    clock = DAY20 - 3 * DAY_MS;
    for (let i = 0; i < free; i++) await order(s);
    clock = DAY20 - 2 * DAY_MS;
    await order(s);
    clock = DAY20;
    await order(s);
    const view = await enforceBilling(db.prisma, s.shop, at(clock));
    expect(view.standing).toMatchObject({ level: "over_in_grace", deliver: true, usage: { orders: free + 2 } });
    expect(view.standing.graceEndsAt?.getTime()).toBe(DAY20 - 2 * DAY_MS + GRACE_DAYS * DAY_MS);
    await flush(s);
    expect(await states(s)).toEqual({ sent: free + 2 });
  });

  it("beyond the grace period: new events are held, never dropped; an upgrade sends those Meta still takes", async () => {
    const s = await newShop("beyond");
    const free = PLANS.free.monthlyOrders;
    clock = DAY20 - (GRACE_DAYS + 3) * DAY_MS;
    for (let i = 0; i < free; i++) await order(s);
    clock = DAY20 - (GRACE_DAYS + 2) * DAY_MS;
    await order(s);
    await flush(s);
    expect(await states(s)).toEqual({ sent: free + 1 });

    // The grace period ended two days ago: the worker's billing sweep holds the shop.
    clock = DAY20 - 9 * DAY_MS;
    await order(s); // placed 9 days before the upgrade: past Meta's window by then
    clock = DAY20;
    expect(await enforceBillingForAll(db.prisma, at(clock))).toBeGreaterThanOrEqual(1);
    expect((await enforceBilling(db.prisma, s.shop, at(clock))).standing.level).toBe("held_over_limit");
    await order(s);
    await order(s);
    await flush(s);
    expect(await states(s)).toEqual({ sent: free + 1, paused: 3 });
    expect(await total(s)).toBe(free + 4);

    // The merchant upgrades a day later: the two recent ones go, the 10-day-old one expires.
    clock += DAY_MS;
    const { view } = await subscribe(s, "starter");
    expect(view.standing).toMatchObject({ level: "ok", deliver: true, plan: { name: "Starter" } });
    expect(view.change).toBe("released");
    await flush(s);
    expect(await states(s)).toEqual({ sent: free + 3, expired: 1 });
    expect(await total(s)).toBe(free + 4);
    const expired = await db.prisma.event.findFirstOrThrow({ where: { shop: s.shop, state: "expired" } });
    expect(expired.reason).toMatch(/7-day window closed/);
  });

  it("beyond the grace period with no upgrade: the new month releases the hold by itself", async () => {
    const s = await newShop("new-month");
    const free = PLANS.free.monthlyOrders;
    clock = DAY20 - (GRACE_DAYS + 3) * DAY_MS;
    for (let i = 0; i <= free; i++) await order(s);
    await flush(s);
    clock = DAY20;
    await enforceBillingForAll(db.prisma, at(clock));
    await order(s); // held, and 9 days or more old when the month turns
    const nextMonth = Date.UTC(new Date(DAY20).getUTCFullYear(), new Date(DAY20).getUTCMonth() + 1, 1);
    clock = nextMonth - 3600_000;
    await order(s); // held on the month's last day
    await flush(s);
    expect(await states(s)).toEqual({ sent: free + 1, paused: 2 });

    clock = nextMonth + 3600_000;
    await enforceBillingForAll(db.prisma, at(clock));
    const view = await enforceBilling(db.prisma, s.shop, at(clock));
    expect(view.standing).toMatchObject({ level: "ok", usage: { orders: 0 } });
    await flush(s);
    expect(await states(s)).toEqual({ sent: free + 2, expired: 1 });
  });

  it("shop/redact deletes the billing record with the rest of the shop", async () => {
    const s = await newShop("redact");
    await subscribe(s, "starter");
    const { handleShopRedact } = await import("../pipeline/privacy.server");
    await handleShopRedact(db.prisma, s.shop);
    expect(await db.prisma.shopBilling.count({ where: { shop: s.shop } })).toBe(0);
  });

  it("declined and expired requests: the plan stays as it was, and events keep going", async () => {
    const s = await newShop("declined");
    await subscribe(s, "growth");
    const request = async (plan: keyof typeof PLANS) => {
      const answer = (await s.billing(`mutation { appSubscriptionCreate(name: $name) { confirmationUrl } }`, {
        name: PLANS[plan].name,
        returnUrl: "https://capi-relay.example.com/app/billing",
        test: true,
        trialDays: 0,
        lineItems: [
          { plan: { appRecurringPricingDetails: { price: { amount: PLANS[plan].priceUsd, currencyCode: "USD" } } } },
        ],
      })) as { data: { appSubscriptionCreate: { appSubscription: { id: string; status: string } } } };
      return answer.data.appSubscriptionCreate.appSubscription;
    };
    const pending = await request("scale");
    expect(pending.status).toBe("PENDING");
    expect((await refreshBilling(db.prisma, s.shop, s.billing, at(clock))).standing.plan.name).toBe("Growth");
    s.billing.decline(pending.id);
    const declined = await webhook(s, pending.id, "Scale", "DECLINED");
    expect(declined.standing).toMatchObject({ level: "ok", plan: { name: "Growth" } });
    const unapproved = await request("starter");
    s.billing.expire(unapproved.id);
    const expired = await webhook(s, unapproved.id, "Starter", "EXPIRED");
    expect(expired.standing).toMatchObject({ level: "ok", plan: { name: "Growth" } });
    await order(s);
    await flush(s);
    expect(await states(s)).toEqual({ sent: 1 });
  });

  it("saving a new token while held keeps the hold: the pixel's save never sends what the plan holds", async () => {
    const s = await newShop("resave");
    const { id } = await subscribe(s, "growth");
    s.billing.cancel(id);
    await refreshBilling(db.prisma, s.shop, s.billing, at(clock));
    await order(s);
    await saveDestinationUnderPlan(
      db.prisma,
      s.shop,
      { pixelId: s.pixelId, accessToken: "EAAanothertoken-0123456789abcdef" },
      key,
      at(clock),
    );
    await flush(s);
    expect(await held(s)).toEqual([{ reason: BILLING_HOLD_REASONS.held_lapsed }]);
    expect(meta.accepted(s.pixelId)).toHaveLength(0);
  });

  it("a billing hold does not take over another pause, and does not lift it", async () => {
    const s = await newShop("other-pause");
    const { pauseDestination } = await import("../pipeline/destinations.server");
    await pauseDestination(
      db.prisma,
      await soleDestination(db.prisma, s.shop),
      "Meta refused the token",
      "Save a new token.",
      at(clock),
    );
    const { id } = await subscribe(s, "growth");
    s.billing.cancel(id);
    const lapsed = await refreshBilling(db.prisma, s.shop, s.billing, at(clock));
    expect(lapsed.change).toBe("unchanged");
    await subscribe(s, "growth");
    const destination = await db.prisma.destination.findFirstOrThrow({ where: { shop: s.shop } });
    expect(destination.pauseReason).toBe("Meta refused the token");
  });
});
