// Turning the app's web pixel on for a shop, with the shop's Meta pixel ID in its settings:
// webPixelCreate the first time, webPixelUpdate after, and the outcome recorded on the shop
// row so the admin page can say plainly why the storefront pixel is off. Never throws: a
// refusal is the merchant's information, not the page's failure.
import type { PrismaClient } from "@prisma/client";
import { DEFAULT_SETTINGS, storedSettings } from "../events/settings";
import { env } from "../config/env.server";
import { firedIdsUrl } from "../pipeline/fired-ids";
import { AdminGraphqlError, graphqlData, type AdminGraphql } from "./admin-graphql";
import {
  APP_INSTALLATION_QUERY,
  appInstallationResponseSchema,
  metafieldRefusedMessage,
  metafieldUnreachableMessage,
  metafieldsDeleteResponseSchema,
  metafieldsSetResponseSchema,
  PIXEL_IDS_METAFIELD_DELETE,
  PIXEL_IDS_METAFIELD_SET,
  pixelIdsMetafieldIdentifier,
  pixelIdsMetafieldInput,
} from "./pixel-ids-metafield";
import {
  graphqlErrorsMessage,
  missingScopesMessage,
  missingWebPixelScopes,
  thrownMessage,
  userErrorsMessage,
  WEB_PIXEL_CREATE,
  WEB_PIXEL_DELETE,
  webPixelDeleteResponseSchema,
  WEB_PIXEL_QUERY,
  WEB_PIXEL_UPDATE,
  webPixelCreateResponseSchema,
  webPixelNeedsSync,
  webPixelQueryResponseSchema,
  sameSettings,
  webPixelSettings,
  webPixelSettingsFor,
  webPixelUpdateResponseSchema,
  type WebPixelSettings,
  type WebPixelUserError,
} from "./web-pixel";

