// Meta's Facebook & Instagram channel: which publication names are Meta's, when the Overview asks
// Shopify again, when it warns, and the reader over the Admin API stand-in (pages, refusals).
import { describe, expect, it } from "vitest";
import { AdminGraphqlError } from "./admin-graphql";
import {
  isMetaChannelName,
  META_CHANNEL_RECHECK_MS,
  metaChannelCheckDue,
  metaChannelWarning,
  SALES_CHANNEL_MAX_PAGES,
  SALES_CHANNEL_PAGE_SIZE,
  SALES_CHANNEL_SCOPES,
  type MetaChannelState,
} from "./sales-channels";
import { readMetaChannelInstalled } from "./sales-channels.server";
import { missingScopes } from "./web-pixel";
import { fakeShopify } from "./web-pixel.fake";

describe("isMetaChannelName", () => {
  it.each<[string | null | undefined, boolean]>([
    ["Facebook & Instagram", true],
    ["facebook & instagram", true],
    ["  Facebook   &  Instagram ", true],
    ["Facebook and Instagram", true],
    ["Facebook", true],
    ["Instagram", true],
    ["Ｆａｃｅｂｏｏｋ", true], // full-width letters fold (NFKC)
    ["Online Store", false],
    ["Point of Sale", false],
    ["Google & YouTube", false],
    ["TikTok", false],
    ["Facebook Feed by Flexify", false], // a product feed app, not Meta's channel
    ["Instagram Feed", false],
    ["", false],
    [null, false],
    [undefined, false],
  ])("%j → %s", (name, meta) => {
    expect(isMetaChannelName(name)).toBe(meta);
  });
});

describe("metaChannelCheckDue", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const state = (checkedAt: Date | null, uninstalledAt: Date | null = null): MetaChannelState => ({
    metaChannelInstalled: true,
    metaChannelCheckedAt: checkedAt,
    uninstalledAt,
  });
  it.each<[string, MetaChannelState | null, boolean]>([
    ["no shop row", null, true],
    ["never read", state(null), true],
    ["read a minute ago", state(ago(60_000)), false],
    ["read just under 6 hours ago", state(ago(META_CHANNEL_RECHECK_MS - 1)), false],
    ["read 6 hours ago", state(ago(META_CHANNEL_RECHECK_MS)), true],
    ["read a day ago", state(ago(86_400_000)), true],
    ["read in the future (the clock moved back)", state(ago(-60_000)), true],
    ["read before the latest uninstall", state(ago(120_000), ago(60_000)), true],
    ["read after a reinstall", state(ago(60_000), ago(120_000)), false],
  ])("%s → %s", (_, s, due) => {
    expect(metaChannelCheckDue(s, now)).toBe(due);
  });
});

describe("metaChannelWarning", () => {
  const pixels = [
    { pixelId: "111", label: "Main store" },
    { pixelId: "222", label: null },
  ];
  it.each<[string, boolean | null, typeof pixels, unknown]>([
    ["installed, with pixels", true, pixels, { pixels }],
    ["installed, no pixel yet", true, [], null],
    ["not installed", false, pixels, null],
    ["not known (never read, or the read failed)", null, pixels, null],
  ])("%s", (_, installed, p, expected) => {
    expect(metaChannelWarning(installed, p)).toEqual(expected);
  });
});

describe("the scope", () => {
  it.each<[string | null, string[]]>([
    ["read_orders,write_pixels,read_customer_events,read_publications", []],
    ["read_orders, write_publications", []],
    ["read_orders,write_pixels,read_customer_events", ["read_publications"]],
    ["", ["read_publications"]],
    [null, []],
  ])("granted %j: missing %j", (granted, missing) => {
    expect(missingScopes(granted, SALES_CHANNEL_SCOPES)).toEqual(missing);
  });
});

describe("readMetaChannelInstalled", () => {
  it("finds Meta's channel among the shop's sales channels", async () => {
    const shopify = fakeShopify();
    shopify.salesChannels = ["Online Store", "Point of Sale", "Facebook & Instagram", "Shop"];
    await expect(readMetaChannelInstalled(shopify)).resolves.toBe(true);
    expect(shopify.publicationCalls).toEqual([null]);
  });

  it("answers false for a shop without it", async () => {
    const shopify = fakeShopify();
    shopify.salesChannels = ["Online Store", "Google & YouTube", "Facebook Feed by Flexify"];
    await expect(readMetaChannelInstalled(shopify)).resolves.toBe(false);
  });

  it("follows the pages, and stops after a bounded number of them", async () => {
    const shopify = fakeShopify();
    const filler = Array.from({ length: SALES_CHANNEL_PAGE_SIZE * SALES_CHANNEL_MAX_PAGES }, (_, i) => `Channel ${i}`);
    shopify.salesChannels = [...filler.slice(0, SALES_CHANNEL_PAGE_SIZE + 3), "Facebook & Instagram"];
    await expect(readMetaChannelInstalled(shopify)).resolves.toBe(true);
    expect(shopify.publicationCalls).toEqual([null, String(SALES_CHANNEL_PAGE_SIZE)]);

    const many = fakeShopify();
    many.salesChannels = [...filler, "Facebook & Instagram"];
    await expect(readMetaChannelInstalled(many)).resolves.toBe(false);
    expect(many.publicationCalls).toHaveLength(SALES_CHANNEL_MAX_PAGES);
  });

  it("skips a node it cannot read without hiding the others", async () => {
    const answer = {
      data: {
        publications: {
          pageInfo: { hasNextPage: false, endCursor: null },
          nodes: [{ name: 42 }, null, { name: "Facebook & Instagram" }],
        },
      },
    };
    await expect(readMetaChannelInstalled(async () => answer)).resolves.toBe(true);
  });

  it("throws Shopify's refusal, for the caller to degrade", async () => {
    const shopify = fakeShopify();
    shopify.denyPublications = true;
    await expect(readMetaChannelInstalled(shopify)).rejects.toBeInstanceOf(AdminGraphqlError);
  });
});
