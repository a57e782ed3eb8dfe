// The web pixel's report of the ids it fired (capi-relay-pixel/src/mapping.js firedReport)
// against the app's route rules (app/pipeline/fired-ids.ts): what the pixel sends is what the
// app accepts, and what the app would refuse the pixel never sends.
import { describe, expect, it } from "vitest";
import { parseFiredIds } from "../app/pipeline/fired-ids";
import { firedReport, initiateCheckoutCall, purchaseCall } from "./capi-relay-pixel/src/mapping.js";

const URL_OK = "https://app.example.com/pixel/fired?shop=a.myshopify.com&token=t";
const track = (name: string, eventID: unknown) => ["track", name, {}, { eventID }];

describe("firedReport", () => {
  it.each([
    ["a Purchase", track("Purchase", "5678901234567"), { name: "Purchase", id: "5678901234567" }],
    ["an InitiateCheckout", track("InitiateCheckout", "c1-ab_9"), { name: "InitiateCheckout", id: "c1-ab_9" }],
    ["a browser-only AddToCart", track("AddToCart", "atc_1_2"), null],
    ["an id with a space", track("Purchase", "1 2"), null],
    ["no id", track("Purchase", undefined), null],
    ["an id too long", track("Purchase", "1".repeat(101)), null],
  ])("%s", (_name, call, event) => {
    const report = firedReport(URL_OK, call);
    if (!event) return expect(report).toBeNull();
    expect(report).toEqual({ url: URL_OK, body: JSON.stringify({ events: [event] }) });
    expect(parseFiredIds(report!.body)).toEqual({ ok: true, report: { events: [event] } });
  });

  it.each([undefined, "", "http://app.example.com/pixel/fired", "javascript:alert(1)", "https://a b"])(
    "sends nothing without an https report URL (%j)",
    (url) => {
      expect(firedReport(url, track("Purchase", "1"))).toBeNull();
    },
  );

  it("reports the very ids the pixel fires for a checkout, which the app accepts", () => {
    const checkout = { token: "b1c2d3e4f5", order: { id: "gid://shopify/Order/5678901234567" }, lineItems: [] };
    for (const call of [purchaseCall({ data: { checkout } }), initiateCheckoutCall({ data: { checkout } })]) {
      const report = firedReport(URL_OK, call);
      expect(parseFiredIds(report!.body).ok).toBe(true);
      expect(JSON.parse(report!.body).events[0].id).toBe(call![3].eventID);
    }
  });
});
