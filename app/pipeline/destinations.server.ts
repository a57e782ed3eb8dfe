// A shop's Meta destination: saving it (token sealed), reading it for the worker (token
// opened), pausing it when Meta refuses the token (or this app can no longer open it) and
// resuming when the merchant replaces it.
import type { PrismaClient } from "@prisma/client";
import { z } from "zod";
import { API_VERSION_PATTERN, DEFAULT_API_VERSION } from "../meta/api-version";
import {
  isSealedUnderCurrentKey,
  openSecret,
  sealSecret,
  tokenFingerprint,
  VaultError,
  type SealContext,
  type VaultKeyInput,
} from "../security/token-vault";
import { vaultKeys } from "../security/vault-key.server";
import { setPendingState } from "./event-store.server";
import { PIXEL_ID_PATTERN } from "../meta/pixel-id";
import { TEST_EVENT_CODE_PATTERN } from "../meta/test-event-code";

export const destinationInputSchema = z.object({
  pixelId: z.string().trim().regex(PIXEL_ID_PATTERN, "a pixel (dataset) ID is the number shown in Events Manager"),
  accessToken: z.string().trim().min(20, "paste the whole access token from Events Manager").optional(),
  testEventCode: z.string().trim().regex(TEST_EVENT_CODE_PATTERN, "a test event code looks like TEST12345").nullish(),
  apiVersion: z.string().regex(API_VERSION_PATTERN, "an API version looks like v24.0").optional(),
});
export type DestinationInput = z.input<typeof destinationInputSchema>;

const sealContext = (shop: string): SealContext => ({ purpose: "meta-access-token", shop });

/** Why app/uninstalled paused a destination and its events: the next install (or saving the pixel again) resumes them. */
export const UNINSTALLED_REASON = "app uninstalled";

/** Why a destination whose token no key opens is paused: the same words on the pixel and its events. */
export const UNREADABLE_TOKEN_REASON = "the app can no longer read the access token (the encryption key changed)";
export const UNREADABLE_TOKEN_MESSAGE =
  "Your Meta access token can no longer be read by the app (the encryption key changed). Reconnect it: paste your access token under Meta pixel below and save. Events are kept and will be sent once you do.";

export interface OpenDestination {
  shop: string;
  pixelId: string;
  accessToken: string;
  testEventCode: string | null;
  apiVersion: string;
  pausedAt: Date | null;
  pauseReason: string | null;
  slowUntil: Date | null;
}

export async function saveDestination(
  prisma: PrismaClient,
  shop: string,
  input: DestinationInput,
  key: VaultKeyInput = vaultKeys(),
  now = new Date(),
): Promise<void> {
  const data = destinationInputSchema.parse(input);
  const existing = await prisma.destination.findUnique({ where: { shop } });
  if (!existing && !data.accessToken) throw new Error("an access token is required to connect a pixel");
  const fingerprint = data.accessToken ? tokenFingerprint(data.accessToken) : existing!.tokenFingerprint;
  // Pasting the same token again is the answer to a token the app could no longer read, and
  // saving the same pixel the merchant's answer to an uninstall's pause (the app is back).
  const tokenChanged =
    !existing ||
    existing.tokenFingerprint !== fingerprint ||
    existing.pixelId !== data.pixelId ||
    (!!data.accessToken && existing.pauseReason === UNREADABLE_TOKEN_REASON) ||
    existing.pauseReason === UNINSTALLED_REASON;
  const fields = {
    pixelId: data.pixelId,
    ...(data.accessToken
      ? { accessTokenEnc: sealSecret(data.accessToken, sealContext(shop), key), tokenFingerprint: fingerprint }
      : {}),
    ...(data.testEventCode !== undefined ? { testEventCode: data.testEventCode || null } : {}),
    ...(data.apiVersion ? { apiVersion: data.apiVersion } : {}),
    // A new token or pixel is the merchant's answer to a pause: try again.
    ...(tokenChanged ? { pausedAt: null, pauseReason: null, pauseMessage: null } : {}),
  };
  await prisma.shop.upsert({ where: { shop }, create: { shop }, update: { uninstalledAt: null } });
  if (existing) await prisma.destination.update({ where: { shop }, data: fields });
  else
    await prisma.destination.create({
      data: {
        shop,
        accessTokenEnc: sealSecret(data.accessToken!, sealContext(shop), key),
        tokenFingerprint: fingerprint,
        apiVersion: data.apiVersion ?? DEFAULT_API_VERSION,
        ...fields,
      },
    });
  if (tokenChanged) {
    await setPendingState(
      prisma,
      shop,
      ["paused"],
      "queued",
      existing ? "destination changed: resumed" : "pixel connected",
      now,
    );
    await prisma.event.updateMany({
      where: { shop, state: { in: ["queued", "retrying", "paused"] } },
      data: { pixelId: data.pixelId },
    });
  }
}

/** Throws VaultError when no key opens the token (see pauseUnreadableDestination). */
export async function openDestination(
  prisma: PrismaClient,
  shop: string,
  key: VaultKeyInput = vaultKeys(),
): Promise<OpenDestination | undefined> {
  const row = await prisma.destination.findUnique({ where: { shop } });
  if (!row) return undefined;
  return {
    shop,
    pixelId: row.pixelId,
    accessToken: openSecret(row.accessTokenEnc, sealContext(shop), key),
    testEventCode: row.testEventCode,
    apiVersion: row.apiVersion,
    pausedAt: row.pausedAt,
    pauseReason: row.pauseReason,
    slowUntil: row.slowUntil,
  };
}

