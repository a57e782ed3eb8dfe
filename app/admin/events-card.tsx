// The admin page's list of recent events, also on the demo's read-only dashboard
// (app/routes/demo.tsx).
import { BlockStack, Box, Card, EmptyState, IndexTable, Text } from "@shopify/polaris";
import type { EventView } from "./dashboard.server";
import { formatTime } from "./format-time";
import { StateBadge } from "./state-badge";

/** What a row shows; the page's own rows (with payload and history) come back through `onOpen`. */
type EventRow = Pick<EventView, "id" | "eventName" | "eventId" | "state" | "attempts" | "reason" | "fbtraceId" | "createdAt">;

/** Without `onOpen` (the demo's read-only dashboard) rows are not clickable and say so. */
export function EventsCard<E extends EventRow>({ events, onOpen }: { events: E[]; onOpen?: (event: E) => void }) {
  return (
    <Card padding="0">
      <Box padding="400">
        <BlockStack gap="100">
          <Text as="h2" variant="headingMd">
            Recent events
          </Text>
          <Text as="p" tone="subdued">
            Your latest events (up to 50).{onOpen ? " Click one to see exactly what was sent and how Meta answered." : ""}
          </Text>
        </BlockStack>
      </Box>
      {events.length === 0 ? (
        <EmptyState heading="No events yet" image="">
          <p>Events appear here as orders and checkouts arrive from your store.</p>
        </EmptyState>
      ) : (
        <IndexTable
          resourceName={{ singular: "event", plural: "events" }}
          itemCount={events.length}
          selectable={false}
          headings={[
            { title: "Event" },
            { title: "State" },
            { title: "Attempts", alignment: "end" },
            { title: "Reason" },
            { title: "fbtrace_id" },
            { title: "Created" },
          ]}
        >
          {events.map((event, index) => (
            <IndexTable.Row id={event.id} key={event.id} position={index} onClick={onOpen ? () => onOpen(event) : undefined}>
              <IndexTable.Cell>
                <BlockStack>
                  <Text as="span" fontWeight="semibold">
                    {event.eventName}
                  </Text>
                  <Text as="span" tone="subdued" variant="bodySm">
                    {event.eventId}
                  </Text>
                </BlockStack>
              </IndexTable.Cell>
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
          ))}
        </IndexTable>
      )}
    </Card>
  );
}
