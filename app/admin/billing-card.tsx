// The Overview's plan card: the plan, this month's orders against it (a progress bar with the
// numbers in words beside it), and the way to the Plans page. Its banner (80%, 100%, grace,
// held) is BillingBanner, shown with the page's other banners.
import { Banner, BlockStack, Card, InlineStack, Link, ProgressBar, Text } from "@shopify/polaris";
import type { BillingCardView } from "./billing.server";

const count = (n: number) => n.toLocaleString("en-US");

export function BillingCard({ billing, plansUrl }: { billing: BillingCardView; plansUrl: string }) {
  const { usage } = billing;
  const tone = billing.deliver ? (usage.percent >= 100 ? "critical" : "highlight") : "critical";
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center" gap="200">
          <Text as="h2" variant="headingMd">
            Plan: {billing.plan.name}
          </Text>
          <Link url={plansUrl}>Change plan</Link>
        </InlineStack>
        <Text as="p" tone="subdued">
          {billing.planState}
        </Text>
        <BlockStack gap="100">
          <Text as="p" id="billing-usage">
            {count(usage.orders)} of {count(usage.allowance)} orders this month ({usage.percent}%)
          </Text>
          <ProgressBar
            progress={Math.min(100, usage.percent)}
            tone={tone}
            size="small"
            ariaLabelledBy="billing-usage"
          />
          <Text as="p" variant="bodySm" tone="subdued">
            Counts orders sent as a Purchase; starts again on {billing.resetsOn}. No overage charges: past the limit,
            events keep going for a grace period, then wait for a bigger plan.
          </Text>
        </BlockStack>
        {billing.staleNote && (
          <Text as="p" variant="bodySm" tone="caution">
            {billing.staleNote}
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}

export function BillingBanner({ billing, plansUrl }: { billing: BillingCardView; plansUrl: string }) {
  const { notice } = billing;
  if (!notice) return null;
  const frozen = billing.level === "held_frozen";
  return (
    <Banner
      tone={notice.tone}
      title={notice.title}
      action={frozen ? undefined : { content: billing.deliver ? "See plans" : "Choose a plan", url: plansUrl }}
    >
      <p>{notice.body}</p>
    </Banner>
  );
}
