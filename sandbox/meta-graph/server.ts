// A stand-in for Meta's Graph API `POST /{version}/{pixel}/events` and the pixel node read
// `GET /{version}/{pixel}?fields=id,name` (the connection check), owned by the project for
// tests, the demo and benchmarks: it checks requests as Meta documents, answers in Meta's
// shapes, records what it accepted, and can be told to fail. It listens on loopback only.
//
// Which pixels exist: every numeric id does, unless named in `unknownPixels` or marked with
// unknownPixel(); those get Meta's 100/33 on both calls. Tokens work unless revoked (190/460)
// or denied (200, a valid token without permission on the pixel). Facebook Login for Business
// (the dialog, the code exchange, debug_token and the business and pixel listings) is in
// ./login.ts; the tokens it issues work here like any other. `GET /{version}/dataset_quality`
// (Meta's Dataset Quality API) answers from the events it kept (./quality.ts); a token told
// to lack that permission (denyQuality) gets Meta's permissions error there only.
// The browser pixel's endpoint `/tr` (and `/tr/`) takes what fbevents.js and the web pixel send
// (./browser-pixel.ts), and `/en_US/fbevents.js` is a stand-in fbevents.js sending there; browser
// and server copies of an event are deduplicated together as Meta does (./dedup.ts), and
// eventCounts() says, per pixel, how many copies came and how many events Meta counts.
import { createHmac, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import {
  appsecretProofInvalid,
  appsecretProofMissing,
  codeKey,
  errorBody,
  fbtraceId,
  nonexistingField,
  noToken,
  objectNotFound,
  parameterError,
  permissionDenied,
  rateLimited,
  serverError,
  tokenInvalid,
  unknownPath,
  unsupportedMethod,
  type MetaError,
} from "./errors";
import {
  loginStandIn,
  sandboxBusinessesSchema,
  type IssuedToken,
  type LoginOptions,
  type SandboxBusiness,
} from "./login";
import { fbeventsScript, MAX_TR_BYTES, parseTrParams, type BrowserEvent } from "./browser-pixel";
import { dedupKey, eventCounts, judge, keep, type Arrival, type KeptCopy, type PixelEventCounts } from "./dedup";
import { datasetQualityAnswer, QUALITY_WEB_FIELDS } from "./quality";
import { checkEvent } from "./rules";

export const MAX_EVENTS_PER_REQUEST = 1000;
export { DEDUP_WINDOW_MS } from "./dedup";
export type { BrowserEvent } from "./browser-pixel";
export type { PixelEventCounts } from "./dedup";

const count = z.number().int().positive().optional();
export const faultSchema = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("none") }),
  z.object({
    mode: z.literal("server-error"),
    status: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(),
    code: z.union([z.literal(1), z.literal(2)]).optional(),
    count,
  }),
  z.object({ mode: z.literal("timeout"), count }),
  z.object({ mode: z.literal("reset"), count }),
  z.object({
    mode: z.literal("token-invalid"),
    subcode: z.union([z.literal(460), z.literal(463), z.literal(467)]).optional(),
    count,
  }),
  z.object({
    mode: z.literal("rate-limit"),
    code: z.union([z.literal(4), z.literal(17), z.literal(32), z.literal(613), z.literal(80003)]).optional(),
    count,
  }),
  z.object({ mode: z.literal("latency"), ms: z.number().int().nonnegative(), count }),
]);
/**
 * How the next requests fail, to the events endpoint and to the pixel node alike (an outage
 * is Meta's, not one endpoint's). `count` limits the fault to that many
 * requests, after which it turns itself off; without it the fault stays until replaced.
 */
export type Fault = z.infer<typeof faultSchema>;

export interface SandboxOptions extends LoginOptions {
  /** 0 (the default) picks a free port; read it back from `port`. */
  port?: number;
  host?: string;
  /** Clock in ms for Meta's event_time window and the dedup window; tests move time through it. */
  now?: () => number;
  /** When set, every request must carry appsecret_proof = hex HMAC-SHA256(key = appSecret, message = token). */
  appSecret?: string;
  /** Added before every answer from the events endpoint and the pixel node. */
  latencyMs?: number;
  /** Pixel ids that do not exist (100/33); every other numeric id does. */
  unknownPixels?: string[];
  /** The name the pixel node answers with; "Stand-in pixel <id>" otherwise. */
  pixelNames?: Record<string, string>;
}

