// The admin page's form posts: validated with zod, answered with field errors the page shows
// next to each field. Nothing in an answer echoes what was typed into the token field. Saving
// a pixel and token checks them with Meta first (app/pipeline/connection.server.ts): a setup
// Meta refuses is not saved and is never answered as saved.
import { Prisma, type PrismaClient } from "@prisma/client";
import { z } from "zod";
import { shopEventSettingsSchema, storedSettings } from "../events/settings";
import {
  connectDestination,
  metaAccessFromEnv,
  type ConnectOutcome,
  type MetaAccess,
  type SaveDestination,
} from "../pipeline/connection.server";
import {
  DESTINATION_EVENTS,
  DestinationConflictError,
  findDestination,
  removeDestination,
} from "../pipeline/destinations.server";
import { sendTestEvent } from "../pipeline/test-event.server";
import type { VaultKeyInput } from "../security/token-vault";
import { activateWebPixel, type ShopifyAccess } from "../shopify/web-pixel.server";
import { META_API_VERSIONS } from "./options";
import { ACTION_SOURCES } from "../meta/action-source";
import { API_VERSION_PATTERN } from "../meta/api-version";
import { PIXEL_ID_PATTERN } from "../meta/pixel-id";
import { TEST_EVENT_CODE_PATTERN } from "../meta/test-event-code";

export type { SaveDestination };

export type Intent = "save-destination" | "remove-destination" | "save-settings" | "send-test-event";

export type ActionResult =
  /**
   * `warning`: saved, but something the merchant must know went wrong (the storefront pixel,
   * a connection Meta could not check yet). `answer`: Meta's answer to a test event.
   */
  | {
      intent: Intent;
      ok: true;
      message: string;
      warning?: string;
      answer?: { eventsReceived: number; fbtraceId?: string };
    }
  | { intent: Intent | null; ok: false; fieldErrors: Record<string, string>; formError?: string };

const trimmed = z.preprocess((v) => (typeof v === "string" ? v.trim() : ""), z.string());

/** A checkbox: present and "true" when ticked. */
const checkbox = z
  .enum(["true", "false"])
  .optional()
  .transform((v) => (v === undefined ? undefined : v === "true"));

export const destinationFormSchema = z.object({
  /** Empty: a new destination (another pixel). */
  id: trimmed.pipe(
    z.union([z.literal("").transform(() => undefined), z.string().uuid("Reload the page and try again")]),
  ),
  label: trimmed.pipe(z.string().max(60, "A name of at most 60 characters")),
  "events.Purchase": checkbox,
  "events.InitiateCheckout": checkbox,
  sendTestOrders: checkbox,
  pixelId: trimmed.pipe(
    z.string().regex(PIXEL_ID_PATTERN, "Enter the pixel (dataset) ID: the number shown in Meta Events Manager"),
  ),
  // Empty keeps the stored token.
  accessToken: trimmed.pipe(
    z
      .string()
      .refine((v) => v === "" || v.length >= 20, "Paste the whole access token from Events Manager")
      .refine((v) => !/\s/.test(v), "An access token has no spaces")
      .transform((v) => v || undefined),
  ),
  testEventCode: trimmed.pipe(
    z
      .string()
      // Empty clears the code.
      .refine(
        (v) => v === "" || TEST_EVENT_CODE_PATTERN.test(v),
        "A test event code is letters and digits, like TEST12345",
      )
      .transform((v) => v || null),
  ),
  apiVersion: trimmed.pipe(z.string().regex(API_VERSION_PATTERN, "Choose an API version")),
});

const sourceRule = z.enum([...ACTION_SOURCES, "skip"]);

