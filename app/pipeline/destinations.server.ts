// A shop's Meta destinations (one per pixel; a shop may have several): saving one (token
// sealed), reading it for the worker (token opened), pausing it when Meta refuses the token (or
// this app can no longer open it) and resuming when the merchant replaces it. Each has its own
// copy of every event (Event.destinationId) and its own pause: one pixel's revoked token never
// holds back another's events.
import { randomUUID } from "node:crypto";
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
import { adoptWaitingEvents, setPendingState } from "./event-store.server";
import { PIXEL_ID_PATTERN } from "../meta/pixel-id";
import { TEST_EVENT_CODE_PATTERN } from "../meta/test-event-code";

/** The Meta events a destination can receive (Destination.events). */
export const DESTINATION_EVENTS = ["Purchase", "InitiateCheckout"] as const;
export type DestinationEvent = (typeof DESTINATION_EVENTS)[number];
export const CONNECTED_VIA = ["facebook-login", "pasted-token"] as const;
export type ConnectedVia = (typeof CONNECTED_VIA)[number];

export const destinationInputSchema = z.object({
  /** The destination to change; without it, the shop's destination of `pixelId`, else a new one. */
  id: z.string().uuid().optional(),
  label: z.string().trim().max(60, "a name of at most 60 characters").nullish(),
  events: z.array(z.enum(DESTINATION_EVENTS)).min(1, "choose at least one event to send").optional(),
  sendTestOrders: z.boolean().optional(),
  pixelId: z.string().trim().regex(PIXEL_ID_PATTERN, "a pixel (dataset) ID is the number shown in Events Manager"),
  accessToken: z.string().trim().min(20, "paste the whole access token from Events Manager").optional(),
  testEventCode: z.string().trim().regex(TEST_EVENT_CODE_PATTERN, "a test event code looks like TEST12345").nullish(),
  apiVersion: z.string().regex(API_VERSION_PATTERN, "an API version looks like v24.0").optional(),
  // How a new token came, and when Meta stops accepting it (Connect with Meta knows; a pasted
  // token's end is unknown). Written only with a new token.
  connectedVia: z.enum(CONNECTED_VIA).optional(),
  tokenExpiresAt: z.date().nullish(),
});
export type DestinationInput = z.input<typeof destinationInputSchema>;

const sealContext = (shop: string): SealContext => ({ purpose: "meta-access-token", shop });

/** Why app/uninstalled paused a destination and its events: the next install (or saving the pixel again) resumes them. */
export const UNINSTALLED_REASON = "app uninstalled";

/** Why a destination whose token no key opens is paused: the same words on the pixel and its events. */
export const UNREADABLE_TOKEN_REASON = "the app can no longer read the access token (the encryption key changed)";
export const UNREADABLE_TOKEN_MESSAGE =
  "Your Meta access token can no longer be read by the app (the encryption key changed). Reconnect it: paste your access token under Meta pixel below and save. Events are kept and will be sent once you do.";

/** One destination of one shop: every query on a destination names both. */
export interface DestinationRef {
  shop: string;
  id: string;
}

export interface OpenDestination extends DestinationRef {
  pixelId: string;
  accessToken: string;
  testEventCode: string | null;
  apiVersion: string;
  pausedAt: Date | null;
  pauseReason: string | null;
  slowUntil: Date | null;
}

/** Thrown when the form names a destination the shop does not have, or a pixel it already has twice. */
export class DestinationConflictError extends Error {}

/** The shop's destination the input names (its id, else its pixel), if it has one. */
export async function findDestination(prisma: PrismaClient, shop: string, input: { id?: string; pixelId: string }) {
  if (input.id) {
    const row = await prisma.destination.findFirst({ where: { shop, id: input.id } });
    if (!row) throw new DestinationConflictError("this pixel is no longer connected; reload the page");
    return row;
  }
  return prisma.destination.findUnique({ where: { shop_pixelId: { shop, pixelId: input.pixelId } } });
}

