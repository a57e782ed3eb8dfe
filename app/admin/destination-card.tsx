// Settings: the Meta pixel and its access token, with the result of the connection check, and
// the test event button with Meta's answer.
import { useEffect, useState } from "react";
import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  Form,
  FormLayout,
  InlineStack,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { connectionState } from "./connection-status";
import type { DestinationView } from "./dashboard.server";
import { formatTime } from "./format-time";
import { META_API_VERSIONS } from "./options";
import { useActionResult } from "./use-action-result";

export function ConnectionLine({
  destination,
}: {
  destination: Pick<DestinationView, "paused" | "pauseMessage" | "check">;
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

/** Sends one test Purchase with the shop's test event code and shows Meta's answer. */
export function TestEventCard({ destination }: { destination: DestinationView | null }) {
  const { fetcher, busy, formError, message } = useActionResult("send-test-event");
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
        {destination && !destination.testEventCode && (
          <Text as="p">
            Add the test event code from Events Manager &gt; Test events above and save, then send the test event.
          </Text>
        )}
        {formError && <Banner tone="critical">{formError}</Banner>}
        {message && <Banner tone="success">{message}</Banner>}
        <div>
          <Button
            disabled={!destination}
            onClick={() => fetcher.submit({ intent: "send-test-event" }, { method: "post" })}
            loading={busy}
          >
            Send test event
          </Button>
        </div>
      </BlockStack>
    </Card>
  );
}

export function DestinationCard({ destination }: { destination: DestinationView | null }) {
  const { fetcher, busy, fieldErrors, formError, message, saved, warning } = useActionResult("save-destination");
  const [pixelId, setPixelId] = useState(destination?.pixelId ?? "");
  const [accessToken, setAccessToken] = useState("");
  const [testEventCode, setTestEventCode] = useState(destination?.testEventCode ?? "");
  const [apiVersion, setApiVersion] = useState<string>(destination?.apiVersion ?? META_API_VERSIONS[0]);

  // A saved token leaves the page's memory at once.
  useEffect(() => {
    if (saved) setAccessToken("");
  }, [saved]);

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
