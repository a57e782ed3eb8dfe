// `capi events` and `capi retry` against the real PostgreSQL and Redis: a shop's events as the
// Events page filters them, in JSON or CSV, each count against SQL; and events sent again under
// the page's rule, the shop announced to the delivery queue. Dates are built from today.
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";
import { CSV_COLUMNS } from "../admin/events-csv";
import { sha256Hex } from "../meta/user-data";
import { QUEUE_NAME, redisConnection } from "../pipeline/queue.server";
import { RETRIED_DETAIL } from "../pipeline/retry-rule";

const ROOT = path.resolve(__dirname, "../..");
const A = "cli-events-a.myshopify.com";
const B = "cli-events-b.myshopify.com";
const PREFIX = `cli-events-${randomBytes(4).toString("hex")}`;
const HOUR_MS = 3_600_000;
const BUYER_IP = "198.51.100.23";
const D1 = randomUUID();
const D2 = randomUUID();

let db: TestDatabase;
let queue: Queue;

function capi(args: string[]) {
  const result = spawnSync(
    process.execPath,
    [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "app/cli/capi.ts", ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NODE_ENV: "development", DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: PREFIX },
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function sqlCount(shop: string, condition = "TRUE", ...params: unknown[]): Promise<number> {
  const rows = await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
    `SELECT COUNT(*)::int AS n FROM "Event" WHERE "shop" = $1 AND (${condition})`,
    shop,
    ...params,
  );
  return rows[0]!.n;
}

// [hours ago, event name, event id, state, order name, pixel]
const SEEDED: Array<[number, string, string, string, string | null, string]> = [
  [1, "Purchase", "8100000000001", "rejected", "#1001", D1],
  [1, "Purchase", "8100000000001", "sent", "#1001", D2],
  [2, "InitiateCheckout", "ck-1001", "sent", null, D1],
  [5, "Purchase", "8100000000002", "rejected", "#1002", D1],
  [30, "Purchase", "8100000000003", "sent", "#1003", D1],
  [31, "Purchase", "8100000000004", "queued", "#1004", D2],
  [60, "InitiateCheckout", "ck-1005", "rejected", null, D1],
  [200, "Purchase", "8100000000006", "rejected", "#1006", D1],
  [210, "Purchase", "8100000000007", "expired", "#1007", D2],
];

beforeAll(async () => {
  db = await createTestDatabase();
  for (const [id, shop, pixelId, label] of [
    [D1, A, "111111111111111", "Main"],
    [D2, A, "222222222222222", null],
  ] as const) {
    await db.prisma.destination.create({
      data: { id, shop, pixelId, label, accessTokenEnc: `sealed-${id}`, tokenFingerprint: `fp-${id}` },
    });
  }
  for (const [hours, name, eventId, state, orderName, destinationId] of SEEDED) {
    const createdAt = new Date(Date.now() - hours * HOUR_MS);
    await db.prisma.event.create({
      data: {
        shop: A,
        eventName: name,
        eventId,
        topic: name === "Purchase" ? "orders/create" : "checkouts/create",
        state,
        destinationId,
        orderName,
        checkoutToken: eventId === "8100000000001" ? "ck-1001" : null,
        eventTime: createdAt,
        createdAt,
        reason: state === "rejected" ? "Meta error 100/2804050: Invalid parameter" : null,
        payload: {
          event_name: name,
          event_id: eventId,
          event_time: Math.floor(createdAt.getTime() / 1000),
          action_source: "website",
          event_source_url: `https://${A}/orders/${eventId}`,
          user_data: {
            em: sha256Hex(`${eventId}@example.com`),
            ...(state === "queued" ? { client_ip_address: BUYER_IP } : {}),
          },
          custom_data: { value: 25, currency: "EUR" },
        },
      },
    });
  }
  await db.prisma.event.create({
    data: {
      shop: B,
      eventName: "Purchase",
      eventId: "9100000000001",
      topic: "orders/create",
      state: "rejected",
      orderName: "#1001",
      eventTime: new Date(),
      payload: { event_name: "Purchase", event_id: "9100000000001", event_time: Math.floor(Date.now() / 1000) },
    },
  });
  queue = new Queue(QUEUE_NAME, { connection: redisConnection(REDIS_URL), prefix: PREFIX });
});

afterAll(async () => {
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  await db?.drop();
});

const json = (stdout: string) =>
  JSON.parse(stdout) as { shop: string; count: number; events: Array<Record<string, string | number | null>> };

describe("capi events", () => {
  it("lists the shop's events newest first, in the export's columns, and nothing of another shop", async () => {
    const { code, stdout, stderr } = capi(["events", "--shop", A]);
    expect(code, stderr).toBe(0);
    const out = json(stdout);
    expect(out.count).toBe(await sqlCount(A));
    expect(Object.keys(out.events[0]!)).toEqual([...CSV_COLUMNS]);
    const times = out.events.map((e) => String(e.created_at));
    expect([...times].sort().reverse()).toEqual(times);
    expect(stdout).not.toContain("9100000000001");
    expect(stdout).not.toContain(BUYER_IP);
    expect(out.events.find((e) => e.state === "rejected")).toMatchObject({
      state_label: "Rejected by Meta",
      pixel: "Main",
    });
  });

  it.each<[string, string[], string, unknown[]]>([
    ["--state", ["--state", "rejected"], `"state" = 'rejected'`, []],
    ["--event", ["--event", "InitiateCheckout"], `"eventName" = 'InitiateCheckout'`, []],
    [
      "--state and --event",
      ["--state", "sent", "--event", "Purchase"],
      `"state" = 'sent' AND "eventName" = 'Purchase'`,
      [],
    ],
    // The cut-off by this process's clock, as the CLI's own (PostgreSQL's now() is not moved by .ci/clock-ahead).
    ["--since a span", ["--since", "48h"], `"createdAt" >= $2`, [new Date(Date.now() - 48 * 3_600_000)]],
    ["--pixel", ["--pixel", "222222222222222"], `"destinationId" = $2`, [D2]],
  ])("narrows by %s as SQL counts", async (_, args, condition, params) => {
    const { code, stdout, stderr } = capi(["events", "--shop", A, ...args]);
    expect(code, stderr).toBe(0);
    const expected = await sqlCount(A, condition, ...params);
    expect(expected).toBeGreaterThan(0);
    expect(json(stdout).count).toBe(expected);
  });

  it.each([["#1001"], ["1001"], ["8100000000001"], ["ck-1001"]])(
    "finds an order's events with --order %s (its Purchase copies and its checkout)",
    (order) => {
      const { code, stdout, stderr } = capi(["events", "--shop", A, "--order", order]);
      expect(code, stderr).toBe(0);
      expect(
        json(stdout)
          .events.map((e) => `${e.event_name} ${e.event_id} ${e.state}`)
          .sort(),
      ).toEqual(["InitiateCheckout ck-1001 sent", "Purchase 8100000000001 rejected", "Purchase 8100000000001 sent"]);
    },
  );

  it("streams CSV with --format csv, one line per event, and stops at --limit", async () => {
    const all = capi(["events", "--shop", A, "--format", "csv"]);
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trimEnd().split("\r\n");
    expect(lines[0]).toBe(CSV_COLUMNS.join(","));
    expect(lines.length - 1).toBe(await sqlCount(A));
    expect(all.stdout).not.toContain(BUYER_IP);
    const two = capi(["events", "--shop", A, "--format", "csv", "--limit", "2"]);
    expect(two.stdout.trimEnd().split("\r\n")).toHaveLength(3);
  });

  it.each([
    [["--state", "lost"], /--state: Choose one of the states listed/],
    [["--event", "AddToCart"], /--event: Choose one of the events listed/],
    [["--format", "xml"], /--format must be json or csv/],
    [["--since", "yesterday"], /--since must be/],
    [["--limit", "0"], /--limit must be/],
    [["--order", "x".repeat(101)], /--order: Search with at most 100 characters/],
  ])("refuses %j with a line saying why (exit 2)", (args, message) => {
    const { code, stderr } = capi(["events", "--shop", A, ...args]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});

describe("capi retry", () => {
  it("sends every retryable copy of one event id again, queued with the merchant's retry, the shop announced", async () => {
    const { code, stdout, stderr } = capi(["retry", "--shop", A, "--event-id", "8100000000001"]);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      shop: A,
      retried: 1,
      notRetried: [{ code: "delivered", count: 1, reason: expect.stringContaining("already accepted") }],
    });
    const rows = await db.prisma.event.findMany({
      where: { shop: A, eventId: "8100000000001" },
      include: { history: true },
      orderBy: { destinationId: "asc" },
    });
    const retried = rows.find((r) => r.destinationId === D1)!;
    expect(retried.state).toBe("queued");
    expect(retried.history.at(-1)).toMatchObject({ state: "queued", detail: RETRIED_DETAIL });
    expect(rows.find((r) => r.destinationId === D2)!.state).toBe("sent");
    const jobs = await queue.getJobs(["waiting", "delayed", "prioritized"]);
    expect(jobs.map((j) => (j.data as { shop: string }).shop)).toContain(A);
  });

  it("sends again the shop's rejected events within Meta's window, and says why not the older", async () => {
    const windowStart = new Date(Date.now() - 7 * 24 * HOUR_MS);
    const young = await sqlCount(A, `"state" = 'rejected' AND "eventTime" > $2`, windowStart);
    const old = await sqlCount(A, `"state" = 'rejected' AND "eventTime" <= $2`, windowStart);
    expect(young).toBeGreaterThan(0);
    expect(old).toBeGreaterThan(0);
    const { code, stdout, stderr } = capi(["retry", "--shop", A, "--state", "rejected"]);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      shop: A,
      retried: young,
      notRetried: [{ code: "too_old", count: old, reason: expect.stringMatching(/up to 7 days after the conversion/) }],
      more: false,
    });
    expect(await sqlCount(A, `"state" = 'rejected'`)).toBe(old);
    // The other shop's rejected event is left alone.
    expect(await sqlCount(B, `"state" = 'rejected'`)).toBe(1);
  });

  it("exits 3 when nothing could be sent again, saying why", () => {
    const { code, stdout, stderr } = capi(["retry", "--shop", A, "--state", "rejected"]);
    expect(code).toBe(3);
    expect(JSON.parse(stdout).retried).toBe(0);
    expect(stderr).toMatch(/^nothing sent again: Meta accepts events up to 7 days/);
  });

  it.each([
    [["--state", "sent"], 2, /--state must be rejected or invalid/],
    [[], 2, /give --event-id or --state/],
    [["--event-id", "1", "--state", "rejected"], 2, /give --event-id or --state/],
    [["--event-id", "404"], 3, /has no event 404/],
    // Another shop's event id is not this shop's.
    [["--event-id", "9100000000001"], 3, /has no event 9100000000001/],
  ])("refuses %j (exit %i)", (args, exit, message) => {
    const { code, stderr } = capi(["retry", "--shop", A, ...args]);
    expect(code).toBe(exit);
    expect(stderr).toMatch(message);
  });
});
