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
import { sdkEvent } from "./sdk-baseline";

/** The name of the row timing Meta's SDK on the same orders under the same conditions. */
export const SDK_STEP = "Meta SDK, same orders";

export interface Phase {
  name: string;
  /** what the step covers, for the table */
  what: string;
  microsPerEvent: number;
  /** share of the whole prepareEvent */
  share: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Step {
  name: string;
  what: string;
  /** time fn over all items; returns µs per item */
  time: () => number;
}

function step<T>(name: string, what: string, items: T[], fn: (item: T) => unknown): Step {
  return {
    name,
    what,
    time: () => {
      const started = process.hrtime.bigint();
      for (const item of items) fn(item);
      return Number(process.hrtime.bigint() - started) / 1e3 / items.length;
    },
  };
}

/** Warm each step, then time them round-robin (so load from elsewhere spreads over all); medians. */
function timeSteps(steps: Step[], reps: number, gc: () => void): number[] {
  for (const s of steps) s.time();
  const runs = steps.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    steps.forEach((s, k) => {
      gc();
      runs[k]!.push(s.time());
    });
  }
  return runs.map(median);
}

export function measurePhases(
  orders: Array<Record<string, any>>,
  nowSeconds: number,
  gc: () => void,
  reps = 3,
): Phase[] {
  const context = { shop: BENCH_SHOP, nowSeconds };
  const parsed: ShopifyOrder[] = orders.map((o) => orderSchema.parse(o));
  const events: MetaEvent[] = [];
  for (const order of parsed) {
    const outcome = buildPurchase(order, "orders/create", DEFAULT_SETTINGS, context);
    if (outcome.status === "ready") events.push(outcome.event);
  }
  const placedMs = (o: ShopifyOrder) => Date.parse(o.processed_at ?? o.created_at);
  const inputs = parsed.map((o) =>
    userDataInput(o, { ipAddress: o.client_details?.browser_ip, userAgent: o.client_details?.user_agent }),
  );
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

  const steps = [
    step("prepareEvent", "the whole core, as benchmarked above", orders, (o) =>
      prepareEvent("orders/create", o, DEFAULT_SETTINGS, context),
    ),
    step("zod parse", "orderSchema.safeParse (app/shopify/payloads.ts)", orders, (o) => orderSchema.safeParse(o)),
    step("buildPurchase", "parsed order to event (app/events/purchase.ts)", parsed, (o) =>
      buildPurchase(o, "orders/create", DEFAULT_SETTINGS, context),
    ),
    step(
      "  user data",
      "userDataInput + buildUserData (app/events/customer-data.ts, app/meta/user-data.ts)",
      parsed,
      (o) =>
        buildUserData(
          userDataInput(o, { ipAddress: o.client_details?.browser_ip, userAgent: o.client_details?.user_agent }),
          placedMs(o),
        ),
    ),
    step(
      "    phones",
      `normalizePhone: libphonenumber-js, max metadata (app/meta/user-data.ts) (${(phones.reduce((n, p) => n + p.length, 0) / phones.length).toFixed(2)} per order)`,
      phones,
      (ps) => {
        for (const p of ps) normalizePhone(String(p.value), p.country);
      },
    ),
    step(
      "    SHA-256",
      `sha256Hex, once per hash the event carries (${(toHash.reduce((n, h) => n + h.length, 0) / toHash.length).toFixed(1)}); the core hashes each distinct raw value, so "Jane" and "JANE" once each`,
      toHash,
      (hs) => {
        for (const h of hs) sha256Hex(h);
      },
    ),
    step("validateEvent", "app/meta/validate.ts", events, (e) => validateEvent(e, nowSeconds)),
    step(SDK_STEP, "sdkEvent (bench/sdk-baseline.ts), timed like the steps above, for comparison", orders, (o) => {
      try {
        sdkEvent(o);
      } catch {
        // counted in the main series; here only the time matters
      }
    }),
  ];
  const micros = timeSteps(steps, reps, gc);
  const rows: Array<Omit<Phase, "share">> = steps.map((s, k) => ({
    name: s.name,
    what: s.what,
    microsPerEvent: micros[k]!,
  }));
  const whole = micros[0]!;
  const build = micros[2]!;
  const user = micros[3]!;
  rows.splice(6, 0, {
    name: "  rest of buildPurchase",
    what: "consent, fbp/fbc and landing URL, event_source_url, custom_data (difference of the two rows above)",
    microsPerEvent: Math.max(0, build - user),
  });
  return rows.map((s) => ({ ...s, share: s.microsPerEvent / whole }));
}
