// The facts the onboarding checklist (./checklist.ts) is computed from, each read for one shop.
// The test event seen is written by recordTestEventSeen (app/pipeline/destinations.server.ts).
import type { PrismaClient } from "@prisma/client";
import { isBillingHoldReason } from "../billing/standing";
import { listDestinations } from "../pipeline/destinations.server";
import type { OnboardingFacts } from "./checklist";
import { DAY_MS } from "./dashboard.server";
import { bitsOf, sumEventCounts } from "../pipeline/event-counts.server";
import { tokenExpiry } from "../meta/token-expiry";

export async function loadOnboardingFacts(
  prisma: PrismaClient,
  shop: string,
  apiKey: string,
  now: Date = new Date(),
): Promise<OnboardingFacts> {
  const weekAgo = new Date(now.getTime() - 7 * DAY_MS);
  const [destinations, embedRows, sentRows] = await Promise.all([
    listDestinations(prisma, shop),
    // The embed writes the _fbp cart attribute; the order's Purchase carries it as user_data.fbp.
    sumEventCounts(prisma, shop, ["keys"], { since: weekAgo }, { eventName: "Purchase" }),
    // A test order is sent only with a test event code: a sent Purchase without one is a real order.
    sumEventCounts(prisma, shop, [], {}, { eventName: "Purchase", state: "sent", test: false }),
  ]);
  const fbp = bitsOf(["fbp"]);
  const embedOrders7d = embedRows.reduce((n, r) => n + (r.keys & fbp ? r.count : 0), 0);
  const realPurchasesSent = sentRows[0]?.count ?? 0;
  // The checklist follows the first pixel connected: the one a new shop sets up.
  const destination = destinations[0];
  return {
    shop,
    apiKey,
    destination: destination
      ? {
          pixelId: destination.pixelId,
          testEventCode: destination.testEventCode,
          // Meta's side is connected under a billing hold: the plan's banner says what holds events.
          paused: destination.pausedAt !== null && !isBillingHoldReason(destination.pauseReason),
          ...(destination.checkStatus ? { checkStatus: destination.checkStatus } : {}),
          ...(tokenExpiry(destination.tokenExpiresAt, now).state === "expired" ? { tokenExpired: true } : {}),
        }
      : null,
    embedOrders7d,
    testEvent:
      destination?.testEventAt && destination.testEventPixelId
        ? { at: destination.testEventAt.toISOString(), pixelId: destination.testEventPixelId }
        : null,
    realPurchasesSent,
  };
}
