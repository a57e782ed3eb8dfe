// Connect with Meta: start Facebook Login for Business, and after Meta's redirect pick the
// business and pixel (dataset) read from Meta with the login's token. The forms post to this
// route's action (app/admin/connect.server.ts), for the session's shop only.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Page, Text } from "@shopify/polaris";
import { TitleBar } from "../admin/app-bridge";
import { ConnectWithMetaPage } from "../admin/connect-with-meta";
import { loadConnectView, runConnectAction, type ConnectResult } from "../admin/connect.server";
import { routeErrorBoundary } from "../admin/route-error";
import { loginSetupFromEnv } from "../pipeline/meta-login.server";
import { saveDestinationUnderPlan } from "../billing/billing.server";
import { database } from "../process-clients.server";
import { adminGraphqlOf } from "../shopify/admin-graphql";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const { session } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const view = await loadConnectView(db.prisma, session.shop, new URL(request.url).searchParams, loginSetupFromEnv());
  return json({ shop: session.shop, ...view });
}

export async function action({ request }: ActionFunctionArgs) {
  const { session, admin } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const result: ConnectResult = await runConnectAction(
    db.prisma,
    session.shop,
    await request.formData(),
    loginSetupFromEnv(),
    {
      save: saveDestinationUnderPlan,
      shopify: { graphql: adminGraphqlOf(admin), grantedScopes: session.scope },
    },
  );
  return json(result, { status: result.ok ? 200 : 400 });
}

export default function Connect() {
  const view = useLoaderData<typeof loader>();
  return (
    <Page backAction={{ content: "Settings", url: "/app/settings" }}>
      <TitleBar title="Connect with Meta" />
      <Text as="h1" visuallyHidden>
        Connect with Meta
      </Text>
      <ConnectWithMetaPage view={view} />
    </Page>
  );
}

export const ErrorBoundary = routeErrorBoundary("Connect with Meta", "Connect with Meta");