export const settingsFormSchema = z.object({
  purchaseTrigger: z.enum(["orders/create", "orders/paid"], "Choose when a Purchase is sent"),
  valueMode: z.enum(["total", "subtotal"], "Choose the Purchase value"),
  contentIdSource: z.enum(["variant", "product", "sku"], "Choose the content ID"),
  "sources.web": sourceRule,
  "sources.pos": sourceRule,
  "sources.shopify_draft_order": sourceRule,
  "sources.other": sourceRule,
  respectMarketingConsent: z.enum(["true", "false"]).transform((v) => v === "true"),
  // Optional: a form without them keeps what the shop has.
  includeGiftCards: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === "true")),
  includeTips: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === "true")),
});

function fieldErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? "form");
    errors[key] ??= issue.message;
  }
  return errors;
}

function formValues(form: FormData): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of form.entries()) if (typeof value === "string") values[key] = value;
  return values;
}

/** Where Meta is and how to open the stored token; META_GRAPH_URL, META_APP_SECRET and ENCRYPTION_KEY when absent. */
export interface AdminDeps {
  meta?: MetaAccess;
  key?: VaultKeyInput;
  now?: () => Date;
}

/** What the merchant reads when Meta refused the pixel and token (nothing saved). */
function refusedResult(outcome: Extract<ConnectOutcome, { saved: false }>, hadDestination: boolean): ActionResult {
  const intent = "save-destination";
  if ("unreadableToken" in outcome) {
    return {
      intent,
      ok: false,
      fieldErrors: {
        accessToken:
          "The app can no longer read the saved access token (the encryption key changed). Paste your access token again and save.",
      },
    };
  }
  const { check } = outcome;
  const what = outcome.sameAsStored
    ? "Not connected: Meta refuses the saved pixel and token, so nothing was changed."
    : hadDestination
      ? "Not saved: Meta refused this pixel and token, so your saved connection is unchanged."
      : "Not saved: Meta refused this pixel and token.";
  return {
    intent,
    ok: false,
    fieldErrors: check.field ? { [check.field]: check.message } : {},
    formError: `${what} ${check.field ? "See the field marked below." : check.message}`,
  };
}

