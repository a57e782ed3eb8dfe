// The admin page's form posts: what is validated, what reaches saveDestination, and what the
// settings row becomes. Against the real PostgreSQL of this machine, in a database of its own.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { DEFAULT_SETTINGS, shopEventSettingsSchema } from "../events/settings";
import type { DestinationInput } from "../pipeline/destinations.server";
import { fakeShopify } from "../shopify/web-pixel.fake";
import { runAdminAction } from "./actions.server";

const SHOP = "actions.myshopify.com";
const OTHER = "other.myshopify.com";
const TOKEN = "EAAG" + "x".repeat(60);

let db: TestDatabase;
let saved: Array<{ shop: string; input: DestinationInput }> = [];
const fakeSave = async (_prisma: unknown, shop: string, input: DestinationInput) => {
  saved.push({ shop, input });
};

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.set(k, v);
  return data;
}

const destination = (fields: Record<string, string> = {}) =>
  form({ intent: "save-destination", pixelId: "123456789012345", accessToken: TOKEN, testEventCode: "", apiVersion: "v24.0", ...fields });

const settingsForm = (fields: Record<string, string> = {}) =>
  form({
    intent: "save-settings",
    purchaseTrigger: "orders/paid",
    valueMode: "subtotal",
    contentIdSource: "sku",
    "sources.web": "website",
    "sources.pos": "skip",
    "sources.shopify_draft_order": "system_generated",
    "sources.other": "other",
    respectMarketingConsent: "false",
    ...fields,
  });

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => {
  saved = [];
});

describe("save-destination", () => {
  it("passes a valid form to saveDestination for the session's shop", async () => {
    const result = await runAdminAction(db.prisma, SHOP, destination({ testEventCode: " TEST123 " }), fakeSave);
    expect(result).toMatchObject({ intent: "save-destination", ok: true });
    expect(saved).toEqual([{ shop: SHOP, input: { pixelId: "123456789012345", accessToken: TOKEN, testEventCode: "TEST123", apiVersion: "v24.0" } }]);
  });

  it("answers field errors, and never echoes the token", async () => {
    const result = await runAdminAction(db.prisma, SHOP, destination({ pixelId: "12ab", accessToken: "short token", testEventCode: "no spaces!", apiVersion: "latest" }), fakeSave);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.fieldErrors).sort()).toEqual(["accessToken", "apiVersion", "pixelId", "testEventCode"]);
    expect(JSON.stringify(result)).not.toContain("short token");
    expect(saved).toEqual([]);
  });

  it("requires a token for a first connection", async () => {
    const result = await runAdminAction(db.prisma, SHOP, destination({ accessToken: "" }), fakeSave);
    expect(result).toMatchObject({ ok: false, fieldErrors: { accessToken: expect.any(String) } });
    expect(saved).toEqual([]);
  });

  it("keeps the stored token when the field is left empty on update, and clears the test event code", async () => {
    await db.prisma.destination.create({ data: { shop: SHOP, pixelId: "123456789012345", accessTokenEnc: "sealed", tokenFingerprint: "fp", apiVersion: "v21.0" } });
    const result = await runAdminAction(db.prisma, SHOP, destination({ accessToken: "   ", apiVersion: "v21.0" }), fakeSave);
    expect(result).toMatchObject({ ok: true });
    // The shop's current (older) API version stays selectable; others outside the list do not.
    expect(saved).toEqual([{ shop: SHOP, input: { pixelId: "123456789012345", testEventCode: null, apiVersion: "v21.0" } }]);
    expect(await runAdminAction(db.prisma, SHOP, destination({ apiVersion: "v20.0" }), fakeSave)).toMatchObject({
      ok: false,
      fieldErrors: { apiVersion: expect.any(String) },
    });
  });

  it("reports a failed save without details", async () => {
    const failing = async () => {
      throw new Error(`database down; token ${TOKEN}`);
    };
    const original = console.error;
    console.error = () => undefined;
    try {
      const result = await runAdminAction(db.prisma, OTHER, destination(), failing);
      expect(result).toMatchObject({ ok: false, formError: expect.any(String) });
      expect(JSON.stringify(result)).not.toContain(TOKEN);
    } finally {
      console.error = original;
    }
  });
});

