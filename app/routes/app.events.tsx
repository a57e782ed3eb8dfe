// Events: the shop's events, filtered (state, event, pixel, dates) and searched (order name,
// order id, checkout token) from the URL's query, so a list can be shared and the back button
// returns to it; a page at a time, newest first. Each opens (by click, or Tab then Enter) to
// what was sent and how Meta answered, with a retry when Meta would still take it; retry all
// and a CSV export act on the filter shown. Only the session's shop's events; payloads are
// hashed and masked.
import { useEffect, useRef, useState } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useFetcher, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { Banner, BlockStack, Box, Button, InlineStack, Page, Pagination, Text } from "@shopify/polaris";
import { showToast, TitleBar } from "../admin/app-bridge";
import { EventFilters } from "../admin/event-filters";
import { encodeCursor, filterQuery, isFiltered, parseEventFilter } from "../admin/event-filter";
import { EventModal } from "../admin/event-modal";
import { handleEventsAction, type RetryAnswer } from "../admin/events-actions.server";
import { EventsCard } from "../admin/events-card";
import { loadEventPage, pixelNames } from "../admin/events-list.server";
import { routeErrorBoundary } from "../admin/route-error";
import { RETRY_ALL_LIMIT } from "../pipeline/retry-rule";
import { database, deliveryQueue } from "../process-clients.server";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const { session } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const parsed = parseEventFilter(new URL(request.url).searchParams);
  const [page, pixels] = await Promise.all([
    loadEventPage(db.prisma, session.shop, parsed.filter),
    pixelNames(db.prisma, session.shop),
  ]);
  return json({
    shop: session.shop,
    ...page,
    next: page.next && encodeCursor(page.next),
    prev: page.prev && encodeCursor(page.prev),
    filterQuery: filterQuery(parsed.filter),
    filtered: isFiltered(parsed.filter),
    errors: parsed.ok ? {} : parsed.errors,
    pixels: [...pixels].map(([id, name]) => ({ id, name })),
  });
}

export async function action({ request }: ActionFunctionArgs) {
  const { session } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  const { status, answer } = await handleEventsAction(db.prisma, session.shop, await request.formData(), {
    now: new Date(),
    queue: deliveryQueue(),
  });
  return json(answer, { status });
}

type Data = ReturnType<typeof useLoaderData<typeof loader>>;
type EventRow = Data["events"][number];

/** The file name the export's answer gives (Content-Disposition), else a plain one. */
function attachmentName(response: Response): string {
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "");
  return match?.[1] ?? "capi-events.csv";
}