/** One `GET /{version}/{pixel}` as the stand-in answered it. */
export interface PixelRead {
  pixelId: string;
  status: number;
  /** The Meta error, "code" or "code/subcode", when it answered one. */
  code?: string;
  /** Whether the token came in the query (`access_token=`) rather than the Authorization header. */
  tokenInQuery: boolean;
}

export interface AcceptedEvent {
  pixelId: string;
  event: Record<string, unknown> & { event_name: string; event_id?: string };
  testEventCode?: string;
  /** The request's partner_agent: the Dataset Quality API's agent_name selects by it. */
  partnerAgent?: string;
  /** By the sandbox's clock (`now`). */
  receivedAt: number;
}

/** One `GET /{version}/dataset_quality` as the stand-in answered it. */
export interface QualityRead {
  datasetId?: string;
  agentName?: string;
  status: number;
  code?: string;
}

export interface RequestCounts {
  /** Requests that reached the events endpoint. */
  total: number;
  accepted: number;
  /** Answered with a Meta error. */
  rejected: number;
  /** Never answered: the timeout and reset faults. */
  unanswered: number;
  eventsReceived: number;
  /** Rejections by Meta code, "code" or "code/subcode": { "100/2804003": 2, "190/460": 1 }. */
  rejectedByCode: Record<string, number>;
}

export interface MetaSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Every event Meta answered 200 for, duplicates included, in arrival order. */
  accepted(pixelId?: string): AcceptedEvent[];
  /** What Meta would keep: the first of each (pixel, event_name, event_id) within 48 hours. */
  unique(pixelId?: string): AcceptedEvent[];
  requests(): RequestCounts;
  /** requests() plus `requests` (= total), the shape bench/pipeline.ts reads. */
  stats(): RequestCounts & { requests: number };
  setFault(fault: Fault): void;
  /** Forgets events (browser ones too), counters, reads (pixel and quality), revoked and denied tokens, browser counts, pixels marked unknown at run time, the fault, and the login's codes, tokens and businesses. */
  reset(): void;
  /** Later requests with this token get code 190, subcode 460. */
  revokeToken(token: string): void;
  /** Later requests with this (valid) token get code 200 "Permissions error": it cannot reach the pixel. */
  denyToken(token: string): void;
  /** Later Dataset Quality reads with this token get code 200 "Permissions error"; sending events still works. */
  denyQuality(token: string): void;
  /**
   * Browser events Meta would have seen per event name of a pixel: event_coverage and acr are
   * computed from them. Without it, the browser events the pixel's /tr received are counted.
   */
  setBrowserEvents(pixelId: string, counts: Record<string, number>): void;
  /** Every browser event /tr took (fbevents.js and the web pixel), in arrival order. */
  browserEvents(pixelId?: string): BrowserEvent[];
  /** A pixel's copies received (browser and server, Test events left out) and the events Meta counts once deduplicated. */
  eventCounts(pixelId: string): PixelEventCounts;
  /** Every Dataset Quality read, in arrival order (not counted in requests()). */
  qualityReads(): QualityRead[];
  /** Undoes revokeToken, denyToken and denyQuality. */
  allowToken(token: string): void;
  /** Later requests for this pixel get 100/33, as for an id that does not exist. */
  unknownPixel(pixelId: string): void;
  /** Every pixel node read, in arrival order (not counted in requests(), which is the events endpoint's). */
  pixelReads(): PixelRead[];
  /** What /me/businesses and /{business}/adspixels list from now on (Facebook Login, ./login.ts). */
  setBusinesses(businesses: SandboxBusiness[]): void;
  /** The tokens the code exchange gave, oldest first. */
  issuedTokens(): IssuedToken[];
}

