// The demo's account: every webhook lands in exactly one line, and any disagreement between
// the app's answers, the database and Meta's stand-in is reported, never smoothed over.
import { describe, expect, it } from "vitest";
import { formatSummary, ledger, summaryRows, type DbAccount, type RunFacts } from "./ledger";

// 100 webhooks: 5 Shopify redeliveries (no receipt), 20 orders/paid after orders/create, 4 held
// back, 1 expired and 1 invalid on arrival, 1 payload that did not parse, 68 delivered.
const db: DbAccount = {
  receipts: 95,
  heldBack: [
    { reason: "Shopify test order, and the shop has no test event code", count: 2 },
    { reason: "the buyer declined marketing tracking", count: 2 },
  ],
  invalidReceipts: [
    { reason: "the conversion happened 9 days ago; Meta accepts at most 7 days", count: 1 },
    { reason: "a website event needs client_user_agent", count: 1 },
    { reason: "orders/create payload: id: expected a numeric id", count: 1 },
  ],
  events: { sent: 68, expired: 1, invalid: 1 },
  notDelivered: [
    {
      state: "expired",
      reasonCode: "event_too_old",
      reason: "the conversion happened 9 days ago; Meta accepts at most 7 days",
      atIngest: true,
      count: 1,
    },
    {
      state: "invalid",
      reasonCode: "missing_user_agent",
      reason: "a website event needs client_user_agent",
      atIngest: true,
      count: 1,
    },
  ],
  requestsThatDelivered: 2,
};
const run: RunFacts = {
  shop: "s.myshopify.com",
  pixelId: "1",
  received: 100,
  failed: 0,
  answers: { queued: 68, duplicate: 25, held_back: 4, invalid: 3 },
  latencyMs: { p50: 3.2, p99: 41, max: 60 },
  meta: { requests: 2, acceptedRequests: 2, kept: 68, accepted: 68 },
  postSeconds: 1,
  settleSeconds: 1,
};

describe("the demo's ledger", () => {
  it("accounts for every webhook once", () => {
    const l = ledger(db, run);
    expect(l.problems).toEqual([]);
    expect({
      redeliveries: l.redeliveries,
      sameConversion: l.sameConversion,
      heldBack: l.heldBack,
      notDelivered: l.notDelivered,
      delivered: l.delivered,
    }).toEqual({
      redeliveries: 5,
      sameConversion: 20,
      heldBack: 4,
      notDelivered: 3,
      delivered: 68,
    });
    expect(l.duplicates! + l.heldBack + l.notDelivered + l.delivered).toBe(l.received);
    expect(l.notDeliveredReasons).toEqual(
      expect.arrayContaining([
        {
          label: "event_too_old",
          detail: "Expired: the conversion happened 9 days ago; Meta accepts at most 7 days",
          count: 1,
        },
        { label: "missing_user_agent", detail: "Invalid: a website event needs client_user_agent", count: 1 },
        {
          label: "invalid_payload",
          detail: "Invalid, no event stored: orders/create payload: id: expected a numeric id",
          count: 1,
        },
      ]),
    );
  });

  it("tells an event Meta refused from one invalid before sending", () => {
    const l = ledger(
      {
        ...db,
        events: { sent: 67, expired: 1, invalid: 1, rejected: 1 },
        notDelivered: [
          ...db.notDelivered,
          {
            state: "rejected",
            reasonCode: "meta_invalid_parameter",
            reason: "Meta error 100",
            atIngest: false,
            count: 1,
          },
        ],
      },
      { ...run, meta: { ...run.meta, kept: 67 } },
    );
    expect(l.problems).toEqual([]);
    expect(l.notDeliveredReasons).toContainEqual({
      label: "meta_invalid_parameter",
      detail: "Rejected by Meta: Meta error 100",
      count: 1,
    });
    expect(l.notDeliveredReasons).toContainEqual({
      label: "missing_user_agent",
      detail: "Invalid: a website event needs client_user_agent",
      count: 1,
    });
  });

  it("reports events still waiting, a lost webhook, and each side disagreeing", () => {
    expect(
      ledger({ ...db, events: { ...db.events, sent: 66, queued: 2 } }, { ...run, meta: { ...run.meta, kept: 66 } })
        .problems,
    ).toEqual(["2 event(s) are still waiting for Meta (queued, retrying or paused)"]);
    expect(
      ledger(db, { ...run, received: 99, failed: 1, answers: { ...run.answers, duplicate: 24 } }).problems[0],
    ).toMatch(/1 webhook\(s\) were not answered 200/);
    expect(ledger(db, { ...run, meta: { ...run.meta, kept: 67 } }).problems).toEqual([
      "the database counts 68 events delivered, Meta's stand-in kept 67",
    ]);
    expect(ledger(db, { ...run, answers: { ...run.answers, held_back: 3, queued: 69 } }).problems).toEqual([
      'the app answered "held_back" 3 times, the database holds 4 held-back receipts',
    ]);
    // One event fewer in the database than the answers say: the account does not add up.
    expect(
      ledger({ ...db, events: { ...db.events, sent: 67 } }, { ...run, meta: { ...run.meta, kept: 67 } }).problems,
    ).toEqual([
      "the account does not add up: 100 received, but 25 duplicates + 4 held back + 3 not delivered + 67 delivered + 0 waiting = 99",
    ]);
    expect(ledger(db, { ...run, received: 90, answers: { ...run.answers, duplicate: 15 } }).problems[0]).toMatch(
      /answered "duplicate" 15 times, but the database holds 95 receipts of 90 webhooks/,
    );
  });

  it("shows the database's side alone while the demo has not published its run", () => {
    const l = ledger(db, undefined);
    expect(l.received).toBeNull();
    expect(l.delivered).toBe(68);
    expect(l.problems).toEqual([]);
    expect(summaryRows(l).find((r) => r.label === "Webhooks received")!.value).toBe("—");
  });

  it("prints one aligned line per row", () => {
    const rows = summaryRows(ledger(db, run));
    const text = formatSummary(rows);
    const lines = text.split("\n");
    expect(lines).toHaveLength(rows.length + 2);
    expect(text).toMatch(/Webhooks received\s+100/);
    expect(text).toMatch(/Delivered to Meta\s+68/);
    expect(text).toMatch(/Webhook answer time\s+p50 3\.2 ms {2}p99 41 ms/);
    // Values are right-aligned in one column.
    const ends = lines
      .slice(1, -1)
      .map((line) => line.indexOf(rows[lines.indexOf(line) - 1]!.value) + rows[lines.indexOf(line) - 1]!.value.length);
    expect(new Set(ends).size).toBe(1);
  });
});
