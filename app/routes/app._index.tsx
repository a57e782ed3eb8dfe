// The merchant's one page: connect the Meta pixel, see whether events reach Meta (and why not
// when they don't), and choose how orders become events. Everything is scoped to the shop of
// the authenticated session; the access token is write-only from here.
import { useEffect, useState } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useFetcher, useLoaderData } from "@remix-run/react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  Checkbox,
  Form,
  FormLayout,
  InlineStack,
  Layout,
  Link,
  Modal,
  Page,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { runAdminAction, type ActionResult } from "../admin/actions.server";
import { connectionState } from "../admin/connection-status";
import { loadDashboard } from "../admin/dashboard.server";
import { EventsCard } from "../admin/events-card";
import { formatTime } from "../admin/format-time";
import {
  CONTENT_ID_SOURCES,
  META_API_VERSIONS,
  ORDER_SOURCES,
  PURCHASE_TRIGGERS,
  SOURCE_RULES,
  VALUE_MODES,
} from "../admin/options";
import { StateBadge } from "../admin/state-badge";
import { StatsCard } from "../admin/stats-card";
import { metaAccessFromEnv } from "../pipeline/connection.server";
import { database } from "../process-clients.server";
import { saveDestination } from "../pipeline/destinations.server";
import { listDataRequests, type DataRequestSummary } from "../pipeline/privacy.server";
import { adminGraphqlOf } from "../shopify/admin-graphql";
import { ensureWebPixel } from "../shopify/web-pixel.server";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const { session, admin } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  // First load after install: the web pixel is created here when a destination already exists.
  const webPixel = await ensureWebPixel(db.prisma, { graphql: adminGraphqlOf(admin), grantedScopes: session.scope }, session.shop);
  const dataRequests = await listDataRequests(db.prisma, session.shop);
  return json({ ...(await loadDashboard(db.prisma, session.shop)), webPixel, dataRequests });
}

