// Gathers every fact an order or checkout holds about the buyer into raw user_data input.
// More distinct values mean more chances for Meta to match; buildUserData normalises,
// hashes and de-duplicates them.
import type { RawValue, UserDataInput } from "../meta/user-data";
import type { ShopifyAddress, ShopifyOrder } from "../shopify/payloads";

type Buyer = Pick<ShopifyOrder, "email" | "phone" | "customer" | "billing_address" | "shipping_address"> &
  Partial<Pick<ShopifyOrder, "contact_email">>;

export interface BrowserContext {
  ipAddress?: string | null;
  userAgent?: string | null;
  fbp?: string;
  fbc?: string;
}

function addressesOf(buyer: Buyer): ShopifyAddress[] {
  return [buyer.billing_address, buyer.shipping_address, buyer.customer?.default_address].filter(
    (a): a is ShopifyAddress => !!a,
  );
}

export function userDataInput(buyer: Buyer, browser: BrowserContext, defaultCountry?: string): UserDataInput {
  const addresses = addressesOf(buyer);
  // A phone without its own address takes the country of the first address we know.
  const buyerCountry = addresses.find((a) => a.country_code)?.country_code ?? defaultCountry;
  const of = (pick: (a: ShopifyAddress) => string | null | undefined): RawValue[] =>
    addresses.map((a) => ({ value: pick(a), country: a.country_code ?? buyerCountry }));
  return {
    em: [buyer.email, buyer.contact_email, buyer.customer?.email],
    ph: [
      { value: buyer.phone, country: buyerCountry },
      { value: buyer.customer?.phone, country: buyerCountry },
      ...of((a) => a.phone),
    ],
    fn: [buyer.customer?.first_name, ...addresses.map((a) => a.first_name)],
    ln: [buyer.customer?.last_name, ...addresses.map((a) => a.last_name)],
    ct: of((a) => a.city),
    // US/CA: the 2-letter code. Elsewhere Meta asks for the region "in lowercase, no spaces"
    // without saying code or name, so both go: either may be what Meta holds.
    st: addresses.flatMap((a) => {
      const country = a.country_code ?? buyerCountry;
      const twoLetter = ["US", "CA"].includes((country ?? "").toUpperCase());
      const values = twoLetter ? [a.province_code || a.province] : [a.province_code, a.province];
      return values.map((value) => ({ value, country }));
    }),
    zp: of((a) => a.zip),
    country: addresses.map((a) => a.country_code),
    external_id: [buyer.customer?.id],
    client_ip_address: browser.ipAddress,
    client_user_agent: browser.userAgent,
    fbp: browser.fbp,
    fbc: browser.fbc,
  };
}

