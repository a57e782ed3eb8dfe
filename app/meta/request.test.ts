import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { MetaEvent } from "./event";
import {
  appSecretProof,
  graphRequest,
  MAX_EVENTS_PER_REQUEST,
  pixelReadRequest,
  planBatches,
  requestBody,
} from "./request";

const event = (id: string): MetaEvent => ({
  event_name: "Purchase",
  event_time: 1_795_196_400,
  event_id: id,
  action_source: "system_generated",
  user_data: { external_id: "a".repeat(64) },
  custom_data: { value: 1, currency: "USD" },
});

describe("requestBody", () => {
  it("wraps events in data, with the partner agent and an optional test code", () => {
    expect(requestBody([event("1")])).toEqual({ data: [event("1")], partner_agent: "capirelay-shopify" });
    expect(requestBody([event("1")], "TEST123").test_event_code).toBe("TEST123");
  });
  it.each([0, MAX_EVENTS_PER_REQUEST + 1])("refuses %i events", (n) => {
    expect(() => requestBody(Array.from({ length: n }, (_, i) => event(String(i))))).toThrow(RangeError);
  });
});

describe("graphRequest", () => {
  it("puts the token in the Authorization header, never in the URL or body", () => {
    const req = graphRequest({ pixelId: "1234567890", accessToken: "EAAtoken" }, [event("1")], {
      graphUrl: "http://127.0.0.1:4100/",
    });
    expect(req.url).toBe("http://127.0.0.1:4100/v26.0/1234567890/events");
    expect(req.headers.authorization).toBe("Bearer EAAtoken");
    expect(req.body).not.toContain("EAAtoken");
    expect(JSON.parse(req.body).data).toHaveLength(1);
  });
  it("adds appsecret_proof = HMAC-SHA256(app secret, token) when an app secret is known", () => {
    const req = graphRequest({ pixelId: "1", accessToken: "tok", appSecret: "shh", apiVersion: "v25.0" }, [event("1")]);
    const expected = createHmac("sha256", "shh").update("tok").digest("hex");
    expect(appSecretProof("tok", "shh")).toBe(expected);
    expect(JSON.parse(req.body).appsecret_proof).toBe(expected);
    expect(req.url).toBe("https://graph.facebook.com/v25.0/1/events");
  });
});

describe("pixelReadRequest (the connection check)", () => {
  it("reads id and name of the pixel node, the token in the Authorization header only", () => {
    const req = pixelReadRequest(
      { pixelId: "1234567890", accessToken: "EAAtoken", apiVersion: "v24.0" },
      { graphUrl: "http://127.0.0.1:4100/" },
    );
    expect(req).toEqual({
      url: "http://127.0.0.1:4100/v24.0/1234567890?fields=id%2Cname",
      method: "GET",
      headers: { authorization: "Bearer EAAtoken" },
    });
  });
  it("carries appsecret_proof in the query when an app secret is known", () => {
    const req = pixelReadRequest({ pixelId: "1", accessToken: "tok", appSecret: "shh" });
    const url = new URL(req.url);
    expect(url.origin + url.pathname).toBe("https://graph.facebook.com/v26.0/1");
    expect(url.searchParams.get("appsecret_proof")).toBe(createHmac("sha256", "shh").update("tok").digest("hex"));
    expect(req.url).not.toContain("tok&");
    expect(url.searchParams.has("access_token")).toBe(false);
  });
});

describe("planBatches", () => {
  it("never mixes pixels or test codes, and caps each request at 1,000 events", () => {
    const items = [
      ...Array.from({ length: 2500 }, (_, i) => ({ pixelId: "A", id: i })),
      { pixelId: "B", id: -1 },
      { pixelId: "A", testEventCode: "TEST1", id: -2 },
    ];
    const batches = planBatches(items);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500, 1, 1]);
    for (const b of batches) {
      expect(new Set(b.map((i) => `${i.pixelId}/${"testEventCode" in i ? i.testEventCode : ""}`)).size).toBe(1);
    }
    expect(batches.flat()).toHaveLength(items.length);
    expect(batches[0]![0]!.id).toBe(0);
  });
  it("honours a smaller cap", () => {
    expect(
      planBatches(
        [1, 2, 3].map((id) => ({ pixelId: "A", id })),
        2,
      ).map((b) => b.length),
    ).toEqual([2, 1]);
  });
});
