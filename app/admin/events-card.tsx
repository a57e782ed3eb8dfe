// The admin page's list of events: the Events page's (with its filters above and pages below)
// and the demo's read-only dashboard's recent ones (app/routes/demo.tsx).
import type { ReactNode } from "react";
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
> & { orderName?: string | null; pixel?: string };

/**
 * Without `onOpen` (the demo's read-only dashboard) rows are not clickable and say so.
 * `emptyAction`: what to do while there are no events (the admin's setup steps).
 */
export function EventsCard<E extends EventRow>({
  events,
  onOpen,
  emptyAction,
  title = "Recent events",
  description = "Your latest events (up to 50).",
  toolbar,
  footer,
  empty,
  showPixel = false,
  showTrace = true,
}: {
  events: E[];
  onOpen?: (event: E) => void;
  emptyAction?: { content: string; url: string };
  title?: string;
  description?: string;
  /** Above the table: the Events page's filters. */
  toolbar?: ReactNode;
  /** Below the table: the Events page's pages. */
  footer?: ReactNode;
  /** The empty state's words (a filter matching nothing says so). */
  empty?: { heading: string; text: string };
  /** A column naming each event's pixel (a shop with several). */
  showPixel?: boolean;
  /** The fbtrace_id column (the Events page leaves it to the dialog, for room). */
  showTrace?: boolean;
}) {
  const condensed = useBreakpoints().smDown;
  return (
    <Card padding="0">
      <Box padding="400">
        <BlockStack gap="300">
          <BlockStack gap="100">
            <Text as="h2" variant="headingMd">
              {title}
            </Text>
            <Text as="p" tone="subdued">
              {description}
              {onOpen && events.length > 0 ? " Open one to see exactly what was sent and how Meta answered." : ""}
            </Text>
          </BlockStack>
          {toolbar}
        </BlockStack>
      </Box>
      {events.length === 0 ? (
        <EmptyState heading={empty?.heading ?? "No events yet"} image="" action={emptyAction}>
          <p>{empty?.text ?? "Events appear here as orders and checkouts arrive from your store."}</p>
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
            ...(showPixel ? [{ title: "Pixel" }] : []),
            { title: "Attempts", alignment: "end" as const },
            { title: "Reason" },
            ...(showTrace ? [{ title: "fbtrace_id" }] : []),
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
                  {event.orderName ? `${event.orderName} · ${event.eventId}` : event.eventId}
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
                          {showPixel && event.pixel ? `, ${event.pixel}` : ""}
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
                {showPixel && <IndexTable.Cell>{event.pixel ?? ""}</IndexTable.Cell>}
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
                {showTrace && (
                  <IndexTable.Cell>
                    <Text as="span" variant="bodySm">
                      {event.fbtraceId ?? ""}
                    </Text>
                  </IndexTable.Cell>
                )}
                <IndexTable.Cell>{formatTime(event.createdAt)}</IndexTable.Cell>
              </IndexTable.Row>
            );
          })}
        </IndexTable>
      )}
      {footer}
    </Card>
  );
}
