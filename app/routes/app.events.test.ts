// The Events page as the embedded admin reaches it: session tokens signed with the app's secret
// (Shopify's own test helper), offline sessions stored, the real PostgreSQL and Redis. Its list,
// filters, search and pages, its retries and its CSV export, each number against a SQL count
// over the seeded events; a second shop sees nothing of the first. Dates are built from today.
import { randomBytes, randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { adminRequest, formPost, offlineSession, settle } from "../../test/support/admin-requests";
import { atShop, shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";
import { signedWebhookRequest } from "../../test/support/shopify-webhooks";
import { CSV_COLUMNS } from "../admin/events-csv";
import { sha256Hex } from "../meta/user-data";
import { redisConnection, QUEUE_NAME } from "../pipeline/queue.server";
import { RETRIED_DETAIL } from "../pipeline/retry-rule";

const API_KEY = "events-test-key";
const API_SECRET = "events-test-secret";
const APP_URL = "https://capi-relay.example.com";
const A = "events-a.myshopify.com";
const B = "events-b.myshopify.com";
const PREFIX = `events-test-${randomBytes(4).toString("hex")}`;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const BUYER_IP = "203.0.113.9";
const BUYER_UA = "Mozilla/5.0 (events test browser)";
const HASH = sha256Hex("jane@example.com");
const D1 = randomUUID();
const D2 = randomUUID();
const DB_ = randomUUID();
const SEEDED = 130;

type Loader = (args: LoaderFunctionArgs) => Promise<Response>;
type Action = (args: ActionFunctionArgs) => Promise<Response>;
let db: TestDatabase;
let route: { loader: Loader; action: Action };
let exportRoute: { loader: Loader };
let orderCreated: Action;
const now = new Date();

const APP = { apiKey: API_KEY, apiSecret: API_SECRET, appUrl: APP_URL };
const fromAdmin = (store: string, path: string, routeId: string, init: RequestInit = {}, secret = API_SECRET) =>
  adminRequest(APP, store, path, { routeId, init, secret });

interface ListData {
  events: Array<{
    id: string;
    eventId: string;
    eventName: string;
    state: string;
    orderName: string | null;
    pixel: string;
    payload: unknown;
    retry: { allowed: boolean; reason?: string };
  }>;
  next: string | null;
  prev: string | null;
  count: number;
  countCapped: boolean;
  retryCandidates: number;
  errors: Record<string, string>;
  pixels: Array<{ id: string; name: string }>;
}

async function list(store: string, query = "", secret = API_SECRET): Promise<{ status: number; data: ListData }> {
  const response = await settle(
    route.loader({
      request: await fromAdmin(store, `/app/events${query ? `?${query}` : ""}`, "routes/app.events", {}, secret),
      params: {},
      context: {},
    }),
  );
  return { status: response.status, data: response.status === 200 ? await response.json() : null };
}

async function post(store: string, fields: Record<string, string>, secret = API_SECRET) {
  const request = await fromAdmin(store, "/app/events", "routes/app.events", formPost(fields), secret);
  const response = await settle(route.action({ request, params: {}, context: {} }));
  return { status: response.status, body: response.status === 401 ? null : await response.json() };
}

async function exportCsv(store: string, query = "", secret = API_SECRET) {
  const request = await fromAdmin(store, `/app/events/export${query ? `?${query}` : ""}`, "", {}, secret);
  const response = await settle(exportRoute.loader({ request, params: {}, context: {} }));
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A SQL count of the shop's events under a condition, written apart from the app's query. */
async function sqlCount(shop: string, condition = "TRUE", ...params: unknown[]): Promise<number> {
  const rows = await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
    `SELECT COUNT(*)::int AS n FROM "Event" WHERE "shop" = $1 AND (${condition})`,
    shop,
    ...params,
  );
  return rows[0]!.n;
}

const STATES = ["sent", "rejected", "sent", "invalid", "expired", "queued", "paused", "sent", "retrying", "rejected"];

function payloadOf(i: number, name: string, eventId: string, eventTime: Date, state: string) {
  const pending = ["queued", "paused", "retrying"].includes(state);
  return {
    event_name: name,
    event_id: eventId,
    event_time: Math.floor(eventTime.getTime() / 1000),
    action_source: "website",
    event_source_url: `https://${A}/checkouts/${i}`,
    custom_data: { value: 10 + i, currency: "USD" },
    // Invalid ones break Meta's rules as stored: nothing to match the buyer on.
    user_data:
      state === "invalid"
        ? {}
        : { em: HASH, ...(pending ? { client_ip_address: BUYER_IP, client_user_agent: BUYER_UA } : {}) },
  };
}

async function seed() {
  // Shop A: 130 events two hours apart (the oldest 10 days old), all states, two pixels, both
  // event names; the 50th and 51st share a moment (a page boundary inside a tie).
  for (let i = 0; i < SEEDED; i++) {
    const createdAt = new Date(now.getTime() - (i === 50 ? 49 : i) * 2 * HOUR_MS - 60_000);
    const name = i % 3 === 0 ? "InitiateCheckout" : "Purchase";
    const eventId = name === "Purchase" ? String(5_000_000_000_000 + i) : `tok-${i}`;
    const state = STATES[i % STATES.length]!;
    await db.prisma.event.create({
      data: {
        shop: A,
        eventName: name,
        eventId,
        topic: name === "Purchase" ? "orders/create" : "checkouts/create",
        state,
        destinationId: i % 4 < 2 ? D1 : D2,
        pixelId: i % 4 < 2 ? "111111111111111" : "222222222222222",
        orderName: name === "Purchase" ? `#${3000 + i}` : null,
        eventTime: new Date(createdAt.getTime() - 60_000),
        createdAt,
        attempts: state === "sent" || state === "rejected" ? 1 : 0,
        reason: state === "rejected" ? "Meta error 100/2804050: Invalid parameter" : null,
        payload: payloadOf(i, name, eventId, new Date(createdAt.getTime() - 60_000), state),
        history: { create: [{ at: createdAt, state: "queued", detail: "from orders/create" }] },
      },
    });
  }
  // Order #2001: its Purchase for both pixels and the InitiateCheckout of its checkout.
  const at = new Date(now.getTime() - 30 * 60_000);
  for (const [destinationId, name, eventId] of [
    [D1, "Purchase", "7000000000001"],
    [D2, "Purchase", "7000000000001"],
    [D1, "InitiateCheckout", "ck-2001"],
  ] as const) {
    await db.prisma.event.create({
      data: {
        shop: A,
        eventName: name,
        eventId,
        topic: name === "Purchase" ? "orders/create" : "checkouts/create",
        state: "sent",
        destinationId,
        orderName: name === "Purchase" ? "#2001" : null,
        checkoutToken: name === "Purchase" ? "ck-2001" : null,
        eventTime: at,
        createdAt: at,
        payload: payloadOf(0, name, eventId, at, "sent"),
      },
    });
  }
  // Shop B: its own order #1001 and a rejected event; shop A must never see them, nor B A's.
  for (const [i, state] of ["rejected", "sent", "sent"].entries()) {
    const createdAt = new Date(now.getTime() - (i + 1) * HOUR_MS);
    await db.prisma.event.create({
      data: {
        shop: B,
        eventName: "Purchase",
        eventId: `900000000000${i}`,
        topic: "orders/create",
        state,
        destinationId: DB_,
        orderName: "#1001",
        eventTime: createdAt,
        createdAt,
        payload: payloadOf(i, "Purchase", `900000000000${i}`, createdAt, state),
      },
    });
  }
}

let queue: Queue;

beforeAll(async () => {
  db = await createTestDatabase();
  Object.assign(process.env, {
    NODE_ENV: "test",
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: APP_URL,
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: PREFIX,
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  });
  const { database } = await import("../process-clients.server");
  await database().ready;
  const { sessionStorage } = await import("../shopify.server");
  const { handleInstalled } = await import("../pipeline/privacy.server");
  for (const shop of [A, B]) {
    await handleInstalled(db.prisma, shop);
    await sessionStorage.storeSession(offlineSession(shop, { scope: "read_orders" }));
  }
  const destination = (id: string, shop: string, pixelId: string, label: string | null) =>
    db.prisma.destination.create({
      data: { id, shop, pixelId, label, accessTokenEnc: `sealed-${id}`, tokenFingerprint: `fp-${id}` },
    });
  await destination(D1, A, "111111111111111", "Brand A");
  await destination(D2, A, "222222222222222", null);
  await destination(DB_, B, "333333333333333", "Shop B pixel");
  await seed();
  route = (await import("./app.events")) as unknown as typeof route;
  exportRoute = (await import("./app.events.export")) as unknown as typeof exportRoute;
  orderCreated = (await import("./webhooks.orders.create")).action as unknown as Action;
  queue = new Queue(QUEUE_NAME, { connection: redisConnection(REDIS_URL), prefix: PREFIX });
});

afterAll(async () => {
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

describe("the Events page", () => {
  it("refuses a request without a valid session token: list, retry and export", async () => {
    expect((await list("events-a", "", "not-the-secret")).status).toBe(401);
    expect((await post("events-a", { intent: "retry-all", filter: "" }, "not-the-secret")).status).toBe(401);
    const csv = await exportCsv("events-a", "", "not-the-secret");
    expect(csv.status).toBe(401);
    expect(csv.text).not.toContain("5000000000001");
  });

  it("lists the shop's events newest first, 50 a page, every one once across the pages, both ways", async () => {
    const total = await sqlCount(A);
    const order = await db.prisma.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT "id"::text AS id FROM "Event" WHERE "shop" = $1 ORDER BY "createdAt" DESC, "id" DESC`,
      A,
    );
    const first = await list("events-a");
    expect(first.status).toBe(200);
    expect(first.data.count).toBe(total);
    expect(first.data.countCapped).toBe(false);
    expect(first.data.events).toHaveLength(50);
    expect(first.data.prev).toBeNull();
    expect(first.data.pixels).toEqual([
      { id: D1, name: "Brand A" },
      { id: D2, name: "222222222222222" },
    ]);
    const pages = [first.data];
    let next = first.data.next;
    while (next) {
      const page = await list("events-a", `cursor=${next}`);
      pages.push(page.data);
      next = page.data.next;
    }
    expect(pages.map((p) => p.events.length)).toEqual([50, 50, total - 100]);
    expect(pages.flatMap((p) => p.events.map((e) => e.id))).toEqual(order.map((r) => r.id));
    // Back from the third page: the second, then the first (no newer page before it).
    const second = await list("events-a", `cursor=${pages[2]!.prev}&dir=prev`);
    expect(second.data.events.map((e) => e.id)).toEqual(pages[1]!.events.map((e) => e.id));
    const back = await list("events-a", `cursor=${second.data.prev}&dir=prev`);
    expect(back.data.events.map((e) => e.id)).toEqual(pages[0]!.events.map((e) => e.id));
    expect(back.data.prev).toBeNull();
    expect(back.data.next).not.toBeNull();
  });

  it("masks the buyer's IP and user agent of events still to be sent", async () => {
    const { data } = await list("events-a", "state=queued");
    expect(data.events.length).toBeGreaterThan(0);
    const text = JSON.stringify(data);
    expect(text).not.toContain(BUYER_IP);
    expect(text).not.toContain(BUYER_UA);
    expect(text).toContain("203.0.113.x");
  });

  const filters: Array<[string, string, string, unknown[]]> = [
    ["by state", "state=rejected", `"state" = $2`, ["rejected"]],
    ["by event name", "event=InitiateCheckout", `"eventName" = $2`, ["InitiateCheckout"]],
    ["by pixel", `destination=${D2}`, `"destinationId" = $2`, [D2]],
    [
      "by state, event and pixel",
      `state=sent&event=Purchase&destination=${D1}`,
      `"state" = 'sent' AND "eventName" = 'Purchase' AND "destinationId" = $2`,
      [D1],
    ],
  ];
  it.each(filters)("filters %s: the count and the rows are the SQL's", async (_, query, condition, params) => {
    const expected = await sqlCount(A, condition, ...params);
    expect(expected).toBeGreaterThan(0);
    const { data } = await list("events-a", query);
    expect(data.count).toBe(expected);
    expect(data.events).toHaveLength(Math.min(50, expected));
    const ids = await db.prisma.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT "id"::text AS id FROM "Event" WHERE "shop" = $1 AND (${condition}) ORDER BY "createdAt" DESC, "id" DESC LIMIT 50`,
      A,
      ...params,
    );
    expect(data.events.map((e) => e.id)).toEqual(ids.map((r) => r.id));
  });

  it("filters by a date range of whole UTC days, the end day included", async () => {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const from = day(now.getTime() - 5 * DAY_MS);
    const to = day(now.getTime() - 2 * DAY_MS);
    const expected = await sqlCount(A, `"createdAt" >= $2::date AND "createdAt" < ($3::date + 1)`, from, to);
    const { data } = await list("events-a", `from=${from}&to=${to}`);
    expect(data.count).toBe(expected);
    expect(expected).toBeGreaterThan(0);
  });

  it("says what was wrong with a filter and lists as if it were not given", async () => {
    const { status, data } = await list("events-a", "state=lost&event=Purchase");
    expect(status).toBe(200);
    expect(data.errors).toEqual({ state: expect.stringContaining("states listed") });
    expect(data.count).toBe(await sqlCount(A, `"eventName" = 'Purchase'`));
  });

  it.each([
    ["the order name", "%232001"],
    ["the order number without #", "2001"],
    ["the order id", "7000000000001"],
    ["the checkout token", "ck-2001"],
  ])("finds an order's events by %s: its Purchase for each pixel and its InitiateCheckout", async (_, q) => {
    const { data } = await list("events-a", `q=${q}`);
    expect(data.count).toBe(3);
    expect(data.events.map((e) => `${e.eventName} ${e.eventId} ${e.pixel}`).sort()).toEqual([
      "InitiateCheckout ck-2001 Brand A",
      "Purchase 7000000000001 222222222222222",
      "Purchase 7000000000001 Brand A",
    ]);
  });

  it("stores a Purchase's order name at ingest and finds the order by it; another shop's #1001 stays its own", async () => {
    const order = atShop(shopifyFixture("orders-create-web"), A);
    const request = signedWebhookRequest(APP_URL, {
      topic: "orders/create",
      shop: A,
      payload: order,
      secret: API_SECRET,
    });
    const response = await settle(orderCreated({ request, params: {}, context: {} }));
    expect(response.status).toBe(200);
    expect(await sqlCount(A, `"orderName" = $2 AND "eventId" = $3`, order.name, String(order.id))).toBe(2);
    const { data } = await list("events-a", `q=${encodeURIComponent(order.name)}`);
    expect(data.events.map((e) => [e.eventId, e.orderName])).toEqual([
      [String(order.id), order.name],
      [String(order.id), order.name],
    ]);
    const other = await list("events-b", `q=${encodeURIComponent(order.name)}`);
    expect(other.data.count).toBe(await sqlCount(B, `"orderName" = $2`, order.name));
    expect(other.data.events.every((e) => e.eventId.startsWith("900000000000"))).toBe(true);
  });

  it("shows another shop only its own events", async () => {
    const { data } = await list("events-b");
    expect(data.count).toBe(await sqlCount(B));
    expect(JSON.stringify(data)).not.toContain("5000000000001");
    expect(data.pixels).toEqual([{ id: DB_, name: "Shop B pixel" }]);
    const searched = await list("events-b", "q=7000000000001");
    expect(searched.data.count).toBe(0);
  });

  it("says for each event whether it may be sent again, and why not", async () => {
    const { data } = await list("events-a", "state=rejected");
    const young = data.events.filter(
      (e) => Date.now() - (e.payload as { event_time: number }).event_time * 1000 < 7 * DAY_MS,
    );
    const old = data.events.filter((e) => !young.includes(e));
    expect(young.length).toBeGreaterThan(0);
    expect(old.length).toBeGreaterThan(0);
    expect(young.every((e) => e.retry.allowed)).toBe(true);
    expect(old.every((e) => !e.retry.allowed && /up to 7 days/.test(e.retry.reason!))).toBe(true);
    const sent = await list("events-a", "state=sent");
    expect(sent.data.events[0]!.retry).toEqual({ allowed: false, reason: expect.stringContaining("already accepted") });
  });
});

describe("retrying events", () => {
  async function flushJobs(): Promise<string[]> {
    const jobs = await queue.getJobs(["waiting", "delayed", "prioritized"]);
    return jobs.map((j) => (j.data as { shop: string }).shop);
  }

  it("sends one rejected event again: queued now, the merchant's retry in its history, the shop announced", async () => {
    const target = await db.prisma.event.findFirstOrThrow({
      where: { shop: A, state: "rejected", createdAt: { gte: new Date(now.getTime() - DAY_MS) } },
      orderBy: { createdAt: "desc" },
    });
    const { status, body } = await post("events-a", { intent: "retry-one", id: target.id.toString() });
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, retried: 1, notRetried: [], more: false });
    expect(body.message).toMatch(/^1 event sent again/);
    const row = await db.prisma.event.findUniqueOrThrow({ where: { id: target.id }, include: { history: true } });
    expect(row.state).toBe("queued");
    expect(row.reason).toBeNull();
    expect(row.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(row.history.at(-1)).toMatchObject({ state: "queued", detail: RETRIED_DETAIL });
    expect(await flushJobs()).toContain(A);
  });

  it("does not send again a delivered event nor one past Meta's window, and says why", async () => {
    const sent = await db.prisma.event.findFirstOrThrow({ where: { shop: A, state: "sent" } });
    const one = await post("events-a", { intent: "retry-one", id: sent.id.toString() });
    expect(one.body).toMatchObject({
      ok: true,
      retried: 0,
      notRetried: [{ count: 1, reason: expect.stringContaining("already accepted") }],
    });
    const old = await db.prisma.event.findFirstOrThrow({
      where: { shop: A, state: "rejected", eventTime: { lt: new Date(now.getTime() - 8 * DAY_MS) } },
    });
    const late = await post("events-a", { intent: "retry-one", id: old.id.toString() });
    expect(late.body.retried).toBe(0);
    expect(late.body.message).toMatch(
      /not sent: Meta accepts events up to 7 days after the conversion; this one is \d+ days old/,
    );
    expect((await db.prisma.event.findUniqueOrThrow({ where: { id: old.id } })).state).toBe("rejected");
  });

  it("refuses another shop's event and a malformed request, touching nothing", async () => {
    const theirs = await db.prisma.event.findFirstOrThrow({ where: { shop: B, state: "rejected" } });
    const foreign = await post("events-a", { intent: "retry-one", id: theirs.id.toString() });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ ok: false, message: expect.stringContaining("no longer exists") });
    expect((await db.prisma.event.findUniqueOrThrow({ where: { id: theirs.id } })).state).toBe("rejected");
    expect((await post("events-a", { intent: "retry-one", id: "1; DROP" })).status).toBe(400);
    expect((await post("events-a", { intent: "explode" })).status).toBe(400);
  });

  it("sends again every retryable event of the filter, and counts the rest by reason", async () => {
    const young = `"state" = 'rejected' AND "eventTime" > $2`;
    const windowStart = new Date(Date.now() - 7 * DAY_MS);
    const retryable = await sqlCount(A, young, windowStart);
    // Invalid ones past the window are counted as too old: the window is the first thing said.
    const invalidYoung = await sqlCount(A, `"state" = 'invalid' AND "eventTime" > $2`, windowStart);
    const tooOld = await sqlCount(A, `"state" IN ('rejected', 'invalid') AND "eventTime" <= $2`, windowStart);
    expect(retryable).toBeGreaterThan(0);
    expect(tooOld).toBeGreaterThan(0);
    const before = await sqlCount(A, `"state" = 'queued'`);
    const { status, body } = await post("events-a", { intent: "retry-all", filter: "" });
    expect(status).toBe(200);
    expect(body.retried).toBe(retryable);
    expect(body.notRetried).toEqual(
      [
        { code: "too_old", reason: expect.stringContaining("up to 7 days"), count: tooOld },
        { code: "still_invalid", reason: expect.stringContaining("still break Meta's rules"), count: invalidYoung },
      ].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
    );
    expect(body.notRetried.reduce((s: number, r: { count: number }) => s + r.count, 0)).toBe(tooOld + invalidYoung);
    expect(await sqlCount(A, `"state" = 'queued'`)).toBe(before + retryable);
    const history = await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
      `SELECT COUNT(*)::int AS n FROM "EventTransition" t JOIN "Event" e ON e."id" = t."eventPk" WHERE e."shop" = $1 AND t."detail" = $2`,
      A,
      RETRIED_DETAIL,
    );
    // This one and the single retry before it.
    expect(history[0]!.n).toBe(retryable + 1);
    // The other shop's rejected event is untouched.
    expect(await sqlCount(B, `"state" = 'rejected'`)).toBe(1);
  });

  it("retries only within the filter given", async () => {
    // The events retried above are rejected again (Meta refused them once more, say).
    await db.prisma.event.updateMany({
      where: { shop: A, state: "queued", reason: null, attempts: 1 },
      data: { state: "rejected" },
    });
    const window = new Date(Date.now() - 7 * DAY_MS);
    const inD1 = await sqlCount(A, `"state" = 'rejected' AND "destinationId" = $2 AND "eventTime" > $3`, D1, window);
    const d2Rejected = await sqlCount(A, `"state" = 'rejected' AND "destinationId" = $2`, D2);
    expect(inD1).toBeGreaterThan(0);
    expect(d2Rejected).toBeGreaterThan(0);
    const { body } = await post("events-a", { intent: "retry-all", filter: `destination=${D1}` });
    expect(body.retried).toBe(inD1);
    expect(await sqlCount(A, `"state" = 'rejected' AND "destinationId" = $2`, D2)).toBe(d2Rejected);
    expect((await post("events-a", { intent: "retry-all", filter: "from=not-a-date" })).body).toMatchObject({
      ok: false,
      message: expect.stringContaining("YYYY-MM-DD"),
    });
  });
});

