// Events built and hashed per second on one core: our event core (prepareEvent) against Meta's
// own Node SDK (ServerEvent/UserData/CustomData/Content + normalize(), see sdk-baseline.ts), on
// the same orders, in the same process and thread.
//
// Fairness: both sides start from the parsed JSON object of each order (a fresh JSON.parse copy
// per run, made before the clock starts), both end with the JSON-serialisable event object,
// neither serialises nor sends. After a warm-up of both, each round puts all orders through
// both sides, alternating ours, SDK, ours, SDK... every 500 orders, with a young-generation GC
// before each run so that neither pays for the other's garbage; the ratio is taken per round,
// because the machine is noisy (other processes come and go within seconds), and reported
// min/median/max. A shorter series with a full GC instead (the first version's choice) is
// reported beside it (see collector()).
import * as crypto from "node:crypto";
import os from "node:os";
import v8 from "node:v8";
import vm from "node:vm";
import { prepareEvent } from "../app/events/prepare";
import { DEFAULT_SETTINGS } from "../app/events/settings";
import { SDK_STEP, measurePhases, type Phase } from "./event-core-phases";
import { BENCH_NOW_SECONDS, BENCH_SHOP, makeOrderSet, type OrderTruth } from "./orders";
import { sdkEvent } from "./sdk-baseline";

type Json = Record<string, any>;

const PHASE_ORDERS = 1000;
const MIN_ROUNDS = 5;

export interface EventCoreOptions {
  orders?: number;
  rounds?: number;
  /** orders in the equivalence sample */
  sample?: number;
  /** time each step of the core too */
  phases?: boolean;
  /** orders per alternation inside a round */
  chunk?: number;
  /** after MIN_ROUNDS rounds, start no new round past this many seconds */
  budgetSeconds?: number;
  /** the GC before each timed run (see collector) */
  gc?: GcBetweenRuns;
  /** rounds of the cross-check series with the other GC (0: none) */
  crossCheckRounds?: number;
}

/** The same comparison with the other GC between runs, as a check on the main series. */
export interface GcCrossCheck {
  gc: GcBetweenRuns;
  rounds: number;
  oursPerSecond: number;
  sdkPerSecond: number;
  ratio: number;
  ratioMin: number;
  ratioMax: number;
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
  /** fewer rounds than planned: the time budget ended the series on a loaded machine */
  plannedRounds: number;
  /** orders per alternation inside a round */
  chunk: number;
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
  seconds: number;
  oursNotReady: number;
  sdkFailures: number;
  sdkFailureReasons: Record<string, number>;
  equivalence: { sample: number; sdkFailedInSample: number; fields: FieldCheck[] };
  phones: {
    ordersWithPhone: number;
    eventsWithPh: { ours: number; sdk: number };
    withCountryCode: { ours: number; sdk: number };
    /** orders whose every phone is written without its calling code */
    nationalOnly: number;
    nationalOnlyWithCountryCode: { ours: number; sdk: number };
  };
  /** same as phones.withCountryCode, as fractions (kept for earlier readers of this file) */
  phonesWithCountryCode: { ours: number; sdk: number };
  phases?: Phase[];
  gcCrossCheck?: GcCrossCheck;
  environment: {
    node: string;
    cpu: string;
    cpus: number;
    loadAverage1m: number;
    gcBetweenRuns: boolean;
    gcKind: GcBetweenRuns;
  };
}

export type GcBetweenRuns = "young" | "full" | "none";

/**
 * A GC between runs, off the clock, so that neither side pays for collecting the other's
 * garbage; `--expose-gc` set at run time, as `npm run bench` passes no flags.
 *
 * "young" (the default) empties the young generation, where both sides' garbage lives. "full"
 * (the first version's choice) is a mark-compact of the whole heap before every run of 500
 * orders. After each full GC both sides run several times slower, by amounts that vary from run
 * to run: on this 2-core machine the full-GC ratio of the same code came out anywhere between
 * 0.8x and 1.8x in runs minutes apart, the young-GC ratio between 1.0x and 1.35x. No webhook
 * server forces a full GC every 500 events, so the young-GC series is the headline and the
 * full-GC one is printed beside it.
 */
