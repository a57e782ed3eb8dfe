// The production HTTP server (`npm start`): Remix's server build on Express, behind node:http.
// Express serves the browser assets (express.static) and compresses responses (compression).
// Request bodies reach Remix byte for byte: Shopify's webhook HMAC is computed over the exact
// raw body, so no body-parsing middleware runs. Every route sees a bounded body (413 past
// MAX_BODY_BYTES) and every connection bounded time.
//
// `startWebServer()` runs the same server in-process for tests, `npm run dev` and benchmarks;
// running this file checks the settings and the database first, then listens on PORT.
import { realpathSync, watch } from "node:fs";
import cluster from "node:cluster";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { broadcastDevReady, createRequestHandler, type ServerBuild } from "@remix-run/node";
import compression from "compression";
import express, { type ErrorRequestHandler, type Request as ExpressRequest, type RequestHandler } from "express";
import { checkRedis } from "./services";
import { startWorkerProcess } from "./worker";
import { ConfigError, DEFAULT_MAX_BODY_BYTES, DEFAULT_WEB_MAX_CONNECTIONS, env } from "../app/config/env.server";
import { closeProcessClients, database } from "../app/process-clients.server";

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const BUILD_PATH = path.join(PROJECT_ROOT, "build", "index.js");
const PUBLIC_DIR = path.join(PROJECT_ROOT, "public");

/** Fingerprinted assets under /build/ never change: cached for a year ("public, max-age=31536000, immutable"). */
const YEAR_MS = 365 * 24 * 3600 * 1000;
/** Other files of public/ may change between releases: an hour ("public, max-age=3600"). */
const HOUR_MS = 3600 * 1000;
/** Answered by the HTTP server itself, before Express (see onRequest). */
export const HEALTH_PATH = "/healthz";
/** How long close() lets requests in flight finish before it cuts their connections. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Where express.static's types (mime 1.x) are not the ones wanted: JavaScript as text/javascript
 * (RFC 9239), charsets in lower case. Other extensions keep express.static's type.
 */
const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".avif": "image/avif",
};

/**
 * What one client may cost a web process. Shopify waits 5 s for a webhook's answer, so a
 * request still arriving after that is a failed delivery anyway: the limits drop it rather
 * than hold a socket and a buffer for it.
 */
