// Shopify's session table, with its tokens sealed. An offline Admin API token (read_orders)
// reads every customer of the shop, so the Session row holds it sealed like a Meta token
// (purpose "shopify-session", bound to the session's shop); Shopify's library still sees plain
// sessions in memory. Rows written before sealing load as they are and are sealed on the next
// store, or by `capi rotate-key`.
import { PrismaSessionStorage, type PrismaSessionStorageInterface } from "@shopify/shopify-app-session-storage-prisma";
import type { PrismaClient } from "@prisma/client";
import { Session } from "@shopify/shopify-api";
import type { Database } from "../db/client.server";
import {
  isSealed,
  isSealedUnderCurrentKey,
  openSecret,
  sealSecret,
  VaultError,
  type SealContext,
  type VaultKeyInput,
} from "../security/token-vault";
import type { ResealCounts } from "../pipeline/destinations.server";

const sealContext = (shop: string): SealContext => ({ purpose: "shopify-session", shop });

/** A copy of the session whose tokens are sealed; the caller's session is left plain. */
export function sealSession(session: Session, keys: VaultKeyInput): Session {
  const seal = (value: string | undefined) =>
    value && !isSealed(value) ? sealSecret(value, sealContext(session.shop), keys) : value;
  return new Session({
    ...session.toObject(),
    accessToken: seal(session.accessToken),
    refreshToken: seal(session.refreshToken),
  });
}

/** Opens a loaded session's tokens in place; clear ones (older rows) stay as they are. */
export function openSession(session: Session, keys: VaultKeyInput): Session {
  const open = (value: string | undefined) =>
    value && isSealed(value) ? openSecret(value, sealContext(session.shop), keys) : value;
  session.accessToken = open(session.accessToken);
  session.refreshToken = open(session.refreshToken);
  return session;
}

/**
 * A session no key opens (ENCRYPTION_KEY changed without ENCRYPTION_KEY_PREVIOUS) counts as no
 * session: the next admin page load trades a new token through token exchange. The key is
 * read only when there is something sealed to open.
 */
function openOrForget(session: Session | undefined, keys: () => VaultKeyInput): Session | undefined {
  if (!session) return undefined;
  if (![session.accessToken, session.refreshToken].some((v) => v && isSealed(v))) return session;
  try {
    return openSession(session, keys());
  } catch (error) {
    if (error instanceof VaultError) return undefined;
    throw error;
  }
}

/**
 * A session as Shopify's library is given it. It carries no refresh token: with expiring
 * offline tokens the library renews a token it finds near its expiry wherever it loads one,
 * webhooks included, so every webhook of a burst would spend the same single-use refresh token
 * at once, uncoordinated with the workers, and a refused renewal would answer the webhook 500.
 * Renewal belongs to app/shopify/offline-token.server.ts alone (one at a time per shop, refusals
 * recorded); the admin pages renew through token exchange, which needs no refresh token. And a
 * non-expiring offline token (stored before the app asked for expiring ones) is shown as
 * expired: the library would otherwise keep it for ever, and Shopify refuses such tokens from
 * 1 January 2027; so the merchant's next visit trades it for an expiring pair. Webhooks and
 * the background renewal read the row's own values and are not affected.
 */
function asTheLibrarySees(session: Session | undefined): Session | undefined {
  if (session) {
    session.refreshToken = undefined;
    session.refreshTokenExpires = undefined;
    if (!session.isOnline && !session.expires) session.expires = new Date(0);
  }
  return session;
}

/** Shopify's id of a shop's offline session (the library's getOfflineId for a non-custom app). */
export const offlineSessionId = (shop: string) => `offline_${shop}`;

type SessionRows = Pick<PrismaClient, "session">;

/**
 * The shop's offline session with its refresh token, straight from the table (no cache), for
 * the token renewal only. Undefined when there is none, or when no key opens it.
 */
export async function loadOfflineSession(
  prisma: SessionRows,
  shop: string,
  keys: VaultKeyInput,
): Promise<{ session: Session; sealed: { accessToken: string; refreshToken: string | null } } | undefined> {
  const row = await prisma.session.findUnique({ where: { id: offlineSessionId(shop) } });
  if (!row || row.shop !== shop) return undefined;
  const session = openOrForget(
    new Session({
      id: row.id,
      shop: row.shop,
      state: row.state,
      isOnline: false,
      scope: row.scope ?? undefined,
      expires: row.expires ?? undefined,
      accessToken: row.accessToken,
      refreshToken: row.refreshToken ?? undefined,
      refreshTokenExpires: row.refreshTokenExpires ?? undefined,
    }),
    () => keys,
  );
  return session && { session, sealed: { accessToken: row.accessToken, refreshToken: row.refreshToken } };
}

