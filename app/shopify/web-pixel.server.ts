// Turning the app's web pixel on for a shop, with the shop's Meta pixel ID in its settings:
// webPixelCreate the first time, webPixelUpdate after, and the outcome recorded on the shop
// row so the admin page can say plainly why the storefront pixel is off. Never throws: a
// refusal is the merchant's information, not the page's failure.
import type { PrismaClient } from "@prisma/client";
import { AdminGraphqlError, graphqlData, type AdminGraphql } from "./admin-graphql";
import {
  graphqlErrorsMessage,
  missingScopesMessage,
  missingWebPixelScopes,
  settingsPixelIds,
  thrownMessage,
  userErrorsMessage,
  WEB_PIXEL_CREATE,
  WEB_PIXEL_QUERY,
  WEB_PIXEL_UPDATE,
  webPixelCreateResponseSchema,
  webPixelNeedsSync,
  webPixelQueryResponseSchema,
  joinPixelIds,
  webPixelSettings,
  webPixelUpdateResponseSchema,
  type WebPixelUserError,
} from "./web-pixel";

export type WebPixelSync =
  | { status: "active"; webPixelId: string; pixelId: string; action: "created" | "updated" }
  | { status: "failed"; message: string };

/** What the admin page shows about the storefront pixel. JSON-safe. */
export interface WebPixelView {
  status: "active" | "failed" | "none";
  pixelId: string | null;
  message: string | null;
  syncedAt: string | null;
}

export interface ShopifyAccess {
  graphql: AdminGraphql;
  /** The session's granted scopes (comma-separated), when known. */
  grantedScopes?: string | null;
}

type MutationOutcome = { webPixelId: string } | { userErrors: WebPixelUserError[] };

async function mutate(access: ShopifyAccess, id: string | undefined, settings: string): Promise<MutationOutcome> {
  const payload = id
    ? graphqlData(await access.graphql(WEB_PIXEL_UPDATE, { id, webPixel: { settings } }), webPixelUpdateResponseSchema)
        .data.webPixelUpdate
    : graphqlData(await access.graphql(WEB_PIXEL_CREATE, { webPixel: { settings } }), webPixelCreateResponseSchema).data
        .webPixelCreate;
  if (payload.userErrors.length > 0) return { userErrors: payload.userErrors };
  if (!payload.webPixel)
    return { userErrors: [{ code: "UNEXPECTED_ERROR", field: null, message: "the answer named no web pixel" }] };
  return { webPixelId: payload.webPixel.id };
}

const hasCode = (outcome: MutationOutcome, code: string) =>
  "userErrors" in outcome && outcome.userErrors.some((e) => e.code === code);

/**
 * Creates or updates the shop's web pixel so its settings carry `pixelIds` (joinPixelIds). A recorded id that
 * Shopify no longer knows (the app was reinstalled) falls back to creating; a create refused
 * because the pixel exists (TAKEN: recorded nowhere, or created by a concurrent request)
 * updates the existing one.
 */
export async function syncWebPixel(
  access: ShopifyAccess,
  knownId: string | null | undefined,
  pixelIds: string,
): Promise<WebPixelSync> {
  const missing = missingWebPixelScopes(access.grantedScopes);
  if (missing.length > 0) return { status: "failed", message: missingScopesMessage(missing) };
  let settings: string;
  try {
    settings = webPixelSettings(pixelIds);
  } catch {
    return {
      status: "failed",
      message: `The storefront pixel is off: "${pixelIds}" is not a list of Meta pixel IDs. Save the pixel ID shown in Meta Events Manager.`,
    };
  }
  try {
    let action: "created" | "updated" = knownId ? "updated" : "created";
    let outcome = await mutate(access, knownId ?? undefined, settings);
    if (knownId && hasCode(outcome, "NOT_FOUND")) {
      action = "created";
      outcome = await mutate(access, undefined, settings);
    }
    if (!knownId && hasCode(outcome, "TAKEN")) {
      const existing = graphqlData(await access.graphql(WEB_PIXEL_QUERY, {}), webPixelQueryResponseSchema).data
        .webPixel;
      if (existing && settingsPixelIds(existing.settings) === pixelIds)
        return { status: "active", webPixelId: existing.id, pixelId: pixelIds, action: "updated" };
      if (existing) {
        action = "updated";
        outcome = await mutate(access, existing.id, settings);
      }
    }
    if ("userErrors" in outcome) return { status: "failed", message: userErrorsMessage(outcome.userErrors) };
    return { status: "active", webPixelId: outcome.webPixelId, pixelId: pixelIds, action };
  } catch (error) {
    if (error instanceof AdminGraphqlError) return { status: "failed", message: graphqlErrorsMessage(error.errors) };
    return { status: "failed", message: thrownMessage(error) };
  }
}

