// Overview, the app's home: what stops delivery now (banners), the onboarding checklist from
// what the app has observed, and how many events reached Meta. Every read is for the shop of
// the authenticated session; the access token never leaves the server.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Banner, BlockStack, Layout, Page, Text } from "@shopify/polaris";
import { TitleBar } from "../admin/app-bridge";
import { AccuracyBanner } from "../admin/accuracy-card";
import { loadAccuracyView } from "../admin/accuracy.server";
import { DestinationBanners } from "../admin/banners";
import { BillingBanner, BillingCard } from "../admin/billing-card";
import { loadBillingCard } from "../admin/billing.server";
import { onboardingChecklist } from "../admin/checklist";
import { ChecklistCard } from "../admin/checklist-card";
import { TokenExpiryBanner } from "../admin/connect-with-meta";
import { loadDeliveryStats, loadDestinationViews } from "../admin/dashboard.server";
import { DataRequestsCard } from "../admin/data-requests-card";
import { DeliveryChartsCard } from "../admin/delivery-charts-card";
import { loadDeliveryCharts } from "../admin/delivery-charts.server";
import { MatchCoverageCard } from "../admin/match-coverage-card";
import { loadMatchCoverage } from "../admin/match-coverage.server";
import { MetaQualityCard } from "../admin/meta-quality-card";
import { loadMetaQuality } from "../admin/meta-quality.server";
import { loadEmbedOverride } from "../admin/embed-override.server";
import { DedupCard, MetaChannelBanner, OtherPixelBanner } from "../admin/dedup-card";
import { loadOnboardingFacts } from "../admin/onboarding.server";
import { snapshotted } from "../admin/report-snapshot.server";
import { routeErrorBoundary } from "../admin/route-error";
import { StatsCard } from "../admin/stats-card";
import { env } from "../config/env.server";
import { loadDedupHealth } from "../pipeline/dedup-health.server";
import { loadPixelSightings } from "../pipeline/pixel-sightings.server";
import { listDataRequests } from "../pipeline/privacy.server";
import { database } from "../process-clients.server";
import { adminGraphqlOf } from "../shopify/admin-graphql";
import { loadMetaChannelWarning } from "../shopify/sales-channels.server";
import { ensureWebPixel } from "../shopify/web-pixel.server";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const { session, admin } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const shop = session.shop;
  // First load after install: the web pixel is created here when a destination already exists.
  // The plan is read from Shopify beside it; reading it may hold or resume delivery, which the
  // destination views below then show.
  const [webPixel, billing, metaChannel] = await Promise.all([
    ensureWebPixel(db.prisma, { graphql: adminGraphqlOf(admin), grantedScopes: session.scope }, shop),
    loadBillingCard(db.prisma, shop, adminGraphqlOf(admin)),
    // Whether Meta's own sales channel is installed: read from Shopify at most every 6 hours.
    loadMetaChannelWarning(db.prisma, { graphql: adminGraphqlOf(admin), grantedScopes: session.scope }, shop),
  ]);
  const now = new Date();
  const [
    destinations,
    stats,
    dataRequests,
    facts,
    charts,
    coverage,
    accuracy,
    quality,
    embedOverride,
    dedup,
    sightings,
  ] = await Promise.all([
    loadDestinationViews(db.prisma, shop),
    loadDeliveryStats(db.prisma, shop),
    listDataRequests(db.prisma, shop),
    loadOnboardingFacts(db.prisma, shop, env().SHOPIFY_API_KEY),
    loadDeliveryCharts(db.prisma, shop),
    loadMatchCoverage(db.prisma, shop),
    loadAccuracyView(db.prisma, shop),
    loadMetaQuality(db.prisma, shop),
    loadEmbedOverride(db.prisma, shop),
    // Deduplication health and another pixel's sightings.
    // Every delivered event of 14 days: kept as last computed, refreshed in the background.
    snapshotted(db.prisma, shop, "dedup", now, () => loadDedupHealth(db.sql, shop, now)).then((s) => s.value),
    loadPixelSightings(db.prisma, shop, now),
  ]);
  return json({
    shop,
    destinations,
    stats,
    dataRequests,
    webPixel,
    billing,
    checklist: onboardingChecklist(facts),
    charts,
    coverage,
    accuracyAlerts: accuracy.alerts,
    quality,
    embedOverride,
    dedup,
    sightings,
    metaChannel,
  });
}

