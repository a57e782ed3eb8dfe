// Plans: the plan in force, this month's usage, and every plan to move to. A paid plan is asked
// of Shopify through the library's billing.request (Shopify's Billing API, a test charge outside
// production): the merchant approves it on Shopify's page, reached top-level out of the admin
// iframe, and comes back here, where the load reads the subscription again. Free cancels the
// paid subscription (billing.cancel). Every read and write is for the session's shop.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { Banner, BlockStack, Button, Card, InlineGrid, Layout, Page, Text } from "@shopify/polaris";
import { z } from "zod";
import { TitleBar } from "../admin/app-bridge";
import { BillingBanner, BillingCard } from "../admin/billing-card";
import { loadPlansPage, type PlanChoice } from "../admin/billing.server";
import { routeErrorBoundary } from "../admin/route-error";
import { loadBillingRecord, recordFreeChosen } from "../billing/billing.server";
import { GRACE_DAYS, PAID_PLANS, TRIAL_DAYS, trialDaysLeft } from "../billing/plans";
import { env } from "../config/env.server";
import { database } from "../process-clients.server";
import { adminGraphqlOf } from "../shopify/admin-graphql";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const { session, admin } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  return json(await loadPlansPage(db.prisma, session.shop, adminGraphqlOf(admin)));
}

const formSchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("subscribe"), plan: z.enum(PAID_PLANS.map((p) => p.id) as [string, ...string[]]) }),
  z.object({ intent: z.literal("choose-free") }),
]);

export type PlansActionResult = { ok: true; message: string } | { ok: false; formError: string };

/** Where Shopify sends the merchant after approving: this page, inside the Shopify admin. */
function returnUrl(shop: string): string {
  return `https://admin.shopify.com/store/${shop.replace(/\.myshopify\.com$/, "")}/apps/${env().SHOPIFY_API_KEY}/app/billing`;
}

export async function action({ request }: ActionFunctionArgs) {
  const { session, billing } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const form = Object.fromEntries([...(await request.formData()).entries()].slice(0, 10));
  const parsed = formSchema.safeParse(form);
  if (!parsed.success) {
    return json<PlansActionResult>({ ok: false, formError: "Choose one of the plans listed." }, { status: 400 });
  }
  const now = new Date();
  const record = await loadBillingRecord(db.prisma, session.shop);
  const isTest = env().BILLING_TEST_CHARGES;
  if (parsed.data.intent === "subscribe") {
    const plan = PAID_PLANS.find((p) => p.id === (parsed.data as { plan: string }).plan)!;
    // Throws the redirect to Shopify's confirmation page (top-level, out of the iframe).
    return billing.request({
      plan: plan.name,
      isTest,
      returnUrl: returnUrl(session.shop),
      trialDays: trialDaysLeft(record.trialStartedAt, now),
    });
  }
  const sub = record.subscription;
  if (sub && sub.status === "ACTIVE") {
    await billing.cancel({ subscriptionId: sub.id, isTest: sub.test || isTest, prorate: true });
  }
  const { standing } = await recordFreeChosen(db.prisma, session.shop, now);
  return json<PlansActionResult>({
    ok: true,
    message: standing.deliver
      ? "You are on the Free plan now. Nothing more is charged."
      : "You are on the Free plan now; this month's orders are past its limit, so new events are held until next month or a bigger plan.",
  });
}

const count = (n: number) => n.toLocaleString("en-US");

function PlanCard({ choice, trialDays, busy }: { choice: PlanChoice; trialDays: number; busy: boolean }) {
  const free = choice.priceUsd === 0;
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h3" variant="headingMd">
          {choice.name}
        </Text>
        <Text as="p" variant="headingLg">
          {free ? "No charge" : `$${choice.priceUsd} every 30 days`}
        </Text>
        <Text as="p">Up to {count(choice.monthlyOrders)} orders a month sent to Meta.</Text>
        {!free && trialDays > 0 && (
          <Text as="p" tone="subdued">
            {trialDays}-day free trial.
          </Text>
        )}
        {choice.current ? (
          <Text as="p" fontWeight="semibold">
            Your plan
          </Text>
        ) : (
          <Form method="post">
            <input type="hidden" name="intent" value={free ? "choose-free" : "subscribe"} />
            {!free && <input type="hidden" name="plan" value={choice.id} />}
            <Button submit loading={busy} accessibilityLabel={`Choose the ${choice.name} plan`}>
              {`Choose ${choice.name}`}
            </Button>
          </Form>
        )}
      </BlockStack>
    </Card>
  );
}

export default function Plans() {
  const view = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as PlansActionResult | undefined;
  const busy = useNavigation().state === "submitting";
  return (
    <Page backAction={{ content: "Overview", url: "/app" }}>
      <TitleBar title="Plans" />
      <Text as="h1" visuallyHidden>
        Plans
      </Text>
      <BlockStack gap="500">
        {result && !result.ok && <Banner tone="critical">{result.formError}</Banner>}
        {result?.ok && <Banner tone="success">{result.message}</Banner>}
        <BillingBanner billing={view} plansUrl="/app/billing" />
        <Layout>
          <Layout.Section>
            <InlineGrid columns={{ xs: 1, sm: 2 }} gap="400">
              {view.choices.map((choice) => (
                <PlanCard key={choice.id} choice={choice} trialDays={view.trialDays} busy={busy} />
              ))}
            </InlineGrid>
          </Layout.Section>
          <Layout.Section variant="oneThird">
            <BlockStack gap="400">
              <BillingCard billing={view} plansUrl="/app/billing" />
              <Card>
                <BlockStack gap="200">
                  <Text as="h2" variant="headingMd">
                    How billing works
                  </Text>
                  <Text as="p">
                    Plans are billed by Shopify, on your Shopify bill. Paid plans start with a {TRIAL_DAYS}-day trial
                    (once per store). There are no overage charges.
                  </Text>
                  <Text as="p">
                    Past your plan&apos;s orders, every event is still sent for {GRACE_DAYS} days; after that new events
                    are kept, not sent, until you upgrade or the month ends. A cancelled plan keeps events the same way
                    until you choose a plan. Nothing is ever deleted: once a plan covers them, events from the last 7
                    days go to Meta (Meta takes nothing older).
                  </Text>
                </BlockStack>
              </Card>
            </BlockStack>
          </Layout.Section>
        </Layout>
      </BlockStack>
    </Page>
  );
}

export const ErrorBoundary = routeErrorBoundary("The plans", "Plans");
