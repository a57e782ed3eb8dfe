// The Overview's deduplication card: of the events the server delivered to Meta, the share the
// storefront's pixel fired too (Meta keeps one of each pair) and the share only the server
// delivered (what server-side delivery recovered). And the warnings when another Meta pixel on
// the storefront runs one of the shop's pixels, or Meta's Facebook & Instagram channel may send
// to them from its own server.
import { Banner, BlockStack, Card, DataTable, Text } from "@shopify/polaris";
import { percent, type DedupHealth, type DedupRow } from "../pipeline/dedup-health";
import type { PixelSightingView } from "../pipeline/pixel-sightings.server";
import type { MetaChannelWarning } from "../shopify/sales-channels";

const EVENT_LABEL: Record<string, string> = { Purchase: "Purchases", InitiateCheckout: "Checkouts started" };
const label = (name: string) => EVENT_LABEL[name] ?? name;

const cells = (r: DedupRow) => [
  r.serverSent,
  `${r.paired} (${percent(r.pairedShare)})`,
  `${r.serverOnly} (${percent(r.serverOnlyShare)})`,
];

export function DedupCard({ health }: { health: DedupHealth }) {
  const purchases = health.totals.find((t) => t.eventName === "Purchase");
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          Browser and server
        </Text>
        {health.totals.length === 0 ? (
          <Text as="p">
            Nothing to compare yet: once events reach Meta, this shows how many of them the storefront pixel also sent.
          </Text>
        ) : !health.browserReported ? (
          <Text as="p">
            The storefront pixel has reported no event in the last {health.days} days, so every event counts as sent by
            the server only. If your store has had checkouts since, open this page again to refresh the storefront
            pixel; if it stays like this, check that CAPI Relay&apos;s pixel is connected under Settings &gt; Customer
            events.
          </Text>
        ) : (
          <>
            {purchases && purchases.serverSent > 0 && (
              <Text as="p" variant="headingLg">
                {percent(purchases.serverOnlyShare)} of purchases reached Meta only through the server
              </Text>
            )}
            <Text as="p" tone="subdued">
              Last {health.days} days. &ldquo;Both&rdquo;: the storefront pixel sent it too, and Meta kept one event.
              &ldquo;Server only&rdquo;: the browser never sent it (an ad blocker, declined cookies, a closed tab), so
              without the server Meta would not have it.
            </Text>
            <DataTable
              columnContentTypes={["text", "numeric", "numeric", "numeric"]}
              headings={["Events", "Sent", "Both", "Server only"]}
              rows={[
                ...health.totals.map((t) => [label(t.eventName), ...cells(t)]),
                ...health.rows.map((r) => [`${label(r.eventName)}, ${r.day}`, ...cells(r)]),
              ]}
              increasedTableDensity
            />
          </>
        )}
      </BlockStack>
    </Card>
  );
}

const pixelNames = (pixels: { pixelId: string; label: string | null }[]) =>
  pixels.map((p) => (p.label ? `${p.label} (${p.pixelId})` : p.pixelId)).join(", ");

export function OtherPixelBanner({ sightings }: { sightings: PixelSightingView[] }) {
  if (sightings.length === 0) return null;
  const names = pixelNames(sightings);
  return (
    <Banner tone="warning" title="Another Meta pixel on your storefront">
      <p>
        Another Meta pixel on your storefront also sends to pixel {names}, for example Meta&apos;s Facebook &amp;
        Instagram app or code in your theme. Its page views count alongside CAPI Relay&apos;s purchases, and anything it
        sends without the same event ID is counted twice. CAPI Relay&apos;s storefront script does not fire this pixel a
        second time, unless its app embed is set to &quot;Take over&quot;. What to do: keep one of them. Either turn off
        that pixel (in the Facebook &amp; Instagram app: Settings &gt; Data sharing, or remove it from your theme), or
        choose a different pixel there.
      </p>
    </Banner>
  );
}

export function MetaChannelBanner({
  warning,
  settingsUrl,
}: {
  warning: MetaChannelWarning | null;
  settingsUrl: string;
}) {
  if (!warning) return null;
  const one = warning.pixels.length === 1;
  return (
    <Banner
      tone="warning"
      title="Meta's Facebook & Instagram channel may count your purchases twice"
      action={{ content: "Review pixels in Settings", url: settingsUrl }}
    >
      <p>
        The Facebook &amp; Instagram sales channel is installed on your store. If its data sharing sends to{" "}
        {one ? "pixel" : "one of your pixels"} {pixelNames(warning.pixels)} too, Meta gets each purchase twice: once
        from the channel and once from CAPI Relay, with different event IDs, so it counts both. What to do: in the
        Facebook &amp; Instagram app, open Settings &gt; Data sharing and turn data sharing off for this pixel, or
        choose a different pixel there. Or remove this pixel from CAPI Relay in Settings. If the channel already uses
        another pixel, there is nothing to do.
      </p>
    </Banner>
  );
}
