// Oversized and slow request bodies against the real production web process (server/main.ts
// started by bench/stack.ts, one web process, one worker), while two shops' genuine signed
// orders/create webhooks keep arriving over HTTP. Before the limits, three 500 MB posts killed a
// web process and eight 100 MB posts took it to 2.5 GB. Now: a body declared past
// MAX_BODY_BYTES is answered 413 on its header, a chunked one is cut off with 413 once it passes
// the limit, a trickled request is dropped at the request or headers timeout (408). The web
// process reads a bounded number of bytes per attack, its memory stays flat, it is alive and
// healthy afterwards, every genuine webhook is answered 200 (retried like Shopify on anything
// else), and the account balances: each order's Purchase reached Meta once, under its own id,
// and none of the replayed (captured-signature) bodies produced anything.
import { readFileSync } from "node:fs";
import net from "node:net";
import { Pool } from "undici";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEFAULT_MAX_BODY_BYTES } from "../../app/config/env.server";
import { SHOPIFY_TIMEOUT_MS } from "../../bench/load";
import { readGroups, readProcesses } from "../../bench/memory";
import { benchShops, buildApp, startAppStack, WEBHOOK_SECRET, type AppStack, type BenchShop } from "../../bench/stack";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { LINGER_BYTES } from "../../server/main";
import { webhookHeaders } from "../support/shopify-webhooks";
import { printAccount, settleAndAccount } from "./account";
import { faultSeed, orderBurst, prng, quantile, sleep } from "./harness";

const seed = faultSeed(4801);
const LIMIT = DEFAULT_MAX_BODY_BYTES; // 4 MiB: the web process runs with the default
const MiB = 1024 * 1024;
const ORDERS_PER_SHOP = 200;
/** The last orders go only once every attack is over: the process must still serve. */
const AFTER_ATTACK = 20;
const PACE_MS = 30;
/**
 * Each wave: three 500 MB posts (declared) and eight 100 MB chunked ones, as in the report, and
 * two 500 MB posts that ask first (Expect: 100-continue).
 */
const WAVES = 3;
const DECLARED_PER_WAVE = 3;
const ASKING_PER_WAVE = 2;
const DECLARED_BYTES = 500 * 1000 * 1000;
const CHUNKED_PER_WAVE = 8;
const CHUNKED_BYTES = 100 * 1000 * 1000;
/** Slow lorises, started with the first wave: a body, headers, nothing at all. */
const TRICKLE_BODIES = 4;
const TRICKLE_HEADERS = 3;
const SILENT = 3;
/** server/main.ts's DEFAULT_HTTP_LIMITS, checked every second. */
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;

/**
 * What a client got to write past the limit is what the kernel's socket buffers on both ends
 * of a loopback connection hold, plus what the server discards while its 413 lingers (at most
 * LINGER_BYTES). Without the limit it would be the whole body (100 or 500 MB).
 */
const WRITTEN_BOUND = LIMIT + LINGER_BYTES + 12 * MiB;
/** The web process group's resident memory during the attack: peak over the pre-attack baseline. */
const RSS_GROWTH_BOUND_MIB = 150;
const RSS_PEAK_BOUND_MIB = 400;

let meta: MetaSandbox;
let stack: AppStack;
let shops: BenchShop[];

beforeAll(async () => {
  // The fresh clone of CI has no build/; server/main.ts serves build/index.js.
  await buildApp();
  meta = await startMetaSandbox();
  shops = benchShops(2, `oversized-${seed}`);
  stack = await startAppStack({ metaUrl: meta.url, shops, webProcesses: 1, workers: 1 });
}, 240_000);
afterAll(async () => {
  await stack?.close();
  await meta?.close();
}, 60_000);

// ---------------------------------------------------------------------------------------------
// The attackers: raw sockets, so that the bytes and the timing are exactly the client's.

type AttackKind = "declared" | "expect-continue" | "chunked" | "trickle-body" | "trickle-headers" | "silent";

interface AttackResult {
  kind: AttackKind;
  /** The status line's code; null when the server closed without answering. */
  status: number | null;
  answer: string;
  /** Body bytes the kernel took from the client before the answer arrived, and in all. */
  writtenBeforeAnswer: number;
  written: number;
  attempted: number;
  answeredAfterMs: number | null;
  closedAfterMs: number;
  error?: string;
}

