// The Overview's warning that the theme app embed fires other pixels than the app's, read from
// the shop's latest order carrying the embed's data, in a database of its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { embedPixelNotes } from "../events/browser-ids";
import { loadEmbedOverride } from "./embed-override.server";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const HOUR = 3_600_000;
let next = 1;

/** One Purchase copy as ingest stores it: the embed's fbp when it ran, its override note when it had one. */
async function purchase(shop: string, at: Date, options: { fbp?: boolean; override?: string; eventName?: string }) {
  const notes = options.override ? embedPixelNotes([{ name: "_capi_pixels", value: options.override }]) : [];
  await db.prisma.event.create({
    data: {
      shop,
      eventName: options.eventName ?? "Purchase",
      eventId: String(next++),
      topic: "orders/create",
      state: "sent",
      eventTime: at,
      createdAt: at,
      payload: { user_data: options.fbp === false ? {} : { fbp: "fb.1.1763650000000.1234567890" } },
      notes: JSON.parse(JSON.stringify(notes)),
    },
  });
}

describe("loadEmbedOverride", () => {
  it("warns while the latest order with the embed's data says the embed fired its own pixels", async () => {
    const shop = "override.myshopify.com";
    const now = new Date();
    expect(await loadEmbedOverride(db.prisma, shop, now)).toBeNull();

    await purchase(shop, new Date(now.getTime() - 5 * HOUR), {});
    expect(await loadEmbedOverride(db.prisma, shop, now)).toBeNull();

    const at = new Date(now.getTime() - 2 * HOUR);
    await purchase(shop, at, { override: "555555555555" });
    // An order without the embed's data (declined consent, the POS) says nothing of the theme.
    await purchase(shop, new Date(now.getTime() - HOUR), { fbp: false });
    // Nor does an InitiateCheckout.
    await purchase(shop, new Date(now.getTime() - HOUR), { eventName: "InitiateCheckout" });
    expect(await loadEmbedOverride(db.prisma, shop, now)).toEqual({
      message: expect.stringContaining("fired Meta pixel 555555555555 from its own"),
      at: at.toISOString(),
    });
    // Another shop sees nothing of it.
    expect(await loadEmbedOverride(db.prisma, "other.myshopify.com", now)).toBeNull();

    // The merchant cleared the field: the next order with the embed's data carries no note.
    await purchase(shop, new Date(now.getTime() - 30 * 60_000), {});
    expect(await loadEmbedOverride(db.prisma, shop, now)).toBeNull();
  });

  it("forgets an order older than a week", async () => {
    const shop = "override-old.myshopify.com";
    const now = new Date();
    await purchase(shop, new Date(now.getTime() - 8 * 24 * HOUR), { override: "555555555555" });
    expect(await loadEmbedOverride(db.prisma, shop, now)).toBeNull();
    expect(await loadEmbedOverride(db.prisma, shop, new Date(now.getTime() - 2 * 24 * HOUR))).not.toBeNull();
  });
});