/**
 * Stores a renewed token pair in place of the one it was renewed from, sealed. False when the
 * row changed meanwhile (the merchant opened the app and token exchange stored a newer pair):
 * that pair stands.
 */
export async function replaceOfflineTokens(
  prisma: SessionRows,
  previous: { accessToken: string; refreshToken: string | null },
  renewed: Session,
  keys: VaultKeyInput,
): Promise<boolean> {
  const sealed = sealSession(renewed, keys);
  const { count } = await prisma.session.updateMany({
    where: {
      id: offlineSessionId(renewed.shop),
      accessToken: previous.accessToken,
      refreshToken: previous.refreshToken,
    },
    data: {
      accessToken: sealed.accessToken ?? "",
      expires: sealed.expires ?? null,
      refreshToken: sealed.refreshToken ?? null,
      refreshTokenExpires: sealed.refreshTokenExpires ?? null,
      ...(sealed.scope ? { scope: sealed.scope } : {}),
    },
  });
  return count === 1;
}

/**
 * Shopify's Prisma session storage, opened only once the schema is migrated. Constructed
 * early, PrismaSessionStorage probes the Session table at once and, on a fresh database,
 * logs errors and sleeps 5 s between probes while the migrations are still running.
 */
const SESSION_CACHE_MS = 5_000;

export class MigratedSessionStorage implements PrismaSessionStorageInterface {
  private readonly storage: Promise<PrismaSessionStorage<PrismaClient>>;
  /**
   * Every webhook makes Shopify's library load the shop's offline session, and a Prisma query
   * costs milliseconds of CPU under the offline query compiler: during a burst the same
   * session is read thousands of times. Reads are cached briefly; this process's own writes
   * and deletes update the cache at once, another process's within SESSION_CACHE_MS.
   */
  private readonly cache = new Map<string, { session: Session | undefined; at: number }>();

  /** `keys` is read on first use: the embedded default key is created in DATA_DIR then. */
  constructor(
    db: Database,
    private readonly keys: () => VaultKeyInput,
  ) {
    this.storage = db.ready.then(() => new PrismaSessionStorage(db.prisma));
    // Start-up reports a database that cannot be opened; this promise must not crash the process first.
    this.storage.catch(() => undefined);
  }

  async storeSession(session: Session): Promise<boolean> {
    this.cache.delete(session.id);
    return (await this.storage).storeSession(sealSession(session, this.keys()));
  }
  async loadSession(id: string): Promise<Session | undefined> {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < SESSION_CACHE_MS) return hit.session;
    const session = asTheLibrarySees(openOrForget(await (await this.storage).loadSession(id), this.keys));
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, { session, at: Date.now() });
    return session;
  }
  async deleteSession(id: string): Promise<boolean> {
    this.cache.delete(id);
    return (await this.storage).deleteSession(id);
  }
  async deleteSessions(ids: string[]): Promise<boolean> {
    for (const id of ids) this.cache.delete(id);
    return (await this.storage).deleteSessions(ids);
  }
  async findSessionsByShop(shop: string): Promise<Session[]> {
    const sessions = await (await this.storage).findSessionsByShop(shop);
    return sessions
      .map((s) => asTheLibrarySees(openOrForget(s, this.keys)))
      .filter((s): s is Session => s !== undefined);
  }
  async isReady(): Promise<boolean> {
    try {
      return await (await this.storage).isReady();
    } catch {
      return false;
    }
  }
}

/**
 * `capi rotate-key`: every session token sealed under the current key, clear ones included.
 * A row stored meanwhile is left alone: the update matches the values read.
 */
export async function resealSessionTokens(prisma: PrismaClient, keys: VaultKeyInput): Promise<ResealCounts> {
  const counts: ResealCounts = { resealed: 0, current: 0, unreadable: 0 };
  const rows = await prisma.session.findMany({
    select: { id: true, shop: true, accessToken: true, refreshToken: true },
  });
  for (const row of rows) {
    const values = [row.accessToken, row.refreshToken].filter((v): v is string => !!v);
    if (values.every((v) => isSealedUnderCurrentKey(v, keys))) {
      counts.current++;
      continue;
    }
    const reseal = (value: string | null) =>
      value
        ? sealSecret(
            isSealed(value) ? openSecret(value, sealContext(row.shop), keys) : value,
            sealContext(row.shop),
            keys,
          )
        : value;
    let data: { accessToken: string; refreshToken: string | null };
    try {
      data = { accessToken: reseal(row.accessToken) ?? "", refreshToken: reseal(row.refreshToken) };
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      counts.unreadable++;
      continue;
    }
    const { count } = await prisma.session.updateMany({
      where: { id: row.id, accessToken: row.accessToken, refreshToken: row.refreshToken },
      data,
    });
    counts.resealed += count;
  }
  return counts;
}
