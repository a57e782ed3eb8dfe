// ENCRYPTION_KEY changed under a running installation, against the real PostgreSQL and Redis:
// a token no key opens pauses the pixel with words for the merchant (no retry loop), pasting
// the token again resumes it; during a rotation the previous key still opens, and
// resealDestinationTokens moves every token to the current key.
import { soleDestination } from "../../test/support/destinations";
import { createCipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { waitFor } from "../../test/support/wait";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../../test/support/services";
import { isSealedUnderCurrentKey } from "../security/token-vault";
import {
  openDestination,
  resealDestinationTokens,
  saveDestination,
  UNREADABLE_TOKEN_MESSAGE,
  UNREADABLE_TOKEN_REASON,
} from "./destinations.server";
import { countByState, shopsWithDueEvents } from "./event-store.server";
import { forgetShopContext, ingestWebhook } from "./ingest.server";
import { createDeliveryQueue, type DeliveryQueue } from "./queue.server";
import { flushShop, startWorker } from "./worker.server";

const FIXTURES = path.resolve(__dirname, "../../test/fixtures/shopify");
const fixture = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), "utf8"));
// 2026-11-21T12:00:00Z, a day after the fixtures' orders.
const T0 = 1_795_262_400_000;
const keyA = randomBytes(32);
const keyB = randomBytes(32);
const TOKEN = "EAAvaultkeys-0123456789abcdef";

let db: TestDatabase;
let meta: MetaSandbox;
let queue: DeliveryQueue;
let n = 0;

const ingest = (shop: string, name: string) =>
  ingestWebhook(
    { prisma: db.prisma, queue },
    { shop, topic: "orders/create", webhookId: `vk-${++n}`, eventId: `vk-ev-${n}`, payload: fixture(name) },
    new Date(T0),
  );
const flush = (shop: string, vaultKey: Parameters<typeof flushShop>[0]["vaultKey"]) =>
  flushShop(
    {
      prisma: db.prisma,
      redisUrl: REDIS_URL,
      graphUrl: meta.url,
      vaultKey,
      now: () => T0,
      random: () => 0.5,
      queue,
      batchWindowMs: 0,
    },
    shop,
  );

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox({ now: () => T0 });
  queue = createDeliveryQueue(REDIS_URL, uniquePrefix());
});
afterAll(async () => {
  await queue?.close();
  await meta?.close();
  await db?.drop();
});
beforeEach(() => meta.reset());

