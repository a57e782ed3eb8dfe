// The Accuracy page's card (one per pixel) and the Overview's banner when a day falls under the
// threshold. Figures come from app/admin/accuracy.ts.
import { Banner, BlockStack, Box, Card, Divider, InlineStack, List, Text } from "@shopify/polaris";
import { ACCURACY_DAYS, ORDER_FATE_INFO, ORDER_FATES } from "../pipeline/accuracy";
import type { AccuracyAlert, AccuracyPixelView, AccuracyRow } from "./accuracy";
import { formatTime } from "./format-time";

function GapCell({ row }: { row: AccuracyRow }) {
  if (row.gap.length === 0 && row.recovered === 0) return null;
  return (
    <BlockStack gap="100">
      {row.gap.map((g) => (
        <BlockStack key={g.fate} gap="050">
          <Text as="span" breakWord>
            {g.text}
          </Text>
          {g.reasons.map((r) => (
            <Box key={r.reason} paddingInlineStart="300">
              <Text as="span" tone="subdued" variant="bodySm" breakWord>
                {r.count}: {r.reason}
              </Text>
            </Box>
          ))}
        </BlockStack>
      ))}
      {row.recovered > 0 && (
        <Text as="span" tone="subdued" variant="bodySm" breakWord>
          {row.recovered} of those sent recovered by reconciliation (no webhook came)
        </Text>
      )}
    </BlockStack>
  );
}

/** One day: the figures in a sentence and the gap beneath, readable at 390 px without scrolling sideways. */
function DayRow({ row, threshold }: { row: AccuracyRow; threshold: string }) {
  return (
    <BlockStack gap="100">
      <InlineStack align="space-between" blockAlign="center" gap="200">
        <Text as="h3" variant="headingSm">
          {row.day}
        </Text>
        <Text as="span" tone={row.below ? "critical" : undefined} fontWeight="semibold">
          {row.percent === "—" ? "Nothing to send" : `${row.percent} accepted`}
          {row.below ? ` (under ${threshold})` : ""}
        </Text>
      </InlineStack>
      <Text as="p">
        {row.orders === 0
          ? "No orders in Shopify."
          : `${row.orders} ${row.orders === 1 ? "order" : "orders"} in Shopify, ${row.accepted} accepted by Meta.`}
      </Text>
      {row.orders > 0 && <GapCell row={row} />}
    </BlockStack>
  );
}

export function AccuracyCard({
  pixel,
  threshold,
  measuredAt,
}: {
  pixel: AccuracyPixelView;
  threshold: string;
  measuredAt: string | null;
}) {
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          {pixel.name}
        </Text>
        {pixel.rows.length === 0 ? (
          <Text as="p">
            Not measured yet. The app compares your orders with what Meta accepted every 15 minutes; press Measure now
            to do it at once.
          </Text>
        ) : (
          <BlockStack gap="300">
            {pixel.rows.map((r, i) => (
              <BlockStack key={r.day} gap="300">
                {i > 0 && <Divider />}
                <DayRow row={r} threshold={threshold} />
              </BlockStack>
            ))}
          </BlockStack>
        )}
        <Text as="p" tone="subdued" variant="bodySm">
          Days in UTC. Accepted: the orders Meta accepted, out of those meant to reach it (every order but the held
          back). Under {threshold} on a day, the Overview says so.
          {measuredAt ? ` Measured ${formatTime(measuredAt)}.` : ""}
        </Text>
      </BlockStack>
    </Card>
  );
}

/** What each reason means, once for the page. */
export function AccuracyLegend() {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          What the reasons mean
        </Text>
        <List>
          {ORDER_FATES.map((f) => (
            <List.Item key={f}>
              <Text as="span" fontWeight="semibold">
                {ORDER_FATE_INFO[f].label}:
              </Text>{" "}
              {ORDER_FATE_INFO[f].meaning}
            </List.Item>
          ))}
        </List>
        <Text as="p" tone="subdued" variant="bodySm">
          Your orders of the last {ACCURACY_DAYS} days are read from Shopify, day by day in UTC. Meta accepts an order
          up to 7 days after it was placed: what is still on its way can still count.
        </Text>
      </BlockStack>
    </Card>
  );
}

/** `accuracyUrl`: the Accuracy page, linked from the Overview (none on the page itself). */
export function AccuracyBanner({ alerts, accuracyUrl }: { alerts: readonly AccuracyAlert[]; accuracyUrl?: string }) {
  if (alerts.length === 0) return null;
  const [first, ...more] = alerts;
  return (
    <Banner
      tone="warning"
      title={`Meta accepted ${first!.percent} of your orders on ${first!.day} (${first!.pixel})`}
      action={accuracyUrl ? { content: "See why", url: accuracyUrl } : undefined}
    >
      <BlockStack gap="100">
        <p>
          Not accepted: {first!.gap}. {accuracyUrl ? "The Accuracy page says" : "Below:"} what each reason means and
          what to do{more.length > 0 ? `; ${more.length} other day(s) or pixel(s) are low too` : ""}.
        </p>
      </BlockStack>
    </Banner>
  );
}
