// The Overview's delivery card: events by what became of them per hour (24 hours) or per day
// (30 days), per event name and per pixel, webhooks held back by reason, and how long Meta's
// acceptance took. Every chart has its numbers beside it (./stacked-bars.tsx).
import { useState } from "react";
import {
  BlockStack,
  Box,
  ButtonGroup,
  Button,
  Card,
  DataTable,
  Divider,
  InlineStack,
  Link,
  Text,
} from "@shopify/polaris";
import { RECEIPT_OUTCOME_INFO } from "../pipeline/lifecycle";
import {
  bucketLabel,
  formatDuration,
  SERIES,
  SERIES_LABEL,
  totalOf,
  WINDOWS,
  type Series,
  type WindowKey,
} from "./delivery-charts";
import type { DeliveryCharts } from "./delivery-charts.server";
import { StackedBars, StackedRows, type StackedSeries } from "./stacked-bars";

const COLOR: Record<Series, string> = {
  delivered: "var(--p-color-bg-fill-success)",
  queued: "var(--p-color-bg-fill-info)",
  retrying: "var(--p-color-bg-fill-warning)",
  paused: "var(--p-color-bg-fill-magic)",
  rejected: "var(--p-color-bg-fill-critical)",
  not_sent: "var(--p-color-icon-secondary)",
  held_back: "var(--p-color-bg-fill-emphasis)",
};
const ALL_SERIES: StackedSeries[] = SERIES.map((s) => ({ id: s, label: SERIES_LABEL[s], color: COLOR[s] }));
const EVENT_SERIES = ALL_SERIES.filter((s) => s.id !== "held_back");

export function DeliveryChartsCard({ charts, eventsUrl }: { charts: DeliveryCharts; eventsUrl?: string }) {
  const [window, setWindow] = useState<WindowKey>("24h");
  const chart = charts.windows[window];
  const total = totalOf(chart.totals);
  const summary = SERIES.filter((s) => chart.totals[s] > 0)
    .map((s) => `${SERIES_LABEL[s]} ${chart.totals[s]}`)
    .join(", ");
  return (
    <Card>
      <BlockStack gap="400">
        <InlineStack align="space-between" blockAlign="center" gap="200">
          <Text as="h2" variant="headingMd">
            Delivery over time
          </Text>
          <InlineStack gap="300" blockAlign="center">
            <ButtonGroup variant="segmented">
              {(Object.keys(WINDOWS) as WindowKey[]).map((w) => (
                <Button key={w} pressed={w === window} onClick={() => setWindow(w)}>
                  {w === "24h" ? "24 hours" : "30 days"}
                </Button>
              ))}
            </ButtonGroup>
            {eventsUrl && <Link url={eventsUrl}>View events</Link>}
          </InlineStack>
        </InlineStack>
        {total === 0 ? (
          <Text as="p">
            Nothing in the {window === "24h" ? "last 24 hours" : "last 30 days"} yet. Events are counted here as orders
            and checkouts arrive from your store.
          </Text>
        ) : (
          <>
            <StackedBars
              title={`${WINDOWS[window].label} (UTC)`}
              summary={`${total} in all: ${summary}.`}
              series={ALL_SERIES}
              firstColumn={window === "24h" ? "Hour (UTC)" : "Day (UTC)"}
              bars={chart.buckets.map((b) => ({ label: bucketLabel(b.start, window), values: b.counts }))}
            />
            <Divider />
            <BlockStack gap="200">
              <Text as="h3" variant="headingSm">
                By event
              </Text>
              <StackedRows
                series={EVENT_SERIES}
                rows={chart.byEventName.map((r) => ({ label: r.label, values: r.counts, total: r.total }))}
              />
            </BlockStack>
            <BlockStack gap="200">
              <Text as="h3" variant="headingSm">
                By pixel
              </Text>
              <StackedRows
                series={EVENT_SERIES}
                rows={chart.byDestination.map((r) => ({ label: r.label, values: r.counts, total: r.total }))}
              />
            </BlockStack>
            <HeldBack chart={chart} />
          </>
        )}
        <Divider />
        <LatencyTable charts={charts} />
      </BlockStack>
    </Card>
  );
}

function HeldBack({ chart }: { chart: DeliveryCharts["windows"][WindowKey] }) {
  if (chart.totals.held_back === 0) return null;
  const rows = chart.heldBackReasons.map((r) => [r.reason, r.count]);
  if (chart.heldBackOther > 0) rows.push(["Other reasons", chart.heldBackOther]);
  return (
    <BlockStack gap="200">
      <Text as="h3" variant="headingSm">
        {RECEIPT_OUTCOME_INFO.held_back.label}, by reason
      </Text>
      <DataTable
        columnContentTypes={["text", "numeric"]}
        headings={["Reason", "Webhooks"]}
        rows={rows}
        increasedTableDensity
      />
      <Text as="p" tone="subdued" variant="bodySm">
        {RECEIPT_OUTCOME_INFO.held_back.meaning} Counted per webhook (an order&apos;s orders/create and orders/paid are
        two), and for the whole shop: a held-back webhook never became any pixel&apos;s event.
      </Text>
    </BlockStack>
  );
}

function LatencyTable({ charts }: { charts: DeliveryCharts }) {
  const names = [...new Set([...charts.latency["24h"], ...charts.latency["7d"]].map((l) => l.eventName))];
  const of = (w: "24h" | "7d", name: string) => charts.latency[w].find((l) => l.eventName === name);
  const cell = (w: "24h" | "7d", name: string) => {
    const l = of(w, name);
    return l && l.delivered > 0 ? `${formatDuration(l.p50)} / ${formatDuration(l.p95)}` : "—";
  };
  return (
    <BlockStack gap="200">
      <Text as="h3" variant="headingSm">
        Time to reach Meta
      </Text>
      {(of("7d", "")?.delivered ?? 0) === 0 ? (
        <Text as="p">No event delivered in the last 7 days yet.</Text>
      ) : (
        <>
          <DataTable
            columnContentTypes={["text", "text", "text"]}
            headings={["Event", "24 hours: median / 95th", "7 days: median / 95th"]}
            rows={names.map((n) => [n === "" ? "All events" : n, cell("24h", n), cell("7d", n)])}
            increasedTableDensity
          />
          <Box>
            <Text as="p" tone="subdued" variant="bodySm">
              From the webhook&apos;s arrival to Meta accepting the event, for events that arrived in the window and
              were delivered. Half of them took less than the median; 95 in 100 took less than the 95th percentile.
            </Text>
          </Box>
        </>
      )}
    </BlockStack>
  );
}
