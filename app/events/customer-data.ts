// Gathers every fact an order or checkout holds about the buyer into raw user_data input.
// More distinct values mean more chances for Meta to match; buildUserData normalises,
// hashes and de-duplicates them.
import { firstPublicIp, NON_PUBLIC_LABELS, type ClientIpChoice } from "../meta/client-ip";
import type { MetaEvent } from "../meta/event";
import type { RawValue, UserDataInput } from "../meta/user-data";
import type { ShopifyAddress, ShopifyOrder } from "../shopify/payloads";
import type { Note } from "./outcome";

type Buyer = Pick<ShopifyOrder, "email" | "phone" | "customer" | "billing_address" | "shipping_address"> &
  Partial<Pick<ShopifyOrder, "contact_email">>;

export interface BrowserContext {
  ipAddress?: string | null;
  userAgent?: string | null;
  fbp?: string;
  fbc?: string;
}

export function userDataInput(buyer: Buyer, browser: BrowserContext, defaultCountry?: string): UserDataInput {
  // Billing, shipping, then the customer's default address. Plain loops: this runs for every
  // webhook, and each closure or spread here was garbage to collect.
  const addresses: ShopifyAddress[] = [];
  if (buyer.billing_address) addresses.push(buyer.billing_address);
  if (buyer.shipping_address) addresses.push(buyer.shipping_address);
  if (buyer.customer?.default_address) addresses.push(buyer.customer.default_address);
  // A phone without its own address takes the country of the first address we know.
  let buyerCountry: string | null | undefined = defaultCountry;
  for (const a of addresses) {
    if (a.country_code) {
      buyerCountry = a.country_code;
      break;
    }
  }
  const customer = buyer.customer;
  const ph: RawValue[] = [
    { value: buyer.phone, country: buyerCountry },
    { value: customer?.phone, country: buyerCountry },
  ];
  const fn: Array<string | null | undefined> = [customer?.first_name];
  const ln: Array<string | null | undefined> = [customer?.last_name];
  const ct: RawValue[] = [];
  const st: RawValue[] = [];
  const zp: RawValue[] = [];
  const country: Array<string | null | undefined> = [];
  for (const a of addresses) {
    const addressCountry = a.country_code ?? buyerCountry;
    ph.push({ value: a.phone, country: addressCountry });
    fn.push(a.first_name);
    ln.push(a.last_name);
    ct.push({ value: a.city, country: addressCountry });
    // US/CA: the 2-letter code. Elsewhere Meta asks for the region "in lowercase, no spaces"
    // without saying code or name, so both go: either may be what Meta holds.
    const upper = (addressCountry ?? "").toUpperCase();
    if (upper === "US" || upper === "CA") st.push({ value: a.province_code || a.province, country: addressCountry });
    else st.push({ value: a.province_code, country: addressCountry }, { value: a.province, country: addressCountry });
    zp.push({ value: a.zip, country: addressCountry });
    country.push(a.country_code);
  }
  return {
    em: [buyer.email, buyer.contact_email, customer?.email],
    ph,
    fn,
    ln,
    ct,
    st,
    zp,
    country,
    external_id: [customer?.id],
    client_ip_address: browser.ipAddress,
    client_user_agent: browser.userAgent,
    fbp: browser.fbp,
    fbc: browser.fbc,
  };
}

export const NO_IP: ClientIpChoice = { dropped: [] };

/** The buyer's IP from the candidates, best source first: only a public address is ever sent. */
export function clientIp(candidates: ReadonlyArray<string | null | undefined>): ClientIpChoice {
  return candidates.length === 0 ? NO_IP : firstPublicIp(candidates);
}

/**
 * Notes on the browser facts of a built event: browser IPs left out, and a website event going
 * without a user agent (Meta takes it and matches it less well; the usual cause is the theme
 * app embed not being on). `noUaCause` says what the payload itself lacked.
 */
export function browserNotes(ip: ClientIpChoice, event: MetaEvent, noUaCause: string): Note[] {
  const notes: Note[] = [];
  for (const { reason } of ip.dropped) {
    notes.push(
      reason === "not_an_ip"
        ? {
            code: "malformed_client_ip",
            message: "the browser IP given is not an IP address: sent without client_ip_address",
          }
        : {
            code: "client_ip_not_public",
            message: `the browser IP given is ${NON_PUBLIC_LABELS[reason]}, not the buyer's: not sent`,
          },
    );
  }
  if (event.action_source === "website" && !event.user_data.client_user_agent) {
    notes.push({
      code: "no_user_agent",
      message: `sent without the browser's user agent: ${noUaCause} the theme app embed recorded none (is the CAPI Relay app embed on in the theme?); Meta accepts it but matches it less well`,
    });
  }
  return notes;
}