/** Saves (creates or changes) one destination; returns its id. */
export async function saveDestination(
  prisma: PrismaClient,
  shop: string,
  input: DestinationInput,
  key: VaultKeyInput = vaultKeys(),
  now = new Date(),
): Promise<string> {
  const data = destinationInputSchema.parse(input);
  const existing = await findDestination(prisma, shop, data);
  if (!existing && !data.accessToken) throw new Error("an access token is required to connect a pixel");
  if (existing && existing.pixelId !== data.pixelId) {
    const taken = await prisma.destination.findUnique({
      where: { shop_pixelId: { shop, pixelId: data.pixelId } },
      select: { id: true },
    });
    if (taken) throw new DestinationConflictError(`pixel ${data.pixelId} is already connected`);
  }
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
      ? {
          accessTokenEnc: sealSecret(data.accessToken, sealContext(shop), key),
          tokenFingerprint: fingerprint,
          connectedVia: data.connectedVia ?? "pasted-token",
          tokenExpiresAt: data.tokenExpiresAt ?? null,
        }
      : {}),
    ...(data.testEventCode !== undefined ? { testEventCode: data.testEventCode || null } : {}),
    ...(data.apiVersion ? { apiVersion: data.apiVersion } : {}),
    ...(data.label !== undefined ? { label: data.label || null } : {}),
    ...(data.events ? { events: [...data.events] } : {}),
    ...(data.sendTestOrders !== undefined ? { sendTestOrders: data.sendTestOrders } : {}),
    // A new token or pixel is the merchant's answer to a pause: try again.
    ...(tokenChanged ? { pausedAt: null, pauseReason: null, pauseMessage: null } : {}),
  };
  await prisma.shop.upsert({ where: { shop }, create: { shop }, update: { uninstalledAt: null } });
  const id = existing?.id ?? randomUUID();
  if (existing) await prisma.destination.update({ where: { id }, data: fields });
  else {
    await prisma.destination.create({
      data: {
        id,
        shop,
        accessTokenEnc: sealSecret(data.accessToken!, sealContext(shop), key),
        tokenFingerprint: fingerprint,
        apiVersion: data.apiVersion ?? DEFAULT_API_VERSION,
        ...fields,
      },
    });
    // Events that arrived before any pixel was connected wait for the first one.
    await adoptWaitingEvents(prisma, shop, { id, pixelId: data.pixelId }, now);
  }
  if (tokenChanged && existing) {
    await setPendingState(
      prisma,
      { shop, destinationId: id },
      ["paused"],
      "queued",
      "destination changed: resumed",
      now,
    );
    await prisma.event.updateMany({
      where: { shop, destinationId: id, state: { in: ["queued", "retrying", "paused"] } },
      data: { pixelId: data.pixelId },
    });
  }
  return id;
}

/**
 * Removes a destination. Its events not sent yet stay, paused with the reason (nothing is
 * lost silently; retention removes them as any other); sent ones keep their history.
 */
export async function removeDestination(prisma: PrismaClient, ref: DestinationRef, now: Date): Promise<boolean> {
  const { count } = await prisma.destination.deleteMany({ where: { shop: ref.shop, id: ref.id } });
  if (count === 0) return false;
  await setPendingState(
    prisma,
    { shop: ref.shop, destinationId: ref.id },
    ["queued", "retrying", "paused"],
    "paused",
    REMOVED_REASON,
    now,
    true,
  );
  return true;
}

/** Why the events of a removed destination were never sent. */
export const REMOVED_REASON = "the pixel was removed from the app: not sent";

/** The shop's destinations, oldest first, without their tokens (the admin, ingest, status). */
export function listDestinations(prisma: PrismaClient, shop: string) {
  return prisma.destination.findMany({
    where: { shop },
    orderBy: [{ createdAt: "asc" }, { pixelId: "asc" }],
    select: {
      id: true,
      pixelId: true,
      label: true,
      events: true,
      sendTestOrders: true,
      testEventCode: true,
      apiVersion: true,
      pausedAt: true,
      pauseReason: true,
      pauseMessage: true,
      checkedAt: true,
      checkStatus: true,
      checkMessage: true,
      testEventAt: true,
      testEventPixelId: true,
      connectedVia: true,
      tokenExpiresAt: true,
      updatedAt: true,
    },
  });
}
export type DestinationSummary = Awaited<ReturnType<typeof listDestinations>>[number];