const EVENTS_PATH = /^\/(v\d+\.\d+)\/(\d+)\/events\/?$/;
const PIXEL_PATH = /^\/(v\d+\.\d+)\/(\d+)\/?$/;
const QUALITY_PATH = /^\/(v\d+\.\d+)\/dataset_quality\/?$/;
const TR_PATH = /^\/tr\/?$/;
/** Where Meta serves fbevents.js (connect.facebook.net); a test routes that host here. */
export const FBEVENTS_PATH = "/en_US/fbevents.js";
/** Meta's pixel endpoint answers a transparent 1x1 GIF. */
const PIXEL_GIF = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");
/** Fields of the AdsPixel node the stand-in knows; Meta has many more. */
const PIXEL_FIELDS = new Set(["id", "name"]);

const envelopeSchema = z
  .object({
    data: z.array(z.unknown()).min(1).max(MAX_EVENTS_PER_REQUEST),
    test_event_code: z.string().optional(),
    partner_agent: z.string().optional(),
  })
  .loose();

const tokenBodySchema = z.object({ token: z.string().min(1) });
const pixelBodySchema = z.object({ pixel: z.string().regex(/^\d+$/) });

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function sendScript(res: ServerResponse, script: string): void {
  res.writeHead(200, {
    "content-type": "text/javascript; charset=UTF-8",
    "content-length": String(Buffer.byteLength(script)),
    "access-control-allow-origin": "*",
  });
  res.end(script);
}

/**
 * The body, or undefined past `max` bytes: the rest is read and dropped, so that the socket
 * stays usable for the answer.
 */
function readBoundedBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.once("end", () => resolve(size > max || max < 0 ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Query and body parameters merged, body winning, as the Graph API treats them. The body is
 * JSON or form-encoded; in a form, `data` is a JSON string, as Meta takes it.
 */
function requestParams(
  text: string,
  contentType: string | undefined,
  url: URL,
): { params: Record<string, unknown>; problem?: string } {
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams.entries());
  const isForm = contentType?.includes("application/x-www-form-urlencoded") ?? false;
  if (text.trim() !== "") {
    if (isForm) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(text).entries()));
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { params, problem: "The request body is not valid JSON." };
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return { params, problem: "The request body must be a JSON object." };
      }
      Object.assign(params, parsed);
    }
  }
  if (typeof params.data === "string") {
    try {
      params.data = JSON.parse(params.data);
    } catch {
      return { params, problem: "The parameter data must be a JSON array of events." };
    }
  }
  return { params };
}

function envelopeError(issues: z.core.$ZodIssue[]): MetaError {
  const issue = issues[0];
  if (issue?.path[0] === "data") {
    if (issue.code === "too_big") {
      return parameterError(
        `A request may hold at most ${MAX_EVENTS_PER_REQUEST} events; send the rest in another request.`,
      );
    }
    if (issue.code === "too_small") return parameterError("The parameter data must hold at least one event.");
    return parameterError("The parameter data is required and must be an array of events.");
  }
  return parameterError(`The parameter ${issue?.path.join(".") || "body"} is invalid.`);
}

