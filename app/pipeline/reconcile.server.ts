// Reconciliation: Shopify's webhooks can arrive a day late or never. Every so often the recent
// orders of each shop are read through the Admin API, and any order without a Purchase row
// goes through the same ingest as a webhook, while Meta's window is still open.
import type { PrismaClient } from "@prisma/client";
import { graphqlOrderSchema, graphqlOrderToPayload, RECENT_ORDERS_QUERY, recentOrdersResponseSchema } from "../shopify/admin-orders";
import { ingestWebhook } from "./ingest.server";
import type { DeliveryQueue } from "./queue.server";

/** Runs one Admin GraphQL query for the shop (authenticated by the caller) and returns its JSON. */
export type AdminGraphql = (query: string, variables: Record<string, unknown>) => Promise<unknown>;

export interface ReconcileReport {
  seen: number;
  recovered: number;
  unreadable: number;
}

export const RECONCILE_LOOKBACK_MS = 48 * 3600_000;

export async function reconcileShop(
  deps: { prisma: PrismaClient; queue?: DeliveryQueue; graphql: AdminGraphql },
  shop: string,
  now = new Date(),
  lookbackMs = RECONCILE_LOOKBACK_MS,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { seen: 0, recovered: 0, unreadable: 0 };
  const since = new Date(now.getTime() - lookbackMs).toISOString();
  let after: string | null | undefined;
  do {
    const answer = recentOrdersResponseSchema.parse(await deps.graphql(RECENT_ORDERS_QUERY, { query: `created_at:>='${since}'`, after }));
    const page = answer.data.orders;
    const ids = page.nodes.map((n) => String((n as { id?: string }).id ?? "").replace(/^.*\//, ""));
    const known = new Set(
      (
        await deps.prisma.event.findMany({ where: { shop, eventName: "Purchase", eventId: { in: ids } }, select: { eventId: true } })
      ).map((e) => e.eventId),
    );
    for (const node of page.nodes) {
      report.seen++;
      const parsed = graphqlOrderSchema.safeParse(node);
      if (!parsed.success) {
        report.unreadable++;
        continue;
      }
      const payload = graphqlOrderToPayload(parsed.data);
      if (known.has(String(payload.id))) continue;
      const result = await ingestWebhook(deps, {
        shop,
        topic: "orders/create",
        webhookId: `reconcile:${payload.id}`,
        eventId: `reconcile:orders/create:${payload.id}`,
        payload,
      }, now);
      if (result.outcome === "queued" || result.outcome === "paused") report.recovered++;
    }
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : undefined;
  } while (after);
  return report;
}
