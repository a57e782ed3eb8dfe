// Accuracy: per day and Meta pixel, Shopify's orders against the Purchases Meta accepted, the
// gap reason by reason. The figures are measured by the worker after each reconciliation (every 15 minutes); "Measure now" reads the
// orders through this session's Admin API at once. Every read and write is for the session's shop.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { Banner, BlockStack, Button, InlineStack, Layout, Page, Text } from "@shopify/polaris";
import { z } from "zod";
import { TitleBar } from "../admin/app-bridge";
import { AccuracyBanner, AccuracyCard, AccuracyLegend } from "../admin/accuracy-card";
import { loadAccuracyView } from "../admin/accuracy.server";
import { routeErrorBoundary } from "../admin/route-error";
import { measureAccuracy } from "../pipeline/accuracy.server";
import { database } from "../process-clients.server";
import { adminGraphqlOf } from "../shopify/admin-graphql";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const { session } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  return json(await loadAccuracyView(db.prisma, session.shop));
}

const formSchema = z.object({ intent: z.literal("measure") });

export type AccuracyActionResult = { ok: true; message: string } | { ok: false; formError: string };

export async function action({ request }: ActionFunctionArgs) {
  const { session, admin } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const form = Object.fromEntries([...(await request.formData()).entries()].slice(0, 10));
  if (!formSchema.safeParse(form).success)
    return json<AccuracyActionResult>({ ok: false, formError: "Unknown request." }, { status: 400 });
  try {
    const done = await measureAccuracy({ prisma: db.prisma, graphql: adminGraphqlOf(admin) }, session.shop);
    return json<AccuracyActionResult>({
      ok: true,
      message: `Measured: ${done.orders} order(s) of the last ${done.days.length} day(s) read from Shopify.`,
    });
  } catch (error) {
    return json<AccuracyActionResult>(
      {
        ok: false,
        formError: `Shopify's orders could not be read (${(error as Error).message}). Try again in a few minutes.`,
      },
      { status: 502 },
    );
  }
}

export default function Accuracy() {
  const view = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  return (
    <Page>
      <TitleBar title="Accuracy" />
      <Text as="h1" visuallyHidden>
        Accuracy
      </Text>
      <BlockStack gap="500">
        {result && !result.ok && (
          <Banner tone="critical" title="Not measured">
            <p>{result.formError}</p>
          </Banner>
        )}
        {result?.ok && (
          <Banner tone="success" title="Measured">
            <p>{result.message}</p>
          </Banner>
        )}
        <AccuracyBanner alerts={view.alerts} />
        <InlineStack align="space-between" blockAlign="center" gap="200">
          <Text as="p">Your orders in Shopify against the Purchases each Meta pixel accepted, day by day.</Text>
          <Form method="post">
            <input type="hidden" name="intent" value="measure" />
            <Button submit loading={busy}>
              Measure now
            </Button>
          </Form>
        </InlineStack>
        <Layout>
          <Layout.Section>
            <BlockStack gap="500">
              {view.pixels.length === 0 ? (
                <Banner tone="info" title="No pixel receives Purchase">
                  <p>Connect a Meta pixel that receives Purchase in Settings: its accuracy is measured here.</p>
                </Banner>
              ) : (
                view.pixels.map((p) => (
                  <AccuracyCard key={p.id} pixel={p} threshold={view.threshold} measuredAt={view.measuredAt} />
                ))
              )}
            </BlockStack>
          </Layout.Section>
          <Layout.Section variant="oneThird">
            <AccuracyLegend />
          </Layout.Section>
        </Layout>
      </BlockStack>
    </Page>
  );
}

export const ErrorBoundary = routeErrorBoundary("The accuracy report", "Accuracy");
