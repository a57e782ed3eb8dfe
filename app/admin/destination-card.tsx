// Settings: the shop's Meta pixels (a card each, and one to add another), each with its access
// token, the result of its connection check, the events it receives and whether test orders go
// to it; and the test event button with Meta's answer.
import { useEffect, useState, type ReactNode } from "react";
import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  Checkbox,
  Form,
  FormLayout,
  InlineStack,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { pixelName } from "./banners";
import { connectionState } from "./connection-status";
import type { DestinationView } from "./dashboard.server";
import { formatTime } from "./format-time";
import { META_API_VERSIONS } from "./options";
import { useActionResult } from "./use-action-result";

export function ConnectionLine({
  destination,
}: {
  destination: Pick<DestinationView, "paused" | "pauseMessage" | "check"> &
    Partial<Pick<DestinationView, "tokenExpiry">>;
}) {
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

/** Sends one test Purchase with a pixel's test event code and shows Meta's answer. */
export function TestEventCard({ destinations }: { destinations: DestinationView[] }) {
  const { fetcher, busy, formError } = useActionResult("send-test-event");
  // Meta's answer stays on the card (events_received, fbtrace_id, where to look), not only in a toast.
  const answer = fetcher.data?.intent === "send-test-event" && fetcher.data.ok ? fetcher.data.message : undefined;
  const [chosen, setChosen] = useState(destinations[0]?.id ?? "");
  const destination = destinations.find((d) => d.id === chosen) ?? destinations[0] ?? null;
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Test event
        </Text>
        <Text as="p" tone="subdued">
          Sends one test Purchase with your test event code to Events Manager &gt; your pixel &gt; Test events. It does
          not count in your ads reporting.
        </Text>
        {!destination && <Text as="p">Connect your pixel above first.</Text>}
        {destinations.length > 1 && (
          <Select
            label="Pixel"
            options={destinations.map((d) => ({ label: pixelName(d), value: d.id }))}
            value={destination?.id ?? ""}
            onChange={setChosen}
          />
        )}
        {destination && !destination.testEventCode && (
          <Text as="p">
            Add the test event code from Events Manager &gt; Test events above and save, then send the test event.
          </Text>
        )}
        {formError && <Banner tone="critical">{formError}</Banner>}
        {answer && <Banner tone="success">{answer}</Banner>}
        <div>
          <Button
            disabled={!destination}
            onClick={() =>
              fetcher.submit({ intent: "send-test-event", destinationId: destination?.id ?? "" }, { method: "post" })
            }
            loading={busy}
          >
            Send test event
          </Button>
        </div>
      </BlockStack>
    </Card>
  );
}

const NEW_PIXEL_KEY = "save-destination:new";
const REMOVE_PIXEL_KEY = "remove-destination";

/**
 * What became of adding or removing a pixel, said by the page: the card that asked is gone by
 * the time the answer comes (the list now shows the pixel's own card, or no longer shows it).
 */
export function PixelListOutcome() {
  const added = useActionResult("save-destination", NEW_PIXEL_KEY);
  const removed = useActionResult("remove-destination", REMOVE_PIXEL_KEY);
  const message = added.message ?? removed.message;
  const warning = added.warning;
  if (!message && !warning) return null;
  return (
    <BlockStack gap="200">
      {message && <Banner tone="success">{message}</Banner>}
      {warning && <Banner tone="warning">{warning}</Banner>}
    </BlockStack>
  );
}

/**
 * One pixel's form; without `destination`, the form that adds one (`first`: the shop has none
 * yet). `onCancel`: the add form can be closed. `loginEntry`: Connect with Meta
 * (./connect-with-meta.tsx), shown above the pasted-token form.
 */
