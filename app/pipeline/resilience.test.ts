// The pipeline surviving the failures that matter, on real processes: a worker SIGKILLed with
// a batch in flight, and Redis restarted while webhooks keep coming.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { waitFor } from "../../test/support/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { shopifyFixture } from "../../test/support/fixtures";
import {
  createTestDatabase,
  freePort,
  OwnRedis,
  REDIS_URL,
  uniquePrefix,
  type TestDatabase,
} from "../../test/support/services";
import { saveDestination } from "./destinations.server";
import { countByState } from "./event-store.server";
import { forgetShopContext, ingestWebhook } from "./ingest.server";
import { createDeliveryQueue } from "./queue.server";
import { flushShop, startWorker } from "./worker.server";

const ROOT = path.resolve(__dirname, "../..");
const key = randomBytes(32);

let db: TestDatabase;
let meta: MetaSandbox;

/** n distinct orders placed a minute ago. */
function orders(n: number, offset = 0) {
  const order = shopifyFixture("orders-create-web", { ageSeconds: 60 });
  return Array.from({ length: n }, (_, i) => ({ ...order, id: 7_000_000_000 + offset + i }));
}

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox();
});
afterAll(async () => {
  await meta?.close();
  await db?.drop();
});

describe("a worker killed mid-batch", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    try {
      if (child?.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  });

  it("loses nothing: another worker finishes the batch, and Meta keeps each event once", async () => {
    const shop = "killed.myshopify.com";
    const prefix = uniquePrefix();
    await saveDestination(db.prisma, shop, { pixelId: "3000000001", accessToken: "EAAkilltest-0123456789abcdef" }, key);
    const queue = createDeliveryQueue(REDIS_URL, prefix);
    for (const [i, o] of orders(40).entries()) {
      await ingestWebhook(
        { prisma: db.prisma, queue },
        { shop, topic: "orders/create", webhookId: `k-${i}`, payload: o },
      );
    }
    await queue.close();
    meta.setFault({ mode: "latency", ms: 60_000 });
    child = spawn(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "server/worker.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        META_GRAPH_URL: meta.url,
        ENCRYPTION_KEY: key.toString("hex"),
        WORKER_LEASE_MS: "2000",
        NODE_ENV: "development",
      },
      stdio: "ignore",
      // Its own process group: tsx runs the worker in a child, and SIGKILL must reach both.
      detached: true,
    });
    // The batch is in flight once Meta's stand-in holds the request.
    await waitFor(async () => (await countByState(db.prisma, shop)).sending === 40, 20_000, "the batch in flight");
    const exited = new Promise((r) => child!.once("exit", r));
    process.kill(-child.pid!, "SIGKILL");
    await exited;
    expect(meta.unique("3000000001")).toHaveLength(0);

    meta.setFault({ mode: "none" });
    // After the lease runs out, any worker takes the batch over.
    await new Promise((r) => setTimeout(r, 2_100));
    const report = await flushShop(
      { prisma: db.prisma, redisUrl: REDIS_URL, graphUrl: meta.url, vaultKey: key, batchWindowMs: 0 },
      shop,
    );
    expect(report.delivered).toBe(40);
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 40 });
    expect(meta.unique("3000000001")).toHaveLength(40);
  });
});

describe("Redis restarted during ingest", () => {
  it("webhooks are still answered and stored; delivery resumes when Redis returns", async () => {
    const shop = "redis-restart.myshopify.com";
    const redis = new OwnRedis(await freePort());
    await redis.start();
    await saveDestination(
      db.prisma,
      shop,
      { pixelId: "3000000002", accessToken: "EAAredistest-0123456789abcdef" },
      key,
    );
    forgetShopContext(shop);
    const prefix = uniquePrefix();
    const queue = createDeliveryQueue(redis.url, prefix);
    const worker = startWorker({
      prisma: db.prisma,
      redisUrl: redis.url,
      graphUrl: meta.url,
      vaultKey: key,
      queuePrefix: prefix,
      sweepEveryMs: 200,
    });
    try {
      const batch = orders(30, 1000);
      for (const [i, o] of batch.entries()) {
        if (i === 10) await redis.stop();
        const started = Date.now();
        const result = await ingestWebhook(
          { prisma: db.prisma, queue },
          { shop, topic: "orders/create", webhookId: `r-${i}`, payload: o },
        );
        expect(result.outcome).toBe("queued");
        // Shopify gives 5 s; a Redis outage must not eat them.
        expect(Date.now() - started).toBeLessThan(1_500);
      }
      await redis.start();
      await waitFor(async () => (await countByState(db.prisma, shop)).sent === 30, 30_000, "all 30 delivered");
      expect(meta.unique("3000000002")).toHaveLength(30);
    } finally {
      await worker.close();
      await queue.close();
      await redis.stop();
    }
  });
});
