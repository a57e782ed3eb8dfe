// Signed bodies replayed under another shop's name, on every topic, in the middle of two
// shops' busy hours. Shopify's HMAC covers the body and not the headers, so whoever holds one
// captured webhook (a proxy log, an APM trace) can send it again with another shop's header,
// or another topic's. Every replay is refused with the reason recorded, or, for a shop that
// never installed, leaves no row at all; the victim keeps every event, its pixel receives none
// of the other shop's conversions, nothing of it is paused, redacted or reported, and both
// shops' genuine events are each delivered once.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { saveDestination } from "../../app/pipeline/destinations.server";
import { startWorker, type RunningWorker } from "../../app/pipeline/worker.server";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { shopifyFixture } from "../support/fixtures";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../support/services";
import { printAccount, settleAndAccount, type ExpectedEvent } from "./account";
import {
  deliverLikeShopify,
  faultSeed,
  orderBurst,
  prng,
  sleep,
  webhookRoutes,
  type RouteAnswer,
  type WebhookRoutes,
} from "./harness";

interface Shop {
  domain: string;
  /** Shopify's numeric shop id: in its status links and its compliance webhooks. */
  id: number;
  pixel: string;
  firstOrderId: number;
}
const A: Shop = {
  domain: "replay-source.myshopify.com",
  id: 75_100_000_001,
  pixel: "5500000001",
  firstOrderId: 8_500_000_000,
};
const B: Shop = {
  domain: "replay-victim.myshopify.com",
  id: 75_100_000_002,
  pixel: "5500000002",
  firstOrderId: 8_510_000_000,
};
/** Installed nowhere: replays under its name must leave nothing behind. */
const NEVER = "never-installed.myshopify.com";
const PIXELS = { [A.domain]: A.pixel, [B.domain]: B.pixel };
const ORDERS_PER_SHOP = 150;
const CHECKOUTS_PER_SHOP = 30;
const seed = faultSeed(4501);
const key = randomBytes(32);

let db: TestDatabase;
let meta: MetaSandbox;
let routes: WebhookRoutes;
let worker: RunningWorker;

