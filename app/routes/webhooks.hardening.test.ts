// The webhook routes when the request or the database misbehaves: a signed webhook whose shop
// header is not a shop, and a write that cannot get its lock in time. Real PostgreSQL and
// Redis, web-tier statement limits (app/db/client.server.ts), webhooks signed as Shopify signs.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { ActionFunctionArgs } from "@remix-run/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";
import { webhookHeaders } from "../../test/support/shopify-webhooks";

const SECRET = "test-webhook-secret";
const SHOP = "hardening.myshopify.com";

type Action = (args: ActionFunctionArgs) => Promise<Response>;
let db: TestDatabase;
let ordersCreate: Action;

/** An order placed a minute ago (a fresh conversion, whatever the fixture's date). */
function order(id: number) {
  const fixture = JSON.parse(
    readFileSync(path.resolve(__dirname, "../../test/fixtures/shopify/orders-create-web.json"), "utf8"),
  );
  const placed = new Date(Date.now() - 60_000).toISOString();
  // Of the shop it is posted for: its status link names the shop (the route checks it).
  const order_status_url = String(fixture.order_status_url).replace(/^https:\/\/[^/]+/, `https://${SHOP}`);
  return {
    ...fixture,
    id,
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    created_at: placed,
    processed_at: placed,
    order_status_url,
  };
}

/** Posts a signed orders/create; `headers` may replace or (with undefined) remove headers. */
async function post(
  payload: unknown,
  options: { eventId: string; webhookId?: string; shop?: string; headers?: Record<string, string | undefined> },
): Promise<Response> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string | undefined> = {
    ...webhookHeaders(
      {
        topic: "orders/create",
        shop: options.shop ?? SHOP,
        payload,
        secret: SECRET,
        eventId: options.eventId,
        webhookId: options.webhookId,
      },
      body,
    ),
    ...options.headers,
  };
  const defined = Object.fromEntries(
    Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const request = new Request("https://app.example.com/webhooks/orders/create", {
    method: "POST",
    headers: defined,
    body,
  });
  try {
    return await ordersCreate({ request, params: {}, context: {} });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  Object.assign(process.env, {
    SHOPIFY_API_SECRET: SECRET,
    SHOPIFY_API_KEY: "test-key",
    DATABASE_URL: db.url,
    REDIS_URL,
    NODE_ENV: "test",
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  });
  ordersCreate = (await import("./webhooks.orders.create")).action;
  // Installed, as a shop must be for its webhooks to be stored.
  const { handleInstalled } = await import("../pipeline/privacy.server");
  await handleInstalled(db.prisma, SHOP);
});
afterAll(async () => {
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

describe("a signed webhook whose shop header is not a shop", () => {
  it("is answered 400 with a plain message, and nothing is stored", async () => {
    for (const shop of ["evil.example.com", "hardening.myshopify.com.evil.example", "../../etc", "a b.myshopify.com"]) {
      const response = await post(order(9_100_001), { eventId: `bad-shop-${shop}`, shop });
      expect(response.status, shop).toBe(400);
      const text = await response.text();
      expect(text, shop).not.toMatch(/\n\s+at /); // no stack
      expect(text.length, shop).toBeLessThan(200);
    }
    // Missing altogether: Shopify's library refuses it itself.
    expect(
      (await post(order(9_100_002), { eventId: "no-shop", headers: { "x-shopify-shop-domain": undefined } })).status,
    ).toBe(400);
    expect(await db.prisma.webhookReceipt.count()).toBe(0);
    expect(await db.prisma.event.count()).toBe(0);
  });
});

describe("a write that cannot get its lock", () => {
  it("answers a retryable 503 within Shopify's 5 s, and Shopify's retry is stored once the lock is gone", async () => {
    // A session that holds the events table (a long migration, a stuck transaction) for 20 s.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query('LOCK TABLE "Event" IN ACCESS EXCLUSIVE MODE');
    const release = setTimeout(() => void locker.query("ROLLBACK").catch(() => undefined), 20_000);
    const payload = order(9_200_001);
    const delivery = { eventId: "locked-1", webhookId: "wh-locked-1" };
    try {
      const started = Date.now();
      const response = await post(payload, delivery);
      const tookMs = Date.now() - started;
      expect(response.status).toBe(503);
      expect(await response.text()).toMatch(/retry/i);
      expect(tookMs).toBeLessThan(3_000);
    } finally {
      clearTimeout(release);
      await locker.query("ROLLBACK");
      await locker.end();
    }
    expect(await db.prisma.webhookReceipt.count({ where: { dedupeKey: "locked-1" } })).toBe(0);

    // Shopify delivers the same webhook again (same ids).
    const retry = await post(payload, delivery);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ outcome: "paused" }); // no pixel connected: kept, not sent
    expect(await db.prisma.webhookReceipt.count({ where: { shop: SHOP, dedupeKey: "locked-1" } })).toBe(1);
    expect(await db.prisma.event.count({ where: { shop: SHOP, eventId: "9200001" } })).toBe(1);
  });
});
