// Plans and billing as the embedded admin and Shopify's webhooks reach them: session tokens
// signed with the app's secret (Shopify's own test helper), offline sessions already stored, the
// Billing API stand-in (app/shopify/billing.fake.ts) and the web pixel stand-in behind fetch, the
// library's own billing.request and billing.cancel, signed app_subscriptions/update webhooks and
// the real PostgreSQL. No test reaches the network.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import {
  adminRequest,
  formPost,
  offlineSession,
  perShop,
  setAppEnv,
  settle,
  STOREFRONT_OPERATION,
  stubAdminGraphql,
} from "../../test/support/admin-requests";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { signedWebhookRequest } from "../../test/support/shopify-webhooks";
import { BILLING_HOLD_REASONS } from "../billing/standing";
import { PLANS, TRIAL_DAYS } from "../billing/plans";
import { fakeBilling } from "../shopify/billing.fake";
import { fakeShopify } from "../shopify/web-pixel.fake";

const API_KEY = "billing-test-key";
const API_SECRET = "billing-test-secret";
const APP_URL = "https://capi-relay.example.com";
const A = "shop-a.myshopify.com";
const B = "shop-b.myshopify.com";

type Loader = (args: LoaderFunctionArgs) => Promise<Response>;
type Action = (args: ActionFunctionArgs) => Promise<Response>;
let db: TestDatabase;
let plans: { loader: Loader; action: Action };
let overview: { loader: Loader };
let subscriptionWebhook: Action;
const billingApi = perShop(fakeBilling);
const pixelApi = perShop(() => fakeShopify());
const billingOf = billingApi.of;

const APP = { apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL };
const fromAdmin = (store: string, path: string, routeId: string, init: RequestInit = {}, secret = API_SECRET) =>
  adminRequest(APP, store, path, { routeId, init, secret });

async function loadPlans(store: string, secret = API_SECRET) {
  const response = await settle(
    plans.loader({
      request: await fromAdmin(store, "/app/billing", "routes/app.billing", {}, secret),
      params: {},
      context: {},
    }),
  );
  return {
    status: response.status,
    text: await response.clone().text(),
    data: response.status === 200 ? await response.json() : null,
  };
}

async function loadOverview(store: string) {
  const response = await settle(
    overview.loader({ request: await fromAdmin(store, "/app?index", "routes/app._index"), params: {}, context: {} }),
  );
  expect(response.status).toBe(200);
  return { text: await response.clone().text(), data: await response.json() };
}

async function post(store: string, fields: Record<string, string>, secret = API_SECRET) {
  const request = await fromAdmin(store, "/app/billing", "routes/app.billing", formPost(fields), secret);
  return settle(plans.action({ request, params: {}, context: {} }));
}

let webhookCount = 0;
async function webhook(shop: string, payload: unknown) {
  const request = signedWebhookRequest(APP_URL, {
    topic: "app_subscriptions/update",
    shop,
    payload,
    secret: API_SECRET,
    eventId: `sub-${++webhookCount}`,
  });
  const response = await subscriptionWebhook({ request, params: {}, context: {} });
  return { status: response.status, body: (await response.json()) as { outcome: string; reason: string } };
}

const subscriptionBody = (sub: { id: string; name: string; status: string }, shopId = "5501") => ({
  app_subscription: {
    admin_graphql_api_id: sub.id,
    name: sub.name,
    status: sub.status,
    admin_graphql_api_shop_id: `gid://shopify/Shop/${shopId}`,
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
    currency: "USD",
  },
});

beforeAll(async () => {
  stubAdminGraphql((shop, query, variables) =>
    STOREFRONT_OPERATION.test(query) ? pixelApi.of(shop)(query, variables) : billingOf(shop)(query, variables),
  );
  db = await createTestDatabase();
  setAppEnv(APP, db.url);
  const { database } = await import("../process-clients.server");
  await database().ready;
  const { sessionStorage } = await import("../shopify.server");
  for (const shop of [A, B]) {
    await sessionStorage.storeSession(offlineSession(shop));
    await db.prisma.destination.create({
      data: {
        id: crypto.randomUUID(),
        shop,
        pixelId: "123456789012345",
        accessTokenEnc: `sealed-${shop}`,
        tokenFingerprint: `fp-${shop}`,
      },
    });
  }
  await db.prisma.shop.create({ data: { shop: A, shopifyId: "5501" } });
  await db.prisma.shop.create({ data: { shop: B, shopifyId: "5502" } });
  plans = (await import("./app.billing")) as unknown as typeof plans;
  overview = (await import("./app._index")) as unknown as typeof overview;
  subscriptionWebhook = (await import("./webhooks.app_subscriptions.update")).action as unknown as Action;
});

