// The Meta side of the burst benchmarks, in a process of its own so that the load generator's
// clock does not share a thread with Meta's validation work: the project's Meta stand-in
// (sandbox/meta-graph) behind a front that gives every events request a network-like latency
// (uniform in [min, max] ms) and, optionally, a per-pixel call-rate limit answered with Meta's
// code 17. Both systems under test talk to the same front with the same settings.
//
// Run as a script it serves and prints {"url": ...} on its first stdout line; imported, it
// offers startMetaStandIn(), which spawns that script and reads its figures over HTTP.
import { spawn, type ChildProcess } from "node:child_process";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { z } from "zod";
import { errorBody, rateLimited } from "../sandbox/meta-graph/errors";
import { startMetaSandbox } from "../sandbox/meta-graph/server";

const ROOT = path.resolve(import.meta.dirname, "..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");
const EVENTS_PATH = /^\/v\d+\.\d+\/(\d+)\/events\/?(?:\?.*)?$/;

export interface MetaStandInOptions {
  /** Added to every events request, uniform in [min, max]; Meta: "most responses under 600 ms". */
  latencyMs: { min: number; max: number };
  /** Requests per second one pixel may make (a 1-second window); unset: no limit. */
  ratePerPixel?: number;
}

export const pixelStatsSchema = z.object({
  requests: z.number(),
  accepted: z.number(),
  throttled: z.number(),
  /** Other Meta errors (invalid events, ...). */
  rejected: z.number(),
  /** Events Meta would keep (first of each event_id), and when the first and the last arrived (epoch ms). */
  unique: z.number(),
  firstAt: z.number().nullable(),
  lastAt: z.number().nullable(),
});
export type PixelStats = z.infer<typeof pixelStatsSchema>;
const statsSchema = z.record(z.string(), pixelStatsSchema);

