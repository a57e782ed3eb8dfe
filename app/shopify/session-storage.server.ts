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
    const session = openOrForget(await (await this.storage).loadSession(id), this.keys);
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
    return sessions.map((s) => openOrForget(s, this.keys)).filter((s): s is Session => s !== undefined);
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
