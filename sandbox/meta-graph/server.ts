// A stand-in for Meta's Graph API `/{version}/{pixel}/events`, owned by the project for tests,
// the demo and benchmarks: it checks requests as Meta documents, answers in Meta's shapes,
// records what it accepted, and can be told to fail. It only ever listens on loopback.
import { createHmac, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { errorBody, fbtraceId, type SandboxError } from "./errors";
import { checkEvent } from "./rules";

export type Fault =
  | { mode: "none" }
  | { mode: "server-error"; status?: 500 | 502 | 503; count?: number }
  | { mode: "timeout"; count?: number }
  | { mode: "reset"; count?: number }
  | { mode: "token-invalid"; subcode?: 460 | 463 | 467; count?: number }
  | { mode: "rate-limit"; code?: 4 | 17 | 32 | 613 | 80003; count?: number }
  | { mode: "latency"; ms: number; count?: number };

export const faultSchema: z.ZodType<Fault> = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("none") }),
  z.object({ mode: z.literal("server-error"), status: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(), count: z.number().int().positive().optional() }),
  z.object({ mode: z.literal("timeout"), count: z.number().int().positive().optional() }),
  z.object({ mode: z.literal("reset"), count: z.number().int().positive().optional() }),
  z.object({ mode: z.literal("token-invalid"), subcode: z.union([z.literal(460), z.literal(463), z.literal(467)]).optional(), count: z.number().int().positive().optional() }),
  z.object({ mode: z.literal("rate-limit"), code: z.union([z.literal(4), z.literal(17), z.literal(32), z.literal(613), z.literal(80003)]).optional(), count: z.number().int().positive().optional() }),
  z.object({ mode: z.literal("latency"), ms: z.number().int().nonnegative(), count: z.number().int().positive().optional() }),
]);

export interface SandboxOptions {
  port?: number;
  host?: string;
  /** Clock in ms for Meta's event_time window; tests simulate time through it. */
  now?: () => number;
  /** When set, every request must carry appsecret_proof = HMAC-SHA256(appSecret, token). */
  appSecret?: string;
  latencyMs?: number;
}

export interface AcceptedEvent {
  pixelId: string;
  event: Record<string, any>;
  testEventCode?: string;
  receivedAt: number;
}

export interface SandboxStats {
  requests: number;
  accepted: number;
  rejected: number;
  eventsReceived: number;
  byCode: Record<string, number>;
}

export interface MetaSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
  accepted(pixelId?: string): AcceptedEvent[];
  /** What Meta would keep: one event per (pixel, event_name, event_id). */
  unique(pixelId?: string): AcceptedEvent[];
  stats(): SandboxStats;
  setFault(fault: Fault): void;
  reset(): void;
  revokeToken(token: string): void;
  allowToken(token: string): void;
}

