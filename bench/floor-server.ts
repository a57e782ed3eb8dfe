// The floor of the web tier: the least a webhook can cost on this machine. node:http, Shopify's
// HMAC-SHA256 of the raw body checked (base64, timing-safe), JSON.parse, and the webhook made
// durable in PostgreSQL before it is answered, by group commit: webhooks arriving within
// FLOOR_LINGER_MS (or FLOOR_MAX_BATCH of them) go in one INSERT ... unnest and one commit, and
// each is answered 200 once its batch has committed.
//
// What it leaves out, on purpose: Remix and the Fetch API, Shopify's library, the event core
// (the Meta event is not built), and the Redis announce to workers. What the app does on top of
// this is what the "Web tier against the floor" section of the report weighs.
//
// Same shape as the app's web tier: FLOOR_PROCESSES processes sharing the port (Node's cluster)
// when more than one, like WEB_CONCURRENCY. Run as a script; startFloorServer() spawns it.
import cluster from "node:cluster";
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import pg from "pg";
import { createEmptyDatabase, freePort } from "../test/support/services";
import { spawnScript, stopGroups, waitForHttp, WEBHOOK_SECRET } from "./stack";

/** The floor's own table: one row per webhook, de-duplicated on Shopify's webhook id. */
const CREATE_TABLE = `CREATE TABLE floor_webhooks (
  shop text NOT NULL,
  webhook_id text NOT NULL,
  topic text NOT NULL,
  order_id bigint,
  body text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shop, webhook_id)
)`;

// One statement whatever the batch size (arrays, not one placeholder per value): PostgreSQL
// plans one shape, and the driver sends five parameters. A redelivered webhook is a no-op.
const INSERT = `INSERT INTO floor_webhooks (shop, webhook_id, topic, order_id, body)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])
ON CONFLICT DO NOTHING`;

export interface FloorServer {
  url: string;
  /** leader of the server's process group (tsx launcher, and the cluster when more than one process) */
  pid: number;
  /** webhooks stored in its table */
  stored(): Promise<number>;
  close(): Promise<void>;
}

/** A bench database of its own with the floor's table, and the server on it. */
export async function startFloorServer(options: {
  processes: number;
  lingerMs?: number;
  maxBatch?: number;
}): Promise<FloorServer> {
  const { url: databaseUrl, drop } = await createEmptyDatabase("capi_t_floor");
  const setup = new pg.Client({ connectionString: databaseUrl });
  await setup.connect();
  await setup.query(CREATE_TABLE);
  await setup.end();

  const port = await freePort();
  const child = spawnScript(
    "bench/floor-server.ts",
    {
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      SHOPIFY_API_SECRET: WEBHOOK_SECRET,
      FLOOR_PROCESSES: String(options.processes),
      FLOOR_LINGER_MS: String(options.lingerMs ?? 2),
      FLOOR_MAX_BATCH: String(options.maxBatch ?? 200),
    },
    "floor",
  );
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, 30_000, child);
  } catch (error) {
    await stopGroups([child]);
    await drop();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stored() {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      const { rows } = await c.query<{ n: string }>("SELECT count(*) AS n FROM floor_webhooks");
      await c.end();
      return Number(rows[0]!.n);
    },
    async close() {
      await stopGroups([child]);
      await drop();
    },
  };
}

/** Shopify signs the raw body: base64 of HMAC-SHA256 with the app's secret. */
function verified(body: Buffer, hmac: string | undefined, secret: string): boolean {
  if (!hmac) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(body).digest("base64"));
  const given = Buffer.from(hmac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

interface Row {
  shop: string;
  webhookId: string;
  topic: string;
  orderId: string | null;
  body: string;
  done(ok: boolean): void;
}

function serve(o: { port: number; databaseUrl: string; secret: string; lingerMs: number; maxBatch: number }): void {
  // As many connections as the app's pool, so that batches commit side by side the same way.
  const pool = new pg.Pool({ connectionString: o.databaseUrl, max: 10 });
  pool.on("error", () => undefined);

  let pending: Row[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    pool
      .query(INSERT, [
        batch.map((r) => r.shop),
        batch.map((r) => r.webhookId),
        batch.map((r) => r.topic),
        batch.map((r) => r.orderId),
        batch.map((r) => r.body),
      ])
      .then(
        () => batch.forEach((r) => r.done(true)),
        // Shopify delivers a webhook answered 500 again: nothing is lost.
        () => batch.forEach((r) => r.done(false)),
      );
  };
  const store = (row: Omit<Row, "done">) =>
    new Promise<boolean>((resolve) => {
      pending.push({ ...row, done: resolve });
      if (pending.length >= o.maxBatch) flush();
      else timer ??= setTimeout(flush, o.lingerMs);
    });

  const answer = (res: http.ServerResponse, status: number) =>
    res.writeHead(status, { "content-type": "text/plain" }).end();
  http
    .createServer(async (req, res) => {
      // GETs (the load generator opening its connections, the start-up probe) are answered at once.
      if (req.method !== "POST") return answer(res, 200);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      if (!verified(body, req.headers["x-shopify-hmac-sha256"] as string | undefined, o.secret))
        return answer(res, 401);
      const shop = req.headers["x-shopify-shop-domain"];
      const webhookId = req.headers["x-shopify-webhook-id"];
      const topic = req.headers["x-shopify-topic"];
      if (typeof shop !== "string" || typeof webhookId !== "string" || typeof topic !== "string")
        return answer(res, 400);
      const text = body.toString("utf8");
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch {
        return answer(res, 400);
      }
      const id = (payload as { id?: unknown } | null)?.id;
      const orderId = typeof id === "number" && Number.isSafeInteger(id) ? String(id) : null;
      answer(res, (await store({ shop, webhookId, topic, orderId, body: text })) ? 200 : 500);
    })
    .listen(o.port, "127.0.0.1");
}

const isMain = process.argv[1]?.endsWith("bench/floor-server.ts") ?? false;
if (isMain) {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`floor server: ${name} is not set`);
    return value;
  };
  const processes = Number(env("FLOOR_PROCESSES"));
  if (cluster.isPrimary && processes > 1) {
    for (let i = 0; i < processes; i++) cluster.fork();
  } else {
    serve({
      port: Number(env("PORT")),
      databaseUrl: env("DATABASE_URL"),
      secret: env("SHOPIFY_API_SECRET"),
      lingerMs: Number(env("FLOOR_LINGER_MS")),
      maxBatch: Number(env("FLOOR_MAX_BATCH")),
    });
  }
}