export type WebPixelSync =
  | {
      status: "active";
      webPixelId: string;
      pixelId: string;
      action: "created" | "updated";
      /** The settings JSON written (recorded, so that a change of the shop's settings resyncs). */
      settings?: string;
    }
  | { status: "failed"; message: string }
  /** No pixel left: the web pixel was deleted (or there was none). */
  | { status: "removed" };

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
  wanted: string | WebPixelSettings,
): Promise<WebPixelSync> {
  const missing = missingWebPixelScopes(access.grantedScopes);
  if (missing.length > 0) return { status: "failed", message: missingScopesMessage(missing) };
  // A bare list: every pixel receives every event, with the default settings.
  const full =
    typeof wanted === "string"
      ? webPixelSettingsFor(
          wanted.split(",").map((pixelId) => ({ pixelId, events: ["Purchase", "InitiateCheckout"] })),
          DEFAULT_SETTINGS,
        )
      : wanted;
  const pixelIds = full.pixelIds;
  let settings: string;
  try {
    settings = webPixelSettings(full);
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
      if (existing && sameSettings(existing.settings, settings))
        return { status: "active", webPixelId: existing.id, pixelId: pixelIds, action: "updated", settings };
      if (existing) {
        action = "updated";
        outcome = await mutate(access, existing.id, settings);
      }
    }
    if ("userErrors" in outcome) return { status: "failed", message: userErrorsMessage(outcome.userErrors) };
    return { status: "active", webPixelId: outcome.webPixelId, pixelId: pixelIds, action, settings };
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
    result.status === "removed"
      ? {
          webPixelId: null,
          webPixelPixelId: null,
          webPixelSettings: null,
          webPixelStatus: null,
          webPixelMessage: null,
          webPixelSyncedAt: now,
        }
      : result.status === "active"
        ? {
            webPixelId: result.webPixelId,
            webPixelPixelId: result.pixelId,
            webPixelSettings: result.settings ?? null,
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
  webPixelSettings: true,
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

/** What the storefront should carry for a shop: its destinations (oldest first) and settings. */
async function storefrontSettings(prisma: PrismaClient, shop: string): Promise<WebPixelSettings> {
  const [rows, row] = await Promise.all([
    prisma.destination.findMany({
      where: { shop },
      orderBy: [{ createdAt: "asc" }, { pixelId: "asc" }],
      select: { pixelId: true, events: true },
    }),
    prisma.shop.findUnique({ where: { shop }, select: { settings: true } }),
  ]);
  return webPixelSettingsFor(rows, storedSettings(row?.settings).settings, shopFiredIdsUrl(shop));
}

/**
 * The pixel ids into the app-owned metafield the theme app embed reads; deleted when the shop
 * has none. A failure is the merchant's message, as for the web pixel.
 */
export async function syncPixelIdsMetafield(
  access: ShopifyAccess,
  pixelIds: string,
): Promise<{ ok: true } | { ok: false; message: string }> {
  try {
    const ownerId = graphqlData(await access.graphql(APP_INSTALLATION_QUERY, {}), appInstallationResponseSchema).data
      .currentAppInstallation.id;
    const errors = pixelIds
      ? graphqlData(
          await access.graphql(PIXEL_IDS_METAFIELD_SET, { metafields: pixelIdsMetafieldInput(ownerId, pixelIds) }),
          metafieldsSetResponseSchema,
        ).data.metafieldsSet.userErrors
      : graphqlData(
          await access.graphql(PIXEL_IDS_METAFIELD_DELETE, { metafields: pixelIdsMetafieldIdentifier(ownerId) }),
          metafieldsDeleteResponseSchema,
        ).data.metafieldsDelete.userErrors;
    return errors.length === 0 ? { ok: true } : { ok: false, message: metafieldRefusedMessage(errors) };
  } catch (error) {
    if (error instanceof AdminGraphqlError) return { ok: false, message: metafieldRefusedMessage(error.errors) };
    const detail =
      error instanceof Response ? `HTTP ${error.status}` : error instanceof Error ? error.message : String(error);
    return { ok: false, message: metafieldUnreachableMessage(detail) };
  }
}

/** Deletes the web pixel once no pixel is left, so the browser stops firing removed pixels. */
async function removeWebPixel(access: ShopifyAccess, knownId: string | null | undefined): Promise<WebPixelSync> {
  if (!knownId) return { status: "removed" };
  try {
    const errors = graphqlData(await access.graphql(WEB_PIXEL_DELETE, { id: knownId }), webPixelDeleteResponseSchema)
      .data.webPixelDelete.userErrors;
    // NOT_FOUND: Shopify has none (removed with an uninstall); the outcome is the same.
    if (errors.length === 0 || errors.every((e) => e.code === "NOT_FOUND")) return { status: "removed" };
    return { status: "failed", message: userErrorsMessage(errors) };
  } catch (error) {
    if (error instanceof AdminGraphqlError) return { status: "failed", message: graphqlErrorsMessage(error.errors) };
    return { status: "failed", message: thrownMessage(error) };
  }
}

/**
 * Both storefront copies of the shop's pixels: the web pixel's settings and the embed's
 * metafield. Active only when both were written.
 */
async function syncStorefront(
  access: ShopifyAccess,
  knownId: string | null | undefined,
  wanted: WebPixelSettings,
): Promise<WebPixelSync> {
  const metafield = await syncPixelIdsMetafield(access, wanted.pixelIds);
  const pixel = wanted.pixelIds ? await syncWebPixel(access, knownId, wanted) : await removeWebPixel(access, knownId);
  if (pixel.status !== "failed" && !metafield.ok) return { status: "failed", message: metafield.message };
  return pixel;
}

/** The shop's report URL for its web pixel's settings (deduplication health). */
function shopFiredIdsUrl(shop: string): string {
  return firedIdsUrl(env().SHOPIFY_APP_URL, env().SHOPIFY_API_SECRET, shop);
}

/** After the merchant saved a destination or the shop's settings: the storefront follows them. */
export async function activateWebPixel(
  prisma: PrismaClient,
  access: ShopifyAccess,
  shop: string,
  now = new Date(),
): Promise<WebPixelSync> {
  const [row, wanted] = await Promise.all([
    prisma.shop.findUnique({ where: { shop }, select: { webPixelId: true } }),
    storefrontSettings(prisma, shop),
  ]);
  const result = await syncStorefront(access, row?.webPixelId, wanted);
  await recordWebPixel(prisma, shop, result, now);
  return result;
}

/**
 * When the admin page opens: creates the web pixel if the shop has a destination and none is
 * recorded (first load after install or reinstall), retries a failure, follows changed pixel
 * IDs or settings. Otherwise reads what is recorded, without calling Shopify.
 */
export async function ensureWebPixel(
  prisma: PrismaClient,
  access: ShopifyAccess,
  shop: string,
  now = new Date(),
): Promise<WebPixelView> {
  const [state, wanted] = await Promise.all([
    prisma.shop.findUnique({ where: { shop }, select: stateSelect }),
    storefrontSettings(prisma, shop),
  ]);
  let settings: string | undefined;
  try {
    settings = wanted.pixelIds ? webPixelSettings(wanted) : undefined;
  } catch {
    settings = undefined;
  }
  if (webPixelNeedsSync(state, wanted.pixelIds, now, settings)) {
    await recordWebPixel(prisma, shop, await syncStorefront(access, state?.webPixelId, wanted), now);
  }
  return loadWebPixelView(prisma, shop);
}
