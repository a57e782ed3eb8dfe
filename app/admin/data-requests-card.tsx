// Overview: customer data requests and their reports to download.
import { BlockStack, Button, Card, InlineStack, Text } from "@shopify/polaris";
import type { DataRequestSummary } from "../pipeline/privacy.server";
import { showToast } from "./app-bridge";

/**
 * Customer data requests (customers/data_request) with their reports to download. The report
 * is fetched with App Bridge's fetch, which carries the session token the route authenticates.
 */
export function DataRequestsCard({ requests }: { requests: DataRequestSummary[] }) {
  const download = async (id: string) => {
    const response = await fetch(`/app/data-requests/${id}`);
    if (!response.ok) {
      showToast("The report could not be downloaded. Reload the app and try again.", { isError: true });
      return;
    }
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
