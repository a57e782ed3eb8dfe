// Facebook Login for Business, the first way to connect a pixel: Meta's login dialog (with the
// app's login configuration, `config_id`, in place of scopes), the code exchanged server-side
// at /oauth/access_token, the token's expiry from /debug_token, and the two listings the
// merchant picks from (their businesses, then a business's pixels, which Meta calls datasets).
// Pure: requests are built and answers parsed here; app/pipeline/meta-login.server.ts sends
// them. Every answer is bounded: a listing of more than MAX_LISTED entries is cut, a name is
// cut at MAX_NAME_LENGTH, a token longer than MAX_TOKEN_LENGTH is refused.
import { z } from "zod";
import { parseMetaError, type MetaAnswer } from "./classify";
import { PIXEL_ID_PATTERN } from "./pixel-id";
import { appSecretProof, type GraphRequest } from "./request";

export const MAX_LISTED = 100;
export const MAX_NAME_LENGTH = 200;
export const MAX_TOKEN_LENGTH = 2048;

/** A Meta app id and a login configuration id are numbers, as the App Dashboard shows them. */
export const META_APP_ID_PATTERN = /^\d{1,20}$/;
export const BUSINESS_ID_PATTERN = /^\d{1,20}$/;

export interface LoginApp {
  appId: string;
  /** The login configuration made from the Conversions API template in the App Dashboard. */
  configId: string;
  /** Where this app's callback is: registered in the App Dashboard as a valid OAuth redirect URI. */
  redirectUri: string;
  apiVersion: string;
}

/** The login dialog the merchant is sent to (top level: Meta refuses to be shown in a frame). */
export function loginDialogUrl(dialogBaseUrl: string, app: LoginApp, state: string): string {
  const query = new URLSearchParams({
    client_id: app.appId,
    redirect_uri: app.redirectUri,
    state,
    config_id: app.configId,
    response_type: "code",
  });
  return `${dialogBaseUrl.replace(/\/+$/, "")}/${app.apiVersion}/dialog/oauth?${query.toString()}`;
}

const graphBase = (graphUrl: string, apiVersion: string) => `${graphUrl.replace(/\/+$/, "")}/${apiVersion}`;

/**
 * The code for a token. POST with a form body, so that the app secret never sits in a URL
 * (proxies and access logs keep URLs); Meta takes the same parameters either way.
 */
export function codeExchangeRequest(
  graphUrl: string,
  app: LoginApp & { appSecret: string },
  code: string,
): GraphRequest {
  return {
    url: `${graphBase(graphUrl, app.apiVersion)}/oauth/access_token`,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: app.appId,
      client_secret: app.appSecret,
      redirect_uri: app.redirectUri,
      code,
    }).toString(),
  };
}

/** What Meta knows of `token`, asked with the app's own token (`app id|app secret`, in the header). */
export function debugTokenRequest(
  graphUrl: string,
  app: { appId: string; appSecret: string; apiVersion: string },
  token: string,
): GraphRequest {
  return {
    url: `${graphBase(graphUrl, app.apiVersion)}/debug_token?${new URLSearchParams({ input_token: token })}`,
    method: "GET",
    headers: { authorization: `Bearer ${app.appId}|${app.appSecret}` },
  };
}

/** A listing's query; with the app secret set, the proof Meta asks of an app that requires it. */
function listQuery(token: string, appSecret: string | undefined): string {
  const query = new URLSearchParams({ fields: "id,name", limit: String(MAX_LISTED) });
  if (appSecret) query.set("appsecret_proof", appSecretProof(token, appSecret));
  return query.toString();
}

export interface ListingAccess {
  graphUrl: string;
  apiVersion: string;
  appSecret?: string;
}

/** The businesses the merchant granted this app in the dialog. */
export function businessesRequest(access: ListingAccess, token: string): GraphRequest {
  return {
    url: `${graphBase(access.graphUrl, access.apiVersion)}/me/businesses?${listQuery(token, access.appSecret)}`,
    method: "GET",
    headers: { authorization: `Bearer ${token}` },
  };
}

/** The pixels (datasets) a business owns or was given access to (`/{business}/adspixels`). */
export function businessPixelsRequest(access: ListingAccess, token: string, businessId: string): GraphRequest {
  if (!BUSINESS_ID_PATTERN.test(businessId)) throw new RangeError("a business id is a number");
  return {
    url: `${graphBase(access.graphUrl, access.apiVersion)}/${businessId}/adspixels?${listQuery(token, access.appSecret)}`,
    method: "GET",
    headers: { authorization: `Bearer ${token}` },
  };
}

const boundedName = z
  .string()
  .optional()
  .transform((name) => (name ?? "").slice(0, MAX_NAME_LENGTH));

export const tokenExchangeAnswerSchema = z.object({
  access_token: z.string().min(20).max(MAX_TOKEN_LENGTH),
  token_type: z.string().max(40).optional(),
  expires_in: z.number().int().nonnegative().optional(),
});

const epochSeconds = z.number().int().nonnegative();

export const debugTokenAnswerSchema = z.object({
  data: z.object({
    app_id: z.union([z.string(), z.number()]).transform(String),
    is_valid: z.boolean(),
    /** 0: the token does not expire. */
    expires_at: epochSeconds.optional(),
    /** When the app's access to the data ends unless the merchant uses it again; 0 or absent: not set. */
    data_access_expires_at: epochSeconds.optional(),
    type: z.string().max(40).optional(),
    scopes: z.array(z.string().max(100)).max(200).optional(),
  }),
});
export type DebugTokenAnswer = z.infer<typeof debugTokenAnswerSchema>;

