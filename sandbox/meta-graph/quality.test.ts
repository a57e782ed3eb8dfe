// The stand-in's Dataset Quality API: computed from the events it kept for a pixel with a
// partner_agent, by the formula stated in ./quality.ts; refused in Meta's error shape.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MATCH_KEY_WEIGHTS } from "./quality";
import { startMetaSandbox, type MetaSandbox } from "./server";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const PIXEL = "1234567890";
const OTHER_PIXEL = "1234567891";
const TOKEN = "EAAquality";
const AGENT = "capirelay-shopify";
const FIELDS = "web{event_name,event_match_quality,event_coverage,dedupe_key_feedback,data_freshness,acr}";

let clock = Date.now();
let sandbox: MetaSandbox;

function event(id: string | undefined, userData: Record<string, unknown>, name = "Purchase", ageS = 60) {
  return {
    event_name: name,
    event_time: Math.floor(clock / 1000) - ageS,
    ...(id === undefined ? {} : { event_id: id }),
    action_source: "website",
    event_source_url: "https://shop.example.com/thank_you",
    user_data: { client_user_agent: "Mozilla/5.0", ...userData },
    custom_data: { value: 10, currency: "USD" },
  };
}

async function send(events: unknown[], extra: Record<string, unknown> = {}, pixel = PIXEL) {
  const response = await fetch(`${sandbox.url}/v26.0/${pixel}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ data: events, partner_agent: AGENT, ...extra }),
  });
  expect(response.status).toBe(200);
}

async function quality(query: Record<string, string>, token: string | null = TOKEN) {
  const response = await fetch(`${sandbox.url}/v26.0/dataset_quality?${new URLSearchParams(query)}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as any };
}

beforeAll(async () => {
  sandbox = await startMetaSandbox({ now: () => clock });
});
afterAll(async () => sandbox.close());
beforeEach(() => {
  clock = Date.now();
  sandbox.reset();
});

describe("GET /{version}/dataset_quality", () => {
  it("answers per event name from the events kept with that partner_agent, by the stated formula", async () => {
    const em = [sha("a@example.com")];
    const ph = [sha("14155550100")];
    await send([
      event("1", { em, ph, fbp: "fb.1.1795180805221.1234567890", client_ip_address: "203.0.113.9" }),
      event("2", { em }),
      event("2", { em }), // a duplicate Meta drops
      event(undefined, { ph }),
      event("c1", { em }, "InitiateCheckout"),
    ]);
    await send([event("9", { em, ph })], { partner_agent: "another-app" });
    await send([event("t", { em, ph })], { test_event_code: "TEST1" });
    await send([event("o", { em, ph })], {}, OTHER_PIXEL);
    sandbox.setBrowserEvents(PIXEL, { Purchase: 2 });

    const { status, body } = await quality({ dataset_id: PIXEL, agent_name: AGENT, fields: FIELDS });
    expect(status).toBe(200);
    expect(body.web.map((e: { event_name: string }) => e.event_name)).toEqual(["InitiateCheckout", "Purchase"]);
    const purchase = body.web[1];
    const w = (key: string) => MATCH_KEY_WEIGHTS.find(([k]) => k === key)![2];
    // Three Purchases: em+ph+fbp+ip+ua, em+ua, ph+ua.
    const expected =
      (w("em") +
        w("ph") +
        w("fbp") +
        w("client_ip_address") +
        w("client_user_agent") +
        (w("em") + w("client_user_agent")) +
        (w("ph") + w("client_user_agent"))) /
      3;
    expect(purchase.event_match_quality.composite_score).toBe(Math.round(expected * 10) / 10);
    const coverage = Object.fromEntries(
      purchase.event_match_quality.match_key_feedback.map((k: any) => [k.identifier, k.coverage.percentage]),
    );
    expect(coverage).toMatchObject({ email: 66.7, phone: 66.7, fbp: 33.3, ip_address: 33.3, user_agent: 100, fbc: 0 });
    expect(purchase.dedupe_key_feedback).toEqual([
      { dedupe_key: "event_id", server_events_with_dedupe_key: { percentage: 66.7 } },
    ]);
    expect(purchase.data_freshness).toEqual({ upload_frequency: "real_time" });
    expect(purchase.event_coverage).toEqual({ percentage: 100 });
    expect(purchase.acr).toEqual({ percentage: 50 });
    expect(body.web[0].event_coverage).toBeUndefined();
    expect(sandbox.qualityReads()).toEqual([{ datasetId: PIXEL, agentName: AGENT, status: 200 }]);
  });

  it("answers only the fields asked for, and says late events are not fresh", async () => {
    await send([event("1", { em: [sha("x")] }, "Purchase", 3 * 86_400)]);
    const { body } = await quality({ dataset_id: PIXEL, agent_name: AGENT, fields: "web{event_name,data_freshness}" });
    expect(body).toEqual({ web: [{ event_name: "Purchase", data_freshness: { upload_frequency: "daily" } }] });
  });

  it("answers no events for a partner_agent that sent none", async () => {
    await send([event("1", { em: [sha("x")] })]);
    expect((await quality({ dataset_id: PIXEL, agent_name: "nobody", fields: FIELDS })).body).toEqual({ web: [] });
  });

  it("refuses in Meta's shape: no token, revoked, no permission for these metrics, unknown pixel, bad fields", async () => {
    const q = { dataset_id: PIXEL, agent_name: AGENT, fields: FIELDS };
    expect((await quality(q, null)).body.error.code).toBe(104);

    sandbox.denyQuality(TOKEN);
    const denied = await quality(q);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 200, message: "(#200) Permissions error" });
    // Sending events is not affected by the quality permission.
    await send([event("1", { em: [sha("x")] })]);
    sandbox.allowToken(TOKEN);
    expect((await quality(q)).status).toBe(200);

    sandbox.revokeToken(TOKEN);
    expect((await quality(q)).body.error).toMatchObject({ code: 190, error_subcode: 460 });
    sandbox.allowToken(TOKEN);

    sandbox.unknownPixel(PIXEL);
    expect((await quality(q)).body.error).toMatchObject({ code: 100, error_subcode: 33 });

    expect((await quality({ agent_name: AGENT })).body.error.code).toBe(100);
    expect((await quality({ ...q, dataset_id: OTHER_PIXEL, fields: "web{emq}" })).body.error.message).toMatch(
      /nonexisting field \(emq\)/,
    );
  });

  it("takes the control endpoint for the quality permission", async () => {
    const denied = await fetch(`${sandbox.url}/__sandbox/deny-quality`, {
      method: "POST",
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(denied.status).toBe(200);
    expect((await quality({ dataset_id: PIXEL, agent_name: AGENT })).status).toBe(403);
    const reads = await (await fetch(`${sandbox.url}/__sandbox/quality-reads`)).json();
    expect(reads).toEqual([{ datasetId: PIXEL, agentName: AGENT, status: 403, code: "200" }]);
  });

  it("fails with the outage faults like every endpoint", async () => {
    sandbox.setFault({ mode: "rate-limit", code: 17, count: 1 });
    expect((await quality({ dataset_id: PIXEL })).body.error.code).toBe(17);
    expect((await quality({ dataset_id: PIXEL })).status).toBe(200);
  });
});