describe("a token the current key cannot open", () => {
  it("pauses the pixel with a reason the merchant sees, without a retry loop; pasting the token again delivers", async () => {
    const shop = "key-changed.myshopify.com";
    const pixel = "4000000001";
    await saveDestination(db.prisma, shop, { pixelId: pixel, accessToken: TOKEN }, keyA, new Date(T0));
    forgetShopContext(shop);
    await ingest(shop, "orders-create-web");
    await ingest(shop, "orders-create-pos");
    expect(await countByState(db.prisma, shop)).toEqual({ queued: 2 });

    // A real worker, restarted with key B, sweeping every 100 ms.
    const lines: string[] = [];
    const prefix = uniquePrefix();
    const worker = startWorker({
      prisma: db.prisma,
      redisUrl: REDIS_URL,
      graphUrl: meta.url,
      vaultKey: keyB,
      queuePrefix: prefix,
      sweepEveryMs: 100,
      now: () => T0,
      batchWindowMs: 0,
      log: (l) => lines.push(l),
    });
    try {
      await waitFor(async () => (await countByState(db.prisma, shop)).paused === 2, 10_000, "the events to be paused");
      const pausedAt = (await db.prisma.destination.findFirstOrThrow({ where: { shop } })).pausedAt;
      const transitions = await db.prisma.eventTransition.count({ where: { event: { shop } } });
      // Ten more sweeps: nothing is retried, nothing fails, nothing changes.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(lines.filter((l) => l.includes(shop))).toEqual([
        `paused ${shop} pixel ${pixel}: ${UNREADABLE_TOKEN_REASON}`,
      ]);
      expect(lines.filter((l) => /failed/.test(l))).toEqual([]);
      expect(await db.prisma.eventTransition.count({ where: { event: { shop } } })).toBe(transitions);
      expect((await db.prisma.destination.findFirstOrThrow({ where: { shop } })).pausedAt).toEqual(pausedAt);
      expect(await shopsWithDueEvents(db.prisma, new Date(T0))).not.toContain(shop);
    } finally {
      await worker.close();
    }

    const destination = await db.prisma.destination.findFirstOrThrow({ where: { shop } });
    expect(destination).toMatchObject({ pauseReason: UNREADABLE_TOKEN_REASON, pauseMessage: UNREADABLE_TOKEN_MESSAGE });
    expect(destination.pauseMessage).toMatch(
      /can no longer be read by the app \(the encryption key changed\)\. Reconnect/,
    );
    const events = await db.prisma.event.findMany({ where: { shop } });
    expect(events.map((e) => [e.state, e.reasonCode, e.reason])).toEqual([
      ["paused", "pixel_paused", UNREADABLE_TOKEN_REASON],
      ["paused", "pixel_paused", UNREADABLE_TOKEN_REASON],
    ]);
    // Orders arriving meanwhile wait with the others.
    forgetShopContext(shop);
    expect((await ingest(shop, "orders-create-france")).outcome).toBe("paused");
    expect(await flush(shop, keyB)).toMatchObject({ claimed: 0 });
    expect(meta.accepted(pixel)).toHaveLength(0);

    // The merchant pastes the same token again: sealed under key B, the pause lifts.
    await saveDestination(db.prisma, shop, { pixelId: pixel, accessToken: TOKEN }, keyB, new Date(T0));
    expect((await db.prisma.destination.findFirstOrThrow({ where: { shop } })).pausedAt).toBeNull();
    expect(await flush(shop, keyB)).toMatchObject({ delivered: 3 });
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 3 });
    expect(meta.unique(pixel)).toHaveLength(3);
  });

  it("the right key back: the pixel resumes without the merchant pasting the token, and its events are delivered", async () => {
    const shop = "key-restored.myshopify.com";
    const pixel = "4000000003";
    await saveDestination(db.prisma, shop, { pixelId: pixel, accessToken: TOKEN }, keyA, new Date(T0));
    forgetShopContext(shop);
    await ingest(shop, "orders-create-web");
    const run = async (vaultKey: Buffer, until: () => Promise<boolean>, what: string) => {
      const lines: string[] = [];
      const worker = startWorker({
        prisma: db.prisma,
        redisUrl: REDIS_URL,
        graphUrl: meta.url,
        vaultKey,
        queuePrefix: uniquePrefix(),
        sweepEveryMs: 100,
        now: () => T0,
        batchWindowMs: 0,
        log: (l) => lines.push(l),
      });
      try {
        await waitFor(until, 10_000, what);
      } finally {
        await worker.close();
      }
      return lines.filter((l) => l.includes(shop));
    };
    // Deployed with the wrong key: paused with the merchant's words.
    expect(
      await run(keyB, async () => (await countByState(db.prisma, shop)).paused === 1, "the event to be paused"),
    ).toEqual([`paused ${shop} pixel ${pixel}: ${UNREADABLE_TOKEN_REASON}`]);
    // The operator puts key A back: the next sweep opens the token and lifts the pause.
    const lines = await run(
      keyA,
      async () => (await countByState(db.prisma, shop)).sent === 1,
      "the event to be delivered",
    );
    expect(lines).toContain(`resumed ${shop}: its access token can be read again`);
    expect(await db.prisma.destination.findFirstOrThrow({ where: { shop } })).toMatchObject({
      pausedAt: null,
      pauseReason: null,
    });
    expect(meta.unique(pixel)).toHaveLength(1);
  });

  it("a token moved to another shop's row does not open there, and pauses that shop", async () => {
    await saveDestination(
      db.prisma,
      "victim.myshopify.com",
      { pixelId: "4000000002", accessToken: "EAAvictim-0123456789abcdef" },
      keyA,
    );
    await saveDestination(
      db.prisma,
      "thief.myshopify.com",
      { pixelId: "4000000003", accessToken: "EAAthief-0123456789abcdef" },
      keyA,
    );
    const victim = await db.prisma.destination.findFirstOrThrow({ where: { shop: "victim.myshopify.com" } });
    await db.prisma.destination.updateMany({
      where: { shop: "thief.myshopify.com" },
      data: { accessTokenEnc: victim.accessTokenEnc },
    });
    await expect(
      openDestination(db.prisma, await soleDestination(db.prisma, "thief.myshopify.com"), keyA),
    ).rejects.toThrow(/cannot be decrypted/);
    await flush("thief.myshopify.com", keyA);
    expect((await db.prisma.destination.findFirstOrThrow({ where: { shop: "thief.myshopify.com" } })).pauseReason).toBe(
      UNREADABLE_TOKEN_REASON,
    );
    // Gone, so that the rotation below finds only tokens it can open.
    await db.prisma.destination.deleteMany({ where: { shop: "thief.myshopify.com" } });
  });
});

describe("rotating the key", () => {
  it("the previous key keeps delivering; resealing moves every token (v1 ones too) to the current key, once", async () => {
    const shop = "rotate.myshopify.com";
    const pixel = "4000000004";
    await saveDestination(db.prisma, shop, { pixelId: pixel, accessToken: TOKEN }, keyA, new Date(T0));
    // A second shop as the old vault sealed it: v1, no key id, no AAD.
    const legacy = "legacy.myshopify.com";
    await saveDestination(
      db.prisma,
      legacy,
      { pixelId: "4000000005", accessToken: "EAAlegacy-0123456789abcdef" },
      keyA,
    );
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", keyA, iv);
    const ct = Buffer.concat([cipher.update("EAAlegacy-0123456789abcdef", "utf8"), cipher.final()]);
    const v1 = [
      "v1",
      iv.toString("base64url"),
      cipher.getAuthTag().toString("base64url"),
      ct.toString("base64url"),
    ].join(".");
    await db.prisma.destination.updateMany({ where: { shop: legacy }, data: { accessTokenEnc: v1 } });
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, legacy), keyA))!.accessToken).toBe(
      "EAAlegacy-0123456789abcdef",
    );

    const rotating = { current: keyB, previous: keyA };
    forgetShopContext(shop);
    await ingest(shop, "orders-create-web");
    expect(await flush(shop, rotating)).toMatchObject({ delivered: 1 });

    const first = await resealDestinationTokens(db.prisma, rotating);
    expect(first.unreadable).toBe(0);
    expect(first.resealed).toBeGreaterThanOrEqual(2);
    const again = await resealDestinationTokens(db.prisma, rotating);
    expect(again).toMatchObject({ resealed: 0, unreadable: 0, current: first.resealed + first.current });
    for (const row of await db.prisma.destination.findMany({ where: { shop: { in: [shop, legacy] } } })) {
      expect(isSealedUnderCurrentKey(row.accessTokenEnc, keyB)).toBe(true);
    }
    // With the previous key gone, both still open.
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, shop), keyB))!.accessToken).toBe(TOKEN);
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, legacy), keyB))!.accessToken).toBe(
      "EAAlegacy-0123456789abcdef",
    );
  });
});