export default function Events() {
  const data = useLoaderData<typeof loader>();
  const [searchParams, setSearchParams] = useSearchParams();
  const navigation = useNavigation();
  const retry = useFetcher<RetryAnswer>({ key: "retry" });
  // The event open in the dialog: as the list has it now, else as the retry left it (a retried
  // event leaves a "rejected" filter), else as it was opened.
  const [opened, setOpened] = useState<EventRow | null>(null);
  const retried = retry.data?.ok ? retry.data.event : undefined;
  const selected = opened
    ? (data.events.find((e) => e.id === opened.id) ?? (retried?.id === opened.id ? retried : opened))
    : null;
  const [exporting, setExporting] = useState(false);
  const said = useRef(retry.data);
  const [inline, setInline] = useState<NonNullable<typeof retry.data> | null>(null);

  // Each answer said once, in a toast (inline as well when it is long or App Bridge is away).
  useEffect(() => {
    if (retry.state !== "idle" || !retry.data || retry.data === said.current) return;
    said.current = retry.data;
    const shown = showToast(retry.data.ok ? retry.data.message.split(":")[0]! : retry.data.message, {
      isError: !retry.data.ok,
    });
    setInline(retry.data.ok && shown && retry.data.notRetried.length === 0 ? null : retry.data);
  }, [retry.state, retry.data]);

  /** Keeps the embedded admin's own parameters (shop, host) and replaces the filter's. */
  const go = (query: string) => {
    const params = new URLSearchParams(query);
    for (const key of ["shop", "host", "embedded"]) {
      const value = searchParams.get(key);
      if (value !== null) params.set(key, value);
    }
    setInline(null);
    setSearchParams(params);
  };

  const pageQuery = (cursor: string, dir: "next" | "prev") => {
    const params = new URLSearchParams(data.filterQuery);
    params.set("cursor", cursor);
    if (dir === "prev") params.set("dir", "prev");
    return params.toString();
  };

  const exportCsv = async () => {
    setExporting(true);
    try {
      const response = await fetch(`/app/events/export?${data.filterQuery}`);
      if (!response.ok) {
        showToast("The export could not be made. Reload the app and try again.", { isError: true });
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = attachmentName(response);
      a.click();
      URL.revokeObjectURL(url);
    } finally {
      setExporting(false);
    }
  };

  const countText = `${data.count.toLocaleString("en-US")}${data.countCapped ? "+" : ""} event${data.count === 1 ? "" : "s"}${data.filtered ? " match" : ""}`;
  const retrying = retry.state !== "idle";
  return (
    <Page>
      <TitleBar title="Events" />
      <Text as="h1" visuallyHidden>
        Events
      </Text>
      <BlockStack gap="400">
        {inline && (
          <Banner
            tone={!inline.ok ? "critical" : inline.retried > 0 ? "success" : "warning"}
            title={inline.ok ? (inline.retried > 0 ? "Sent again" : "Nothing sent again") : "Not done"}
            onDismiss={() => setInline(null)}
          >
            <BlockStack gap="100">
              <p>{inline.message}</p>
              {inline.ok && inline.notRetried.length > 1 && (
                <ul>
                  {inline.notRetried.map((r) => (
                    <li key={r.reason}>
                      {r.count.toLocaleString("en-US")}: {r.reason}
                    </li>
                  ))}
                </ul>
              )}
            </BlockStack>
          </Banner>
        )}
        <EventsCard
          title="Your events"
          description="Newest first, 50 a page. Dates are in UTC."
          events={data.events}
          onOpen={(e: EventRow) => setOpened(e)}
          showPixel={data.pixels.length > 1}
          showTrace={false}
          emptyAction={data.filtered ? undefined : { content: "See setup steps", url: "/app" }}
          empty={
            data.filtered
              ? {
                  heading: "No events match",
                  text: "Change the filters or the search, or clear them to see every event.",
                }
              : undefined
          }
          toolbar={
            <BlockStack gap="300">
              <EventFilters
                key={data.filterQuery}
                query={data.filterQuery}
                pixels={data.pixels}
                errors={data.errors}
                busy={navigation.state === "loading"}
                onApply={go}
              />
              <InlineStack gap="200" align="space-between" blockAlign="center">
                <Text as="p" variant="bodySm" tone="subdued">
                  {countText}
                  {data.retryCandidates > 0
                    ? `; ${data.retryCandidates.toLocaleString("en-US")}${data.retryCandidates >= 10_000 ? "+" : ""} rejected or invalid`
                    : ""}
                </Text>
                <InlineStack gap="200">
                  {data.retryCandidates > 0 && (
                    <retry.Form method="post">
                      <input type="hidden" name="intent" value="retry-all" />
                      <input type="hidden" name="filter" value={data.filterQuery} />
                      <Button submit loading={retrying && retry.formData?.get("intent") === "retry-all"}>
                        Retry all retryable
                      </Button>
                    </retry.Form>
                  )}
                  <Button onClick={() => void exportCsv()} loading={exporting} disabled={data.count === 0}>
                    Export CSV
                  </Button>
                </InlineStack>
              </InlineStack>
              {data.retryCandidates > 0 && (
                <Text as="p" variant="bodySm" tone="subdued">
                  Retry all sends again the rejected and invalid events of this list that Meta would still take (within
                  7 days of the conversion, checked against Meta&apos;s rules again), up to{" "}
                  {RETRY_ALL_LIMIT.toLocaleString("en-US")} a click.
                </Text>
              )}
            </BlockStack>
          }
          footer={
            data.next || data.prev ? (
              <Box padding="300">
                <InlineStack align="center">
                  <Pagination
                    hasPrevious={Boolean(data.prev)}
                    previousTooltip="Newer events"
                    onPrevious={() => data.prev && go(pageQuery(data.prev, "prev"))}
                    hasNext={Boolean(data.next)}
                    nextTooltip="Older events"
                    onNext={() => data.next && go(pageQuery(data.next, "next"))}
                    accessibilityLabels={{ previous: "Newer events", next: "Older events" }}
                  />
                </InlineStack>
              </Box>
            ) : undefined
          }
        />
      </BlockStack>
      <EventModal
        event={selected}
        onClose={() => setOpened(null)}
        retrying={retrying && retry.formData?.get("intent") === "retry-one"}
        onRetry={(e) => retry.submit({ intent: "retry-one", id: e.id }, { method: "post" })}
      />
    </Page>
  );
}

export const ErrorBoundary = routeErrorBoundary("Your events", "Events");
