// The admin page's delivery card: events by state over the last day and week, and the
// webhooks held back with their reasons. Also on the demo's dashboard (app/routes/demo.tsx),
// which shows the same figures for the demo shop.
import type { ReactNode } from "react";
import { BlockStack, Box, Card, DataTable, InlineStack, Link, Text } from "@shopify/polaris";
import { EVENT_STATE_INFO, RECEIPT_OUTCOME_INFO, type EventState } from "../pipeline/lifecycle";
import type { DeliveryStats } from "./dashboard.server";

// One row per state, in the order an event goes through them; an event being sent counts as queued.
const STAT_ROWS: Array<{ label: string; states: EventState[] }> = [
  { label: EVENT_STATE_INFO.sent.label, states: ["sent"] },
  { label: EVENT_STATE_INFO.queued.label, states: ["queued", "sending"] },
  { label: EVENT_STATE_INFO.retrying.label, states: ["retrying"] },
  { label: EVENT_STATE_INFO.paused.label, states: ["paused"] },
  { label: EVENT_STATE_INFO.rejected.label, states: ["rejected"] },
  { label: EVENT_STATE_INFO.invalid.label, states: ["invalid"] },
  { label: EVENT_STATE_INFO.expired.label, states: ["expired"] },
];

/** `eventsUrl`: where the events are listed one by one (the admin's Events page; none on the demo). */
export function StatsCard({ stats, eventsUrl }: { stats: DeliveryStats; eventsUrl?: string }) {
  const count = (counts: Record<EventState, number>, states: EventState[]) =>
    states.reduce((sum, s) => sum + counts[s], 0);
  const rows: ReactNode[][] = STAT_ROWS.map(({ label, states }) => [
    label,
    count(stats.last24h.counts, states),
    count(stats.last7d.counts, states),
  ]);
  // Held back: webhooks that never became events, counted from their receipts, each reason on its line.
  const { heldBack } = stats;
  rows.push([`${RECEIPT_OUTCOME_INFO.held_back.label} (not sent)`, heldBack.last24h, heldBack.last7d]);
  for (const r of heldBack.reasons) rows.push([<ReasonLabel key={r.reason} reason={r.reason} />, r.last24h, r.last7d]);
  if (heldBack.otherReasons.last7d > 0) {
    rows.push([
      <ReasonLabel key="(other)" reason="other reasons" />,
      heldBack.otherReasons.last24h,
      heldBack.otherReasons.last7d,
    ]);
  }
  rows.push(["Delivery rate", formatRate(stats.last24h.deliveryRate), formatRate(stats.last7d.deliveryRate)]);
  // Nothing to count yet: a sentence instead of a table of zeros.
  const empty = stats.last7d.counts.total === 0 && heldBack.last7d === 0;
  return (
    <Card>
      <BlockStack gap="200">
        <InlineStack align="space-between" blockAlign="center" gap="200">
          <Text as="h2" variant="headingMd">
            Delivery
          </Text>
          {eventsUrl && <Link url={eventsUrl}>View events</Link>}
        </InlineStack>
        {empty ? (
          <Text as="p">
            No events in the last 7 days yet. They are counted here as orders and checkouts arrive from your store.
          </Text>
        ) : (
          <>
            <DataTable
              columnContentTypes={["text", "numeric", "numeric"]}
              headings={["Events", "Last 24 hours", "Last 7 days"]}
              rows={rows}
              increasedTableDensity
            />
            <Text as="p" tone="subdued" variant="bodySm">
              Delivery rate: events Meta accepted, out of those delivered, rejected, invalid, expired or paused.{" "}
              {RECEIPT_OUTCOME_INFO.held_back.label}: {RECEIPT_OUTCOME_INFO.held_back.meaning} Each webhook counts once
              (an order&apos;s orders/create and orders/paid are two).
            </Text>
          </>
        )}
      </BlockStack>
    </Card>
  );
}

function ReasonLabel({ reason }: { reason: string }) {
  return (
    <Box paddingInlineStart="400">
      <Text as="span" tone="subdued" breakWord>
        {reason}
      </Text>
    </Box>
  );
}

function formatRate(rate: number | null): string {
  return rate === null ? "—" : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`;
}
