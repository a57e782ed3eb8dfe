// The delivery pipeline against the real PostgreSQL and Redis of this machine, with Meta
// replaced by the project's stand-in. Time is simulated through the `now` option, so that
// backoff and Meta's 7-day window are exercised without waiting.
import { soleDestination } from "../../test/support/destinations";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { RECORDED_NOW, shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../../test/support/services";
import { sha256Hex } from "../meta/user-data";
import { openDestination, pauseDestination, saveDestination } from "./destinations.server";
import { claimDue, countByState, insertEvent } from "./event-store.server";
import { prismaSql } from "../db/client.server";
import { forgetShopContext, ingestWebhook, type VerifiedWebhook } from "./ingest.server";
import { handleInstalled, handleUninstalled } from "./privacy.server";
import { createDeliveryQueue, type DeliveryQueue } from "./queue.server";
import { flushShop, sweepDueWork, type WorkerOptions } from "./worker.server";

// The simulated clock starts at the fixtures' own, with the fixtures as recorded.
const fixture = (name: string) => shopifyFixture(name, { asRecorded: true });
const T0 = RECORDED_NOW.getTime();
const key = randomBytes(32);
const TOKEN = "EAAtesttoken-0123456789abcdef";

let db: TestDatabase;
let meta: MetaSandbox;
let queue: DeliveryQueue;
let clock = T0;

function workerOptions(): WorkerOptions & { queue: DeliveryQueue } {
  return {
    prisma: db.prisma,
    redisUrl: REDIS_URL,
    graphUrl: meta.url,
    vaultKey: key,
    now: () => clock,
    random: () => 0.5,
    queue,
    leaseMs: 30_000,
    batchWindowMs: 0,
  };
}

let webhookCounter = 0;
function webhook(shop: string, topic: string, payload: unknown, eventId?: string): VerifiedWebhook {
  webhookCounter++;
  return { shop, topic, webhookId: `wh-${webhookCounter}`, eventId: eventId ?? `ev-${webhookCounter}`, payload };
}
const ingest = (w: VerifiedWebhook) => ingestWebhook({ prisma: db.prisma, queue }, w, new Date(clock));

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox({ now: () => clock });
  queue = createDeliveryQueue(REDIS_URL, uniquePrefix());
});
afterAll(async () => {
  await queue?.close();
  await meta?.close();
  await db?.drop();
});
beforeEach(() => {
  clock = T0;
  meta.reset();
});

async function connect(shop: string, pixelId: string, token = TOKEN) {
  await saveDestination(db.prisma, shop, { pixelId, accessToken: token }, key, new Date(clock));
  forgetShopContext(shop);
}

describe("one Purchase per order", () => {
  it("the same webhook three times and orders/paid after orders/create produce one Purchase at Meta", async () => {
    const shop = "dedupe.myshopify.com";
    await connect(shop, "1000000001");
    const order = fixture("orders-create-web");
    const results = [
      await ingest(webhook(shop, "orders/create", order, "evt-create-1")),
      await ingest(webhook(shop, "orders/create", order, "evt-create-1")),
      await ingest(webhook(shop, "orders/create", order, "evt-create-1")),
      await ingest(webhook(shop, "orders/paid", fixture("orders-paid-web"), "evt-paid-1")),
    ];
    expect(results.map((r) => r.outcome)).toEqual(["queued", "duplicate", "duplicate", "duplicate"]);
    const report = await flushShop(workerOptions(), shop);
    expect(report).toMatchObject({ claimed: 1, delivered: 1, requests: 1 });
    expect(meta.accepted("1000000001").map((a) => a.event.event_id)).toEqual([String(order.id)]);
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 1 });
  });

  it("never stores raw personal data: the stored payload is the hashed event", async () => {
    const shop = "privacy.myshopify.com";
    await connect(shop, "1000000002");
    const order = fixture("orders-create-web");
    await ingest(webhook(shop, "orders/create", order));
    const row = await db.prisma.event.findFirstOrThrow({ where: { shop } });
    const stored = JSON.stringify(row.payload).toLowerCase();
    expect(stored).not.toContain("jane");
    expect(stored).not.toContain(order.customer.email.trim().toLowerCase());
    expect(row.customerHash).toBe(sha256Hex(String(order.customer.id)));
  });
});

