// Settings: the Meta pixels and their tokens (checked with Meta when saved), the test event, and how
// orders become events. The forms post to this route's action (app/admin/actions.server.ts):
// zod-validated, scoped to the session's shop, never echoing the token.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { BlockStack, Button, Layout, Page, Text } from "@shopify/polaris";
import { useEffect, useState } from "react";
import { runAdminAction, type ActionResult } from "../admin/actions.server";
import { TitleBar } from "../admin/app-bridge";
import { DestinationBanners } from "../admin/banners";
import { loadDestinationViews, loadShopSettings } from "../admin/dashboard.server";
import { ConnectWithMetaEntry, TokenExpiryBanner } from "../admin/connect-with-meta";
import { DestinationCard, PixelListOutcome, TestEventCard } from "../admin/destination-card";
import { routeErrorBoundary } from "../admin/route-error";
import { SettingsCard } from "../admin/settings-card";
import { database } from "../process-clients.server";
import { metaAccessFromEnv } from "../pipeline/connection.server";
import { saveDestinationUnderPlan } from "../billing/billing.server";
import { LOGIN_NOT_CONFIGURED, loginSetupFromEnv } from "../pipeline/meta-login.server";
import { adminGraphqlOf } from "../shopify/admin-graphql";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const { session } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const [destinations, settings] = await Promise.all([
    loadDestinationViews(db.prisma, session.shop),
    loadShopSettings(db.prisma, session.shop),
  ]);
  // Connect with Meta is offered only when the server has a Meta app (the secret stays here).
  const metaLogin = loginSetupFromEnv()
    ? { available: true }
    : { available: false, notConfigured: LOGIN_NOT_CONFIGURED };
  return json({ shop: session.shop, destinations, settings, metaLogin });
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
    saveDestinationUnderPlan,
    shopify,
    { meta: metaAccessFromEnv() },
  );
  return json(result, { status: result.ok ? 200 : 400 });
}

export default function Settings() {
  const { destinations, settings, metaLogin } = useLoaderData<typeof loader>();
  const [adding, setAdding] = useState(false);
  // A pixel just added shows in the list: the add form closes.
  useEffect(() => setAdding(false), [destinations.length]);
  // Connect with Meta on a new pixel's card, and on each pixel's to renew its token.
  const loginEntry = (d?: (typeof destinations)[number]) => (
    <ConnectWithMetaEntry {...metaLogin} connectedVia={d?.connectedVia} tokenExpiry={d?.tokenExpiry} />
  );
  return (
    <Page>
      <TitleBar title="Settings" />
      <Text as="h1" visuallyHidden>
        Settings
      </Text>
      <BlockStack gap="500">
        <PixelListOutcome />
        <DestinationBanners destinations={destinations} />
        {destinations.map((d) => (
          <TokenExpiryBanner key={`expiry-${d.id}`} destination={d} />
        ))}
        <Layout>
          <Layout.Section>
            <BlockStack gap="500">
              {destinations.map((d) => (
                <DestinationCard key={d.id} destination={d} loginEntry={loginEntry(d)} />
              ))}
              {destinations.length === 0 && <DestinationCard destination={null} first loginEntry={loginEntry()} />}
              {destinations.length > 0 &&
                (adding ? (
                  <DestinationCard destination={null} onCancel={() => setAdding(false)} loginEntry={loginEntry()} />
                ) : (
                  <div>
                    <Button onClick={() => setAdding(true)}>Add another pixel</Button>
                  </div>
                ))}
              <TestEventCard destinations={destinations} />
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
