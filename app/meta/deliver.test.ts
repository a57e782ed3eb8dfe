import { describe, expect, it } from "vitest";
import type { MetaAnswer } from "./classify";
import { deliverBatch, type SendEvents } from "./deliver";
import type { MetaEvent } from "./event";

const event = (id: string, extra: Partial<MetaEvent["user_data"]> = {}): { id: string; event: MetaEvent } => ({
  id,
  event: {
    event_name: "Purchase",
    event_time: 1_795_196_400,
    event_id: id,
    action_source: "system_generated",
    user_data: { external_id: "a".repeat(64), ...extra },
    custom_data: { value: 1, currency: "USD" },
  },
});
const ok = (n: number): MetaAnswer => ({
  kind: "response",
  status: 200,
  body: { events_received: n, messages: [], fbtrace_id: "T" },
});
const rejected = (subcode: number): MetaAnswer => ({
  kind: "response",
  status: 400,
  body: { error: { message: "Invalid parameter", code: 100, error_subcode: subcode, fbtrace_id: "R" } },
});

/** A Meta double that rejects any request containing one of the poisoned event ids. */
function fakeMeta(poisoned: Set<string>, subcode = 2804050): SendEvents & { calls: MetaEvent[][] } {
  const calls: MetaEvent[][] = [];
  const send = async (events: MetaEvent[]) => {
    calls.push(events);
    return events.some((e) => poisoned.has(e.event_id) && !(subcode === 2804001 && e.user_data.fbc === undefined))
      ? rejected(subcode)
      : ok(events.length);
  };
  return Object.assign(send, { calls });
}

describe("deliverBatch", () => {
  it("delivers a clean batch in one request", async () => {
    const meta = fakeMeta(new Set());
    const report = await deliverBatch(
      ["1", "2", "3"].map((id) => event(id)),
      meta,
    );
    expect(report.requests).toBe(1);
    expect(report.fates.map((f) => f.fate.status)).toEqual(["delivered", "delivered", "delivered"]);
  });

  it("isolates the one bad event of 1,000 and delivers the other 999 exactly once", async () => {
    const items = Array.from({ length: 1000 }, (_, i) => event(String(i)));
    const meta = fakeMeta(new Set(["617"]));
    const report = await deliverBatch(items, meta);
    const delivered = meta.calls.filter((c) => !c.some((e) => e.event_id === "617")).flat();
    expect(delivered).toHaveLength(999);
    expect(new Set(delivered.map((e) => e.event_id)).size).toBe(999);
    const rejectedFates = report.fates.filter((f) => f.fate.status === "rejected");
    expect(rejectedFates.map((f) => f.item.id)).toEqual(["617"]);
    expect(rejectedFates[0]!.fate).toMatchObject({ code: "invalid_parameter", fbtraceId: "R" });
    expect(report.fates).toHaveLength(1000);
    // Bisection: about 2 * log2(1000) requests, not 1,000.
    expect(report.requests).toBeLessThanOrEqual(21);
  });

  it("resends an event without its malformed fbc instead of losing the conversion", async () => {
    const meta = fakeMeta(new Set(["2"]), 2804001);
    const report = await deliverBatch([event("1"), event("2", { fbc: "fb.1.1.bad" })], meta);
    expect(report.fates.map((f) => [f.item.id, f.fate.status])).toEqual([
      ["1", "delivered"],
      ["2", "delivered"],
    ]);
    expect(meta.calls.at(-1)![0]!.user_data.fbc).toBeUndefined();
  });

  it("defers the whole batch when Meta is down, keeping the verdict for the scheduler", async () => {
    const report = await deliverBatch([event("1"), event("2")], async () => ({ kind: "transport", error: "timeout" }));
    expect(report.fates.every((f) => f.fate.status === "deferred" && f.fate.verdict.action === "retry")).toBe(true);
  });
});