export async function action({ request }: ActionFunctionArgs) {
  const { session, admin } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const shopify = { graphql: adminGraphqlOf(admin), grantedScopes: session.scope };
  const result: ActionResult = await runAdminAction(db.prisma, session.shop, await request.formData(), saveDestination, shopify, { meta: metaAccessFromEnv() });
  return json(result, { status: result.ok ? 200 : 400 });
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>;
type Destination = LoaderData["destination"];
type EventRow = LoaderData["events"][number];
type Settings = LoaderData["settings"];

export default function Index() {
  const { shop, destination, stats, events, settings, webPixel, dataRequests } = useLoaderData<typeof loader>();
  const [selected, setSelected] = useState<EventRow | null>(null);

  return (
    <Page title="CAPI Relay">
      <BlockStack gap="500">
        {destination?.testEventCode && <TestEventCodeBanner code={destination.testEventCode} />}
        {destination?.paused && <PausedBanner destination={destination} />}
        {webPixel.status === "failed" && webPixel.message && (
          <Banner tone="warning" title="Storefront pixel">
            <p>{webPixel.message}</p>
          </Banner>
        )}
        {!destination && (
          <Banner tone="warning" title="Connect your Meta pixel">
            <p>
              No events are sent to Meta until a pixel (dataset) ID and its Conversions API access token are saved
              below. Orders and checkouts that arrive before then are kept and sent once the pixel is connected.
            </p>
          </Banner>
        )}
        <Layout>
          <Layout.Section>
            <BlockStack gap="500">
              <DestinationCard destination={destination} />
              <StatsCard stats={stats} />
              <EventsCard events={events} onOpen={setSelected} />
            </BlockStack>
          </Layout.Section>
          <Layout.Section variant="oneThird">
            <BlockStack gap="500">
              <ThemeEmbedCard shop={shop} />
              {dataRequests.length > 0 && <DataRequestsCard requests={dataRequests} />}
              <SettingsCard settings={settings} />
            </BlockStack>
          </Layout.Section>
        </Layout>
      </BlockStack>
      <EventModal event={selected} onClose={() => setSelected(null)} />
    </Page>
  );
}

function PausedBanner({ destination }: { destination: NonNullable<Destination> }) {
  return (
    <Banner tone="critical" title={`Meta is not accepting events for pixel ${destination.pixelId}`}>
      <BlockStack gap="200">
        <p>
          {destination.pauseMessage ??
            "Meta refused the access token of this pixel, so sending is paused. Generate a new access token in Meta Events Manager and save it below."}
        </p>
        <p>
          New orders are kept while sending is paused{destination.pausedAt ? ` (since ${formatTime(destination.pausedAt)})` : ""} and
          go out as soon as a working token is saved.
        </p>
      </BlockStack>
    </Banner>
  );
}

/**
 * A test event code sends Shopify test orders (and the test event button) to Test events; real
 * orders go to the pixel as always (app/events/purchase.ts), so the code never holds them back.
 */
function TestEventCodeBanner({ code }: { code: string }) {
  return (
    <Banner tone="info" title={`Test event code ${code} is set`}>
      <p>
        Shopify test orders and test events sent from this page go to Events Manager &gt; your pixel &gt; Test events,
        not to your ads reporting. Real orders are sent to your pixel as usual. When you are done testing, clear Test
        event code below and save.
      </p>
    </Banner>
  );
}

function useActionResult(intent: ActionResult["intent"]) {
  const fetcher = useFetcher<typeof action>({ key: intent ?? undefined });
  const result = fetcher.data && fetcher.data.intent === intent ? fetcher.data : undefined;
  const fieldErrors: Record<string, string> = result && !result.ok ? result.fieldErrors : {};
  return {
    fetcher,
    busy: fetcher.state !== "idle",
    fieldErrors,
    formError: result && !result.ok ? result.formError : undefined,
    message: result && result.ok ? result.message : undefined,
    warning: result && result.ok ? result.warning : undefined,
  };
}

function ConnectionLine({ destination }: { destination: NonNullable<Destination> }) {
  const state = connectionState(destination);
  return (
    <BlockStack gap="100">
      <InlineStack gap="200" blockAlign="center">
        <Badge tone={state.tone}>{state.badge}</Badge>
        {state.checkedAt && (
          <Text as="span" tone="subdued" variant="bodySm">
            checked {formatTime(state.checkedAt)}
          </Text>
        )}
      </InlineStack>
      <Text as="p">{state.message}</Text>
    </BlockStack>
  );
}

/** Sends one test Purchase with the shop's test event code and shows Meta's answer. */
function TestEventSection() {
  const { fetcher, busy, formError, message } = useActionResult("send-test-event");
  return (
    <BlockStack gap="200">
      <InlineStack gap="300" blockAlign="center">
        <Button onClick={() => fetcher.submit({ intent: "send-test-event" }, { method: "post" })} loading={busy}>
          Send test event
        </Button>
        <Text as="span" tone="subdued">
          One test Purchase, with the test event code, to Events Manager &gt; Test events.
        </Text>
      </InlineStack>
      {message && <Banner tone="success">{message}</Banner>}
      {formError && <Banner tone="critical">{formError}</Banner>}
    </BlockStack>
  );
}

function DestinationCard({ destination }: { destination: Destination }) {
  const { fetcher, busy, fieldErrors, formError, message, warning } = useActionResult("save-destination");
  const [pixelId, setPixelId] = useState(destination?.pixelId ?? "");
  const [accessToken, setAccessToken] = useState("");
  const [testEventCode, setTestEventCode] = useState(destination?.testEventCode ?? "");
  const [apiVersion, setApiVersion] = useState<string>(destination?.apiVersion ?? META_API_VERSIONS[0]);

  // A saved token leaves the page's memory at once.
  useEffect(() => {
    if (message) setAccessToken("");
  }, [message]);

  const versions: string[] = [...META_API_VERSIONS];
  if (destination && !versions.includes(destination.apiVersion)) versions.push(destination.apiVersion);

  const submit = () =>
    fetcher.submit({ intent: "save-destination", pixelId, accessToken, testEventCode, apiVersion }, { method: "post" });

  return (
    <Card>
      <Form onSubmit={submit}>
        <BlockStack gap="400">
          <BlockStack gap="100">
            <Text as="h2" variant="headingMd">
              Meta pixel
            </Text>
            <Text as="p" tone="subdued">
              In Meta Events Manager, open your pixel (dataset), then Settings: copy its ID, and under Conversions API
              generate an access token. Saving checks them with Meta.
            </Text>
          </BlockStack>
          {destination && <ConnectionLine destination={destination} />}
          {formError && <Banner tone="critical">{formError}</Banner>}
          {warning && <Banner tone="warning">{warning}</Banner>}
          <FormLayout>
            <TextField
              label="Pixel (dataset) ID"
              name="pixelId"
              value={pixelId}
              onChange={setPixelId}
              inputMode="numeric"
              autoComplete="off"
              error={fieldErrors.pixelId}
            />
            <TextField
              label="Conversions API access token"
              name="accessToken"
              type="password"
              value={accessToken}
              onChange={setAccessToken}
              autoComplete="off"
              placeholder={destination?.hasAccessToken ? "•••• saved" : undefined}
              helpText={
                destination?.hasAccessToken
                  ? "Leave empty to keep the saved token. Paste a new one to replace it."
                  : "Stored encrypted; it is never shown again."
              }
              error={fieldErrors.accessToken}
            />
            <TextField
              label="Test event code (optional)"
              name="testEventCode"
              value={testEventCode}
              onChange={setTestEventCode}
              autoComplete="off"
              helpText="From Events Manager > Test events. Shopify test orders are sent only with a test event code, and land in Test events."
              error={fieldErrors.testEventCode}
            />
            <Select
              label="Graph API version"
              name="apiVersion"
              options={versions.map((v) => ({ label: v, value: v }))}
              value={apiVersion}
              onChange={setApiVersion}
              error={fieldErrors.apiVersion}
            />
          </FormLayout>
          <InlineStack gap="300" blockAlign="center">
            <Button submit variant="primary" loading={busy}>
              {destination ? "Save" : "Connect pixel"}
            </Button>
            {message && <Text as="span" tone={warning ? "caution" : "success"}>{message}</Text>}
          </InlineStack>
          {destination && <TestEventSection />}
        </BlockStack>
      </Form>
    </Card>
  );
}

function ThemeEmbedCard({ shop }: { shop: string }) {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          Theme app embed
        </Text>
        <Text as="p">
          Turn on the CAPI Relay embed in Online Store &gt; Themes &gt; Customize &gt; App embeds, so browser ids and
          consent reach the orders.
        </Text>
        <Text as="p" tone="subdued">
          Without it, Meta still receives every order, but can match fewer of them to the people who saw your ads.
        </Text>
        <Box>
          <Link url={`https://${shop}/admin/themes/current/editor?context=apps`} target="_top">
            Open app embeds
          </Link>
        </Box>
      </BlockStack>
    </Card>
  );
}

