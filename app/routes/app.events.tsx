// Events: the shop's recent events, each opened (by click, or Tab then Enter) to what was sent
// and how Meta answered. Only the session's shop's events; payloads are hashed and masked.
import { useState } from "react";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Page, Text } from "@shopify/polaris";
import { TitleBar } from "../admin/app-bridge";
import { loadRecentEvents } from "../admin/dashboard.server";
import { EventModal } from "../admin/event-modal";
import { EventsCard } from "../admin/events-card";
import { routeErrorBoundary } from "../admin/route-error";
import { database } from "../process-clients.server";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const { session } = await authenticate.admin(request);
  const db = database();
  await db.ready;
  return json({ shop: session.shop, events: await loadRecentEvents(db.prisma, session.shop) });
}

type EventRow = ReturnType<typeof useLoaderData<typeof loader>>["events"][number];

export default function Events() {
  const { events } = useLoaderData<typeof loader>();
  const [selected, setSelected] = useState<EventRow | null>(null);
  return (
    <Page>
      <TitleBar title="Events" />
      <Text as="h1" visuallyHidden>
        Events
      </Text>
      <EventsCard events={events} onOpen={setSelected} emptyAction={{ content: "See setup steps", url: "/app" }} />
      <EventModal event={selected} onClose={() => setSelected(null)} />
    </Page>
  );
}

export const ErrorBoundary = routeErrorBoundary("Your events", "Events");