export interface HttpLimits {
  /** Larger bodies are answered 413 before being read in full (MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** The whole request, body included, must arrive within this (Node answers 408). */
  requestTimeoutMs: number;
  /** The headers must arrive within this, also on a connection that has sent nothing yet. */
  headersTimeoutMs: number;
  /**
   * How long an idle keep-alive connection stays open: longer than the 60 s idle timeout of
   * common load balancers, so that none reuses a connection this server is closing (a 502).
   */
  keepAliveTimeoutMs: number;
  /** Sockets open at once; further connections are dropped at accept (WEB_MAX_CONNECTIONS). */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: DEFAULT_WEB_MAX_CONNECTIONS,
};

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the request body exceeds ${limit} bytes`);
  }
}

export interface WebServerOptions {
  port: number;
  /** Defaults to 0.0.0.0 (all interfaces), as a container needs. */
  host?: string;
  /** The Remix server build; loaded from build/index.js when omitted. */
  build?: ServerBuild;
  /** Remix's mode (error details in development); defaults to NODE_ENV. */
  mode?: string;
  /**
   * Development under `remix dev --manual`: reload build/index.js whenever Remix rebuilds it
   * (without restarting the process, which the embedded database would make slow) and tell
   * `remix dev` each new build is live.
   */
  watch?: boolean;
  /** Defaults to DEFAULT_HTTP_LIMITS, field by field. */
  limits?: Partial<HttpLimits>;
}

export interface WebServer {
  port: number;
  /** Stops accepting, lets requests in flight finish (briefly), and closes every connection, keep-alive ones included. */
  close(): Promise<void>;
}

export async function loadBuild(file: string = BUILD_PATH, fresh = false): Promise<ServerBuild> {
  // `fresh` bypasses Node's module cache to pick up a rebuilt file (development only: every
  // build loaded stays in memory).
  return (await import(pathToFileURL(file).href + (fresh ? `?t=${Date.now()}` : ""))) as ServerBuild;
}

export interface HttpServerOptions {
  port: number;
  /** Defaults to 0.0.0.0 (all interfaces), as a container needs. */
  host?: string;
  /** Everything that is not a static file. */
  handler: (request: Request) => Promise<Response>;
  /** Served under `assetsPath` with year-long caching (fingerprinted names). */
  assetsDir: string;
  assetsPath: string;
  /** Other static files, served at their path with short caching. */
  publicDir: string;
  /** Defaults to DEFAULT_HTTP_LIMITS, field by field. */
  limits?: Partial<HttpLimits>;
}

/** The Remix app behind node:http, with its assets. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const build = options.build ?? (await loadBuild());
  const mode = options.mode ?? process.env.NODE_ENV ?? "production";
  let handleRemix = createRequestHandler(build, mode);
  const server = await startHttpServer({
    port: options.port,
    host: options.host,
    handler: (request) => handleRemix(request),
    assetsDir: path.resolve(PROJECT_ROOT, build.assetsBuildDirectory),
    assetsPath: build.publicPath,
    publicDir: PUBLIC_DIR,
    limits: options.limits,
  });
  if (!options.watch) return server;

  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(path.dirname(BUILD_PATH), (_event, name) => {
    if (name !== "version.txt" && name !== path.basename(BUILD_PATH)) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        const next = await loadBuild(BUILD_PATH, true);
        handleRemix = createRequestHandler(next, mode);
        await broadcastDevReady(next);
      } catch (error) {
        console.error("capi-relay: could not load the new build:", error);
      }
    }, 100);
  });
  return {
    port: server.port,
    async close() {
      clearTimeout(timer);
      watcher.close();
      await server.close();
    },
  };
}

/**
 * node:http in front of Express: the connection limits, the body limit on the header, the
 * answer to /healthz and close() live here; Express gets everything else.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<WebServer> {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const app = expressApp(options, limits.maxBodyBytes);
  let closing = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.once("close", () => {
      if (--inFlight === 0) idle?.();
    });
    if (closing) res.setHeader("Connection", "close");
    if (declaredLength(req) > limits.maxBodyBytes) {
      // Refused on the header alone: not a byte of the body is buffered.
      refuseTooLarge(req, res, limits.maxBodyBytes);
      return;
    }
    const rawUrl = req.url ?? "/";
    if (!rawUrl.startsWith("/")) {
      plain(res, 400, "Bad Request");
      return;
    }
    if (rawUrl.split("?", 1)[0] === HEALTH_PATH && (req.method === "GET" || req.method === "HEAD")) {
      // Liveness for a load balancer or container orchestrator: answered without the app, so
      // a slow database never gets a healthy process restarted.
      plain(res, 200, "ok");
      return;
    }
    app(req, res);
  };
  const server = http.createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      // Node checks the two timeouts above only this often (every 30 s by default).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    onRequest,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  // "Expect: 100-continue": a client that asks first is told 413 before it sends anything.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (declaredLength(req) <= limits.maxBodyBytes) res.writeContinue();
    onRequest(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });

  let closed: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          await Promise.race([
            new Promise<void>((resolve) => (idle = resolve)),
            new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref()),
          ]);
        }
        server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}

/**
 * Compression, then the files (GET and HEAD only; dot files, directories and paths leaving the
 * folder never): fingerprinted assets under `assetsPath`, a missing one a plain 404 that is
 * never the app's business; other files of `publicDir`. Then `handler`, then errors.
 */
function expressApp(options: HttpServerOptions, maxBodyBytes: number): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", false); // Remix reads the URL itself
  app.use(compression());
  app.use(options.assetsPath, files(options.assetsDir, YEAR_MS, true), (req, res, next) =>
    req.method === "GET" || req.method === "HEAD" ? plain(res, 404, "Not Found") : next(),
  );
  app.use(files(options.publicDir, HOUR_MS, false));
  app.use(fetchHandler(options.handler, maxBodyBytes));
  app.use(onError);
  return app;
}

/** express.static for `dir`, with this server's cache lifetime, types and revalidation. */
function files(dir: string, maxAge: number, immutable: boolean): RequestHandler {
  const serve = express.static(path.resolve(dir), {
    maxAge,
    immutable,
    index: false,
    redirect: false,
    setHeaders(res: ServerResponse, file: string) {
      const type = CONTENT_TYPES[path.extname(file).toLowerCase()];
      if (type) res.setHeader("Content-Type", type);
      res.setHeader("X-Content-Type-Options", "nosniff");
    },
  });
  return (req, res, next) => {
    // A request's "Cache-Control: no-cache" is addressed to caches (RFC 9111, 5.2.1.4): the
    // origin still answers a conditional request with 304. express.static would send the whole
    // file, and fetch() adds no-cache to every request with If-Modified-Since or If-None-Match.
    const cacheControl = req.headers["cache-control"];
    delete req.headers["cache-control"];
    serve(req, res, (error?: unknown) => {
      if (cacheControl !== undefined) req.headers["cache-control"] = cacheControl;
      next(error);
    });
  };
}

/**
 * The app: `handler` with a Fetch Request, its Response written back. This is Remix's Express
 * adapter (@remix-run/express) less two things it cannot do: stop the body at `maxBodyBytes`
 * (it hands Remix the request stream unbounded, and cancelling that stream destroys the socket
 * a 413 is going out on) and keep the public URL behind a proxy (it appends the Host header's
 * port to X-Forwarded-Host's name).
 */
function fetchHandler(handler: (request: Request) => Promise<Response>, maxBodyBytes: number): RequestHandler {
  return async (req, res, next) => {
    try {
      const response = await handler(toFetchRequest(req, res, maxBodyBytes));
      if (refused.has(res)) {
        // The body ran past the limit while the handler read it: the 413 is the answer.
        await response.body?.cancel().catch(() => undefined);
        return;
      }
      await sendResponse(req, res, response);
    } catch (error) {
      next(error);
    }
  };
}

const onError: ErrorRequestHandler = (error, req, res, _next) => {
  if (refused.has(res)) return; // answered 413 already; the handler's failure to read the body is that
  if (res.destroyed || req.socket.destroyed) return; // the client is gone (or Node answered 408)
  console.error("capi-relay: request failed:", error);
  if (!res.headersSent) plain(res, 500, "Internal Server Error");
  else res.destroy();
};

/** Responses answered 413 (at once or mid-body): nothing else is written to them. */
const refused = new WeakSet<ServerResponse>();

/** Content-Length as a number; 0 when absent (a chunked body is counted as it streams). */
function declaredLength(req: IncomingMessage): number {
  const header = req.headers["content-length"];
  return header === undefined ? 0 : Number(header);
}

/** How long, and for how many more bytes, a refused client is read after its 413 (a lingering close). */
const LINGER_MS = 2_000;
export const LINGER_BYTES = 8 * 1024 * 1024;

/**
 * 413, then the connection closes, lingering. Closing a socket with unread data makes the
 * kernel send a reset, which destroys the 413 before a client still sending has read it; so
 * after the answer our side of the connection is ended (the client sees the 413 and the end)
 * and what it still sends is read and thrown away for a moment, up to a cap, before the
 * socket goes (nginx's lingering close). Node's server would destroy it as soon as the answer
 * is written.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  refused.add(res);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const socket = req.socket;
  let discarded = 0;
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    // Not a destroy: that would be the very reset the linger avoids. The client's writes
    // stall on a full window until the socket goes.
    if (discarded > LINGER_BYTES) req.pause();
  });
  req.resume();
  socket.destroySoon = () => {
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  plain(res, 413, `the request body exceeds ${limit} bytes\n`, { Connection: "close" });
}

/** The server's own short answers (with a Content-Length, so that compression leaves them be). */
function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, {
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
      "Cache-Control": "no-store",
      ...headers,
    })
    .end(text);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(",", 1)[0]?.trim() || undefined;
}

/**
 * Express request → Fetch Request. The body is the request stream itself, untouched, up to
 * `maxBodyBytes`: one byte more and the handler's read fails while the client is answered 413.
 */
function toFetchRequest(req: ExpressRequest, res: ServerResponse, maxBodyBytes: number): Request {
  // Behind a TLS-terminating proxy the app must see its public https URL (Shopify's auth compares it).
  const proto = firstHeader(req.headers["x-forwarded-proto"]) === "https" ? "https" : "http";
  const host = firstHeader(req.headers["x-forwarded-host"]) ?? req.headers.host ?? "localhost";
  // Concatenation, not new URL(req.url, base): "//other.host/x" must stay a path.
  const url = new URL(`${proto}://${host}${req.originalUrl}`);

  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    } catch {
      // A header Fetch cannot hold is dropped rather than failing the request.
    }
  }

  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });

  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers, signal: controller.signal };
  if (req.method !== "GET" && req.method !== "HEAD") {
    init.body = limitedBody(req, maxBodyBytes, () => {
      refuseTooLarge(req, res, maxBodyBytes);
      // The request is over for the app too (and Remix logs no error for an aborted request).
      controller.abort(new BodyTooLargeError(maxBodyBytes));
    });
    init.duplex = "half";
  }
  return new Request(url, init);
}

