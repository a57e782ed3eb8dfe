// The shell of every /webhooks/<topic> route: Shopify's HMAC check (401 and nothing stored on
// a bad signature), then the topic's handler. A failure to persist answers 500, so that
// Shopify delivers the webhook again rather than losing it.
import type { ActionFunctionArgs } from "@remix-run/node";
import { env } from "../config/env.server";
import { database } from "../db/db.server";
import { authenticate } from "../shopify.server";
import { recordReceipt } from "./event-store.server";
import { WriteBatcher } from "./ingest-batcher.server";
import { ingestWebhook } from "./ingest.server";
import { customerDataReport, handleCustomerRedact, handleShopRedact, handleUninstalled } from "./privacy.server";
import { createDeliveryQueue, type DeliveryQueue } from "./queue.server";

declare global {
  var __capiQueue: DeliveryQueue | undefined;
  var __capiBatcher: WriteBatcher | undefined;
}

function deliveryQueue(): DeliveryQueue {
  globalThis.__capiQueue ??= createDeliveryQueue(env().REDIS_URL, env().QUEUE_PREFIX);
  return globalThis.__capiQueue;
}

export const WEBHOOK_TOPICS = [
  "orders/create",
  "orders/paid",
  "checkouts/create",
  "app/uninstalled",
  "customers/data_request",
  "customers/redact",
  "shop/redact",
] as const;
export type WebhookTopic = (typeof WEBHOOK_TOPICS)[number];

/** Shopify's library reports topics as ORDERS_CREATE; our routes and rows use orders/create. */
export function topicFromLibrary(topic: string): string {
  return topic.toLowerCase().replace("_", "/");
}

/**
 * Shopify's library canonicalises every header name on every lookup (quadratic in the number
 * of headers, a tenth of a webhook's CPU behind a proxy that adds a dozen). It reads only its
 * own headers and the body, so it is handed just those.
 */
export function withShopifyHeadersOnly(request: Request): Request {
  const headers = new Headers();
  request.headers.forEach((value, name) => {
    if (name.startsWith("x-shopify-")) headers.set(name, value);
  });
  return new Request(request.url, { method: request.method, headers, body: request.body, duplex: "half" } as RequestInit);
}

export function webhookAction(expected: WebhookTopic) {
  return async ({ request }: ActionFunctionArgs): Promise<Response> => {
    const authenticated = await authenticate.webhook(withShopifyHeadersOnly(request)).catch((error: unknown) => {
      // The library parses the body only once the signature holds: a signed body that is not
      // JSON is a sender's bug, not a server error for Shopify to retry for two days.
      if (error instanceof SyntaxError) return new Response("the webhook body is not JSON", { status: 400 });
      throw error;
    });
    if (authenticated instanceof Response) return authenticated;
    const { shop, topic, payload, webhookId, eventId, triggeredAt } = authenticated;
    if (topicFromLibrary(topic) !== expected) {
      return new Response(`this endpoint takes ${expected}, not ${topic}`, { status: 400 });
    }
    const db = database();
    await db.ready;
    const prisma = db.prisma;
    const receipt = { shop, topic: expected, webhookId, eventId, triggeredAt: triggeredAt ? new Date(triggeredAt) : null };
    try {
      switch (expected) {
        case "orders/create":
        case "orders/paid":
        case "checkouts/create": {
          globalThis.__capiBatcher ??= new WriteBatcher(db.sql);
          const result = await ingestWebhook(
            { prisma, queue: deliveryQueue(), batcher: globalThis.__capiBatcher },
            { shop, topic: expected, webhookId, eventId, triggeredAt, payload },
          );
          return Response.json(result);
        }
        case "app/uninstalled":
          await recordReceipt(prisma, { ...receipt, outcome: "handled", reason: await handleUninstalled(prisma, shop) });
          return new Response(null, { status: 200 });
        case "shop/redact":
          await handleShopRedact(prisma, shop);
          return new Response(null, { status: 200 });
        case "customers/redact":
          await recordReceipt(prisma, { ...receipt, outcome: "handled", reason: await handleCustomerRedact(prisma, shop, payload) });
          return new Response(null, { status: 200 });
        case "customers/data_request": {
          const report = await customerDataReport(prisma, shop, payload);
          await recordReceipt(prisma, { ...receipt, outcome: "handled", reason: `data request: ${report.events.length} hashed event(s) held` });
          return Response.json(report);
        }
      }
    } catch (error) {
      console.error(`webhook ${expected} for ${shop} failed: ${(error as Error).message}`);
      return new Response("could not record the webhook; please retry", { status: 500 });
    }
  };
}