describe("failures end delivered or with a recorded reason", () => {
  it("Meta answering 5xx for a while: retried with backoff, then delivered once", async () => {
    const shop = "outage.myshopify.com";
    await connect(shop, "1000000003");
    await ingest(webhook(shop, "orders/create", fixture("orders-create-web")));
    await ingest(webhook(shop, "orders/create", fixture("orders-create-pos")));
    meta.setFault({ mode: "server-error", count: 3 });
    for (let i = 0; i < 3; i++) {
      await flushShop(workerOptions(), shop);
      expect(await countByState(db.prisma, shop)).toEqual({ retrying: 2 });
      clock += 60 * 60_000;
    }
    await flushShop(workerOptions(), shop);
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 2 });
    expect(meta.unique("1000000003")).toHaveLength(2);
    const history = await db.prisma.eventTransition.findMany({ where: { event: { shop } }, orderBy: { id: "asc" } });
    expect(history.filter((h) => h.state === "retrying").length).toBe(6);
  });

  it("an outage longer than Meta's window: the event expires with the reason", async () => {
    const shop = "expire.myshopify.com";
    await connect(shop, "1000000004");
    await ingest(webhook(shop, "orders/create", fixture("orders-create-web")));
    meta.setFault({ mode: "server-error" });
    for (let day = 0; day < 8; day++) {
      await flushShop(workerOptions(), shop);
      clock += 24 * 3600_000;
    }
    meta.setFault({ mode: "none" });
    await flushShop(workerOptions(), shop);
    const row = await db.prisma.event.findFirstOrThrow({ where: { shop } });
    expect(row.state).toBe("expired");
    expect(row.reason).toMatch(/window/);
    expect(meta.accepted("1000000004")).toHaveLength(0);
  });

  it("code 190: the pixel is paused with a message for the merchant, and resumes when the token changes", async () => {
    const shop = "revoked.myshopify.com";
    await connect(shop, "1000000005");
    meta.revokeToken(TOKEN);
    await ingest(webhook(shop, "orders/create", fixture("orders-create-web")));
    await flushShop(workerOptions(), shop);
    expect(await countByState(db.prisma, shop)).toEqual({ paused: 1 });
    const destination = await db.prisma.destination.findFirstOrThrow({ where: { shop } });
    expect(destination.pauseMessage).toMatch(/access token/);
    // New orders while paused are kept, not sent.
    forgetShopContext(shop);
    expect((await ingest(webhook(shop, "orders/create", fixture("orders-create-pos")))).outcome).toBe("paused");
    await flushShop(workerOptions(), shop);
    expect(meta.accepted("1000000005")).toHaveLength(0);

    await connect(shop, "1000000005", "EAAnewtoken-9876543210fedcba");
    await flushShop(workerOptions(), shop);
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 2 });
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, shop), key))!.pausedAt).toBeNull();
  });

  it("events that arrive queued just after a pause (ingest's cached view) are moved to paused with the reason", async () => {
    const shop = "late-pause.myshopify.com";
    await connect(shop, "1000000015");
    await ingest(webhook(shop, "orders/create", fixture("orders-create-web"))); // caches "not paused"
    await pauseDestination(
      db.prisma,
      await soleDestination(db.prisma, shop),
      "token_invalid",
      "Meta refused the token",
      new Date(clock),
    );
    expect((await ingest(webhook(shop, "orders/create", fixture("orders-create-pos")))).outcome).toBe("queued");
    await flushShop(workerOptions(), shop);
    expect(await countByState(db.prisma, shop)).toEqual({ paused: 2 });
    expect(meta.accepted("1000000015")).toHaveLength(0);
    const reasons = await db.prisma.event.findMany({ where: { shop }, select: { reason: true } });
    expect(reasons.every((r) => /token_invalid/.test(r.reason ?? ""))).toBe(true);
  });

  it("events stored paused just after the merchant reconnected (ingest's cached view) are sent after the next sweep", async () => {
    const shop = "late-resume.myshopify.com";
    await connect(shop, "1000000018");
    await pauseDestination(
      db.prisma,
      await soleDestination(db.prisma, shop),
      "token_invalid",
      "Meta refused the token",
      new Date(clock),
    );
    forgetShopContext(shop);
    expect((await ingest(webhook(shop, "orders/create", fixture("orders-create-web")))).outcome).toBe("paused"); // caches "paused"
    // Reconnected through another web process: this one's cache still says paused.
    await saveDestination(
      db.prisma,
      shop,
      { pixelId: "1000000018", accessToken: "EAAnewtoken-9876543210fedcba" },
      key,
      new Date(clock),
    );
    expect((await ingest(webhook(shop, "orders/create", fixture("orders-create-pos")))).outcome).toBe("paused");
    expect(await countByState(db.prisma, shop)).toEqual({ queued: 1, paused: 1 });
    const queue = workerOptions().queue;
    await sweepDueWork(db.prisma, queue, new Date(clock));
    await flushShop(workerOptions(), shop);
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 2 });
    expect(meta.accepted("1000000018")).toHaveLength(2);
  });

  it("a paused pixel's events stay paused through the sweep", async () => {
    const shop = "stays-paused.myshopify.com";
    await connect(shop, "1000000019");
    await ingest(webhook(shop, "orders/create", fixture("orders-create-web")));
    await pauseDestination(
      db.prisma,
      await soleDestination(db.prisma, shop),
      "token_invalid",
      "Meta refused the token",
      new Date(clock),
    );
    await sweepDueWork(db.prisma, workerOptions().queue, new Date(clock));
    expect(await countByState(db.prisma, shop)).toEqual({ paused: 1 });
  });

  it("rows a dead worker left 'sending' while the pixel is paused join the paused ones once their lease runs out", async () => {
    const shop = "dead-worker-pause.myshopify.com";
    await connect(shop, "1000000017");
    await ingest(webhook(shop, "orders/create", fixture("orders-create-web")));
    // A worker claims the batch and dies with it.
    expect(
      await claimDue(prismaSql(db.prisma), await soleDestination(db.prisma, shop), 1000, 1_000, new Date(clock)),
    ).toHaveLength(1);
    await pauseDestination(
      db.prisma,
      await soleDestination(db.prisma, shop),
      "token_invalid",
      "Meta refused the token",
      new Date(clock),
    );
    await flushShop(workerOptions(), shop);
    expect(await countByState(db.prisma, shop)).toEqual({ sending: 1 }); // still leased
    clock += 1_001;
    await flushShop(workerOptions(), shop);
    expect(await countByState(db.prisma, shop)).toEqual({ paused: 1 });
  });

  it("light traffic waits for the batching window, then goes in one request", async () => {
    const shop = "window.myshopify.com";
    await connect(shop, "1000000016");
    const order = fixture("orders-create-web");
    for (let i = 0; i < 3; i++) await ingest(webhook(shop, "orders/create", { ...order, id: 8_800_000 + i }));
    const windowed = { ...workerOptions(), batchWindowMs: 1_000 };
    expect((await flushShop(windowed, shop)).claimed).toBe(0);
    clock += 999;
    expect((await flushShop(windowed, shop)).claimed).toBe(0);
    clock += 1;
    expect(await flushShop(windowed, shop)).toMatchObject({ claimed: 3, requests: 1, delivered: 3 });
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 3 });
  });

  it("a batch with one invalid event delivers the others; the bad one is rejected with Meta's reason", async () => {
    const shop = "poison.myshopify.com";
    await connect(shop, "1000000006");
    for (const name of [
      "orders-create-web",
      "orders-create-pos",
      "orders-create-france",
      "orders-create-international",
      "orders-create-no-customer",
    ]) {
      await ingest(webhook(shop, "orders/create", fixture(name)));
    }
    // An event that slipped past our validation (as if built by an older release): raw email.
    const bad = { ...((await db.prisma.event.findFirstOrThrow({ where: { shop } })).payload as any) };
    await insertEvent(
      db.prisma,
      {
        shop,
        topic: "orders/create",
        state: "queued",
        destinationId: (await soleDestination(db.prisma, shop)).id,
        pixelId: "1000000006",
        event: { ...bad, event_id: "bad-1", user_data: { ...bad.user_data, em: "jane@example.com" } },
      },
      new Date(clock),
    );
    const report = await flushShop(workerOptions(), shop);
    expect(report.delivered).toBe(5);
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 5, rejected: 1 });
    const rejected = await db.prisma.event.findFirstOrThrow({ where: { shop, state: "rejected" } });
    expect(rejected.eventId).toBe("bad-1");
    expect(rejected.reason).toMatch(/Meta error 100/);
    expect(meta.unique("1000000006")).toHaveLength(5);
  });
});

