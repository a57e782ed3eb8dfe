// The admin page's form posts: what is validated, what is checked with Meta (the project's
// stand-in), what reaches saveDestination, and what the settings row becomes. Against the real
// PostgreSQL of this machine, in a database of its own.
import { soleDestination } from "../../test/support/destinations";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { DEFAULT_SETTINGS, shopEventSettingsSchema } from "../events/settings";
import { NO_TEST_EVENT_CODE_MESSAGE } from "../meta/test-event";
import type { SaveDestination } from "../pipeline/connection.server";
import {
  openDestination,
  pauseDestination,
  saveDestination,
  type DestinationInput,
} from "../pipeline/destinations.server";
import { sealSecret, tokenFingerprint } from "../security/token-vault";
import type { ShopifyAccess } from "../shopify/web-pixel.server";
import { fakeShopify } from "../shopify/web-pixel.fake";
import { loadDestinationViews } from "./dashboard.server";
import { runAdminAction as runAction, type AdminDeps } from "./actions.server";

const SHOP = "actions.myshopify.com";
const OTHER = "other.myshopify.com";
const TOKEN = "EAAG" + "x".repeat(60);

const KEY = randomBytes(32);

let db: TestDatabase;
// Meta, as the stand-in answers: every pixel exists and every token works unless told otherwise.
let meta: MetaSandbox;
let deps: AdminDeps;
/** Every post is checked against the stand-in and opens stored tokens with KEY. */
const runAdminAction = (
  prisma: TestDatabase["prisma"],
  shop: string,
  form: FormData,
  save: SaveDestination,
  shopify?: ShopifyAccess,
) => runAction(prisma, shop, form, save, shopify, deps);
const realSave: SaveDestination = (prisma, shop, input) => saveDestination(prisma, shop, input, KEY);
let saved: Array<{ shop: string; input: DestinationInput }> = [];
const fakeSave = async (_prisma: unknown, shop: string, input: DestinationInput) => {
  saved.push({ shop, input });
  return "00000000-0000-4000-8000-000000000001";
};

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.set(k, v);
  return data;
}

const destination = (fields: Record<string, string> = {}) =>
  form({
    intent: "save-destination",
    pixelId: "123456789012345",
    accessToken: TOKEN,
    testEventCode: "",
    apiVersion: "v24.0",
    "events.Purchase": "true",
    "events.InitiateCheckout": "true",
    sendTestOrders: "true",
    ...fields,
  });

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
  meta = await startMetaSandbox();
  deps = { meta: { graphUrl: meta.url, timeoutMs: 1_000 }, key: KEY };
});

afterAll(async () => {
  await meta?.close();
  await db?.drop();
});

beforeEach(() => {
  saved = [];
  meta.reset();
});

