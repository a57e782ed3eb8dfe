// Events built and hashed per second on one core: our event core (prepareEvent) against Meta's
// own Node SDK (ServerEvent/UserData/CustomData/Content + normalize(), see sdk-baseline.ts), on
// the same orders, in the same process and thread.
//
// Fairness: both sides start from the parsed JSON object of each order (a fresh JSON.parse copy
// per run, made before the clock starts), both end with the JSON-serialisable event object,
// neither serialises nor sends. Runs alternate ours, SDK, ours, SDK... after a warm-up of both,
// with a full GC before each run so that neither pays for the other's garbage; ratios are taken
// within each pair of neighbouring runs, because the machine is noisy.
import * as crypto from "node:crypto";
import os from "node:os";
import v8 from "node:v8";
import vm from "node:vm";
import { prepareEvent } from "../app/events/prepare";
import { DEFAULT_SETTINGS } from "../app/events/settings";
import { measurePhases, type Phase } from "./event-core-phases";
import { BENCH_NOW_SECONDS, BENCH_SHOP, makeOrderSet, type OrderTruth } from "./orders";
import { sdkEvent } from "./sdk-baseline";

type Json = Record<string, any>;

const PHASE_ORDERS = 1000;

export interface EventCoreOptions {
  orders?: number;
  rounds?: number;
  /** orders in the equivalence sample */
  sample?: number;
  /** time each step of the core too */
  phases?: boolean;
}

export interface FieldCheck {
  field: string;
  compared: number;
  equal: number;
  /** rules differ for these raw values (punctuation in names, hyphenated zips...), hashes differ */
  differByRule: number;
  /** rules coincide for these raw values yet the hashes differ: a bug on one side */
  unexpected: number;
  examples: string[];
}

export interface EventCoreResult {
  orders: number;
  rounds: number;
  warmupOrders: number;
  nowSeconds: number;
  rates: Array<{ round: number; ours: number; sdk: number; ratio: number }>;
  oursPerSecond: number;
  sdkPerSecond: number;
  /** median of the per-round ratios */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  /** ratio of the medians, for comparison with the per-round one */
  ratioOfMedians: number;
  target: number;
  seconds: number;
  oursNotReady: number;
  sdkFailures: number;
  sdkFailureReasons: Record<string, number>;
  equivalence: { sample: number; sdkFailedInSample: number; fields: FieldCheck[] };
  phones: {
    ordersWithPhone: number;
    eventsWithPh: { ours: number; sdk: number };
    withCountryCode: { ours: number; sdk: number };
  };
  /** same as phones.withCountryCode, as fractions (kept for earlier readers of this file) */
  phonesWithCountryCode: { ours: number; sdk: number };
  phases?: Phase[];
  environment: { node: string; cpu: string; cpus: number; loadAverage1m: number; gcBetweenRuns: boolean };
}

