// Events: one event in full, what was sent (customer data hashed) and each of Meta's answers.
import { BlockStack, Box, InlineStack, Modal, Text } from "@shopify/polaris";
import type { EventView } from "./dashboard.server";
import { formatTime } from "./format-time";
import { StateBadge } from "./state-badge";

/** An event as the loader's JSON brings it (its payload may be absent). */
type EventRow = Omit<EventView, "payload"> & {
  payload?: unknown;
  orderName?: string | null;
  pixel?: string;
  /** Whether the merchant may send it again (app/pipeline/retry-rule.ts), and if not why. */
  retry?: { allowed: true } | { allowed: false; reason: string };
};

/** `onRetry`: the Events page's retry of this one event; `retrying` while it is under way. */
export function EventModal({
  event,
  onClose,
  onRetry,
  retrying = false,
}: {
  event: EventRow | null;
  onClose: () => void;
  onRetry?: (event: EventRow) => void;
  retrying?: boolean;
}) {
  const canRetry = Boolean(onRetry && event?.retry?.allowed);
  return (
    <Modal
      open={event !== null}
      onClose={onClose}
      title={event ? `${event.eventName} ${event.eventId}` : ""}
      size="large"
      primaryAction={
        canRetry && event
          ? { content: "Retry this event", loading: retrying, onAction: () => onRetry!(event) }
          : undefined
      }
      secondaryActions={[{ content: "Close", onAction: onClose }]}
    >
      {event && (
        <>
          <Modal.Section>
            <BlockStack gap="200">
              <InlineStack gap="200" blockAlign="center">
                <StateBadge state={event.state} />
                <Text as="span" tone="subdued">
                  from {event.topic}, {event.attempts} attempt{event.attempts === 1 ? "" : "s"}
                  {event.orderName ? `, order ${event.orderName}` : ""}
                  {event.pixel ? `, pixel ${event.pixel}` : ""}
                  {event.testEventCode ? `, test event code ${event.testEventCode}` : ""}
                </Text>
              </InlineStack>
              {onRetry && event.retry && !event.retry.allowed && (
                <Text as="p" tone="subdued">
                  Cannot be sent again: {event.retry.reason}
                </Text>
              )}
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
                    <InlineStack key={i} gap="200" blockAlign="center">
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
                  {event.payload == null ? "(no payload)" : JSON.stringify(event.payload, null, 2)}
                </pre>
              </Box>
            </BlockStack>
          </Modal.Section>
        </>
      )}
    </Modal>
  );
}
