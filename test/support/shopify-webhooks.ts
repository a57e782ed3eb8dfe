// Webhook requests signed exactly as Shopify signs them, with Shopify's own test helper.
import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ActionFunctionArgs } from "@remix-run/node";
import { getHmac } from "@shopify/shopify-api/test-helpers";

export interface SignedWebhookOptions {
  topic: string;
  shop: string;
  payload: unknown;
  secret: string;
  webhookId?: string;
  eventId?: string;
  apiVersion?: string;
  triggeredAt?: string;
}

export function webhookHeaders(o: SignedWebhookOptions, body: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-shopify-hmac-sha256": getHmac(body, o.secret),
    "x-shopify-shop-domain": o.shop,
    "x-shopify-topic": o.topic,
    "x-shopify-api-version": o.apiVersion ?? "2026-10",
    "x-shopify-webhook-id": o.webhookId ?? randomUUID(),
    "x-shopify-event-id": o.eventId ?? randomUUID(),
    "x-shopify-triggered-at": o.triggeredAt ?? new Date().toISOString(),
  };
}

export function signedWebhookRequest(baseUrl: string, o: SignedWebhookOptions): Request {
  const body = JSON.stringify(o.payload);
  return new Request(`${baseUrl.replace(/\/$/, "")}/webhooks/${o.topic}`, {
    method: "POST",
    headers: webhookHeaders(o, body),
    body,
  });
}

// import.meta.url, not __dirname: the benchmarks load this file as an ES module (tsx).
const ROUTES = fileURLToPath(new URL("../../app/routes", import.meta.url));

/**
 * Every webhook route of the app by topic ("orders/create": app/routes/webhooks.orders.create.tsx,
 * which Remix serves at /webhooks/orders/create), read from the route files' names.
 */
export function webhookRouteFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const file of readdirSync(ROUTES)) {
    const match = /^webhooks\.([a-z_]+)\.([a-z_]+)\.tsx$/.exec(file);
    if (match) files[`${match[1]}/${match[2]}`] = path.join(ROUTES, file);
  }
  return files;
}

/**
 * Every webhook route's action by topic, imported when called, after the test has set the
 * environment the app reads at import time.
 */
export async function webhookRouteActions(): Promise<Record<string, (args: ActionFunctionArgs) => Promise<Response>>> {
  const actions: Record<string, (args: ActionFunctionArgs) => Promise<Response>> = {};
  for (const [topic, file] of Object.entries(webhookRouteFiles())) actions[topic] = (await import(file)).action;
  return actions;
}
