// The decision table, state by state: every plan state and usage against the date, with the
// merchant's words checked for what to do next. Dates are built from today's clock.
import { describe, expect, it } from "vitest";
import { DAY_MS, GRACE_DAYS, PLANS, TRIAL_DAYS, trialDaysLeft } from "./plans";
import { billingStanding, BILLING_HOLD_REASONS, isBillingHoldReason, planInForce, STANDING_LEVELS } from "./standing";
import {
  afterFreeChosen,
  afterRead,
  afterUpdate,
  EMPTY_RECORD,
  type BillingRecord,
  type Subscription,
} from "./subscription";
import { usagePeriod, type Usage } from "./usage";

const NOW = new Date();
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY_MS);
const PERIOD = usagePeriod(NOW);

const sub = (overrides: Partial<Subscription> = {}): Subscription => ({
  id: "gid://shopify/AppSubscription/1",
  name: "Growth",
  status: "ACTIVE",
  test: true,
  trialDays: 0,
  createdAt: daysAgo(40),
  currentPeriodEnd: null,
  ...overrides,
});
const record = (overrides: Partial<BillingRecord> = {}): BillingRecord => ({ ...EMPTY_RECORD, ...overrides });
const within: Usage = { orders: 10, overSince: null };

describe("the plan in force", () => {
  it.each([
    ["no subscription ever: Free", record(), { kind: "plan", plan: "Free" }],
    ["an active paid plan", record({ subscription: sub() }), { kind: "plan", plan: "Growth" }],
    [
      "an active plan within its trial",
      record({ subscription: sub({ trialDays: TRIAL_DAYS, createdAt: daysAgo(3) }) }),
      { kind: "plan", plan: "Growth", trial: true },
    ],
    [
      "an active plan past its trial",
      record({ subscription: sub({ trialDays: TRIAL_DAYS, createdAt: daysAgo(TRIAL_DAYS + 1) }) }),
      { kind: "plan", plan: "Growth", trial: false },
    ],
    ["a frozen plan", record({ subscription: sub({ status: "FROZEN" }) }), { kind: "frozen", plan: "Growth" }],
    [
      "a cancelled plan",
      record({
        subscription: sub({ status: "CANCELLED" }),
        lapsed: { plan: "Growth", at: daysAgo(1), inTrial: false },
      }),
      { kind: "lapsed", plan: "Growth" },
    ],
    [
      "a cancelled plan, then Free chosen",
      record({ lapsed: { plan: "Growth", at: daysAgo(2), inTrial: false }, freeChosenAt: daysAgo(1) }),
      { kind: "plan", plan: "Free" },
    ],
    [
      "a subscription of a name that is not ours",
      record({ subscription: sub({ name: "Legacy" }) }),
      { kind: "plan", plan: "Free" },
    ],
  ])("%s", (_, rec, expected) => {
    const inForce = planInForce(rec, NOW);
    expect({ kind: inForce.kind, plan: inForce.plan.name }).toEqual({ kind: expected.kind, plan: expected.plan });
    if ("trial" in expected) expect(inForce.kind === "plan" && !!inForce.trialEndsAt).toBe(expected.trial);
  });
});

