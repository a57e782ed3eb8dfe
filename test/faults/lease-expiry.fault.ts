// Leases under a slow Meta, with real worker processes on a short lease (WORKER_LEASE_MS).
// Each 1,000-event batch holds bad events (a raw email, which Meta rejects with code 100), so
// the worker isolates them by halving: dozens of sequential requests of a slowed Meta, many
// times the lease. Three phases, one shop each, every batch claimed while other workers poll
// the shop (their sweeps announce it every 2 s):
//   1. renewal: the holder renews its lease before each request, so nobody claims its rows
//      again and nothing reaches Meta twice;
//   2. a worker frozen (SIGSTOP) mid-isolation, past its lease: another takes the batch over;
//      thawed, the first gives the batch up, writes no outcome and sends nothing more
//      (at most the one request it had already started);
//   3. a worker SIGKILLed mid-isolation: another takes the batch over after the lease.
// In 2 and 3 the copies Meta gets twice are exactly those the stopped worker had delivered
// before it stopped (its outcomes are written at the end of the batch, so the new holder
// sends them again and Meta's event_id deduplication keeps one).
// Each worker reaches Meta through a proxy of its own, so every request is attributed to it.
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { saveDestination } from "../../app/pipeline/destinations.server";
import { forgetShopContext, ingestWebhook } from "../../app/pipeline/ingest.server";
import { WriteBatcher } from "../../app/pipeline/ingest-batcher.server";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../support/services";
import { printAccount, settleAndAccount, takeAccount, type ExpectedEvent } from "./account";
import { faultSeed, orderBurst, prng, sleep, waitFor, WorkerProcess } from "./harness";

const LEASE_MS = 2_500;
/** Added by Meta's stand-in to every request: a batch isolating two bad events takes ~35 of them. */
const META_LATENCY_MS = 300;
const WORKERS = 3;
/** The raw email Meta rejects with code 100, subcode 2804016 (user data not hashed). */
const RAW_EMAIL = "buyer@example.com";
const seed = faultSeed(4801);
const key = randomBytes(32);

interface Phase {
  name: string;
  shop: string;
  pixel: string;
  orders: number;
  /** Bad events per 1,000-event batch. */
  badPerBatch: number;
  firstId: number;
}
const RENEWAL: Phase = {
  name: "renewal",
  shop: "lease-renewal.myshopify.com",
  pixel: "5800000001",
  orders: 2_000,
  badPerBatch: 2,
  firstId: 8_800_000_000,
};
const FROZEN: Phase = {
  name: "frozen",
  shop: "lease-frozen.myshopify.com",
  pixel: "5800000002",
  orders: 1_000,
  badPerBatch: 2,
  firstId: 8_810_000_000,
};
const KILLED: Phase = {
  name: "killed",
  shop: "lease-killed.myshopify.com",
  pixel: "5800000003",
  orders: 1_000,
  badPerBatch: 2,
  firstId: 8_820_000_000,
};
const PHASES = [RENEWAL, FROZEN, KILLED];

let db: TestDatabase;
let meta: MetaSandbox;
const proxies: MetaProxy[] = [];
const workers: WorkerProcess[] = [];
const expectedBy = new Map<string, ExpectedEvent[]>();
const badBy = new Map<string, Set<string>>();

// ---------------------------------------------------------------------------------------------
// A proxy per worker: what it sent to Meta, when, and what Meta answered.

interface ProxiedRequest {
  pixel: string;
  eventIds: string[];
  arrivedAt: number;
  answeredAt?: number;
  status?: number;
}
interface MetaProxy {
  url: string;
  log: ProxiedRequest[];
  close(): Promise<void>;
}

