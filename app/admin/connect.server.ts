// The Connect with Meta page's data and forms (app/routes/app.connect.tsx), for the session's
// shop only: its pending login (app/pipeline/meta-login.server.ts), the businesses and pixels
// read from Meta with that login's token, and the merchant's pick. Nothing returned here holds
// the token; every problem is answered in the merchant's words with what to do.
import type { PrismaClient } from "@prisma/client";
import { z } from "zod";
import { LOGIN_PROBLEM_MESSAGES, LOGIN_PROBLEMS, type Listed, type LoginProblem } from "../meta/facebook-login";
import { PIXEL_ID_PATTERN } from "../meta/pixel-id";
import type { SaveDestination } from "../pipeline/connection.server";
import { activateWebPixel, type ShopifyAccess } from "../shopify/web-pixel.server";
import {
  connectFromLogin,
  discardLogins,
  listBusinesses,
  listPixels,
  LOGIN_NOT_CONFIGURED,
  readPendingLogin,
  startLogin,
  type LoginDeps,
  type LoginSetup,
} from "../pipeline/meta-login.server";

export interface ConnectView {
  /** Whether this server can offer the login; when not, `notConfigured` says so. */
  configured: boolean;
  notConfigured?: string;
  /** What went wrong, in the merchant's words with what to do. */
  problem?: { kind: LoginProblem; message: string };
  /** The login waiting for the merchant's pick; its id is no secret (the state's signature is). */
  pending?: { loginId: string; expiresAt: string; tokenExpiresAt: string | null };
  businesses: Listed[];
  businessId?: string;
  pixels: Listed[];
}

const problemOf = (kind: LoginProblem) => ({ kind, message: LOGIN_PROBLEM_MESSAGES[kind] });
const problemParam = z.enum(LOGIN_PROBLEMS);

/** `query`: the page's URL query: `problem` (from the callback), `business` (the merchant's choice). */
export async function loadConnectView(
  prisma: PrismaClient,
  shop: string,
  query: URLSearchParams,
  setup: LoginSetup | undefined,
  deps: LoginDeps = {},
): Promise<ConnectView> {
  const empty = { businesses: [], pixels: [] };
  if (!setup) return { configured: false, notConfigured: LOGIN_NOT_CONFIGURED, ...empty };
  const fromCallback = problemParam.safeParse(query.get("problem") ?? undefined);
  const pending = await readPendingLogin(prisma, shop, deps);
  if (!pending)
    return { configured: true, ...(fromCallback.success ? { problem: problemOf(fromCallback.data) } : {}), ...empty };
  const view: ConnectView = {
    configured: true,
    pending: {
      loginId: pending.id,
      expiresAt: pending.expiresAt.toISOString(),
      tokenExpiresAt: pending.tokenExpiresAt?.toISOString() ?? null,
    },
    ...empty,
  };
  const businesses = await listBusinesses(setup, pending.accessToken);
  if (!businesses.ok) return { ...view, problem: problemOf(businesses.problem) };
  if (businesses.value.length === 0) return { ...view, problem: problemOf("no-business") };
  view.businesses = businesses.value;
  const chosen = query.get("business");
  const businessId =
    businesses.value.find((b) => b.id === chosen)?.id ??
    (businesses.value.length === 1 ? businesses.value[0]!.id : undefined);
  if (!businessId) return view;
  view.businessId = businessId;
  const pixels = await listPixels(setup, pending.accessToken, businessId);
  if (!pixels.ok) return { ...view, problem: problemOf(pixels.problem) };
  if (pixels.value.length === 0) return { ...view, problem: problemOf("no-pixel") };
  view.pixels = pixels.value;
  return view;
}

export type ConnectIntent = "start-login" | "connect-pixel" | "discard-login";

export type ConnectResult =
  | { intent: ConnectIntent; ok: true; message?: string; warning?: string; dialogUrl?: string }
  | { intent: ConnectIntent | null; ok: false; formError: string; fieldErrors: Record<string, string> };

const connectFormSchema = z.object({
  loginId: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "Press Connect with Meta to start again"),
  pixelId: z.string().trim().regex(PIXEL_ID_PATTERN, "Choose a pixel (dataset)"),
});

export async function runConnectAction(
  prisma: PrismaClient,
  shop: string,
  form: FormData,
  setup: LoginSetup | undefined,
  deps: LoginDeps & { save: SaveDestination; timeoutMs?: number; shopify?: ShopifyAccess },
): Promise<ConnectResult> {
  const intent = form.get("intent");
  if (intent !== "start-login" && intent !== "connect-pixel" && intent !== "discard-login")
    return { intent: null, ok: false, formError: "Unknown form", fieldErrors: {} };
  if (!setup) return { intent, ok: false, formError: LOGIN_NOT_CONFIGURED, fieldErrors: {} };
  if (intent === "start-login") {
    const { dialogUrl } = await startLogin(prisma, shop, setup, deps);
    return { intent, ok: true, dialogUrl };
  }
  if (intent === "discard-login") {
    await discardLogins(prisma, shop);
    return { intent, ok: true, message: "Sign-in discarded" };
  }
  const values = Object.fromEntries([...form.entries()].filter((e): e is [string, string] => typeof e[1] === "string"));
  const parsed = connectFormSchema.safeParse(values);
  if (!parsed.success) {
    const fieldErrors: Record<string, string> = {};
    for (const issue of parsed.error.issues) fieldErrors[String(issue.path[0])] ??= issue.message;
    return { intent, ok: false, formError: Object.values(fieldErrors)[0]!, fieldErrors };
  }
  const outcome = await connectFromLogin(prisma, shop, parsed.data.loginId, parsed.data.pixelId, setup, deps);
  if ("expired" in outcome) return { intent, ok: false, formError: LOGIN_PROBLEM_MESSAGES.expired, fieldErrors: {} };
  if (!outcome.saved) {
    const message = "check" in outcome ? outcome.check.message : LOGIN_PROBLEM_MESSAGES["meta-refused"];
    return {
      intent,
      ok: false,
      formError: `Not connected: Meta refused this pixel for the access you gave. ${message}`,
      fieldErrors: { pixelId: "Choose another pixel, or give access to this one on Facebook" },
    };
  }
  const warnings: string[] = [];
  let message = `Connected with Meta: pixel ${parsed.data.pixelId}`;
  if (outcome.check.status === "unchecked") {
    message = "Connected with Meta, but not checked yet";
    warnings.push(`${outcome.check.message} Events are kept and sent once Meta answers.`);
  }
  // The storefront pixel follows the saved pixel, as when a token is pasted (actions.server.ts).
  if (deps.shopify) {
    try {
      const pixel = await activateWebPixel(prisma, deps.shopify, shop);
      if (pixel.status === "failed" && pixel.message) warnings.push(pixel.message);
    } catch (error) {
      console.error(
        `capi-relay: recording the web pixel of ${shop} failed:`,
        error instanceof Error ? error.message : error,
      );
      warnings.push("The storefront pixel could not be turned on this time; it is tried again when you open the app.");
    }
  }
  return { intent, ok: true, message, ...(warnings.length ? { warning: warnings.join(" ") } : {}) };
}