describe("save-destination turns the storefront pixel on", () => {
  const GRANTED = "read_orders,write_pixels,read_customer_events";

  it("creates the web pixel with the saved pixel ID, then updates it when the pixel changes", async () => {
    const shop = "pixel-on.myshopify.com";
    const shopify = fakeShopify();
    const first = await runAdminAction(db.prisma, shop, destination({ pixelId: "111111111111111" }), fakeSave, { graphql: shopify, grantedScopes: GRANTED });
    expect(first).toEqual({ intent: "save-destination", ok: true, message: "Pixel connection saved; storefront pixel on" });
    expect(shopify.pixel).toEqual({ id: "gid://shopify/WebPixel/1", settings: '{"pixelId":"111111111111111"}' });

    await runAdminAction(db.prisma, shop, destination({ pixelId: "222222222222222" }), fakeSave, { graphql: shopify, grantedScopes: GRANTED });
    expect(shopify.calls).toEqual(["webPixelCreate", "webPixelUpdate"]);
    expect(shopify.pixel?.settings).toBe('{"pixelId":"222222222222222"}');
    expect(await db.prisma.shop.findUniqueOrThrow({ where: { shop } })).toMatchObject({
      webPixelId: "gid://shopify/WebPixel/1",
      webPixelPixelId: "222222222222222",
      webPixelStatus: "active",
      webPixelMessage: null,
    });
  });

  it("saves the destination and says plainly why the pixel is off when Shopify refuses", async () => {
    const shop = "pixel-denied.myshopify.com";
    const shopify = fakeShopify();
    shopify.deny = true;
    const result = await runAdminAction(db.prisma, shop, destination(), fakeSave, { graphql: shopify, grantedScopes: GRANTED });
    expect(result).toMatchObject({ ok: true, message: "Pixel connection saved", warning: expect.stringContaining("Access denied for webPixelCreate field.") });
    expect(saved).toHaveLength(1);
    const row = await db.prisma.shop.findUniqueOrThrow({ where: { shop } });
    expect(row).toMatchObject({ webPixelStatus: "failed", webPixelMessage: (result as { warning: string }).warning });
  });

  it("names the missing permissions without calling Shopify", async () => {
    const shopify = fakeShopify();
    const result = await runAdminAction(db.prisma, "pixel-scopes.myshopify.com", destination(), fakeSave, { graphql: shopify, grantedScopes: "read_orders" });
    expect(result).toMatchObject({ ok: true, warning: expect.stringContaining("write_pixels and read_customer_events permissions") });
    expect(shopify.calls).toEqual([]);
  });

  it("calls Shopify only for a destination that was saved", async () => {
    const shopify = fakeShopify();
    await runAdminAction(db.prisma, "pixel-invalid.myshopify.com", destination({ pixelId: "12ab" }), fakeSave, { graphql: shopify, grantedScopes: GRANTED });
    const failing = async () => {
      throw new Error("database down");
    };
    const original = console.error;
    console.error = () => undefined;
    try {
      await runAdminAction(db.prisma, "pixel-unsaved.myshopify.com", destination(), failing, { graphql: shopify, grantedScopes: GRANTED });
    } finally {
      console.error = original;
    }
    expect(shopify.calls).toEqual([]);
  });
});

describe("save-settings", () => {
  it("stores the validated settings for the shop, keeping fields the form does not show", async () => {
    await db.prisma.shop.create({ data: { shop: SHOP, settings: { defaultCountry: "DE", testEventCode: "TEST9" } } });
    const result = await runAdminAction(db.prisma, SHOP, settingsForm(), fakeSave);
    expect(result).toMatchObject({ intent: "save-settings", ok: true });
    const row = await db.prisma.shop.findUniqueOrThrow({ where: { shop: SHOP } });
    expect(shopEventSettingsSchema.parse(row.settings)).toEqual({
      purchaseTrigger: "orders/paid",
      valueMode: "subtotal",
      contentIdSource: "sku",
      sources: { web: "website", pos: "skip", shopify_draft_order: "system_generated", other: "other" },
      respectMarketingConsent: false,
      includeGiftCards: false,
      includeTips: false,
      defaultCountry: "DE",
      testEventCode: "TEST9",
    });
    expect(await db.prisma.shop.findUnique({ where: { shop: OTHER } })).toBeNull();
  });

  it("stores whether gift cards and tips count in the value, and keeps them when a form leaves them out", async () => {
    const shop = "gift-cards.myshopify.com";
    await runAdminAction(db.prisma, shop, settingsForm({ includeGiftCards: "true", includeTips: "true" }), fakeSave);
    const stored = async () => shopEventSettingsSchema.parse((await db.prisma.shop.findUniqueOrThrow({ where: { shop } })).settings);
    expect(await stored()).toMatchObject({ includeGiftCards: true, includeTips: true });
    await runAdminAction(db.prisma, shop, settingsForm(), fakeSave);
    expect(await stored()).toMatchObject({ includeGiftCards: true, includeTips: true });
    await runAdminAction(db.prisma, shop, settingsForm({ includeGiftCards: "false", includeTips: "false" }), fakeSave);
    expect(await stored()).toMatchObject({ includeGiftCards: false, includeTips: false });
    const bad = await runAdminAction(db.prisma, shop, settingsForm({ includeTips: "maybe" }), fakeSave);
    expect(bad).toMatchObject({ ok: false, fieldErrors: { includeTips: expect.any(String) } });
  });

  it("creates the shop row when there is none", async () => {
    await runAdminAction(db.prisma, "new.myshopify.com", settingsForm({ purchaseTrigger: "orders/create", respectMarketingConsent: "true" }), fakeSave);
    const row = await db.prisma.shop.findUniqueOrThrow({ where: { shop: "new.myshopify.com" } });
    expect(shopEventSettingsSchema.parse(row.settings)).toMatchObject({ ...DEFAULT_SETTINGS, valueMode: "subtotal", contentIdSource: "sku", sources: { pos: "skip" } });
  });

  it("answers field errors for values outside the choices and stores nothing", async () => {
    const result = await runAdminAction(db.prisma, "invalid.myshopify.com", settingsForm({ valueMode: "everything", "sources.pos": "teleport" }), fakeSave);
    expect(result).toMatchObject({ ok: false, fieldErrors: { valueMode: expect.any(String), "sources.pos": expect.any(String) } });
    expect(await db.prisma.shop.findUnique({ where: { shop: "invalid.myshopify.com" } })).toBeNull();
  });
});

it("refuses an unknown intent", async () => {
  expect(await runAdminAction(db.prisma, SHOP, form({ intent: "drop-tables" }), fakeSave)).toMatchObject({ ok: false, intent: null });
});
