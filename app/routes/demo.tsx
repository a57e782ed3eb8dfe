// The demo's dashboard (`npm run demo`): the demo shop's account and the admin page's own
// delivery and event cards, read-only and without Shopify's login, which a demo on one machine
// cannot have. It exists only in the process the demo runs (CAPI_DEMO_SHOP, never in
// production); anywhere else it is a 404. It shows no token and no personal data: states,
// counts and reasons only, never an event's payload.
import type { LinksFunction, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Banner, BlockStack, Card, DataTable, Layout, Page, Text } from "@shopify/polaris";
import polarisStyles from "@shopify/polaris/build/esm/styles.css";
import { AppProvider } from "../admin/app-provider";
import {
  loadDeliveryStats,
  loadDestinationViews,
  loadRecentEvents,
  type EventTransitionView,
} from "../admin/dashboard.server";
import { EventsCard } from "../admin/events-card";
import { StatsCard } from "../admin/stats-card";
import { env } from "../config/env.server";
import { database } from "../process-clients.server";
import { demoRun, loadDemoAccount } from "../demo/account.server";
import { ledger, summaryRows } from "../demo/ledger";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: polarisStyles },
  // No icon: without this link the browser asks for /favicon.ico, a 404 the server logs with a stack.
  { rel: "icon", href: "data:," },
];

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

/** The demo's shop, or null outside a demo process. */
function demoShop(): string | null {
  // env() reads NODE_ENV at run time; the server build fixes process.env.NODE_ENV at build time.
  if (env().NODE_ENV === "production") return null;
  const shop = process.env.CAPI_DEMO_SHOP;
  return shop && SHOP_DOMAIN.test(shop) ? shop : null;
}

export async function loader(_: LoaderFunctionArgs) {
  const shop = demoShop();
  if (!shop) throw new Response("Not Found", { status: 404 });
  const db = database();
  await db.ready;
  const [destinations, stats, events, account] = await Promise.all([
    loadDestinationViews(db.prisma, shop),
    loadDeliveryStats(db.prisma, shop),
    loadRecentEvents(db.prisma, shop),
    loadDemoAccount(db.prisma, shop),
  ]);
  const run = demoRun(shop);
  const result = ledger(account, run);
  return json({
    shop,
    pixelId: destinations[0]?.pixelId ?? null,
    posted: run !== undefined,
    rows: summaryRows(result),
    problems: result.problems,
    stats,
    // Payloads hold hashed identifiers plus the buyer's IP and user agent: never shown here.
    events: events.map((e) => ({ ...e, payload: null, history: [] as EventTransitionView[] })),
  });
}

export default function DemoDashboard() {
  const { shop, pixelId, posted, rows, problems, stats, events } = useLoaderData<typeof loader>();
  return (
    <AppProvider isEmbeddedApp={false} apiKey="">
      <Page title="CAPI Relay demo" subtitle={`${shop}${pixelId ? ` → Meta pixel ${pixelId} (the stand-in)` : ""}`}>
        <BlockStack gap="500">
          {!posted && (
            <Banner tone="info" title="The demo is still posting its day">
              <p>Reload when the terminal shows the summary.</p>
            </Banner>
          )}
          {posted && problems.length > 0 && (
            <Banner tone="critical" title="The account does not add up">
              <ul>
                {problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </Banner>
          )}
          <Layout>
            <Layout.Section>
              <BlockStack gap="500">
                <Card>
                  <BlockStack gap="200">
                    <Text as="h2" variant="headingMd">
                      The day&apos;s webhooks
                    </Text>
                    <DataTable
                      columnContentTypes={["text", "numeric", "text"]}
                      headings={["", "Count", ""]}
                      rows={rows.map((r) => [
                        <span
                          key="label"
                          style={{ paddingLeft: `${r.depth * 1.5}rem`, fontWeight: r.depth === 0 ? 600 : undefined }}
                        >
                          {r.label}
                        </span>,
                        r.value,
                        <Text key="note" as="span" tone="subdued" variant="bodySm" breakWord>
                          {r.note ?? ""}
                        </Text>,
                      ])}
                      increasedTableDensity
                    />
                    <Text as="p" tone="subdued" variant="bodySm">
                      Read from the database and Meta&apos;s stand-in, as the terminal summary; answer times are
                      measured by the demo as Shopify would see them.
                    </Text>
                  </BlockStack>
                </Card>
                <StatsCard stats={stats} />
                <EventsCard events={events} />
              </BlockStack>
            </Layout.Section>
          </Layout>
        </BlockStack>
      </Page>
    </AppProvider>
  );
}
