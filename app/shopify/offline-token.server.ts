// The one way background work reaches a shop's Admin API: a usable offline token, renewed
// before use when it is about to expire (app/shopify/offline-token.ts says when), one renewal
// at a time per shop across every worker process (a refresh token is spent by its use: two
// workers renewing at once would leave one of them holding a dead pair), the new pair stored
// sealed, and a call Shopify answers 401 mid-run retried once with a renewed token. A renewal
// Shopify refuses for good stops the shop's background work with the reason recorded on its
// Shop row, until the merchant opens the app again (afterAuth clears it: handleInstalled).
import type { Prisma, PrismaClient } from "@prisma/client";
import type { Session } from "@shopify/shopify-api";
import { z } from "zod";
import type { VaultKeyInput } from "../security/token-vault";
import type { AdminGraphql } from "./admin-graphql";
import type { OfflineGrants } from "./offline-grants.server";
import {
  AccessTokenRejected,
  GrantRefused,
  grantVerdict,
  OFFLINE_TOKEN_REFRESH_MARGIN_MS,
  planOfflineToken,
  type StoredOfflineToken,
} from "./offline-token";
import { loadOfflineSession, offlineSessionId, replaceOfflineTokens } from "./session-storage.server";

/** The shop's background work is stopped: Shopify will not renew its token. */
export class OfflineAccessLost extends Error {
  constructor(
    readonly shop: string,
    readonly reason: string,
  ) {
    super(`${shop}: offline access lost: ${reason}`);
    this.name = "OfflineAccessLost";
  }
}

export interface OfflineAccessDeps {
  prisma: PrismaClient;
  grants: OfflineGrants;
  keys: () => VaultKeyInput;
  now?: () => Date;
  marginMs?: number;
  log?: (line: string) => void;
}

/** Advisory lock class of token renewals (the object is the shop's hash); the migrations use a one-key lock. */
const RENEWAL_LOCK_CLASS = 727275;

/**
 * What the library's createSession built from Shopify's answer, checked before it replaces a
 * working pair: a token, and an expiry that lies ahead (it is 60 minutes).
 */
const renewedSchema = z.object({
  accessToken: z.string().min(1).max(1000),
  expires: z.date(),
  refreshToken: z.string().min(1).max(1000).optional(),
  refreshTokenExpires: z.date().optional(),
});

const storedToken = (session: Session): StoredOfflineToken => ({
  hasAccessToken: !!session.accessToken,
  expires: session.expires ?? null,
  hasRefreshToken: !!session.refreshToken,
  refreshTokenExpires: session.refreshTokenExpires ?? null,
});

type Renewal = { session: Session } | { lost: string } | { absent: true };

/**
 * The library's grant request has no time limit of its own; the transaction around it must end.
 * A request given up on may still have been answered: Shopify keeps accepting the stored refresh
 * token until its replacement is used, so the next run recovers.
 */
const GRANT_TIMEOUT_MS = 15_000;
async function bounded<T>(request: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GrantRefused({}, `no answer within ${GRANT_TIMEOUT_MS} ms`)), GRANT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([request, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Renews under the shop's advisory lock, reading the row again once the lock is held: a worker
 * that waited finds the pair another one just stored and uses it. The transaction holds no row
 * lock, so the admin pages (token exchange) never wait on a renewal.
 */
async function renew(deps: OfflineAccessDeps, shop: string, rejectedToken?: string): Promise<Renewal> {
  const now = deps.now ?? (() => new Date());
  return deps.prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${RENEWAL_LOCK_CLASS}::int, hashtext(${shop}))`;
      const stored = await loadOfflineSession(tx, shop, deps.keys());
      if (!stored) return { absent: true } as const;
      const { session } = stored;
      const rejected = rejectedToken !== undefined && session.accessToken === rejectedToken;
      const plan = planOfflineToken(storedToken(session), now(), { marginMs: deps.marginMs, rejected });
      if (plan.action === "use") return { session };
      if (plan.action === "lost") return recordLost(tx, shop, plan.reason, now());
      let renewed: Session;
      try {
        renewed = await bounded(
          plan.action === "refresh"
            ? deps.grants.refresh(shop, session.refreshToken!)
            : deps.grants.migrate(shop, session.accessToken!),
        );
      } catch (error) {
        const verdict = grantVerdict(error instanceof GrantRefused ? error.answer : {});
        if (verdict.permanent) return recordLost(tx, shop, verdict.reason, now());
        throw new Error(`${verdict.reason}: ${(error as Error).message}`, { cause: error });
      }
      const checked = renewedSchema.safeParse(renewed);
      if (!checked.success || checked.data.expires.getTime() <= now().getTime())
        throw new Error(
          `${shop}: Shopify's token answer is unusable (no token or no expiry ahead); kept the stored pair`,
        );
      const replaced = await replaceOfflineTokens(tx, stored.sealed, renewed, deps.keys());
      deps.log?.(
        `${shop}: offline token ${plan.action === "refresh" ? "refreshed" : "traded for an expiring one"}` +
          (replaced ? "" : " (a newer pair was stored meanwhile and stands)"),
      );
      return { session: renewed };
    },
    // The renewal is one HTTP request; waiting for another worker's is bounded by lock_timeout.
    { timeout: 30_000, maxWait: 10_000 },
  );
}

