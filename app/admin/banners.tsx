// The banners of the admin's pages that say what stops or changes delivery, and what to do.
import { BlockStack, Banner } from "@shopify/polaris";
import { isBillingHoldReason } from "../billing/standing";
import type { DestinationView } from "./dashboard.server";
import { formatTime } from "./format-time";

type Destination = Pick<DestinationView, "pixelId" | "label" | "pauseMessage" | "pausedAt">;

/** A pixel as the merchant named it, else by its id. */
export const pixelName = (d: Pick<DestinationView, "pixelId" | "label">) => d.label || `pixel ${d.pixelId}`;

export function PausedBanner({ destination, settingsUrl }: { destination: Destination; settingsUrl?: string }) {
  return (
    <Banner
      tone="critical"
      title={`Meta is not accepting events for ${pixelName(destination)}`}
      action={settingsUrl ? { content: "Save a new token", url: settingsUrl } : undefined}
    >
      <BlockStack gap="200">
        <p>
          {destination.pauseMessage ??
            "Meta refused the access token of this pixel, so sending is paused. Generate a new access token in Meta Events Manager and save it in Settings."}
        </p>
        <p>
          New orders are kept while sending is paused
          {destination.pausedAt ? ` (since ${formatTime(destination.pausedAt)})` : ""} and go out as soon as a working
          token is saved.
        </p>
      </BlockStack>
    </Banner>
  );
}

/**
 * A test event code sends Shopify test orders (and the test event button) to Test events; real
 * orders go to the pixel as always (app/events/purchase.ts), so the code never holds them back.
 */
export function TestEventCodeBanner({
  code,
  pixel,
  settingsUrl,
}: {
  code: string;
  /** Which pixel, when the shop has several. */
  pixel?: string;
  settingsUrl?: string;
}) {
  return (
    <Banner
      tone="info"
      title={`Test event code ${code} is set${pixel ? ` for ${pixel}` : ""}`}
      action={settingsUrl ? { content: "Open settings", url: settingsUrl } : undefined}
    >
      <p>
        Shopify test orders and test events go to Events Manager &gt; your pixel &gt; Test events, not to your ads
        reporting. Real orders are sent to your pixel as usual. When you are done testing, clear Test event code in
        Settings and save.
      </p>
    </Banner>
  );
}

/** What stops or changes delivery, pixel by pixel: each paused one, and each with a test event code. */
export function DestinationBanners({
  destinations,
  settingsUrl,
}: {
  destinations: DestinationView[];
  settingsUrl?: string;
}) {
  const several = destinations.length > 1;
  return (
    <>
      {destinations
        // A billing hold says so in the plan's banner (app/admin/billing-card.tsx).
        .filter((d) => d.paused && !isBillingHoldReason(d.pauseReason))
        .map((d) => (
          <PausedBanner key={`paused-${d.id}`} destination={d} settingsUrl={settingsUrl} />
        ))}
      {destinations
        .filter((d) => d.testEventCode)
        .map((d) => (
          <TestEventCodeBanner
            key={`test-${d.id}`}
            code={d.testEventCode!}
            pixel={several ? pixelName(d) : undefined}
            settingsUrl={settingsUrl}
          />
        ))}
    </>
  );
}