describe("the CSV export", () => {
  function rows(text: string): string[][] {
    return text
      .replace(/^\uFEFF/, "")
      .trimEnd()
      .split("\r\n")
      .map((line) => line.split(","));
  }

  it("streams the filtered list, one line per event, hashed data only, named for the shop and day", async () => {
    const all = await exportCsv("events-a");
    expect(all.status).toBe(200);
    expect(all.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(all.headers.get("Content-Disposition")).toBe(
      `attachment; filename="capi-events-events-a-${new Date().toISOString().slice(0, 10)}.csv"`,
    );
    const lines = rows(all.text);
    expect(lines[0]).toEqual([...CSV_COLUMNS]);
    expect(lines.length - 1).toBe(await sqlCount(A));
    expect(all.text).not.toContain(BUYER_IP);
    expect(all.text).not.toContain(BUYER_UA);
    expect(all.text).not.toContain(HASH);
    expect(all.text).not.toContain("900000000000");

    const filtered = await exportCsv("events-a", `state=sent&event=Purchase&destination=${D1}`);
    const expected = await sqlCount(A, `"state" = 'sent' AND "eventName" = 'Purchase' AND "destinationId" = $2`, D1);
    expect(rows(filtered.text).length - 1).toBe(expected);
    const state = CSV_COLUMNS.indexOf("state");
    expect(
      rows(filtered.text)
        .slice(1)
        .every((r) => r[state] === "sent"),
    ).toBe(true);
  });

  it("gives another shop only its own events, and refuses a bad filter", async () => {
    const theirs = await exportCsv("events-b");
    expect(rows(theirs.text).length - 1).toBe(await sqlCount(B));
    expect(theirs.text).not.toContain("5000000000001");
    expect((await exportCsv("events-a", "from=yesterday")).status).toBe(400);
  });
});
