// Sends one batch and isolates bad events when Meta rejects it. The sending itself is
// injected, so this runs the same against Meta, the stand-in or a test double.
import { classifyAnswer, isolate, type MetaAnswer, type Verdict } from "./classify";
import type { MetaEvent } from "./event";

export type SendEvents = (events: MetaEvent[]) => Promise<MetaAnswer>;

export type EventFate =
  | { status: "delivered"; fbtraceId?: string }
  | { status: "rejected"; code: string; reason: string; fbtraceId?: string }
  /** Not delivered this time; the verdict says whether to back off, slow down or pause. */
  | { status: "deferred"; verdict: Exclude<Verdict, { action: "deliver" | "drop-event" }> };

export interface DeliveryReport<T> {
  fates: Array<{ item: T; fate: EventFate }>;
  /** Requests this delivery used, isolation included. */
  requests: number;
}

function withoutFbc(event: MetaEvent): MetaEvent {
  const { fbc: _dropped, ...userData } = event.user_data;
  return { ...event, user_data: userData };
}

export async function deliverBatch<T extends { event: MetaEvent }>(
  items: T[],
  send: SendEvents,
): Promise<DeliveryReport<T>> {
  const report: DeliveryReport<T> = { fates: [], requests: 0 };
  const run = async (batch: T[], fixed: boolean): Promise<void> => {
    report.requests++;
    const verdict = classifyAnswer(await send(batch.map((i) => i.event)));
    if (verdict.action === "deliver") {
      for (const item of batch)
        report.fates.push({ item, fate: { status: "delivered", fbtraceId: verdict.fbtraceId } });
      return;
    }
    if (verdict.action !== "drop-event") {
      for (const item of batch) report.fates.push({ item, fate: { status: "deferred", verdict } });
      return;
    }
    const step = isolate(batch, verdict, fixed);
    if (step.step === "split") {
      for (const part of step.parts) await run(part, fixed);
    } else if (step.step === "resend-without-fbc") {
      await run(
        batch.map((i) => ({ ...i, event: withoutFbc(i.event) })),
        true,
      );
    } else {
      report.fates.push({
        item: batch[0]!,
        fate: { status: "rejected", code: step.code, reason: step.reason, fbtraceId: verdict.fbtraceId },
      });
    }
  };
  if (items.length > 0) await run(items, false);
  return report;
}
