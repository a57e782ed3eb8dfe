// The HTTP server's node:http ↔ Fetch adapter and static files, with a stand-in handler.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseEnv } from "../app/config/env.server";
import { DEFAULT_HTTP_LIMITS, startHttpServer, type HttpLimits, type WebServer } from "./main";

let dir: string;
let server: WebServer;
let base: string;
const seen: Request[] = [];
/** What the /export stream was asked for: bytes produced, and whether the server cancelled it. */
const exported = { pulled: 0, cancelled: false };
/** Bytes each /count request's handler read. */
const counted: number[] = [];

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path sent exactly as given (fetch would normalise "..", "//"). */
function raw(
  method: string,
  pathAndQuery: string,
  options: { body?: Buffer; headers?: Record<string, string>; agent?: http.Agent } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: server.port,
        method,
        path: pathAndQuery,
        headers: options.headers,
        agent: options.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    if (options.body) {
      // Two writes: the body arrives chunked, as a proxy may send it.
      const middle = Math.floor(options.body.length / 2);
      req.write(options.body.subarray(0, middle));
      req.end(options.body.subarray(middle));
    } else req.end();
  });
}

async function handler(request: Request): Promise<Response> {
  seen.push(request);
  const url = new URL(request.url);
  if (url.pathname === "/echo") {
    const bytes = Buffer.from(await request.arrayBuffer());
    return Response.json({
      sha256: createHash("sha256").update(bytes).digest("hex"),
      length: bytes.length,
      method: request.method,
    });
  }
  if (url.pathname === "/cookies") {
    const headers = new Headers();
    headers.append("Set-Cookie", "a=1; Path=/");
    headers.append("Set-Cookie", "b=2; Path=/; HttpOnly");
    return new Response("ok", { headers });
  }
  if (url.pathname === "/stream") {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    (globalThis as { __releaseStream?: () => void }).__releaseStream = release;
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode("first;"));
        await gate;
        controller.enqueue(new TextEncoder().encode("second"));
        controller.close();
      },
    });
    return new Response(body, { headers: { "Content-Type": "text/plain" } });
  }
  if (url.pathname === "/export") {
    // 64 MiB asked for one 64 KiB chunk at a time, as the CSV export's pull() answers.
    const chunk = new Uint8Array(64 * 1024).fill(44);
    let left = 1024;
    exported.pulled = 0;
    exported.cancelled = false;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (left-- === 0) return controller.close();
          exported.pulled += chunk.byteLength;
          controller.enqueue(chunk);
        },
        cancel() {
          exported.cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { headers: { "Content-Type": "application/octet-stream" } });
  }
  if (url.pathname === "/count") {
    // Reads the body as a handler does, without keeping it: how far did the bridge let it go?
    let bytes = 0;
    try {
      const reader = request.body!.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) bytes += chunk.value.byteLength;
    } finally {
      counted.push(bytes);
    }
    return Response.json({ length: bytes });
  }
  if (url.pathname === "/slow") {
    await new Promise((r) => setTimeout(r, 200));
    return new Response("slow done");
  }
  return Response.json({ url: request.url, method: request.method }, { status: url.pathname === "/" ? 200 : 404 });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "capi-http-"));
  mkdirSync(path.join(dir, "public", "build", "_assets"), { recursive: true });
  writeFileSync(path.join(dir, "public", "build", "entry-ABC123.js"), "console.log('entry');");
  writeFileSync(path.join(dir, "public", "build", "_assets", "styles-XYZ.css"), "body{}");
  writeFileSync(path.join(dir, "public", "robots.txt"), "User-agent: *\n");
  writeFileSync(path.join(dir, "public", ".env"), "SECRET=1\n");
  writeFileSync(path.join(dir, "outside.txt"), "outside the public folder\n");
  server = await startHttpServer({
    port: 0,
    host: "127.0.0.1",
    handler,
    assetsDir: path.join(dir, "public", "build"),
    assetsPath: "/build/",
    publicDir: path.join(dir, "public"),
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("request bodies", () => {
  it("reach the handler byte for byte (what the webhook HMAC is computed over)", async () => {
    const body = Buffer.concat([
      Buffer.from('{"note":"caf\u00e9 \u2603","raw":"'),
      randomBytes(4096),
      Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a]),
      Buffer.from('"}'),
    ]);
    const res = await raw("POST", "/echo", {
      body,
      headers: { "Content-Type": "application/json", "X-Shopify-Hmac-Sha256": "abc" },
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({
      sha256: createHash("sha256").update(body).digest("hex"),
      length: body.length,
      method: "POST",
    });
    expect(seen.at(-1)!.headers.get("x-shopify-hmac-sha256")).toBe("abc");
  });

  it("can be empty", async () => {
    const res = await fetch(`${base}/echo`, { method: "POST" });
    expect(await res.json()).toMatchObject({ length: 0 });
  });
});

describe("responses", () => {
  it("keep every Set-Cookie header", async () => {
    const res = await fetch(`${base}/cookies`);
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
  });

  it("are streamed as they are produced", async () => {
    const res = await fetch(`${base}/stream`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("first;");
    (globalThis as { __releaseStream?: () => void }).__releaseStream!();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe("second");
  });

  it("are produced only as fast as the client reads them, and stop when it leaves", async () => {
    const MiB = 2 ** 20;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get(`${base}/export`, resolve).on("error", reject),
    );
    res.pause();
    // The client reads nothing for a while: the server may fill the socket's buffers, not 64 MiB.
    await new Promise((r) => setTimeout(r, 500));
    expect(exported.pulled).toBeLessThan(16 * MiB);
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      res.on("data", (c: Buffer) => {
        received += c.length;
        if (received >= 32 * MiB) {
          res.destroy();
          resolve();
        }
      });
      res.on("error", reject);
      res.resume();
    });
    await expect.poll(() => exported.cancelled).toBe(true);
    // Left halfway: what was made beyond what was read is buffers, not the rest of the 64 MiB.
    expect(exported.pulled).toBeLessThan(received + 16 * MiB);
    expect(exported.pulled).toBeLessThan(64 * MiB);
  });

  it("have no body for HEAD", async () => {
    const res = await raw("HEAD", "/");
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
  });
});