/** A full GC between runs; `--expose-gc` set at run time, as `npm run bench` passes no flags. */
function collector(): { gc: () => void; available: boolean } {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    return { gc, available: typeof gc === "function" };
  } catch {
    return { gc: () => {}, available: false };
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Run {
  perSecond: number;
  failures: number;
  reasons: Record<string, number>;
  out: Array<Json | undefined>;
}

function ours(order: Json): Json {
  const outcome = prepareEvent("orders/create", order, DEFAULT_SETTINGS, { shop: BENCH_SHOP, nowSeconds: BENCH_NOW_SECONDS });
  if (outcome.status !== "ready") throw new Error(`${outcome.status}: ${outcome.reason}`);
  return outcome.event as unknown as Json;
}

function run(side: (order: Json) => Json, json: string[], gc: () => void): Run {
  const orders = json.map((s) => JSON.parse(s) as Json);
  const out = new Array<Json | undefined>(orders.length);
  const errors: unknown[] = [];
  gc();
  const started = process.hrtime.bigint();
  for (let i = 0; i < orders.length; i++) {
    try {
      out[i] = side(orders[i]!);
    } catch (error) {
      errors.push(error);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const reasons: Record<string, number> = {};
  for (const e of errors) {
    // "Invalid email format for the passed email:'…'" -> "Invalid email format"
    const reason = (e instanceof Error ? e.message : String(e)).replace(/\s*(for|:)[\s\S]*$/, "");
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  return { perSecond: orders.length / seconds, failures: errors.length, reasons, out };
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const sameSet = (a: string[], b: string[]) => {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
};
const present = (xs: unknown[]): string[] => xs.filter((x): x is string => typeof x === "string" && x.trim() !== "");

/**
 * Per field: the raw values both sides were given, and whether Meta's SDK rules and ours
 * normalise them to the same text (so their hashes must be equal).
 */
const FIELDS: Array<{ field: string; raws: (o: Json) => string[]; coincide: (raw: string, o: Json) => boolean }> = [
  {
    field: "em",
    raws: (o) => present([o.email, o.contact_email, o.customer?.email]),
    // The SDK trims and lowercases, then insists on an ASCII address; we also drop inner spaces.
    coincide: (raw) => /^[\x21-\x7e]+$/.test(raw.trim()),
  },
  {
    field: "fn",
    raws: (o) => present([o.customer?.first_name, o.billing_address?.first_name, o.shipping_address?.first_name]),
    // The SDK keeps hyphens, apostrophes and spaces in names; we keep letters only.
    coincide: (raw) => /^\p{L}+$/u.test(raw.trim()),
  },
  {
    field: "ln",
    raws: (o) => present([o.customer?.last_name, o.billing_address?.last_name, o.shipping_address?.last_name]),
    coincide: (raw) => /^\p{L}+$/u.test(raw.trim()),
  },
  {
    field: "ct",
    raws: (o) => present([o.billing_address?.city, o.shipping_address?.city]),
    // The SDK strips digits, spaces, ".", "-" and parentheses; we keep letters only.
    coincide: (raw) => /^[\p{L}\s.()-]+$/u.test(raw),
  },
  {
    field: "zp",
    raws: (o) => present([o.billing_address?.zip, o.shipping_address?.zip]),
    // The SDK keeps what precedes a "-"; we drop the "-" (and keep 5 digits for the US).
    coincide: (raw, o) => !raw.includes("-") || o.billing_address?.country_code === "US",
  },
  {
    field: "country",
    raws: (o) => present([o.billing_address?.country_code, o.shipping_address?.country_code]),
    coincide: (raw) => /^[A-Za-z]{2}$/.test(raw.trim()),
  },
];

function checkEquivalence(orders: Json[], oursOut: Array<Json | undefined>, sdkOut: Array<Json | undefined>, sample: number) {
  const n = Math.min(sample, orders.length);
  let sdkFailed = 0;
  const checks: FieldCheck[] = FIELDS.map((f) => ({ field: f.field, compared: 0, equal: 0, differByRule: 0, unexpected: 0, examples: [] }));
  for (let i = 0; i < n; i++) {
    const a = oursOut[i];
    const b = sdkOut[i];
    if (!a) continue;
    if (!b) {
      sdkFailed++;
      continue;
    }
    FIELDS.forEach((f, k) => {
      const check = checks[k]!;
      const raws = f.raws(orders[i]!);
      if (raws.length === 0) return;
      check.compared++;
      if (sameSet(asList(a.user_data?.[f.field]), asList(b.user_data?.[f.field]))) {
        check.equal++;
        return;
      }
      const byRule = raws.some((r) => !f.coincide(r, orders[i]!));
      if (byRule) check.differByRule++;
      else check.unexpected++;
      const example = raws.find((r) => !f.coincide(r, orders[i]!)) ?? raws[0]!;
      const label = byRule ? JSON.stringify(example) : `UNEXPECTED ${JSON.stringify(raws)}`;
      if (check.examples.length < 3 && !check.examples.includes(label)) check.examples.push(label);
    });
  }
  return { sample: n, sdkFailedInSample: sdkFailed, fields: checks };
}

function phoneQuality(orders: Json[], truth: OrderTruth[], oursOut: Array<Json | undefined>, sdkOut: Array<Json | undefined>) {
  let ordersWithPhone = 0;
  const withPh = { ours: 0, sdk: 0 };
  const withCode = { ours: 0, sdk: 0 };
  for (let i = 0; i < orders.length; i++) {
    if (!orders[i]!.billing_address?.phone) continue;
    ordersWithPhone++;
    const expected = crypto.createHash("sha256").update(truth[i]!.phoneE164).digest("hex");
    const a = asList(oursOut[i]?.user_data?.ph);
    const b = asList(sdkOut[i]?.user_data?.ph);
    if (a.length) withPh.ours++;
    if (b.length) withPh.sdk++;
    if (a.includes(expected)) withCode.ours++;
    if (b.includes(expected)) withCode.sdk++;
  }
  return { ordersWithPhone, eventsWithPh: withPh, withCountryCode: withCode };
}

export function runEventCore(options: EventCoreOptions = {}): EventCoreResult {
  const startedAt = process.hrtime.bigint();
  const n = options.orders ?? 5000;
  const rounds = options.rounds ?? 7;
  const warmupOrders = Math.min(n, 1500);
  const { gc, available } = collector();
  const { orders, truth } = makeOrderSet(n, 42, BENCH_NOW_SECONDS);
  const json = orders.map((o) => JSON.stringify(o));

  // Warm-up: both sides, twice, so that both run optimised code when the clock starts.
  const warm = json.slice(0, warmupOrders);
  for (let w = 0; w < 2; w++) {
    run(ours, warm, gc);
    run(sdkEvent, warm, gc);
  }

  const rates: EventCoreResult["rates"] = [];
  let last: { ours: Run; sdk: Run } | undefined;
  for (let r = 1; r <= rounds; r++) {
    const a = run(ours, json, gc);
    const b = run(sdkEvent, json, gc);
    rates.push({ round: r, ours: a.perSecond, sdk: b.perSecond, ratio: a.perSecond / b.perSecond });
    last = { ours: a, sdk: b };
  }
  const { ours: lastOurs, sdk: lastSdk } = last!;
  const oursPerSecond = median(rates.map((x) => x.ours));
  const sdkPerSecond = median(rates.map((x) => x.sdk));
  const ratios = rates.map((x) => x.ratio);
  const phones = phoneQuality(orders, truth, lastOurs.out, lastSdk.out);
  const phases = options.phases === false ? undefined : measurePhases(orders.slice(0, PHASE_ORDERS), BENCH_NOW_SECONDS, gc);

  return {
    orders: n,
    rounds,
    warmupOrders,
    nowSeconds: BENCH_NOW_SECONDS,
    rates,
    oursPerSecond,
    sdkPerSecond,
    ratio: median(ratios),
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
    ratioOfMedians: oursPerSecond / sdkPerSecond,
    target: 3,
    seconds: Number(process.hrtime.bigint() - startedAt) / 1e9,
    oursNotReady: lastOurs.failures,
    sdkFailures: lastSdk.failures,
    sdkFailureReasons: lastSdk.reasons,
    equivalence: checkEquivalence(orders, lastOurs.out, lastSdk.out, options.sample ?? 1000),
    phones,
    phonesWithCountryCode: {
      ours: phones.withCountryCode.ours / Math.max(1, phones.ordersWithPhone),
      sdk: phones.withCountryCode.sdk / Math.max(1, phones.ordersWithPhone),
    },
    phases,
    environment: {
      node: process.version,
      cpu: os.cpus()[0]?.model ?? "cpu",
      cpus: os.cpus().length,
      loadAverage1m: os.loadavg()[0] ?? 0,
      gcBetweenRuns: available,
    },
  };
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
const pct = (x: number, of: number) => `${((100 * x) / Math.max(1, of)).toFixed(0)}%`;

/** The markdown section `npm run bench` prints. */
export function formatEventCore(r: EventCoreResult): string {
  const lines: string[] = [];
  const mark = r.ratio >= r.target ? "✅" : "❌";
  lines.push(
    `## Event core: orders/create payload → hashed, validated Meta event (one core, one thread)`,
    ``,
    `${fmt(r.orders)} orders (seeded; US/CA/DE/FR/GB, national-format phones), ${r.rounds} alternating rounds after a warm-up of ${fmt(r.warmupOrders)}, ` +
      `GC before each run: ${r.environment.gcBetweenRuns ? "yes" : "no"}; load average ${r.environment.loadAverage1m.toFixed(2)}; ${r.seconds.toFixed(1)} s.`,
    ``,
    `| | events/s (median) |`,
    `|---|---:|`,
    `| CAPI Relay event core (\`prepareEvent\`) | ${fmt(r.oursPerSecond)} |`,
    `| Meta facebook-nodejs-business-sdk (\`ServerEvent.normalize()\`) | ${fmt(r.sdkPerSecond)} |`,
    `| **ratio ours/SDK** (median of per-round ratios) | **${r.ratio.toFixed(2)}x** ${mark} target ≥ ${r.target}x |`,
    `| ratio min / median / max over rounds | ${r.ratioMin.toFixed(2)}x / ${r.ratio.toFixed(2)}x / ${r.ratioMax.toFixed(2)}x |`,
    ``,
    `| round | ours events/s | SDK events/s | ours/SDK |`,
    `|---:|---:|---:|---:|`,
    ...r.rates.map((x) => `| ${x.round} | ${fmt(x.ours)} | ${fmt(x.sdk)} | ${x.ratio.toFixed(2)}x |`),
    ``,
  );
  const reasons = Object.entries(r.sdkFailureReasons).map(([k, v]) => `${v} × "${k}"`).join(", ");
  lines.push(
    `Outcomes: ours ${fmt(r.orders - r.oursNotReady)}/${fmt(r.orders)} ready; SDK ${fmt(r.orders - r.sdkFailures)}/${fmt(r.orders)} normalised, ${r.sdkFailures} threw${reasons ? ` (${reasons})` : ""} — an integrator loses those events.`,
    ``,
    `Equivalence on the first ${r.equivalence.sample} orders (${r.equivalence.sdkFailedInSample} skipped: SDK threw): hashes equal where Meta's SDK rules and ours coincide?`,
    ``,
    `| field | compared | equal | differ, rules differ | differ, rules coincide | examples of differing raw values |`,
    `|---|---:|---:|---:|---:|---|`,
    ...r.equivalence.fields.map(
      (f) => `| ${f.field} | ${f.compared} | ${f.equal} | ${f.differByRule} | ${f.unexpected}${f.unexpected ? " ❌" : " ✅"} | ${f.examples.join(", ") || "—"} |`,
    ),
    ``,
    `Matching quality, phones (${fmt(r.phones.ordersWithPhone)} orders with a billing phone): events with a \`ph\` — ours ${pct(r.phones.eventsWithPh.ours, r.phones.ordersWithPhone)}, SDK ${pct(r.phones.eventsWithPh.sdk, r.phones.ordersWithPhone)}; ` +
      `phones with country code (a \`ph\` equal to the hash of the buyer's E.164 number) — **ours ${pct(r.phones.withCountryCode.ours, r.phones.ordersWithPhone)}, SDK ${pct(r.phones.withCountryCode.sdk, r.phones.ordersWithPhone)}**. ` +
      `The SDK hashes national numbers without their calling code (and "212.555.0199" with its dots), so those cannot match.`,
    ``,
  );
  if (r.phases) {
    lines.push(
      `Where the core's time goes (each step timed alone on ${fmt(PHASE_ORDERS)} of the same orders, median of 3; steps overlap):`,
      ``,
      `| step | µs/event | share of prepareEvent | covers |`,
      `|---|---:|---:|---|`,
      ...r.phases.map((p) => `| ${p.name.replace(/^ +/, (s) => "&nbsp;".repeat(s.length))} | ${p.microsPerEvent.toFixed(1)} | ${(p.share * 100).toFixed(0)}% | ${p.what} |`),
      `| SDK, for reference | ${(1e6 / r.sdkPerSecond).toFixed(1)} | | the whole SDK path; ≥ ${r.target}x means ours ≤ ${(1e6 / r.sdkPerSecond / r.target).toFixed(1)} µs/event |`,
      ``,
    );
  }
  return lines.join("\n");
}