/**
 * One hostile connection. `body` pumps that many bytes (declared in Content-Length, or chunked)
 * as fast as the server reads them, and keeps on after the answer until the server closes the
 * connection; with `waitForContinue` only once the server has said "100 Continue" (as curl
 * does with a large body). `trickle` writes a piece every `everyMs`. The first body bytes are
 * a genuine webhook's, so a replayed signature would match nothing past them.
 */
function rawAttack(
  port: number,
  kind: AttackKind,
  o: {
    head: string;
    body?: { total: number; chunked: boolean; prefix: Buffer; waitForContinue?: boolean };
    trickle?: { everyMs: number; piece: string };
  },
): Promise<AttackResult> {
  const CHUNK = 64 * 1024;
  const filler = Buffer.alloc(CHUNK, 0x20); // spaces: the JSON stays valid, only longer
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const started = performance.now();
    let answer = "";
    let answeredAt: number | null = null;
    let writtenBeforeAnswer = 0;
    let written = 0;
    let queued = 0;
    let closed = false;
    let error: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    // A connection the server never ends would hang the scenario: it fails it instead.
    const guard = setTimeout(() => {
      error = "still open after 30 s";
      socket.destroy();
    }, 30_000);
    const wrote = (n: number) => (err?: Error | null) => {
      if (!err) written += n;
    };
    socket.on("data", (chunk) => {
      if (answeredAt === null) {
        answeredAt = performance.now();
        writtenBeforeAnswer = written;
      }
      if (answer.length < 4096) answer += chunk.toString("latin1");
      if (o.body?.waitForContinue && queued === 0 && /^HTTP\/1\.1 100 /.test(answer)) {
        answer = answer.replace(/^HTTP\/1\.1 100 [^\r]*\r\n\r\n/, "");
        pump(o.body);
      }
    });
    socket.on("error", (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on("close", () => {
      closed = true;
      clearTimeout(guard);
      clearInterval(timer);
      if (answeredAt === null) writtenBeforeAnswer = written;
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
      resolve({
        kind,
        status: status ? Number(status[1]) : null,
        answer,
        writtenBeforeAnswer,
        written,
        attempted: o.body?.total ?? 0,
        answeredAfterMs: answeredAt === null ? null : answeredAt - started,
        closedAfterMs: performance.now() - started,
        error,
      });
    });
    const pump = (body: NonNullable<typeof o.body>) => {
      while (!closed && queued < body.total) {
        const n = Math.min(CHUNK, body.total - queued);
        const piece = queued === 0 ? Buffer.concat([body.prefix, filler]).subarray(0, n) : filler.subarray(0, n);
        queued += n;
        let more: boolean;
        if (body.chunked) {
          socket.cork();
          socket.write(`${n.toString(16)}\r\n`);
          socket.write(piece, wrote(n));
          more = socket.write("\r\n");
          socket.uncork();
        } else {
          more = socket.write(piece, wrote(n));
        }
        if (!more) return void socket.once("drain", () => pump(body));
      }
      if (!closed && body.chunked) socket.write("0\r\n\r\n");
    };
    socket.on("connect", () => {
      socket.write(o.head);
      if (o.body && !o.body.waitForContinue) pump(o.body);
      const trickle = o.trickle;
      if (trickle) {
        timer = setInterval(() => {
          if (!closed) socket.write(trickle.piece, wrote(trickle.piece.length));
        }, trickle.everyMs);
      }
    });
  });
}

