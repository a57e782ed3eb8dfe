// The demo's account, pure: from what the database holds (DbAccount) and what the demo saw on
// the wire (RunFacts: the app's answer to each webhook, the Meta stand-in's counters), the rows
// of the summary and the reasons the account does not add up. The same function feeds the
// terminal summary and the dashboard, so they cannot disagree. It lives in app/ because the
// dashboard route (app/routes/demo.tsx) renders it, and the app never imports from demo/. Its
// words are the admin page's (app/pipeline/lifecycle.ts).
import { EVENT_STATE_INFO, isEventState, RECEIPT_OUTCOME_INFO } from "../pipeline/lifecycle";

export interface ReasonCount {
  reason: string;
  count: number;
}

export interface DbAccount {
  /** Webhook deliveries recorded (Shopify's redeliveries of one webhook share one). */
  receipts: number;
  /** Receipts `held_back` (webhooks deliberately not sent), by reason. */
  heldBack: ReasonCount[];
  /** Receipts `invalid` (webhooks that could not become an event Meta takes), by reason, with or without a stored event. */
  invalidReceipts: ReasonCount[];
  /** Events by state. */
  events: Record<string, number>;
  /** Events in a final state other than sent, by reason; atIngest: never in a request to Meta. */
  notDelivered: Array<{ state: string; reasonCode: string | null; reason: string; atIngest: boolean; count: number }>;
  /** Distinct fbtrace_id among delivered events: the Meta requests that delivered them. */
  requestsThatDelivered: number;
}

export interface RunFacts {
  shop: string;
  pixelId: string;
  /** Webhooks the app answered 200. */
  received: number;
  /** Webhooks answered otherwise (or not at all). */
  failed: number;
  /** The app's answers ({"outcome": ...}) by outcome. */
  answers: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  meta: {
    /** Requests that reached the stand-in's events endpoint. */
    requests: number;
    acceptedRequests: number;
    /** Events the stand-in keeps for the demo pixel (one per event name and id). */
    kept: number;
    /** Events it answered 200 for, resends included. */
    accepted: number;
  };
  postSeconds: number;
  settleSeconds: number;
}

export interface LedgerLine {
  label: string;
  count: number;
  /** The reason in full, as the merchant reads it. */
  detail?: string;
}

export interface Ledger {
  received: number | null;
  duplicates: number | null;
  /** Shopify delivering the same webhook again (same X-Shopify-Event-Id). */
  redeliveries: number | null;
  /** Another webhook of a conversion already recorded: orders/paid after orders/create. */
  sameConversion: number | null;
  heldBack: number;
  heldBackReasons: LedgerLine[];
  /** Events invalid, rejected by Meta or expired, and invalid webhooks that left no event. */
  notDelivered: number;
  notDeliveredReasons: LedgerLine[];
  delivered: number;
  /** Still queued, sending, retrying or paused. */
  waiting: number;
  metaRequests: number | null;
  requestsThatDelivered: number;
  latencyMs: RunFacts["latencyMs"] | null;
  /** Empty when every webhook is accounted for. */
  problems: string[];
}

const sum = (xs: Array<{ count: number }>) => xs.reduce((s, x) => s + x.count, 0);