export async function pauseDestination(
  prisma: PrismaClient,
  shop: string,
  reason: string,
  message: string,
  now: Date,
): Promise<void> {
  await prisma.destination.updateMany({
    where: { shop },
    data: { pausedAt: now, pauseReason: reason, pauseMessage: message },
  });
  await setPendingState(prisma, shop, ["queued", "retrying"], "paused", reason, now);
}

/**
 * A token no key opens will not open on the next try either: the pixel is paused with words
 * the merchant can act on, instead of the worker failing every sweep while events wait
 * `queued` for ever. Already paused, only late arrivals join the paused events (as in the
 * worker's paused path). Returns whether this call paused it.
 */
export async function pauseUnreadableDestination(prisma: PrismaClient, shop: string, now: Date): Promise<boolean> {
  const row = await prisma.destination.findUnique({ where: { shop }, select: { pausedAt: true, pauseReason: true } });
  if (!row) return false;
  if (!row.pausedAt) {
    await pauseDestination(prisma, shop, UNREADABLE_TOKEN_REASON, UNREADABLE_TOKEN_MESSAGE, now);
    return true;
  }
  await setPendingState(
    prisma,
    shop,
    ["queued", "retrying"],
    "paused",
    row.pauseReason ?? UNREADABLE_TOKEN_REASON,
    now,
    true,
  );
  return false;
}

/**
 * Pixels paused because no key opened their token, whose token opens now (the operator put the
 * right ENCRYPTION_KEY back): the cause is gone, so they resume without the merchant pasting
 * the token again. The worker's sweep runs this; a process with the wrong key changes nothing.
 */
export async function resumeReadableTokens(
  prisma: PrismaClient,
  key: VaultKeyInput | undefined,
  now: Date,
): Promise<string[]> {
  const paused = await prisma.destination.findMany({
    where: { pauseReason: UNREADABLE_TOKEN_REASON },
    select: { shop: true },
  });
  const resumed: string[] = [];
  for (const { shop } of paused) {
    try {
      await openDestination(prisma, shop, key);
    } catch (error) {
      if (error instanceof VaultError) continue;
      throw error;
    }
    if (await resumeDestination(prisma, shop, "the access token can be read again: resumed", now)) resumed.push(shop);
  }
  return resumed;
}

export interface ResealCounts {
  resealed: number;
  current: number;
  unreadable: number;
}

/**
 * `capi rotate-key`: every token sealed again under the current key (v1 values become v2).
 * A row written meanwhile by a merchant is left alone: the update matches the old value only.
 */
export async function resealDestinationTokens(prisma: PrismaClient, keys: VaultKeyInput): Promise<ResealCounts> {
  const counts: ResealCounts = { resealed: 0, current: 0, unreadable: 0 };
  const rows = await prisma.destination.findMany({ select: { shop: true, accessTokenEnc: true } });
  for (const row of rows) {
    if (isSealedUnderCurrentKey(row.accessTokenEnc, keys)) {
      counts.current++;
      continue;
    }
    let token: string;
    try {
      token = openSecret(row.accessTokenEnc, sealContext(row.shop), keys);
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      counts.unreadable++;
      continue;
    }
    const { count } = await prisma.destination.updateMany({
      where: { shop: row.shop, accessTokenEnc: row.accessTokenEnc },
      data: { accessTokenEnc: sealSecret(token, sealContext(row.shop), keys) },
    });
    counts.resealed += count;
  }
  return counts;
}

export async function slowDestination(prisma: PrismaClient, shop: string, until: Date): Promise<void> {
  await prisma.destination.updateMany({ where: { shop }, data: { slowUntil: until } });
}

/**
 * Resumes a paused destination and its paused events (the connection check passed for the
 * pixel and token it was paused with). Returns whether it was paused.
 */
export async function resumeDestination(
  prisma: PrismaClient,
  shop: string,
  detail: string,
  now: Date,
): Promise<boolean> {
  const { count } = await prisma.destination.updateMany({
    where: { shop, pausedAt: { not: null } },
    data: { pausedAt: null, pauseReason: null, pauseMessage: null },
  });
  if (count > 0) await setPendingState(prisma, shop, ["paused"], "queued", detail, now);
  return count > 0;
}

export interface StoredCheck {
  status: string;
  message: string | null;
  checkedAt: Date;
}

/**
 * A test event Meta counted (events_received >= 1) for `pixelId`: the admin's onboarding
 * checklist marks "test event seen" from it (app/admin/onboarding.server.ts).
 */
export async function recordTestEventSeen(
  prisma: PrismaClient,
  shop: string,
  pixelId: string,
  at: Date,
): Promise<void> {
  await prisma.destination.updateMany({ where: { shop }, data: { testEventAt: at, testEventPixelId: pixelId } });
}

/** The last connection check of the stored pixel and token (app/meta/connection-check.ts). */
export async function recordConnectionCheck(
  prisma: PrismaClient,
  shop: string,
  check: { status: string; message: string },
  now: Date,
): Promise<void> {
  await prisma.destination.updateMany({
    where: { shop },
    data: { checkedAt: now, checkStatus: check.status, checkMessage: check.message },
  });
}

export async function readConnectionCheck(prisma: PrismaClient, shop: string): Promise<StoredCheck | null> {
  const row = await prisma.destination.findUnique({
    where: { shop },
    select: { checkStatus: true, checkMessage: true, checkedAt: true },
  });
  if (!row?.checkStatus || !row.checkedAt) return null;
  return { status: row.checkStatus, message: row.checkMessage, checkedAt: row.checkedAt };
}
