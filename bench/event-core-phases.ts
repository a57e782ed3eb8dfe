// Where the event core's time goes: each step of prepareEvent timed on its own, on the same
// orders, through the same exported functions the core calls. The steps overlap (the user data
// step includes phones and hashing), so shares do not add up to 100%.
import { userDataInput } from "../app/events/customer-data";
import { buildPurchase } from "../app/events/purchase";
import { prepareEvent } from "../app/events/prepare";
import { DEFAULT_SETTINGS } from "../app/events/settings";
import { buildUserData, normalizePhone, sha256Hex, type RawValue } from "../app/meta/user-data";
import { validateEvent } from "../app/meta/validate";
import type { MetaEvent } from "../app/meta/event";
import { orderSchema, type ShopifyOrder } from "../app/shopify/payloads";
import { BENCH_SHOP } from "./orders";

export interface Phase {
  name: string;
  /** what the step covers, for the table */
  what: string;
  microsPerEvent: number;
  /** share of the whole prepareEvent */
  share: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function microsPer<T>(items: T[], fn: (item: T) => unknown, reps: number, gc: () => void): number {
  for (let i = 0; i < Math.min(items.length, 1000); i++) fn(items[i]!);
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) {
    gc();
    const started = process.hrtime.bigint();
    for (const item of items) fn(item);
    runs.push(Number(process.hrtime.bigint() - started) / 1e3 / items.length);
  }
  return median(runs);
}

export function measurePhases(orders: Array<Record<string, any>>, nowSeconds: number, gc: () => void, reps = 3): Phase[] {
  const context = { shop: BENCH_SHOP, nowSeconds };
  const parsed: ShopifyOrder[] = orders.map((o) => orderSchema.parse(o));
  const events: MetaEvent[] = [];
  for (const order of parsed) {
    const outcome = buildPurchase(order, "orders/create", DEFAULT_SETTINGS, context);
    if (outcome.status === "ready") events.push(outcome.event);
  }
  const inputs = parsed.map((o) => userDataInput(o, { ipAddress: o.client_details?.browser_ip, userAgent: o.client_details?.user_agent }));
  // The distinct phone values buildUserData normalises per order (it skips repeated raws).
  const phones = inputs.map((input) => {
    const seen = new Map<string, RawValue>();
    for (const v of input.ph ?? []) {
      if (v && typeof v === "object" && v.value != null) seen.set(`${v.value}\u0000${v.country ?? ""}`, v);
    }
    return [...seen.values()];
  });
  // As many SHA-256 inputs per order as its event carries hashes, of typical length.
  const toHash = events.map((e) =>
    Object.values(e.user_data)
      .flatMap((v) => (Array.isArray(v) ? v : [v]))
      .filter((v): v is string => typeof v === "string" && /^[a-f0-9]{64}$/.test(v))
      .map((h) => h.slice(0, 16)),
  );

  const whole = microsPer(orders, (o) => prepareEvent("orders/create", o, DEFAULT_SETTINGS, context), reps, gc);
  const steps: Array<Omit<Phase, "share">> = [
    { name: "prepareEvent", what: "the whole core, as benchmarked above", microsPerEvent: whole },
    { name: "zod parse", what: "orderSchema.safeParse (app/shopify/payloads.ts)", microsPerEvent: microsPer(orders, (o) => orderSchema.safeParse(o), reps, gc) },
    { name: "buildPurchase", what: "parsed order to event (app/events/purchase.ts)", microsPerEvent: microsPer(parsed, (o) => buildPurchase(o, "orders/create", DEFAULT_SETTINGS, context), reps, gc) },
    { name: "  user data", what: "userDataInput + buildUserData (app/meta/user-data.ts)", microsPerEvent: microsPer(parsed, (o) => buildUserData(userDataInput(o, { ipAddress: o.client_details?.browser_ip, userAgent: o.client_details?.user_agent })), reps, gc) },
    { name: "    phones", what: `normalizePhone, libphonenumber (${(phones.reduce((n, p) => n + p.length, 0) / phones.length).toFixed(2)} per order)`, microsPerEvent: microsPer(phones, (ps) => { for (const p of ps) normalizePhone(String(p.value), p.country); }, reps, gc) },
    { name: "    SHA-256", what: `sha256Hex (${(toHash.reduce((n, h) => n + h.length, 0) / toHash.length).toFixed(1)} hashes per order)`, microsPerEvent: microsPer(toHash, (hs) => { for (const h of hs) sha256Hex(h); }, reps, gc) },
    { name: "validateEvent", what: "app/meta/validate.ts", microsPerEvent: microsPer(events, (e) => validateEvent(e, nowSeconds), reps, gc) },
  ];
  const build = steps.find((s) => s.name === "buildPurchase")!.microsPerEvent;
  const user = steps.find((s) => s.name === "  user data")!.microsPerEvent;
  steps.splice(6, 0, {
    name: "  rest of buildPurchase",
    what: "consent, fbp/fbc and landing URL, event_source_url, custom_data (difference of the two rows above)",
    microsPerEvent: Math.max(0, build - user),
  });
  return steps.map((s) => ({ ...s, share: s.microsPerEvent / whole }));
}
