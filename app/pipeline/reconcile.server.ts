// Reconciliation: Shopify's webhooks can arrive a day late or never. Every so often the recent
// orders and abandoned checkouts of each shop are read through the Admin API, and whatever
// has no event row yet goes through the same ingest as a webhook, while Meta's window is
// still open. What cannot be sent with the browser's event_id is recorded, not sent.
import type { PrismaClient } from "@prisma/client";
import { MAX_AGE_SECONDS } from "../meta/validate";
import {
  abandonedCheckoutNumericId,
  graphqlAbandonedCheckoutSchema,
  graphqlOrderToCheckoutPayload,
  NO_CHECKOUT_TOKEN_REASON,
  RECENT_ABANDONED_CHECKOUTS_QUERY,
  recoveryPath,
} from "../shopify/admin-checkouts";
import { connectionPages, type AdminGraphql } from "../shopify/admin-graphql";
import {
  graphqlOrderSchema,
  graphqlOrderToPayload,
  RECENT_ORDERS_QUERY,
  type GraphqlOrder,
} from "../shopify/admin-orders";
import { recordReceipts } from "./event-store.server";
import type { IngestOutcome } from "./ingest-plan";
import { ingestWebhook } from "./ingest.server";
import type { DeliveryQueue } from "./queue.server";

export type { AdminGraphql } from "../shopify/admin-graphql";

export interface CheckoutReconcileReport {
  /** Recent orders carrying the token of the checkout they came from. */
  fromOrders: number;
  /** InitiateCheckout events recovered from those orders (their checkouts/create never came). */
  recovered: number;
  /** Abandoned checkouts created inside the window, read through the Admin API. */
  abandoned: number;
  /** ...whose InitiateCheckout we hold (their webhook came). */
  held: number;
  /** ...that became orders later: the order's checkout token covers them. */
  completed: number;
  /** ...with no InitiateCheckout held and no token to send one: recorded with the reason. */
  withoutToken: number;
  unreadable: number;
}

export interface ReconcileReport {
  /** Orders read. */
  seen: number;
  /** Purchases recovered (their order webhooks never came). */
  recovered: number;
  unreadable: number;
  checkouts: CheckoutReconcileReport;
}

/** The orders were reconciled, the abandoned checkouts could not be read; `report` says what was done. */
export class ReconcileError extends Error {
  constructor(
    message: string,
    readonly report: ReconcileReport,
  ) {
    super(message);
    this.name = "ReconcileError";
  }
}

export const RECONCILE_LOOKBACK_MS = 48 * 3600_000;
/** Meta refuses website events older than this: nothing older is worth reading. */
export const META_WINDOW_MS = MAX_AGE_SECONDS * 1000;

/**
 * The event id of the receipt reconciliation records for an order it read with no event held:
 * how the accuracy report (./accuracy.ts) tells a recovered Purchase, and finds why a held-back one was.
 */
export const reconcileOrderEventId = (orderId: string | number) => `reconcile:orders/create:${orderId}`;

type Deps = { prisma: PrismaClient; queue?: DeliveryQueue; graphql: AdminGraphql };

/** The webhook's event was stored to be sent (now, or once the pixel can take it). */
const sent = (outcome: IngestOutcome) => outcome === "queued" || outcome === "paused";

export async function reconcileShop(
  deps: Deps,
  shop: string,
  now = new Date(),
  lookbackMs = RECONCILE_LOOKBACK_MS,
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    seen: 0,
    recovered: 0,
    unreadable: 0,
    checkouts: { fromOrders: 0, recovered: 0, abandoned: 0, held: 0, completed: 0, withoutToken: 0, unreadable: 0 },
  };
  const since = new Date(now.getTime() - Math.min(lookbackMs, META_WINDOW_MS));
  await reconcileOrders(deps, shop, since, now, report);
  try {
    await reconcileAbandonedCheckouts(deps, shop, since, report.checkouts);
  } catch (error) {
    const done = `${report.recovered} Purchase and ${report.checkouts.recovered} InitiateCheckout recovered from orders`;
    throw new ReconcileError(`abandoned checkouts could not be read (${done}): ${(error as Error).message}`, report);
  }
  return report;
}

