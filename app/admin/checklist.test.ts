import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EMBED_HANDLE, onboardingChecklist, themeEditorUrl, type OnboardingFacts, type StepId } from "./checklist";

const SHOP = "shop-a.myshopify.com";
const connected = { pixelId: "123456789012345", testEventCode: null, paused: false, checkStatus: "connected" };
const none: OnboardingFacts = {
  shop: SHOP,
  apiKey: "key",
  destination: null,
  embedOrders7d: 0,
  testEvent: null,
  realPurchasesSent: 0,
};
const seen = { at: "2026-12-01T10:00:00.000Z", pixelId: connected.pixelId };

type Row = [string, Partial<OnboardingFacts>, Record<StepId, boolean>, RegExp?];
const ROWS: Row[] = [
  ["nothing set up", {}, { connect: false, embed: false, "test-event": false, live: false }],
  [
    "connected, nothing else",
    { destination: connected },
    { connect: true, embed: false, "test-event": false, live: false },
  ],
  [
    "saved but never checked",
    { destination: { ...connected, checkStatus: undefined } },
    { connect: false, embed: false, "test-event": false, live: false },
    /not been checked/,
  ],
  [
    "check failed",
    { destination: { ...connected, checkStatus: "failed" } },
    { connect: false, embed: false, "test-event": false, live: false },
    /refused/,
  ],
  [
    "Meta unreachable at the check",
    { destination: { ...connected, checkStatus: "unchecked" } },
    { connect: false, embed: false, "test-event": false, live: false },
  ],
  [
    "paused after a passing check",
    { destination: { ...connected, paused: true } },
    { connect: false, embed: false, "test-event": false, live: false },
    /stopped accepting/,
  ],
  [
    "connected with Facebook, the token past its end",
    { destination: { ...connected, tokenExpired: true } },
    { connect: false, embed: false, "test-event": false, live: false },
    /has expired.*Connect with Meta again/,
  ],
  [
    "embed seen on orders",
    { destination: connected, embedOrders7d: 3 },
    { connect: true, embed: true, "test-event": false, live: false },
    /3 orders/,
  ],
  [
    "test event seen for this pixel",
    { destination: connected, testEvent: seen },
    { connect: true, embed: false, "test-event": true, live: false },
  ],
  [
    "test event seen for another pixel",
    { destination: connected, testEvent: { ...seen, pixelId: "999" } },
    { connect: true, embed: false, "test-event": false, live: false },
  ],
  [
    "test event with no destination",
    { testEvent: seen },
    { connect: false, embed: false, "test-event": false, live: false },
  ],
  [
    "real purchase sent, no test code",
    { destination: connected, realPurchasesSent: 1 },
    { connect: true, embed: false, "test-event": false, live: true },
    /1 real purchase /,
  ],
  [
    "real purchase sent but a test code still set",
    { destination: { ...connected, testEventCode: "TEST1" }, realPurchasesSent: 5 },
    { connect: true, embed: false, "test-event": false, live: false },
    /clear the test event code/,
  ],
  [
    "everything",
    { destination: connected, embedOrders7d: 1, testEvent: seen, realPurchasesSent: 2 },
    { connect: true, embed: true, "test-event": true, live: true },
  ],
];

describe("onboardingChecklist", () => {
  it.each(ROWS)("%s", (_name, facts, expected, detail) => {
    const list = onboardingChecklist({ ...none, ...facts });
    expect(Object.fromEntries(list.steps.map((s) => [s.id, s.done]))).toEqual(expected);
    const done = Object.values(expected).filter(Boolean).length;
    expect(list).toMatchObject({ done, total: 4, complete: done === 4 });
    // A step not done always says what to do next; a done one asks for nothing... except none here.
    for (const step of list.steps) if (!step.done) expect(step.detail.length).toBeGreaterThan(20);
    if (detail) expect(list.steps.map((s) => s.detail).join(" ")).toMatch(detail);
  });

  it("says 'not seen yet' for the embed, honestly, and links to the theme editor with the embed selected", () => {
    const embed = onboardingChecklist(none).steps.find((s) => s.id === "embed")!;
    expect(embed.detail).toMatch(/^Not seen yet/);
    expect(embed.action).toEqual({ label: "Open theme editor", url: themeEditorUrl(SHOP, "key"), external: true });
    expect(themeEditorUrl(SHOP, "key")).toBe(
      `https://${SHOP}/admin/themes/current/editor?context=apps&activateAppId=key/${EMBED_HANDLE}`,
    );
  });

  it("names the embed by its block's file name, as the theme editor's activateAppId wants", () => {
    expect(existsSync(path.resolve(__dirname, `../../extensions/capi-relay-embed/blocks/${EMBED_HANDLE}.liquid`))).toBe(
      true,
    );
  });

  it("points each open step to the page where it is done", () => {
    const urls = Object.fromEntries(
      onboardingChecklist({ ...none, destination: { ...connected, checkStatus: "failed" } }).steps.map((s) => [
        s.id,
        s.action?.url,
      ]),
    );
    expect(urls).toMatchObject({ connect: "/app/settings", "test-event": "/app/settings", live: "/app/events" });
  });
});
