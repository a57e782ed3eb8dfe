// Events built and hashed per second on one core: our event core against Meta's own Node SDK
// (ServerEvent/UserData/CustomData + normalize()), on the same orders, in the same process,
// alternating rounds so that machine noise hits both alike.
import { createHash } from "node:crypto";
import bizSdk from "facebook-nodejs-business-sdk";
import { prepareEvent } from "../app/events/prepare";
import { DEFAULT_SETTINGS } from "../app/events/settings";
import { BENCH_NOW_SECONDS, makeOrders } from "./orders";

const { ServerEvent, UserData, CustomData, Content } = bizSdk as unknown as Record<string, any>;

export interface EventCoreResult {
  orders: number;
  rounds: number;
  oursPerSecond: number;
  sdkPerSecond: number;
  ratio: number;
  ratioMin: number;
  sdkFailures: number;
  phonesWithCountryCode: { ours: number; sdk: number };
}

function ours(order: Record<string, any>): unknown {
  const outcome = prepareEvent("orders/create", order, DEFAULT_SETTINGS, { shop: "bench.myshopify.com", nowSeconds: BENCH_NOW_SECONDS });
  if (outcome.status !== "ready") throw new Error(`bench order not ready: ${outcome.status}`);
  return outcome.event;
}

/** What an integrator writes with Meta's SDK for the same order. */
function sdk(order: Record<string, any>): Record<string, any> {
  const a = order.billing_address;
  const ud = new UserData()
    .setEmails([order.email, order.customer?.email].filter(Boolean))
    .setPhones([a.phone].filter(Boolean))
    .setFirstNames([order.customer.first_name, a.first_name])
    .setLastNames([order.customer.last_name, a.last_name])
    .setCities([a.city])
    .setStates([a.province_code])
    .setZips([a.zip])
    .setCountries([a.country_code.toLowerCase()])
    .setExternalIds([String(order.customer.id)])
    .setClientIpAddress(order.client_details.browser_ip)
    .setClientUserAgent(order.client_details.user_agent);
  const fbp = order.note_attributes.find((n: any) => n.name === "_fbp")?.value;
  if (fbp) ud.setFbp(fbp);
  const contents = order.line_items.map((li: any) => new Content().setId(String(li.variant_id)).setQuantity(li.quantity).setItemPrice(Number(li.price)));
  const cd = new CustomData()
    .setValue(Number(order.total_price_set.presentment_money.amount))
    .setCurrency(order.total_price_set.presentment_money.currency_code.toLowerCase())
    .setContents(contents)
    .setContentIds(order.line_items.map((li: any) => String(li.variant_id)))
    .setNumItems(order.line_items.reduce((n: number, li: any) => n + li.quantity, 0))
    .setOrderId(String(order.id));
  const event = new ServerEvent()
    .setEventName("Purchase")
    .setEventTime(Math.floor(Date.parse(order.created_at) / 1000))
    .setEventId(String(order.id))
    .setUserData(ud)
    .setCustomData(cd)
    .setEventSourceUrl(order.order_status_url)
    .setActionSource("website");
  return event.normalize();
}

function time(fn: (o: Record<string, any>) => unknown, orders: Array<Record<string, any>>): { perSecond: number; failures: number; out: unknown[] } {
  let failures = 0;
  const out: unknown[] = [];
  const started = process.hrtime.bigint();
  for (const order of orders) {
    try {
      out.push(fn(order));
    } catch {
      failures++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { perSecond: orders.length / seconds, failures, out };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function runEventCore(options: { orders?: number; rounds?: number } = {}): EventCoreResult {
  const n = options.orders ?? 5000;
  const rounds = options.rounds ?? 7;
  // Each side gets fresh deep copies so that neither benefits from the other's parsing.
  const orders = makeOrders(n);
  const copy = () => structuredClone(orders);
  time(ours, copy().slice(0, 1000));
  time(sdk, copy().slice(0, 1000));
  const oursRates: number[] = [];
  const sdkRates: number[] = [];
  const ratios: number[] = [];
  let sdkFailures = 0;
  let sample: { ours: unknown[]; sdk: unknown[] } = { ours: [], sdk: [] };
  for (let r = 0; r < rounds; r++) {
    const a = time(ours, copy());
    const b = time(sdk, copy());
    oursRates.push(a.perSecond);
    sdkRates.push(b.perSecond);
    ratios.push(a.perSecond / b.perSecond);
    sdkFailures = b.failures;
    sample = { ours: a.out, sdk: b.out };
  }
  // Matching quality: a phone hash only matches when it carries the country calling code.
  const codes = ["1", "49", "33", "44"];
  const withCode = (list: unknown[], get: (e: any) => string[] | undefined, raws: Array<Record<string, any>>) =>
    list.filter((e, i) => {
      const hashes = get(e) ?? [];
      const digits = String(raws[i]!.billing_address.phone).replace(/\D/g, "").replace(/^0+/, "");
      return hashes.some((h) => codes.some((c) => h === createHash("sha256").update(c + digits).digest("hex")));
    }).length;
  return {
    orders: n,
    rounds,
    oursPerSecond: median(oursRates),
    sdkPerSecond: median(sdkRates),
    ratio: median(ratios),
    ratioMin: Math.min(...ratios),
    sdkFailures,
    phonesWithCountryCode: {
      ours: withCode(sample.ours, (e) => [e.user_data.ph].flat().filter(Boolean), orders) / n,
      sdk: withCode(sample.sdk, (e) => e.user_data.ph, orders) / n,
    },
  };
}
