// Settings: the Meta pixel and its token (checked with Meta when saved), the test event, and how
// orders become events. The forms post to this route's action (app/admin/actions.server.ts):
// zod-validated, scoped to the session's shop, never echoing the token.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { BlockStack, Layout, Page, Text } from "@shopify/polaris";
import { runAdminAction, type ActionResult } from "../admin/actions.server";
import { TitleBar } from "../admin/app-bridge";
import { PausedBanner, TestEventCodeBanner } from "../admin/banners";
import { loadDestinationView, loadShopSettings } from "../admin/dashboard.server";
import { DestinationCard, TestEventCard } from "../admin/destination-card";
import { routeErrorBoundary } from "../admin/route-error";
import { SettingsCard } from "../admin/settings-card";
import { database } from "../process-clients.server";
import { metaAccessFromEnv } from "../pipeline/connection.server";
import { saveDestination } from "../pipeline/destinations.server";
import { adminGraphqlOf } from "../shopify/admin-graphql";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const { session } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const [destination, settings] = await Promise.all([
    loadDestinationView(db.prisma, session.shop),
    loadShopSettings(db.prisma, session.shop),
  ]);
  return json({ shop: session.shop, destination, settings });
}

export async function action({ request }: ActionFunctionArgs) {
  const { session, admin } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const shopify = { graphql: adminGraphqlOf(admin), grantedScopes: session.scope };
  const result: ActionResult = await runAdminAction(
    db.prisma,
    session.shop,
    await request.formData(),
    saveDestination,
    shopify,
    { meta: metaAccessFromEnv() },
  );
  return json(result, { status: result.ok ? 200 : 400 });
}

export default function Settings() {
  const { destination, settings } = useLoaderData<typeof loader>();
  return (
    <Page>
      <TitleBar title="Settings" />
      <Text as="h1" visuallyHidden>
        Settings
      </Text>
      <BlockStack gap="500">
        {destination?.paused && <PausedBanner destination={destination} />}
        {destination?.testEventCode && <TestEventCodeBanner code={destination.testEventCode} />}
        <Layout>
          <Layout.Section>
            <BlockStack gap="500">
              <DestinationCard destination={destination} />
              <TestEventCard destination={destination} />
            </BlockStack>
          </Layout.Section>
          <Layout.Section variant="oneThird">
            <SettingsCard settings={settings} />
          </Layout.Section>
        </Layout>
      </BlockStack>
    </Page>
  );
}

export const ErrorBoundary = routeErrorBoundary("Your settings", "Settings");
