// The admin page's delivery card: events by state over the last day and week. Also on the
// demo's dashboard (app/routes/demo.tsx), which shows the same figures for the demo shop.
import type { ReactNode } from "react";
import { BlockStack, Card, DataTable, Text } from "@shopify/polaris";
import type { DeliveryStats } from "./dashboard.server";

const STAT_ROWS: Array<{ label: string; states: string[] }> = [
  { label: "Delivered", states: ["sent"] },
  { label: "Queued", states: ["queued", "sending"] },
  { label: "Retrying", states: ["retrying"] },
  { label: "Paused", states: ["paused"] },
  { label: "Rejected", states: ["rejected"] },
  { label: "Expired", states: ["expired"] },
  { label: "Not sent (by your settings)", states: ["skipped"] },
];

export function StatsCard({ stats }: { stats: DeliveryStats }) {
  const count = (counts: Record<string, number>, states: string[]) => states.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  const rows: ReactNode[][] = STAT_ROWS.map(({ label, states }) => [
    label,
    count(stats.last24h.counts, states),
    count(stats.last7d.counts, states),
  ]);
  rows.push(["Delivery rate", formatRate(stats.last24h.deliveryRate), formatRate(stats.last7d.deliveryRate)]);
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          Delivery
        </Text>
        <DataTable
          columnContentTypes={["text", "numeric", "numeric"]}
          headings={["Events", "Last 24 hours", "Last 7 days"]}
          rows={rows}
          increasedTableDensity
        />
        <Text as="p" tone="subdued" variant="bodySm">
          Delivery rate: events Meta accepted, out of those delivered, rejected, expired or paused.
        </Text>
      </BlockStack>
    </Card>
  );
}

function formatRate(rate: number | null): string {
  return rate === null ? "—" : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`;
}
