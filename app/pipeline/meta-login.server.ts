// Connect with Meta (Facebook Login for Business), the shell around app/meta/facebook-login.ts:
// - start: a MetaLogin row for the shop, whose random id, signed, is the dialog's `state`;
//   accepted by the callback for STATE_TTL_MS;
// - the callback (public, no Shopify session): the signature checked, the row claimed once
//   (a second use of the same state is refused), the code exchanged server-side, the token's
//   app and end read with debug_token, and the token stored sealed (bound to the shop) on the
//   row for PENDING_TTL_MS;
// - the merchant, back in the embedded admin, picks a business and a pixel read with that
//   token; the same connection check as a pasted token runs, then saveDestination stores it.
// A login is deleted once used (saved, cancelled, refused). Expired ones are deleted whenever a
// login starts or a callback arrives, and with the shop at shop/redact.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { env, type Env } from "../config/env.server";
import { DEFAULT_API_VERSION } from "../meta/api-version";
import {
  businessesAnswerSchema,
  businessesRequest,
  businessPixelsRequest,
  codeExchangeRequest,
  debugTokenAnswerSchema,
  debugTokenRequest,
  loginDialogUrl,
  pixelsAnswerSchema,
  readGraphAnswer,
  readLoginCallback,
  tokenExchangeAnswerSchema,
  tokenFacts,
  type GraphRead,
  type Listed,
  type LoginApp,
  type LoginProblem,
} from "../meta/facebook-login";
import { sendGraphRequest } from "../meta/graph-client.server";
import { keyRing, openSecret, sealSecret, VaultError, type VaultKeyInput } from "../security/token-vault";
import { vaultKeys } from "../security/vault-key.server";
import { connectDestination, type ConnectOutcome, type SaveDestination } from "./connection.server";

/** From pressing Connect with Meta to Meta's redirect: time to sign in to Facebook and choose. */
export const STATE_TTL_MS = 15 * 60_000;
/** From the redirect to the merchant's pick of a pixel. */
export const PENDING_TTL_MS = 60 * 60_000;
const LOGIN_CALL_TIMEOUT_MS = 10_000;

/** Everything the login needs; absent when the server has no Meta app configured. */
export interface LoginSetup extends LoginApp {
  appSecret: string;
  dialogUrl: string;
  graphUrl: string;
}

export function loginSetupFromEnv(settings: Env = env()): LoginSetup | undefined {
  const { META_APP_ID, META_APP_SECRET, META_LOGIN_CONFIG_ID } = settings;
  if (!META_APP_ID || !META_APP_SECRET || !META_LOGIN_CONFIG_ID) return undefined;
  return {
    appId: META_APP_ID,
    appSecret: META_APP_SECRET,
    configId: META_LOGIN_CONFIG_ID,
    redirectUri: `${settings.SHOPIFY_APP_URL.replace(/\/+$/, "")}/auth/meta/callback`,
    apiVersion: DEFAULT_API_VERSION,
    dialogUrl: settings.META_DIALOG_URL,
    graphUrl: settings.META_GRAPH_URL,
  };
}

/** Told to the merchant in Settings when the login cannot be offered (no secret names in it). */
export const LOGIN_NOT_CONFIGURED =
  "Connect with Meta is not set up on this server (it needs the app's Meta app ID, secret and login configuration), so paste a Conversions API access token instead.";

const pendingContext = (shop: string) => ({ purpose: "meta-pending-login" as const, shop });

// The state key is derived from the vault key, so that no second secret is needed and a state
// MAC can never be confused with anything else the key makes.
function stateMac(id: string, key: Buffer): Buffer {
  const stateKey = createHmac("sha256", key).update("capi-relay|meta-login-state-key").digest();
  return createHmac("sha256", stateKey).update(`capi-relay|meta-login-state|${id}`).digest();
}

export function signState(id: string, keys: VaultKeyInput): string {
  return `${id}.${stateMac(id, keyRing(keys).current).toString("base64url")}`;
}