async function metaProxy(target: string): Promise<MetaProxy> {
  const log: ProxiedRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const arrivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const entry: ProxiedRequest = { pixel: /\/(\d+)\/events/.exec(req.url ?? "")?.[1] ?? "?", eventIds: [], arrivedAt };
    try {
      const data = (JSON.parse(body.toString("utf8")) as { data?: Array<{ event_id?: unknown }> }).data ?? [];
      entry.eventIds = data.map((e) => String(e.event_id));
    } catch {
      // Not the worker's JSON: forwarded all the same, Meta's stand-in answers it.
    }
    log.push(entry);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !["host", "connection", "content-length"].includes(name)),
    ) as Record<string, string>;
    try {
      const upstream = await fetch(target + req.url, { method: req.method, headers, body });
      const answer = Buffer.from(await upstream.arrayBuffer());
      // Recorded when Meta answered, whether or not the worker is still there to read it.
      entry.status = upstream.status;
      entry.answeredAt = Date.now();
      res
        .writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" })
        .end(answer);
    } catch {
      res.destroy();
    }
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const requestsOf = (proxy: MetaProxy, pixel: string) => proxy.log.filter((r) => r.pixel === pixel);
const acceptedIds = (proxy: MetaProxy, pixel: string) =>
  requestsOf(proxy, pixel)
    .filter((r) => r.status === 200)
    .flatMap((r) => r.eventIds);

// ---------------------------------------------------------------------------------------------
// What the database shows of leases: polled every 100 ms while the test runs.

interface LeaseSeen {
  shop: string;
  rows: number;
  firstSeen: number;
  lastSeen: number;
  /** Distinct leaseUntil values seen: each new one after the first is a renewal. */
  untils: Set<number>;
}
const leases = new Map<string, LeaseSeen>();
/** Polls that found a shop's rows still in "sending" with their lease run out (claimable by anyone). */
const expiredSeen = new Map<string, number>();
let monitoring = true;
let monitor: Promise<void> | undefined;

async function watchLeases(): Promise<void> {
  while (monitoring) {
    try {
      const rows = await db.sql<{ shop: string; leaseId: string | null; until: number; rows: number; expired: number }>(
        `SELECT "shop", "leaseId", (EXTRACT(EPOCH FROM MAX("leaseUntil")) * 1000)::float8 AS "until", COUNT(*)::int AS "rows",
                COUNT(*) FILTER (WHERE "leaseUntil" < ($1::timestamptz AT TIME ZONE 'UTC'))::int AS "expired"
         FROM "Event" WHERE "state" = 'sending' GROUP BY "shop", "leaseId"`,
        // Leases are written on the workers' clock, which .ci/clock-ahead moves and PostgreSQL's does not.
        [new Date().toISOString()],
      );
      const at = Date.now();
      for (const row of rows) {
        if (row.expired > 0) expiredSeen.set(row.shop, (expiredSeen.get(row.shop) ?? 0) + 1);
        if (!row.leaseId) continue;
        const seen = leases.get(row.leaseId) ?? {
          shop: row.shop,
          rows: row.rows,
          firstSeen: at,
          lastSeen: at,
          untils: new Set<number>(),
        };
        seen.lastSeen = at;
        seen.rows = Math.max(seen.rows, row.rows);
        seen.untils.add(Math.round(row.until));
        leases.set(row.leaseId, seen);
      }
    } catch {
      // A poll that failed is a poll missed.
    }
    await sleep(100);
  }
}
const leasesOf = (shop: string) => [...leases.entries()].filter(([, l]) => l.shop === shop && l.rows >= 1000);
const renewals = (l: LeaseSeen) => l.untils.size - 1;

// ---------------------------------------------------------------------------------------------

/**
 * A shop's events become due now, in id order, a batch of 1,000 at a time, each once the one
 * before is claimed: two claims at the same moment would interleave their rows (SKIP LOCKED),
 * and each batch is to hold the bad events chosen for it.
 */
async function release(phase: Phase): Promise<void> {
  for (let batch = 0; batch < phase.orders / 1000; batch++) {
    await db.sql(
      // The workers' clock, not PostgreSQL's: under .ci/clock-ahead only this process and its
      // children move ahead, and "due" is judged by the worker's clock.
      `UPDATE "Event" e SET "nextAttemptAt" = ($3::timestamptz AT TIME ZONE 'UTC') - interval '10 seconds' + o."rank" * interval '1 millisecond'
       FROM (SELECT "id", ROW_NUMBER() OVER (ORDER BY "id") AS "rank" FROM "Event" WHERE "shop" = $1) o
       WHERE e."id" = o."id" AND o."rank" > $2 AND o."rank" <= $2 + 1000`,
      [phase.shop, batch * 1000, new Date().toISOString()],
    );
    await waitFor(
      async () =>
        (
          await db.sql<{ n: number }>(
            `SELECT COUNT(*)::int AS "n" FROM "Event" WHERE "shop" = $1 AND "state" <> 'queued'`,
            [phase.shop],
          )
        )[0]!.n >=
        (batch + 1) * 1000,
      15_000,
      `${phase.name}: batch ${batch + 1} claimed`,
      20,
    );
  }
}