/** Purchase for every order, and InitiateCheckout for the checkout it came from, unless held. */
async function reconcileOrders(
  deps: Deps,
  shop: string,
  since: Date,
  now: Date,
  report: ReconcileReport,
): Promise<void> {
  for await (const nodes of connectionPages(deps.graphql, RECENT_ORDERS_QUERY, "orders", {
    query: `created_at:>='${since.toISOString()}'`,
  })) {
    const orders: GraphqlOrder[] = [];
    for (const node of nodes) {
      report.seen++;
      const parsed = graphqlOrderSchema.safeParse(node);
      if (parsed.success) orders.push(parsed.data);
      else report.unreadable++;
    }
    const payloads = orders.map((o) => ({
      order: graphqlOrderToPayload(o),
      checkout: graphqlOrderToCheckoutPayload(o),
    }));
    const orderIds = payloads.map((p) => String(p.order.id));
    const tokens = payloads.flatMap((p) => (p.checkout.status === "payload" ? [p.checkout.token] : []));
    const [heldOrders, heldCheckouts] = await Promise.all([
      heldEventIds(deps.prisma, shop, "Purchase", orderIds),
      heldEventIds(deps.prisma, shop, "InitiateCheckout", tokens),
    ]);

    for (const { order, checkout } of payloads) {
      if (!heldOrders.has(String(order.id))) {
        const result = await ingestWebhook(
          deps,
          {
            shop,
            topic: "orders/create",
            webhookId: `reconcile:${order.id}`,
            eventId: reconcileOrderEventId(String(order.id)),
            payload: order,
          },
          now,
        );
        if (sent(result.outcome)) report.recovered++;
      }
      if (checkout.status !== "payload") continue;
      report.checkouts.fromOrders++;
      if (heldCheckouts.has(checkout.token)) continue;
      const result = await ingestWebhook(
        deps,
        {
          shop,
          topic: "checkouts/create",
          webhookId: `reconcile:checkout:${checkout.token}`,
          eventId: `reconcile:checkouts/create:${checkout.token}`,
          payload: checkout.payload,
        },
        now,
      );
      if (sent(result.outcome)) report.checkouts.recovered++;
    }
  }
}

/**
 * Abandoned checkouts: held ones are known by their recovery path (the webhook's
 * abandoned_checkout_url became the event's event_source_url); completed ones are covered by
 * their order; the rest cannot be sent (see app/shopify/admin-checkouts.ts) and each gets one
 * receipt saying so.
 */
async function reconcileAbandonedCheckouts(
  deps: Deps,
  shop: string,
  since: Date,
  report: CheckoutReconcileReport,
): Promise<void> {
  const held = await heldCheckoutPaths(deps.prisma, shop, since);
  const variables = { query: `created_at:>='${since.toISOString()}'` };
  for await (const nodes of connectionPages(
    deps.graphql,
    RECENT_ABANDONED_CHECKOUTS_QUERY,
    "abandonedCheckouts",
    variables,
  )) {
    const unsendable: string[] = [];
    for (const node of nodes) {
      report.abandoned++;
      const parsed = graphqlAbandonedCheckoutSchema.safeParse(node);
      if (!parsed.success) {
        report.unreadable++;
        continue;
      }
      const checkout = parsed.data;
      const path = recoveryPath(checkout.abandonedCheckoutUrl);
      if (path && held.has(path)) report.held++;
      else if (checkout.completedAt) report.completed++;
      else unsendable.push(abandonedCheckoutNumericId(checkout));
    }
    report.withoutToken += unsendable.length;
    // Every run meets them again; each is recorded once (a receipt's dedupe key is unique).
    await recordReceipts(
      deps.prisma,
      unsendable.map((id) => ({
        shop,
        topic: "checkouts/create",
        webhookId: `reconcile:abandoned:${id}`,
        eventId: `reconcile:checkouts/create:abandoned:${id}`,
        outcome: "held_back",
        reason: NO_CHECKOUT_TOKEN_REASON,
      })),
    );
  }
}

async function heldEventIds(
  prisma: PrismaClient,
  shop: string,
  eventName: string,
  ids: string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await prisma.event.findMany({
    where: { shop, eventName, eventId: { in: ids } },
    select: { eventId: true },
  });
  return new Set(rows.map((r) => r.eventId));
}

async function heldCheckoutPaths(prisma: PrismaClient, shop: string, since: Date): Promise<Set<string>> {
  // A minute of slack: the event's time and the Admin API's createdAt are the same instant, rounded apart.
  const from = new Date(since.getTime() - 60_000);
  const rows = await prisma.$queryRaw<Array<{ url: string | null }>>`
    SELECT "payload"->>'event_source_url' AS "url" FROM "Event"
    WHERE "shop" = ${shop} AND "eventName" = 'InitiateCheckout' AND "eventTime" >= ${from}`;
  const paths = new Set<string>();
  for (const { url } of rows) {
    const path = recoveryPath(url);
    if (path) paths.add(path);
  }
  return paths;
}
