// The web pixel against a Shopify stand-in that keeps one web pixel per shop and answers
// webPixelCreate / webPixelUpdate / webPixel as the Admin API does (userErrors, top-level
// ACCESS_DENIED), with the outcome recorded in the real PostgreSQL of this machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import type { AdminGraphql } from "./admin-graphql";
import { fakeShopify } from "./web-pixel.fake";
import { activateWebPixel, ensureWebPixel, syncWebPixel } from "./web-pixel.server";
import { WEB_PIXEL_RETRY_MS } from "./web-pixel";

const GRANTED = "read_orders,write_pixels,read_customer_events";
const NOW = new Date("2026-11-24T12:00:00Z");
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function connect(shop: string, pixelId = "123456789012345") {
  await db.prisma.shop.upsert({ where: { shop }, create: { shop }, update: {} });
  // One pixel per shop here: the web pixel's settings carry the shop's pixel ids.
  await db.prisma.destination.deleteMany({ where: { shop } });
  await db.prisma.destination.create({
    data: { id: crypto.randomUUID(), shop, pixelId, accessTokenEnc: "sealed", tokenFingerprint: "fp" },
  });
}

describe("syncWebPixel", () => {
  it("creates the pixel with the Meta pixel ID as its settings", async () => {
    const shopify = fakeShopify();
    expect(await syncWebPixel({ graphql: shopify, grantedScopes: GRANTED }, null, "123456789012345")).toEqual({
      status: "active",
      webPixelId: "gid://shopify/WebPixel/1",
      pixelId: "123456789012345",
      action: "created",
    });
    expect(JSON.parse(shopify.pixel!.settings)).toEqual({ pixelIds: "123456789012345" });
  });

  it("updates a known pixel, and creates it again when Shopify no longer has it", async () => {
    const shopify = fakeShopify({ id: "gid://shopify/WebPixel/9", settings: '{"pixelIds":"111111"}' });
    expect(await syncWebPixel({ graphql: shopify }, "gid://shopify/WebPixel/9", "222222")).toMatchObject({
      status: "active",
      action: "updated",
      webPixelId: "gid://shopify/WebPixel/9",
    });
    expect(shopify.pixel!.settings).toBe('{"pixelIds":"222222"}');

    shopify.pixel = null; // the app was uninstalled, and Shopify removed its pixel
    expect(await syncWebPixel({ graphql: shopify }, "gid://shopify/WebPixel/9", "222222")).toMatchObject({
      status: "active",
      action: "created",
      webPixelId: "gid://shopify/WebPixel/1",
    });
    expect(shopify.calls).toEqual(["webPixelUpdate", "webPixelUpdate", "webPixelCreate"]);
  });

  it("takes over a pixel that exists but is recorded nowhere (TAKEN)", async () => {
    const shopify = fakeShopify({ id: "gid://shopify/WebPixel/5", settings: '{"pixelIds":"111111"}' });
    expect(await syncWebPixel({ graphql: shopify }, null, "333333")).toMatchObject({
      status: "active",
      webPixelId: "gid://shopify/WebPixel/5",
      action: "updated",
    });
    expect(shopify.calls).toEqual(["webPixelCreate", "webPixel", "webPixelUpdate"]);
    expect(shopify.pixel!.settings).toBe('{"pixelIds":"333333"}');

    // Already carrying the right pixel ID: nothing to update.
    const same = fakeShopify({ id: "gid://shopify/WebPixel/6", settings: '{"pixelIds":"333333"}' });
    expect(await syncWebPixel({ graphql: same }, null, "333333")).toMatchObject({
      status: "active",
      webPixelId: "gid://shopify/WebPixel/6",
    });
    expect(same.calls).toEqual(["webPixelCreate", "webPixel"]);
  });

  it("says plainly why not: missing scopes (without calling Shopify), a refusal, no answer", async () => {
    const shopify = fakeShopify();
    const noScopes = await syncWebPixel({ graphql: shopify, grantedScopes: "read_orders" }, null, "123456");
    expect(noScopes).toMatchObject({
      status: "failed",
      message: expect.stringContaining("write_pixels and read_customer_events permissions"),
    });
    expect(shopify.calls).toEqual([]);

    shopify.deny = true;
    const denied = await syncWebPixel({ graphql: shopify, grantedScopes: GRANTED }, null, "123456");
    expect(denied).toMatchObject({
      status: "failed",
      message: expect.stringContaining("Access denied for webPixelCreate field."),
    });

    shopify.deny = false;
    shopify.unreachable = true;
    expect(await syncWebPixel({ graphql: shopify }, null, "123456")).toMatchObject({
      status: "failed",
      message: expect.stringContaining("could not be reached"),
    });

    expect(await syncWebPixel({ graphql: fakeShopify() }, null, "not-a-pixel")).toMatchObject({
      status: "failed",
      message: expect.stringContaining("is not a list of Meta pixel IDs"),
    });
  });

  it("reports Shopify's userErrors in the merchant's words", async () => {
    const refusing: AdminGraphql = async () => ({
      data: {
        webPixelCreate: {
          userErrors: [{ code: "NO_EXTENSION", field: null, message: "No extension found." }],
          webPixel: null,
        },
      },
    });
    expect(await syncWebPixel({ graphql: refusing }, null, "123456")).toEqual({
      status: "failed",
      message: expect.stringMatching(/no usable web pixel extension.*“No extension found\.”/),
    });
  });
});