describe("save-destination", () => {
  it("passes a valid form to saveDestination for the session's shop", async () => {
    const result = await runAdminAction(db.prisma, SHOP, destination({ testEventCode: " TEST123 " }), fakeSave);
    expect(result).toMatchObject({ intent: "save-destination", ok: true });
    expect(saved).toEqual([
      {
        shop: SHOP,
        input: {
          id: undefined,
          label: "",
          events: ["Purchase", "InitiateCheckout"],
          sendTestOrders: true,
          pixelId: "123456789012345",
          accessToken: TOKEN,
          testEventCode: "TEST123",
          apiVersion: "v24.0",
        },
      },
    ]);
  });

  it("answers field errors, and never echoes the token", async () => {
    const result = await runAdminAction(
      db.prisma,
      SHOP,
      destination({ pixelId: "12ab", accessToken: "short token", testEventCode: "no spaces!", apiVersion: "latest" }),
      fakeSave,
    );
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
    // A token the check can open: it is read with the stored token.
    const accessTokenEnc = sealSecret(TOKEN, { purpose: "meta-access-token", shop: SHOP }, KEY);
    await db.prisma.destination.create({
      data: {
        id: crypto.randomUUID(),
        shop: SHOP,
        pixelId: "123456789012345",
        accessTokenEnc,
        tokenFingerprint: tokenFingerprint(TOKEN),
        apiVersion: "v21.0",
      },
    });
    const result = await runAdminAction(
      db.prisma,
      SHOP,
      destination({ accessToken: "   ", apiVersion: "v21.0" }),
      fakeSave,
    );
    expect(result).toMatchObject({ ok: true });
    // The shop's current (older) API version stays selectable; others outside the list do not.
    expect(saved).toEqual([
      {
        shop: SHOP,
        input: {
          id: undefined,
          label: "",
          events: ["Purchase", "InitiateCheckout"],
          sendTestOrders: true,
          pixelId: "123456789012345",
          testEventCode: null,
          apiVersion: "v21.0",
        },
      },
    ]);
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
    // The web pixel's list, and the theme app embed's (the app-owned metafield): always the same.
    const pixelIds = () => {
      const inPixel = JSON.parse(shopify.pixel!.settings).pixelIds;
      expect(shopify.metafields.get("capi_relay.pixel_ids")?.value).toBe(inPixel);
      return inPixel;
    };
    const first = await runAdminAction(db.prisma, shop, destination({ pixelId: "111111111111111" }), realSave, {
      graphql: shopify,
      grantedScopes: GRANTED,
    });
    expect(first).toEqual({
      intent: "save-destination",
      ok: true,
      message: "Pixel connection saved; storefront pixel on",
    });
    expect(shopify.pixel?.id).toBe("gid://shopify/WebPixel/1");
    expect(pixelIds()).toBe("111111111111111");

    // A second pixel: the storefront fires both.
    await runAdminAction(db.prisma, shop, destination({ pixelId: "222222222222222" }), realSave, {
      graphql: shopify,
      grantedScopes: GRANTED,
    });
    expect(shopify.calls).toEqual(["webPixelCreate", "webPixelUpdate"]);
    expect(pixelIds()).toBe("111111111111111,222222222222222");

    // The first one's card changes its pixel: the list follows.
    const firstId = (await db.prisma.destination.findFirstOrThrow({ where: { shop, pixelId: "111111111111111" } })).id;
    await runAdminAction(
      db.prisma,
      shop,
      destination({ id: firstId, pixelId: "333333333333333", accessToken: "" }),
      realSave,
      { graphql: shopify, grantedScopes: GRANTED },
    );
    expect(pixelIds()).toBe("333333333333333,222222222222222");
    expect(await db.prisma.shop.findUniqueOrThrow({ where: { shop } })).toMatchObject({
      webPixelId: "gid://shopify/WebPixel/1",
      webPixelPixelId: "333333333333333,222222222222222",
      webPixelStatus: "active",
      webPixelMessage: null,
    });

    // Removing one: the storefront stops firing it.
    const removed = await runAdminAction(
      db.prisma,
      shop,
      form({ intent: "remove-destination", id: firstId }),
      realSave,
      { graphql: shopify, grantedScopes: GRANTED },
    );
    expect(removed).toMatchObject({ ok: true, intent: "remove-destination" });
    expect(pixelIds()).toBe("222222222222222");
    // Another shop cannot remove it.
    const other = (await db.prisma.destination.findFirstOrThrow({ where: { shop } })).id;
    expect(
      await runAdminAction(db.prisma, OTHER, form({ intent: "remove-destination", id: other }), realSave),
    ).toMatchObject({ ok: false });
    expect(await db.prisma.destination.count({ where: { shop } })).toBe(1);
  });

  it("saves the destination and says plainly why the pixel is off when Shopify refuses", async () => {
    const shop = "pixel-denied.myshopify.com";
    const shopify = fakeShopify();
    shopify.deny = true;
    const result = await runAdminAction(db.prisma, shop, destination(), realSave, {
      graphql: shopify,
      grantedScopes: GRANTED,
    });
    expect(result).toMatchObject({
      ok: true,
      message: "Pixel connection saved",
      warning: expect.stringContaining("Access denied for webPixelCreate field."),
    });
    expect(await db.prisma.destination.count({ where: { shop } })).toBe(1);
    const row = await db.prisma.shop.findUniqueOrThrow({ where: { shop } });
    expect(row).toMatchObject({ webPixelStatus: "failed", webPixelMessage: (result as { warning: string }).warning });
  });

  it("names the missing permissions without calling Shopify", async () => {
    const shopify = fakeShopify();
    const result = await runAdminAction(db.prisma, "pixel-scopes.myshopify.com", destination(), realSave, {
      graphql: shopify,
      grantedScopes: "read_orders",
    });
    expect(result).toMatchObject({
      ok: true,
      warning: expect.stringContaining("write_pixels and read_customer_events permissions"),
    });
    expect(shopify.calls).toEqual([]);
  });

  it("calls Shopify only for a destination that was saved", async () => {
    const shopify = fakeShopify();
    await runAdminAction(db.prisma, "pixel-invalid.myshopify.com", destination({ pixelId: "12ab" }), fakeSave, {
      graphql: shopify,
      grantedScopes: GRANTED,
    });
    const failing = async () => {
      throw new Error("database down");
    };
    const original = console.error;
    console.error = () => undefined;
    try {
      await runAdminAction(db.prisma, "pixel-unsaved.myshopify.com", destination(), failing, {
        graphql: shopify,
        grantedScopes: GRANTED,
      });
    } finally {
      console.error = original;
    }
    expect(shopify.calls).toEqual([]);
  });
});

