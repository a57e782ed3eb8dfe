// Leases are fenced: a claim writes its own lease id on its rows, and a worker writes outcomes,
// renews or gives rows up only while they still carry its id. Real PostgreSQL, real time,
// Meta's stand-in (slowed down where the lease must run out) and workers as flushShop runs them.
import { soleDestination } from "../../test/support/destinations";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { sleep } from "../../test/support/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../test/support/services";
import { prismaSql } from "../db/client.server";
import type { MetaEvent } from "../meta/event";
import { sha256Hex } from "../meta/user-data";
import { saveDestination } from "./destinations.server";
import { applyTransitions, claimDue, countByState, insertEvent, releaseLease, renewLease } from "./event-store.server";
import { flushShop, type WorkerOptions } from "./worker.server";

const key = randomBytes(32);
let db: TestDatabase;
let meta: MetaSandbox;

/** A valid Purchase placed a minute ago; `bad` gives it a raw email, which Meta rejects (code 100). */
function purchase(eventId: string, bad = false): MetaEvent {
  return {
    event_name: "Purchase",
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000) - 60,
    action_source: "website",
    event_source_url: "https://lease-test.example/thanks",
    user_data: {
      em: [bad ? "jane@example.com" : sha256Hex(`${eventId}@example.com`)],
      client_ip_address: "203.0.113.7",
      client_user_agent: "Mozilla/5.0 (X11; Linux x86_64)",
    },
    custom_data: { currency: "USD", value: 10 },
  };
}

async function seed(shop: string, pixelId: string, count: number, badIndex = -1): Promise<void> {
  const destinationId = await saveDestination(
    db.prisma,
    shop,
    { pixelId, accessToken: `EAAleasetest-${pixelId}-0123456789` },
    key,
  );
  for (let i = 0; i < count; i++) {
    await insertEvent(
      db.prisma,
      {
        shop,
        topic: "orders/create",
        state: "queued",
        destinationId,
        pixelId,
        event: purchase(`${shop}-${i}`, i === badIndex),
      },
      new Date(),
    );
  }
}

function worker(graphUrl: string, extra: Partial<WorkerOptions> = {}): WorkerOptions {
  return { prisma: db.prisma, sql: db.sql, redisUrl: REDIS_URL, graphUrl, vaultKey: key, batchWindowMs: 0, ...extra };
}

/** An HTTP stand-in in front of Meta's: `before(n)` runs before the n-th request (from 1) goes on. */
async function frontOf(
  target: string,
  before: (n: number) => Promise<void>,
): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let n = 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    await before(++n);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !["host", "connection", "content-length"].includes(name)),
    ) as Record<string, string>;
    const upstream = await fetch(target + req.url, { method: req.method, headers, body: Buffer.concat(chunks) });
    res
      .writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" })
      .end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => n,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox();
});
afterAll(async () => {
  await meta?.close();
  await db?.drop();
});

describe("the event store's fence", () => {
  it("a claim after the lease ran out takes the rows over; the first claim can then neither write, renew nor release them", async () => {
    const shop = "fence.myshopify.com";
    await seed(shop, "4000000001", 3);
    const sql = prismaSql(db.prisma);
    const t0 = new Date();
    const first = await claimDue(sql, await soleDestination(db.prisma, shop), 1000, 1_000, t0);
    expect(first).toHaveLength(3);
    const leaseA = first[0]!.leaseId;
    expect(first.every((row) => row.leaseId === leaseA)).toBe(true);
    expect(
      await claimDue(sql, await soleDestination(db.prisma, shop), 1000, 1_000, new Date(t0.getTime() + 500)),
    ).toHaveLength(0); // still held

    const second = await claimDue(
      sql,
      await soleDestination(db.prisma, shop),
      1000,
      1_000,
      new Date(t0.getTime() + 1_500),
    );
    expect(second.map((row) => row.id).sort()).toEqual(first.map((row) => row.id).sort());
    const leaseB = second[0]!.leaseId;
    expect(leaseB).not.toBe(leaseA);

    const ids = first.map((row) => row.id);
    const late = await applyTransitions(
      sql,
      leaseA,
      ids.map((id) => ({ id, state: "retrying", reasonCode: "meta_unavailable", reason: "late outcome" })),
      new Date(),
    );
    expect(late.sort()).toEqual([...ids].sort());
    expect(await renewLease(sql, leaseA, ids, 60_000, new Date())).toBe(0);
    expect(await releaseLease(sql, leaseA, ids, new Date())).toBe(0);
    const rows = await db.prisma.event.findMany({ where: { shop } });
    expect(rows.every((row) => row.state === "sending" && row.leaseId === leaseB && row.reason === null)).toBe(true);
    expect(await db.prisma.eventTransition.count({ where: { eventPk: { in: ids }, detail: "late outcome" } })).toBe(0);

    // The holder's outcome is written, and clears the lease.
    expect(
      await applyTransitions(
        sql,
        leaseB,
        ids.map((id) => ({ id, state: "sent" })),
        new Date(),
      ),
    ).toEqual([]);
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 3 });
    expect(
      (await db.prisma.event.findMany({ where: { shop } })).every(
        (row) => row.leaseId === null && row.leaseUntil === null,
      ),
    ).toBe(true);
  });

  it("a released claim is claimable at once by another worker", async () => {
    const shop = "release.myshopify.com";
    await seed(shop, "4000000002", 2);
    const sql = prismaSql(db.prisma);
    const now = new Date();
    const first = await claimDue(sql, await soleDestination(db.prisma, shop), 1000, 60_000, now);
    expect(
      await releaseLease(
        sql,
        first[0]!.leaseId,
        first.map((row) => row.id),
        now,
      ),
    ).toBe(2);
    expect(await claimDue(sql, await soleDestination(db.prisma, shop), 1000, 60_000, now)).toHaveLength(2);
  });
});