describe("activateWebPixel and ensureWebPixel", () => {
  it("records the pixel on the shop, follows a changed pixel ID, and leaves Shopify alone when nothing changed", async () => {
    const shop = "pixel-a.myshopify.com";
    const shopify = fakeShopify();
    const access = { graphql: shopify, grantedScopes: GRANTED };
    // No destination: nothing to put in the settings, no call.
    expect(await ensureWebPixel(db.prisma, access, shop, NOW)).toEqual({
      status: "none",
      pixelId: null,
      message: null,
      syncedAt: null,
    });
    expect(shopify.calls).toEqual([]);

    // First admin load with a destination (connected from the CLI, say): created.
    await connect(shop, "123456789012345");
    expect(await ensureWebPixel(db.prisma, access, shop, NOW)).toEqual({
      status: "active",
      pixelId: "123456789012345",
      message: null,
      syncedAt: NOW.toISOString(),
    });
    const row = await db.prisma.shop.findUniqueOrThrow({ where: { shop } });
    expect(row).toMatchObject({
      webPixelId: "gid://shopify/WebPixel/1",
      webPixelPixelId: "123456789012345",
      webPixelStatus: "active",
    });

    // Later loads read the record.
    await ensureWebPixel(db.prisma, access, shop, new Date(NOW.getTime() + 60_000));
    expect(shopify.calls).toEqual(["webPixelCreate"]);

    // The merchant saves another pixel: updated in place.
    await connect(shop, "999999999999");
    expect(await activateWebPixel(db.prisma, access, shop, NOW)).toMatchObject({
      status: "active",
      action: "updated",
    });
    expect(shopify.pixel).toEqual({ id: "gid://shopify/WebPixel/1", settings: '{"pixelIds":"999999999999"}' });
    expect(shopify.calls).toEqual(["webPixelCreate", "webPixelUpdate"]);
  });

  it("keeps a failure on record for the page, retries it on a later load, and recreates the pixel after a reinstall", async () => {
    const shop = "pixel-b.myshopify.com";
    const shopify = fakeShopify();
    await connect(shop);
    shopify.deny = true;
    const failed = await activateWebPixel(db.prisma, { graphql: shopify, grantedScopes: GRANTED }, shop, NOW);
    expect(failed.status).toBe("failed");
    const view = await ensureWebPixel(db.prisma, { graphql: shopify }, shop, new Date(NOW.getTime() + 1_000));
    expect(view).toMatchObject({
      status: "failed",
      message: expect.stringContaining("Approve the app's updated permissions"),
    });
    expect(shopify.calls).toEqual(["webPixelCreate"]);

    // The merchant approved the permissions; the next load a while later turns the pixel on.
    shopify.deny = false;
    const later = new Date(NOW.getTime() + WEB_PIXEL_RETRY_MS + 1_000);
    expect(await ensureWebPixel(db.prisma, { graphql: shopify }, shop, later)).toMatchObject({
      status: "active",
      message: null,
    });

    // Uninstalled (Shopify drops the pixel), reinstalled: the first load creates it again.
    shopify.pixel = null;
    await db.prisma.shop.update({ where: { shop }, data: { uninstalledAt: new Date(later.getTime() + 1_000) } });
    const reopened = new Date(later.getTime() + 3_600_000);
    expect(await ensureWebPixel(db.prisma, { graphql: shopify }, shop, reopened)).toMatchObject({
      status: "active",
      syncedAt: reopened.toISOString(),
    });
    expect(shopify.calls.slice(-2)).toEqual(["webPixelUpdate", "webPixelCreate"]);
    expect(
      await ensureWebPixel(db.prisma, { graphql: shopify }, shop, new Date(reopened.getTime() + 1_000)),
    ).toMatchObject({ status: "active" });
    expect(shopify.calls).toHaveLength(4);
  });
});