describe("shops are isolated", () => {
  it("neither shop reads or changes the other's destination or events", async () => {
    await connect("a.myshopify.com", "2000000001", "EAAtoken-of-shop-a-0123456789");
    await connect("b.myshopify.com", "2000000002", "EAAtoken-of-shop-b-0123456789");
    await ingest(webhook("a.myshopify.com", "orders/create", fixture("orders-create-web")));
    await ingest(webhook("b.myshopify.com", "orders/create", fixture("orders-create-web")));
    // The same order id in two shops is two conversions, each to its own pixel.
    await flushShop(workerOptions(), "a.myshopify.com");
    expect(meta.accepted("2000000001")).toHaveLength(1);
    expect(meta.accepted("2000000002")).toHaveLength(0);
    expect(await countByState(db.prisma, "b.myshopify.com")).toEqual({ queued: 1 });
    expect(
      (await openDestination(db.prisma, await soleDestination(db.prisma, "a.myshopify.com"), key))!.accessToken,
    ).toBe("EAAtoken-of-shop-a-0123456789");
    await flushShop(workerOptions(), "b.myshopify.com");
    expect(meta.accepted("2000000002")).toHaveLength(1);
  });
});

describe("uninstall, then install again", () => {
  it("the events the uninstall paused (and those that came after it) are delivered once the app is installed again", async () => {
    const shop = "reinstall.myshopify.com";
    await connect(shop, "1000000020");
    await db.prisma.shop.update({
      where: { shop },
      data: { webPixelId: "gid://shopify/WebPixel/1", webPixelStatus: "active", webPixelSyncedAt: new Date(clock) },
    });
    await ingest(webhook(shop, "orders/create", fixture("orders-create-web")));
    await handleUninstalled(db.prisma, shop, new Date(clock));
    // An order Shopify had triggered before the uninstall, delivered after it.
    expect((await ingest(webhook(shop, "orders/create", fixture("orders-create-pos")))).outcome).toBe("paused");
    await flushShop(workerOptions(), shop);
    expect(await countByState(db.prisma, shop)).toEqual({ paused: 2 });
    expect(meta.accepted("1000000020")).toHaveLength(0);

    clock += 3_600_000;
    expect(await handleInstalled(db.prisma, shop, new Date(clock))).toBe("installed: 2 paused event(s) resumed");
    // Shopify removed the storefront pixel with the app: the next admin load makes it again.
    expect(await db.prisma.shop.findUniqueOrThrow({ where: { shop } })).toMatchObject({
      uninstalledAt: null,
      installedAt: new Date(clock),
      webPixelStatus: null,
      webPixelSyncedAt: null,
    });
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, shop), key))!.pausedAt).toBeNull();
    await flushShop(workerOptions(), shop);
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 2 });
    expect(meta.unique("1000000020")).toHaveLength(2);
    const history = await db.prisma.eventTransition.findMany({
      where: { event: { shop } },
      orderBy: { id: "asc" },
      select: { state: true, detail: true },
    });
    expect(history).toContainEqual({ state: "queued", detail: "app installed again: resumed" });
  });

  it("an install leaves a pause of another cause alone (a revoked token stays paused until it is replaced)", async () => {
    const shop = "reinstall-revoked.myshopify.com";
    await connect(shop, "1000000021");
    await pauseDestination(
      db.prisma,
      await soleDestination(db.prisma, shop),
      "token_invalid",
      "Meta refused the token",
      new Date(clock),
    );
    forgetShopContext(shop);
    await ingest(webhook(shop, "orders/create", fixture("orders-create-web")));
    expect(await handleInstalled(db.prisma, shop, new Date(clock))).toBe("installed: 0 paused event(s) resumed");
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, shop), key))!.pauseReason).toBe(
      "token_invalid",
    );
    expect(await countByState(db.prisma, shop)).toEqual({ paused: 1 });
  });

  it("saving the same pixel and token on a destination the uninstall paused resumes it", async () => {
    const shop = "reinstall-save.myshopify.com";
    await connect(shop, "1000000022");
    await ingest(webhook(shop, "orders/create", fixture("orders-create-web")));
    await handleUninstalled(db.prisma, shop, new Date(clock));
    await connect(shop, "1000000022");
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, shop), key))!.pausedAt).toBeNull();
    await flushShop(workerOptions(), shop);
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 1 });
  });
});
