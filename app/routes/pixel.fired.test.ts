// POST /pixel/fired: the web pixel's report of the ids it fired. Real PostgreSQL and Redis; the
// URL as the app puts it into the pixel's settings (firedIdsUrl).
import { randomBytes } from "node:crypto";
import type { ActionFunctionArgs } from "@remix-run/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../../test/support/services";
import {
  FIRED_REPORTS_PER_MINUTE,
  MAX_FIRED_BODY_BYTES,
  MAX_FIRED_PER_REPORT,
  firedIdsUrl,
} from "../pipeline/fired-ids";

const SECRET = "test-fired-secret";
const SHOP = "fired.myshopify.com";
const OTHER = "fired-other.myshopify.com";
const APP = "https://app.example.com";

type Action = (args: ActionFunctionArgs) => Promise<Response>;
let db: TestDatabase;
let action: Action;

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return action({
    request: new Request(url, { method: "POST", headers: { "Content-Type": "text/plain", ...headers }, body }),
    params: {},
    context: {},
  });
}
const report = (events: Array<{ name: string; id: string }>) => JSON.stringify({ events });
const stored = async (shop: string) =>
  (await db.prisma.browserEvent.findMany({ where: { shop }, orderBy: { eventId: "asc" } })).map(
    (r) => `${r.eventName}:${r.eventId}`,
  );

beforeAll(async () => {
  db = await createTestDatabase();
  Object.assign(process.env, {
    SHOPIFY_API_SECRET: SECRET,
    SHOPIFY_API_KEY: "test-key",
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: uniquePrefix(),
    NODE_ENV: "test",
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  });
  action = (await import("./pixel.fired")).action;
  const { handleInstalled } = await import("../pipeline/privacy.server");
  await handleInstalled(db.prisma, SHOP);
  await handleInstalled(db.prisma, OTHER);
});
afterAll(async () => {
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

describe("POST /pixel/fired", () => {
  it("stores the reported names and ids for the shop of the token, once each", async () => {
    const url = firedIdsUrl(APP, SECRET, SHOP);
    const first = await post(
      url,
      report([
        { name: "Purchase", id: "5001" },
        { name: "InitiateCheckout", id: "tok-a_1" },
      ]),
    );
    expect(first.status).toBe(204);
    // A repeat (a reload) is kept once.
    expect((await post(url, report([{ name: "Purchase", id: "5001" }]))).status).toBe(204);
    expect(await stored(SHOP)).toEqual(["Purchase:5001", "InitiateCheckout:tok-a_1"]);
    // No CORS header: no page may read the answer (the pixel posts no-cors and needs none).
    expect(first.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses a missing or wrong token, and another shop's token for this shop", async () => {
    const good = new URL(firedIdsUrl(APP, SECRET, SHOP));
    const otherToken = new URL(firedIdsUrl(APP, SECRET, OTHER)).searchParams.get("token")!;
    const cases: Array<[string, (u: URL) => void]> = [
      ["no token", (u) => u.searchParams.delete("token")],
      ["a token of the other shop", (u) => u.searchParams.set("token", otherToken)],
      [
        "a token made with another secret",
        (u) => u.searchParams.set("token", new URL(firedIdsUrl(APP, "x", SHOP)).searchParams.get("token")!),
      ],
      ["no shop", (u) => u.searchParams.delete("shop")],
      ["a shop that is not a shop", (u) => u.searchParams.set("shop", "evil.example.com")],
      ["the other shop with this shop's token", (u) => u.searchParams.set("shop", OTHER)],
    ];
    for (const [name, change] of cases) {
      const url = new URL(good);
      change(url);
      const response = await post(url.toString(), report([{ name: "Purchase", id: "6001" }]));
      expect(response.status, name).toBe(401);
    }
    expect(await stored(OTHER)).toEqual([]);
    expect(await stored(SHOP)).not.toContain("Purchase:6001");
  });

  it("refuses bad bodies with the reason, and stores nothing of them", async () => {
    const url = firedIdsUrl(APP, SECRET, OTHER);
    const many = Array.from({ length: MAX_FIRED_PER_REPORT + 1 }, (_, i) => ({
      name: "Purchase",
      id: String(7000 + i),
    }));
    const cases: Array<[string, string, number, RegExp]> = [
      ["not JSON", "events=1", 400, /not JSON/],
      ["no events", JSON.stringify({ events: [] }), 400, /events/],
      ["too many events", report(many), 400, /events/],
      ["an email as id", report([{ name: "Purchase", id: "ann@example.com" }]), 400, /not an event id/],
      ["an event the server never sends", report([{ name: "PageView", id: "1" }]), 400, /events\.0\.name/],
      [
        "a customer field beside the ids",
        JSON.stringify({ events: [{ name: "Purchase", id: "1", em: "x" }] }),
        400,
        /events\.0/,
      ],
      [
        "another key",
        JSON.stringify({ events: [{ name: "Purchase", id: "1" }], email: "ann@example.com" }),
        400,
        /body|Unrecognized/,
      ],
      ["too large", report([{ name: "Purchase", id: "1".repeat(MAX_FIRED_BODY_BYTES) }]), 413, /exceeds/],
    ];
    for (const [name, body, status, reason] of cases) {
      const response = await post(url, body);
      expect(response.status, name).toBe(status);
      expect(await response.text(), name).toMatch(reason);
    }
    expect(await stored(OTHER)).toEqual([]);
  });

  it("keeps nothing for a shop that uninstalled the app", async () => {
    const gone = "fired-gone.myshopify.com";
    const { handleInstalled, handleUninstalled } = await import("../pipeline/privacy.server");
    await handleInstalled(db.prisma, gone);
    await handleUninstalled(db.prisma, gone);
    expect((await post(firedIdsUrl(APP, SECRET, gone), report([{ name: "Purchase", id: "1" }]))).status).toBe(404);
    expect(await stored(gone)).toEqual([]);
  });

  it("answers 429 past the shop's reports per minute, while another shop still reports", async () => {
    const busy = "fired-busy.myshopify.com";
    const { handleInstalled } = await import("../pipeline/privacy.server");
    await handleInstalled(db.prisma, busy);
    const url = firedIdsUrl(APP, SECRET, busy);
    // The limit is per minute: a test crossing a minute boundary starts a fresh window, so it
    // counts what it sees rather than expecting the 429 at an exact position. Twice the limit and
    // one more, sent in seconds, fall in at most two windows: one of them goes past the limit.
    const statuses: number[] = [];
    for (let i = 0; i < 2 * FIRED_REPORTS_PER_MINUTE + 1; i++) {
      statuses.push((await post(url, report([{ name: "InitiateCheckout", id: `t${i}` }]))).status);
    }
    const limited = statuses.filter((s) => s === 429).length;
    expect(statuses.filter((s) => s !== 204 && s !== 429)).toEqual([]);
    expect(limited).toBeGreaterThan(0);
    expect(await db.prisma.browserEvent.count({ where: { shop: busy } })).toBe(statuses.length - limited);
    expect((await post(firedIdsUrl(APP, SECRET, OTHER), report([{ name: "Purchase", id: "8001" }]))).status).toBe(204);
  });
});
