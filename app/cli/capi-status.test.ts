// `capi status` against the real PostgreSQL: a shop's events by state and its held-back
// webhooks by reason, in the admin page's words (app/pipeline/lifecycle.ts), and whether its
// background work is stopped for a refused token renewal.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";

const ROOT = path.resolve(__dirname, "../..");
const SHOP = "status-shop.myshopify.com";

let db: TestDatabase;

function capi(args: string[]) {
  const result = spawnSync(
    process.execPath,
    [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "app/cli/capi.ts", ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NODE_ENV: "development", DATABASE_URL: db.url },
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  db = await createTestDatabase();
  const events: Array<[string, number]> = [
    ["sent", 1],
    ["sent", 1],
    ["rejected", 1],
    ["invalid", 0],
  ];
  for (const [i, [state, attempts]] of events.entries()) {
    await db.prisma.event.create({
      data: {
        shop: SHOP,
        eventName: "Purchase",
        eventId: `s-${i}`,
        topic: "orders/create",
        state,
        attempts,
        eventTime: new Date(),
      },
    });
  }
  await db.prisma.event.create({
    data: {
      shop: "other.myshopify.com",
      eventName: "Purchase",
      eventId: "o-1",
      topic: "orders/create",
      state: "queued",
      eventTime: new Date(),
    },
  });
  const receipts: Array<[string, string | null]> = [
    ["held_back", "Shopify test order, and the shop has no test event code"],
    ["held_back", "Shopify test order, and the shop has no test event code"],
    ["held_back", "the buyer declined marketing tracking"],
    ["queued", null],
    ["invalid", "orders/create payload: id: expected a numeric id"],
  ];
  for (const [i, [outcome, reason]] of receipts.entries()) {
    await db.prisma.webhookReceipt.create({
      data: { shop: SHOP, topic: "orders/create", webhookId: `w-${i}`, dedupeKey: `w-${i}`, outcome, reason },
    });
  }
});
afterAll(async () => {
  await db?.drop();
});

describe("capi status", () => {
  it("counts the shop's events by state and its held-back webhooks by reason, with their labels", () => {
    const { code, stdout, stderr } = capi(["status", "--shop", SHOP]);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      shop: SHOP,
      destinations: [],
      events: {
        total: 4,
        byState: [
          { state: "sent", label: "Delivered", count: 2 },
          { state: "rejected", label: "Rejected by Meta", count: 1 },
          { state: "invalid", label: "Invalid", count: 1 },
        ],
      },
      heldBack: {
        label: "Held back",
        total: 3,
        reasons: [
          { reason: "Shopify test order, and the shop has no test event code", count: 2 },
          { reason: "the buyer declined marketing tracking", count: 1 },
        ],
      },
      offlineAccess: { stopped: false },
    });
  });

  it("says when the shop's background work stopped because Shopify refused to renew its token, and why", async () => {
    const shop = "lost-access.myshopify.com";
    const since = new Date(Date.now() - 3600_000);
    const reason =
      "Shopify refused to renew the app's access token (400 invalid_grant Token has been expired or revoked.)";
    await db.prisma.shop.create({ data: { shop, offlineAccessLostAt: since, offlineAccessLostReason: reason } });
    const { code, stdout, stderr } = capi(["status", "--shop", shop]);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout).offlineAccess).toEqual({
      stopped: true,
      since: since.toISOString(),
      reason,
      message: expect.stringContaining("Open the app from your Shopify admin"),
    });
  });
});

describe("capi dedup", () => {
  it("gives the shop's deduplication health as the Overview counts it, another pixel seen and Meta's channel", async () => {
    // SHOP's two sent Purchases (s-0, s-1): the browser fired s-0 (and s-2, which was rejected: no pair).
    await db.prisma.browserEvent.createMany({
      data: [
        { shop: SHOP, eventName: "Purchase", eventId: "s-0" },
        { shop: SHOP, eventName: "Purchase", eventId: "s-2" },
        { shop: "other.myshopify.com", eventName: "Purchase", eventId: "s-1" },
      ],
    });
    await db.prisma.pixelSighting.create({ data: { shop: SHOP, pixelId: "1234567890" } });
    // What the Overview last read from Shopify: Meta's Facebook & Instagram channel installed.
    const checkedAt = new Date(Date.now() - 3600_000);
    await db.prisma.shop.upsert({
      where: { shop: SHOP },
      create: { shop: SHOP, metaChannelInstalled: true, metaChannelCheckedAt: checkedAt },
      update: { metaChannelInstalled: true, metaChannelCheckedAt: checkedAt },
    });
    const { code, stdout, stderr } = capi(["dedup", "--shop", SHOP, "--days", "3"]);
    expect(code, stderr).toBe(0);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ shop: SHOP, days: 3, browserReported: true });
    expect(out.totals).toEqual([
      expect.objectContaining({ eventName: "Purchase", serverSent: 2, paired: 1, serverOnly: 1, pairedShare: 0.5 }),
    ]);
    expect(out.otherPixels.map((p: { pixelId: string }) => p.pixelId)).toEqual(["1234567890"]);
    expect(out.metaChannel).toEqual({ installed: true, checkedAt: checkedAt.toISOString() });
    expect(capi(["dedup", "--shop", SHOP, "--days", "0"]).code).toBe(2);
  });
});