export default function Overview() {
  const {
    destinations,
    stats,
    dataRequests,
    webPixel,
    billing,
    checklist,
    charts,
    coverage,
    accuracyAlerts,
    quality,
    embedOverride,
    dedup,
    sightings,
    metaChannel,
  } = useLoaderData<typeof loader>();
  return (
    <Page>
      <TitleBar title="Overview" />
      <Text as="h1" visuallyHidden>
        Overview
      </Text>
      <BlockStack gap="500">
        {/* A billing hold pauses the pixels too, but says so in the plan's banner, with what to do. */}
        <BillingBanner billing={billing} plansUrl="/app/billing" />
        <DestinationBanners destinations={destinations} settingsUrl="/app/settings" />
        <AccuracyBanner alerts={accuracyAlerts} accuracyUrl="/app/accuracy" />
        {destinations.map((d) => (
          <TokenExpiryBanner key={`expiry-${d.id}`} destination={d} settingsUrl="/app/settings" />
        ))}
        {webPixel.status === "failed" && webPixel.message && (
          <Banner tone="warning" title="Storefront pixel">
            <p>{webPixel.message}</p>
          </Banner>
        )}
        {embedOverride && (
          <Banner tone="warning" title="The theme app embed fires other pixels">
            <p>
              On your latest order, {embedOverride.message}. Browser and server events then reach different pixels, so
              Meta cannot merge them. In Online Store &gt; Themes &gt; Customize &gt; App embeds &gt; CAPI Relay, clear
              “Meta pixel ID (override)” and save the theme.
            </p>
          </Banner>
        )}
        <OtherPixelBanner sightings={sightings} />
        <MetaChannelBanner warning={metaChannel} settingsUrl="/app/settings" />
        {destinations.length === 0 && (
          <Banner tone="warning" title="Connect your Meta pixel">
            <p>
              No events are sent to Meta until a pixel (dataset) ID and its Conversions API access token are saved in
              Settings (the first step below). Orders and checkouts that arrive before then are kept and sent once the
              pixel is connected.
            </p>
          </Banner>
        )}
        {/* While setting up, the checklist leads and the figures stand beside it; once done, the figures lead. */}
        <Layout>
          <Layout.Section>
            <BlockStack gap="500">
              {checklist.complete ? (
                <StatsCard stats={stats} eventsUrl="/app/events" />
              ) : (
                <ChecklistCard checklist={checklist} />
              )}
              <DedupCard health={dedup} />
            </BlockStack>
          </Layout.Section>
          <Layout.Section variant="oneThird">
            <BlockStack gap="500">
              {checklist.complete ? (
                <ChecklistCard checklist={checklist} />
              ) : (
                <StatsCard stats={stats} eventsUrl="/app/events" />
              )}
              <BillingCard billing={billing} plansUrl="/app/billing" />
              {dataRequests.length > 0 && <DataRequestsCard requests={dataRequests} />}
            </BlockStack>
          </Layout.Section>
        </Layout>
        {/* Below the summary, the detail: over time, by event and pixel, and what each event carries. */}
        <DeliveryChartsCard charts={charts} eventsUrl="/app/events" />
        <MatchCoverageCard coverage={coverage} />
        <MetaQualityCard quality={quality} refreshUrl="/app/quality" />
      </BlockStack>
    </Page>
  );
}

export const ErrorBoundary = routeErrorBoundary("The overview", "Overview");
