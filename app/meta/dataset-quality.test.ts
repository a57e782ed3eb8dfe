import { describe, expect, it } from "vitest";
import type { MetaAnswer } from "./classify";
import {
  classifyDatasetQuality,
  datasetQualityRequest,
  emqRating,
  nextQualityReadAt,
  QUALITY_READ_EVERY_MS,
  QUALITY_REFRESH_MIN_MS,
  refreshAllowed,
  summarizeEventQuality,
} from "./dataset-quality";
import { appSecretProof, PARTNER_AGENT } from "./request";

const PIXEL = "123456789012345";
const ok = (body: unknown): MetaAnswer => ({ kind: "response", status: 200, body });
const err = (status: number, error: Record<string, unknown>): MetaAnswer => ({
  kind: "response",
  status,
  body: { error: { message: "m", ...error } },
});

describe("datasetQualityRequest", () => {
  it("asks for the pixel and our partner_agent, with every web field, the token in the header only", () => {
    const request = datasetQualityRequest(
      { pixelId: PIXEL, accessToken: "EAAtoken", apiVersion: "v25.0" },
      { graphUrl: "http://meta.test/" },
    );
    const url = new URL(request.url);
    expect(url.origin + url.pathname).toBe("http://meta.test/v25.0/dataset_quality");
    expect(url.searchParams.get("dataset_id")).toBe(PIXEL);
    expect(url.searchParams.get("agent_name")).toBe(PARTNER_AGENT);
    expect(url.searchParams.get("fields")).toBe(
      "web{event_name,event_match_quality,event_coverage,dedupe_key_feedback,data_freshness,acr}",
    );
    expect(request.url).not.toContain("EAAtoken");
    expect(request.headers.authorization).toBe("Bearer EAAtoken");
    expect(url.searchParams.has("appsecret_proof")).toBe(false);
  });

  it("adds appsecret_proof when the app enforces it", () => {
    const request = datasetQualityRequest({ pixelId: PIXEL, accessToken: "t", appSecret: "s" });
    expect(new URL(request.url).searchParams.get("appsecret_proof")).toBe(appSecretProof("t", "s"));
  });

  it("keeps partner_agent within Meta's rule: under 23 characters, at least two letters", () => {
    expect(PARTNER_AGENT.length).toBeLessThan(23);
    expect(PARTNER_AGENT.replace(/[^a-z]/gi, "").length).toBeGreaterThanOrEqual(2);
  });
});

describe("emqRating", () => {
  it.each([
    [0, "Poor"],
    [3.9, "Poor"],
    [4, "OK"],
    [5.9, "OK"],
    [6, "Good"],
    [7.9, "Good"],
    [8, "Great"],
    [10, "Great"],
  ] as const)("%s is %s", (score, rating) => expect(emqRating(score)).toBe(rating));
});

describe("summarizeEventQuality", () => {
  it("says each number Meta gave in plain words, match keys best first", () => {
    const summary = summarizeEventQuality({
      event_name: "Purchase",
      event_match_quality: {
        composite_score: 6.84,
        match_key_feedback: [
          { identifier: "fbc", coverage: { percentage: 26 } },
          { identifier: "email", coverage: { percentage: 99.4 } },
          { identifier: "new_key" },
        ],
        diagnostics: [{ description: "Few events carry a click ID.", solution: "Keep fbclid." }],
      },
      event_coverage: { percentage: 82, goal_percentage: 75 },
      dedupe_key_feedback: [
        {
          dedupe_key: "event_id",
          server_events_with_dedupe_key: { percentage: 100 },
          browser_events_with_dedupe_key: { percentage: 97 },
        },
      ],
      data_freshness: { upload_frequency: "real_time" },
      acr: { percentage: 12.5 },
    });
    expect(summary).toMatchObject({
      eventName: "Purchase",
      score: 6.84,
      rating: "Good",
      matchKeys: [
        { identifier: "email", label: "Email", percentage: 99.4 },
        { identifier: "fbc", label: "Click ID (fbc)", percentage: 26 },
      ],
      eventCoverage: { percentage: 82, goal: 75 },
      dedupe: [{ key: "event_id", server: 100, browser: 97 }],
      freshness: "real_time",
      acr: 12.5,
    });
    expect(summary.lines).toEqual([
      "Event Match Quality 6.8 out of 10 (Good).",
      "Match keys Meta received: Email 99%, Click ID (fbc) 26%.",
      "The server sent 82% of the events your browser pixel sent (Meta's goal: 75%).",
      "Deduplication key event_id on 100% of server events and 97% of browser events.",
      "Events reach Meta in real time.",
      "13% more conversions reported thanks to the Conversions API.",
      "Few events carry a click ID. Keep fbclid.",
    ]);
    expect(summary.notes).toEqual(summary.lines.slice(2));
  });

  it("says when Meta has no score yet, and shows an unknown freshness as Meta gave it", () => {
    const summary = summarizeEventQuality({ event_name: "Lead", data_freshness: { upload_frequency: "sporadic" } });
    expect(summary.score).toBeUndefined();
    expect(summary.lines).toEqual([
      "Meta has no Event Match Quality for this event yet.",
      "Events reach Meta sporadic.",
    ]);
  });
});

