// The demo's day is what it claims to be: each delivery goes through the real event core and
// comes out as its story says (sent, held back, expired), the same seed gives the same day,
// and nothing in it is dated in the future.
import { describe, expect, it } from "vitest";
import { prepareEvent } from "../app/events/prepare";
import { DEFAULT_SETTINGS } from "../app/events/settings";
import { DEMO_SHOP, describeDay, makeDemoDay, type Delivery, type DeliveryKind } from "./day-of-orders";

const NOW = 1_795_400_000;
const day = makeDemoDay({ orders: 120, seed: 7, nowSeconds: NOW });

function outcome(d: Delivery) {
  return prepareEvent(d.topic, d.payload, DEFAULT_SETTINGS, { shop: DEMO_SHOP, nowSeconds: NOW });
}
const ofKind = (kind: DeliveryKind) => day.filter((d) => d.kind === kind);
/** A redelivery is judged as the webhook it repeats. */
const storyOf = (d: Delivery): DeliveryKind =>
  d.kind === "redelivery"
    ? day.find((first) => first.kind !== "redelivery" && first.webhookId === d.webhookId)!.kind
    : d.kind;

describe("a demo day", () => {
  it("is the same day for the same seed and clock, and another for another seed", () => {
    expect(JSON.stringify(makeDemoDay({ orders: 120, seed: 7, nowSeconds: NOW }))).toBe(JSON.stringify(day));
    expect(JSON.stringify(makeDemoDay({ orders: 120, seed: 8, nowSeconds: NOW }))).not.toBe(JSON.stringify(day));
  });

  it("holds every case, in the order Shopify sends them, none from the future", () => {
    const counts = describeDay(day);
    expect(counts.order).toBe(120);
    expect(counts["order-paid"]).toBeGreaterThan(80);
    expect(counts["order-paid"]).toBeLessThan(120);
    expect(counts.checkout).toBe(120);
    expect(counts["abandoned-checkout"]).toBeGreaterThan(20);
    expect(counts.redelivery).toBeGreaterThanOrEqual(2);
    for (const kind of [
      "test-order",
      "declined-tracking",
      "pos-order",
      "draft-order",
      "malformed-email",
      "imported-late",
      "checkout-without-browser",
    ] as const) {
      expect(counts[kind], kind).toBeGreaterThan(0);
    }
    for (let i = 1; i < day.length; i++) expect(day[i]!.at).toBeGreaterThanOrEqual(day[i - 1]!.at);
    expect(Math.max(...day.map((d) => d.at))).toBeLessThanOrEqual(NOW);
    expect(Math.min(...day.map((d) => d.at))).toBeGreaterThan(NOW - 86_400 - 3_600);
  });

  it("redelivers webhooks with their ids, after the first delivery", () => {
    for (const again of ofKind("redelivery")) {
      const first = day.find((d) => d.kind !== "redelivery" && d.webhookId === again.webhookId)!;
      expect(first).toBeDefined();
      expect(again.eventId).toBe(first.eventId);
      expect(again.payload).toBe(first.payload);
      expect(day.indexOf(again)).toBeGreaterThan(day.indexOf(first));
    }
    const ids = day.filter((d) => d.kind !== "redelivery").map((d) => d.eventId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("pays every order after creating it, and starts every checkout before its order", () => {
    for (const paid of day.filter((d) => d.topic === "orders/paid")) {
      const created = day.find((d) => d.topic === "orders/create" && d.payload.id === paid.payload.id)!;
      expect(day.indexOf(created)).toBeLessThan(day.indexOf(paid));
    }
    for (const order of ofKind("order").filter((d) => d.topic === "orders/create")) {
      const checkout = day.find(
        (d) => d.topic === "checkouts/create" && d.payload.token === order.payload.checkout_token,
      )!;
      expect(checkout.at).toBeLessThan(order.at);
    }
  });

  it("comes out of the event core as its story says", () => {
    const currencies = new Set<string>();
    for (const d of day) {
      const o = outcome(d);
      const kind = storyOf(d);
      switch (kind) {
        case "test-order":
          // Their checkouts are ordinary checkouts; only the orders are Shopify test orders.
          if (d.topic !== "checkouts/create")
            expect(o).toMatchObject({ status: "held_back", reason: expect.stringContaining("test order") });
          else expect(o.status).toBe("ready");
          break;
        case "declined-tracking":
          expect(o).toMatchObject({ status: "held_back", reason: expect.stringContaining("declined marketing") });
          break;
        case "imported-late":
          expect(o).toMatchObject({ status: "invalid", code: "event_too_old" });
          break;
        case "checkout-without-browser":
          // Sent without a user agent, with the note that says why it matches less.
          expect(o).toMatchObject({ status: "ready", notes: [expect.objectContaining({ code: "no_user_agent" })] });
          expect(o.status === "ready" && o.event.user_data.client_user_agent).toBeUndefined();
          break;
        default:
          expect(o.status, `${kind} ${d.topic}`).toBe("ready");
      }
      if (o.status === "ready") {
        if (kind === "pos-order") expect(o.event.action_source).toBe("physical_store");
        else if (kind === "draft-order") expect(o.event.action_source).toBe("system_generated");
        else expect(o.event.action_source).toBe("website");
        if (o.event.custom_data?.currency) currencies.add(o.event.custom_data.currency);
      }
    }
    expect([...currencies].sort()).toEqual(["CAD", "EUR", "GBP", "USD"]);
  });

  it("sends the order with the malformed email without the email", () => {
    const typo = ofKind("malformed-email").find((d) => d.topic === "orders/create")!;
    expect(String(typo.payload.email)).toContain("@@");
    const o = outcome(typo);
    expect(o.status).toBe("ready");
    if (o.status !== "ready") return;
    expect(o.event.user_data.em).toBeUndefined();
    expect(o.event.user_data.ph).toBeDefined();
    // An ordinary order of the day does carry its (hashed) email.
    const plain = outcome(ofKind("order").find((d) => d.topic === "orders/create")!);
    expect(plain.status === "ready" && plain.event.user_data.em).toMatch(/^[0-9a-f]{64}$/);
  });

  it("keeps the merchant's till and browser out of POS and draft orders", () => {
    for (const kind of ["pos-order", "draft-order"] as const) {
      const o = outcome(ofKind(kind)[0]!);
      expect(o.status).toBe("ready");
      if (o.status !== "ready") continue;
      expect(o.event.user_data.client_ip_address).toBeUndefined();
      expect(o.event.user_data.client_user_agent).toBeUndefined();
    }
  });
});