async function saveDestinationForm(
  prisma: PrismaClient,
  shop: string,
  form: FormData,
  save: SaveDestination,
  shopify: ShopifyAccess | undefined,
  deps: AdminDeps,
): Promise<ActionResult> {
  const intent = "save-destination";
  const parsed = destinationFormSchema.safeParse(formValues(form));
  // Without an id, a pixel the shop has is changed and another one added (findDestination's rule).
  const existing = parsed.success
    ? await findDestination(prisma, shop, parsed.data).catch((error: unknown) => {
        if (error instanceof DestinationConflictError) return undefined;
        throw error;
      })
    : null;
  const errors = parsed.success ? {} : fieldErrors(parsed.error);
  if (existing === undefined)
    return { intent, ok: false, fieldErrors: {}, formError: "This pixel is no longer connected. Reload the page." };
  // Checkboxes the form does not show leave the destination's choice as it is.
  const shown = parsed.success && DESTINATION_EVENTS.some((name) => parsed.data[`events.${name}`] !== undefined);
  const events = shown
    ? DESTINATION_EVENTS.filter((name) => parsed.success && parsed.data[`events.${name}`])
    : undefined;
  if (events?.length === 0) errors.events = "Choose at least one event to send to this pixel";
  if (parsed.success) {
    const allowed: readonly string[] = existing ? [...META_API_VERSIONS, existing.apiVersion] : META_API_VERSIONS;
    if (!allowed.includes(parsed.data.apiVersion)) errors.apiVersion = "Choose one of the listed API versions";
  }
  if (!existing && !errors.accessToken && !(parsed.success && parsed.data.accessToken)) {
    errors.accessToken = "Paste the access token generated in Events Manager for this pixel";
  }
  if (!parsed.success || Object.keys(errors).length > 0) return { intent, ok: false, fieldErrors: errors };

  const { id, label, sendTestOrders, pixelId, accessToken, testEventCode, apiVersion } = parsed.data;
  let outcome: ConnectOutcome;
  try {
    outcome = await connectDestination(
      prisma,
      shop,
      {
        id,
        label,
        events,
        sendTestOrders,
        pixelId,
        testEventCode,
        apiVersion,
        ...(accessToken ? { accessToken } : {}),
      },
      { meta: deps.meta ?? metaAccessFromEnv(), save, key: deps.key, now: deps.now?.() },
    );
  } catch (error) {
    if (error instanceof DestinationConflictError)
      return { intent, ok: false, fieldErrors: { pixelId: error.message } };
    console.error(
      `capi-relay: saving the destination of ${shop} failed:`,
      error instanceof Error ? error.message : error,
    );
    return {
      intent,
      ok: false,
      fieldErrors: {},
      formError: "The connection could not be saved. Try again in a moment.",
    };
  }
  if (!outcome.saved) return refusedResult(outcome, existing !== null);

  const saved = accessToken ? "Pixel connection saved" : "Pixel settings saved; the stored token is kept";
  const warnings: string[] = [];
  let message: string;
  if (outcome.check.status === "unchecked") {
    message = `${saved}, but not checked yet`;
    warnings.push(
      `Not checked yet. ${outcome.check.message} ${
        outcome.paused
          ? "Sending stays paused until the check passes: save again in a few minutes."
          : "Events are kept and sent once Meta answers; save again in a few minutes to check the connection."
      }`,
    );
  } else {
    message = outcome.resumed ? `${saved}; sending resumed` : saved;
  }
  const result = (extra: { message?: string; warning?: string } = {}): ActionResult => {
    const all = [...warnings, ...(extra.warning ? [extra.warning] : [])];
    return { intent, ok: true, message: extra.message ?? message, ...(all.length ? { warning: all.join(" ") } : {}) };
  };
  if (!shopify) return result();
  // The storefront pixel follows the saved pixel ID; the destination stands whatever Shopify answers.
  try {
    const pixel = await activateWebPixel(prisma, shopify, shop);
    if (pixel.status === "active") return result({ message: `${message}; storefront pixel on` });
    return result(pixel.status === "failed" ? { warning: pixel.message } : {});
  } catch (error) {
    console.error(
      `capi-relay: recording the web pixel of ${shop} failed:`,
      error instanceof Error ? error.message : error,
    );
    return result({
      warning: "The storefront pixel could not be turned on this time; it is tried again when you open this page.",
    });
  }
}

/** Removes one of the shop's pixels; the storefront pixel follows. */
async function removeDestinationForm(
  prisma: PrismaClient,
  shop: string,
  form: FormData,
  shopify: ShopifyAccess | undefined,
  deps: AdminDeps,
): Promise<ActionResult> {
  const intent = "remove-destination";
  const id = z.string().uuid().safeParse(form.get("id"));
  if (!id.success || !(await removeDestination(prisma, { shop, id: id.data }, deps.now?.() ?? new Date())))
    return { intent, ok: false, fieldErrors: {}, formError: "This pixel is no longer connected. Reload the page." };
  if (shopify) await activateWebPixel(prisma, shopify, shop).catch(() => undefined);
  return { intent, ok: true, message: "Pixel removed; its unsent events will not be sent" };
}

/** One test Purchase to one of the shop's pixels with its test event code, and Meta's answer. */
async function sendTestEventForm(
  prisma: PrismaClient,
  shop: string,
  form: FormData,
  deps: AdminDeps,
): Promise<ActionResult> {
  const intent = "send-test-event";
  const destinationId = z
    .string()
    .uuid()
    .optional()
    .safeParse(form.get("destinationId") || undefined);
  if (!destinationId.success)
    return { intent, ok: false, fieldErrors: {}, formError: "Choose one of your pixels and try again." };
  try {
    const sent = await sendTestEvent(prisma, shop, deps.meta ?? metaAccessFromEnv(), {
      key: deps.key,
      nowMs: deps.now?.().getTime(),
      destinationId: destinationId.data,
    });
    if (sent.ok)
      return {
        intent,
        ok: true,
        message: sent.message,
        answer: { eventsReceived: sent.eventsReceived, ...(sent.fbtraceId ? { fbtraceId: sent.fbtraceId } : {}) },
      };
    return { intent, ok: false, fieldErrors: {}, formError: sent.message };
  } catch (error) {
    console.error(`capi-relay: the test event of ${shop} failed:`, error instanceof Error ? error.message : error);
    return {
      intent,
      ok: false,
      fieldErrors: {},
      formError: "The test event could not be sent. Try again in a moment.",
    };
  }
}