afterAll(async () => {
  vi.unstubAllGlobals();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

describe("the plans page and the Overview's plan card", () => {
  it("refuses a request without a valid session token, loader and action", async () => {
    expect((await loadPlans("shop-a", "not-the-secret")).status).toBe(401);
    expect((await post("shop-a", { intent: "choose-free" }, "not-the-secret")).status).toBe(401);
    expect(billingOf(A).calls).toEqual([]);
  });

  it("shows a new shop on Free with this month's usage, on the Overview too", async () => {
    const { data } = await loadPlans("shop-a");
    expect(data).toMatchObject({
      plan: { id: "free", monthlyOrders: PLANS.free.monthlyOrders },
      level: "ok",
      usage: { orders: 0, allowance: PLANS.free.monthlyOrders, percent: 0 },
      trialDays: TRIAL_DAYS,
      staleNote: null,
    });
    expect(data.choices.map((c: { id: string; current: boolean }) => [c.id, c.current])).toEqual([
      ["free", true],
      ["starter", false],
      ["growth", false],
      ["scale", false],
    ]);
    const home = await loadOverview("shop-a");
    expect(home.data.billing).toMatchObject({ plan: { name: "Free" }, usage: { orders: 0 } });
  });

  it("refuses a plan that is not one of ours, without asking Shopify", async () => {
    const before = billingOf(A).calls.length;
    const response = await post("shop-a", { intent: "subscribe", plan: "platinum" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ ok: false, formError: "Choose one of the plans listed." });
    expect(billingOf(A).calls.length).toBe(before);
  });

  it("asks Shopify for the plan with the trial and sends the merchant to approve it, top-level", async () => {
    const response = await post("shop-a", { intent: "subscribe", plan: "growth" });
    // An embedded fetch: App Bridge follows this header out of the iframe to Shopify's page.
    expect(response.status).toBe(401);
    const created = billingOf(A).subscriptions.at(-1)!;
    expect(created).toMatchObject({ name: "Growth", status: "PENDING", test: true, trialDays: TRIAL_DAYS, price: 49 });
    expect(created.returnUrl).toBe(`https://admin.shopify.com/store/shop-a/apps/${API_KEY}/app/billing`);
    expect(response.headers.get("X-Shopify-API-Request-Failure-Reauthorize-Url")).toMatch(
      /^https:\/\/shop-a\.myshopify\.com\/admin\/charges\/.+confirm_recurring_application_charge/,
    );
    // Not approved yet: still Free.
    expect((await loadPlans("shop-a")).data.plan.id).toBe("free");
  });

  it("reads the approved plan back when the merchant returns: Growth, in its trial", async () => {
    billingOf(A).approve(billingOf(A).subscriptions.at(-1)!.id);
    const { data } = await loadPlans("shop-a");
    expect(data).toMatchObject({ plan: { id: "growth" }, level: "trial", deliver: true });
    expect(data.notice.title).toMatch(/^Growth trial until /);
    expect(data.choices.find((c: { current: boolean }) => c.current).id).toBe("growth");
  });

  it("shows the second shop nothing of the first", async () => {
    const { data, text } = await loadPlans("shop-b");
    expect(data.plan.id).toBe("free");
    expect(text).not.toContain(billingOf(A).subscriptions.at(-1)!.id);
    expect(text).not.toContain("trial until");
    const home = await loadOverview("shop-b");
    expect(home.data.billing.plan.name).toBe("Free");
    expect(home.text).not.toContain("shop-a");
    expect(await db.prisma.shopBilling.findUnique({ where: { shop: B } })).toMatchObject({ subscriptionId: null });
  });

  it("moves to Free: the subscription cancelled through Shopify, and its cancellation webhook is no lapse", async () => {
    const sub = billingOf(A).current()!;
    const response = await post("shop-a", { intent: "choose-free" });
    expect(response.status).toBe(200);
    expect((await response.json()).ok).toBe(true);
    expect(billingOf(A).calls.at(-1)).toBe("appSubscriptionCancel");
    expect(sub.status).toBe("CANCELLED");
    const answer = await webhook(A, subscriptionBody({ ...sub, status: "cancelled" }));
    expect(answer).toMatchObject({ status: 200, body: { outcome: "handled" } });
    expect((await loadPlans("shop-a")).data).toMatchObject({
      plan: { id: "free" },
      level: "ok",
      trialDays: TRIAL_DAYS - 0,
    });
    const destination = await db.prisma.destination.findFirstOrThrow({ where: { shop: A } });
    expect(destination.pausedAt).toBeNull();
  });
});

describe("app_subscriptions/update", () => {
  it("a plan cancelled in Shopify's admin holds events, with the banner on the Overview; a new plan resumes", async () => {
    const fake = billingOf(B);
    const created = (await fake(`mutation { appSubscriptionCreate(name: $name) { confirmationUrl } }`, {
      name: "Starter",
      returnUrl: "https://x.example/",
      test: true,
      trialDays: 0,
      lineItems: [{ plan: { appRecurringPricingDetails: { price: { amount: 19, currencyCode: "USD" } } } }],
    })) as { data: { appSubscriptionCreate: { appSubscription: { id: string } } } };
    const id = created.data.appSubscriptionCreate.appSubscription.id;
    fake.approve(id);
    expect((await webhook(B, subscriptionBody({ id, name: "Starter", status: "ACTIVE" }, "5502"))).body.reason).toMatch(
      /read back, ok/,
    );
    fake.cancel(id);
    const cancelled = await webhook(B, subscriptionBody({ id, name: "Starter", status: "CANCELLED" }, "5502"));
    expect(cancelled).toMatchObject({ status: 200, body: { outcome: "handled" } });
    expect(cancelled.body.reason).toMatch(/held_lapsed/);
    expect(await db.prisma.destination.findFirstOrThrow({ where: { shop: B } })).toMatchObject({
      pauseReason: BILLING_HOLD_REASONS.held_lapsed,
    });
    const home = await loadOverview("shop-b");
    expect(home.data.billing.notice).toMatchObject({
      tone: "critical",
      title: "Events are held: your plan was cancelled",
    });
    // The Meta step does not blame Meta's token for a billing hold: the plan's banner says what to do.
    const connect = home.data.checklist.steps.find((step: { id: string }) => step.id === "connect");
    expect(connect.detail).not.toMatch(/Meta stopped accepting/);

    const response = await post("shop-b", { intent: "subscribe", plan: "scale" });
    expect(response.status).toBe(401);
    const next = fake.subscriptions.at(-1)!;
    expect(next.trialDays).toBe(TRIAL_DAYS); // no trial was used by shop-b
    fake.approve(next.id);
    const activated = await webhook(B, subscriptionBody({ id: next.id, name: "Scale", status: "ACTIVE" }, "5502"));
    expect(activated.body.reason).toMatch(/read back, trial/);
    expect(await db.prisma.destination.findFirstOrThrow({ where: { shop: B } })).toMatchObject({ pausedAt: null });
  });

  it("refuses a body of another shop (its shop id) and an unreadable one, recording why", async () => {
    const foreign = await webhook(
      A,
      subscriptionBody({ id: "gid://shopify/AppSubscription/1", name: "Scale", status: "ACTIVE" }, "5502"),
    );
    expect(foreign).toMatchObject({ status: 400, body: { outcome: "refused" } });
    expect(foreign.body.reason).toMatch(/shop id 5502/);
    const unreadable = await webhook(A, { something: "else" });
    expect(unreadable).toMatchObject({ status: 400, body: { outcome: "refused" } });
    const badStatus = await webhook(
      A,
      subscriptionBody({ id: "gid://shopify/AppSubscription/1", name: "Scale", status: "WHATEVER" }),
    );
    expect(badStatus).toMatchObject({ status: 200, body: { outcome: "invalid" } });
    const receipts = await db.prisma.webhookReceipt.findMany({
      where: { shop: A, topic: "app_subscriptions/update", outcome: { in: ["refused", "invalid"] } },
    });
    expect(receipts).toHaveLength(3);
    expect((await loadPlans("shop-a")).data.plan.id).toBe("free");
  });
});
