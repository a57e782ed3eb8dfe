// POST /pixel/fired?shop=<shop>&token=<token>: the storefront's web pixel reports the event
// names and ids it fired (app/pipeline/fired-ids.ts). The URL is the pixel's `firedIdsUrl`
// setting; the token is the shop's HMAC with the app secret. The pixel posts text/plain with
// mode no-cors (a CORS-safelisted request: no preflight, and it needs no answer), so no CORS
// header is sent: no page can read anything from here.
import type { ActionFunctionArgs } from "@remix-run/node";
import { env } from "../config/env.server";
import { allowFiredReport, recordBrowserEvents } from "../pipeline/dedup-health.server";
import { MAX_FIRED_BODY_BYTES, firedIdsQuerySchema, firedIdsTokenValid, parseFiredIds } from "../pipeline/fired-ids";
import { database, redis } from "../process-clients.server";

const answer = (status: number, message: string) =>
  new Response(message, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });

/** The body's text, or null past `limit` bytes (stops reading there). */
async function boundedText(request: Request, limit: number): Promise<string | null> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) return null;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") return answer(405, "POST only");
  const url = new URL(request.url);
  const query = firedIdsQuerySchema.safeParse({
    shop: url.searchParams.get("shop") ?? "",
    token: url.searchParams.get("token") ?? "",
  });
  if (!query.success || !firedIdsTokenValid(env().SHOPIFY_API_SECRET, query.data.shop, query.data.token)) {
    return answer(401, "unknown shop or token");
  }
  const { shop } = query.data;
  const text = await boundedText(request, MAX_FIRED_BODY_BYTES);
  if (text === null) return answer(413, `the body exceeds ${MAX_FIRED_BODY_BYTES} bytes`);
  const parsed = parseFiredIds(text);
  if (!parsed.ok) return answer(400, parsed.reason);
  const now = new Date();
  let allowed: boolean;
  try {
    allowed = await allowFiredReport(redis(), env().QUEUE_PREFIX, shop, now);
  } catch {
    return answer(503, "try again later");
  }
  if (!allowed) return new Response("too many reports", { status: 429, headers: { "Retry-After": "60" } });
  const db = database();
  await db.ready;
  // Only an installed shop keeps reports: an uninstalled shop's pixel may still run a while.
  const installed = await db.prisma.shop.findFirst({ where: { shop, uninstalledAt: null }, select: { shop: true } });
  if (!installed) return answer(404, "the shop has not installed CAPI Relay");
  await recordBrowserEvents(db.sql, shop, parsed.report, now);
  return new Response(null, { status: 204 });
}

export function loader() {
  return answer(405, "POST only");
}
