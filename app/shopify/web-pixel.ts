// The pure side of the app's web pixel (extensions/capi-relay-pixel): the settings Shopify
// stores for it, the answers of webPixelCreate / webPixelUpdate / webPixel, and what the
// merchant is told when Shopify refuses. The pixel runs on a shop only once the app created
// it there with settings matching the extension's [settings] fields.
import { z } from "zod";
import type { GraphqlErrorEntry } from "./admin-graphql";
import { PIXEL_ID_PATTERN } from "../meta/pixel-id";
import type { ShopEventSettings } from "../events/settings";

/** webPixelCreate needs write_pixels, and read_customer_events besides (Shopify's reference). */
export const WEB_PIXEL_SCOPES = ["write_pixels", "read_customer_events"] as const;

export const WEB_PIXEL_CREATE = `#graphql
mutation CapiRelayWebPixelCreate($webPixel: WebPixelInput!) {
  webPixelCreate(webPixel: $webPixel) {
    userErrors { code field message }
    webPixel { id settings }
  }
}`;

export const WEB_PIXEL_UPDATE = `#graphql
mutation CapiRelayWebPixelUpdate($id: ID!, $webPixel: WebPixelInput!) {
  webPixelUpdate(id: $id, webPixel: $webPixel) {
    userErrors { code field message }
    webPixel { id settings }
  }
}`;

/** The shop's last pixel removed: the web pixel goes too (its settings need at least one pixel id). */
export const WEB_PIXEL_DELETE = `#graphql
mutation CapiRelayWebPixelDelete($id: ID!) {
  webPixelDelete(id: $id) {
    userErrors { code field message }
    deletedWebPixelId
  }
}`;

/** Without an id, Shopify answers with this app's web pixel on the shop. */
export const WEB_PIXEL_QUERY = `#graphql
query CapiRelayWebPixel {
  webPixel { id settings }
}`;

const pixelList = /^\d{1,20}(,\d{1,20})*$/;
const pixelListOrNone = z.string().regex(/^(none|\d{1,20}(,\d{1,20})*)$/, "Meta pixel IDs are digits only");
const flag = z.enum(["true", "false"]);

/**
 * The fields of extensions/capi-relay-pixel/shopify.extension.toml's [settings], each a
 * single_line_text_field (Shopify gives the pixel strings only), with names that stay: the
 * pixel reads them (src/mapping.js, pixelRules) and falls back to the server's defaults for a
 * field it does not find. Shopify refuses settings that do not match the fields.
 *  - pixelIds: every destination's Meta pixel ID, comma-separated (AddToCart goes to all);
 *  - purchasePixelIds / checkoutPixelIds: the destinations that receive Purchase /
 *    InitiateCheckout (Destination.events), "none" when no destination does;
 *  - valueMode, contentIdSource, includeGiftCards, includeTips: the shop's settings
 *    (app/events/settings.ts), so the browser's value and contents are the server's;
 *  - sendOnlineStore: "false" when the shop skips orders from the online store (sources.web),
 *    the only checkouts the web pixel sees.
 */
export const webPixelSettingsSchema = z
  .object({
    pixelIds: z.string().regex(pixelList, "Meta pixel IDs are digits only"),
    purchasePixelIds: pixelListOrNone,
    checkoutPixelIds: pixelListOrNone,
    valueMode: z.enum(["total", "subtotal"]),
    contentIdSource: z.enum(["variant", "product", "sku"]),
    includeGiftCards: flag,
    includeTips: flag,
    sendOnlineStore: flag,
    // Where the pixel reports the event ids it fired (app/pipeline/fired-ids.ts): the app's
    // URL with the shop and its token. Optional: without it the pixel reports nothing.
    firedIdsUrl: z.string().url().max(500).startsWith("http").optional(),
  })
  .strict();
export type WebPixelSettings = z.infer<typeof webPixelSettingsSchema>;
export const WEB_PIXEL_SETTING_FIELDS = Object.keys(webPixelSettingsSchema.shape) as (keyof WebPixelSettings)[];

/** The pixel ids as the web pixel's settings hold them. */
export function joinPixelIds(pixelIds: readonly string[]): string {
  return [...new Set(pixelIds.map((id) => id.trim()))].join(",");
}

/** What the web pixel needs of one destination. */
export interface PixelDestination {
  pixelId: string;
  events: readonly string[];
}

/**
 * The web pixel's settings for a shop: its destinations (oldest first) and the parts of its
 * event settings that shape the browser's copy of each event.
 */
