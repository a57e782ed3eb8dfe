// The stand-in's browser pixel endpoint (/tr) and its fbevents.js, and the browser and server
// copies of one event counted once.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MAX_TR_BYTES } from "./browser-pixel";
import { startMetaSandbox, type MetaSandbox } from "./server";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const START = Date.UTC(2026, 10, 20, 12, 0, 0);
const PIXEL = "1234567890";
const TOKEN = "EAAtoken123";
const FBC = "fb.1.1795180805221.IwAR2F4-Nn8kXq_7";
const FBP = "fb.1.1795180805221.1234567890";

let clock = START;
let sandbox: MetaSandbox;

beforeAll(async () => {
  sandbox = await startMetaSandbox({ now: () => clock, unknownPixels: ["999"] });
});
afterAll(() => sandbox?.close());
beforeEach(() => {
  clock = START;
  sandbox.reset();
});

/** What the web pixel sends for a Purchase (extensions/capi-relay-pixel/src/mapping.js pixelRequest). */
function purchaseParams(extra: Record<string, string> = {}): URLSearchParams {
  return new URLSearchParams({
    id: PIXEL,
    ev: "Purchase",
    eid: "5001",
    dl: "https://shop.example.com/checkouts/c/abc/thank-you",
    ts: String(START),
    "cd[value]": "82.25",
    "cd[currency]": "USD",
    "cd[contents]": JSON.stringify([{ id: "46123456789012", quantity: 1 }]),
    fbp: FBP,
    fbc: FBC,
    "ud[em]": sha("jane@example.com"),
    ...extra,
  });
}

const tr = (params: URLSearchParams, path = "/tr/") => fetch(`${sandbox.url}${path}?${params}`);

function serverPurchase(id = "5001") {
  return {
    event_name: "Purchase",
    event_time: Math.floor(clock / 1000) - 60,
    event_id: id,
    action_source: "website",
    event_source_url: "https://shop.example.com/checkouts/c/abc/thank-you",
    user_data: { em: [sha("jane@example.com")], fbc: FBC },
    custom_data: { value: 82.25, currency: "USD" },
  };
}
const postServer = (events: unknown[], extra: Record<string, unknown> = {}) =>
  fetch(`${sandbox.url}/v21.0/${PIXEL}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ data: events, ...extra }),
  });

describe("/tr, the browser pixel's endpoint", () => {
  it("takes what the web pixel sends by GET, answers a GIF, and records the event", async () => {
    const res = await tr(purchaseParams());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/gif");
    expect(sandbox.browserEvents(PIXEL)).toEqual([
      {
        pixelId: PIXEL,
        eventName: "Purchase",
        eventId: "5001",
        fbp: FBP,
        fbc: FBC,
        url: "https://shop.example.com/checkouts/c/abc/thank-you",
        customData: { value: "82.25", currency: "USD", contents: '[{"id":"46123456789012","quantity":1}]' },
        userData: { em: sha("jane@example.com") },
        ldu: false,
        sentAt: START,
        method: "GET",
        receivedAt: START,
      },
    ]);
  });

  it("takes a POST form body (the pixel's long requests) at /tr without the slash, and LDU", async () => {
    const body = purchaseParams({ dpo: "LDU", dpoco: "0", dpost: "0" });
    const res = await fetch(`${sandbox.url}/tr`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    });
    expect(res.status).toBe(200);
    expect(sandbox.browserEvents()).toMatchObject([{ eventId: "5001", method: "POST", ldu: true }]);
  });

  it.each([
    ["no pixel id", { id: "" }, /^id:/],
    ["a pixel id that is not one", { id: "px-1" }, /^id:/],
    ["no event name", { ev: "" }, /^ev:/],
    ["a malformed fbc", { fbc: "IwAR2F4-Nn8kXq_7" }, /^fbc:/],
    ["a malformed fbp", { fbp: "fb.1.abc.1" }, /^fbp:/],
    ["an email not hashed", { "ud[em]": "jane@example.com" }, /^ud\.em:/],
    ["a time in seconds", { ts: "17951808" }, /^ts:/],
  ])("refuses %s (400) and records nothing", async (_name, change, problem) => {
    const res = await tr(purchaseParams(change));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(problem);
    expect(sandbox.browserEvents()).toEqual([]);
  });

  it("refuses a pixel that does not exist, and more than its bound of parameters or bytes", async () => {
    expect((await tr(purchaseParams({ id: "999" }))).status).toBe(400);
    const many = purchaseParams();
    for (let i = 0; i < 200; i++) many.set(`x${i}`, "1");
    expect((await tr(many)).status).toBe(400);
    const big = purchaseParams({ "cd[note]": "x".repeat(MAX_TR_BYTES) });
    const res = await fetch(`${sandbox.url}/tr/`, { method: "POST", body: big.toString() });
    expect(res.status).toBe(413);
    expect(sandbox.browserEvents()).toEqual([]);
  });
});

describe("browser and server copies, counted as Meta counts them", () => {
  it("a server Purchase and the browser's with the same event id: two received, one counted", async () => {
    expect((await postServer([serverPurchase()])).status).toBe(200);
    clock += 60_000;
    await tr(purchaseParams());
    await tr(purchaseParams({ ev: "PageView", eid: "" }));
    const counts = sandbox.eventCounts(PIXEL);
    expect(counts.byEvent.Purchase).toEqual({ received: 2, browser: 1, server: 1, counted: 1 });
    expect(counts).toMatchObject({ received: 3, counted: 2 });
    const control = await fetch(`${sandbox.url}/__sandbox/counts?pixel=${PIXEL}`);
    expect(await control.json()).toEqual(counts);
    expect(
      (await fetch(`${sandbox.url}/__sandbox/browser-events?pixel=${PIXEL}`).then((r) => r.json())) as unknown[],
    ).toHaveLength(2);
  });

  it("different event ids are two Purchases; Test events are left out of the counts", async () => {
    await postServer([serverPurchase("5002")]);
    await postServer([serverPurchase("5001")], { test_event_code: "TEST1" });
    await tr(purchaseParams());
    expect(sandbox.eventCounts(PIXEL).byEvent.Purchase).toEqual({ received: 2, browser: 1, server: 1, counted: 2 });
  });

  it("Dataset Quality's coverage counts the browser events /tr received", async () => {
    await postServer([serverPurchase("5001")]);
    await tr(purchaseParams());
    await tr(purchaseParams({ eid: "5002" }));
    const res = await fetch(
      `${sandbox.url}/v21.0/dataset_quality?dataset_id=${PIXEL}&fields=web{event_name,event_coverage}&access_token=${TOKEN}`,
    );
    expect(await res.json()).toEqual({ web: [{ event_name: "Purchase", event_coverage: { percentage: 50 } }] });
  });

  it("reset forgets browser events and counts", async () => {
    await tr(purchaseParams());
    sandbox.reset();
    expect(sandbox.browserEvents()).toEqual([]);
    expect(sandbox.eventCounts(PIXEL).received).toBe(0);
  });
});

describe("the stand-in's fbevents.js", () => {
  it("is served where connect.facebook.net serves Meta's, sending to this stand-in's /tr", async () => {
    const res = await fetch(`${sandbox.url}/en_US/fbevents.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    const script = await res.text();
    expect(script).toContain(JSON.stringify(`${sandbox.url}/tr/`));
    // It parses as a script.
    expect(() => new Function(script)).not.toThrow();
  });
});
