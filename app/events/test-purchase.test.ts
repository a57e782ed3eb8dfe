import { describe, expect, it } from "vitest";
import { sha256Hex } from "../meta/user-data";
import { validateEvent } from "../meta/validate";
import { DEFAULT_SETTINGS, shopEventSettingsSchema } from "./settings";
import { buildTestPurchase, TEST_BUYER_EMAIL } from "./test-purchase";

const NOW = Date.UTC(2026, 11, 20, 12, 0, 0, 123);

describe("buildTestPurchase", () => {
  it("is a Purchase built like a real order, with the shop's test event code", () => {
    const outcome = buildTestPurchase("test-shop.myshopify.com", "TEST42", DEFAULT_SETTINGS, NOW);
    expect(outcome.status).toBe("ready");
    if (outcome.status !== "ready") return;
    expect(outcome.testEventCode).toBe("TEST42");
    expect(outcome.event).toMatchObject({
      event_name: "Purchase",
      event_id: String(NOW),
      event_time: Math.floor(NOW / 1000),
      action_source: "website",
      event_source_url: "https://test-shop.myshopify.com/",
      custom_data: { value: 25, currency: "USD", order_id: String(NOW) },
    });
    expect(outcome.event.user_data.em).toBe(sha256Hex(TEST_BUYER_EMAIL));
    expect(JSON.stringify(outcome.event)).not.toContain(TEST_BUYER_EMAIL);
    expect(validateEvent(outcome.event, Math.floor(NOW / 1000))).toEqual([]);
  });

  it("follows the shop's settings, but is never skipped by them", () => {
    const settings = shopEventSettingsSchema.parse({
      valueMode: "subtotal",
      purchaseTrigger: "orders/paid",
      sources: { web: "skip" },
    });
    const outcome = buildTestPurchase("test-shop.myshopify.com", "TEST42", settings, NOW);
    expect(outcome).toMatchObject({ status: "ready", event: { action_source: "website", custom_data: { value: 20 } } });
  });

  it("sends a new event_id every time", () => {
    const a = buildTestPurchase("s.myshopify.com", "T1", DEFAULT_SETTINGS, NOW);
    const b = buildTestPurchase("s.myshopify.com", "T1", DEFAULT_SETTINGS, NOW + 1);
    expect(a.status === "ready" && b.status === "ready" && a.event.event_id !== b.event.event_id).toBe(true);
  });
});