/** Throws VaultError when no key opens the token (see pauseUnreadableDestination). */
export async function openDestination(
  prisma: PrismaClient,
  ref: DestinationRef,
  key: VaultKeyInput = vaultKeys(),
): Promise<OpenDestination | undefined> {
  const row = await prisma.destination.findFirst({ where: { shop: ref.shop, id: ref.id } });
  if (!row) return undefined;
  const { shop } = row;
  return {
    shop,
    id: row.id,
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
  ref: DestinationRef,
  reason: string,
  message: string,
  now: Date,
): Promise<void> {
  await prisma.destination.updateMany({
    where: { shop: ref.shop, id: ref.id },
    data: { pausedAt: now, pauseReason: reason, pauseMessage: message },
  });
  await setPendingState(prisma, scopeOf(ref), ["queued", "retrying"], "paused", reason, now);
}

const scopeOf = (ref: DestinationRef) => ({ shop: ref.shop, destinationId: ref.id });

/**
 * A token no key opens will not open on the next try either: the pixel is paused with words
 * the merchant can act on, instead of the worker failing every sweep while events wait
 * `queued` for ever. Already paused, only late arrivals join the paused events (as in the
 * worker's paused path). Returns the pixel id when this call paused it.
 */
export async function pauseUnreadableDestination(
  prisma: PrismaClient,
  ref: DestinationRef,
  now: Date,
): Promise<string | undefined> {
  const row = await prisma.destination.findFirst({
    where: { shop: ref.shop, id: ref.id },
    select: { pixelId: true, pausedAt: true, pauseReason: true },
  });
  if (!row) return undefined;
  if (!row.pausedAt) {
    await pauseDestination(prisma, ref, UNREADABLE_TOKEN_REASON, UNREADABLE_TOKEN_MESSAGE, now);
    return row.pixelId;
  }
  await setPendingState(
    prisma,
    scopeOf(ref),
    ["queued", "retrying"],
    "paused",
    row.pauseReason ?? UNREADABLE_TOKEN_REASON,
    now,
    true,
  );
  return undefined;
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
): Promise<DestinationRef[]> {
  const paused = await prisma.destination.findMany({
    where: { pauseReason: UNREADABLE_TOKEN_REASON },
    select: { shop: true, id: true },
  });
  const resumed: DestinationRef[] = [];
  for (const ref of paused) {
    try {
      await openDestination(prisma, ref, key);
    } catch (error) {
      if (error instanceof VaultError) continue;
      throw error;
    }
    if (await resumeDestination(prisma, ref, "the access token can be read again: resumed", now)) resumed.push(ref);
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
  const rows = await prisma.destination.findMany({ select: { id: true, shop: true, accessTokenEnc: true } });
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
      where: { id: row.id, accessTokenEnc: row.accessTokenEnc },
      data: { accessTokenEnc: sealSecret(token, sealContext(row.shop), keys) },
    });
    counts.resealed += count;
  }
  return counts;
}

export async function slowDestination(prisma: PrismaClient, ref: DestinationRef, until: Date): Promise<void> {
  await prisma.destination.updateMany({ where: { shop: ref.shop, id: ref.id }, data: { slowUntil: until } });
}

/**
 * Resumes a paused destination and its paused events (the connection check passed for the
 * pixel and token it was paused with). Returns whether it was paused.
 */
export async function resumeDestination(
  prisma: PrismaClient,
  ref: DestinationRef,
  detail: string,
  now: Date,
): Promise<boolean> {
  const { count } = await prisma.destination.updateMany({
    where: { shop: ref.shop, id: ref.id, pausedAt: { not: null } },
    data: { pausedAt: null, pauseReason: null, pauseMessage: null },
  });
  if (count > 0) await setPendingState(prisma, scopeOf(ref), ["paused"], "queued", detail, now);
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
  ref: DestinationRef,
  pixelId: string,
  at: Date,
): Promise<void> {
  await prisma.destination.updateMany({
    where: { shop: ref.shop, id: ref.id },
    data: { testEventAt: at, testEventPixelId: pixelId },
  });
}

/** The last connection check of the stored pixel and token (app/meta/connection-check.ts). */
export async function recordConnectionCheck(
  prisma: PrismaClient,
  ref: DestinationRef,
  check: { status: string; message: string },
  now: Date,
): Promise<void> {
  await prisma.destination.updateMany({
    where: { shop: ref.shop, id: ref.id },
    data: { checkedAt: now, checkStatus: check.status, checkMessage: check.message },
  });
}

/** A destination row's last check, if it had one. */
export function storedCheck(row: {
  checkStatus: string | null;
  checkMessage: string | null;
  checkedAt: Date | null;
}): StoredCheck | null {
  if (!row.checkStatus || !row.checkedAt) return null;
  return { status: row.checkStatus, message: row.checkMessage, checkedAt: row.checkedAt };
}
