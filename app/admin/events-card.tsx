// The admin page's list of recent events, also on the demo's read-only dashboard
// (app/routes/demo.tsx).
import {
  BlockStack,
  Box,
  Button,
  Card,
  EmptyState,
  IndexTable,
  InlineStack,
  Text,
  useBreakpoints,
} from "@shopify/polaris";
import type { EventView } from "./dashboard.server";
import { formatTime } from "./format-time";
import { StateBadge } from "./state-badge";

/** What a row shows; the page's own rows (with payload and history) come back through `onOpen`. */
type EventRow = Pick<
  EventView,
  "id" | "eventName" | "eventId" | "state" | "attempts" | "reason" | "fbtraceId" | "createdAt"
>;

/**
 * Without `onOpen` (the demo's read-only dashboard) rows are not clickable and say so.
 * `emptyAction`: what to do while there are no events (the admin's setup steps).
 */
export function EventsCard<E extends EventRow>({
  events,
  onOpen,
  emptyAction,
}: {
  events: E[];
  onOpen?: (event: E) => void;
  emptyAction?: { content: string; url: string };
}) {
  const condensed = useBreakpoints().smDown;
  return (
    <Card padding="0">
      <Box padding="400">
        <BlockStack gap="100">
          <Text as="h2" variant="headingMd">
            Recent events
          </Text>
          <Text as="p" tone="subdued">
            Your latest events (up to 50).
            {onOpen && events.length > 0 ? " Open one to see exactly what was sent and how Meta answered." : ""}
          </Text>
        </BlockStack>
      </Box>
      {events.length === 0 ? (
        <EmptyState heading="No events yet" image="" action={emptyAction}>
          <p>Events appear here as orders and checkouts arrive from your store.</p>
        </EmptyState>
      ) : (
        <IndexTable
          resourceName={{ singular: "event", plural: "events" }}
          itemCount={events.length}
          selectable={false}
          // On a phone each row is a short list: name, state and attempts, reason, time.
          condensed={condensed}
          headings={[
            { title: "Event" },
            { title: "State" },
            { title: "Attempts", alignment: "end" },
            { title: "Reason" },
            { title: "fbtrace_id" },
            { title: "Created" },
          ]}
        >
          {events.map((event, index) => {
            const name = (
              <BlockStack inlineAlign="start">
                {onOpen ? (
                  // A real button: Tab reaches it, Enter and Space open the event; a click on the row clicks it.
                  <Button
                    variant="plain"
                    dataPrimaryLink
                    accessibilityLabel={`Open ${event.eventName} ${event.eventId}`}
                    onClick={() => onOpen(event)}
                  >
                    {event.eventName}
                  </Button>
                ) : (
                  <Text as="span" fontWeight="semibold">
                    {event.eventName}
                  </Text>
                )}
                <Text as="span" tone="subdued" variant="bodySm">
                  {event.eventId}
                </Text>
              </BlockStack>
            );
            if (condensed) {
              return (
                <IndexTable.Row id={event.id} key={event.id} position={index}>
                  <Box padding="300">
                    <BlockStack gap="150">
                      {name}
                      <InlineStack gap="200" blockAlign="center">
                        <StateBadge state={event.state} />
                        <Text as="span" tone="subdued" variant="bodySm">
                          {`${event.attempts} attempt${event.attempts === 1 ? "" : "s"}, ${formatTime(event.createdAt)}`}
                        </Text>
                      </InlineStack>
                      {event.reason && (
                        <Text as="p" variant="bodySm" breakWord>
                          {event.reason}
                        </Text>
                      )}
                    </BlockStack>
                  </Box>
                </IndexTable.Row>
              );
            }
            return (
              <IndexTable.Row id={event.id} key={event.id} position={index}>
                <IndexTable.Cell>{name}</IndexTable.Cell>
                <IndexTable.Cell>
                  <StateBadge state={event.state} />
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {event.attempts}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" breakWord>
                    {event.reason ?? ""}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" variant="bodySm">
                    {event.fbtraceId ?? ""}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>{formatTime(event.createdAt)}</IndexTable.Cell>
              </IndexTable.Row>
            );
          })}
        </IndexTable>
      )}
    </Card>
  );
}