function merge(lines: LedgerLine[]): LedgerLine[] {
  const merged = new Map<string, LedgerLine>();
  for (const l of lines) {
    const key = `${l.label}\u0000${l.detail ?? ""}`;
    const seen = merged.get(key);
    merged.set(key, { ...l, count: (seen?.count ?? 0) + l.count });
  }
  return [...merged.values()].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

export function ledger(db: DbAccount, run: RunFacts | undefined): Ledger {
  const heldBackReasons = merge(db.heldBack.map((s) => ({ label: s.reason, count: s.count })));
  const heldBack = sum(heldBackReasons);

  // Invalid without an event (a payload that does not parse): the invalid receipts, less the
  // events stored invalid on arrival (an expired one has a receipt of its own outcome).
  const storedAtIngest = new Map<string, number>();
  for (const n of db.notDelivered)
    if (n.atIngest) storedAtIngest.set(n.reason, (storedAtIngest.get(n.reason) ?? 0) + n.count);
  const withoutEvent = db.invalidReceipts
    .map((r) => ({ label: r.reason, count: r.count - (storedAtIngest.get(r.reason) ?? 0) }))
    .filter((l) => l.count > 0);
  const notDeliveredReasons = merge([
    ...db.notDelivered.map((n) => ({
      label: n.reasonCode ?? n.state,
      detail: `${isEventState(n.state) ? EVENT_STATE_INFO[n.state].label : n.state}: ${n.reason}`,
      count: n.count,
    })),
    ...withoutEvent.map((l) => ({
      label: "invalid_payload",
      detail: `${RECEIPT_OUTCOME_INFO.invalid.label}, no event stored: ${l.label}`,
      count: l.count,
    })),
  ]);
  const notDelivered = sum(notDeliveredReasons);
  const delivered = db.events.sent ?? 0;
  const waiting =
    (db.events.queued ?? 0) + (db.events.sending ?? 0) + (db.events.retrying ?? 0) + (db.events.paused ?? 0);

  const problems: string[] = [];
  let received: number | null = null;
  let duplicates: number | null = null;
  let redeliveries: number | null = null;
  let sameConversion: number | null = null;
  if (run) {
    received = run.received;
    // The app answers "duplicate" to both kinds; only Shopify's redeliveries leave no receipt.
    duplicates = run.answers.duplicate ?? 0;
    redeliveries = run.received - db.receipts;
    sameConversion = duplicates - redeliveries;
    if (run.failed > 0)
      problems.push(`${run.failed} webhook(s) were not answered 200: Shopify would deliver them again`);
    if (redeliveries < 0 || sameConversion < 0) {
      problems.push(
        `the app answered "duplicate" ${duplicates} times, but the database holds ${db.receipts} receipts of ${run.received} webhooks`,
      );
    }
    const accounted = duplicates + heldBack + notDelivered + delivered + waiting;
    if (accounted !== run.received) {
      problems.push(
        `the account does not add up: ${run.received} received, but ${duplicates} duplicates + ${heldBack} held back + ${notDelivered} not delivered + ${delivered} delivered + ${waiting} waiting = ${accounted}`,
      );
    }
    if ((run.answers.held_back ?? 0) !== heldBack) {
      problems.push(
        `the app answered "held_back" ${run.answers.held_back ?? 0} times, the database holds ${heldBack} held-back receipts`,
      );
    }
    if (run.meta.kept !== delivered) {
      problems.push(`the database counts ${delivered} events delivered, Meta's stand-in kept ${run.meta.kept}`);
    }
  }
  if (waiting > 0) problems.push(`${waiting} event(s) are still waiting for Meta (queued, retrying or paused)`);

  return {
    received,
    duplicates,
    redeliveries,
    sameConversion,
    heldBack,
    heldBackReasons,
    notDelivered,
    notDeliveredReasons,
    delivered,
    waiting,
    metaRequests: run?.meta.requests ?? null,
    requestsThatDelivered: db.requestsThatDelivered,
    latencyMs: run?.latencyMs ?? null,
    problems,
  };
}

/** One row of the summary table: what, how many, and (optionally) a note. */
export interface SummaryRow {
  label: string;
  value: string;
  note?: string;
  /** 0 for the headline figures, 1 for a breakdown, 2 for reasons. */
  depth: 0 | 1 | 2;
}

const fmt = (n: number | null) => (n === null ? "—" : n.toLocaleString("en-US"));
const ms = (n: number) => (n < 10 ? n.toFixed(1) : Math.round(n).toString());

export function summaryRows(l: Ledger): SummaryRow[] {
  const rows: SummaryRow[] = [
    {
      label: "Webhooks received",
      value: fmt(l.received),
      note: "signed orders/create, orders/paid, checkouts/create, answered 200",
      depth: 0,
    },
    { label: "Duplicates dropped", value: fmt(l.duplicates), depth: 1 },
    {
      label: "Shopify redeliveries",
      value: fmt(l.redeliveries),
      note: "same X-Shopify-Event-Id as an earlier delivery",
      depth: 2,
    },
    {
      label: "Same conversion again",
      value: fmt(l.sameConversion),
      note: "orders/paid after orders/create: one Purchase per order",
      depth: 2,
    },
    { label: RECEIPT_OUTCOME_INFO.held_back.label, value: fmt(l.heldBack), note: "deliberately not sent", depth: 1 },
    ...l.heldBackReasons.map((r): SummaryRow => ({ label: r.label, value: fmt(r.count), depth: 2 })),
    {
      label: "Not delivered",
      value: fmt(l.notDelivered),
      note: "invalid, rejected by Meta or expired, with the reason the merchant sees",
      depth: 1,
    },
    ...l.notDeliveredReasons.map((r): SummaryRow => ({
      label: r.label,
      value: fmt(r.count),
      note: r.detail,
      depth: 2,
    })),
    {
      label: "Delivered to Meta",
      value: fmt(l.delivered),
      note: "Purchase and InitiateCheckout events Meta accepted",
      depth: 1,
    },
  ];
  if (l.waiting > 0)
    rows.push({ label: "Still waiting", value: fmt(l.waiting), note: "queued, retrying or paused", depth: 1 });
  rows.push({
    label: "Meta requests used",
    value: fmt(l.metaRequests),
    note: `${fmt(l.requestsThatDelivered)} of them delivered events (up to 1,000 events a request)`,
    depth: 0,
  });
  rows.push({
    label: "Webhook answer time",
    value: l.latencyMs ? `p50 ${ms(l.latencyMs.p50)} ms` : "—",
    note: l.latencyMs ? `p99 ${ms(l.latencyMs.p99)} ms, max ${ms(l.latencyMs.max)} ms (Shopify waits 5 s)` : undefined,
    depth: 0,
  });
  return rows;
}

/** The summary as aligned text for a terminal. */
export function formatSummary(rows: SummaryRow[]): string {
  const labelWidth = Math.max(...rows.map((r) => r.depth * 2 + r.label.length));
  const valueWidth = Math.max(...rows.map((r) => r.value.length));
  const lines = rows.map(
    (r) =>
      `  ${("  ".repeat(r.depth) + r.label).padEnd(labelWidth)}  ${r.value.padStart(valueWidth)}${r.note ? `  ${r.note}` : ""}`,
  );
  const rule = `  ${"─".repeat(labelWidth + valueWidth + 2)}`;
  return [rule, ...lines, rule].join("\n");
}