/** Per event of the shop: transitions after the first (the claim writes none; each outcome writes one). */
async function outcomeHistory(
  shop: string,
): Promise<{ perEvent: Map<string, string[]>; attempts: Map<string, number> }> {
  const rows = await db.sql<{ eventId: string; attempts: number; states: string[] }>(
    `SELECT e."eventId", e."attempts", ARRAY_AGG(t."state" ORDER BY t."id") AS "states"
     FROM "Event" e JOIN "EventTransition" t ON t."eventPk" = e."id" WHERE e."shop" = $1 GROUP BY e."id"`,
    [shop],
  );
  return {
    perEvent: new Map(rows.map((r) => [r.eventId, r.states.slice(1)])),
    attempts: new Map(rows.map((r) => [r.eventId, r.attempts])),
  };
}

/** Every event ends with exactly one outcome: sent for the good ones, rejected for the bad ones. */
function oneOutcomeEach(history: Map<string, string[]>, bad: Set<string>): string[] {
  const wrong: string[] = [];
  for (const [eventId, states] of history) {
    const want = bad.has(eventId) ? "rejected" : "sent";
    if (states.length !== 1 || states[0] !== want) wrong.push(`${eventId}: ${states.join(" → ")} (want ${want})`);
  }
  return wrong.slice(0, 20);
}

const account = (phases: Phase[]) =>
  settleAndAccount({
    prisma: db.prisma,
    meta,
    pixels: Object.fromEntries(phases.map((p) => [p.shop, p.pixel])),
    expected: phases.flatMap((p) => expectedBy.get(p.shop)!),
    allowed: () => ["rejected"],
    timeoutMs: 45_000,
  });

const workerLog = (w: WorkerProcess) => w.tail(200_000);

/** Waits until one worker is `requests` requests into isolating the phase's batch; returns that worker. */
async function holderAfter(phase: Phase, requests: number): Promise<{ index: number; leaseId: string }> {
  let index = -1;
  await waitFor(
    async () => {
      index = proxies.findIndex((p) => requestsOf(p, phase.pixel).length >= requests);
      return index >= 0;
    },
    30_000,
    `a worker ${requests} requests into ${phase.name}'s batch`,
    20,
  );
  const held = await db.sql<{ leaseId: string }>(
    `SELECT DISTINCT "leaseId" FROM "Event" WHERE "shop" = $1 AND "state" = 'sending'`,
    [phase.shop],
  );
  expect(held, "the batch is held under one lease").toHaveLength(1);
  return { index, leaseId: held[0]!.leaseId };
}

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox({ latencyMs: META_LATENCY_MS });
  const prefix = uniquePrefix();
  const random = prng(seed);
  const batcher = new WriteBatcher(db.sql);
  for (const phase of PHASES) {
    await saveDestination(
      db.prisma,
      phase.shop,
      { pixelId: phase.pixel, accessToken: `EAAlease-${phase.pixel}-0123456789abcdef` },
      key,
    );
    forgetShopContext(phase.shop);
    const orders = orderBurst(phase.orders, { seed: seed + phase.firstId, firstId: phase.firstId, shop: phase.shop });
    // Ingested as the webhook route does (group commit), with no worker running yet.
    for (let from = 0; from < orders.length; from += 50) {
      await Promise.all(
        orders.slice(from, from + 50).map(async (order, i) => {
          const result = await ingestWebhook(
            { prisma: db.prisma, batcher },
            {
              shop: phase.shop,
              topic: "orders/create",
              webhookId: `le-${phase.name}-${from + i}`,
              eventId: `le-${phase.name}-${from + i}`,
              payload: order,
            },
          );
          expect(result.outcome).toBe("queued");
        }),
      );
    }
    expectedBy.set(
      phase.shop,
      orders.map((o) => ({ shop: phase.shop, eventName: "Purchase", eventId: String(o.id) })),
    );
    // Parked until its phase starts.
    await db.sql(
      `UPDATE "Event" SET "nextAttemptAt" = ($2::timestamptz AT TIME ZONE 'UTC') + interval '1 day' WHERE "shop" = $1`,
      [phase.shop, new Date().toISOString()],
    );
    // A few events per batch get a raw email, which Meta refuses for the whole request: well
    // inside each batch of 1,000 (in id order, the order they will be claimed in).
    const ids = await db.sql<{ eventId: string }>(`SELECT "eventId" FROM "Event" WHERE "shop" = $1 ORDER BY "id"`, [
      phase.shop,
    ]);
    expect(ids).toHaveLength(phase.orders);
    const bad = new Set<string>();
    for (let batch = 0; batch < phase.orders / 1000; batch++) {
      while (bad.size < (batch + 1) * phase.badPerBatch)
        bad.add(ids[batch * 1000 + 20 + Math.floor(random() * 960)]!.eventId);
    }
    await db.sql(
      `UPDATE "Event" SET "payload" = jsonb_set("payload", '{user_data,em}', $2::jsonb) WHERE "shop" = $1 AND "eventId" = ANY($3::text[])`,
      [phase.shop, JSON.stringify([RAW_EMAIL]), [...bad]],
    );
    badBy.set(phase.shop, bad);
  }

  for (let i = 0; i < WORKERS; i++) {
    const proxy = await metaProxy(meta.url);
    proxies.push(proxy);
    workers.push(
      new WorkerProcess(`worker${i + 1}`, {
        DATABASE_URL: db.url,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        META_GRAPH_URL: proxy.url,
        ENCRYPTION_KEY: key.toString("hex"),
        WORKER_LEASE_MS: String(LEASE_MS),
        // One batch at a time: the others' sweeps keep announcing the shop, so a free worker
        // always stands ready to claim rows whose lease ran out.
        WORKER_CONCURRENCY: "1",
      }),
    );
  }
  await Promise.all(workers.map((w) => w.start().ready));
  monitor = watchLeases();
});