function sameProof(expected: string, given: string): boolean {
  return given.length === expected.length && timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

function bearer(header: string | undefined): string | undefined {
  // The Graph API takes the older "OAuth" scheme as well as "Bearer".
  return /^(?:Bearer|OAuth)\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
}

export async function startMetaSandbox(options: SandboxOptions = {}): Promise<MetaSandbox> {
  const now = options.now ?? Date.now;
  const host = options.host ?? "127.0.0.1";
  const revoked = new Set<string>();
  const denied = new Set<string>();
  const qualityDenied = new Set<string>();
  let browserCounts = new Map<string, Record<string, number>>();
  let qualityReads: QualityRead[] = [];
  const unknownAtRunTime = new Set<string>();
  const unknownPixels = new Set(options.unknownPixels ?? []);
  const pixelExists = (pixelId: string) => !unknownPixels.has(pixelId) && !unknownAtRunTime.has(pixelId);
  let reads: PixelRead[] = [];
  const hanging = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  let fault: Fault = { mode: "none" };
  let faultLeft = Infinity;
  let all: AcceptedEvent[] = [];
  let kept: AcceptedEvent[] = [];
  /** Dedup key -> the server copy kept, among server copies (unique()). */
  let keptAt = new Map<string, KeptCopy>();
  let browser: BrowserEvent[] = [];
  /** Browser and server copies in arrival order, Test events left out: what eventCounts() deduplicates. */
  let arrivals: Arrival[] = [];
  let counts: RequestCounts = emptyCounts();

  function emptyCounts(): RequestCounts {
    return { total: 0, accepted: 0, rejected: 0, unanswered: 0, eventsReceived: 0, rejectedByCode: {} };
  }

  function setFault(f: Fault): void {
    fault = faultSchema.parse(f);
    faultLeft = "count" in fault && fault.count !== undefined ? fault.count : Infinity;
  }

  function takeFault(): Fault {
    const current = fault;
    if (current.mode !== "none" && --faultLeft <= 0) setFault({ mode: "none" });
    return current;
  }

  // Timers are tracked so that close() does not leave a long latency fault holding the process open.
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  function reject(res: ServerResponse, e: MetaError): void {
    counts.rejected++;
    const key = codeKey(e);
    counts.rejectedByCode[key] = (counts.rejectedByCode[key] ?? 0) + 1;
    // Meta names the token problem in WWW-Authenticate as well as in the body.
    const headers: Record<string, string> =
      e.code === 190 || e.code === 104
        ? { "www-authenticate": `OAuth "Facebook Platform" "invalid_token" "${e.message}"` }
        : {};
    send(res, e.status, errorBody(e), headers);
  }

  function record(
    pixelId: string,
    events: AcceptedEvent["event"][],
    testEventCode: string | undefined,
    partnerAgent: string | undefined,
  ): void {
    const receivedAt = now();
    for (const event of events) {
      const entry: AcceptedEvent = {
        pixelId,
        event,
        receivedAt,
        ...(testEventCode === undefined ? {} : { testEventCode }),
        ...(partnerAgent === undefined ? {} : { partnerAgent }),
      };
      all.push(entry);
      const id = event.event_id;
      const arrival: Arrival = {
        pixelId,
        eventName: event.event_name,
        ...(typeof id === "string" || typeof id === "number" ? { eventId: String(id) } : {}),
        channel: "server",
        receivedAt,
      };
      if (testEventCode === undefined) arrivals.push(arrival);
      const key = dedupKey(arrival);
      const current = key === undefined ? undefined : keptAt.get(key);
      const verdict = judge(current, arrival);
      if (key !== undefined) keptAt.set(key, keep(current, arrival, verdict)!);
      if (verdict === "counted") kept.push(entry);
    }
  }

  /** `GET|POST /tr`: one browser event, answered as Meta's pixel endpoint answers (a 1x1 GIF). */
  async function handleBrowserEvent(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method === "POST" ? "POST" : "GET";
    const text = await readBoundedBody(req, MAX_TR_BYTES - url.search.length);
    if (text === undefined) {
      return send(res, 413, { error: `a /tr request holds at most ${MAX_TR_BYTES} bytes of parameters` });
    }
    if (method === "GET" && text !== "") return send(res, 400, { error: "a GET /tr has no body" });
    const params = new URLSearchParams(url.search);
    for (const [name, value] of new URLSearchParams(text)) params.append(name, value);
    const parsed = parseTrParams(params, method, now());
    if ("problem" in parsed) return send(res, 400, { error: parsed.problem });
    if (!pixelExists(parsed.event.pixelId)) return send(res, 400, { error: `no pixel ${parsed.event.pixelId}` });
    const event = parsed.event;
    browser.push(event);
    arrivals.push({
      pixelId: event.pixelId,
      eventName: event.eventName,
      ...(event.eventId === undefined ? {} : { eventId: event.eventId }),
      channel: "browser",
      receivedAt: event.receivedAt,
    });
    res.writeHead(200, {
      "content-type": "image/gif",
      "content-length": String(PIXEL_GIF.length),
      // The web pixel sends from a worker with mode no-cors; a page's fetch may read the answer.
      "access-control-allow-origin": "*",
    });
    res.end(PIXEL_GIF);
  }

  /** Counted per event name from /tr, for the pixels the test gave no browser counts. */
  function browserCountsOf(pixelId: string): Record<string, number> | undefined {
    const given = browserCounts.get(pixelId);
    if (given) return given;
    const counts: Record<string, number> = {};
    for (const e of browser) if (e.pixelId === pixelId) counts[e.eventName] = (counts[e.eventName] ?? 0) + 1;
    return Object.keys(counts).length ? counts : undefined;
  }

  /**
   * The fault of this request, after the latency: "answered" when the fault answered (or
   * withheld the answer), else what is left for the token checks (token-invalid).
   */
  async function applyFault(
    req: IncomingMessage,
    res: ServerResponse,
    fail: (e: MetaError) => void,
    unanswered: () => void,
  ): Promise<Fault | "answered"> {
    const active = takeFault();
    const delay = (options.latencyMs ?? 0) + (active.mode === "latency" ? active.ms : 0);
    if (delay > 0) await sleep(delay);
    switch (active.mode) {
      case "timeout":
        unanswered();
        hanging.add(res);
        res.once("close", () => hanging.delete(res));
        return "answered";
      case "reset":
        unanswered();
        req.socket.destroy();
        return "answered";
      case "server-error":
        fail(serverError(active.status ?? 500, active.code ?? 2));
        return "answered";
      case "rate-limit":
        fail(rateLimited(active.code ?? 17));
        return "answered";
    }
    return active;
  }

  /** The token checks Meta makes before it looks at the request: present, valid, proven, allowed on the pixel. */
  function refusal(
    token: string | undefined,
    params: Record<string, unknown>,
    active: Fault,
    pixelId: string,
    method: string,
  ): MetaError | undefined {
    if (!token) return noToken();
    if (active.mode === "token-invalid") return tokenInvalid(active.subcode ?? 463);
    if (revoked.has(token)) return tokenInvalid(460);
    if (options.appSecret !== undefined) {
      const given = params.appsecret_proof;
      if (given === undefined || given === "") return appsecretProofMissing();
      const expected = createHmac("sha256", options.appSecret).update(token).digest("hex");
      if (typeof given !== "string" || !sameProof(expected, given)) return appsecretProofInvalid();
    }
    if (!pixelExists(pixelId)) return objectNotFound(method, pixelId);
    if (denied.has(token)) return permissionDenied();
    return undefined;
  }

  const login = loginStandIn(options, {
    now,
    readBody,
    send,
    bearer,
    isRevoked: (token) => revoked.has(token),
    outage: async (req, res) => {
      const active = await applyFault(
        req,
        res,
        (e) => send(res, e.status, errorBody(e)),
        () => undefined,
      );
      return active === "answered";
    },
    proofProblem: (token, params) => {
      if (options.appSecret === undefined) return undefined;
      const given = params.appsecret_proof;
      if (given === undefined || given === "") return appsecretProofMissing();
      const expected = createHmac("sha256", options.appSecret).update(token).digest("hex");
      return typeof given === "string" && sameProof(expected, given) ? undefined : appsecretProofInvalid();
    },
  });

  const tokenOf = (req: IncomingMessage, params: Record<string, unknown>) =>
    bearer(req.headers.authorization) ??
    (typeof params.access_token === "string" && params.access_token ? params.access_token : undefined);

  async function handleEvents(req: IncomingMessage, res: ServerResponse, pixelId: string, url: URL): Promise<void> {
    counts.total++;
    const text = await readBody(req);
    const active = await applyFault(
      req,
      res,
      (e) => reject(res, e),
      () => counts.unanswered++,
    );
    if (active === "answered") return;

    const { params, problem } = requestParams(text, req.headers["content-type"], url);
    const refused = refusal(tokenOf(req, params), params, active, pixelId, "POST");
    if (refused) return reject(res, refused);
    if (problem) return reject(res, parameterError(problem));

    const envelope = envelopeSchema.safeParse(params);
    if (!envelope.success) return reject(res, envelopeError(envelope.error.issues));
    const { data, test_event_code, partner_agent } = envelope.data;

    // One invalid event rejects the whole request, as Meta does. The index is for people
    // reading the message; clients must not parse it.
    const checkedAt = now();
    for (const [index, event] of data.entries()) {
      const error = checkEvent(event, checkedAt);
      if (error)
        return reject(res, {
          ...error,
          userMessage: `${error.userMessage ?? error.message} (event at index ${index})`,
        });
    }

    record(pixelId, data as AcceptedEvent["event"][], test_event_code, partner_agent);
    counts.accepted++;
    counts.eventsReceived += data.length;
    send(res, 200, { events_received: data.length, messages: [], fbtrace_id: fbtraceId() });
  }

  /** `GET /{version}/{pixel}?fields=id,name`: the node, or why not. Not counted in requests(). */
  async function handleRead(req: IncomingMessage, res: ServerResponse, pixelId: string, url: URL): Promise<void> {
    await readBody(req);
    const params: Record<string, unknown> = Object.fromEntries(url.searchParams.entries());
    const tokenInQuery = !bearer(req.headers.authorization) && typeof params.access_token === "string";
    const answer = (status: number, body: unknown, e?: MetaError) => {
      reads.push({ pixelId, status, tokenInQuery, ...(e ? { code: codeKey(e) } : {}) });
      if (e) {
        const headers: Record<string, string> =
          e.code === 190 || e.code === 104
            ? { "www-authenticate": `OAuth "Facebook Platform" "invalid_token" "${e.message}"` }
            : {};
        send(res, e.status, errorBody(e), headers);
      } else send(res, status, body);
    };
    const fail = (e: MetaError) => answer(e.status, undefined, e);
    const active = await applyFault(req, res, fail, () => reads.push({ pixelId, status: 0, tokenInQuery }));
    if (active === "answered") return;
    const refused = refusal(tokenOf(req, params), params, active, pixelId, "GET");
    if (refused) return fail(refused);
    // Without `fields` Meta answers the node's default fields; id and name are among them.
    const fields =
      typeof params.fields === "string" && params.fields.trim()
        ? params.fields.split(",").map((f) => f.trim())
        : ["id", "name"];
    const unknownField = fields.find((f) => !PIXEL_FIELDS.has(f));
    if (unknownField) return fail(nonexistingField(unknownField));
    const node: Record<string, string> = {
      id: pixelId,
      name: options.pixelNames?.[pixelId] ?? `Stand-in pixel ${pixelId}`,
    };
    answer(200, Object.fromEntries(fields.map((f) => [f, node[f]])));
  }

  /**
   * `GET /{version}/dataset_quality?dataset_id=&agent_name=&fields=web{...}`: Meta's numbers for
   * the events kept for that pixel with that partner_agent (every agent's without agent_name),
   * Test events left out. Not counted in requests().
   */
  async function handleQuality(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    await readBody(req);
    const params: Record<string, unknown> = Object.fromEntries(url.searchParams.entries());
    const datasetId = typeof params.dataset_id === "string" ? params.dataset_id : undefined;
    const agentName = typeof params.agent_name === "string" && params.agent_name ? params.agent_name : undefined;
    const entry: QualityRead = { status: 0, ...(datasetId ? { datasetId } : {}), ...(agentName ? { agentName } : {}) };
    const fail = (e: MetaError) => {
      qualityReads.push({ ...entry, status: e.status, code: codeKey(e) });
      const headers: Record<string, string> =
        e.code === 190 || e.code === 104
          ? { "www-authenticate": `OAuth "Facebook Platform" "invalid_token" "${e.message}"` }
          : {};
      send(res, e.status, errorBody(e), headers);
    };
    const active = await applyFault(req, res, fail, () => qualityReads.push(entry));
    if (active === "answered") return;
    const token = tokenOf(req, params);
    if (!datasetId || !/^\d+$/.test(datasetId)) {
      if (!token) return fail(noToken());
      return fail(parameterError("The parameter dataset_id is required and must be a dataset (pixel) ID."));
    }
    const refused = refusal(token, params, active, datasetId, "GET");
    if (refused) return fail(refused);
    if (qualityDenied.has(token!)) return fail(permissionDenied());
    const fieldsParam = typeof params.fields === "string" ? params.fields.trim() : "";
    const web = /^web(?:\{([^{}]*)\})?$/.exec(fieldsParam);
    if (fieldsParam && !web) return fail(nonexistingField(fieldsParam.split(/[{,]/)[0]!));
    const fields = new Set(
      (web?.[1] ?? "")
        .split(",")
        .map((f) => f.trim())
        .filter(Boolean),
    );
    const unknownField = [...fields].find((f) => !QUALITY_WEB_FIELDS.has(f));
    if (unknownField) return fail(nonexistingField(unknownField));
    const events = kept.filter(
      (e) =>
        e.pixelId === datasetId &&
        e.testEventCode === undefined &&
        (agentName === undefined || e.partnerAgent === agentName),
    );
    qualityReads.push({ ...entry, status: 200 });
    send(res, 200, datasetQualityAnswer(events, fields, browserCountsOf(datasetId)));
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const pixel = url.searchParams.get("pixel") ?? undefined;
    const json = async (): Promise<unknown> => {
      const text = await readBody(req);
      try {
        return JSON.parse(text || "{}");
      } catch {
        return undefined;
      }
    };
    const route = `${req.method} ${url.pathname.replace(/\/$/, "")}`;
    switch (route) {
      case "GET /__sandbox/events":
        return send(res, 200, sandbox.accepted(pixel));
      case "GET /__sandbox/unique":
        return send(res, 200, sandbox.unique(pixel));
      case "GET /__sandbox/stats":
        return send(res, 200, { ...sandbox.requests(), unique: kept.length });
      case "GET /__sandbox/browser-events":
        return send(res, 200, sandbox.browserEvents(pixel));
      case "GET /__sandbox/counts":
        if (!pixel || !/^\d+$/.test(pixel)) return send(res, 400, { error: "expected ?pixel=<numeric id>" });
        return send(res, 200, sandbox.eventCounts(pixel));
      case "POST /__sandbox/reset":
        await readBody(req);
        sandbox.reset();
        return send(res, 200, { ok: true });
      case "POST /__sandbox/fault": {
        const parsed = faultSchema.safeParse(await json());
        if (!parsed.success) return send(res, 400, { error: `invalid fault: ${z.prettifyError(parsed.error)}` });
        setFault(parsed.data);
        return send(res, 200, { ok: true, fault: parsed.data });
      }
      case "POST /__sandbox/revoke":
      case "POST /__sandbox/deny":
      case "POST /__sandbox/deny-quality":
      case "POST /__sandbox/allow": {
        const parsed = tokenBodySchema.safeParse(await json());
        if (!parsed.success) return send(res, 400, { error: 'expected {"token": "..."}' });
        if (route.endsWith("revoke")) sandbox.revokeToken(parsed.data.token);
        else if (route.endsWith("deny-quality")) sandbox.denyQuality(parsed.data.token);
        else if (route.endsWith("deny")) sandbox.denyToken(parsed.data.token);
        else sandbox.allowToken(parsed.data.token);
        return send(res, 200, { ok: true });
      }
      case "POST /__sandbox/unknown-pixel": {
        const parsed = pixelBodySchema.safeParse(await json());
        if (!parsed.success) return send(res, 400, { error: 'expected {"pixel": "<numeric id>"}' });
        sandbox.unknownPixel(parsed.data.pixel);
        return send(res, 200, { ok: true });
      }
      case "GET /__sandbox/reads":
        return send(res, 200, sandbox.pixelReads());
      case "GET /__sandbox/quality-reads":
        return send(res, 200, sandbox.qualityReads());
      case "POST /__sandbox/businesses": {
        const parsed = sandboxBusinessesSchema.safeParse(await json());
        if (!parsed.success) return send(res, 400, { error: 'expected [{"id", "name", "pixels": [{"id", "name"}]}]' });
        sandbox.setBusinesses(parsed.data);
        return send(res, 200, { ok: true });
      }
    }
    send(res, 404, { error: `no control endpoint ${route}` });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sandbox.invalid");
    const match = EVENTS_PATH.exec(url.pathname);
    const node = PIXEL_PATH.exec(url.pathname);
    let work: Promise<void>;
    const quality = QUALITY_PATH.exec(url.pathname);
    if (quality && req.method === "GET") work = handleQuality(req, res, url);
    else if (match && req.method === "POST") work = handleEvents(req, res, match[2]!, url);
    else if (match)
      work = Promise.resolve(send(res, 400, errorBody(unsupportedMethod(req.method ?? "GET", match[2]!))));
    else if (node && req.method === "GET") work = handleRead(req, res, node[2]!, url);
    else if (node) work = Promise.resolve(send(res, 400, errorBody(unsupportedMethod(req.method ?? "POST", node[2]!))));
    else if (url.pathname.startsWith("/__sandbox/")) work = handleControl(req, res, url);
    else if (TR_PATH.test(url.pathname) && (req.method === "GET" || req.method === "POST"))
      work = handleBrowserEvent(req, res, url);
    else if (url.pathname === FBEVENTS_PATH && req.method === "GET")
      work = Promise.resolve(sendScript(res, fbeventsScript(`${sandbox.url}/tr/`)));
    else
      work = login.handle(req, res, url).then((handled) => {
        if (!handled) send(res, 400, errorBody(unknownPath(url.pathname)));
      });
    work.catch(() => {
      if (!res.headersSent && !res.destroyed) send(res, 500, errorBody(serverError(500, 1)));
    });
  });

  await new Promise<void>((resolve, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", rejectListen);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  const sandbox: MetaSandbox = {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    accepted: (pixelId) => (pixelId === undefined ? all.slice() : all.filter((a) => a.pixelId === pixelId)),
    unique: (pixelId) => (pixelId === undefined ? kept.slice() : kept.filter((a) => a.pixelId === pixelId)),
    requests: () => ({ ...counts, rejectedByCode: { ...counts.rejectedByCode } }),
    stats: () => ({ ...sandbox.requests(), requests: counts.total }),
    setFault,
    reset() {
      all = [];
      kept = [];
      keptAt = new Map();
      browser = [];
      arrivals = [];
      counts = emptyCounts();
      reads = [];
      revoked.clear();
      denied.clear();
      qualityDenied.clear();
      browserCounts = new Map();
      qualityReads = [];
      unknownAtRunTime.clear();
      login.reset();
      setFault({ mode: "none" });
    },
    revokeToken: (token) => void revoked.add(token),
    denyToken: (token) => void denied.add(token),
    denyQuality: (token) => void qualityDenied.add(token),
    setBrowserEvents: (pixelId, counts) => void browserCounts.set(pixelId, { ...counts }),
    browserEvents: (pixelId) =>
      (pixelId === undefined ? browser : browser.filter((e) => e.pixelId === pixelId)).map((e) => structuredClone(e)),
    eventCounts: (pixelId) => eventCounts(arrivals, pixelId),
    qualityReads: () => qualityReads.map((r) => ({ ...r })),
    allowToken: (token) => {
      revoked.delete(token);
      denied.delete(token);
      qualityDenied.delete(token);
    },
    unknownPixel: (pixelId) => void unknownAtRunTime.add(pixelId),
    pixelReads: () => reads.map((r) => ({ ...r })),
    setBusinesses: (list) => login.setBusinesses(list),
    issuedTokens: () => login.issuedTokens(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const res of hanging) res.destroy();
        hanging.clear();
        server.close(() => resolve());
        // Keep-alive sockets would otherwise hold close() open until they time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return sandbox;
}
