// The baseline of the burst benchmark: what an integration looks like without a queue. A
// webhook handler that checks Shopify's HMAC, builds the event with the project's own event
// core (`prepareEvent`, so that event building costs the same on both sides) and POSTs it to
// Meta as a request of its own, one order one request.
//
//   inline      answers Shopify after Meta answers: 200 when Meta took the event, 500 when it
//               did not (so that Shopify delivers the webhook again later). The common shape.
//   background  answers 200 at once and sends in the background (fire and forget): a failed
//               send is lost for good.
//
// Same resources as the app's web tier: NAIVE_PROCESSES processes sharing the port (Node's
// cluster), like WEB_CONCURRENCY. Nothing is stored: the baseline pays no database at all.
// Run as a script; startNaiveSender() spawns it.
import cluster from "node:cluster";
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { z } from "zod";
import { prepareEvent } from "../app/events/prepare";
import { DEFAULT_SETTINGS } from "../app/events/settings";
import type { MetaEvent } from "../app/meta/event";
import { graphRequest } from "../app/meta/request";
import { freePort } from "../test/support/services";
import { spawnScript, stopGroups, waitForHttp, WEBHOOK_SECRET, type BenchShop } from "./stack";

export type NaiveMode = "inline" | "background";

export interface NaiveSender {
  url: string;
  pid: number;
  close(): Promise<void>;
}

export async function startNaiveSender(options: {
  metaUrl: string;
  shops: BenchShop[];
  processes: number;
  mode: NaiveMode;
}): Promise<NaiveSender> {
  const port = await freePort();
  const child = spawnScript(
    "bench/naive-sender.ts",
    {
      PORT: String(port),
      META_GRAPH_URL: options.metaUrl,
      SHOPIFY_API_SECRET: WEBHOOK_SECRET,
      NAIVE_PROCESSES: String(options.processes),
      NAIVE_MODE: options.mode,
      NAIVE_DESTINATIONS: JSON.stringify(options.shops),
    },
    "naive",
  );
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, 30_000, child);
  } catch (error) {
    await stopGroups([child]);
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, close: () => stopGroups([child]) };
}

const settingsSchema = z.object({
  PORT: z.coerce.number().int().positive(),
  META_GRAPH_URL: z.string().url(),
  SHOPIFY_API_SECRET: z.string().min(1),
  NAIVE_PROCESSES: z.coerce.number().int().min(1).max(32),
  NAIVE_MODE: z.enum(["inline", "background"]),
  NAIVE_DESTINATIONS: z.string().transform((s, ctx) => {
    const parsed = z
      .array(z.object({ shop: z.string(), pixelId: z.string(), accessToken: z.string() }))
      .safeParse(JSON.parse(s));
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: "NAIVE_DESTINATIONS: a JSON array of {shop, pixelId, accessToken}" });
      return z.NEVER;
    }
    return new Map(parsed.data.map((d) => [d.shop, d]));
  }),
});

function verified(body: Buffer, hmac: string | undefined, secret: string): boolean {
  if (!hmac) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(body).digest("base64"));
  const given = Buffer.from(hmac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function serve(settings: z.infer<typeof settingsSchema>): void {
  const answer = (res: http.ServerResponse, status: number, text = "") =>
    res.writeHead(status, { "content-type": "text/plain" }).end(text);
  const send = async (dest: BenchShop, event: MetaEvent): Promise<boolean> => {
    const request = graphRequest({ pixelId: dest.pixelId, accessToken: dest.accessToken }, [event], {
      graphUrl: settings.META_GRAPH_URL,
    });
    try {
      const response = await fetch(request.url, {
        method: "POST",
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(15_000),
      });
      await response.arrayBuffer();
      return response.ok;
    } catch {
      return false;
    }
  };

  http
    .createServer(async (req, res) => {
      if (req.method !== "POST") return answer(res, 200, "naive sender");
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      if (!verified(body, req.headers["x-shopify-hmac-sha256"] as string | undefined, settings.SHOPIFY_API_SECRET))
        return answer(res, 401);
      const shop = String(req.headers["x-shopify-shop-domain"] ?? "");
      const dest = settings.NAIVE_DESTINATIONS.get(shop);
      if (!dest) return answer(res, 200, "no destination");
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString("utf8"));
      } catch {
        return answer(res, 400);
      }
      const built = prepareEvent("orders/create", payload, DEFAULT_SETTINGS, {
        shop,
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      if (built.status !== "ready") return answer(res, 200, built.status);
      if (settings.NAIVE_MODE === "background") {
        void send(dest, built.event);
        return answer(res, 200);
      }
      return (await send(dest, built.event)) ? answer(res, 200) : answer(res, 500, "Meta did not take the event");
    })
    .listen(settings.PORT, "127.0.0.1");
}

const isMain = process.argv[1]?.endsWith("bench/naive-sender.ts") ?? false;
if (isMain) {
  const settings = settingsSchema.parse(process.env);
  if (cluster.isPrimary && settings.NAIVE_PROCESSES > 1) {
    for (let i = 0; i < settings.NAIVE_PROCESSES; i++) cluster.fork();
  } else {
    serve(settings);
  }
}