afterAll(async () => {
  monitoring = false;
  await monitor;
  for (const w of workers) {
    // A frozen group would ignore nothing but SIGCONT; SIGKILL ends it all the same.
    w.destroy();
  }
  for (const p of proxies) await p.close();
  await meta?.close();
  await db?.drop();
});

it("isolating bad events under a slow Meta outlasts the lease many times: renewed, never claimed twice, nothing sent twice", async () => {
  const phase = RENEWAL;
  const started = Date.now();
  await release(phase);
  const acc = await account([phase]);
  const elapsed = Date.now() - started;
  const bad = badBy.get(phase.shop)!;
  const history = await outcomeHistory(phase.shop);
  const batchLeases = leasesOf(phase.shop);
  const perWorker = proxies.map((p, i) => {
    const reqs = requestsOf(p, phase.pixel);
    return {
      worker: workers[i]!.name,
      requests: reqs.length,
      spanMs: reqs.length ? reqs.at(-1)!.answeredAt! - reqs[0]!.arrivedAt : 0,
    };
  });
  const metaRequests = perWorker.reduce((n, w) => n + w.requests, 0);
  const badPerBatch = proxies.flatMap((p) =>
    requestsOf(p, phase.pixel)
      .filter((r) => r.eventIds.length === 1000)
      .map((r) => r.eventIds.filter((id) => bad.has(id)).length),
  );
  const logs = workers.map(workerLog).join("\n");
  printAccount("lease expiry: isolation under a slow Meta, leases renewed", acc, {
    seed,
    "workers / lease / Meta latency": `${WORKERS} processes (concurrency 1), WORKER_LEASE_MS=${LEASE_MS}, ${META_LATENCY_MS} ms per request`,
    "bad events (raw email)": `${bad.size}, ${phase.badPerBatch} per batch of 1,000`,
    "Meta requests (isolation included)": `${metaRequests}; refused by code ${JSON.stringify(meta.requests().rejectedByCode)}`,
    "per worker: requests, first request to last answer": perWorker,
    "bad events in each batch (its first request)": badPerBatch,
    "batch leases (rows, held for, renewals seen)": batchLeases.map(
      ([, l]) =>
        `${l.rows} rows, ${l.lastSeen - l.firstSeen} ms (${((l.lastSeen - l.firstSeen) / LEASE_MS).toFixed(1)} leases), ${renewals(l)} renewals`,
    ),
    "polls that saw a run-out lease in sending": expiredSeen.get(phase.shop) ?? 0,
    "events claimed more than once": [...history.attempts.values()].filter((n) => n !== 1).length,
    "phase took": `${elapsed} ms`,
  });
  if (acc.problems.length) for (const w of workers) console.log(w.tail());
  expect(acc.problems).toEqual([]);
  expect(acc.delivered).toBe(phase.orders - bad.size);
  expect(acc.byState).toEqual({ sent: phase.orders - bad.size, rejected: bad.size });
  expect(acc.reasons.map((r) => [r.state, r.reasonCode, r.count])).toEqual([
    ["rejected", "unhashed_user_data", bad.size],
  ]);
  // The lease was renewed: no batch went twice, no row was claimed twice, no claimable moment.
  expect(acc.duplicateCopies).toBe(0);
  expect([...history.attempts.values()].every((n) => n === 1)).toBe(true);
  expect(oneOutcomeEach(history.perEvent, bad)).toEqual([]);
  expect(expiredSeen.get(phase.shop) ?? 0).toBe(0);
  expect(logs).not.toMatch(/lease lost/);
  // ...and it had to be: each batch was held for several leases, renewed all along.
  expect(batchLeases).toHaveLength(2);
  expect(badPerBatch).toEqual([phase.badPerBatch, phase.badPerBatch]);
  for (const [, l] of batchLeases) {
    expect(l.lastSeen - l.firstSeen).toBeGreaterThan(2 * LEASE_MS);
    expect(renewals(l)).toBeGreaterThanOrEqual(5);
  }
  // Two bad events per batch of 1,000 take ~35 requests of halving each.
  expect(metaRequests).toBeGreaterThanOrEqual(2 * 25);
});

