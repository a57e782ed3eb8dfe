// The stand-in's Facebook Login for Business: the login dialog (a small consent page with
// Continue and Cancel, redirecting to redirect_uri with a code and the state, or with
// error=access_denied as Meta does on Cancel), the code exchange at /oauth/access_token, and
// /debug_token, /me/businesses and /{business}/adspixels (also owned_pixels) for the tokens it
// issued. Issued tokens also work on the events endpoint and the pixel read (every token does
// there, unless revoked). Codes are single-use and live ten minutes, as Meta's.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { errorBody, objectNotFound, tokenInvalid, type MetaError } from "./errors";

export interface SandboxPixel {
  id: string;
  name: string;
}
export interface SandboxBusiness {
  id: string;
  name: string;
  pixels: SandboxPixel[];
}

export const sandboxBusinessesSchema = z
  .array(
    z.object({
      id: z.string().regex(/^\d{1,20}$/),
      name: z.string().max(200),
      pixels: z.array(z.object({ id: z.string().regex(/^\d{6,20}$/), name: z.string().max(200) })).max(100),
    }),
  )
  .max(100);

/** What a fresh stand-in lists: one business with one pixel. */
export const DEFAULT_BUSINESSES: SandboxBusiness[] = [
  { id: "900000000000001", name: "Stand-in Business", pixels: [{ id: "1234567890123", name: "Stand-in Store pixel" }] },
];

export interface LoginOptions {
  /** The Meta app the dialog and the exchange accept; any client id (and no secret check) without it. */
  loginApp?: { appId: string; appSecret: string };
  businesses?: SandboxBusiness[];
  /** Seconds an issued token lives (Facebook Login's user tokens: about 60 days). */
  tokenLifetimeS?: number;
  /** Seconds until the app's data access ends (90 days at Meta). */
  dataAccessLifetimeS?: number;
}

export interface IssuedToken {
  token: string;
  appId: string;
  issuedAt: number;
  expiresAt: number;
  dataAccessExpiresAt: number;
}

const CODE_TTL_MS = 10 * 60_000;

/** Meta's OAuth refusals carry their words in `message` (code 100, OAuthException; 1 for a bad secret). */
const oauthError = (message: string, code = 100): MetaError => ({ status: 400, code, type: "OAuthException", message });
const DIALOG_PATH = /^\/(?:v\d+\.\d+\/)?dialog\/oauth\/?$/;
const DECIDE_PATH = /^\/(?:v\d+\.\d+\/)?dialog\/oauth\/decide\/?$/;
const EXCHANGE_PATH = /^\/(?:v\d+\.\d+\/)?oauth\/access_token\/?$/;
const DEBUG_PATH = /^\/(?:v\d+\.\d+\/)?debug_token\/?$/;
const BUSINESSES_PATH = /^\/(?:v\d+\.\d+\/)?me\/businesses\/?$/;
const PIXELS_PATH = /^\/(?:v\d+\.\d+\/)?(\d+)\/(adspixels|owned_pixels)\/?$/;

