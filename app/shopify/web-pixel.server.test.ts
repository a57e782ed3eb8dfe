// The web pixel against a Shopify stand-in that keeps one web pixel per shop and answers
// webPixelCreate / webPixelUpdate / webPixel as the Admin API does (userErrors, top-level
// ACCESS_DENIED), with the outcome recorded in the real PostgreSQL of this machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import type { AdminGraphql } from "./admin-graphql";
import { fakeShopify } from "./web-pixel.fake";
import { activateWebPixel, ensureWebPixel, syncPixelIdsMetafield, syncWebPixel } from "./web-pixel.server";
import { WEB_PIXEL_RETRY_MS, webPixelSettings, webPixelSettingsFor } from "./web-pixel";
import { DEFAULT_SETTINGS } from "../events/settings";

/** What the app writes for pixels that receive every event, with the default settings. */
const written = (pixelIds: string) =>
  webPixelSettings(
    webPixelSettingsFor(
      pixelIds.split(",").map((pixelId) => ({ pixelId, events: ["Purchase", "InitiateCheckout"] })),
      DEFAULT_SETTINGS,
    ),
  );

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
      settings: written("123456789012345"),
    });
    expect(JSON.parse(shopify.pixel!.settings)).toMatchObject({ pixelIds: "123456789012345" });
    expect(shopify.pixel!.settings).toBe(written("123456789012345"));
  });

  it("updates a known pixel, and creates it again when Shopify no longer has it", async () => {
    const shopify = fakeShopify({ id: "gid://shopify/WebPixel/9", settings: '{"pixelIds":"111111"}' });
    expect(await syncWebPixel({ graphql: shopify }, "gid://shopify/WebPixel/9", "222222")).toMatchObject({
      status: "active",
      action: "updated",
      webPixelId: "gid://shopify/WebPixel/9",
    });
    expect(shopify.pixel!.settings).toBe(written("222222"));

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
    expect(shopify.pixel!.settings).toBe(written("333333"));

    // Already carrying the right settings: nothing to update.
    const same = fakeShopify({ id: "gid://shopify/WebPixel/6", settings: written("333333") });
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
    expect(shopify.pixel?.id).toBe("gid://shopify/WebPixel/1");
    // With the shop's own report URL (deduplication health), its token the shop's.
    const settings = JSON.parse(shopify.pixel!.settings) as { pixelIds: string; firedIdsUrl: string };
    expect(settings.pixelIds).toBe("999999999999");
    const { firedIdsUrl } = await import("../pipeline/fired-ids");
    const { env } = await import("../config/env.server");
    expect(settings.firedIdsUrl).toBe(firedIdsUrl(env().SHOPIFY_APP_URL, env().SHOPIFY_API_SECRET, shop));
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

describe("one list of pixel ids for the storefront", () => {
  async function destination(shop: string, pixelId: string, events: string[], createdAt: Date) {
    await db.prisma.destination.create({
      data: {
        id: crypto.randomUUID(),
        shop,
        pixelId,
        events,
        accessTokenEnc: "sealed",
        tokenFingerprint: "fp",
        createdAt,
      },
    });
  }

  it("writes every destination's pixel id to the app-owned metafield the embed reads, with the web pixel's settings", async () => {
    const shop = "pixel-list.myshopify.com";
    const shopify = fakeShopify();
    const access = { graphql: shopify, grantedScopes: GRANTED };
    await db.prisma.shop.create({ data: { shop } });
    const start = Date.now();
    await destination(shop, "111111111111", ["Purchase"], new Date(start - 2_000));
    await destination(shop, "222222222222", ["Purchase", "InitiateCheckout"], new Date(start - 1_000));

    expect(await activateWebPixel(db.prisma, access, shop, NOW)).toMatchObject({ status: "active" });
    expect(shopify.metafieldCalls).toEqual(["currentAppInstallation", "metafieldsSet"]);
    // Oldest first, the web pixel's own format: one parser reads both.
    expect(shopify.metafields.get("capi_relay.pixel_ids")).toEqual({
      value: "111111111111,222222222222",
      type: "single_line_text_field",
    });
    expect(JSON.parse(shopify.pixel!.settings)).toMatchObject({
      pixelIds: "111111111111,222222222222",
      purchasePixelIds: "111111111111,222222222222",
      checkoutPixelIds: "222222222222",
    });
    const row = await db.prisma.shop.findUniqueOrThrow({ where: { shop } });
    expect(row.webPixelSettings).toBe(shopify.pixel!.settings);

    // The last destination removed: the list goes with it, and so does the web pixel, which
    // would otherwise keep firing the removed pixel.
    await db.prisma.destination.deleteMany({ where: { shop } });
    expect(await activateWebPixel(db.prisma, access, shop, NOW)).toEqual({ status: "removed" });
    expect(shopify.metafields.has("capi_relay.pixel_ids")).toBe(false);
    expect(shopify.metafieldCalls.slice(-2)).toEqual(["currentAppInstallation", "metafieldsDelete"]);
    expect(shopify.pixel).toBeNull();
    expect(shopify.calls.at(-1)).toBe("webPixelDelete");
    expect(await ensureWebPixel(db.prisma, access, shop, NOW)).toMatchObject({ status: "none", message: null });

    // A pixel connected again: the storefront comes back.
    await destination(shop, "222222222222", ["Purchase"], new Date());
    expect(await activateWebPixel(db.prisma, access, shop, NOW)).toMatchObject({ status: "active", action: "created" });
    expect(shopify.metafields.get("capi_relay.pixel_ids")?.value).toBe("222222222222");
  });

  it("follows the shop's settings on the next admin load, and says so when Shopify refuses the metafield", async () => {
    const shop = "pixel-settings.myshopify.com";
    const shopify = fakeShopify();
    const access = { graphql: shopify, grantedScopes: GRANTED };
    await connect(shop, "333333333333");
    await ensureWebPixel(db.prisma, access, shop, NOW);
    expect(JSON.parse(shopify.pixel!.settings)).toMatchObject({ valueMode: "total", contentIdSource: "variant" });
    const calls = shopify.calls.length;

    // Nothing changed: nothing called.
    await ensureWebPixel(db.prisma, access, shop, new Date(NOW.getTime() + 1_000));
    expect(shopify.calls).toHaveLength(calls);

    // Settings saved elsewhere (the CLI, an older admin): the next load writes them.
    await db.prisma.shop.update({
      where: { shop },
      data: { settings: { valueMode: "subtotal", contentIdSource: "sku", sources: { web: "skip" } } },
    });
    await ensureWebPixel(db.prisma, access, shop, new Date(NOW.getTime() + 2_000));
    expect(JSON.parse(shopify.pixel!.settings)).toMatchObject({
      valueMode: "subtotal",
      contentIdSource: "sku",
      sendOnlineStore: "false",
    });

    shopify.refuseMetafields = true;
    await connect(shop, "444444444444");
    const refused = await activateWebPixel(db.prisma, access, shop, NOW);
    expect(refused).toMatchObject({
      status: "failed",
      message: expect.stringContaining("The theme app embed's pixel list could not be saved"),
    });
    // The web pixel itself was updated; the failure makes the next load try both again.
    expect(JSON.parse(shopify.pixel!.settings)).toMatchObject({ pixelIds: "444444444444" });
    expect(shopify.metafields.get("capi_relay.pixel_ids")?.value).toBe("333333333333");
    shopify.refuseMetafields = false;
    const retried = await ensureWebPixel(db.prisma, access, shop, new Date(NOW.getTime() + WEB_PIXEL_RETRY_MS + 1));
    expect(retried).toMatchObject({ status: "active" });
    expect(shopify.metafields.get("capi_relay.pixel_ids")?.value).toBe("444444444444");
  });

  it("says in the merchant's words why the metafield was not written", async () => {
    const down: AdminGraphql = async () => {
      throw new Error("socket hang up");
    };
    expect(await syncPixelIdsMetafield({ graphql: down }, "123456")).toEqual({
      ok: false,
      message: expect.stringMatching(/pixel list could not be saved: Shopify did not answer \(socket hang up\)/),
    });
    const throttled: AdminGraphql = async () => ({
      errors: [{ message: "Throttled", extensions: { code: "THROTTLED" } }],
    });
    expect(await syncPixelIdsMetafield({ graphql: throttled }, "123456")).toEqual({
      ok: false,
      message: expect.stringContaining("Shopify said: “Throttled”"),
    });
    const shopify = fakeShopify();
    expect(await syncPixelIdsMetafield({ graphql: shopify }, "123456")).toEqual({ ok: true });
    expect(shopify.metafields.get("capi_relay.pixel_ids")?.value).toBe("123456");
  });
});
