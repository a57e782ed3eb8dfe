// A shop's Meta destination: saving it (token sealed), reading it for the worker (token
// opened), pausing it when Meta refuses the token and resuming when the merchant replaces it.
import type { PrismaClient } from "@prisma/client";
import { z } from "zod";
import { DEFAULT_API_VERSION } from "../meta/request";
import { decryptToken, encryptToken, tokenFingerprint } from "../security/token-vault";
import { vaultKey } from "../security/vault-key.server";
import { setPendingState } from "./event-store.server";
import { PIXEL_ID_PATTERN } from "../meta/pixel-id";

export const destinationInputSchema = z.object({
  pixelId: z.string().trim().regex(PIXEL_ID_PATTERN, "a pixel (dataset) ID is the number shown in Events Manager"),
  accessToken: z.string().trim().min(20, "paste the whole access token from Events Manager").optional(),
  testEventCode: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "a test event code looks like TEST12345")
    .nullish(),
  apiVersion: z.string().regex(/^v\d{2}\.0$/, "an API version looks like v24.0").optional(),
});
export type DestinationInput = z.input<typeof destinationInputSchema>;

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

export async function saveDestination(prisma: PrismaClient, shop: string, input: DestinationInput, key = vaultKey(), now = new Date()): Promise<void> {
  const data = destinationInputSchema.parse(input);
  const existing = await prisma.destination.findUnique({ where: { shop } });
  if (!existing && !data.accessToken) throw new Error("an access token is required to connect a pixel");
  const fingerprint = data.accessToken ? tokenFingerprint(data.accessToken) : existing!.tokenFingerprint;
  const tokenChanged = !existing || existing.tokenFingerprint !== fingerprint || existing.pixelId !== data.pixelId;
  const fields = {
    pixelId: data.pixelId,
    ...(data.accessToken ? { accessTokenEnc: encryptToken(data.accessToken, key), tokenFingerprint: fingerprint } : {}),
    ...(data.testEventCode !== undefined ? { testEventCode: data.testEventCode || null } : {}),
    ...(data.apiVersion ? { apiVersion: data.apiVersion } : {}),
    // A new token or pixel is the merchant's answer to a pause: try again.
    ...(tokenChanged ? { pausedAt: null, pauseReason: null, pauseMessage: null } : {}),
  };
  await prisma.shop.upsert({ where: { shop }, create: { shop }, update: { uninstalledAt: null } });
  if (existing) await prisma.destination.update({ where: { shop }, data: fields });
  else
    await prisma.destination.create({
      data: { shop, accessTokenEnc: encryptToken(data.accessToken!, key), tokenFingerprint: fingerprint, apiVersion: data.apiVersion ?? DEFAULT_API_VERSION, ...fields },
    });
  if (tokenChanged) {
    await setPendingState(prisma, shop, ["paused"], "queued", existing ? "destination changed: resumed" : "pixel connected", now);
    await prisma.event.updateMany({ where: { shop, state: { in: ["queued", "retrying", "paused"] } }, data: { pixelId: data.pixelId } });
  }
}

export async function openDestination(prisma: PrismaClient, shop: string, key = vaultKey()): Promise<OpenDestination | undefined> {
  const row = await prisma.destination.findUnique({ where: { shop } });
  if (!row) return undefined;
  return {
    shop,
    pixelId: row.pixelId,
    accessToken: decryptToken(row.accessTokenEnc, key),
    testEventCode: row.testEventCode,
    apiVersion: row.apiVersion,
    pausedAt: row.pausedAt,
    pauseReason: row.pauseReason,
    slowUntil: row.slowUntil,
  };
}

export async function pauseDestination(prisma: PrismaClient, shop: string, reason: string, message: string, now: Date): Promise<void> {
  await prisma.destination.updateMany({ where: { shop }, data: { pausedAt: now, pauseReason: reason, pauseMessage: message } });
  await setPendingState(prisma, shop, ["queued", "retrying"], "paused", reason, now);
}

export async function slowDestination(prisma: PrismaClient, shop: string, until: Date): Promise<void> {
  await prisma.destination.updateMany({ where: { shop }, data: { slowUntil: until } });
}