/**
 * Customer data requests (customers/data_request) with their reports to download. The report
 * is fetched with App Bridge's fetch, which carries the session token the route authenticates.
 */
function DataRequestsCard({ requests }: { requests: DataRequestSummary[] }) {
  const download = async (id: string) => {
    const response = await fetch(`/app/data-requests/${id}`);
    if (!response.ok) return;
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = `data-request-${id}.json`;
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          Customer data requests
        </Text>
        <Text as="p" tone="subdued">
          What the app holds about each customer who asked (hashed identifiers and events). Send the report to the
          customer; it is kept for 30 days.
        </Text>
        {requests.map((r) => (
          <InlineStack key={r.id} align="space-between" blockAlign="center">
            <Text as="span">
              {new Date(r.requestedAt).toLocaleDateString()}: {r.events} event(s)
            </Text>
            <Button onClick={() => void download(r.id)}>Download</Button>
          </InlineStack>
        ))}
      </BlockStack>
    </Card>
  );
}

function EventModal({ event, onClose }: { event: EventRow | null; onClose: () => void }) {
  return (
    <Modal open={event !== null} onClose={onClose} title={event ? `${event.eventName} ${event.eventId}` : ""} size="large">
      {event && (
        <>
          <Modal.Section>
            <BlockStack gap="200">
              <InlineStack gap="200" blockAlign="center">
                <StateBadge state={event.state} />
                <Text as="span" tone="subdued">
                  from {event.topic}, {event.attempts} attempt{event.attempts === 1 ? "" : "s"}
                  {event.testEventCode ? `, test event code ${event.testEventCode}` : ""}
                </Text>
              </InlineStack>
              {event.reason && (
                <Text as="p">
                  {event.reasonCode ? `${event.reasonCode}: ` : ""}
                  {event.reason}
                </Text>
              )}
              {event.fbtraceId && (
                <Text as="p" tone="subdued">
                  fbtrace_id {event.fbtraceId} (give it to Meta support to trace this request)
                </Text>
              )}
            </BlockStack>
          </Modal.Section>
          <Modal.Section>
            <BlockStack gap="200">
              <Text as="h3" variant="headingSm">
                Meta&apos;s answers
              </Text>
              {event.history.length === 0 ? (
                <Text as="p" tone="subdued">
                  No history recorded.
                </Text>
              ) : (
                <BlockStack gap="100">
                  {event.history.map((step, i) => (
                    <InlineStack key={i} gap="200" blockAlign="center" wrap={false}>
                      <Text as="span" tone="subdued" variant="bodySm">
                        {formatTime(step.at)}
                      </Text>
                      <StateBadge state={step.state} />
                      <Text as="span" breakWord>
                        {step.detail ?? ""}
                      </Text>
                    </InlineStack>
                  ))}
                </BlockStack>
              )}
            </BlockStack>
          </Modal.Section>
          <Modal.Section>
            <BlockStack gap="200">
              <Text as="h3" variant="headingSm">
                Event sent to Meta (customer data hashed)
              </Text>
              <Box background="bg-surface-secondary" padding="300" borderRadius="200" overflowX="scroll">
                <pre style={{ margin: 0, fontSize: 12, lineHeight: 1.5 }}>
                  {event.payload === null ? "(no payload)" : JSON.stringify(event.payload, null, 2)}
                </pre>
              </Box>
            </BlockStack>
          </Modal.Section>
        </>
      )}
    </Modal>
  );
}

