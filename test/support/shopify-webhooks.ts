// Webhook requests signed exactly as Shopify signs them, with Shopify's own test helper.
import { randomUUID } from "node:crypto";
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
  return new Request(`${baseUrl.replace(/\/$/, "")}/webhooks/${o.topic}`, { method: "POST", headers: webhookHeaders(o, body), body });
}