/**
 * Validates the settings form and stores it over the shop's current settings (keeping fields
 * the form does not show); the web pixel's settings follow, so the browser's copy of each event
 * keeps the server's value and contents.
 */
export async function saveShopSettings(
  prisma: PrismaClient,
  shop: string,
  form: FormData,
  shopify?: ShopifyAccess,
): Promise<ActionResult> {
  const intent = "save-settings";
  const parsed = settingsFormSchema.safeParse(formValues(form));
  if (!parsed.success) return { intent, ok: false, fieldErrors: fieldErrors(parsed.error) };

  const row = await prisma.shop.findUnique({ where: { shop }, select: { settings: true } });
  const current = storedSettings(row?.settings).settings;
  const f = parsed.data;
  const next = shopEventSettingsSchema.safeParse({
    ...current,
    purchaseTrigger: f.purchaseTrigger,
    valueMode: f.valueMode,
    contentIdSource: f.contentIdSource,
    sources: {
      web: f["sources.web"],
      pos: f["sources.pos"],
      shopify_draft_order: f["sources.shopify_draft_order"],
      other: f["sources.other"],
    },
    respectMarketingConsent: f.respectMarketingConsent,
    ...(f.includeGiftCards === undefined ? {} : { includeGiftCards: f.includeGiftCards }),
    ...(f.includeTips === undefined ? {} : { includeTips: f.includeTips }),
  });
  if (!next.success) return { intent, ok: false, fieldErrors: fieldErrors(next.error) };

  const settings = JSON.parse(JSON.stringify(next.data)) as Prisma.InputJsonObject;
  await prisma.shop.upsert({ where: { shop }, create: { shop, settings }, update: { settings } });
  const saved: ActionResult = { intent, ok: true, message: "Settings saved" };
  const hasPixel = shopify && (await prisma.destination.count({ where: { shop } })) > 0;
  if (!hasPixel) return saved;
  try {
    const pixel = await activateWebPixel(prisma, shopify, shop);
    return pixel.status === "failed" ? { ...saved, warning: pixel.message } : saved;
  } catch (error) {
    console.error(
      `capi-relay: recording the web pixel of ${shop} failed:`,
      error instanceof Error ? error.message : error,
    );
    return {
      ...saved,
      warning:
        "The storefront pixel did not get the new settings this time; they are sent again when you open the Overview page.",
    };
  }
}

/**
 * `shopify`: the Admin API of the session's shop, for the web pixel. Without it (a caller with
 * no Shopify session) the destination is saved and the web pixel left as it is.
 */
export async function runAdminAction(
  prisma: PrismaClient,
  shop: string,
  form: FormData,
  save: SaveDestination,
  shopify?: ShopifyAccess,
  deps: AdminDeps = {},
): Promise<ActionResult> {
  const intent = form.get("intent");
  if (intent === "save-destination") return saveDestinationForm(prisma, shop, form, save, shopify, deps);
  if (intent === "save-settings") return saveShopSettings(prisma, shop, form, shopify);
  if (intent === "remove-destination") return removeDestinationForm(prisma, shop, form, shopify, deps);
  if (intent === "send-test-event") return sendTestEventForm(prisma, shop, form, deps);
  return { intent: null, ok: false, fieldErrors: {}, formError: "Unknown form" };
}