describe("request URLs", () => {
  it("keep a path starting with // as a path, and honour the proxy's scheme and host", async () => {
    const res = await raw("GET", "//evil.example/x?y=1", {
      headers: { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example.com" },
    });
    expect(JSON.parse(res.body.toString()).url).toBe("https://app.example.com//evil.example/x?y=1");
  });

  it("refuse a request target that is not a path", async () => {
    expect((await raw("GET", "*")).status).toBe(400);
  });
});

describe("health", () => {
  it("answers /healthz itself, without asking the app", async () => {
    const before = seen.length;
    const r = await raw("GET", "/healthz");
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe("ok");
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(seen.length).toBe(before);
  });
});

describe("static files", () => {
  it("serve build assets with year-long caching", async () => {
    const res = await fetch(`${base}/build/entry-ABC123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await res.text()).toBe("console.log('entry');");
    const css = await fetch(`${base}/build/_assets/styles-XYZ.css`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("answer 304 to a conditional request", async () => {
    const first = await fetch(`${base}/build/entry-ABC123.js`);
    const again = await fetch(`${base}/build/entry-ABC123.js`, {
      headers: { "If-Modified-Since": first.headers.get("last-modified")! },
    });
    expect(again.status).toBe(304);
  });

  it("answer 404 for a missing asset without asking the app", async () => {
    const before = seen.length;
    expect((await fetch(`${base}/build/missing-123.js`)).status).toBe(404);
    expect(seen.length).toBe(before);
  });

  it("serve other public files with short caching", async () => {
    const res = await fetch(`${base}/robots.txt`);
    expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(await res.text()).toBe("User-agent: *\n");
  });

  it("never serve dot files or anything outside the folder", async () => {
    for (const target of [
      "/.env",
      "/build/../.env",
      "/build/..%2f..%2foutside.txt",
      "/..%2foutside.txt",
      "/build/%2e%2e/%2e%2e/outside.txt",
      "/build/..%5c..%5coutside.txt",
    ]) {
      const res = await raw("GET", target);
      expect(res.body.toString(), target).not.toContain("SECRET");
      expect(res.body.toString(), target).not.toContain("outside the public folder");
    }
  });
});

describe("compression", () => {
  it("compresses text for a client that accepts it, and a HEAD answer has no body", async () => {
    const text = "console.log('a long bundle');\n".repeat(400);
    writeFileSync(path.join(dir, "public", "build", "big-DEF456.js"), text);
    const res = await raw("GET", "/build/big-DEF456.js", { headers: { "Accept-Encoding": "gzip" } });
    expect(res.status).toBe(200);
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(res.headers["vary"]).toContain("Accept-Encoding");
    expect(gunzipSync(res.body).toString()).toBe(text);
    const head = await raw("HEAD", "/build/big-DEF456.js", { headers: { "Accept-Encoding": "gzip" } });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });
});

describe("close()", () => {
  it("closes keep-alive connections and lets a request in flight finish", async () => {
    const own = await startHttpServer({
      port: 0,
      host: "127.0.0.1",
      handler,
      assetsDir: path.join(dir, "public", "build"),
      assetsPath: "/build/",
      publicDir: path.join(dir, "public"),
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const get = (p: string) =>
      new Promise<string>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port: own.port, path: p, agent }, (res) => {
            let text = "";
            res.on("data", (c) => (text += c));
            res.on("end", () => resolve(text));
          })
          .on("error", reject);
      });
    await get("/");
    const sockets = Object.values(agent.freeSockets).flat();
    expect(sockets.length).toBe(1);
    const closedSocket = new Promise<void>((resolve) => sockets[0]!.once("close", () => resolve()));

    const slow = get("/slow");
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await slow).toBe("slow done");
    await closedSocket;
    await expect(get("/")).rejects.toThrow();
    agent.destroy();
  });
});

describe("limits", () => {
  const LIMIT = 1024 * 1024;
  const limits: Partial<HttpLimits> = { maxBodyBytes: LIMIT, requestTimeoutMs: 1_000, headersTimeoutMs: 500 };
  let limited: WebServer;
  beforeAll(async () => {
    limited = await startHttpServer({
      port: 0,
      host: "127.0.0.1",
      handler,
      assetsDir: path.join(dir, "public", "build"),
      assetsPath: "/build/",
      publicDir: path.join(dir, "public"),
      limits,
    });
  });
  afterAll(() => limited?.close());

  /** Raw bytes over one socket: everything the server answered, and when it closed. */
  function rawExchange(
    port: number,
    write: (socket: net.Socket) => void,
  ): Promise<{ answer: string; closedAfterMs: number }> {
    return new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      const started = Date.now();
      let answer = "";
      socket.on("data", (chunk) => (answer += chunk.toString("latin1")));
      socket.on("error", () => undefined);
      socket.on("close", () => resolve({ answer, closedAfterMs: Date.now() - started }));
      socket.on("connect", () => write(socket));
    });
  }

  /**
   * Posts up to `total` bytes in chunks (chunked transfer encoding), as fast as the server
   * reads them, and stops once it answers: the status and how much the client got to send.
   */
  function pump(
    port: number,
    pathName: string,
    total: number,
  ): Promise<{ status: number; sent: number; body: string }> {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    return new Promise((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: pathName,
          headers: { "Content-Type": "application/json" },
          agent: false,
        },
        (res) => {
          answered = true;
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode!, sent, body }));
          res.on("error", () => resolve({ status: res.statusCode!, sent, body }));
        },
      );
      // Once answered, the server closes the connection: a write failing then is expected.
      req.on("error", (error) => (answered ? undefined : reject(error)));
      const write = () => {
        while (!answered && sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", write);
        }
        if (!answered) req.end();
      };
      write();
    });
  }

  it("a declared Content-Length over the limit is answered 413 at once, without reading the body", async () => {
    const before = seen.length;
    const { answer, closedAfterMs } = await rawExchange(limited.port, (socket) =>
      // A gigabyte announced, not a byte of it sent: only refusing on the header answers this.
      socket.write(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n",
      ),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/connection: close/i);
    expect(answer).toContain(`exceeds ${LIMIT} bytes`);
    expect(closedAfterMs).toBeLessThan(800); // closed by the server, before its 1 s request timeout
    expect(seen.length).toBe(before); // the app never saw it
  });

  it("a client that asks first (Expect: 100-continue) is told 413 instead of Continue", async () => {
    const { answer } = await rawExchange(limited.port, (socket) =>
      socket.write(`POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).not.toContain("100 Continue");
  });

  it("a body of exactly the limit passes, byte for byte", async () => {
    const body = randomBytes(LIMIT);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: limited.port, method: "POST", path: "/echo" }, (r) => {
        let text = "";
        r.on("data", (c) => (text += c));
        r.on("end", () => resolve({ status: r.statusCode!, body: text }));
      });
      req.on("error", reject);
      req.write(body.subarray(0, 1000)); // chunked: counted as it streams
      req.end(body.subarray(1000));
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({
      length: LIMIT,
      sha256: createHash("sha256").update(body).digest("hex"),
    });
  });

  it("a chunked body is cut off with 413 once it passes the limit; the handler never reads past it", async () => {
    counted.length = 0;
    const result = await pump(limited.port, "/count", 64 * 1024 * 1024);
    expect(result.status).toBe(413);
    expect(result.body).toContain(`exceeds ${LIMIT} bytes`);
    expect(counted).toHaveLength(1);
    expect(counted[0]).toBeLessThanOrEqual(LIMIT);
    // What the client got to send past the limit is what the sockets' kernel buffers hold.
    expect(result.sent).toBeLessThan(24 * 1024 * 1024);
  });

  it("several oversized posts at once leave memory bounded", async () => {
    const PARALLEL = 8;
    const ATTEMPTED = 64 * 1024 * 1024;
    const rssBefore = process.memoryUsage().rss;
    // /echo keeps the whole body, as Shopify's webhook check does.
    const results = await Promise.all(Array.from({ length: PARALLEL }, () => pump(limited.port, "/echo", ATTEMPTED)));
    const grownMiB = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    for (const r of results) {
      expect(r.status).toBe(413);
      expect(r.sent).toBeLessThan(24 * 1024 * 1024);
    }
    // Unbounded, the server would have buffered PARALLEL x 64 MiB = 512 MiB.
    expect(grownMiB).toBeLessThan(100);
  });

  it("a slow upload is dropped at the request timeout, and slow headers at the headers timeout", async () => {
    const slowBody = rawExchange(limited.port, (socket) => {
      socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
      const timer = setInterval(() => socket.write("x".repeat(10)), 100);
      socket.on("close", () => clearInterval(timer));
    });
    const slowHeaders = rawExchange(limited.port, (socket) => {
      socket.write("POST /echo HTTP/1.1\r\nHost: x\r\n");
      const timer = setInterval(() => socket.write("X-Drip: 1\r\n"), 100);
      socket.on("close", () => clearInterval(timer));
    });
    const silent = rawExchange(limited.port, () => undefined);
    const [body, headers, none] = await Promise.all([slowBody, slowHeaders, silent]);
    expect(body.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(body.closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(body.closedAfterMs).toBeLessThan(2_500);
    for (const r of [headers, none]) {
      expect(r.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(r.closedAfterMs).toBeLessThan(1_800);
    }
  });

  it("connections past the cap are dropped at accept", async () => {
    const capped = await startHttpServer({
      port: 0,
      host: "127.0.0.1",
      handler,
      assetsDir: path.join(dir, "public", "build"),
      assetsPath: "/build/",
      publicDir: path.join(dir, "public"),
      limits: { maxConnections: 2 },
    });
    const open = (): Promise<net.Socket> =>
      new Promise((resolve) => {
        const socket = net.connect(capped.port, "127.0.0.1", () => resolve(socket));
        socket.on("error", () => undefined);
      });
    const held = [await open(), await open()];
    await new Promise((r) => setTimeout(r, 50));
    const third = await rawExchange(capped.port, (socket) => socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    expect(third.answer).toBe("");
    held[0]!.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const again = await rawExchange(capped.port, (socket) =>
      socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    expect(again.answer).toMatch(/^HTTP\/1\.1 200 /);
    held[1]!.destroy();
    await capped.close();
  });
});

describe("settings of the limits", () => {
  it("MAX_BODY_BYTES and WEB_MAX_CONNECTIONS default to the server's own defaults, and refuse nonsense", () => {
    const defaults = parseEnv({});
    expect(defaults.MAX_BODY_BYTES).toBe(DEFAULT_HTTP_LIMITS.maxBodyBytes);
    expect(defaults.MAX_BODY_BYTES).toBe(4 * 1024 * 1024);
    expect(defaults.WEB_MAX_CONNECTIONS).toBe(DEFAULT_HTTP_LIMITS.maxConnections);
    expect(parseEnv({ MAX_BODY_BYTES: "8388608", WEB_MAX_CONNECTIONS: "64" })).toMatchObject({
      MAX_BODY_BYTES: 8_388_608,
      WEB_MAX_CONNECTIONS: 64,
    });
    for (const bad of [
      { MAX_BODY_BYTES: "lots" },
      { MAX_BODY_BYTES: "0" },
      { WEB_MAX_CONNECTIONS: "0" },
      { WEB_MAX_CONNECTIONS: "1.5" },
    ]) {
      expect(() => parseEnv(bad), JSON.stringify(bad)).toThrow(ConfigError);
    }
  });
});