describe("save-destination checks the pixel and token with Meta first", () => {
  const GRANTED = "read_orders,write_pixels,read_customer_events";

  it("reads the pixel with the typed token (in the header, never the URL) before saving", async () => {
    const result = await runAdminAction(db.prisma, "check-ok.myshopify.com", destination(), fakeSave);
    expect(result).toMatchObject({ ok: true, message: "Pixel connection saved" });
    expect(meta.pixelReads()).toEqual([{ pixelId: "123456789012345", status: 200, tokenInQuery: false }]);
    expect(saved).toHaveLength(1);
  });

  it.each<[string, (m: MetaSandbox) => void, "pixelId" | "accessToken", RegExp]>([
    [
      "a revoked token (190/460)",
      (m) => m.revokeToken(TOKEN),
      "accessToken",
      /does not accept this access token: the password .* Generate a new one/,
    ],
    [
      "a token without permission (200)",
      (m) => m.denyToken(TOKEN),
      "accessToken",
      /not allowed to send events to pixel 123456789012345/,
    ],
    [
      "an unknown pixel (100/33)",
      (m) => m.unknownPixel("123456789012345"),
      "pixelId",
      /cannot find pixel \(dataset\) 123456789012345.*Check the ID/,
    ],
  ])(
    "%s: not saved, the field says why and what to do, the storefront pixel untouched",
    async (_name, refuse, field, message) => {
      refuse(meta);
      const shopify = fakeShopify();
      const result = await runAdminAction(db.prisma, "check-refused.myshopify.com", destination(), fakeSave, {
        graphql: shopify,
        grantedScopes: GRANTED,
      });
      expect(result).toMatchObject({
        intent: "save-destination",
        ok: false,
        formError: expect.stringMatching(/^Not saved: Meta refused this pixel and token\./),
      });
      expect(result.ok === false && result.fieldErrors[field]).toMatch(message);
      expect(JSON.stringify(result)).not.toMatch(/Pixel connection saved|storefront pixel on/);
      expect(JSON.stringify(result)).not.toContain(TOKEN);
      expect(saved).toEqual([]);
      expect(shopify.calls).toEqual([]);
    },
  );

  it("a wrong pixel over a working setup leaves the saved one as it was", async () => {
    const shop = "check-typo.myshopify.com";
    const id = await realSave(db.prisma, shop, { pixelId: "123456789012345", accessToken: TOKEN });
    meta.unknownPixel("999999999999");
    const result = await runAdminAction(
      db.prisma,
      shop,
      destination({ id, pixelId: "999999999999", accessToken: "" }),
      realSave,
    );
    expect(result).toMatchObject({
      ok: false,
      formError: expect.stringContaining("your saved connection is unchanged"),
      fieldErrors: { pixelId: expect.any(String) },
    });
    expect(await db.prisma.destination.findFirstOrThrow({ where: { shop } })).toMatchObject({
      pixelId: "123456789012345",
    });
  });

  it("Meta unreachable: saved, and said plainly to be not checked yet", async () => {
    meta.setFault({ mode: "timeout" });
    const result = await runAdminAction(db.prisma, "check-timeout.myshopify.com", destination(), realSave);
    expect(result).toMatchObject({
      ok: true,
      message: "Pixel connection saved, but not checked yet",
      warning: expect.stringMatching(
        /^Not checked yet\. The connection could not be checked: Meta did not answer in time\. Events are kept/,
      ),
    });
    const view = await (await loadDestinationViews(db.prisma, "check-timeout.myshopify.com"))[0];
    expect(view).toMatchObject({
      paused: false,
      check: { status: "unchecked", message: expect.stringContaining("did not answer in time") },
    });
  });

  it("Meta answering 503: saved, not checked yet", async () => {
    meta.setFault({ mode: "server-error", status: 503 });
    const result = await runAdminAction(db.prisma, "check-503.myshopify.com", destination(), fakeSave);
    expect(result).toMatchObject({
      ok: true,
      message: "Pixel connection saved, but not checked yet",
      warning: expect.stringContaining("Meta is having trouble right now"),
    });
    expect(saved).toHaveLength(1);
  });

  it("records a passing check on the destination for the page", async () => {
    const shop = "check-recorded.myshopify.com";
    await runAdminAction(db.prisma, shop, destination(), realSave);
    expect((await loadDestinationViews(db.prisma, shop))[0]).toMatchObject({
      paused: false,
      check: {
        status: "connected",
        message:
          'Connected: Meta accepts this access token for pixel "Stand-in pixel 123456789012345" (123456789012345).',
        checkedAt: expect.any(String),
      },
    });
  });

  it("asks for the token again when the stored one can no longer be read", async () => {
    const shop = "check-unreadable.myshopify.com";
    await db.prisma.destination.create({
      data: {
        id: crypto.randomUUID(),
        shop,
        pixelId: "123456789012345",
        accessTokenEnc: "v2.unreadable",
        tokenFingerprint: "fp",
      },
    });
    const result = await runAdminAction(db.prisma, shop, destination({ accessToken: "" }), fakeSave);
    expect(result).toMatchObject({
      ok: false,
      fieldErrors: { accessToken: expect.stringMatching(/Paste your access token again/) },
    });
    expect(saved).toEqual([]);
    expect(meta.pixelReads()).toEqual([]);
  });
});