export interface MetaStandIn {
  url: string;
  pid: number;
  /** Figures for these pixels (summed); every pixel when omitted. */
  stats(pixels?: string[]): Promise<PixelStats>;
  /** Arrival times (epoch ms) of the events Meta kept for these pixels, sorted. */
  arrivals(pixels: string[]): Promise<number[]>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

function emptyStats(): PixelStats {
  return { requests: 0, accepted: 0, throttled: 0, rejected: 0, unique: 0, firstAt: null, lastAt: null };
}

function sum(all: PixelStats[]): PixelStats {
  const total = emptyStats();
  for (const s of all) {
    total.requests += s.requests;
    total.accepted += s.accepted;
    total.throttled += s.throttled;
    total.rejected += s.rejected;
    total.unique += s.unique;
    if (s.firstAt !== null) total.firstAt = total.firstAt === null ? s.firstAt : Math.min(total.firstAt, s.firstAt);
    if (s.lastAt !== null) total.lastAt = total.lastAt === null ? s.lastAt : Math.max(total.lastAt, s.lastAt);
  }
  return total;
}

export async function startMetaStandIn(options: MetaStandInOptions): Promise<MetaStandIn> {
  const args = ["--latency", `${options.latencyMs.min}-${options.latencyMs.max}`];
  if (options.ratePerPixel !== undefined) args.push("--rate-per-pixel", String(options.ratePerPixel));
  const child: ChildProcess = spawn(process.execPath, [TSX, path.join(ROOT, "bench/meta-stand-in.ts"), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      try {
        resolve(z.object({ url: z.string() }).parse(JSON.parse(line)).url);
      } catch (error) {
        reject(error);
      }
    });
    child.once("exit", (code) => reject(new Error(`the Meta stand-in exited (${code}) before it listened`)));
  });
  const getJson = async (route: string): Promise<unknown> => {
    const response = await fetch(`${url}${route}`);
    if (!response.ok) throw new Error(`${route}: ${response.status}`);
    return response.json();
  };
  return {
    url,
    pid: child.pid!,
    async stats(pixels) {
      const all = statsSchema.parse(await getJson("/__bench/stats"));
      return sum(pixels ? pixels.map((p) => all[p] ?? emptyStats()) : Object.values(all));
    },
    async arrivals(pixels) {
      return z.array(z.number()).parse(await getJson(`/__bench/arrivals?pixels=${pixels.join(",")}`));
    },
    async reset() {
      await (await fetch(`${url}/__bench/reset`, { method: "POST" })).arrayBuffer();
    },
    async close() {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

async function serve(latency: { min: number; max: number }, ratePerPixel: number | undefined): Promise<void> {
  const sandbox = await startMetaSandbox({ port: 0 });
  // A pool sized for the naive sender's hundreds of requests in flight.
  const upstream = new Pool(sandbox.url, { connections: 512, pipelining: 1 });
  let counters = new Map<string, { requests: number; throttled: number }>();
  let windows = new Map<string, { second: number; used: number }>();

  const counter = (pixel: string) => {
    let c = counters.get(pixel);
    if (!c) counters.set(pixel, (c = { requests: 0, throttled: 0 }));
    return c;
  };
  const overLimit = (pixel: string): boolean => {
    if (ratePerPixel === undefined) return false;
    const second = Math.floor(Date.now() / 1000);
    const w = windows.get(pixel);
    if (!w || w.second !== second) {
      windows.set(pixel, { second, used: 1 });
      return false;
    }
    return ++w.used > ratePerPixel;
  };

  const stats = (): Record<string, PixelStats> => {
    const out: Record<string, PixelStats> = {};
    for (const [pixel, c] of counters) out[pixel] = { ...emptyStats(), requests: c.requests, throttled: c.throttled };
    for (const kept of sandbox.unique()) {
      const s = (out[kept.pixelId] ??= emptyStats());
      s.unique++;
      s.firstAt = s.firstAt === null ? kept.receivedAt : Math.min(s.firstAt, kept.receivedAt);
      s.lastAt = s.lastAt === null ? kept.receivedAt : Math.max(s.lastAt, kept.receivedAt);
    }
    return out;
  };

  const acceptedOrRejected = new Map<string, { accepted: number; rejected: number }>();
  const server = http.createServer(async (req, res) => {
    try {
      const url = req.url ?? "/";
      const events = req.method === "POST" ? EVENTS_PATH.exec(url) : null;
      if (events) {
        const pixel = events[1]!;
        const body = await readBody(req);
        const c = counter(pixel);
        c.requests++;
        const limited = overLimit(pixel);
        await new Promise((r) => setTimeout(r, latency.min + Math.random() * (latency.max - latency.min)));
        if (limited) {
          c.throttled++;
          const e = rateLimited(17);
          return sendJson(res, e.status, errorBody(e));
        }
        const headers: Record<string, string> = { "content-type": req.headers["content-type"] ?? "application/json" };
        if (req.headers.authorization) headers.authorization = req.headers.authorization;
        const answer = await upstream.request({ path: url, method: "POST", headers, body });
        const text = await answer.body.text();
        const tally = acceptedOrRejected.get(pixel) ?? { accepted: 0, rejected: 0 };
        if (answer.statusCode === 200) tally.accepted++;
        else tally.rejected++;
        acceptedOrRejected.set(pixel, tally);
        res.writeHead(answer.statusCode, {
          "content-type": "application/json; charset=UTF-8",
          "content-length": String(Buffer.byteLength(text)),
        });
        return res.end(text);
      }
      const parsed = new URL(url, "http://stand-in.invalid");
      if (req.method === "GET" && parsed.pathname === "/__bench/stats") {
        const out = stats();
        for (const [pixel, t] of acceptedOrRejected) {
          const s = (out[pixel] ??= emptyStats());
          s.accepted = t.accepted;
          s.rejected = t.rejected;
        }
        return sendJson(res, 200, out);
      }
      if (req.method === "GET" && parsed.pathname === "/__bench/arrivals") {
        const wanted = new Set((parsed.searchParams.get("pixels") ?? "").split(",").filter(Boolean));
        const times = sandbox
          .unique()
          .filter((k) => wanted.has(k.pixelId))
          .map((k) => k.receivedAt)
          .sort((a, b) => a - b);
        return sendJson(res, 200, times);
      }
      if (req.method === "POST" && parsed.pathname === "/__bench/reset") {
        await readBody(req);
        sandbox.reset();
        counters = new Map();
        windows = new Map();
        acceptedOrRejected.clear();
        return sendJson(res, 200, { ok: true });
      }
      sendJson(res, 404, { error: `nothing at ${req.method} ${parsed.pathname}` });
    } catch (error) {
      // The upstream is in this process: a failure here is a bench bug, and must show.
      console.error("meta stand-in front:", error);
      if (!res.headersSent) sendJson(res, 502, { error: String(error) });
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
}

const isMain = process.argv[1]?.endsWith("bench/meta-stand-in.ts") ?? false;
if (isMain) {
  const { values } = parseArgs({
    options: { latency: { type: "string", default: "0-0" }, "rate-per-pixel": { type: "string" } },
    strict: true,
  });
  const m = /^(\d+)-(\d+)$/.exec(values.latency);
  if (!m || Number(m[1]) > Number(m[2])) {
    console.error("--latency takes MIN-MAX in ms, e.g. 100-300");
    process.exit(2);
  }
  const rate = values["rate-per-pixel"] === undefined ? undefined : Number(values["rate-per-pixel"]);
  if (rate !== undefined && !(Number.isInteger(rate) && rate > 0)) {
    console.error("--rate-per-pixel takes a whole number of requests per second");
    process.exit(2);
  }
  await serve({ min: Number(m[1]), max: Number(m[2]) }, rate);
}
