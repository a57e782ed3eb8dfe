// The account every fault scenario ends with: each event the posted webhooks should have
// produced was delivered to Meta (the stand-in) once per event_id, or its row in PostgreSQL
// ends in a state the scenario allows, with the reason recorded. Nothing may be left in
// queued, sending or retrying, no event may reach Meta under an id we do not hold, and no
// conversion may reach Meta under two different ids. Copies of one event_id accepted more than
// once are harmless (Meta keeps the first) and are counted, not failed.
import type { PrismaClient } from "@prisma/client";
import { EVENT_STATE_INFO, EVENT_STATES, type EventState } from "../../app/pipeline/lifecycle";
import type { MetaSandbox } from "../../sandbox/meta-graph/server";
import { waitFor } from "./harness";

/** States the worker moves on by itself: no scenario may end with an event in one. */
const PENDING: string[] = EVENT_STATES.filter((s) => EVENT_STATE_INFO[s].waitsFor === "worker");
export type EndState = Exclude<EventState, "queued" | "sending" | "retrying">;

export interface ExpectedEvent {
  shop: string;
  eventName: string;
  eventId: string;
}

export interface AccountOptions {
  prisma: PrismaClient;
  meta: MetaSandbox;
  /** Every shop of the scenario and the pixel its events go to. */
  pixels: Record<string, string>;
  /** The events the scenario's webhooks must have produced. */
  expected: ExpectedEvent[];
  /** The end states an event of this shop may be in besides "sent" (default: none). */
  allowed?: (shop: string) => readonly EndState[];
}

export interface Account {
  expected: number;
  /** Rows in "sent" that Meta holds. */
  delivered: number;
  /** Meta's distinct (pixel, event_name, event_id) of the scenario. */
  uniqueAtMeta: number;
  /** Extra copies Meta accepted under an event_id it already had (deduplicated by Meta). */
  duplicateCopies: number;
  byState: Record<string, number>;
  /** Non-sent end states and their recorded reasons, with counts. */
  reasons: Array<{ state: string; reasonCode: string | null; reason: string | null; count: number }>;
  /** Everything that breaks the invariant; empty when the account balances. */
  problems: string[];
}

const key = (shop: string, eventName: string, eventId: string) => `${shop}\u0000${eventName}\u0000${eventId}`;

export async function takeAccount(o: AccountOptions): Promise<Account> {
  const shops = Object.keys(o.pixels);
  const rows = await o.prisma.event.findMany({
    where: { shop: { in: shops } },
    select: { shop: true, eventName: true, eventId: true, state: true, reasonCode: true, reason: true, pixelId: true },
  });
  const problems: string[] = [];
  const problem = (line: string) => {
    // A thousand lines of the same failure say no more than twenty.
    if (problems.length < 40) problems.push(line);
    else if (problems.length === 40) problems.push("… more problems not listed");
  };
  const byKey = new Map(rows.map((r) => [key(r.shop, r.eventName, r.eventId), r]));
  const expectedKeys = new Set(o.expected.map((e) => key(e.shop, e.eventName, e.eventId)));

  // What Meta holds, per shop, by the pixel the shop's events go to.
  const copies = new Map<string, number>();
  let uniqueAtMeta = 0;
  let duplicateCopies = 0;
  for (const shop of shops) {
    const pixel = o.pixels[shop]!;
    for (const accepted of o.meta.accepted(pixel)) {
      const { event_name: name, event_id: id } = accepted.event;
      const k = key(shop, name, String(id));
      const n = (copies.get(k) ?? 0) + 1;
      copies.set(k, n);
      if (n === 1) uniqueAtMeta++;
      else duplicateCopies++;
      if (!byKey.has(k)) problem(`Meta holds ${name} ${String(id)} on pixel ${pixel}, which ${shop} never recorded`);
      // The same conversion under another id would be counted twice by Meta.
      const orderId = (accepted.event.custom_data as { order_id?: unknown } | undefined)?.order_id;
      if (name === "Purchase" && orderId !== undefined && String(orderId) !== String(id)) {
        problem(`Purchase of order ${String(orderId)} reached Meta under event_id ${String(id)}`);
      }
    }
  }

  for (const e of o.expected) {
    if (!byKey.has(key(e.shop, e.eventName, e.eventId)))
      problem(`${e.shop} ${e.eventName} ${e.eventId}: posted, never recorded (lost)`);
  }

  const byState: Record<string, number> = {};
  const reasons = new Map<string, Account["reasons"][number]>();
  let delivered = 0;
  for (const row of rows) {
    const k = key(row.shop, row.eventName, row.eventId);
    const label = `${row.shop} ${row.eventName} ${row.eventId}`;
    byState[row.state] = (byState[row.state] ?? 0) + 1;
    if (!expectedKeys.has(k)) problem(`${label}: recorded, but no webhook of the scenario produced it`);
    const atMeta = copies.get(k) ?? 0;
    if (row.state === "sent") {
      if (atMeta === 0) problem(`${label}: recorded as sent, Meta never accepted it`);
      else delivered++;
      continue;
    }
    if (PENDING.includes(row.state)) problem(`${label}: still ${row.state} at the end`);
    else if (!(o.allowed?.(row.shop) ?? []).includes(row.state as EndState))
      problem(`${label}: ended ${row.state}, which this scenario does not allow (${row.reason ?? "no reason"})`);
    if (!row.reasonCode || !row.reason) problem(`${label}: ${row.state} without a recorded reason`);
    if (atMeta > 0) problem(`${label}: Meta accepted it, but it is recorded as ${row.state}`);
    const rk = JSON.stringify([row.state, row.reasonCode, row.reason]);
    const entry = reasons.get(rk) ?? { state: row.state, reasonCode: row.reasonCode, reason: row.reason, count: 0 };
    entry.count++;
    reasons.set(rk, entry);
  }

  return {
    expected: o.expected.length,
    delivered,
    uniqueAtMeta,
    duplicateCopies,
    byState,
    reasons: [...reasons.values()],
    problems,
  };
}

/** Gives the system time to finish (nothing queued, sending or retrying), then takes the account. */
export async function settleAndAccount(o: AccountOptions & { timeoutMs: number }): Promise<Account> {
  const shops = Object.keys(o.pixels);
  await waitFor(
    async () =>
      (await o.prisma.event.count({ where: { shop: { in: shops }, state: { in: PENDING } } })) === 0 &&
      (await o.prisma.event.count({ where: { shop: { in: shops } } })) >= o.expected.length,
    o.timeoutMs,
    "every event to reach an end state",
    250,
  ).catch(() => undefined); // The account then names what is stuck.
  return takeAccount(o);
}

export function printAccount(scenario: string, account: Account, extra: Record<string, unknown> = {}): void {
  const lines = [
    `── fault: ${scenario}`,
    `   events expected ${account.expected} · delivered once ${account.delivered} · unique at Meta ${account.uniqueAtMeta} · duplicate copies at Meta (same event_id) ${account.duplicateCopies}`,
    `   by state ${JSON.stringify(account.byState)}`,
    ...account.reasons.map((r) => `   ${r.state} ×${r.count}: ${r.reasonCode ?? "-"}: ${r.reason ?? "(no reason)"}`),
    ...Object.entries(extra).map(([k, v]) => `   ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`),
    account.problems.length ? `   PROBLEMS:\n     ${account.problems.join("\n     ")}` : "   account balances",
  ];
  console.log(lines.join("\n"));
}
