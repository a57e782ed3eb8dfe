// Sends one test Purchase (app/events/test-purchase.ts) to the shop's pixel with its test event
// code, through the same request builder and HTTP function as the worker, and says what Meta
// answered (app/meta/test-event.ts). A test event is not one of the shop's events, and the
// destination is left as it is (paused or not) whatever Meta answers; only when Meta counted
// it is that recorded (Destination.testEventAt), for the admin's onboarding checklist.
import type { PrismaClient } from "@prisma/client";
import { storedSettings } from "../events/settings";
import { buildTestPurchase } from "../events/test-purchase";
import { sendGraphRequest } from "../meta/graph-client.server";
import { graphRequest } from "../meta/request";
import {
  classifyTestEventAnswer,
  NO_TEST_EVENT_CODE_MESSAGE,
  type TestEventFacts,
  type TestEventOutcome,
} from "../meta/test-event";
import { VaultError, type VaultKeyInput } from "../security/token-vault";
import { vaultKeys } from "../security/vault-key.server";
import { CONNECTION_CHECK_TIMEOUT_MS, type MetaAccess } from "./connection.server";
import {
  listDestinations,
  openDestination,
  recordTestEventSeen,
  UNREADABLE_TOKEN_MESSAGE,
  type OpenDestination,
} from "./destinations.server";

export const NO_DESTINATION_MESSAGE =
  "Connect your Meta pixel first: save its pixel (dataset) ID and access token, then send the test event.";

/** Meta's answer and what was sent; or, not sent, `reason` no-destination | no-test-event-code | unreadable-token | not-built. */
export type TestEventResult = TestEventOutcome & Partial<TestEventFacts>;

/** `destinationId`: which of the shop's pixels; its first one when absent. */
export async function sendTestEvent(
  prisma: PrismaClient,
  shop: string,
  meta: MetaAccess,
  options: { key?: VaultKeyInput; nowMs?: number; destinationId?: string } = {},
): Promise<TestEventResult> {
  const id = options.destinationId ?? (await listDestinations(prisma, shop))[0]?.id;
  if (!id) return { ok: false, retry: false, reason: "no-destination", message: NO_DESTINATION_MESSAGE };
  let destination: OpenDestination | undefined;
  try {
    destination = await openDestination(prisma, { shop, id }, options.key ?? vaultKeys());
  } catch (error) {
    if (!(error instanceof VaultError)) throw error;
    return { ok: false, retry: false, reason: "unreadable-token", message: UNREADABLE_TOKEN_MESSAGE };
  }
  if (!destination) return { ok: false, retry: false, reason: "no-destination", message: NO_DESTINATION_MESSAGE };
  const code = destination.testEventCode;
  if (!code) return { ok: false, retry: false, reason: "no-test-event-code", message: NO_TEST_EVENT_CODE_MESSAGE };

  const row = await prisma.shop.findUnique({ where: { shop }, select: { settings: true } });
  const built = buildTestPurchase(shop, code, storedSettings(row?.settings).settings, options.nowMs ?? Date.now());
  if (built.status !== "ready")
    return {
      ok: false,
      retry: false,
      reason: "not-built",
      message: `The test event could not be built: ${built.reason}`,
    };

  const request = graphRequest(
    {
      pixelId: destination.pixelId,
      accessToken: destination.accessToken,
      apiVersion: destination.apiVersion,
      appSecret: meta.appSecret,
    },
    [built.event],
    { testEventCode: built.testEventCode, graphUrl: meta.graphUrl },
  );
  const answer = await sendGraphRequest(request, meta.timeoutMs ?? CONNECTION_CHECK_TIMEOUT_MS);
  const facts = { pixelId: destination.pixelId, testEventCode: code, eventId: built.event.event_id };
  const outcome = classifyTestEventAnswer(answer, facts);
  // The one thing kept: that Meta counted a test event for this pixel (the onboarding checklist's step).
  if (outcome.ok && outcome.eventsReceived >= 1)
    await recordTestEventSeen(prisma, destination, destination.pixelId, new Date(options.nowMs ?? Date.now()));
  return { ...outcome, ...facts };
}