export async function recordWebPixel(
  prisma: PrismaClient,
  shop: string,
  result: WebPixelSync,
  now: Date,
): Promise<void> {
  const data =
    result.status === "active"
      ? {
          webPixelId: result.webPixelId,
          webPixelPixelId: result.pixelId,
          webPixelStatus: "active",
          webPixelMessage: null,
          webPixelSyncedAt: now,
        }
      : // A failure keeps the last known id: the next attempt updates it rather than creating a second.
        { webPixelStatus: "failed", webPixelMessage: result.message, webPixelSyncedAt: now };
  await prisma.shop.upsert({ where: { shop }, create: { shop, ...data }, update: data });
}

const stateSelect = {
  webPixelId: true,
  webPixelPixelId: true,
  webPixelStatus: true,
  webPixelMessage: true,
  webPixelSyncedAt: true,
  uninstalledAt: true,
} as const;

export async function loadWebPixelView(prisma: PrismaClient, shop: string): Promise<WebPixelView> {
  const row = await prisma.shop.findUnique({ where: { shop }, select: stateSelect });
  const status = row?.webPixelStatus === "active" || row?.webPixelStatus === "failed" ? row.webPixelStatus : "none";
  return {
    status,
    pixelId: row?.webPixelPixelId ?? null,
    message: row?.webPixelMessage ?? null,
    syncedAt: row?.webPixelSyncedAt?.toISOString() ?? null,
  };
}

/** The pixel IDs the web pixel fires: every destination's, oldest first. */
async function shopPixelIds(prisma: PrismaClient, shop: string): Promise<string> {
  const rows = await prisma.destination.findMany({
    where: { shop },
    orderBy: [{ createdAt: "asc" }, { pixelId: "asc" }],
    select: { pixelId: true },
  });
  return joinPixelIds(rows.map((r) => r.pixelId));
}

/** After the merchant saved a destination: the web pixel follows the shop's pixel IDs. */
export async function activateWebPixel(
  prisma: PrismaClient,
  access: ShopifyAccess,
  shop: string,
  now = new Date(),
): Promise<WebPixelSync> {
  const [row, pixelIds] = await Promise.all([
    prisma.shop.findUnique({ where: { shop }, select: { webPixelId: true } }),
    shopPixelIds(prisma, shop),
  ]);
  const result = await syncWebPixel(access, row?.webPixelId, pixelIds);
  await recordWebPixel(prisma, shop, result, now);
  return result;
}

/**
 * When the admin page opens: creates the web pixel if the shop has a destination and none is
 * recorded (first load after install or reinstall), retries a failure, follows a changed
 * pixel ID. Otherwise reads what is recorded, without calling Shopify.
 */
export async function ensureWebPixel(
  prisma: PrismaClient,
  access: ShopifyAccess,
  shop: string,
  now = new Date(),
): Promise<WebPixelView> {
  const [state, pixelIds] = await Promise.all([
    prisma.shop.findUnique({ where: { shop }, select: stateSelect }),
    shopPixelIds(prisma, shop),
  ]);
  if (webPixelNeedsSync(state, pixelIds, now)) {
    await recordWebPixel(prisma, shop, await syncWebPixel(access, state?.webPixelId, pixelIds), now);
  }
  return loadWebPixelView(prisma, shop);
}
