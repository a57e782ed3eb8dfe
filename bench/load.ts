// Shopify's side of the benchmarks: signed orders/create webhooks, sent either paced
// (open loop: webhook i leaves at start + i/rate whatever the answers do, as Shopify sends
// them on a Black Friday) or closed loop (a fixed number in flight, for the most a system
// takes). Bodies and signatures are made before the clock starts.
//
// Answer latency is measured from the moment a webhook was due to leave, not from the moment
// a connection was free to carry it: a server that falls behind makes later webhooks wait,
// and that wait is part of what Shopify sees (coordinated omission, corrected).
import { Pool } from "undici";
import { webhookHeaders } from "../test/support/shopify-webhooks";
import { makeOrders } from "./orders";
import { WEBHOOK_SECRET, type BenchShop } from "./stack";

/** Shopify waits 5 s in all for a 2xx, then counts the delivery as failed and retries it. */
export const SHOPIFY_TIMEOUT_MS = 5_000;

export interface SignedWebhook {
  shop: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Where the next set's order ids start: each set of a run has ids of its own. */
let nextIdOffset = 0;

/**
 * n webhooks spread round-robin over the shops; orders placed within the last day (Meta's
 * window), webhook ids unique per tag. Each order is its shop's: its status link on the shop's
 * host, and an order id no other set of the run uses (Shopify's ids are global, and the app
 * refuses an order id another shop holds as a replayed body).
 */
export function signedOrders(n: number, shops: BenchShop[], tag: string, seed = 7): SignedWebhook[] {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const out: SignedWebhook[] = [];
  const offset = nextIdOffset;
  nextIdOffset += n;
  for (const [i, made] of makeOrders(n, seed, nowSeconds).entries()) {
    const { shop } = shops[i % shops.length]!;
    const id = made.id + offset;
    const order = {
      ...made,
      id,
      admin_graphql_api_id: `gid://shopify/Order/${id}`,
      order_status_url: String(made.order_status_url).replace(/^https:\/\/[^/]+/, `https://${shop}`),
    };
    const body = JSON.stringify(order);
    const headers = webhookHeaders(
      {
        topic: "orders/create",
        shop,
        payload: undefined,
        secret: WEBHOOK_SECRET,
        eventId: `${tag}-${i}`,
        webhookId: `${tag}-w${i}`,
      },
      body,
    );
    out.push({ shop, path: "/webhooks/orders/create", headers, body });
  }
  return out;
}

export interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarise(values: number[]): Summary {
  const s = Float64Array.from(values).sort();
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : 0);
  let total = 0;
  for (const v of s) total += v;
  return {
    count: s.length,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: s.length ? s[s.length - 1]! : 0,
    mean: s.length ? total / s.length : 0,
  };
}

export interface LoadResult {
  mode: "paced" | "closed";
  /** offered webhooks per second (paced), or webhooks in flight (closed) */
  offered: number;
  sent: number;
  /** 2xx answers */
  ok: number;
  /** non-2xx answers, by status */
  statuses: Record<string, number>;
  /** no answer at all (connection error) */
  errors: number;
  /** epoch ms when the first webhook was due */
  startedAt: number;
  /** seconds from the first webhook due to the last answer */
  seconds: number;
  /** answers per second over that time */
  achievedRate: number;
  /** answer latency from when the webhook was due (ms) */
  latency: Summary;
  /** answer latency from when it actually left (ms): the server's own time */
  serviceLatency: Summary;
  /** answers later than Shopify's 5 s, or none: Shopify would retry these */
  overShopifyTimeout: number;
  /** per second of the run: answers and their p99 (ms, from when due) */
  perSecond: Array<{ second: number; answers: number; p99: number }>;
}

interface Answer {
  due: number;
  left: number;
  done: number;
  status: number;
}

