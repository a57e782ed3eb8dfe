// POST /apps/capi-relay/seen?id=<pixel id> on the storefront, which Shopify's app proxy
// forwards here (shopify.app.toml [app_proxy]) with the shop and its signature: the theme embed
// saw another Meta pixel running one of the shop's pixel ids. The signature proves the shop;
// the pixel id must be one of the shop's destinations; a shop's reports are rate-limited as
// the web pixel's are. Nothing else of the request is read or kept (the proxy's
// logged_in_customer_id included).
import type { ActionFunctionArgs } from "@remix-run/node";
import { env } from "../config/env.server";
import { allowFiredReport } from "../pipeline/dedup-health.server";
import { recordPixelSighting } from "../pipeline/pixel-sightings.server";
import { database, redis } from "../process-clients.server";
import { PIXEL_ID_PATTERN } from "../meta/pixel-id";
import { authenticate } from "../shopify.server";

const answer = (status: number, message?: string) =>
  new Response(message ?? null, { status, headers: { "Cache-Control": "no-store" } });

export async function action({ request }: ActionFunctionArgs) {
  // A bad signature is answered 400 by the library (thrown). It also loads the shop's offline
  // session, but never renews it here: the session storage hides refresh tokens from the
  // library (app/shopify.server.ts), so a storefront request cannot spend one.
  await authenticate.public.appProxy(request);
  const url = new URL(request.url);
  const shop = url.searchParams.get("shop") ?? "";
  const pixelId = url.searchParams.get("id") ?? "";
  if (!PIXEL_ID_PATTERN.test(pixelId)) return answer(400, "not a Meta pixel ID");
  const now = new Date();
  try {
    if (!(await allowFiredReport(redis(), `${env().QUEUE_PREFIX}:seen`, shop, now))) return answer(429);
  } catch {
    return answer(503);
  }
  const db = database();
  await db.ready;
  const installed = await db.prisma.shop.findFirst({ where: { shop, uninstalledAt: null }, select: { shop: true } });
  if (!installed) return answer(404);
  return answer((await recordPixelSighting(db.prisma, shop, pixelId, now)) ? 204 : 404);
}

export function loader() {
  return answer(405, "POST only");
}