/**
 * The request stream as a web stream that ends in BodyTooLargeError past `limit` bytes (a
 * chunked body, or one whose Content-Length was not checked), calling `onTooLarge` then. It
 * reads only as fast as the handler consumes.
 */
function limitedBody(req: IncomingMessage, limit: number, onTooLarge: () => void): ReadableStream<Uint8Array> {
  let received = 0;
  let finished = false;
  let onData: (chunk: Buffer) => void;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const finish = (error?: Error) => {
          if (finished) return;
          finished = true;
          req.off("data", onData);
          if (error) controller.error(error);
          else controller.close();
        };
        onData = (chunk) => {
          received += chunk.length;
          if (received > limit) {
            finish(new BodyTooLargeError(limit));
            onTooLarge();
            return;
          }
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 1) <= 0) req.pause();
        };
        req.on("data", onData);
        req.once("end", () => finish());
        req.once("error", (error) => finish(error));
        // A client hanging up mid-body: 'close' without 'end'.
        req.once("close", () => finish(new Error("the client closed the connection before the body ended")));
      },
      pull() {
        req.resume();
      },
      cancel() {
        // The handler wants no more: discard the rest rather than leave the socket stalled.
        finished = true;
        req.off("data", onData);
        req.resume();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

/**
 * Fetch Response → the Express response, streamed (Remix streams HTML as it renders), flushing
 * compression after every chunk as Remix's own writer does. Unlike that writer it waits for the
 * socket to drain: a CSV export of 100,000 events read by a slow client would otherwise pile up
 * in this process, all of it, instead of one page of rows at a time.
 */
async function sendResponse(req: IncomingMessage, res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.appendHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length) res.setHeader("Set-Cookie", cookies);

  if (!response.body || req.method === "HEAD") {
    await response.body?.cancel().catch(() => undefined);
    res.end();
    return;
  }
  await writeWithBackpressure(response.body, res);
}

