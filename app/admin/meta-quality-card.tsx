// The Overview's "Meta's quality numbers" card: per pixel and event name, Meta's Event Match
// Quality and its match-key coverage beside ours (./meta-quality.server.ts), Meta's refusal with
// what to grant, and a Refresh button (posted to app/routes/app.quality.tsx, rate limited there).
import { useEffect, useRef, useState } from "react";
import { useFetcher } from "@remix-run/react";
import { Banner, BlockStack, Box, Button, Card, DataTable, InlineStack, Text } from "@shopify/polaris";
import { showToast } from "./app-bridge";
import { formatTime } from "./format-time";
import type { DestinationQuality, MetaQualityCard as CardData, QualityEventRow } from "./meta-quality.server";

export interface RefreshAnswer {
  ok: boolean;
  message: string;
}

const pct = (n: number | null) => (n === null ? "–" : `${Math.round(n)}%`);

export function MetaQualityCard({ quality, refreshUrl }: { quality: CardData; refreshUrl: string }) {
  if (quality.destinations.length === 0) return null;
  // A named region: screen readers can jump to it, and it holds one section per pixel.
  return (
    <section aria-labelledby="meta-quality-heading">
      <Card>
        <BlockStack gap="400">
          <BlockStack gap="100">
            <Text as="h2" variant="headingMd" id="meta-quality-heading">
              Meta&apos;s quality numbers
            </Text>
            <Text as="p" tone="subdued" variant="bodySm">
              What Meta reports of the events this app sent (its Dataset Quality API, read every 6 hours), beside what
              the app counted in the events Meta accepted over the last {quality.windowDays} days.
            </Text>
          </BlockStack>
          {quality.destinations.map((d) => (
            <DestinationQualitySection key={d.destinationId} destination={d} refreshUrl={refreshUrl} />
          ))}
        </BlockStack>
      </Card>
    </section>
  );
}

function DestinationQualitySection({
  destination: d,
  refreshUrl,
}: {
  destination: DestinationQuality;
  refreshUrl: string;
}) {
  const fetcher = useFetcher<RefreshAnswer>({ key: `quality-${d.destinationId}` });
  const said = useRef(fetcher.data);
  // Said in a toast; on the card only when App Bridge could not show it, or when the banner below does not already.
  const [inline, setInline] = useState<RefreshAnswer | undefined>();
  useEffect(() => {
    if (fetcher.state !== "idle" || !fetcher.data || fetcher.data === said.current) return;
    said.current = fetcher.data;
    setInline(showToast(fetcher.data.message, { isError: !fetcher.data.ok }) ? undefined : fetcher.data);
  }, [fetcher.state, fetcher.data]);
  const when = d.readAt ? `Read from Meta ${formatTime(d.readAt)}.` : "Not read from Meta yet.";
  return (
    <BlockStack gap="300">
      <InlineStack align="space-between" blockAlign="center" gap="200">
        <BlockStack gap="050">
          <Text as="h3" variant="headingSm">
            {d.name}
          </Text>
          <Text as="p" tone="subdued" variant="bodySm">
            {when}
          </Text>
        </BlockStack>
        <fetcher.Form method="post" action={refreshUrl}>
          <input type="hidden" name="destinationId" value={d.destinationId} />
          <Button submit loading={fetcher.state !== "idle"} accessibilityLabel={`Refresh Meta's numbers for ${d.name}`}>
            Refresh
          </Button>
        </fetcher.Form>
      </InlineStack>
      {inline && inline.message !== d.message && (
        <Text as="p" tone={inline.ok ? "success" : "caution"} variant="bodySm">
          {inline.message}
        </Text>
      )}
      {d.message && (
        <Banner
          tone={d.status === "refused" ? "warning" : "info"}
          title={d.status === "refused" ? "Meta refuses these numbers" : "Meta's numbers are not available right now"}
        >
          <p>{d.message}</p>
        </Banner>
      )}
      {d.status === "pending" && !d.readAt && <Text as="p">Meta&apos;s numbers are being read.</Text>}
      {d.events.length === 0 ? (
        <Text as="p">No events yet. Numbers appear here once Meta has accepted some of this pixel&apos;s events.</Text>
      ) : (
        d.events.map((e) => <EventQuality key={e.eventName} event={e} />)
      )}
    </BlockStack>
  );
}

function EventQuality({ event: e }: { event: QualityEventRow }) {
  const rows = e.keys.filter((k) => k.ours !== null || k.meta !== null).map((k) => [k.label, pct(k.ours), pct(k.meta)]);
  return (
    <Box paddingBlockStart="200">
      <BlockStack gap="200">
        <Text as="h4" variant="headingSm">
          {e.eventName}
          {e.score !== null && ` · Event Match Quality ${e.score.toFixed(1)} / 10 (${e.rating})`}
        </Text>
        {e.notes.length > 0 && (
          <BlockStack gap="050">
            {e.notes.map((line) => (
              <Text as="p" key={line} variant="bodySm">
                {line}
              </Text>
            ))}
          </BlockStack>
        )}
        {rows.length > 0 && (
          <DataTable
            columnContentTypes={["text", "numeric", "numeric"]}
            headings={["Match key", `Ours (${e.ourEvents} events)`, "Meta"]}
            rows={rows}
            increasedTableDensity
          />
        )}
      </BlockStack>
    </Box>
  );
}