it("a worker frozen mid-isolation past its lease: another takes the batch over, the thawed one gives it up and writes nothing", async () => {
  const phase = FROZEN;
  await release(phase);
  const holder = await holderAfter(phase, 5);
  const victim = workers[holder.index]!;
  const proxy = proxies[holder.index]!;
  victim.signal("SIGSTOP");
  const frozenAt = Date.now();
  let takenOverAt: number;
  try {
    // Frozen until another worker has claimed the batch (its lease ran out meanwhile).
    await waitFor(
      async () =>
        (
          await db.sql<{ n: number }>(`SELECT COUNT(*)::int AS "n" FROM "Event" WHERE "shop" = $1 AND "leaseId" = $2`, [
            phase.shop,
            holder.leaseId,
          ])
        )[0]!.n === 0,
      20_000,
      "another worker to take the frozen worker's batch over",
      50,
    );
    takenOverAt = Date.now();
    // Let the new holder get into the batch before the old one wakes up.
    await sleep(1_000);
  } finally {
    victim.signal("SIGCONT");
  }
  const thawedAt = Date.now();
  const acc = await account([phase]);
  await waitFor(
    async () => /lease lost/.test(workerLog(victim)),
    10_000,
    "the thawed worker to notice its lease is gone",
  ).catch(() => undefined);
  const bad = badBy.get(phase.shop)!;
  const history = await outcomeHistory(phase.shop);
  const victimRequests = requestsOf(proxy, phase.pixel);
  const victimAccepted = acceptedIds(proxy, phase.pixel);
  const sentAfterThaw = victimRequests.filter((r) => r.arrivedAt >= thawedAt);
  const others = proxies.filter((p) => p !== proxy).map((p) => requestsOf(p, phase.pixel).length);
  const lostLine = workerLog(victim)
    .split("\n")
    .find((line) => line.includes(phase.shop) && /lease lost/.test(line));
  printAccount("lease expiry: a worker frozen (SIGSTOP) mid-isolation", acc, {
    seed,
    "frozen worker": `${victim.name}, after ${victimRequests.filter((r) => r.arrivedAt < frozenAt).length} request(s) of its batch`,
    "frozen for": `${thawedAt - frozenAt} ms (batch taken over ${takenOverAt - frozenAt} ms in, lease ${LEASE_MS} ms)`,
    "frozen worker's copies accepted by Meta (before the freeze, or in flight)": victimAccepted.length,
    "requests the frozen worker sent after thawing": sentAfterThaw.length,
    "the new holder's requests": others,
    "frozen worker's log": lostLine ?? "(no lease-lost line)",
    "batch leases (rows, held for, renewals seen)": leasesOf(phase.shop).map(
      ([, l]) => `${l.rows} rows, ${l.lastSeen - l.firstSeen} ms, ${renewals(l)} renewals`,
    ),
  });
  if (acc.problems.length) for (const w of workers) console.log(w.tail());
  expect(acc.problems).toEqual([]);
  expect(acc.byState).toEqual({ sent: phase.orders - bad.size, rejected: bad.size });
  expect(victim.alive).toBe(true);
  // The thawed worker learnt before its next request that the batch was no longer its own...
  expect(lostLine).toMatch(/lease lost/);
  // ...so it sent at most the request it had already started before the freeze took it.
  expect(sentAfterThaw.length).toBeLessThanOrEqual(1);
  // ...and wrote no outcome: one per event, the new holder's; every row claimed twice, no more.
  expect(oneOutcomeEach(history.perEvent, bad)).toEqual([]);
  expect([...history.attempts.values()].every((n) => n === 2)).toBe(true);
  // The only copies Meta got twice are those the frozen worker had delivered.
  const twice = new Set(victimAccepted);
  expect(acc.duplicateCopies).toBe(twice.size);
  expect(twice.size).toBe(victimAccepted.length);
  expect(acc.duplicateCopies).toBeLessThan(phase.orders);
});

