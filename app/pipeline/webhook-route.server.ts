// The shell of every /webhooks/<topic> route: Shopify's HMAC check (401 and nothing stored on
// a bad signature), the body bound to the shop its header names (app/shopify/webhook-binding.ts:
// the signature does not cover the headers), then the topic's handler. A failure to persist
// answers 500, so that Shopify delivers the webhook again rather than losing it.
import type { ActionFunctionArgs } from "@remix-run/node";
import type { PrismaClient } from "@prisma/client";
import { InvalidShopError } from "@shopify/shopify-api";
import { handleSubscriptionWebhook } from "../billing/billing.server";
import { isTransientDatabaseError } from "../db/client.server";
import { database, deliveryQueue, ingestBatcher } from "../process-clients.server";
import { authenticate } from "../shopify.server";
import { bindWebhook, isLifecycleTopic, type Binding, type ShopFacts } from "../shopify/webhook-binding";
import { losslessPayload } from "../shopify/webhook-json";
import { recordReceipt, refusedDedupeKey, type ReceiptInput } from "./event-store.server";
import { triggeredAtOf } from "./ingest-plan";
import { ingestWebhook, shopInstall } from "./ingest.server";
import type { ReceiptOutcome } from "./lifecycle";
import {
  handleCustomerRedact,
  handleShopRedact,
  handleUninstalled,
  recordDataRequest,
  recordShopifyId,
} from "./privacy.server";

export const WEBHOOK_TOPICS = [
  "orders/create",
  "orders/paid",
  "checkouts/create",
  "app/uninstalled",
  "app_subscriptions/update",
  "customers/data_request",
  "customers/redact",
  "shop/redact",
] as const;
export type WebhookTopic = (typeof WEBHOOK_TOPICS)[number];

/**
 * Shopify's library reports topics as ORDERS_CREATE (every "/" made "_"); our routes and rows
 * use orders/create. Matched against the topics we take, since app_subscriptions/update has
 * an underscore of its own (APP_SUBSCRIPTIONS_UPDATE).
 */
export function topicFromLibrary(topic: string): string {
  const known = WEBHOOK_TOPICS.find((t) => t.toUpperCase().replace("/", "_") === topic.toUpperCase());
  return known ?? topic.toLowerCase().replace("_", "/");
}

/**
 * A request whose body was read already: text() hands that text back instead of reading the
 * body a second time (15 µs of CPU for a 10 KB webhook). Any other reader still gets the same
 * bytes from the body.
 */