function SettingsCard({ settings: view }: { settings: Settings }) {
  const { fetcher, busy, fieldErrors, formError, message } = useActionResult("save-settings");
  const s = view.settings;
  const [purchaseTrigger, setPurchaseTrigger] = useState<string>(s.purchaseTrigger);
  const [valueMode, setValueMode] = useState<string>(s.valueMode);
  const [contentIdSource, setContentIdSource] = useState<string>(s.contentIdSource);
  const [sources, setSources] = useState<Record<string, string>>({ ...s.sources });
  const [respectMarketingConsent, setRespectMarketingConsent] = useState(s.respectMarketingConsent);
  const [includeGiftCards, setIncludeGiftCards] = useState(s.includeGiftCards);
  const [includeTips, setIncludeTips] = useState(s.includeTips);

  const submit = () =>
    fetcher.submit(
      {
        intent: "save-settings",
        purchaseTrigger,
        valueMode,
        contentIdSource,
        ...Object.fromEntries(ORDER_SOURCES.map(({ value }) => [`sources.${value}`, sources[value] ?? ""])),
        respectMarketingConsent: String(respectMarketingConsent),
        includeGiftCards: String(includeGiftCards),
        includeTips: String(includeTips),
      },
      { method: "post" },
    );

  return (
    <Card>
      <Form onSubmit={submit}>
        <BlockStack gap="400">
          <Text as="h2" variant="headingMd">
            Settings
          </Text>
          {view.invalidStored && (
            <Banner tone="warning">The saved settings could not be read; the defaults below apply until you save.</Banner>
          )}
          {formError && <Banner tone="critical">{formError}</Banner>}
          <FormLayout>
            <Select
              label="Send the Purchase"
              name="purchaseTrigger"
              options={PURCHASE_TRIGGERS}
              value={purchaseTrigger}
              onChange={setPurchaseTrigger}
              error={fieldErrors.purchaseTrigger}
            />
            <Select
              label="Purchase value"
              name="valueMode"
              options={VALUE_MODES}
              value={valueMode}
              onChange={setValueMode}
              error={fieldErrors.valueMode}
            />
            <Select
              label="Content IDs"
              name="contentIdSource"
              options={CONTENT_ID_SOURCES}
              value={contentIdSource}
              onChange={setContentIdSource}
              helpText="Match the IDs of your Meta catalogue."
              error={fieldErrors.contentIdSource}
            />
            {ORDER_SOURCES.map(({ value, label }) => (
              <Select
                key={value}
                label={label}
                name={`sources.${value}`}
                options={SOURCE_RULES}
                value={sources[value] ?? ""}
                onChange={(rule) => setSources((current) => ({ ...current, [value]: rule }))}
                error={fieldErrors[`sources.${value}`]}
              />
            ))}
            <Checkbox
              label="Respect marketing consent"
              helpText="When the theme embed recorded that the buyer declined marketing, their order is not sent to Meta."
              checked={respectMarketingConsent}
              onChange={setRespectMarketingConsent}
              error={fieldErrors.respectMarketingConsent}
            />
            <Checkbox
              label="Count gift card sales in the Purchase value"
              helpText="Off: a gift card counts when it is spent, not when it is sold; orders of gift cards only are not sent."
              checked={includeGiftCards}
              onChange={setIncludeGiftCards}
              error={fieldErrors.includeGiftCards}
            />
            <Checkbox
              label="Count tips in the Purchase value"
              checked={includeTips}
              onChange={setIncludeTips}
              error={fieldErrors.includeTips}
            />
          </FormLayout>
          <InlineStack gap="300" blockAlign="center">
            <Button submit loading={busy}>
              Save settings
            </Button>
            {message && <Text as="span" tone="success">{message}</Text>}
          </InlineStack>
        </BlockStack>
      </Form>
    </Card>
  );
}