function result(mode: LoadResult["mode"], offered: number, startedAt: number, answers: Answer[]): LoadResult {
  const statuses: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let over = 0;
  let last = startedAt;
  const buckets = new Map<number, number[]>();
  for (const a of answers) {
    if (a.status === 0) errors++;
    else if (a.status >= 200 && a.status < 300) ok++;
    else statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    if (a.status === 0 || a.done - a.due > SHOPIFY_TIMEOUT_MS) over++;
    last = Math.max(last, a.done);
    const second = Math.floor((a.due - startedAt) / 1000);
    const list = buckets.get(second);
    if (list) list.push(a.done - a.due);
    else buckets.set(second, [a.done - a.due]);
  }
  const seconds = (last - startedAt) / 1000;
  return {
    mode,
    offered,
    sent: answers.length,
    ok,
    statuses,
    errors,
    startedAt,
    seconds,
    achievedRate: answers.length / Math.max(seconds, 1e-3),
    latency: summarise(answers.map((a) => a.done - a.due)),
    serviceLatency: summarise(answers.map((a) => a.done - a.left)),
    overShopifyTimeout: over,
    perSecond: [...buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([second, list]) => ({ second, answers: list.length, p99: summarise(list).p99 })),
  };
}

async function post(
  pool: Pool,
  hook: SignedWebhook,
  due: number,
  startedAtPerf: number,
  startedAt: number,
): Promise<Answer> {
  const left = performance.now();
  const toEpoch = (perf: number) => startedAt + (perf - startedAtPerf);
  try {
    const response = await pool.request({
      path: hook.path,
      method: "POST",
      headers: hook.headers,
      body: hook.body,
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    await response.body.arrayBuffer();
    return { due: toEpoch(due), left: toEpoch(left), done: toEpoch(performance.now()), status: response.statusCode };
  } catch {
    return { due: toEpoch(due), left: toEpoch(left), done: toEpoch(performance.now()), status: 0 };
  }
}

/**
 * Opens up to `count` connections before the clock starts (GETs of a static file, which both
 * systems answer cheaply): TCP set-up is not what the benchmarks measure, and a pool opening
 * hundreds of sockets in its first second would charge it to the first webhooks.
 */
async function openConnections(pool: Pool, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async () => {
      try {
        const r = await pool.request({ path: "/robots.txt", method: "GET" });
        await r.body.arrayBuffer();
      } catch {
        // a connection that cannot open now will not open later either: the run shows it
      }
    }),
  );
}

/**
 * Webhook i is due at start + i / rate. `connections` bounds the sockets (Shopify's senders
 * are many, but not unbounded); a webhook due while all are busy waits, and the wait counts.
 */
export async function sendPaced(
  baseUrl: string,
  hooks: SignedWebhook[],
  ratePerSecond: number,
  connections = 256,
  onClockStart?: () => void,
): Promise<LoadResult> {
  const pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  await openConnections(pool, connections);
  // For a caller metering the servers from the first webhook on, without the connections' set-up.
  onClockStart?.();
  const startedAt = Date.now();
  const t0 = performance.now();
  const pending: Promise<Answer>[] = [];
  let next = 0;
  try {
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = performance.now() - t0;
        const dueNow = Math.min(hooks.length, Math.floor((elapsed * ratePerSecond) / 1000) + 1);
        for (; next < dueNow; next++)
          pending.push(post(pool, hooks[next]!, t0 + (next * 1000) / ratePerSecond, t0, startedAt));
        if (next >= hooks.length) return resolve();
        const wait = t0 + (next * 1000) / ratePerSecond - performance.now();
        setTimeout(tick, Math.max(0, Math.min(wait, 5)));
      };
      tick();
    });
    return result("paced", ratePerSecond, startedAt, await Promise.all(pending));
  } finally {
    await pool.close();
  }
}

/** `concurrency` webhooks in flight until all are answered (or until `seconds`, when given). */
export async function sendClosed(
  baseUrl: string,
  hooks: SignedWebhook[],
  concurrency: number,
  seconds?: number,
): Promise<LoadResult> {
  const pool = new Pool(baseUrl, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  await openConnections(pool, concurrency);
  const startedAt = Date.now();
  const t0 = performance.now();
  const stopAt = seconds === undefined ? Infinity : t0 + seconds * 1000;
  const answers: Answer[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const i = next++;
          if (i >= hooks.length || performance.now() >= stopAt) return;
          // Closed loop: a webhook is due when a sender is free to send it.
          answers.push(await post(pool, hooks[i]!, performance.now(), t0, startedAt));
        }
      }),
    );
    return result("closed", concurrency, startedAt, answers);
  } finally {
    await pool.close();
  }
}