const dialogSchema = z.object({
  client_id: z.string().regex(/^\d{1,20}$/),
  redirect_uri: z.string().url().max(2000),
  state: z.string().min(1).max(512),
  config_id: z.string().regex(/^\d{1,20}$/),
  response_type: z.literal("code"),
});

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export interface LoginHelpers {
  now: () => number;
  readBody: (req: IncomingMessage) => Promise<string>;
  send: (res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>) => void;
  /** Revoked tokens (shared with the events endpoint). */
  isRevoked: (token: string) => boolean;
  /** The token checks of the events endpoint (appsecret_proof when the stand-in requires it). */
  proofProblem: (token: string, params: Record<string, unknown>) => MetaError | undefined;
  bearer: (header: string | undefined) => string | undefined;
  /** The stand-in's fault (an outage is Meta's, not one endpoint's): true when it answered, or withheld the answer. */
  outage: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

export function loginStandIn(options: LoginOptions, helpers: LoginHelpers) {
  let businesses: SandboxBusiness[] = structuredClone(options.businesses ?? DEFAULT_BUSINESSES);
  const codes = new Map<string, { clientId: string; redirectUri: string; createdAt: number; used: boolean }>();
  const issued = new Map<string, IssuedToken>();
  const fail = (res: ServerResponse, e: MetaError) => helpers.send(res, e.status, errorBody(e));

  function html(res: ServerResponse, status: number, body: string): void {
    const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Log in with Facebook (stand-in)</title><style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1c1e21}main{border:1px solid #dddfe2;border-radius:8px;padding:1.5rem}button{font:inherit;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #ccd0d5;margin-right:.5rem;cursor:pointer}button[value=continue]{background:#1877f2;color:#fff;border-color:#1877f2}</style></head><body><main>${body}</main></body></html>`;
    res.writeHead(status, {
      "content-type": "text/html; charset=utf-8",
      "content-length": String(Buffer.byteLength(page)),
    });
    res.end(page);
  }

  function dialog(res: ServerResponse, url: URL): void {
    const parsed = dialogSchema.safeParse(Object.fromEntries(url.searchParams.entries()));
    if (!parsed.success)
      return html(
        res,
        400,
        `<h1>Something went wrong</h1><p>The login request is invalid: ${escape(parsed.error.issues.map((i) => i.path.join(".")).join(", "))}.</p>`,
      );
    const p = parsed.data;
    if (options.loginApp && p.client_id !== options.loginApp.appId)
      return html(res, 400, `<h1>Something went wrong</h1><p>Invalid App ID.</p>`);
    const hidden = (["client_id", "redirect_uri", "state", "config_id"] as const)
      .map((k) => `<input type="hidden" name="${k}" value="${escape(p[k])}">`)
      .join("");
    html(
      res,
      200,
      `<h1>Connect your business</h1><p>App ${escape(p.client_id)} asks to manage your pixels (datasets) and send events to them, with the login configuration ${escape(p.config_id)}.</p><form method="post" action="/dialog/oauth/decide">${hidden}<button type="submit" name="decision" value="continue">Continue</button><button type="submit" name="decision" value="cancel">Cancel</button></form>`,
    );
  }

  async function decide(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = Object.fromEntries(new URLSearchParams(await helpers.readBody(req)).entries());
    const parsed = dialogSchema
      .omit({ response_type: true })
      .extend({ decision: z.enum(["continue", "cancel"]) })
      .safeParse(form);
    if (!parsed.success) return html(res, 400, "<h1>Something went wrong</h1><p>The login form is invalid.</p>");
    const { client_id, redirect_uri, state, decision } = parsed.data;
    const target = new URL(redirect_uri);
    if (decision === "cancel") {
      target.searchParams.set("error", "access_denied");
      target.searchParams.set("error_code", "200");
      target.searchParams.set("error_description", "Permissions error");
      target.searchParams.set("error_reason", "user_denied");
    } else {
      const code = `AQ${randomBytes(24).toString("base64url")}`;
      codes.set(code, { clientId: client_id, redirectUri: redirect_uri, createdAt: helpers.now(), used: false });
      target.searchParams.set("code", code);
    }
    target.searchParams.set("state", state);
    res.writeHead(302, { location: target.toString(), "content-length": "0" });
    res.end();
  }

  async function params(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
    const text = await helpers.readBody(req);
    return {
      ...Object.fromEntries(url.searchParams.entries()),
      ...Object.fromEntries(new URLSearchParams(text).entries()),
    };
  }

  async function exchange(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const p = await params(req, url);
    const invalidCode = oauthError("Invalid verification code format.");
    if (!p.client_id || !p.redirect_uri || !p.code || !p.client_secret)
      return fail(res, oauthError("Missing client_id, client_secret, redirect_uri or code."));
    if (options.loginApp && (p.client_id !== options.loginApp.appId || p.client_secret !== options.loginApp.appSecret))
      return fail(res, oauthError("Error validating client secret.", 1));
    const entry = codes.get(p.code);
    if (!entry || entry.clientId !== p.client_id) return fail(res, invalidCode);
    if (entry.used) return fail(res, oauthError("This authorization code has been used."));
    if (helpers.now() - entry.createdAt > CODE_TTL_MS)
      return fail(res, oauthError("This authorization code has expired."));
    // The redirect URI must be the dialog's, character for character.
    if (entry.redirectUri !== p.redirect_uri)
      return fail(
        res,
        oauthError(
          "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        ),
      );
    entry.used = true;
    const now = Math.floor(helpers.now() / 1000);
    const lifetime = options.tokenLifetimeS ?? 60 * 86_400;
    const token: IssuedToken = {
      token: `EAAsandbox${randomBytes(32).toString("base64url")}`,
      appId: p.client_id,
      issuedAt: now,
      expiresAt: now + lifetime,
      dataAccessExpiresAt: now + (options.dataAccessLifetimeS ?? 90 * 86_400),
    };
    issued.set(token.token, token);
    helpers.send(res, 200, { access_token: token.token, token_type: "bearer", expires_in: lifetime });
  }

  async function debugToken(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const p = await params(req, url);
    const appToken = helpers.bearer(req.headers.authorization) ?? p.access_token;
    if (!appToken) return fail(res, tokenInvalid(463));
    if (options.loginApp && appToken !== `${options.loginApp.appId}|${options.loginApp.appSecret}`)
      return fail(res, { ...tokenInvalid(463), message: "Invalid OAuth access token - Cannot parse access token" });
    const input = p.input_token ?? "";
    const known = issued.get(input);
    const appId = options.loginApp?.appId ?? known?.appId ?? appToken.split("|")[0] ?? "";
    if (!known)
      return helpers.send(res, 200, {
        data: {
          app_id: appId,
          is_valid: false,
          scopes: [],
          error: { code: 190, message: "Invalid OAuth access token." },
        },
      });
    const now = Math.floor(helpers.now() / 1000);
    helpers.send(res, 200, {
      data: {
        app_id: known.appId,
        type: "USER",
        application: "Stand-in app",
        data_access_expires_at: known.dataAccessExpiresAt,
        expires_at: known.expiresAt,
        is_valid: !helpers.isRevoked(input) && now < known.expiresAt,
        issued_at: known.issuedAt,
        scopes: ["ads_management", "business_management", "public_profile"],
        user_id: "10000000000001",
      },
    });
  }

  /** A listing's token: one this stand-in issued, not revoked, not expired, proven when required. */
  function listingRefusal(req: IncomingMessage, p: Record<string, string>): MetaError | undefined {
    const token = helpers.bearer(req.headers.authorization) ?? p.access_token;
    if (!token) return tokenInvalid(463);
    const known = issued.get(token);
    if (!known || helpers.isRevoked(token)) return tokenInvalid(460);
    if (Math.floor(helpers.now() / 1000) >= known.expiresAt) return tokenInvalid(463);
    return helpers.proofProblem(token, p);
  }

  async function listBusinesses(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const p = await params(req, url);
    const refused = listingRefusal(req, p);
    if (refused) return fail(res, refused);
    helpers.send(res, 200, { data: businesses.map(({ id, name }) => ({ id, name })), paging: { cursors: {} } });
  }

  async function listPixels(req: IncomingMessage, res: ServerResponse, url: URL, businessId: string): Promise<void> {
    const p = await params(req, url);
    const refused = listingRefusal(req, p);
    if (refused) return fail(res, refused);
    const business = businesses.find((b) => b.id === businessId);
    if (!business) return fail(res, objectNotFound("GET", businessId));
    helpers.send(res, 200, { data: business.pixels.map(({ id, name }) => ({ id, name })), paging: { cursors: {} } });
  }

  return {
    /** Answers the request when it is one of the login's paths; false otherwise. */
    async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
      const path = url.pathname;
      const method = req.method ?? "GET";
      if (DECIDE_PATH.test(path) && method === "POST") await decide(req, res);
      else if (DIALOG_PATH.test(path) && method === "GET") dialog(res, url);
      // The dialog is www.facebook.com's; the rest is the Graph API's, and fails with it.
      else if (!PIXELS_PATH.test(path) && ![EXCHANGE_PATH, DEBUG_PATH, BUSINESSES_PATH].some((p) => p.test(path)))
        return false;
      else if (await helpers.outage(req, res)) return true;
      else if (EXCHANGE_PATH.test(path)) await exchange(req, res, url);
      else if (DEBUG_PATH.test(path)) await debugToken(req, res, url);
      else if (BUSINESSES_PATH.test(path) && method === "GET") await listBusinesses(req, res, url);
      else if (PIXELS_PATH.test(path) && method === "GET") await listPixels(req, res, url, PIXELS_PATH.exec(path)![1]!);
      else return false;
      return true;
    },
    setBusinesses(list: SandboxBusiness[]): void {
      businesses = structuredClone(sandboxBusinessesSchema.parse(list));
    },
    issuedTokens: (): IssuedToken[] => [...issued.values()].map((t) => ({ ...t })),
    reset(): void {
      businesses = structuredClone(options.businesses ?? DEFAULT_BUSINESSES);
      codes.clear();
      issued.clear();
    },
  };
}