export function DestinationCard({
  destination,
  first = false,
  onCancel,
  loginEntry,
}: {
  destination: DestinationView | null;
  first?: boolean;
  onCancel?: () => void;
  loginEntry?: ReactNode;
}) {
  // A new pixel's card is replaced by its own once saved: the page says the outcome (NewPixelOutcome).
  const { fetcher, busy, fieldErrors, formError, message, saved, warning } = useActionResult(
    "save-destination",
    destination ? `save-destination:${destination.id}` : NEW_PIXEL_KEY,
    destination !== null,
  );
  const removal = useActionResult("remove-destination", REMOVE_PIXEL_KEY, false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [label, setLabel] = useState(destination?.label ?? "");
  const [pixelId, setPixelId] = useState(destination?.pixelId ?? "");
  const [accessToken, setAccessToken] = useState("");
  const [testEventCode, setTestEventCode] = useState(destination?.testEventCode ?? "");
  const [apiVersion, setApiVersion] = useState<string>(destination?.apiVersion ?? META_API_VERSIONS[0]);
  const [purchase, setPurchase] = useState(destination ? destination.events.includes("Purchase") : true);
  const [checkout, setCheckout] = useState(destination ? destination.events.includes("InitiateCheckout") : true);
  const [sendTestOrders, setSendTestOrders] = useState(destination?.sendTestOrders ?? true);

  // A saved token leaves the page's memory at once.
  useEffect(() => {
    if (saved) setAccessToken("");
  }, [saved]);

  const versions: string[] = [...META_API_VERSIONS];
  if (destination && !versions.includes(destination.apiVersion)) versions.push(destination.apiVersion);

  const submit = () =>
    fetcher.submit(
      {
        intent: "save-destination",
        id: destination?.id ?? "",
        label,
        pixelId,
        accessToken,
        testEventCode,
        apiVersion,
        "events.Purchase": String(purchase),
        "events.InitiateCheckout": String(checkout),
        sendTestOrders: String(sendTestOrders),
      },
      { method: "post" },
    );
  const title = destination
    ? destination.label || `Meta pixel ${destination.pixelId}`
    : first
      ? "Meta pixel"
      : "Add a Meta pixel";

  return (
    <Card>
      <Form onSubmit={submit}>
        <BlockStack gap="400">
          <BlockStack gap="100">
            <Text as="h2" variant="headingMd">
              {title}
            </Text>
            {!destination && (
              <Text as="p" tone="subdued">
                In Meta Events Manager, open your pixel (dataset), then Settings: copy its ID, and under Conversions API
                generate an access token. Saving checks them with Meta.
                {!first && " Every order and checkout is then sent to each of your pixels, with the same event ids."}
              </Text>
            )}
          </BlockStack>
          {loginEntry}
          {destination && <ConnectionLine destination={destination} />}
          {formError && <Banner tone="critical">{formError}</Banner>}
          {warning && <Banner tone="warning">{warning}</Banner>}
          <FormLayout>
            <TextField
              label="Name (optional)"
              name="label"
              value={label}
              onChange={setLabel}
              autoComplete="off"
              placeholder="For example: Main store, Agency"
              error={fieldErrors.label}
            />
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
            <BlockStack gap="100">
              <Text as="p" fontWeight="medium">
                Events sent to this pixel
              </Text>
              <Checkbox label="Purchase (orders)" checked={purchase} onChange={setPurchase} />
              <Checkbox label="InitiateCheckout (checkouts)" checked={checkout} onChange={setCheckout} />
              {fieldErrors.events && (
                <Text as="p" tone="critical">
                  {fieldErrors.events}
                </Text>
              )}
            </BlockStack>
            <Checkbox
              label="Send Shopify test orders to this pixel's Test events"
              helpText="Needs a test event code. Off: test orders are never sent to this pixel."
              checked={sendTestOrders}
              onChange={setSendTestOrders}
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
            {onCancel && <Button onClick={onCancel}>Cancel</Button>}
            {destination && !confirmRemove && (
              <Button tone="critical" variant="plain" onClick={() => setConfirmRemove(true)}>
                Remove pixel
              </Button>
            )}
            {destination && confirmRemove && (
              <InlineStack gap="200" blockAlign="center">
                <Text as="span">Remove it? Its unsent events will not be sent.</Text>
                <Button
                  tone="critical"
                  loading={removal.busy}
                  onClick={() =>
                    removal.fetcher.submit({ intent: "remove-destination", id: destination.id }, { method: "post" })
                  }
                >
                  Remove
                </Button>
                <Button onClick={() => setConfirmRemove(false)}>Keep</Button>
              </InlineStack>
            )}
            {message && (
              <Text as="span" tone={warning ? "caution" : "success"}>
                {message}
              </Text>
            )}
          </InlineStack>
        </BlockStack>
      </Form>
    </Card>
  );
}