describe("classifyDatasetQuality", () => {
  it("reads Meta's answer per event name", () => {
    const read = classifyDatasetQuality(
      ok({
        web: [
          { event_name: "Purchase", event_match_quality: { composite_score: 8.1 } },
          { event_name: "InitiateCheckout", event_match_quality: { composite_score: 3 } },
        ],
        unknown_top_level: true,
      }),
      PIXEL,
    );
    expect(read.status).toBe("read");
    if (read.status !== "read") return;
    expect(read.events.map((e) => [e.eventName, e.rating])).toEqual([
      ["Purchase", "Great"],
      ["InitiateCheckout", "Poor"],
    ]);
  });

  it("reads an answer without web as no events yet", () => {
    expect(classifyDatasetQuality(ok({}), PIXEL)).toEqual({ status: "read", events: [] });
  });

  const cases: Array<[string, MetaAnswer, Record<string, unknown>, RegExp]> = [
    [
      "a token without permission (200)",
      err(403, { code: 200 }),
      { status: "refused", problem: "permission" },
      /Manage pixel/,
    ],
    [
      "a token without permission (10)",
      err(400, { code: 10 }),
      { status: "refused", problem: "permission" },
      /Assign assets > Pixels/,
    ],
    [
      "a revoked token",
      err(400, { code: 190, error_subcode: 460 }),
      { status: "refused", problem: "token" },
      /Connect the pixel again/,
    ],
    ["no token", err(400, { code: 104 }), { status: "refused", problem: "token" }, /Settings/],
    [
      "an unknown dataset",
      err(400, { code: 100, error_subcode: 33 }),
      { status: "refused", problem: "dataset" },
      new RegExp(PIXEL),
    ],
    [
      "a wrong app secret",
      err(400, { code: 100, message: "Invalid appsecret_proof provided" }),
      { status: "refused", problem: "app-secret" },
      /META_APP_SECRET/,
    ],
    ["a rate limit", err(400, { code: 17 }), { status: "unavailable", rateLimited: true }, /limiting/],
    [
      "an outage",
      err(500, { code: 2, is_transient: true }),
      { status: "unavailable", rateLimited: false },
      /again later/,
    ],
    [
      "no error body",
      { kind: "response", status: 502, body: "<html>" },
      { status: "unavailable", rateLimited: false },
      /again later/,
    ],
    [
      "a timeout",
      { kind: "transport", error: "timeout" },
      { status: "unavailable", rateLimited: false },
      /did not answer in time/,
    ],
    [
      "an answer out of bounds",
      ok({ web: [{ event_name: "Purchase", event_match_quality: { composite_score: 42 } }] }),
      { status: "unavailable" },
      /does not understand/,
    ],
  ];
  it.each(cases)("%s", (_name, answer, expected, message) => {
    const read = classifyDatasetQuality(answer, PIXEL);
    expect(read).toMatchObject(expected);
    expect("message" in read && read.message).toMatch(message);
  });

  it("refuses an answer with more event names than Meta lists", () => {
    const web = Array.from({ length: 201 }, (_, i) => ({ event_name: `E${i}` }));
    expect(classifyDatasetQuality(ok({ web }), PIXEL).status).toBe("unavailable");
  });
});

describe("when pixels are read", () => {
  it("reads each pixel every 6 hours, within an hour's spread that differs between pixels", () => {
    const readAt = new Date();
    const next = ["a", "b", "c", "d"].map((id) => nextQualityReadAt(id, readAt).getTime() - readAt.getTime());
    for (const delay of next) {
      expect(delay).toBeGreaterThanOrEqual(QUALITY_READ_EVERY_MS);
      expect(delay).toBeLessThan(QUALITY_READ_EVERY_MS + 3600_000);
    }
    expect(new Set(next).size).toBeGreaterThan(1);
    expect(nextQualityReadAt("a", readAt, true).getTime() - readAt.getTime()).toBe(next[0]! + QUALITY_READ_EVERY_MS);
  });

  it("lets the merchant refresh once per interval", () => {
    const now = new Date();
    expect(refreshAllowed(null, now)).toEqual({ ok: true });
    expect(refreshAllowed(new Date(now.getTime() - QUALITY_REFRESH_MIN_MS), now)).toEqual({ ok: true });
    expect(refreshAllowed(new Date(now.getTime() - 60_000), now)).toEqual({
      ok: false,
      waitMinutes: QUALITY_REFRESH_MIN_MS / 60_000 - 1,
    });
  });
});
