// The demo's account as the database keeps it: what became of every webhook the demo shop
// received. Read by the demo's summary and by its dashboard (app/routes/demo.tsx), so that
// both show the same numbers. Every query is scoped by the shop; nothing personal is read
// (reasons and states only, never payloads). In app/ beside ./ledger.ts, for the same reason.
import type { PrismaClient } from "@prisma/client";
import { FINAL_STATES, type ReceiptOutcome } from "../pipeline/lifecycle";
import type { DbAccount, ReasonCount, RunFacts } from "./ledger";

/** Final states other than delivered. */
const NOT_DELIVERED_STATES = FINAL_STATES.filter((s) => s !== "sent");

export async function loadDemoAccount(prisma: PrismaClient, shop: string): Promise<DbAccount> {
  const [receipts, receiptGroups, stateGroups, notDelivered, requests] = await Promise.all([
    prisma.webhookReceipt.count({ where: { shop } }),
    prisma.webhookReceipt.groupBy({
      by: ["outcome", "reason"],
      where: { shop, outcome: { in: ["held_back", "invalid"] satisfies ReceiptOutcome[] } },
      _count: { _all: true },
    }),
    prisma.event.groupBy({ by: ["state"], where: { shop }, _count: { _all: true } }),
    // attempts = 0: never in a request to Meta (invalid, or expired when it arrived).
    prisma.event.groupBy({
      by: ["state", "reasonCode", "reason", "attempts"],
      where: { shop, state: { in: NOT_DELIVERED_STATES } },
      _count: { _all: true },
    }),
    prisma.event.findMany({
      where: { shop, state: "sent", fbtraceId: { not: null } },
      distinct: ["fbtraceId"],
      select: { fbtraceId: true },
    }),
  ]);
  const reasons = (outcome: ReceiptOutcome): ReasonCount[] =>
    receiptGroups
      .filter((g) => g.outcome === outcome)
      .map((g) => ({ reason: g.reason ?? "(no reason recorded)", count: g._count._all }));
  return {
    receipts,
    heldBack: reasons("held_back"),
    invalidReceipts: reasons("invalid"),
    events: Object.fromEntries(stateGroups.map((g) => [g.state, g._count._all])),
    notDelivered: notDelivered.map((g) => ({
      state: g.state,
      reasonCode: g.reasonCode,
      reason: g.reason ?? "(no reason recorded)",
      atIngest: g.attempts === 0,
      count: g._count._all,
    })),
    requestsThatDelivered: requests.length,
  };
}

declare global {
  // The demo process publishes what only it measured (webhook answers, the stand-in's
  // counters) for its dashboard route, which the Remix build loads as a separate module graph.
  var __capiDemoRun: RunFacts | undefined;
}

export function publishDemoRun(run: RunFacts): void {
  globalThis.__capiDemoRun = run;
}

export function demoRun(shop: string): RunFacts | undefined {
  const run = globalThis.__capiDemoRun;
  return run && run.shop === shop ? run : undefined;
}