describe("two workers", () => {
  it("the first's lease runs out during a slow Meta request, the second takes the batch over, and the first's late outcome is not written", async () => {
    const shop = "late-outcome.myshopify.com";
    const pixel = "4000000003";
    await seed(shop, pixel, 5);
    // Worker A's Meta holds its request 1.5 s, past A's 1 s lease, then answers 500 (a retry).
    let answerA!: () => void;
    const slowFailing = http.createServer((req, res) => {
      req.resume();
      answerA = () =>
        res.writeHead(500, { "content-type": "application/json" }).end(
          JSON.stringify({
            error: { message: "An unknown error occurred", type: "OAuthException", code: 1, fbtrace_id: "A-late" },
          }),
        );
    });
    await new Promise<void>((resolve) => slowFailing.listen(0, "127.0.0.1", resolve));
    const logA: string[] = [];
    try {
      const flushA = flushShop(
        worker(`http://127.0.0.1:${(slowFailing.address() as AddressInfo).port}`, {
          leaseMs: 1_000,
          requestTimeoutMs: 5_000,
          log: (line) => logA.push(line),
        }),
        shop,
      );
      while (!answerA) await sleep(20);
      await sleep(1_100); // A's lease has run out, its request still in flight
      const reportB = await flushShop(worker(meta.url, { leaseMs: 30_000 }), shop);
      expect(reportB).toMatchObject({ claimed: 5, delivered: 5 });
      answerA();
      const reportA = await flushA;
      expect(reportA.claimed).toBe(5);
    } finally {
      await new Promise((resolve) => slowFailing.close(resolve));
    }
    // B's outcome stands: A's "retrying" was fenced out.
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 5 });
    const history = await db.prisma.eventTransition.findMany({ where: { event: { shop } } });
    expect(history.filter((h) => h.state === "retrying")).toHaveLength(0);
    expect(history.filter((h) => h.state === "sent")).toHaveLength(5);
    expect(logA.join("\n")).toMatch(/lease lost: 5 of 5 outcome\(s\) not written/);
    expect(meta.accepted(pixel)).toHaveLength(5);
  });

  it("isolating a bad event under a slow Meta renews the lease: nobody else claims the batch and nothing is sent twice", async () => {
    const shop = "slow-isolation.myshopify.com";
    const pixel = "4000000004";
    await seed(shop, pixel, 16, 11);
    const slowMeta = await startMetaSandbox({ latencyMs: 250 });
    const logA: string[] = [];
    try {
      // 16 events, one bad: 9 requests of 250 ms, 2.25 s of isolation under a 1 s lease.
      const flushA = flushShop(
        worker(slowMeta.url, { leaseMs: 1_000, requestTimeoutMs: 400, log: (line) => logA.push(line) }),
        shop,
      );
      let stolen = 0;
      let done = false;
      const reportA = flushA.finally(() => (done = true));
      await sleep(50);
      while (!done) {
        // A second worker trying all along: each attempt would take the rows if A's lease ran out.
        stolen += (await claimDue(db.sql, await soleDestination(db.prisma, shop), 1000, 30_000, new Date())).length;
        await sleep(50);
      }
      expect(await reportA).toMatchObject({ claimed: 16, delivered: 15, requests: 9 });
      expect(stolen).toBe(0);
    } finally {
      await slowMeta.close();
    }
    expect(await countByState(db.prisma, shop)).toEqual({ sent: 15, rejected: 1 });
    expect(slowMeta.accepted(pixel)).toHaveLength(15); // each once
    expect(logA.join("\n")).not.toMatch(/lease lost/);
  });

  it("a batch whose rows are taken over mid-isolation is given up: no further request, the rest handed back at once", async () => {
    const shop = "given-up.myshopify.com";
    const pixel = "4000000005";
    await seed(shop, pixel, 16, 3);
    // Before the third request goes to Meta, another worker "claims" one row of the batch.
    const front = await frontOf(meta.url, async (n) => {
      if (n !== 2) return;
      await db.sql(
        `UPDATE "Event" SET "leaseId" = 'another-worker' WHERE "id" = (SELECT MIN("id") FROM "Event" WHERE "shop" = $1)`,
        [shop],
      );
    });
    const log: string[] = [];
    try {
      // requestTimeoutMs above the lease: the lease is renewed (and checked) before every request.
      const report = await flushShop(
        worker(front.url, { leaseMs: 30_000, requestTimeoutMs: 60_000, log: (line) => log.push(line) }),
        shop,
      );
      expect(report.claimed).toBe(16);
      expect(front.requests()).toBe(2);
    } finally {
      await front.close();
    }
    expect(log.join("\n")).toMatch(
      /lease lost mid-batch \(1 event\(s\) of the batch are held by another worker now\); stopped, 15 event\(s\) handed back/,
    );
    const rows = await db.prisma.event.findMany({ where: { shop } });
    expect(rows.filter((row) => row.leaseId === "another-worker")).toHaveLength(1);
    // The 15 others are free for any worker now, not in 30 s.
    expect(await claimDue(db.sql, await soleDestination(db.prisma, shop), 1000, 30_000, new Date())).toHaveLength(15);
  });
});