/** The login id a state names, when this server signed it (under the current or previous key). */
export function verifyState(state: string, keys: VaultKeyInput): string | undefined {
  const match = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/.exec(state);
  if (!match) return undefined;
  const [, id, mac] = match as unknown as [string, string, string];
  const given = Buffer.from(mac, "base64url");
  const ring = keyRing(keys);
  for (const key of [ring.current, ...(ring.previous ? [ring.previous] : [])]) {
    if (timingSafeEqual(stateMac(id, key), given)) return id;
  }
  return undefined;
}

async function deleteExpiredLogins(prisma: PrismaClient, now: Date): Promise<void> {
  await prisma.metaLogin.deleteMany({ where: { expiresAt: { lte: now } } });
}

export interface LoginDeps {
  key?: VaultKeyInput;
  now?: Date;
}

/** A new login for `shop`: the dialog's URL, to be opened top level. */
export async function startLogin(
  prisma: PrismaClient,
  shop: string,
  setup: LoginSetup,
  deps: LoginDeps = {},
): Promise<{ dialogUrl: string }> {
  const now = deps.now ?? new Date();
  await deleteExpiredLogins(prisma, now);
  // One login at a time per shop: a new press of the button replaces an unfinished one, so
  // what the page shows after Meta's redirect is always this login's outcome.
  await discardLogins(prisma, shop);
  const id = randomBytes(32).toString("base64url");
  await prisma.metaLogin.create({
    data: { id, shop, createdAt: now, expiresAt: new Date(now.getTime() + STATE_TTL_MS) },
  });
  return { dialogUrl: loginDialogUrl(setup.dialogUrl, setup, signState(id, deps.key ?? vaultKeys())) };
}

export type CallbackOutcome =
  /** The token is waiting for the merchant's pick. */
  | { shop: string; problem?: undefined }
  /** `shop`: known when the state was ours; the merchant is sent back to its admin with the problem. */
  | { shop?: string; problem: LoginProblem; reason: string };

/** Meta's redirect: claims the state once, exchanges the code, keeps the token sealed for the shop. */
export async function finishLogin(
  prisma: PrismaClient,
  query: URLSearchParams,
  setup: LoginSetup,
  deps: LoginDeps & { timeoutMs?: number } = {},
): Promise<CallbackOutcome> {
  const now = deps.now ?? new Date();
  const keys = deps.key ?? vaultKeys();
  await deleteExpiredLogins(prisma, now);
  const callback = readLoginCallback(query);
  if (callback.kind === "malformed") return { problem: "state", reason: "callback without a state" };
  const id = callback.state ? verifyState(callback.state, keys) : undefined;
  if (!id) return { problem: "state", reason: "state not signed by this app" };
  const { count } = await prisma.metaLogin.updateMany({ where: { id, claimedAt: null }, data: { claimedAt: now } });
  const row = await prisma.metaLogin.findUnique({ where: { id }, select: { shop: true, expiresAt: true } });
  // Gone: used, or past its time and deleted above.
  if (!row) return { problem: "expired", reason: "no login under this state" };
  const { shop } = row;
  const fail = async (problem: LoginProblem, reason: string): Promise<CallbackOutcome> => {
    await prisma.metaLogin.deleteMany({ where: { id, shop } });
    return { shop, problem, reason };
  };
  if (count === 0) return { shop, problem: "state", reason: "state already used" };
  if (row.expiresAt <= now) return fail("expired", "state past its time");
  if (callback.kind === "denied") return fail("denied", "the merchant cancelled the dialog");
  if (callback.kind === "refused") return fail("meta-refused", callback.reason);

  const timeout = deps.timeoutMs ?? LOGIN_CALL_TIMEOUT_MS;
  const exchanged = readGraphAnswer(
    await sendGraphRequest(codeExchangeRequest(setup.graphUrl, setup, callback.code), timeout),
    tokenExchangeAnswerSchema,
  );
  if (!exchanged.ok) return fail(exchanged.problem, `code exchange: ${exchanged.reason}`);
  const token = exchanged.value.access_token;
  const debugged = readGraphAnswer(
    await sendGraphRequest(debugTokenRequest(setup.graphUrl, setup, token), timeout),
    debugTokenAnswerSchema,
  );
  if (!debugged.ok) return fail(debugged.problem, `debug_token: ${debugged.reason}`);
  const facts = tokenFacts(debugged.value, setup.appId);
  if (!facts.ok) return fail(facts.problem, facts.reason);
  await prisma.metaLogin.update({
    where: { id },
    data: {
      accessTokenEnc: sealSecret(token, pendingContext(shop), keys),
      tokenExpiresAt: facts.expiresAt,
      expiresAt: new Date(now.getTime() + PENDING_TTL_MS),
    },
  });
  return { shop };
}