/** A link of `shop` (status or recovery) whose path names the shop's own id, as Shopify's do. */
function ownLink(url: string, shop: Shop): string {
  return url.replace(/^https:\/\/[^/]+\/\d+\//, `https://${shop.domain}/${shop.id}/`);
}

function orders(shop: Shop, n: number, seedOffset: number): Array<Record<string, any>> {
  return orderBurst(n, { seed: seed + seedOffset, firstId: shop.firstOrderId }).map((o) => ({
    ...o,
    order_status_url: ownLink(o.order_status_url, shop),
  }));
}

function checkouts(shop: Shop, n: number): Array<Record<string, any>> {
  const base = shopifyFixture("checkouts-create");
  return Array.from({ length: n }, (_, i) => {
    const token = `${shop.id.toString(16)}${String(i).padStart(8, "0")}`.padEnd(32, "c");
    return {
      ...base,
      id: shop.firstOrderId + 900_000 + i,
      token,
      abandoned_checkout_url: ownLink(base.abandoned_checkout_url, shop),
    };
  });
}

/** The compliance and lifecycle bodies Shopify sends for `shop`: each names the shop it is for. */
function lifecycleBodies(shop: Shop, order: Record<string, any>): Record<string, unknown> {
  const customer = {
    id: order.customer?.id ?? 1,
    email: order.email ?? order.customer?.email,
    phone: order.phone ?? null,
  };
  return {
    "app/uninstalled": {
      id: shop.id,
      name: shop.domain.split(".")[0],
      domain: shop.domain,
      myshopify_domain: shop.domain,
    },
    "customers/data_request": {
      shop_id: shop.id,
      shop_domain: shop.domain,
      customer,
      orders_requested: [order.id],
      data_request: { id: 9_001 },
    },
    "customers/redact": { shop_id: shop.id, shop_domain: shop.domain, customer, orders_to_redact: [order.id] },
    "shop/redact": { shop_id: shop.id, shop_domain: shop.domain },
    // A plan's cancellation replayed elsewhere would hold the other shop's events.
    "app_subscriptions/update": {
      app_subscription: {
        admin_graphql_api_id: `gid://shopify/AppSubscription/${shop.id}1`,
        name: "Growth",
        status: "CANCELLED",
        admin_graphql_api_shop_id: `gid://shopify/Shop/${shop.id}`,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
      },
    },
  };
}

/** Every row the attacks could touch, to compare before and after. */
async function holdings(shop: string) {
  return {
    events: await db.prisma.event.count({ where: { shop } }),
    destination: await db.prisma.destination.findFirst({
      where: { shop },
      select: { pausedAt: true, pauseReason: true, pixelId: true },
    }),
    install: await db.prisma.shop.findUnique({ where: { shop }, select: { uninstalledAt: true, shopifyId: true } }),
    dataRequests: await db.prisma.dataRequest.count({ where: { shop } }),
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox();
  const prefix = uniquePrefix();
  routes = await webhookRoutes({ databaseUrl: db.url, redisUrl: REDIS_URL, queuePrefix: prefix, vaultKey: key });
  // Imported once the routes have set the environment the app reads when first used.
  const { handleInstalled } = await import("../../app/pipeline/privacy.server");
  for (const shop of [A, B]) {
    await handleInstalled(db.prisma, shop.domain);
    await saveDestination(
      db.prisma,
      shop.domain,
      { pixelId: shop.pixel, accessToken: `EAAreplay-${shop.pixel}-0123456789abcdef` },
      key,
    );
  }
  worker = startWorker({
    prisma: db.prisma,
    redisUrl: REDIS_URL,
    queuePrefix: prefix,
    graphUrl: meta.url,
    vaultKey: key,
    sweepEveryMs: 250,
    random: prng(seed),
  });
});
afterAll(async () => {
  await worker?.close();
  await routes?.close();
  await meta?.close();
  await db?.drop();
});

it("bodies replayed under another shop's name or topic, mid-burst, are refused on every topic; both shops are delivered in full", async () => {
  const random = prng(seed);
  const shopOrders = { [A.domain]: orders(A, ORDERS_PER_SHOP, 0), [B.domain]: orders(B, ORDERS_PER_SHOP, 1) };
  const shopCheckouts = { [A.domain]: checkouts(A, CHECKOUTS_PER_SHOP), [B.domain]: checkouts(B, CHECKOUTS_PER_SHOP) };

  // Each shop's data request first: the app learns each shop's id from it, as in production,
  // and both shops hold one report of their own.
  for (const shop of [A, B]) {
    const answer = await routes.post({
      topic: "customers/data_request",
      shop: shop.domain,
      payload: lifecycleBodies(shop, shopOrders[shop.domain]![0]!)["customers/data_request"],
      eventId: `${shop.pixel}-dr`,
    });
    expect(answer.status, answer.body).toBe(200);
  }

  // Two busy shops: orders, a paid webhook for every fifth order, and checkouts, interleaved.
  const genuine: Array<{ topic: string; shop: string; payload: Record<string, any>; eventId: string }> = [];
  for (let i = 0; i < ORDERS_PER_SHOP; i++) {
    for (const shop of [A, B]) {
      const order = shopOrders[shop.domain]![i]!;
      genuine.push({ topic: "orders/create", shop: shop.domain, payload: order, eventId: `${shop.pixel}-oc-${i}` });
      if (i % 5 === 4)
        genuine.push({ topic: "orders/paid", shop: shop.domain, payload: order, eventId: `${shop.pixel}-op-${i}` });
      if (i % 5 === 0)
        genuine.push({
          topic: "checkouts/create",
          shop: shop.domain,
          payload: shopCheckouts[shop.domain]![i / 5]!,
          eventId: `${shop.pixel}-ck-${i}`,
        });
    }
  }

  // The attacks, each with the bodies of webhooks that have already been delivered (captured).
  const answers: Array<{ attack: string; topic: string; as: string; eventId: string; answer: RouteAnswer }> = [];
  let replays = 0;
  const replay = async (
    attack: string,
    topic: string,
    as: string,
    payload: unknown,
    eventId = `replay-${++replays}`,
  ) => {
    answers.push({ attack, topic, as, eventId, answer: await routes.post({ topic, shop: as, payload, eventId }) });
  };
  const attackRound = async (delivered: number) => {
    const seen = genuine.slice(0, delivered);
    for (const [source, victim] of [
      [A, B],
      [B, A],
    ] as const) {
      const captured = (topic: string) => seen.filter((w) => w.shop === source.domain && w.topic === topic);
      const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
      // The source's own webhooks under the victim's name, with the original delivery's ids or fresh ones.
      for (const topic of ["orders/create", "orders/paid", "checkouts/create"]) {
        const list = captured(topic);
        if (list.length === 0) continue;
        const w = pick(list);
        await replay("other shop's body", topic, victim.domain, w.payload, random() < 0.5 ? w.eventId : undefined);
        await replay("never-installed shop", topic, NEVER, w.payload);
      }
      // An order that names no shop (no status link), whose id the source holds: Shopify's ids are global.
      const order = pick(captured("orders/create"));
      const { order_status_url: _link, ...unlinked } = order.payload;
      await replay("held order id, no link", "orders/create", victim.domain, unlinked);
      await replay("held order id, no link", "orders/paid", victim.domain, unlinked);
      // The compliance and lifecycle webhooks: pausing, deleting or reading out the victim.
      for (const [topic, body] of Object.entries(lifecycleBodies(source, order.payload))) {
        await replay("other shop's body", topic, victim.domain, body);
        await replay("never-installed shop", topic, NEVER, body);
      }
      // The victim's own bodies under another topic: a customer's redact as the whole shop's, a
      // data request as a redact, a redact as a data request, and a shop/redact while installed.
      const own = lifecycleBodies(victim, order.payload);
      await replay("topic swapped", "shop/redact", victim.domain, own["customers/redact"]);
      await replay("topic swapped", "shop/redact", victim.domain, own["customers/data_request"]);
      await replay("topic swapped", "customers/redact", victim.domain, own["customers/data_request"]);
      await replay("topic swapped", "customers/data_request", victim.domain, own["customers/redact"]);
      await replay("shop/redact while installed", "shop/redact", victim.domain, own["shop/redact"]);
      // An order body as a checkout and the other way round, under the source's own name.
      await replay("topic swapped", "checkouts/create", source.domain, order.payload);
      await replay("topic swapped", "orders/create", source.domain, pick(captured("checkouts/create")).payload);
    }
  };

  const before = { [A.domain]: await holdings(A.domain), [B.domain]: await holdings(B.domain) };
  const rounds = [0.25, 0.5, 0.75].map((f) => Math.floor(genuine.length * f));
  const stats = await deliverLikeShopify(routes, genuine, {
    lanes: 4,
    between: async (index) => {
      if (index % 20 === 19) await sleep(20);
      // Replays go out while the shops' own webhooks are in flight and their events are delivered.
      if (rounds.includes(index)) await attackRound(index);
    },
  });
  await attackRound(genuine.length);

  const expected: ExpectedEvent[] = [A, B].flatMap((shop) => [
    ...shopOrders[shop.domain]!.map((o) => ({ shop: shop.domain, eventName: "Purchase", eventId: String(o.id) })),
    ...shopCheckouts[shop.domain]!.map((c) => ({ shop: shop.domain, eventName: "InitiateCheckout", eventId: c.token })),
  ]);
  const account = await settleAndAccount({ prisma: db.prisma, meta, pixels: PIXELS, expected, timeoutMs: 40_000 });

  // Each attack refused: 400 with the reason and a receipt saying so; under a shop that never
  // installed, orders get 400 and compliance webhooks 200 ("nothing held"), with no row at all.
  const tally: Record<string, Record<string, number>> = {};
  const wrong: string[] = [];
  for (const { attack, topic, as, answer } of answers) {
    const label = `${attack} → ${topic}`;
    tally[label] ??= {};
    tally[label]![answer.status] = (tally[label]![answer.status] ?? 0) + 1;
    const outcome = (JSON.parse(answer.body || "{}") as { outcome?: string }).outcome;
    const wanted =
      as === NEVER && !["orders/create", "orders/paid", "checkouts/create"].includes(topic)
        ? [200, "ignored"]
        : [400, "refused"];
    if (answer.status !== wanted[0] || outcome !== wanted[1])
      wrong.push(`${label} as ${as}: ${answer.status} ${answer.body}`);
  }
  const refusedReceipts = await db.prisma.webhookReceipt.groupBy({
    by: ["shop"],
    where: { outcome: "refused" },
    _count: true,
  });
  const after = { [A.domain]: await holdings(A.domain), [B.domain]: await holdings(B.domain) };
  printAccount("cross-shop replay on every topic", account, {
    seed,
    "genuine webhooks": genuine.length,
    "Shopify retried (genuine, non-2xx)": stats.retried,
    "replays by attack and answer": tally,
    "refused receipts by shop": Object.fromEntries(refusedReceipts.map((r) => [r.shop, r._count])),
  });

  expect(wrong).toEqual([]);
  const { WEBHOOK_TOPICS } = await import("../../app/pipeline/webhook-route.server");
  expect(new Set(answers.map((a) => a.topic))).toEqual(new Set(WEBHOOK_TOPICS));
  expect(account.problems).toEqual([]);
  expect(account.delivered).toBe(expected.length);
  expect(account.uniqueAtMeta).toBe(expected.length);
  // Nothing is paused, uninstalled, redacted or read out by the replays; the shop ids are the
  // ones the genuine webhooks gave.
  for (const shop of [A, B]) {
    expect(after[shop.domain]!.destination).toEqual({ pausedAt: null, pauseReason: null, pixelId: shop.pixel });
    expect(after[shop.domain]!.install).toEqual({ uninstalledAt: null, shopifyId: String(shop.id) });
    expect(after[shop.domain]!.dataRequests).toBe(before[shop.domain]!.dataRequests);
    expect(after[shop.domain]!.events).toBe(expected.filter((e) => e.shop === shop.domain).length);
  }
  // Every refused replay is on record for the operator, once per delivery id (the same capture
  // sent twice is one record).
  const refusedDeliveries = new Set(
    answers.filter((a) => a.answer.status === 400 && a.as !== NEVER).map((a) => `${a.as} ${a.eventId}`),
  );
  expect(refusedReceipts.reduce((n, r) => n + r._count, 0)).toBe(refusedDeliveries.size);
  // The never-installed shop has no row anywhere.
  for (const count of [
    db.prisma.event.count({ where: { shop: NEVER } }),
    db.prisma.webhookReceipt.count({ where: { shop: NEVER } }),
    db.prisma.shop.count({ where: { shop: NEVER } }),
    db.prisma.dataRequest.count({ where: { shop: NEVER } }),
  ]) {
    expect(await count).toBe(0);
  }
});