/**
 * The stored pair is dead: its expiry is set to now and the refresh token dropped, so the next
 * admin page load trades a new pair by token exchange (the library does so for an expired
 * session only), and afterAuth resumes the work. Webhooks keep loading the session as before.
 */
async function recordLost(tx: Prisma.TransactionClient, shop: string, reason: string, now: Date): Promise<Renewal> {
  await tx.session.updateMany({
    where: { id: offlineSessionId(shop) },
    data: { expires: now, refreshToken: null, refreshTokenExpires: null },
  });
  await tx.shop.upsert({
    where: { shop },
    create: { shop, offlineAccessLostAt: now, offlineAccessLostReason: reason },
    update: { offlineAccessLostAt: now, offlineAccessLostReason: reason },
  });
  return { lost: reason };
}

async function usableSession(
  deps: OfflineAccessDeps,
  shop: string,
  rejectedToken?: string,
): Promise<Session | undefined> {
  const renewal = await renew(deps, shop, rejectedToken);
  if ("lost" in renewal) {
    deps.log?.(`${shop}: background work stopped: ${renewal.lost}`);
    throw new OfflineAccessLost(shop, renewal.lost);
  }
  return "session" in renewal ? renewal.session : undefined;
}

/** Why the shop's background work is stopped, or null when it is not. */
export async function offlineAccessLost(
  prisma: PrismaClient,
  shop: string,
): Promise<{ at: Date; reason: string } | null> {
  const row = await prisma.shop.findUnique({
    where: { shop },
    select: { offlineAccessLostAt: true, offlineAccessLostReason: true },
  });
  return row?.offlineAccessLostAt ? { at: row.offlineAccessLostAt, reason: row.offlineAccessLostReason ?? "" } : null;
}

/**
 * Admin GraphQL for the shop's background work, or undefined when it has none: no offline
 * session stored, or its access lost (recorded; nothing is asked of Shopify until the merchant
 * opens the app). Each call renews the token first when it is about to expire; a call answered
 * 401 is retried once with a renewed token. A renewal refused for good throws OfflineAccessLost.
 */
export async function offlineAdminGraphql(deps: OfflineAccessDeps, shop: string): Promise<AdminGraphql | undefined> {
  if (await offlineAccessLost(deps.prisma, shop)) return undefined;
  const now = deps.now ?? (() => new Date());
  let session = await usableSession(deps, shop);
  if (!session) {
    deps.log?.(`${shop}: no readable offline session stored; background work waits for the merchant to open the app`);
    return undefined;
  }
  const current = async (): Promise<Session> => {
    const plan = planOfflineToken(storedToken(session!), now(), {
      marginMs: deps.marginMs ?? OFFLINE_TOKEN_REFRESH_MARGIN_MS,
    });
    if (plan.action !== "use") session = await usableSession(deps, shop);
    if (!session) throw new Error(`${shop}: the offline session is gone (app uninstalled?)`);
    return session;
  };
  return async (query, variables) => {
    const used = await current();
    try {
      return await deps.grants.graphql(used)(query, variables);
    } catch (error) {
      if (!(error instanceof AccessTokenRejected)) throw error;
      // Expired early or revoked: a renewed token tells which. A second 401 fails this run only.
      session = await usableSession(deps, shop, used.accessToken);
      if (!session) throw error;
      return deps.grants.graphql(session)(query, variables);
    }
  };
}