class ReadBodyRequest extends Request {
  readonly #text: string;
  constructor(url: string, init: RequestInit, text: string) {
    super(url, init);
    this.#text = text;
  }
  override text(): Promise<string> {
    return Promise.resolve(this.#text);
  }
}

/**
 * Shopify's library canonicalises every header name on every lookup (quadratic in the number
 * of headers, a tenth of a webhook's CPU behind a proxy that adds a dozen). It reads only its
 * own headers and the body, so it is handed just those, with the body text we read ourselves
 * (the very bytes its HMAC check needs).
 */
export function withShopifyHeadersOnly(request: Request, body: string): Request {
  const headers = new Headers();
  request.headers.forEach((value, name) => {
    if (name.startsWith("x-shopify-")) headers.set(name, value);
  });
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  return new ReadBodyRequest(request.url, { method: request.method, headers, ...(hasBody ? { body } : {}) }, body);
}

/** A database that did not answer in time (lock, pool, statement limits): Shopify retries a 503. */
function busy(): Response {
  return new Response("the database is busy; please retry", { status: 503 });
}

/**
 * What the binding rules need to know of the header's shop. Orders and checkouts read the
 * Shop row from ingest's short cache (no query per webhook); the rare lifecycle topics read
 * it fresh. A stored offline session counts as an install too (installs before Shop rows were
 * made at install time).
 */
async function shopFacts(
  prisma: PrismaClient,
  shop: string,
  topic: WebhookTopic,
  hasSession: boolean,
): Promise<ShopFacts> {
  const row = isLifecycleTopic(topic)
    ? await prisma.shop.findUnique({
        where: { shop },
        select: { installedAt: true, uninstalledAt: true, shopifyId: true },
      })
    : await shopInstall(prisma, shop);
  return {
    installed: hasSession || !!row,
    installedAt: row?.installedAt ?? null,
    uninstalledAt: row?.uninstalledAt ?? null,
    shopifyId: row?.shopifyId ?? null,
  };
}

/**
 * The answer to a webhook that is not bound to its shop. 400, not 401: the signature is good
 * (401 is what Shopify's review checks for a bad one, and what tells an operator the app's
 * secret is wrong); the request contradicts itself, which no retry changes, and Shopify gives
 * up on a non-2xx after its 8 retries in 4 hours. A shop that never installed gets no row at
 * all; its lifecycle and compliance webhooks are answered 200, since nothing is held for it and
 * there is nothing to retry, while its orders get 400 so that Shopify's retries can still land
 * once the install is recorded (an order racing the first admin load).
 */
async function unbound(
  prisma: PrismaClient,
  binding: Exclude<Binding, { verdict: "bound" }>,
  topic: WebhookTopic,
  receipt: Omit<ReceiptInput, "outcome">,
): Promise<Response> {
  if (binding.verdict === "unknown_shop") {
    return isLifecycleTopic(topic)
      ? answer("ignored", `${binding.reason}: no data is held for it`)
      : answer("refused", binding.reason, 400);
  }
  if (binding.verdict === "stale") {
    await recordReceipt(prisma, { ...receipt, outcome: "ignored", reason: binding.reason });
    return answer("ignored", binding.reason);
  }
  console.warn(`webhook ${topic} for ${receipt.shop} refused: ${binding.reason}`);
  await recordReceipt(prisma, {
    ...receipt,
    outcome: "refused",
    reason: binding.reason,
    dedupeKey: refusedDedupeKey(receipt),
  });
  return answer("refused", binding.reason, 400);
}

/** The answer to a webhook, in its receipt's words (Shopify discards it; operators and tests read it). */
function answer(outcome: ReceiptOutcome, reason: string, status = 200): Response {
  return Response.json({ outcome, reason }, { status });
}

export function webhookAction(expected: WebhookTopic) {
  return async ({ request }: ActionFunctionArgs): Promise<Response> => {
    // The body is read once, as text: the library verifies the signature on it, and we parse it
    // again only when it may hold an id above 2^53 that the library's JSON.parse rounded.
    const body = await request.text();
    const authenticated = await authenticate.webhook(withShopifyHeadersOnly(request, body)).catch((error: unknown) => {
      // The library parses the body only once the signature holds: a signed body that is not
      // JSON is a sender's bug, not a server error for Shopify to retry for two days.
      if (error instanceof SyntaxError) return new Response("the webhook body is not JSON", { status: 400 });
      // The library checks the signature, then loads the shop's session: a signed body under a
      // header that names no shop domain is refused plainly, not answered 500 with a stack.
      if (error instanceof InvalidShopError)
        return new Response("X-Shopify-Shop-Domain is not a shop domain", { status: 400 });
      if (isTransientDatabaseError(error)) return busy();
      throw error;
    });
    if (authenticated instanceof Response) return authenticated;
    const { shop, topic, webhookId, eventId, triggeredAt } = authenticated;
    const payload = losslessPayload(body, authenticated.payload);
    if (topicFromLibrary(topic) !== expected) {
      return new Response(`this endpoint takes ${expected}, not ${topic}`, { status: 400 });
    }
    const db = database();
    await db.ready;
    const prisma = db.prisma;
    const receipt = {
      shop,
      topic: expected,
      webhookId,
      eventId,
      triggeredAt: triggeredAtOf(triggeredAt),
    };
    try {
      const facts = await shopFacts(prisma, shop, expected, !!authenticated.session);
      const binding = bindWebhook({ topic: expected, shop, payload, triggeredAt: receipt.triggeredAt }, facts);
      if (binding.verdict !== "bound") return await unbound(prisma, binding, expected, receipt);
      if (binding.shopifyId && !facts.shopifyId) await recordShopifyId(prisma, shop, binding.shopifyId);
      switch (expected) {
        case "orders/create":
        case "orders/paid":
        case "checkouts/create": {
          const result = await ingestWebhook(
            { prisma, queue: deliveryQueue(), batcher: ingestBatcher() },
            { shop, topic: expected, webhookId, eventId, triggeredAt, payload, shopFromHeader: true },
          );
          return Response.json(result, { status: result.outcome === "refused" ? 400 : 200 });
        }
        case "app/uninstalled":
          await recordReceipt(prisma, {
            ...receipt,
            outcome: "handled",
            reason: await handleUninstalled(prisma, shop),
          });
          return new Response(null, { status: 200 });
        case "app_subscriptions/update": {
          const handled = await handleSubscriptionWebhook(prisma, shop, payload, authenticated.admin, new Date());
          await recordReceipt(prisma, { ...receipt, ...handled });
          return Response.json(handled);
        }
        case "shop/redact":
          await handleShopRedact(prisma, shop);
          return new Response(null, { status: 200 });
        case "customers/redact":
          await recordReceipt(prisma, {
            ...receipt,
            outcome: "handled",
            reason: await handleCustomerRedact(prisma, shop, payload),
          });
          return new Response(null, { status: 200 });
        case "customers/data_request": {
          // Shopify discards the answer: the report is stored for the merchant to download.
          const report = await recordDataRequest(prisma, shop, payload);
          const reason = `data request: report ${report.id} lists ${report.events} event(s)`;
          await recordReceipt(prisma, { ...receipt, outcome: "handled", reason });
          return Response.json({ outcome: "handled", reason, dataRequest: report.id });
        }
      }
    } catch (error) {
      console.error(`webhook ${expected} for ${shop} failed: ${(error as Error).message}`);
      if (isTransientDatabaseError(error)) return busy();
      return new Response("could not record the webhook; please retry", { status: 500 });
    }
  };
}