export interface PendingLogin {
  id: string;
  accessToken: string;
  tokenExpiresAt: Date | null;
  expiresAt: Date;
}

/** The shop's latest login whose token is waiting for a pick; only ever that shop's. */
export async function readPendingLogin(
  prisma: PrismaClient,
  shop: string,
  deps: LoginDeps & { id?: string } = {},
): Promise<PendingLogin | undefined> {
  const now = deps.now ?? new Date();
  const row = await prisma.metaLogin.findFirst({
    where: { shop, ...(deps.id ? { id: deps.id } : {}), accessTokenEnc: { not: null }, expiresAt: { gt: now } },
    orderBy: { createdAt: "desc" },
  });
  if (!row?.accessTokenEnc) return undefined;
  try {
    return {
      id: row.id,
      accessToken: openSecret(row.accessTokenEnc, pendingContext(shop), deps.key ?? vaultKeys()),
      tokenExpiresAt: row.tokenExpiresAt,
      expiresAt: row.expiresAt,
    };
  } catch (error) {
    // Sealed under a key this process no longer has: as good as expired.
    if (error instanceof VaultError) return undefined;
    throw error;
  }
}

/** The merchant gave up (or starts over): the shop's logins are deleted. */
export async function discardLogins(prisma: PrismaClient, shop: string): Promise<void> {
  await prisma.metaLogin.deleteMany({ where: { shop } });
}

const LIST_TIMEOUT_MS = 10_000;

export async function listBusinesses(setup: LoginSetup, token: string): Promise<GraphRead<Listed[]>> {
  const read = readGraphAnswer(
    await sendGraphRequest(businessesRequest(setup, token), LIST_TIMEOUT_MS),
    businessesAnswerSchema,
  );
  return read.ok ? { ok: true, value: read.value.data } : read;
}

export async function listPixels(setup: LoginSetup, token: string, businessId: string): Promise<GraphRead<Listed[]>> {
  const read = readGraphAnswer(
    await sendGraphRequest(businessPixelsRequest(setup, token, businessId), LIST_TIMEOUT_MS),
    pixelsAnswerSchema,
  );
  return read.ok ? { ok: true, value: read.value.data } : read;
}

export type LoginConnectOutcome = ConnectOutcome | { saved: false; expired: true };

/**
 * The merchant's pick: the pending token of this shop's login `loginId`, checked with the
 * pixel as a pasted one is (connection.server.ts), and saved with its end. The login is
 * deleted once saved; after a refusal it stays, so that another pixel can be picked.
 */
export async function connectFromLogin(
  prisma: PrismaClient,
  shop: string,
  loginId: string,
  pixelId: string,
  setup: LoginSetup,
  deps: LoginDeps & { save: SaveDestination; timeoutMs?: number },
): Promise<LoginConnectOutcome> {
  const pending = await readPendingLogin(prisma, shop, { ...deps, id: loginId });
  if (!pending) return { saved: false, expired: true };
  const outcome = await connectDestination(
    prisma,
    shop,
    {
      pixelId,
      accessToken: pending.accessToken,
      connectedVia: "facebook-login",
      tokenExpiresAt: pending.tokenExpiresAt,
    },
    {
      meta: { graphUrl: setup.graphUrl, appSecret: setup.appSecret, timeoutMs: deps.timeoutMs },
      save: deps.save,
      key: deps.key,
      now: deps.now,
    },
  );
  if (outcome.saved) await prisma.metaLogin.deleteMany({ where: { id: pending.id, shop } });
  return outcome;
}
