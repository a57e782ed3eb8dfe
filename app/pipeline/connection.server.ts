// The connection check wherever a pixel and token are saved (the admin page, `capi connect`):
// one read of the pixel with that token (app/meta/request.ts pixelReadRequest), classified by
// app/meta/connection-check.ts, then saved or not:
// - connected: saved; a paused destination resumes (even with the same pixel and token);
// - unchecked (Meta unreachable, 5xx, rate limit): saved, shown as "not checked yet"; a pause
//   Meta caused for these same pixel and token stays (nothing says they work now), while new
//   ones, or the answer to an uninstall or an unreadable token, resume as saveDestination says;
// - failed (refused token, no permission, unknown pixel, wrong app secret): nothing saved, so a
//   typo never replaces a working setup; when they are the stored pixel and token, the outcome
//   is recorded on the destination for the admin page.
// saveDestination itself does not check: tests, the demo and benchmarks save without a Meta.
import type { PrismaClient } from "@prisma/client";
import { env } from "../config/env.server";
import { DEFAULT_API_VERSION } from "../meta/api-version";
import { classifyConnectionCheck, type ConnectionCheck } from "../meta/connection-check";
import { sendGraphRequest } from "../meta/graph-client.server";
import { pixelReadRequest, type Destination } from "../meta/request";
import { tokenFingerprint, VaultError, type VaultKeyInput } from "../security/token-vault";
import { vaultKeys } from "../security/vault-key.server";
import {
  destinationInputSchema,
  findDestination,
  openDestination,
  recordConnectionCheck,
  resumeDestination,
  type DestinationInput,
} from "./destinations.server";

/** Where Meta is, for calls made outside the worker (the check, test events). */
export interface MetaAccess {
  graphUrl: string;
  /** META_APP_SECRET: every call then carries appsecret_proof. */
  appSecret?: string;
  timeoutMs?: number;
}

/** A merchant waits on it: shorter than the worker's 15 s. */
export const CONNECTION_CHECK_TIMEOUT_MS = 10_000;

export function metaAccessFromEnv(): MetaAccess {
  const settings = env();
  return { graphUrl: settings.META_GRAPH_URL, appSecret: settings.META_APP_SECRET };
}

/** Saves a destination (sealing the token, resuming a paused pixel) and returns its id: ./destinations.server.ts saveDestination. */
export type SaveDestination = (prisma: PrismaClient, shop: string, input: DestinationInput) => Promise<string>;

export async function checkConnection(
  destination: Omit<Destination, "appSecret">,
  meta: MetaAccess,
): Promise<ConnectionCheck> {
  const request = pixelReadRequest({ ...destination, appSecret: meta.appSecret }, { graphUrl: meta.graphUrl });
  const answer = await sendGraphRequest(request, meta.timeoutMs ?? CONNECTION_CHECK_TIMEOUT_MS);
  return classifyConnectionCheck(answer, destination.pixelId);
}

type Failed = Extract<ConnectionCheck, { status: "failed" }>;

export type ConnectOutcome =
  /** Saved: Meta read the pixel (connected), or gave no usable answer (unchecked). `paused`: sending is paused after the save. */
  | { saved: true; id: string; check: Exclude<ConnectionCheck, Failed>; paused: boolean; resumed: boolean }
  /** Not saved: Meta refused this pixel and token. `sameAsStored`: they are the stored ones (the outcome is recorded). */
  | { saved: false; check: Failed; sameAsStored: boolean }
  /** Neither checked nor saved: no token given, and the stored one can no longer be opened. */
  | { saved: false; unreadableToken: true };

export interface ConnectDeps {
  meta: MetaAccess;
  save: SaveDestination;
  key?: VaultKeyInput;
  now?: Date;
}

/** Checks the pixel and token (the given token, else the stored one), then saves or not, as above. */
export async function connectDestination(
  prisma: PrismaClient,
  shop: string,
  input: DestinationInput,
  deps: ConnectDeps,
): Promise<ConnectOutcome> {
  const now = deps.now ?? new Date();
  const data = destinationInputSchema.parse(input);
  const existing = await findDestination(prisma, shop, data);
  let token = data.accessToken;
  if (!token) {
    if (!existing) throw new Error("an access token is required to connect a pixel");
    try {
      token = (await openDestination(prisma, existing, deps.key ?? vaultKeys()))!.accessToken;
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      return { saved: false, unreadableToken: true };
    }
  }
  const sameAsStored =
    !!existing && existing.pixelId === data.pixelId && existing.tokenFingerprint === tokenFingerprint(token);
  const apiVersion = data.apiVersion ?? existing?.apiVersion ?? DEFAULT_API_VERSION;
  const check = await checkConnection({ pixelId: data.pixelId, accessToken: token, apiVersion }, deps.meta);
  if (check.status === "failed") {
    if (sameAsStored) await recordConnectionCheck(prisma, existing, check, now);
    return { saved: false, check, sameAsStored };
  }
  const ref = { shop, id: await deps.save(prisma, shop, input) };
  if (check.status === "connected") await resumeDestination(prisma, ref, "connection check passed: resumed", now);
  await recordConnectionCheck(prisma, ref, check, now);
  const after = await prisma.destination.findUnique({ where: { id: ref.id }, select: { pausedAt: true } });
  const paused = !!after?.pausedAt;
  return { saved: true, id: ref.id, check, paused, resumed: !!existing?.pausedAt && !paused };
}