describe("saving the same pixel and token on a paused destination", () => {
  async function pausedShop(shop: string) {
    const destinationId = await realSave(db.prisma, shop, { pixelId: "123456789012345", accessToken: TOKEN });
    await db.prisma.event.create({
      data: {
        shop,
        destinationId,
        eventName: "Purchase",
        eventId: `${shop}-1`,
        topic: "orders/create",
        state: "queued",
        eventTime: new Date(),
        pixelId: "123456789012345",
      },
    });
    await pauseDestination(
      db.prisma,
      await soleDestination(db.prisma, shop),
      "Meta error 190/460: Error validating access token",
      "Meta no longer accepts your access token.",
      new Date(),
    );
  }
  const eventState = async (shop: string) => (await db.prisma.event.findFirstOrThrow({ where: { shop } })).state;

  it("resumes when the check passes (the token works again)", async () => {
    const shop = "paused-ok.myshopify.com";
    await pausedShop(shop);
    const result = await runAdminAction(db.prisma, shop, destination({ accessToken: "" }), realSave);
    expect(result).toMatchObject({
      ok: true,
      message: "Pixel settings saved; the stored token is kept; sending resumed",
    });
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, shop), KEY))!.pausedAt).toBeNull();
    expect(await eventState(shop)).toBe("queued");
    expect((await loadDestinationViews(db.prisma, shop))[0]).toMatchObject({
      paused: false,
      check: { status: "connected" },
    });
  });

  it("stays paused when Meta still refuses the token, with the refusal recorded for the page", async () => {
    const shop = "paused-revoked.myshopify.com";
    await pausedShop(shop);
    meta.revokeToken(TOKEN);
    const result = await runAdminAction(db.prisma, shop, destination({ accessToken: TOKEN }), realSave);
    expect(result).toMatchObject({
      ok: false,
      formError: expect.stringMatching(/^Not connected: Meta refuses the saved pixel and token/),
      fieldErrors: { accessToken: expect.stringMatching(/Generate a new one/) },
    });
    expect(JSON.stringify(result)).not.toContain("Pixel connection saved");
    expect(await eventState(shop)).toBe("paused");
    expect((await loadDestinationViews(db.prisma, shop))[0]).toMatchObject({
      paused: true,
      check: { status: "failed", message: expect.stringMatching(/does not accept this access token/) },
    });
  });

  it("stays paused when Meta cannot be reached: nothing says the token works now", async () => {
    const shop = "paused-unreachable.myshopify.com";
    await pausedShop(shop);
    meta.setFault({ mode: "server-error", status: 502 });
    const result = await runAdminAction(db.prisma, shop, destination({ accessToken: "" }), realSave);
    expect(result).toMatchObject({
      ok: true,
      message: "Pixel settings saved; the stored token is kept, but not checked yet",
      warning: expect.stringContaining("Sending stays paused until the check passes"),
    });
    expect(await eventState(shop)).toBe("paused");
    expect((await loadDestinationViews(db.prisma, shop))[0]).toMatchObject({
      paused: true,
      check: { status: "unchecked" },
    });
  });

  it("a new token that passes resumes, as before", async () => {
    const shop = "paused-new-token.myshopify.com";
    await pausedShop(shop);
    meta.revokeToken(TOKEN);
    const result = await runAdminAction(
      db.prisma,
      shop,
      destination({ accessToken: "EAAGnew" + "n".repeat(40) }),
      realSave,
    );
    expect(result).toMatchObject({ ok: true, message: "Pixel connection saved; sending resumed" });
    expect(await eventState(shop)).toBe("queued");
  });
});