it("a worker SIGKILLed mid-isolation: the batch is taken over after the lease, the only copies sent twice are the dead worker's", async () => {
  const phase = KILLED;
  await release(phase);
  const holder = await holderAfter(phase, 5);
  const victim = workers[holder.index]!;
  const proxy = proxies[holder.index]!;
  await victim.kill();
  const killedAt = Date.now();
  const acc = await account([phase]);
  const bad = badBy.get(phase.shop)!;
  const history = await outcomeHistory(phase.shop);
  const victimAccepted = acceptedIds(proxy, phase.pixel);
  const takeover = leasesOf(phase.shop).filter(([id]) => id !== holder.leaseId);
  printAccount("lease expiry: a worker SIGKILLed mid-isolation", acc, {
    seed,
    "killed worker": `${victim.name}, after ${requestsOf(proxy, phase.pixel).length} request(s) of its batch`,
    "dead worker's copies accepted by Meta": victimAccepted.length,
    "taken over after": takeover.length ? `${takeover[0]![1].firstSeen - killedAt} ms (lease ${LEASE_MS} ms)` : "never",
    "the new holder's requests": proxies.filter((p) => p !== proxy).map((p) => requestsOf(p, phase.pixel).length),
  });
  if (acc.problems.length) for (const w of workers) console.log(w.tail());
  expect(acc.problems).toEqual([]);
  expect(acc.byState).toEqual({ sent: phase.orders - bad.size, rejected: bad.size });
  expect(oneOutcomeEach(history.perEvent, bad)).toEqual([]);
  expect([...history.attempts.values()].every((n) => n === 2)).toBe(true);
  expect(takeover).toHaveLength(1);
  expect(acc.duplicateCopies).toBe(new Set(victimAccepted).size);
  expect(acc.duplicateCopies).toBeLessThan(phase.orders);
  // Nothing of the earlier phases moved, and the whole run balances.
  const all = await takeAccount({
    prisma: db.prisma,
    meta,
    pixels: Object.fromEntries(PHASES.map((p) => [p.shop, p.pixel])),
    expected: PHASES.flatMap((p) => expectedBy.get(p.shop)!),
    allowed: () => ["rejected"],
  });
  expect(all.problems).toEqual([]);
  expect(all.duplicateCopies).toBe(
    acc.duplicateCopies +
      (
        await takeAccount({
          prisma: db.prisma,
          meta,
          pixels: { [FROZEN.shop]: FROZEN.pixel },
          expected: expectedBy.get(FROZEN.shop)!,
        })
      ).duplicateCopies,
  );
});