async function writeWithBackpressure(
  body: ReadableStream<Uint8Array>,
  res: ServerResponse & { flush?: () => void },
): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const more = res.write(value);
      res.flush?.();
      if (!more) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off("drain", go);
            res.off("close", go);
            resolve();
          };
          res.on("drain", go);
          res.on("close", go);
        });
      }
      // The client left: stop reading (the export's cursor is closed by the stream's cancel).
      if (res.destroyed) {
        await reader.cancel();
        return;
      }
    }
    res.end();
  } catch (error) {
    res.destroy(error as Error);
    throw error;
  }
}

async function main(): Promise<void> {
  let settings: ReturnType<typeof env>;
  try {
    settings = env();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`capi-relay: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }

  const db = database();
  try {
    await db.ready;
  } catch (error) {
    const where =
      db.kind === "postgres"
        ? "the PostgreSQL database of DATABASE_URL"
        : `the embedded database in ${path.resolve(settings.DATA_DIR, "pglite")} (DATA_DIR; set DATABASE_URL for PostgreSQL)`;
    console.error(`capi-relay: cannot open ${where}: ${error instanceof Error ? error.message : String(error)}`);
    await db.close();
    process.exit(1);
  }

  try {
    await checkRedis(settings.REDIS_URL);
  } catch (error) {
    console.error(`capi-relay: ${(error as Error).message}`);
    await db.close();
    process.exit(1);
  }

  let build: ServerBuild;
  try {
    build = await loadBuild();
  } catch (error) {
    const missing =
      (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
      String((error as Error).message).includes(BUILD_PATH);
    console.error(
      missing
        ? `capi-relay: ${BUILD_PATH} is missing; run \`npm run build\` first`
        : `capi-relay: cannot load the server build: ${(error as Error).stack}`,
    );
    await db.close();
    process.exit(1);
  }

  // Under `remix dev`, follow its rebuilds and tell it when each build is served.
  const underRemixDev = settings.NODE_ENV === "development" && Boolean(process.env.REMIX_DEV_ORIGIN);
  const server = await startWebServer({
    port: settings.PORT,
    build,
    mode: settings.NODE_ENV,
    watch: underRemixDev,
    limits: { maxBodyBytes: settings.MAX_BODY_BYTES, maxConnections: settings.WEB_MAX_CONNECTIONS },
  }).catch(async (error: NodeJS.ErrnoException) => {
    console.error(
      error.code === "EADDRINUSE"
        ? `capi-relay: port ${settings.PORT} is already in use (PORT)`
        : `capi-relay: cannot listen: ${error.message}`,
    );
    await db.close();
    process.exit(1);
  });
  console.log(`CAPI Relay listening on http://localhost:${server.port}`);
  if (underRemixDev) await broadcastDevReady(build);
  // The embedded database belongs to one process: its worker must run here. `npm run dev`
  // asks for the same with RUN_WORKER=1 so that one command runs everything.
  const worker = db.kind === "pglite" || process.env.RUN_WORKER === "1" ? await startWorkerProcess() : undefined;
  if (worker) console.log(`CAPI Relay worker running in this process (Meta at ${settings.META_GRAPH_URL})`);

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`capi-relay: ${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    await server.close();
    await worker?.close();
    await closeProcessClients();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * WEB_CONCURRENCY > 1 forks that many web processes sharing the port (Node's cluster): one
 * Node thread answers a few hundred webhooks a second, a burst needs more. The embedded
 * database belongs to one process, so it always runs one.
 */
function webProcesses(): number {
  const wanted = Number(process.env.WEB_CONCURRENCY ?? 1);
  if (!process.env.DATABASE_URL) return 1;
  return Number.isInteger(wanted) && wanted > 1 ? Math.min(wanted, 32) : 1;
}

if (isEntryPoint()) {
  const processes = webProcesses();
  if (processes > 1 && cluster.isPrimary) {
    for (let i = 0; i < processes; i++) cluster.fork();
    cluster.on("exit", (_worker, code) => {
      // A child that cannot start (bad settings) takes the whole server down with its code.
      if (code !== 0) process.exit(code ?? 1);
    });
    const stop = () => {
      for (const child of Object.values(cluster.workers ?? {})) child?.kill("SIGTERM");
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  } else {
    main().catch((error) => {
      console.error("capi-relay: start-up failed:", error);
      process.exit(1);
    });
  }
}