describe("send-test-event", () => {
  const testEvent = () => form({ intent: "send-test-event" });

  it("sends one test Purchase with the shop's test event code and shows Meta's answer", async () => {
    const shop = "test-event.myshopify.com";
    await realSave(db.prisma, shop, { pixelId: "123456789012345", accessToken: TOKEN, testEventCode: "TEST42" });
    const result = await runAdminAction(db.prisma, shop, testEvent(), fakeSave);
    expect(result).toMatchObject({
      intent: "send-test-event",
      ok: true,
      answer: { eventsReceived: 1, fbtraceId: expect.any(String) },
    });
    const { answer, message } = result as { answer: { fbtraceId: string }; message: string };
    expect(message).toContain(`events_received 1, fbtrace_id ${answer.fbtraceId}`);
    expect(message).toMatch(/See it in Events Manager > your pixel > Test events, under code TEST42/);
    const [sent] = meta.accepted("123456789012345");
    expect(sent).toMatchObject({
      testEventCode: "TEST42",
      event: { event_name: "Purchase", action_source: "website" },
    });
    expect(meta.accepted()).toHaveLength(1);
    // Not one of the shop's events.
    expect(await db.prisma.event.count({ where: { shop } })).toBe(0);
  });

  it("without a test event code, says so and how to set one, and sends nothing", async () => {
    const shop = "test-event-none.myshopify.com";
    await realSave(db.prisma, shop, { pixelId: "123456789012345", accessToken: TOKEN });
    const result = await runAdminAction(db.prisma, shop, testEvent(), fakeSave);
    expect(result).toEqual({
      intent: "send-test-event",
      ok: false,
      fieldErrors: {},
      formError: NO_TEST_EVENT_CODE_MESSAGE,
    });
    expect(meta.accepted()).toEqual([]);
  });

  it("says what Meta refused, in the merchant's words", async () => {
    const shop = "test-event-revoked.myshopify.com";
    await realSave(db.prisma, shop, { pixelId: "123456789012345", accessToken: TOKEN, testEventCode: "TEST42" });
    meta.revokeToken(TOKEN);
    const result = await runAdminAction(db.prisma, shop, testEvent(), fakeSave);
    expect(result).toMatchObject({
      ok: false,
      formError: expect.stringMatching(/^Meta refused the test event: Meta does not accept this access token/),
    });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it("asks for a pixel first when there is none", async () => {
    const result = await runAdminAction(db.prisma, "test-event-nothing.myshopify.com", testEvent(), fakeSave);
    expect(result).toMatchObject({ ok: false, formError: expect.stringMatching(/^Connect your Meta pixel first/) });
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
    const stored = async () =>
      shopEventSettingsSchema.parse((await db.prisma.shop.findUniqueOrThrow({ where: { shop } })).settings);
    expect(await stored()).toMatchObject({ includeGiftCards: true, includeTips: true });
    await runAdminAction(db.prisma, shop, settingsForm(), fakeSave);
    expect(await stored()).toMatchObject({ includeGiftCards: true, includeTips: true });
    await runAdminAction(db.prisma, shop, settingsForm({ includeGiftCards: "false", includeTips: "false" }), fakeSave);
    expect(await stored()).toMatchObject({ includeGiftCards: false, includeTips: false });
    const bad = await runAdminAction(db.prisma, shop, settingsForm({ includeTips: "maybe" }), fakeSave);
    expect(bad).toMatchObject({ ok: false, fieldErrors: { includeTips: expect.any(String) } });
  });

  it("sends the new settings to the storefront pixel when the shop has one", async () => {
    const shop = "settings-pixel.myshopify.com";
    const shopify = fakeShopify();
    const access = { graphql: shopify, grantedScopes: "read_orders,write_pixels,read_customer_events" };
    // No pixel yet: nothing to tell Shopify.
    expect(await runAdminAction(db.prisma, shop, settingsForm(), fakeSave, access)).toMatchObject({ ok: true });
    expect(shopify.calls).toEqual([]);

    await runAdminAction(db.prisma, shop, destination({ pixelId: "555555555555" }), realSave, access);
    expect(JSON.parse(shopify.pixel!.settings)).toMatchObject({ valueMode: "subtotal", contentIdSource: "sku" });
    const saved = await runAdminAction(
      db.prisma,
      shop,
      settingsForm({ valueMode: "total", contentIdSource: "product", "sources.web": "skip", includeGiftCards: "true" }),
      fakeSave,
      access,
    );
    expect(saved).toEqual({ intent: "save-settings", ok: true, message: "Settings saved" });
    expect(JSON.parse(shopify.pixel!.settings)).toMatchObject({
      pixelIds: "555555555555",
      valueMode: "total",
      contentIdSource: "product",
      includeGiftCards: "true",
      sendOnlineStore: "false",
    });

    // Shopify refuses: the settings stand, and the merchant is told the pixel did not follow.
    shopify.deny = true;
    const refused = await runAdminAction(db.prisma, shop, settingsForm({ valueMode: "subtotal" }), fakeSave, access);
    expect(refused).toMatchObject({ ok: true, warning: expect.stringContaining("Access denied") });
    expect(
      shopEventSettingsSchema.parse((await db.prisma.shop.findUniqueOrThrow({ where: { shop } })).settings),
    ).toMatchObject({ valueMode: "subtotal" });
  });

  it("creates the shop row when there is none", async () => {
    await runAdminAction(
      db.prisma,
      "new.myshopify.com",
      settingsForm({ purchaseTrigger: "orders/create", respectMarketingConsent: "true" }),
      fakeSave,
    );
    const row = await db.prisma.shop.findUniqueOrThrow({ where: { shop: "new.myshopify.com" } });
    expect(shopEventSettingsSchema.parse(row.settings)).toMatchObject({
      ...DEFAULT_SETTINGS,
      valueMode: "subtotal",
      contentIdSource: "sku",
      sources: { pos: "skip" },
    });
  });

  it("answers field errors for values outside the choices and stores nothing", async () => {
    const result = await runAdminAction(
      db.prisma,
      "invalid.myshopify.com",
      settingsForm({ valueMode: "everything", "sources.pos": "teleport" }),
      fakeSave,
    );
    expect(result).toMatchObject({
      ok: false,
      fieldErrors: { valueMode: expect.any(String), "sources.pos": expect.any(String) },
    });
    expect(await db.prisma.shop.findUnique({ where: { shop: "invalid.myshopify.com" } })).toBeNull();
  });
});

it("refuses an unknown intent", async () => {
  expect(await runAdminAction(db.prisma, SHOP, form({ intent: "drop-tables" }), fakeSave)).toMatchObject({
    ok: false,
    intent: null,
  });
});