const MAX_EVENTS = 1000;
const EVENTS_PATH = /^\/(v\d+\.\d+)\/(\d+)\/events\/?$/;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** JSON, or form-encoded with `data` as a JSON string, as Meta takes both. */
function parseRequestBody(text: string, contentType: string | undefined): Record<string, unknown> | undefined {
  try {
    if (contentType?.includes("application/x-www-form-urlencoded")) {
      const params = new URLSearchParams(text);
      const out: Record<string, unknown> = Object.fromEntries(params.entries());
      if (typeof out.data === "string") out.data = JSON.parse(out.data);
      return out;
    }
    const parsed = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function sameProof(expected: string, given: unknown): boolean {
  if (typeof given !== "string" || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

export async function startMetaSandbox(options: SandboxOptions = {}): Promise<MetaSandbox> {
  const now = options.now ?? Date.now;
  let accepted: AcceptedEvent[] = [];
  let fault: Fault = { mode: "none" };
  let faultLeft = Infinity;
  const revoked = new Set<string>();
  let stats: SandboxStats = { requests: 0, accepted: 0, rejected: 0, eventsReceived: 0, byCode: {} };
  const hanging = new Set<ServerResponse>();

  const setFault = (f: Fault) => {
    fault = f;
    faultLeft = "count" in f && f.count ? f.count : Infinity;
  };
  const takeFault = (): Fault => {
    if (fault.mode === "none") return fault;
    const current = fault;
    faultLeft--;
    if (faultLeft <= 0) setFault({ mode: "none" });
    return current;
  };
  const reject = (res: ServerResponse, e: SandboxError) => {
    stats.rejected++;
    stats.byCode[e.subcode ? `${e.code}/${e.subcode}` : String(e.code)] = (stats.byCode[e.subcode ? `${e.code}/${e.subcode}` : String(e.code)] ?? 0) + 1;
    send(res, e.status, errorBody(e));
  };
  const unique = (pixelId?: string) => {
    const seen = new Map<string, AcceptedEvent>();
    for (const a of accepted) {
      if (pixelId && a.pixelId !== pixelId) continue;
      const key = `${a.pixelId}\u0000${a.event.event_name}\u0000${a.event.event_id ?? Math.random()}`;
      if (!seen.has(key)) seen.set(key, a);
    }
    return [...seen.values()];
  };

  async function handleEvents(req: IncomingMessage, res: ServerResponse, pixelId: string, url: URL): Promise<void> {
    stats.requests++;
    const text = await readBody(req);
    const active = takeFault();
    const delay = (options.latencyMs ?? 0) + (active.mode === "latency" ? active.ms : 0);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    switch (active.mode) {
      case "timeout":
        hanging.add(res);
        return;
      case "reset":
        req.socket.destroy();
        return;
      case "server-error":
        return reject(res, { status: active.status ?? 500, code: 2, message: "An unexpected error has occurred. Please retry your request later.", transient: true });
      case "rate-limit":
        return reject(res, { status: 400, code: active.code ?? 17, message: "User request limit reached", transient: true });
    }
    const body = parseRequestBody(text, req.headers["content-type"]);
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const token = bearer ?? (typeof body?.access_token === "string" ? body.access_token : undefined) ?? url.searchParams.get("access_token") ?? undefined;
    if (!token) {
      return reject(res, { status: 400, code: 190, message: "An access token is required to request this resource." });
    }
    if (active.mode === "token-invalid" || revoked.has(token)) {
      const subcode = active.mode === "token-invalid" ? active.subcode ?? 463 : 460;
      return reject(res, { status: 400, code: 190, subcode, message: "Error validating access token: The session has been invalidated." });
    }
    if (options.appSecret) {
      const proof = createHmac("sha256", options.appSecret).update(token).digest("hex");
      if (!sameProof(proof, body?.appsecret_proof ?? url.searchParams.get("appsecret_proof"))) {
        return reject(res, { status: 400, code: 100, message: "Invalid appsecret_proof provided in the API argument" });
      }
    }
    if (!body) return reject(res, { status: 400, code: 100, message: "Invalid parameter", userMessage: "The request body is not valid JSON" });
    const data = body.data;
    if (!Array.isArray(data) || data.length === 0) {
      return reject(res, { status: 400, code: 100, message: "The parameter data is required", userMessage: "data must be a non-empty array of events" });
    }
    if (data.length > MAX_EVENTS) {
      return reject(res, { status: 400, code: 100, message: "Invalid parameter", userMessage: `A request may hold at most ${MAX_EVENTS} events` });
    }
    // One invalid event rejects the whole request, as Meta does.
    for (const [index, event] of data.entries()) {
      const problem = checkEvent(event, index, now());
      if (problem) return reject(res, problem);
    }
    const testEventCode = typeof body.test_event_code === "string" ? body.test_event_code : undefined;
    const receivedAt = now();
    for (const event of data) accepted.push({ pixelId, event: event as Record<string, any>, testEventCode, receivedAt });
    stats.accepted++;
    stats.eventsReceived += data.length;
    send(res, 200, { events_received: data.length, messages: [], fbtrace_id: fbtraceId() });
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const pixel = url.searchParams.get("pixel") ?? undefined;
    const json = async () => {
      try {
        return JSON.parse((await readBody(req)) || "{}");
      } catch {
        return undefined;
      }
    };
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case "GET /__sandbox/events":
        return send(res, 200, accepted.filter((a) => !pixel || a.pixelId === pixel));
      case "GET /__sandbox/unique":
        return send(res, 200, unique(pixel));
      case "GET /__sandbox/stats":
        return send(res, 200, { ...stats, unique: unique().length });
      case "POST /__sandbox/reset":
        sandbox.reset();
        return send(res, 200, { ok: true });
      case "POST /__sandbox/fault": {
        const parsed = faultSchema.safeParse(await json());
        if (!parsed.success) return send(res, 400, { error: parsed.error.issues[0]?.message });
        setFault(parsed.data);
        return send(res, 200, { ok: true });
      }
      case "POST /__sandbox/revoke":
      case "POST /__sandbox/allow": {
        const token = (await json())?.token;
        if (typeof token !== "string") return send(res, 400, { error: "token is required" });
        if (route.endsWith("revoke")) revoked.add(token);
        else revoked.delete(token);
        return send(res, 200, { ok: true });
      }
    }
    send(res, 404, { error: "unknown control endpoint" });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sandbox.local");
    const match = EVENTS_PATH.exec(url.pathname);
    const work =
      req.method === "POST" && match
        ? handleEvents(req, res, match[2]!, url)
        : url.pathname.startsWith("/__sandbox/")
          ? handleControl(req, res, url)
          : Promise.resolve(
              send(res, 400, errorBody({ status: 400, code: 803, message: `Unknown path components: ${url.pathname}` })),
            );
    work.catch(() => {
      if (!res.headersSent) send(res, 500, errorBody({ status: 500, code: 1, message: "An unknown error occurred", transient: true }));
    });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const sandbox: MetaSandbox = {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    accepted: (pixelId) => accepted.filter((a) => !pixelId || a.pixelId === pixelId),
    unique,
    stats: () => ({ ...stats, byCode: { ...stats.byCode } }),
    setFault,
    reset() {
      accepted = [];
      stats = { requests: 0, accepted: 0, rejected: 0, eventsReceived: 0, byCode: {} };
      revoked.clear();
      setFault({ mode: "none" });
    },
    revokeToken: (token) => void revoked.add(token),
    allowToken: (token) => void revoked.delete(token),
    async close() {
      for (const res of hanging) res.destroy();
      hanging.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return sandbox;
}