export function webPixelSettingsFor(
  destinations: readonly PixelDestination[],
  settings: Pick<ShopEventSettings, "valueMode" | "contentIdSource" | "includeGiftCards" | "includeTips" | "sources">,
  /** The shop's report URL for the ids the pixel fired (deduplication health); none: it reports nothing. */
  firedIdsUrl?: string,
): WebPixelSettings {
  const receiving = (event: string) =>
    joinPixelIds(destinations.filter((d) => d.events.includes(event)).map((d) => d.pixelId)) || "none";
  return {
    pixelIds: joinPixelIds(destinations.map((d) => d.pixelId)),
    purchasePixelIds: receiving("Purchase"),
    checkoutPixelIds: receiving("InitiateCheckout"),
    valueMode: settings.valueMode,
    contentIdSource: settings.contentIdSource,
    includeGiftCards: String(settings.includeGiftCards) as "true" | "false",
    includeTips: String(settings.includeTips) as "true" | "false",
    sendOnlineStore: String(settings.sources.web !== "skip") as "true" | "false",
    ...(firedIdsUrl ? { firedIdsUrl } : {}),
  };
}

/** The `settings` argument: a JSON string, as Shopify's reference passes it. */
export function webPixelSettings(settings: WebPixelSettings): string {
  const parsed = webPixelSettingsSchema.parse({ ...settings, pixelIds: settings.pixelIds.trim() });
  const ids = [parsed.pixelIds, parsed.purchasePixelIds, parsed.checkoutPixelIds]
    .flatMap((list) => list.split(","))
    .filter((id) => id !== "none");
  if (!ids.every((id) => PIXEL_ID_PATTERN.test(id))) throw new Error("not a Meta pixel ID");
  return JSON.stringify(parsed, WEB_PIXEL_SETTING_FIELDS);
}

/** The Meta pixel IDs inside a web pixel's settings (Shopify's JSON scalar: a string or an object). */
export function settingsPixelIds(settings: unknown): string | undefined {
  const parsed = z.object({ pixelIds: z.string() }).safeParse(parsedSettings(settings));
  return parsed.success ? parsed.data.pixelIds : undefined;
}

/** A web pixel's settings as Shopify answers them (a JSON string or an object), as the app writes them. */
export function sameSettings(settings: unknown, written: string): boolean {
  const parsed = webPixelSettingsSchema.safeParse(parsedSettings(settings));
  return parsed.success && JSON.stringify(parsed.data, WEB_PIXEL_SETTING_FIELDS) === written;
}

function parsedSettings(settings: unknown): unknown {
  if (typeof settings !== "string") return settings;
  try {
    return JSON.parse(settings);
  } catch {
    return undefined;
  }
}

const webPixelSchema = z.object({ id: z.string().min(1), settings: z.unknown() });
const userErrorSchema = z.object({
  code: z.string().nullish(),
  field: z.array(z.string()).nullish(),
  message: z.string(),
});
export type WebPixelUserError = z.infer<typeof userErrorSchema>;
const mutationPayload = z.object({ userErrors: z.array(userErrorSchema), webPixel: webPixelSchema.nullish() });

export const webPixelCreateResponseSchema = z.object({ data: z.object({ webPixelCreate: mutationPayload }) });
export const webPixelUpdateResponseSchema = z.object({ data: z.object({ webPixelUpdate: mutationPayload }) });
export const webPixelDeleteResponseSchema = z.object({
  data: z.object({ webPixelDelete: z.object({ userErrors: z.array(userErrorSchema) }) }),
});
export const webPixelQueryResponseSchema = z.object({ data: z.object({ webPixel: webPixelSchema.nullish() }) });

/** The scopes of WEB_PIXEL_SCOPES a session was not granted; none when the grant is unknown. */
export function missingWebPixelScopes(granted: string | null | undefined): string[] {
  return missingScopes(granted, WEB_PIXEL_SCOPES);
}