describe("the standing: deliver, warn or hold", () => {
  const growth = PLANS.growth.monthlyOrders;
  const active = planInForce(record({ subscription: sub() }), NOW);
  const free = planInForce(record(), NOW);
  const cases: Array<
    [string, ReturnType<typeof planInForce>, Usage, { level: string; deliver: boolean; tone?: string }]
  > = [
    ["active, well within", active, within, { level: "ok", deliver: true }],
    ["active, 79%", active, { orders: Math.ceil(growth * 0.8) - 1, overSince: null }, { level: "ok", deliver: true }],
    [
      "active, 80%",
      active,
      { orders: Math.ceil(growth * 0.8), overSince: null },
      { level: "near_limit", deliver: true, tone: "warning" },
    ],
    [
      "active, 100%",
      active,
      { orders: growth, overSince: null },
      { level: "at_limit", deliver: true, tone: "warning" },
    ],
    [
      "active, over since yesterday: grace",
      active,
      { orders: growth + 1, overSince: daysAgo(1) },
      { level: "over_in_grace", deliver: true, tone: "critical" },
    ],
    [
      "active, over for longer than the grace: held",
      active,
      { orders: growth + 900, overSince: daysAgo(GRACE_DAYS + 1) },
      { level: "held_over_limit", deliver: false, tone: "critical" },
    ],
    [
      "Free, over since before the grace",
      free,
      { orders: 400, overSince: daysAgo(GRACE_DAYS + 2) },
      { level: "held_over_limit", deliver: false },
    ],
    [
      "trial, within",
      planInForce(record({ subscription: sub({ trialDays: TRIAL_DAYS, createdAt: daysAgo(2) }) }), NOW),
      within,
      { level: "trial", deliver: true, tone: "info" },
    ],
    [
      "trial ended without a plan",
      planInForce(record({ lapsed: { plan: "Growth", at: daysAgo(1), inTrial: true } }), NOW),
      within,
      { level: "held_trial_ended", deliver: false, tone: "critical" },
    ],
    [
      "cancelled",
      planInForce(record({ lapsed: { plan: "Starter", at: daysAgo(1), inTrial: false } }), NOW),
      within,
      { level: "held_lapsed", deliver: false, tone: "critical" },
    ],
    [
      "frozen",
      planInForce(record({ subscription: sub({ status: "FROZEN" }) }), NOW),
      within,
      { level: "held_frozen", deliver: false },
    ],
  ];
  it.each(cases)("%s", (_, inForce, usage, expected) => {
    const standing = billingStanding(inForce, usage, PERIOD, NOW);
    expect({ level: standing.level, deliver: standing.deliver }).toEqual({
      level: expected.level,
      deliver: expected.deliver,
    });
    if (expected.tone) expect(standing.notice?.tone).toBe(expected.tone);
    // Held always says why (a billing reason) and that nothing is lost; delivering never holds.
    if (standing.deliver) expect(standing.hold).toBeNull();
    else {
      expect(isBillingHoldReason(standing.hold?.reason)).toBe(true);
      expect(standing.hold?.message).toMatch(/Nothing is deleted/);
      expect(standing.hold?.message).toMatch(/under Plans|Shopify bill/);
    }
  });

  it("covers every level of the table", () => {
    const seen = new Set(cases.map(([, inForce, usage]) => billingStanding(inForce, usage, PERIOD, NOW).level));
    expect([...seen].sort()).toEqual([...STANDING_LEVELS].sort());
  });

  it("starts the grace when the plan began, if it began after the limit was passed (a downgrade is not an instant hold)", () => {
    const chosen = daysAgo(2);
    const inForce = planInForce(record({ freeChosenAt: chosen }), NOW);
    const standing = billingStanding(inForce, { orders: 900, overSince: daysAgo(20) }, PERIOD, NOW);
    expect(standing.level).toBe("over_in_grace");
    expect(standing.graceEndsAt?.getTime()).toBe(chosen.getTime() + GRACE_DAYS * DAY_MS);
  });

  it("counts percent and says the numbers in words", () => {
    const standing = billingStanding(active, { orders: 4_100, overSince: null }, PERIOD, NOW);
    expect(standing.usage).toEqual({ orders: 4_100, allowance: growth, percent: 82 });
    expect(standing.notice?.body).toContain("4,100 of 5,000 orders");
  });

  it("has one reason per held level, each told apart", () => {
    expect(new Set(Object.values(BILLING_HOLD_REASONS)).size).toBe(Object.keys(BILLING_HOLD_REASONS).length);
    expect(isBillingHoldReason("app uninstalled")).toBe(false);
  });
});