const listEntry = <T extends z.ZodType<string>>(id: T) => z.object({ id, name: boundedName });
const listSchema = <T extends z.ZodType<string>>(id: T) =>
  z.object({
    // Entries beyond the bound are dropped before they are parsed.
    data: z.preprocess((v) => (Array.isArray(v) ? v.slice(0, MAX_LISTED) : v), z.array(listEntry(id))),
  });
export const businessesAnswerSchema = listSchema(z.string().regex(BUSINESS_ID_PATTERN));
export const pixelsAnswerSchema = listSchema(z.string().regex(PIXEL_ID_PATTERN));
export interface Listed {
  id: string;
  name: string;
}

/** Why a login could not go on, each told to the merchant with what to do (LOGIN_PROBLEM_MESSAGES). */
export const LOGIN_PROBLEMS = [
  "denied",
  "state",
  "expired",
  "meta-unreachable",
  "meta-refused",
  "wrong-app",
  "no-business",
  "no-pixel",
] as const;
export type LoginProblem = (typeof LOGIN_PROBLEMS)[number];

const AGAIN = "Press Connect with Meta to start again.";
const again = "press Connect with Meta to start again";
export const LOGIN_PROBLEM_MESSAGES: Record<LoginProblem, string> = {
  denied: `You cancelled on Facebook, so nothing was connected. Press Connect with Meta and choose Continue, or paste a Conversions API access token in Settings instead.`,
  state: `This sign-in did not start from this app, or was already used, so it was not accepted. ${AGAIN}`,
  expired: `The sign-in took too long and has expired (it is kept for one hour). ${AGAIN}`,
  "meta-unreachable": `Meta could not be reached to finish the sign-in. Wait a minute, then ${again}.`,
  "meta-refused": `Meta did not accept the sign-in. ${AGAIN} If it keeps failing, paste a Conversions API access token in Settings instead.`,
  "wrong-app": `Meta gave a sign-in for another app, so it was not used. ${AGAIN}`,
  "no-business": `Your Facebook account gave this app no business. Press Connect with Meta again and, on Facebook, choose the business that owns your pixel.`,
  "no-pixel": `This business has no pixel (dataset) this app can use. Create one in Events Manager, or ${again} and give access to the business that owns it.`,
};

export const loginCallbackSchema = z.object({
  state: z.string().min(1).max(512).optional(),
  code: z.string().min(1).max(2048).optional(),
  error: z.string().max(200).optional(),
  error_reason: z.string().max(200).optional(),
});

export type LoginCallback =
  | { kind: "code"; state: string; code: string }
  | { kind: "denied"; state: string }
  | { kind: "refused"; state?: string; reason: string }
  | { kind: "malformed" };

/** What Meta's redirect to the callback says: a code, the merchant's No, or Meta's own error. */
export function readLoginCallback(query: URLSearchParams): LoginCallback {
  const parsed = loginCallbackSchema.safeParse(Object.fromEntries(query.entries()));
  if (!parsed.success) return { kind: "malformed" };
  const { state, code, error, error_reason } = parsed.data;
  if (!state) return error ? { kind: "refused", reason: error } : { kind: "malformed" };
  if (error) {
    // Meta sends error=access_denied, error_reason=user_denied when the merchant cancels.
    if (error === "access_denied" || error_reason === "user_denied") return { kind: "denied", state };
    return { kind: "refused", state, reason: `${error}${error_reason ? ` (${error_reason})` : ""}` };
  }
  return code ? { kind: "code", state, code } : { kind: "malformed" };
}

export type GraphRead<T> =
  | { ok: true; value: T }
  | { ok: false; problem: Extract<LoginProblem, "meta-unreachable" | "meta-refused">; reason: string };

/** One Graph answer to a login call, parsed with `schema`, or why not. */
export function readGraphAnswer<T>(answer: MetaAnswer, schema: z.ZodType<T>): GraphRead<T> {
  if (answer.kind === "transport") return { ok: false, problem: "meta-unreachable", reason: answer.error };
  if (answer.status >= 200 && answer.status < 300) {
    const parsed = schema.safeParse(answer.body);
    return parsed.success
      ? { ok: true, value: parsed.data }
      : { ok: false, problem: "meta-refused", reason: `HTTP ${answer.status}: an answer the app does not understand` };
  }
  const error = parseMetaError(answer.body);
  if (answer.status >= 500 || error?.is_transient || error?.code === 1 || error?.code === 2)
    return { ok: false, problem: "meta-unreachable", reason: `HTTP ${answer.status}` };
  return {
    ok: false,
    problem: "meta-refused",
    reason: error
      ? `Meta error ${error.code}${error.error_subcode ? `/${error.error_subcode}` : ""}`
      : `HTTP ${answer.status}`,
  };
}

export type TokenFacts =
  | { ok: true; expiresAt: Date | null }
  | { ok: false; problem: Extract<LoginProblem, "wrong-app" | "meta-refused">; reason: string };

/**
 * When the token stops working, from debug_token: the earlier of `expires_at` (the token's own
 * end: a user token from Facebook Login lives about 60 days) and `data_access_expires_at` (the
 * app's access to the data, which ends when the merchant has not used it for a while); 0 or
 * absent means no end. A token of another app, or one Meta says is not valid, is refused.
 */
export function tokenFacts(answer: DebugTokenAnswer, appId: string): TokenFacts {
  const { data } = answer;
  if (data.app_id !== appId) return { ok: false, problem: "wrong-app", reason: `token of app ${data.app_id}` };
  if (!data.is_valid) return { ok: false, problem: "meta-refused", reason: "debug_token: is_valid false" };
  const ends = [data.expires_at, data.data_access_expires_at].filter((s): s is number => !!s && s > 0);
  return { ok: true, expiresAt: ends.length ? new Date(Math.min(...ends) * 1000) : null };
}