/** A request head carrying a captured webhook's headers (its HMAC, its shop, its ids). */
function head(captured: Record<string, string>, extra: Record<string, string | number>): string {
  const lines = ["POST /webhooks/orders/create HTTP/1.1", "Host: 127.0.0.1"];
  for (const [name, value] of Object.entries({ ...captured, ...extra })) lines.push(`${name}: ${value}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

// ---------------------------------------------------------------------------------------------
// The web process, seen from /proc

/** Bytes read (read(2), sockets included) by every process of the web process group so far. */
function groupReadBytes(leader: number): number {
  let total = 0;
  for (const p of readProcesses()) {
    if (p.pgrp !== leader) continue;
    try {
      total += Number(/^rchar: (\d+)/m.exec(readFileSync(`/proc/${p.pid}/io`, "utf8"))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return total;
}

/** The pid of the process running server/main.ts: the largest of the group (tsx is the leader). */
function mainPid(leader: number): number | undefined {
  let best: { pid: number; rss: number } | undefined;
  for (const p of readProcesses()) {
    if (p.pgrp !== leader) continue;
    try {
      const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"))?.[1] ?? 0);
      if (!best || rss > best.rss) best = { pid: p.pid, rss };
    } catch {
      // gone
    }
  }
  return best?.pid;
}

// ---------------------------------------------------------------------------------------------
// Shopify's side: genuine webhooks, paced, each sent again on anything but 2xx

interface Genuine {
  shop: string;
  orderId: number;
  headers: Record<string, string>;
  body: string;
}

interface GenuineStats {
  attempts: number;
  answered200: number;
  /** non-2xx answers by status; "error" for no answer at all */
  failures: Record<string, number>;
  retried: number;
  /** every attempt's answer time, ms */
  latencies: number[];
  bytes: number;
}

async function deliverOverHttp(pool: Pool, hooks: Genuine[], stats: GenuineStats, paceMs: number): Promise<void> {
  const t0 = performance.now();
  await Promise.all(
    hooks.map(async (hook, i) => {
      const wait = t0 + i * paceMs - performance.now();
      if (wait > 0) await sleep(wait);
      for (let attempt = 1; ; attempt++) {
        stats.attempts++;
        stats.bytes += hook.body.length;
        const left = performance.now();
        let status: number | "error";
        try {
          const response = await pool.request({
            path: "/webhooks/orders/create",
            method: "POST",
            headers: hook.headers,
            body: hook.body,
            headersTimeout: 30_000,
            bodyTimeout: 30_000,
          });
          await response.body.arrayBuffer();
          status = response.statusCode;
        } catch {
          status = "error";
        }
        stats.latencies.push(performance.now() - left);
        if (typeof status === "number" && status >= 200 && status < 300) {
          stats.answered200++;
          return;
        }
        stats.failures[status] = (stats.failures[status] ?? 0) + 1;
        if (attempt === 1) stats.retried++;
        if (attempt >= 40)
          throw new Error(`order ${hook.orderId} of ${hook.shop} still answered ${status} after ${attempt} attempts`);
        await sleep(250);
      }
    }),
  );
}

it("oversized, chunked and trickled bodies against the web process: 413/408, bounded reads, flat memory, every genuine webhook delivered", async () => {
  const random = prng(seed);
  const port = Number(new URL(stack.url).port);
  const leader = stack.webPid();

  const orders = shops.map((s, k) =>
    orderBurst(ORDERS_PER_SHOP, { seed: seed + k, firstId: 8_800_000_000 + k * 10_000_000, shop: s.shop }),
  );
  const sign = (shop: string, order: Record<string, any>, tag: string): Genuine => {
    const body = JSON.stringify(order);
    return {
      shop,
      orderId: order.id,
      body,
      headers: webhookHeaders(
        {
          topic: "orders/create",
          shop,
          payload: undefined,
          secret: WEBHOOK_SECRET,
          eventId: tag,
          webhookId: `w-${tag}`,
        },
        body,
      ),
    };
  };
  // Interleaved, as two busy shops' webhooks are.
  const genuine = orders[0]!.flatMap((order, i) =>
    shops.map((s, k) => sign(s.shop, k === 0 ? order : orders[k]![i]!, `ob-${k}-${i}`)),
  );
  const during = genuine.slice(0, genuine.length - AFTER_ATTACK);
  const after = genuine.slice(genuine.length - AFTER_ATTACK);
  // What the attackers replay: signed webhooks captured on the way, for orders of their own
  // (ids no genuine webhook uses), so that anything they got recorded would show in the account.
  const captured = shops.map((s, k) =>
    sign(s.shop, orderBurst(1, { seed: seed + 10 + k, firstId: 8_890_000_000 + k, shop: s.shop })[0]!, `captured-${k}`),
  );

  // The web process group's memory every 50 ms, from before the first webhook to the end.
  const samples: Array<{ t: number; rssMiB: number; mainRssMiB: number; mainPeakMiB: number }> = [];
  const t0 = performance.now();
  const sample = () => {
    const [g] = readGroups([leader]);
    if (g)
      samples.push({
        t: performance.now() - t0,
        rssMiB: g.rssMiB,
        mainRssMiB: g.mainRssMiB,
        mainPeakMiB: g.mainPeakMiB,
      });
  };
  sample();
  const sampler = setInterval(sample, 50);
  const pidBefore = mainPid(leader);
  expect(pidBefore).toBeDefined();

  const pool = new Pool(stack.url, { connections: 16, pipelining: 1, keepAliveTimeout: 30_000 });
  const stats: GenuineStats = { attempts: 0, answered200: 0, failures: {}, retried: 0, latencies: [], bytes: 0 };
  let attackStartedAt: number | undefined;
  let readBefore: number | undefined;
  let genuineBytesBefore: number | undefined;
  const results: AttackResult[] = [];
  const waveTimes: number[] = [];
  try {
    const stream = deliverOverHttp(pool, during, stats, PACE_MS);
    let streamOver = false;
    stream.then(
      () => (streamOver = true),
      () => (streamOver = true), // awaited below, which reports it
    );

    // Warm-up: genuine traffic only, for the baseline.
    while (stats.answered200 < 40 && !streamOver) await sleep(20);
    sample();
    const baselineSamples = samples.length;
    attackStartedAt = performance.now() - t0;
    readBefore = groupReadBytes(leader);
    genuineBytesBefore = stats.bytes;

    const attacks: Array<Promise<AttackResult>> = [];
    const capturedOf = () => captured[Math.floor(random() * captured.length)]!;
    const declared = () => {
      const c = capturedOf();
      return rawAttack(port, "declared", {
        head: head(c.headers, { "Content-Length": DECLARED_BYTES }),
        body: { total: DECLARED_BYTES, chunked: false, prefix: Buffer.from(c.body) },
      });
    };
    const asking = () => {
      const c = capturedOf();
      return rawAttack(port, "expect-continue", {
        head: head(c.headers, { "Content-Length": DECLARED_BYTES, Expect: "100-continue" }),
        body: { total: DECLARED_BYTES, chunked: false, prefix: Buffer.from(c.body), waitForContinue: true },
      });
    };
    const chunked = () => {
      const c = capturedOf();
      return rawAttack(port, "chunked", {
        head: head(c.headers, { "Transfer-Encoding": "chunked" }),
        body: { total: CHUNKED_BYTES, chunked: true, prefix: Buffer.from(c.body) },
      });
    };
    for (let wave = 0; wave < WAVES; wave++) {
      if (wave > 0) await sleep(2_000 + random() * 1_500);
      waveTimes.push(Math.round(performance.now() - t0));
      if (wave === 0) {
        for (let i = 0; i < TRICKLE_BODIES; i++) {
          const c = capturedOf();
          // A body under the limit, ten bytes every 250 ms: it would take a minute.
          attacks.push(
            rawAttack(port, "trickle-body", {
              head: head(c.headers, { "Content-Length": 2_400 }),
              trickle: { everyMs: 250, piece: " ".repeat(10) },
            }),
          );
        }
        for (let i = 0; i < TRICKLE_HEADERS; i++) {
          attacks.push(
            rawAttack(port, "trickle-headers", {
              head: "POST /webhooks/orders/create HTTP/1.1\r\nHost: 127.0.0.1\r\n",
              trickle: { everyMs: 250, piece: `X-Drip-${i}: 1\r\n` },
            }),
          );
        }
        for (let i = 0; i < SILENT; i++) attacks.push(rawAttack(port, "silent", { head: "" }));
      }
      const wavePosts: AttackKind[] = [
        ...Array.from({ length: DECLARED_PER_WAVE }, () => "declared" as const),
        ...Array.from({ length: ASKING_PER_WAVE }, () => "expect-continue" as const),
        ...Array.from({ length: CHUNKED_PER_WAVE }, () => "chunked" as const),
      ];
      // Shuffled (seeded): which arrives first should not matter.
      for (let i = wavePosts.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [wavePosts[i], wavePosts[j]] = [wavePosts[j]!, wavePosts[i]!];
      }
      for (const kind of wavePosts)
        attacks.push(kind === "declared" ? declared() : kind === "chunked" ? chunked() : asking());
    }
    results.push(...(await Promise.all(attacks)));
    await stream;
    const attackEndedAt = performance.now() - t0;
    const readDuring = groupReadBytes(leader) - readBefore;
    const genuineBytesDuring = stats.bytes - genuineBytesBefore;

    // Afterwards: the same process, alive and healthy, still taking webhooks.
    const health = await fetch(`${stack.url}/healthz`);
    const healthBody = await health.text();
    await deliverOverHttp(pool, after, stats, PACE_MS);
    const pidAfter = mainPid(leader);
    clearInterval(sampler);
    sample();

    const expected = genuine.map((g) => ({ shop: g.shop, eventName: "Purchase", eventId: String(g.orderId) }));
    const pixels = Object.fromEntries(shops.map((s) => [s.shop, s.pixelId]));
    const account = await settleAndAccount({ prisma: stack.db.prisma, meta, pixels, expected, timeoutMs: 40_000 });

    const baseline = samples.slice(0, baselineSamples);
    const attack = samples.slice(baselineSamples);
    const baselineMiB = Math.max(...baseline.map((s) => s.rssMiB));
    const peakMiB = Math.max(...attack.map((s) => s.rssMiB));
    const hwmBefore = baseline[baseline.length - 1]!.mainPeakMiB;
    const hwmAfter = samples[samples.length - 1]!.mainPeakMiB;
    const oversized = results.filter(
      (r) => r.kind === "declared" || r.kind === "expect-continue" || r.kind === "chunked",
    );
    const not413 = oversized.filter((r) => r.status !== 413);
    const trickled = results.filter((r) => !oversized.includes(r));
    const mib = (n: number) => Math.round((n / MiB) * 10) / 10;
    const byKind = (kind: AttackKind) => results.filter((r) => r.kind === kind);
    const figures = (kind: AttackKind) => {
      const list = byKind(kind);
      return {
        n: list.length,
        statuses: Object.fromEntries(
          [...new Set(list.map((r) => r.status))].map((s) => [
            String(s ?? `none (${[...new Set(list.filter((r) => r.status === s).map((r) => r.error))].join("/")})`),
            list.filter((r) => r.status === s).length,
          ]),
        ),
        "MiB written before the answer (max)": mib(Math.max(...list.map((r) => r.writtenBeforeAnswer))),
        "MiB written in all (min/max)": `${mib(Math.min(...list.map((r) => r.written)))}/${mib(Math.max(...list.map((r) => r.written)))}`,
        "answered after ms (max of answered)": Math.round(Math.max(0, ...list.map((r) => r.answeredAfterMs ?? 0))),
        "closed after ms (min/max)": `${Math.round(Math.min(...list.map((r) => r.closedAfterMs)))}/${Math.round(Math.max(...list.map((r) => r.closedAfterMs)))}`,
      };
    };
    const oversizedAttempted = oversized.reduce((sum, r) => sum + r.attempted, 0);
    // Everything the web process read in the attack window but the genuine webhooks and a
    // margin for PostgreSQL and Redis answers: what the attackers cost it.
    // Each refused post is read to the limit and then, while its 413 lingers, up to LINGER_BYTES more.
    const readBound = oversized.length * (LIMIT + LINGER_BYTES + MiB) + genuineBytesDuring + 32 * MiB;
    printAccount("oversized and slow bodies against the web process", account, {
      seed,
      "web process": `1 (pid ${pidBefore}, group ${leader}), 1 worker; MAX_BODY_BYTES ${process.env.MAX_BODY_BYTES ?? `unset (the default, ${LIMIT})`}`,
      "attack waves at ms": waveTimes,
      "attack window ms": `${Math.round(attackStartedAt)}–${Math.round(attackEndedAt)}`,
      "413 answers": `${oversized.filter((r) => r.status === 413).length} of ${oversized.length} oversized posts (${mib(oversizedAttempted)} MiB attempted); ${not413.length} without one`,
      "declared 500 MB": figures("declared"),
      "declared 500 MB, Expect: 100-continue": figures("expect-continue"),
      "chunked 100 MB": figures("chunked"),
      "trickled body (Content-Length 2400)": figures("trickle-body"),
      "trickled headers": figures("trickle-headers"),
      "silent connections": figures("silent"),
      "web process read during the attack (rchar)": `${mib(readDuring)} MiB, bound ${mib(readBound)} MiB (genuine webhooks ${mib(genuineBytesDuring)} MiB)`,
      "web group RSS": `baseline ${Math.round(baselineMiB)} MiB, peak under attack ${Math.round(peakMiB)} MiB (+${Math.round(peakMiB - baselineMiB)}); bounds +${RSS_GROWTH_BOUND_MIB} and ${RSS_PEAK_BOUND_MIB} MiB; before the fix: 2.5 GB`,
      "web main process VmHWM": `${Math.round(hwmBefore)} MiB before the attack, ${Math.round(hwmAfter)} MiB after`,
      "memory samples": `${baseline.length} before, ${attack.length} during and after`,
      "genuine webhooks": `${genuine.length}, attempts ${stats.attempts}, 200s ${stats.answered200}, retried ${stats.retried}, failures ${JSON.stringify(stats.failures)}`,
      "genuine latency ms": `p50 ${Math.round(quantile(stats.latencies, 0.5))}, p99 ${Math.round(quantile(stats.latencies, 0.99))}, max ${Math.round(Math.max(...stats.latencies))}`,
      "/healthz after": `${health.status} ${healthBody.trim()}`,
    });
    if (account.problems.length) console.log(results.filter((r) => r.status !== 413 && r.status !== 408).slice(0, 5));

    // Every oversized post: 413, naming the limit, with only a bounded amount taken from it.
    // Clients still sending when it is answered read it too: the server's lingering close
    // (a reset from closing on unread data used to destroy the 413 for a third of them).
    expect(oversized).toHaveLength(WAVES * (DECLARED_PER_WAVE + ASKING_PER_WAVE + CHUNKED_PER_WAVE));
    for (const r of oversized) {
      expect(
        r.status,
        `${r.kind}: answered ${r.status}, closed after ${Math.round(r.closedAfterMs)} ms: ${r.answer.slice(0, 200)} (${r.error ?? "no error"})`,
      ).toBe(413);
      expect(r.answer).toContain(`exceeds ${LIMIT} bytes`);
      expect(r.answer).toMatch(/connection: close/i);
      expect(r.writtenBeforeAnswer, `${r.kind} written before the answer`).toBeLessThan(WRITTEN_BOUND);
      // The attacker kept writing after the 413: the server closed the connection instead of
      // reading on, so the client never got to send the body.
      expect(r.written, `${r.kind} written in all`).toBeLessThan(WRITTEN_BOUND);
      expect(r.written).toBeLessThan(r.attempted / 3);
      expect(r.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS);
    }
    // Asked first, a body declared too large is refused on its header alone: not a byte sent.
    for (const r of byKind("expect-continue")) {
      expect(r.status).toBe(413);
      expect(r.written).toBe(0);
    }
    expect(oversized.filter((r) => r.status === 413).length).toBeGreaterThan(WAVES * ASKING_PER_WAVE);
    expect(readDuring).toBeLessThan(readBound);
    expect(readDuring).toBeLessThan(oversizedAttempted / 10);
    // Slow lorises: dropped by the server at its timeouts (checked every second), with a 408.
    for (const r of trickled) {
      expect(r.status, `${r.kind}: ${r.answer.slice(0, 200)} (${r.error ?? "no error"})`).toBe(408);
      const limit = r.kind === "trickle-body" ? REQUEST_TIMEOUT_MS : HEADERS_TIMEOUT_MS;
      expect(r.closedAfterMs, r.kind).toBeGreaterThanOrEqual(limit - 500);
      expect(r.closedAfterMs, r.kind).toBeLessThan(limit + 2_500);
    }
    // Memory: flat.
    expect(peakMiB - baselineMiB).toBeLessThan(RSS_GROWTH_BOUND_MIB);
    expect(peakMiB).toBeLessThan(RSS_PEAK_BOUND_MIB);
    expect(hwmAfter).toBeLessThan(Math.max(hwmBefore, RSS_PEAK_BOUND_MIB));
    // The same process, alive and healthy.
    expect(pidAfter).toBe(pidBefore);
    expect(() => process.kill(pidBefore!, 0)).not.toThrow();
    expect(health.status).toBe(200);
    expect(healthBody.trim()).toBe("ok");
    // Every genuine webhook answered 200, in Shopify's time, and its event delivered once.
    expect(stats.answered200).toBe(genuine.length);
    expect(stats.failures).toEqual({});
    expect(Math.max(...stats.latencies)).toBeLessThan(SHOPIFY_TIMEOUT_MS);
    expect(account.problems).toEqual([]);
    expect(account.delivered).toBe(genuine.length);
    expect(account.uniqueAtMeta).toBe(genuine.length);
  } finally {
    clearInterval(sampler);
    await pool.close();
  }
});