describe("the billing record after what Shopify says", () => {
  const growth = sub();
  it.each([
    ["an active read adopts it", record(), [growth], { sub: "ACTIVE", lapsed: false }],
    [
      "an empty read after an active plan lapses it",
      record({ subscription: growth }),
      [],
      { sub: "CANCELLED", lapsed: true },
    ],
    ["an empty read with no plan stays Free", record(), [], { sub: null, lapsed: false }],
    [
      "an empty read keeps a frozen plan frozen",
      record({ subscription: sub({ status: "FROZEN" }) }),
      [],
      { sub: "FROZEN", lapsed: false },
    ],
    [
      "during a plan change the newest is the plan",
      record({ subscription: growth }),
      [growth, sub({ id: "gid://shopify/AppSubscription/2", name: "Scale", createdAt: daysAgo(1) })],
      { sub: "ACTIVE", lapsed: false, name: "Scale" },
    ],
  ])("%s", (_, rec, active, expected) => {
    const next = afterRead(rec, active, NOW);
    expect({ sub: next.subscription?.status ?? null, lapsed: !!next.lapsed }).toEqual({
      sub: expected.sub,
      lapsed: expected.lapsed,
    });
    if ("name" in expected) expect(next.subscription?.name).toBe(expected.name);
  });

  it.each([
    [
      "ACTIVE of a new plan",
      "gid://shopify/AppSubscription/9",
      "Scale",
      "ACTIVE",
      { name: "Scale", status: "ACTIVE", lapsed: false },
    ],
    ["FROZEN of the plan", growth.id, "Growth", "FROZEN", { name: "Growth", status: "FROZEN", lapsed: false }],
    ["CANCELLED of the plan", growth.id, "Growth", "CANCELLED", { name: "Growth", status: "CANCELLED", lapsed: true }],
    ["EXPIRED of the plan", growth.id, "Growth", "EXPIRED", { name: "Growth", status: "EXPIRED", lapsed: true }],
    [
      "CANCELLED of a replaced plan",
      "gid://shopify/AppSubscription/0",
      "Starter",
      "CANCELLED",
      { name: "Growth", status: "ACTIVE", lapsed: false },
    ],
    [
      "DECLINED of a request",
      "gid://shopify/AppSubscription/8",
      "Scale",
      "DECLINED",
      { name: "Growth", status: "ACTIVE", lapsed: false },
    ],
    [
      "PENDING of a request",
      "gid://shopify/AppSubscription/8",
      "Scale",
      "PENDING",
      { name: "Growth", status: "ACTIVE", lapsed: false },
    ],
  ] as const)("a webhook: %s", (_, id, name, status, expected) => {
    const next = afterUpdate(record({ subscription: growth }), { id, name, status, createdAt: null }, NOW);
    expect({ name: next.subscription?.name, status: next.subscription?.status, lapsed: !!next.lapsed }).toEqual(
      expected,
    );
  });

  it("records a lapse during the trial as the trial ending", () => {
    const trial = sub({ trialDays: TRIAL_DAYS, createdAt: daysAgo(5) });
    const next = afterUpdate(
      record({ subscription: trial }),
      { id: trial.id, name: trial.name, status: "CANCELLED", createdAt: null },
      NOW,
    );
    expect(next.lapsed).toEqual({ plan: "Growth", at: NOW, inTrial: true });
  });

  it("does not count the app's own cancellation, when the merchant chose Free, as a lapse", () => {
    const chosen = afterFreeChosen(record({ subscription: growth }), NOW);
    const later = new Date(NOW.getTime() + 1000);
    const next = afterUpdate(chosen, { id: growth.id, name: "Growth", status: "CANCELLED", createdAt: null }, later);
    expect(next.lapsed).toBeNull();
    expect(planInForce(next, later)).toMatchObject({ kind: "plan", plan: PLANS.free });
  });

  it("starts the shop's one trial with its first trial subscription", () => {
    const first = afterRead(record(), [sub({ trialDays: TRIAL_DAYS, createdAt: daysAgo(4) })], NOW);
    expect(first.trialStartedAt).toEqual(daysAgo(4));
    const second = afterRead(first, [sub({ id: "x", trialDays: 10, createdAt: daysAgo(1) })], NOW);
    expect(second.trialStartedAt).toEqual(daysAgo(4));
  });
});

describe("the trial days a new subscription gets", () => {
  it.each([
    [null, TRIAL_DAYS],
    [daysAgo(0), TRIAL_DAYS],
    [daysAgo(4), TRIAL_DAYS - 4],
    [daysAgo(TRIAL_DAYS), 0],
    [daysAgo(90), 0],
  ])("trial started %s: %i days", (started, days) => {
    expect(trialDaysLeft(started, NOW)).toBe(days);
  });
});

describe("the usage period", () => {
  it("is the calendar month (UTC) of the date", () => {
    const { start, end } = usagePeriod(NOW);
    expect(start.getUTCDate()).toBe(1);
    expect(start.getTime()).toBeLessThanOrEqual(NOW.getTime());
    expect(end.getTime()).toBeGreaterThan(NOW.getTime());
    expect(end.getUTCDate()).toBe(1);
    expect(end.getUTCMonth()).toBe((start.getUTCMonth() + 1) % 12);
  });
});