/** The scopes of `wanted` a session was not granted (write_x covers read_x); none when the grant is unknown. */
export function missingScopes(granted: string | null | undefined, wanted: readonly string[]): string[] {
  if (granted === null || granted === undefined) return [];
  const have = new Set(
    granted
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  // write_x includes read_x.
  const covers = (scope: string) =>
    have.has(scope) || (scope.startsWith("read_") && have.has(`write_${scope.slice(5)}`));
  return wanted.filter((s) => !covers(s));
}

const PERMISSIONS_HINT =
  "Approve the app's updated permissions in your Shopify admin (Settings > Apps and sales channels > CAPI Relay), then open this page again.";

export function missingScopesMessage(missing: string[]): string {
  return `The storefront pixel is off: CAPI Relay has not been granted the ${missing.join(" and ")} permission${missing.length > 1 ? "s" : ""} it needs. ${PERMISSIONS_HINT}`;
}

const quoted = (message: string) => `Shopify said: “${message.trim()}”`;

/** The merchant's message for userErrors of webPixelCreate / webPixelUpdate. */
export function userErrorsMessage(errors: WebPixelUserError[]): string {
  const codes = new Set(errors.map((e) => e.code ?? ""));
  const said = quoted(errors.map((e) => e.message).join(" "));
  if (codes.has("NO_EXTENSION") || codes.has("INVALID_SETTINGS_DEFINITION") || codes.has("INVALID_RUNTIME_CONTEXT")) {
    return `The storefront pixel is off: this version of CAPI Relay has no usable web pixel extension on Shopify, so the app's developer has to deploy it (shopify app deploy). ${said}`;
  }
  if (codes.has("INVALID_SETTINGS") || codes.has("INVALID_CONFIGURATION_JSON") || codes.has("BLANK")) {
    return `The storefront pixel is off: Shopify refused its settings (the Meta pixel ID). Check the pixel ID above and save again. ${said}`;
  }
  if (codes.has("UNEXPECTED_ERROR")) {
    return `The storefront pixel is off: Shopify could not turn it on this time; it is tried again when you open this page. ${said}`;
  }
  return `The storefront pixel is off: Shopify refused it. ${said}`;
}

/** The merchant's message for an operation Shopify refused as a whole (top-level errors). */
export function graphqlErrorsMessage(errors: GraphqlErrorEntry[]): string {
  const codes = new Set(errors.map((e) => e.extensions?.code ?? ""));
  const said = quoted(errors.map((e) => e.message).join(" "));
  if (codes.has("ACCESS_DENIED")) {
    return `The storefront pixel is off: Shopify refused access (CAPI Relay needs the ${WEB_PIXEL_SCOPES.join(" and ")} permissions). ${PERMISSIONS_HINT} ${said}`;
  }
  if (codes.has("THROTTLED")) {
    return `The storefront pixel is off for now: Shopify asked the app to slow down; it is tried again when you open this page. ${said}`;
  }
  return `The storefront pixel is off: Shopify refused the request. ${said}`;
}

/** The merchant's message when the call itself failed: no answer, or an HTTP error. */
export function thrownMessage(error: unknown): string {
  if (error instanceof Response) {
    if (error.status === 401 || error.status === 403) {
      return `The storefront pixel is off: Shopify did not accept the app's access (HTTP ${error.status}). Reload this page to sign in again.`;
    }
    return `The storefront pixel is off: Shopify answered HTTP ${error.status}; it is tried again when you open this page.`;
  }
  const detail = error instanceof Error ? error.message : String(error);
  return `The storefront pixel is off: Shopify could not be reached (${detail}); it is tried again when you open this page.`;
}

export interface WebPixelState {
  webPixelStatus: string | null;
  webPixelPixelId: string | null;
  /** The settings (JSON) last written to the web pixel; the pixel ids' metafield was written with them. */
  webPixelSettings?: string | null;
  webPixelSyncedAt: Date | null;
  uninstalledAt: Date | null;
}

/** How long a failed attempt stands before a page load tries again (the action's revalidation is not a retry). */
export const WEB_PIXEL_RETRY_MS = 30_000;

/**
 * Whether opening the admin page should create or update the web pixel: never without a Meta
 * pixel; at first (nothing recorded), after a failure, when the Meta pixel changed since, and
 * after a reinstall (Shopify removes an app's web pixel with the app).
 */
export function webPixelNeedsSync(
  state: WebPixelState | null,
  pixelIds: string | null | undefined,
  now: Date,
  settings?: string,
): boolean {
  if (!pixelIds) return false;
  if (!state || !state.webPixelStatus || !state.webPixelSyncedAt) return true;
  if (state.webPixelStatus !== "active") return now.getTime() - state.webPixelSyncedAt.getTime() >= WEB_PIXEL_RETRY_MS;
  if (state.webPixelPixelId !== pixelIds) return true;
  // The shop's settings changed since (or the settings were written before the metafield was).
  if (settings !== undefined && state.webPixelSettings !== settings) return true;
  return state.uninstalledAt !== null && state.webPixelSyncedAt.getTime() <= state.uninstalledAt.getTime();
}
