// Match-key coverage, pure: which customer information keys Meta matches an event on, how a share
// of events carrying each is judged, and what the merchant can do about a low one, per key and
// event name. The counts come from ./match-coverage.server.ts (loadMatchCoverage); the card is
// ./match-coverage-card.tsx. No I/O.
import { CLIENT_KEYS } from "../pipeline/client-data";

export type ClientKey = (typeof CLIENT_KEYS)[number];

export interface MatchKey {
  id: string;
  /** What the merchant reads. */
  label: string;
  /** The user_data fields of Meta's event; an event carries the key when it has any of them. */
  fields: readonly string[];
  /** Removed from stored payloads past sending (./client-data.ts): counted from the note naming it too. */
  removedOnceSent?: ClientKey;
  /** Below this share, advice is given. */
  goodShare: number;
}

export const MATCH_KEYS = [
  { id: "em", label: "Email (em)", fields: ["em"], goodShare: 0.9 },
  { id: "ph", label: "Phone (ph)", fields: ["ph"], goodShare: 0.5 },
  { id: "name", label: "First or last name (fn/ln)", fields: ["fn", "ln"], goodShare: 0.8 },
  {
    id: "address",
    label: "City, state, ZIP or country (ct/st/zp/country)",
    fields: ["ct", "st", "zp", "country"],
    goodShare: 0.8,
  },
  { id: "external_id", label: "Customer id (external_id)", fields: ["external_id"], goodShare: 0.6 },
  { id: "fbp", label: "Browser id (fbp)", fields: ["fbp"], goodShare: 0.7 },
  { id: "fbc", label: "Ad click id (fbc)", fields: ["fbc"], goodShare: 0.5 },
  {
    id: "client_ip_address",
    label: "Client IP address",
    fields: ["client_ip_address"],
    removedOnceSent: "client_ip_address",
    goodShare: 0.9,
  },
  {
    id: "client_user_agent",
    label: "Client user agent",
    fields: ["client_user_agent"],
    removedOnceSent: "client_user_agent",
    goodShare: 0.9,
  },
] as const satisfies readonly MatchKey[];
export type MatchKeyId = (typeof MATCH_KEYS)[number]["id"];

/** Fewer events than this in the window: the shares are shown, but no advice is drawn from them. */
export const MIN_EVENTS_FOR_ADVICE = 10;

export interface KeyCoverage {
  key: MatchKeyId;
  label: string;
  count: number;
  /** count / total, 0 when there are no events. */
  share: number;
}

export interface EventCoverage {
  eventName: string;
  /** Distinct events (a Purchase sent to two pixels counts once). */
  total: number;
  keys: KeyCoverage[];
}

export interface Advice {
  eventName: string;
  key: MatchKeyId;
  share: number;
  /** warning: something to change; info: low for a reason that is not the merchant's to fix. */
  tone: "warning" | "info";
  message: string;
}

export interface MatchCoverage {
  since: string;
  until: string;
  events: EventCoverage[];
  advice: Advice[];
}

export function coverageOf(eventName: string, total: number, counts: Record<MatchKeyId, number>): EventCoverage {
  return {
    eventName,
    total,
    keys: MATCH_KEYS.map((k) => ({
      key: k.id,
      label: k.label,
      count: counts[k.id],
      share: total === 0 ? 0 : counts[k.id] / total,
    })),
  };
}

/** "26%", "0.4%", "100%": whole percents, one decimal below 1%. */
export function formatShare(share: number): string {
  const pct = share * 100;
  if (pct > 0 && pct < 1) return `${pct.toFixed(1)}%`;
  return `${Math.round(pct)}%`;
}

const EMBED = "turn on the theme app embed (Online Store > Themes > Customize > App embeds > CAPI Relay)";
const plural = (eventName: string) => `${eventName}s`;

/**
 * The advice for one key of one event name below its good share, or null. `shares` holds the
 * event name's other shares: a low fbc with a high fbp is the share of buyers from ad clicks,
 * not a setting.
 */
export function adviceFor(
  eventName: string,
  key: MatchKeyId,
  share: number,
  shares: Record<MatchKeyId, number>,
): Advice | null {
  const goal = MATCH_KEYS.find((k) => k.id === key)!.goodShare;
  if (share >= goal) return null;
  const head = `${MATCH_KEYS.find((k) => k.id === key)!.label} on ${formatShare(share)} of ${plural(eventName)}`;
  const checkout = eventName === "InitiateCheckout";
  const warn = (text: string): Advice => ({ eventName, key, share, tone: "warning", message: `${head}: ${text}` });
  const info = (text: string): Advice => ({ eventName, key, share, tone: "info", message: `${head}: ${text}` });
  const embedOn = shares.fbp >= MATCH_KEYS.find((k) => k.id === "fbp")!.goodShare;
  switch (key) {
    case "em":
      return checkout
        ? info("a checkout often starts before the buyer types an email. Nothing to change; the Purchase carries it.")
        : warn(
            "in Shopify's Settings > Checkout, ask customers for their email (not only a phone number) so more orders carry one.",
          );
    case "ph":
      return warn(
        "in Shopify's Settings > Checkout, make the phone number optional or required in the shipping address so more orders carry one.",
      );
    case "name":
    case "address":
      return checkout
        ? info(
            "a checkout often starts before the buyer fills in an address. Nothing to change; the Purchase carries it.",
          )
        : info(
            "names and addresses come from the order's shipping or billing address; orders without one (digital products, some POS sales) carry none.",
          );
    case "external_id":
      return info(
        "the customer id is sent only for orders with a customer account. Guest checkouts have none; Shopify's customer accounts raise it.",
      );
    case "fbp":
      return warn(`${EMBED} so each buyer's browser id reaches the order.`);
    case "fbc":
      return embedOn
        ? info(
            "only visitors who arrive from a Meta ad click have one, and the embed keeps it; this is roughly the share of buyers who came from your ads.",
          )
        : warn(`${EMBED} so ad clicks are kept.`);
    case "client_ip_address":
      return checkout
        ? info(
            "Shopify's checkout webhook carries no IP address. The web pixel sends the same InitiateCheckout from the browser, so Meta still matches it.",
          )
        : info(
            "the IP address comes from the order's browser details; orders from POS, draft orders and some sales channels carry none, and private addresses are never sent.",
          );
    case "client_user_agent":
      return warn(`${EMBED} so the buyer's browser is recorded on the cart.`);
    default:
      return unreachable(key);
  }
}

/** Every advice for the coverage, warnings first, lowest shares first; none for event names with few events. */
export function matchAdvice(events: EventCoverage[], min: number = MIN_EVENTS_FOR_ADVICE): Advice[] {
  const advice: Advice[] = [];
  for (const event of events) {
    if (event.total < min) continue;
    const shares = Object.fromEntries(event.keys.map((k) => [k.key, k.share])) as Record<MatchKeyId, number>;
    for (const k of event.keys) {
      const a = adviceFor(event.eventName, k.key, k.share, shares);
      if (a) advice.push(a);
    }
  }
  const rank = (a: Advice) => (a.tone === "warning" ? 0 : 1);
  return advice.sort((a, b) => rank(a) - rank(b) || a.share - b.share || a.eventName.localeCompare(b.eventName));
}

function unreachable(value: never): never {
  throw new Error(`unhandled match key ${String(value)}`);
}