function collector(kind: GcBetweenRuns): { gc: () => void; available: boolean } {
  if (kind === "none") return { gc: () => {}, available: false };
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as (options?: { type: "minor" | "major" }) => void;
    if (typeof gc !== "function") return { gc: () => {}, available: false };
    return { gc: kind === "young" ? () => gc({ type: "minor" }) : () => gc(), available: true };
  } catch {
    return { gc: () => {}, available: false };
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** What one side did over a round: time spent on each chunk summed, so chunks interleave. */
class Side {
  seconds = 0;
  done = 0;
  failures = 0;
  reasons: Record<string, number> = {};
  out: Array<Json | undefined> = [];
  constructor(readonly build: (order: Json) => Json) {}

  /** Time one chunk: a fresh JSON.parse copy and a GC first, both off the clock. */
  chunk(json: string[], from: number, gc: () => void, keep: boolean): void {
    const orders = json.map((s) => JSON.parse(s) as Json);
    const out = new Array<Json | undefined>(orders.length);
    const errors: unknown[] = [];
    gc();
    const started = process.hrtime.bigint();
    for (let i = 0; i < orders.length; i++) {
      try {
        out[i] = this.build(orders[i]!);
      } catch (error) {
        errors.push(error);
      }
    }
    this.seconds += Number(process.hrtime.bigint() - started) / 1e9;
    this.done += orders.length;
    this.failures += errors.length;
    for (const e of errors) {
      // "Invalid email format for the passed email:'…'" -> "Invalid email format"
      const reason = (e instanceof Error ? e.message : String(e)).replace(/\s*(for|:)[\s\S]*$/, "");
      this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
    }
    if (keep) for (let i = 0; i < out.length; i++) this.out[from + i] = out[i];
  }

  get perSecond(): number {
    return this.done / this.seconds;
  }
}

function ours(order: Json): Json {
  const outcome = prepareEvent("orders/create", order, DEFAULT_SETTINGS, {
    shop: BENCH_SHOP,
    nowSeconds: BENCH_NOW_SECONDS,
  });
  if (outcome.status !== "ready") throw new Error(`${outcome.status}: ${outcome.reason}`);
  return outcome.event as unknown as Json;
}

/**
 * One round: every order through both sides, alternating ours and the SDK chunk by chunk
 * (ours, SDK, ours, SDK...), so that a burst of load from elsewhere hits both alike.
 */
function round(json: string[], chunk: number, gc: () => void, keep: boolean): { ours: Side; sdk: Side } {
  const a = new Side(ours);
  const b = new Side(sdkEvent);
  for (let from = 0; from < json.length; from += chunk) {
    const slice = json.slice(from, from + chunk);
    a.chunk(slice, from, gc, keep);
    b.chunk(slice, from, gc, keep);
  }
  return { ours: a, sdk: b };
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

function checkEquivalence(
  orders: Json[],
  oursOut: Array<Json | undefined>,
  sdkOut: Array<Json | undefined>,
  sample: number,
) {
  const n = Math.min(sample, orders.length);
  let sdkFailed = 0;
  const checks: FieldCheck[] = FIELDS.map((f) => ({
    field: f.field,
    compared: 0,
    equal: 0,
    differByRule: 0,
    unexpected: 0,
    examples: [],
  }));
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

function phoneQuality(
  orders: Json[],
  truth: OrderTruth[],
  oursOut: Array<Json | undefined>,
  sdkOut: Array<Json | undefined>,
) {
  let ordersWithPhone = 0;
  let nationalOnly = 0;
  const withPh = { ours: 0, sdk: 0 };
  const withCode = { ours: 0, sdk: 0 };
  const nationalWithCode = { ours: 0, sdk: 0 };
  for (let i = 0; i < orders.length; i++) {
    const o = orders[i]!;
    if (!o.billing_address?.phone) continue;
    ordersWithPhone++;
    // Every phone the order carries is written without its calling code.
    const national = present([o.phone, o.customer?.phone, o.billing_address?.phone, o.shipping_address?.phone]).every(
      (p) => !/^\s*(\+|00)/.test(p),
    );
    if (national) nationalOnly++;
    const expected = crypto.createHash("sha256").update(truth[i]!.phoneE164).digest("hex");
    const a = asList(oursOut[i]?.user_data?.ph);
    const b = asList(sdkOut[i]?.user_data?.ph);
    if (a.length) withPh.ours++;
    if (b.length) withPh.sdk++;
    if (a.includes(expected)) {
      withCode.ours++;
      if (national) nationalWithCode.ours++;
    }
    if (b.includes(expected)) {
      withCode.sdk++;
      if (national) nationalWithCode.sdk++;
    }
  }
  return {
    ordersWithPhone,
    eventsWithPh: withPh,
    withCountryCode: withCode,
    nationalOnly,
    nationalOnlyWithCountryCode: nationalWithCode,
  };
}

export function runEventCore(options: EventCoreOptions = {}): EventCoreResult {
  const startedAt = process.hrtime.bigint();
  const n = options.orders ?? 5000;
  const rounds = Math.max(MIN_ROUNDS, options.rounds ?? 7);
  const chunk = options.chunk ?? 500;
  const budgetSeconds = options.budgetSeconds ?? 30;
  const warmupOrders = Math.min(n, 1500);
  const gcKind = options.gc ?? "young";
  const { gc, available } = collector(gcKind);
  // Only the JSON text stays alive during the rounds: a small heap keeps each GC short.
  const { json, truth } = (() => {
    const set = makeOrderSet(n, 42, BENCH_NOW_SECONDS);
    return { json: set.orders.map((o) => JSON.stringify(o)), truth: set.truth };
  })();

  // Warm-up: both sides, twice, so that both run optimised code when the clock starts.
  const warm = json.slice(0, warmupOrders);
  for (let w = 0; w < 2; w++) round(warm, chunk, gc, false);

  const rates: EventCoreResult["rates"] = [];
  for (let r = 1; r <= rounds; r++) {
    // Past the minimum of rounds, a loaded machine ends the series early (it only adds noise).
    if (r > MIN_ROUNDS && Number(process.hrtime.bigint() - startedAt) / 1e9 > budgetSeconds) break;
    const pair = round(json, chunk, gc, false);
    rates.push({
      round: r,
      ours: pair.ours.perSecond,
      sdk: pair.sdk.perSecond,
      ratio: pair.ours.perSecond / pair.sdk.perSecond,
    });
  }
  const crossKind: GcBetweenRuns = gcKind === "full" ? "young" : "full";
  const crossRounds = options.crossCheckRounds ?? 3;
  let gcCrossCheck: GcCrossCheck | undefined;
  if (crossRounds > 0 && gcKind !== "none") {
    const cross = collector(crossKind);
    const crossRates = Array.from({ length: crossRounds }, () => round(json, chunk, cross.gc, false)).map((pair) => ({
      ours: pair.ours.perSecond,
      sdk: pair.sdk.perSecond,
      ratio: pair.ours.perSecond / pair.sdk.perSecond,
    }));
    const crossRatios = crossRates.map((x) => x.ratio);
    gcCrossCheck = {
      gc: crossKind,
      rounds: crossRounds,
      oursPerSecond: median(crossRates.map((x) => x.ours)),
      sdkPerSecond: median(crossRates.map((x) => x.sdk)),
      ratio: median(crossRatios),
      ratioMin: Math.min(...crossRatios),
      ratioMax: Math.max(...crossRatios),
    };
  }
  const oursPerSecond = median(rates.map((x) => x.ours));
  const sdkPerSecond = median(rates.map((x) => x.sdk));
  const ratios = rates.map((x) => x.ratio);

  // Off the clock: one more pass of both sides, keeping every event, for the checks.
  const { ours: lastOurs, sdk: lastSdk } = round(json, json.length, () => {}, true);
  const orders = json.map((s) => JSON.parse(s) as Json);
  const phones = phoneQuality(orders, truth, lastOurs.out, lastSdk.out);
  // The steps are timed after a young-generation GC: after a full one, whatever runs next is
  // slowed (see collector), which would blur the split between steps.
  const phases =
    options.phases === false
      ? undefined
      : measurePhases(orders.slice(0, PHASE_ORDERS), BENCH_NOW_SECONDS, collector("young").gc);

  return {
    orders: n,
    rounds: rates.length,
    plannedRounds: rounds,
    chunk,
    warmupOrders,
    nowSeconds: BENCH_NOW_SECONDS,
    rates,
    oursPerSecond,
    sdkPerSecond,
    ratio: median(ratios),
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
    ratioOfMedians: oursPerSecond / sdkPerSecond,
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
    gcCrossCheck,
    environment: {
      node: process.version,
      cpu: os.cpus()[0]?.model ?? "cpu",
      cpus: os.cpus().length,
      loadAverage1m: os.loadavg()[0] ?? 0,
      gcBetweenRuns: available,
      gcKind,
    },
  };
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
const pct = (x: number, of: number) => `${Math.floor((100 * x) / Math.max(1, of))}%`;

const GC_LABEL: Record<GcBetweenRuns, string> = {
  young: "young generation",
  full: "full (mark-compact)",
  none: "none",
};

/** The markdown section `npm run bench` prints. */
export function formatEventCore(r: EventCoreResult): string {
  const lines: string[] = [];
  lines.push(
    `## Event core: orders/create payload → hashed, validated Meta event (one core, one thread)`,
    ``,
    `${fmt(r.orders)} orders (seeded; US/CA/DE/FR/GB, mostly national-format phones) per round, ${r.rounds} rounds${r.rounds < r.plannedRounds ? ` (of ${r.plannedRounds} planned: time budget)` : ""} alternating ours/SDK every ${fmt(r.chunk)} orders, ` +
      `after a warm-up of ${fmt(r.warmupOrders)}; GC before each run: ${r.environment.gcBetweenRuns ? GC_LABEL[r.environment.gcKind] : "none"}; load average ${r.environment.loadAverage1m.toFixed(2)} on ${r.environment.cpus} CPUs; ${r.seconds.toFixed(1)} s.`,
    ``,
    `| | events/s (median) | µs/event |`,
    `|---|---:|---:|`,
    `| CAPI Relay event core (\`prepareEvent\`: zod-validated payload, E.164 phones, hashed, validated event) | ${fmt(r.oursPerSecond)} | ${(1e6 / r.oursPerSecond).toFixed(1)} |`,
    `| Meta facebook-nodejs-business-sdk (\`ServerEvent.normalize()\`: hashed event) | ${fmt(r.sdkPerSecond)} | ${(1e6 / r.sdkPerSecond).toFixed(1)} |`,
    `| **ratio ours/SDK** (median of per-round ratios; a comparison, not a target) | **${r.ratio.toFixed(2)}x** | |`,
    `| ratio min / median / max over rounds | ${r.ratioMin.toFixed(2)}x / ${r.ratio.toFixed(2)}x / ${r.ratioMax.toFixed(2)}x | |`,
    ...(r.gcCrossCheck
      ? [
          `| check: ${r.gcCrossCheck.rounds} rounds with a ${GC_LABEL[r.gcCrossCheck.gc]} GC before each run instead | ours ${fmt(r.gcCrossCheck.oursPerSecond)}, SDK ${fmt(r.gcCrossCheck.sdkPerSecond)}: **${r.gcCrossCheck.ratio.toFixed(2)}x** (${r.gcCrossCheck.ratioMin.toFixed(2)}-${r.gcCrossCheck.ratioMax.toFixed(2)}) | ours ${(1e6 / r.gcCrossCheck.oursPerSecond).toFixed(1)} vs ${(1e6 / r.gcCrossCheck.sdkPerSecond).toFixed(1)} µs |`,
        ]
      : []),
    ``,
    `| round | ours events/s | SDK events/s | ours/SDK |`,
    `|---:|---:|---:|---:|`,
    ...r.rates.map((x) => `| ${x.round} | ${fmt(x.ours)} | ${fmt(x.sdk)} | ${x.ratio.toFixed(2)}x |`),
    ``,
  );
  const reasons = Object.entries(r.sdkFailureReasons)
    .map(([k, v]) => `${v} × "${k}"`)
    .join(", ");
  lines.push(
    `Outcomes: ours ${fmt(r.orders - r.oursNotReady)}/${fmt(r.orders)} ready; SDK ${fmt(r.orders - r.sdkFailures)}/${fmt(r.orders)} normalised, ${r.sdkFailures} threw${reasons ? ` (${reasons})` : ""} — an integrator loses those events.`,
    ``,
    `Equivalence on the first ${r.equivalence.sample} orders (${r.equivalence.sdkFailedInSample} skipped: SDK threw): hashes equal where Meta's SDK rules and ours coincide?`,
    ``,
    `| field | compared | equal | differ, rules differ | differ, rules coincide | examples of differing raw values |`,
    `|---|---:|---:|---:|---:|---|`,
    ...r.equivalence.fields.map(
      (f) =>
        `| ${f.field} | ${f.compared} | ${f.equal} | ${f.differByRule} | ${f.unexpected}${f.unexpected ? " ❌" : " ✅"} | ${f.examples.join(", ") || "—"} |`,
    ),
    ``,
    `Matching quality, phones (${fmt(r.phones.ordersWithPhone)} orders with a billing phone): events with a \`ph\` — ours ${fmt(r.phones.eventsWithPh.ours)}, SDK ${fmt(r.phones.eventsWithPh.sdk)}; ` +
      `**phones with country code** (a \`ph\` equal to the hash of the buyer's E.164 number) — **ours ${pct(r.phones.withCountryCode.ours, r.phones.ordersWithPhone)}, SDK ${pct(r.phones.withCountryCode.sdk, r.phones.ordersWithPhone)}**; ` +
      `on the ${fmt(r.phones.nationalOnly)} orders whose phones are all in national format — ours ${pct(r.phones.nationalOnlyWithCountryCode.ours, r.phones.nationalOnly)}, SDK ${pct(r.phones.nationalOnlyWithCountryCode.sdk, r.phones.nationalOnly)}. ` +
      `The SDK hashes a national number as typed, without its calling code (and "212.555.0199" with its dots), so it cannot match; it only gets the numbers written internationally.`,
    ``,
  );
  if (r.phases) {
    lines.push(
      `Where the core's time goes (each step timed alone on ${fmt(PHASE_ORDERS)} of the same orders, after a young-generation GC, median of 3; steps overlap):`,
      ``,
      `| step | µs/event | share of prepareEvent | covers |`,
      `|---|---:|---:|---|`,
      ...r.phases
        .filter((p) => p.name !== SDK_STEP)
        .map(
          (p) =>
            `| ${p.name.replace(/^ +/, (s) => "&nbsp;".repeat(s.length))} | ${p.microsPerEvent.toFixed(1)} | ${(p.share * 100).toFixed(0)}% | ${p.what} |`,
        ),
    );
    const sdk = r.phases.find((p) => p.name === SDK_STEP);
    const zod = r.phases.find((p) => p.name === "zod parse");
    if (sdk) {
      lines.push(
        `| ${SDK_STEP} | ${sdk.microsPerEvent.toFixed(1)} | | the whole SDK path timed the same way, for comparison |`,
        ``,
      );
      if (zod) {
        lines.push(
          `Validating the payload with zod alone takes ${zod.microsPerEvent.toFixed(1)} µs/event here, ${((100 * zod.microsPerEvent) / sdk.microsPerEvent).toFixed(0)}% of the SDK's whole path (the SDK validates no payload).`,
          ``,
        );
      }
    } else lines.push(``);
  }
  return lines.join("\n");
}
