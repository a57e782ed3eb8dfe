// Shopify's offline tokens in the real Session table: sealed at rest, plain in memory; older
// clear rows still load and are sealed on the next store or by resealSessionTokens.
import { randomBytes } from "node:crypto";
import { Session } from "@shopify/shopify-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { isSealedUnderCurrentKey, type VaultKeyInput } from "../security/token-vault";
import { loadOfflineSession, MigratedSessionStorage, resealSessionTokens } from "./session-storage.server";

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const ACCESS = "shpat_sessiontest0123456789abcdef";
const REFRESH = "shprt_sessiontest0123456789abcdef";

let db: TestDatabase;
// A fresh storage per read: its cache would otherwise answer instead of the table.
const storage = (keys: VaultKeyInput) => new MigratedSessionStorage(db, () => keys);
const offline = (shop: string, extra: Partial<Session> = {}) =>
  new Session({
    id: `offline_${shop}`,
    shop,
    state: "state",
    isOnline: false,
    scope: "read_orders",
    accessToken: ACCESS,
    ...extra,
  });

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("sealed Shopify sessions", () => {
  it("stores the tokens sealed and loads them plain; the caller's session is untouched", async () => {
    const shop = "sealed.myshopify.com";
    const session = offline(shop, {
      refreshToken: REFRESH,
      expires: new Date(Date.now() + 3600_000),
      refreshTokenExpires: new Date(Date.now() + 90 * 86_400_000),
    });
    expect(await storage(keyA).storeSession(session)).toBe(true);
    expect(session.accessToken).toBe(ACCESS);

    const row = await db.prisma.session.findUniqueOrThrow({ where: { id: session.id } });
    expect(row.accessToken).not.toContain(ACCESS);
    expect(row.refreshToken).not.toContain(REFRESH);
    expect(isSealedUnderCurrentKey(row.accessToken, keyA)).toBe(true);
    expect(JSON.stringify(row, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain("sessiontest");

    const loaded = await storage(keyA).loadSession(session.id);
    expect(loaded?.accessToken).toBe(ACCESS);
    expect(loaded?.isActive("read_orders")).toBe(true);
    // Shopify's library never sees the refresh token (it would renew on its own); the renewal reads it.
    expect(loaded?.refreshToken).toBeUndefined();
    expect((await loadOfflineSession(db.prisma, shop, keyA))?.session.refreshToken).toBe(REFRESH);
    expect((await storage(keyA).findSessionsByShop(shop)).map((s) => s.accessToken)).toEqual([ACCESS]);
    // During a rotation the previous key still opens it.
    expect((await storage({ current: keyB, previous: keyA }).loadSession(session.id))?.accessToken).toBe(ACCESS);
  });

  it("shows Shopify's library a non-expiring token as expired, so the merchant's next visit trades it", async () => {
    const shop = "non-expiring.myshopify.com";
    await storage(keyA).storeSession(offline(shop));
    const loaded = await storage(keyA).loadSession(`offline_${shop}`);
    expect(loaded?.accessToken).toBe(ACCESS);
    expect(loaded?.isActive("read_orders")).toBe(false);
    // The row itself is unchanged: the background renewal sees a token without expiry, to trade.
    expect((await loadOfflineSession(db.prisma, shop, keyA))?.session.expires).toBeUndefined();
    expect((await db.prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } })).expires).toBeNull();
    await db.prisma.session.delete({ where: { id: `offline_${shop}` } }); // the rotation below counts every row
  });

  it("loads a clear row as it is and seals it on the next store", async () => {
    const shop = "clear.myshopify.com";
    await db.prisma.session.create({ data: { id: `offline_${shop}`, shop, state: "s", accessToken: ACCESS } });
    expect((await storage(keyA).loadSession(`offline_${shop}`))?.accessToken).toBe(ACCESS);
    await storage(keyA).storeSession(offline(shop));
    expect((await db.prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } })).accessToken).not.toContain(
      ACCESS,
    );
  });

  it("a session no key opens, or one moved to another shop's row, counts as no session", async () => {
    await storage(keyA).storeSession(offline("owner.myshopify.com"));
    expect(await storage(keyB).loadSession("offline_owner.myshopify.com")).toBeUndefined();
    expect(await storage(keyB).findSessionsByShop("owner.myshopify.com")).toEqual([]);

    const sealed = (await db.prisma.session.findUniqueOrThrow({ where: { id: "offline_owner.myshopify.com" } }))
      .accessToken;
    await db.prisma.session.create({
      data: { id: "offline_other.myshopify.com", shop: "other.myshopify.com", state: "s", accessToken: sealed },
    });
    expect(await storage(keyA).loadSession("offline_other.myshopify.com")).toBeUndefined();
    await db.prisma.session.delete({ where: { id: "offline_other.myshopify.com" } });
  });

  it("resealSessionTokens seals clear rows and moves sealed ones to the current key, once", async () => {
    await db.prisma.session.create({
      data: {
        id: "offline_legacy.myshopify.com",
        shop: "legacy.myshopify.com",
        state: "s",
        accessToken: ACCESS,
        refreshToken: REFRESH,
      },
    });
    const rotating = { current: keyB, previous: keyA };
    const first = await resealSessionTokens(db.prisma, rotating);
    expect(first).toEqual({ resealed: 4, current: 0, unreadable: 0 });
    expect(await resealSessionTokens(db.prisma, rotating)).toEqual({ resealed: 0, current: 4, unreadable: 0 });
    for (const row of await db.prisma.session.findMany()) {
      expect(isSealedUnderCurrentKey(row.accessToken, keyB)).toBe(true);
      expect(row.accessToken).not.toContain(ACCESS);
    }
    const legacy = (await loadOfflineSession(db.prisma, "legacy.myshopify.com", keyB))?.session;
    expect([legacy?.accessToken, legacy?.refreshToken]).toEqual([ACCESS, REFRESH]);
  });
});
