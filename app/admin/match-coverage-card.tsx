// The Overview's match-quality card: per event, the share of the last 7 days' events carrying
// each key Meta matches buyers on, and what to do about the low ones (./match-coverage.ts).
import { Banner, BlockStack, Card, DataTable, Text } from "@shopify/polaris";
import { formatShare, MATCH_KEYS, type MatchCoverage } from "./match-coverage";

export function MatchCoverageCard({ coverage }: { coverage: MatchCoverage }) {
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Customer information sent (last 7 days)
        </Text>
        {coverage.events.length === 0 ? (
          <Text as="p">
            Nothing to count from the last 7 days yet. Once orders and checkouts arrive, this shows how often each event
            carries what Meta matches buyers on.
          </Text>
        ) : (
          <>
            <DataTable
              columnContentTypes={["text", ...coverage.events.map(() => "numeric" as const)]}
              headings={["Key", ...coverage.events.map((e) => `${e.eventName} (${e.total})`)]}
              rows={MATCH_KEYS.map((k) => [
                k.label,
                ...coverage.events.map((e) => {
                  const c = e.keys.find((x) => x.key === k.id)!;
                  return `${formatShare(c.share)} (${c.count})`;
                }),
              ])}
              increasedTableDensity
            />
            <Text as="p" tone="subdued" variant="bodySm">
              Share of events carrying each key, with their number; an event sent to several pixels counts once. The
              more keys an event carries, the more often Meta matches it to a person and credits your ads.
            </Text>
            {coverage.advice.map((a) => (
              <Banner key={`${a.eventName}-${a.key}`} tone={a.tone}>
                <p>{a.message}</p>
              </Banner>
            ))}
          </>
        )}
      </BlockStack>
    </Card>
  );
}
