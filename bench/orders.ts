// Deterministic, realistic Shopify `orders/create` payloads (REST webhook shape) for the
// benchmarks. A seeded PRNG drives every choice, and the clock is a parameter, so every run
// measures the same work: no Math.random, no Date.now.
//
// The mix is what a small multi-country store sees: a USD shop selling to the US, Canada,
// Germany, France and the UK in the buyer's currency; emails typed with stray spaces and
// capitals; phone numbers mostly in the national format people type (the calling code must
// come from the address), some written internationally, and the customer's own phone in E.164
// when Shopify has one; a gift shipped to someone else now and then; browser ids (`_fbp`,
// `_fbc`) from the theme embed. Every order is one the event core must send, so the pipeline
// benchmark can wait for all of them.

export const BENCH_NOW_SECONDS = 1_795_200_000; // 2026-11-20T18:40:00Z
export const BENCH_SHOP = "bench.myshopify.com";

/** mulberry32: small, fast, and the same sequence on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Place {
  city: string;
  province: string | null;
  provinceCode: string | null;
  /** zips to pick from */
  zips: string[];
  /** national prefix (with trunk 0 where the country has one) and subscriber digit count */
  area: string;
  digits: number;
}

interface Country {
  code: "US" | "CA" | "DE" | "FR" | "GB";
  callingCode: string;
  /** the trunk prefix dropped after the calling code */
  trunk: string;
  currency: string;
  /** USD per unit of the presentment currency */
  rate: number;
  weight: number;
  places: Place[];
  /** national formats people type, given area and subscriber digits */
  national: Array<(area: string, sub: string) => string>;
  international: (area: string, sub: string) => string;
  first: string[];
  last: string[];
  domains: string[];
}

const split = (s: string, at: number) => `${s.slice(0, at)} ${s.slice(at)}`;

const COUNTRIES: Country[] = [
  {
    code: "US",
    callingCode: "1",
    trunk: "",
    currency: "USD",
    rate: 1,
    weight: 0.45,
    places: [
      {
        city: "San Francisco",
        province: "California",
        provinceCode: "CA",
        zips: ["94103", "94110-2231", "94117"],
        area: "415",
        digits: 7,
      },
      {
        city: "New York",
        province: "New York",
        provinceCode: "NY",
        zips: ["10001", "10027", "10011-4417"],
        area: "212",
        digits: 7,
      },
      { city: "Austin", province: "Texas", provinceCode: "TX", zips: ["78701", "78704"], area: "512", digits: 7 },
      {
        city: "St. Louis",
        province: "Missouri",
        provinceCode: "MO",
        zips: ["63101", "63108-1202"],
        area: "314",
        digits: 7,
      },
      { city: "Seattle", province: "Washington", provinceCode: "WA", zips: ["98101", "98122"], area: "206", digits: 7 },
    ],
    national: [
      (a, s) => `(${a}) ${s.slice(0, 3)}-${s.slice(3)}`,
      (a, s) => `${a}.${s.slice(0, 3)}.${s.slice(3)}`,
      (a, s) => `${a}-${s.slice(0, 3)}-${s.slice(3)}`,
      (a, s) => `${a}${s}`,
    ],
    international: (a, s) => `+1 ${a}-${s.slice(0, 3)}-${s.slice(3)}`,
    first: ["James", "Mary", "Olivia", "Noah", "Emma", "Liam", "Ava", "Ethan", "Mia", "Lucas", "Chloe", "Priya"],
    last: [
      "Smith",
      "Johnson",
      "Williams",
      "Brown",
      "Garcia",
      "Miller",
      "Davis",
      "Rodriguez",
      "Lee",
      "O'Brien",
      "Nguyen",
      "Chen",
    ],
    domains: ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com"],
  },
  {
    code: "CA",
    callingCode: "1",
    trunk: "",
    currency: "CAD",
    rate: 0.72,
    weight: 0.1,
    places: [
      {
        city: "Toronto",
        province: "Ontario",
        provinceCode: "ON",
        zips: ["M5V 2T6", "M4C 1B5"],
        area: "416",
        digits: 7,
      },
      {
        city: "Montréal",
        province: "Quebec",
        provinceCode: "QC",
        zips: ["H2X 1Y4", "H3B 4W8"],
        area: "514",
        digits: 7,
      },
      {
        city: "Vancouver",
        province: "British Columbia",
        provinceCode: "BC",
        zips: ["V6B 1A1"],
        area: "604",
        digits: 7,
      },
    ],
    national: [(a, s) => `(${a}) ${s.slice(0, 3)}-${s.slice(3)}`, (a, s) => `${a} ${s.slice(0, 3)} ${s.slice(3)}`],
    international: (a, s) => `+1 ${a} ${s.slice(0, 3)} ${s.slice(3)}`,
    first: ["Olivia", "Liam", "Emma", "Noah", "Charlotte", "Félix", "Gabrielle", "William"],
    last: ["Tremblay", "Gagnon", "Roy", "Smith", "Wilson", "MacDonald", "Côté", "Martin"],
    domains: ["gmail.com", "hotmail.ca", "videotron.ca", "outlook.com"],
  },
  {
    code: "DE",
    callingCode: "49",
    trunk: "0",
    currency: "EUR",
    rate: 1.08,
    weight: 0.2,
    places: [
      { city: "Berlin", province: null, provinceCode: null, zips: ["10115", "10437", "12043"], area: "030", digits: 8 },
      { city: "München", province: null, provinceCode: null, zips: ["80331", "80802"], area: "089", digits: 7 },
      { city: "Hamburg", province: null, provinceCode: null, zips: ["20095", "22765"], area: "040", digits: 7 },
      { city: "Frankfurt am Main", province: null, provinceCode: null, zips: ["60311"], area: "069", digits: 7 },
      { city: "Köln", province: null, provinceCode: null, zips: ["50667"], area: "0151", digits: 8 },
    ],
    national: [(a, s) => `${a} ${s}`, (a, s) => `${a}/${s}`, (a, s) => `${a}-${split(s, 3)}`, (a, s) => `(${a}) ${s}`],
    international: (a, s) => `+49 ${a.slice(1)} ${s}`,
    first: ["Lukas", "Anna", "Jürgen", "Sophie", "Maximilian", "Lea", "Jonas", "Marie", "Felix", "Hannah"],
    last: [
      "Müller",
      "Schmidt",
      "Schneider",
      "Fischer",
      "Weber",
      "Meyer",
      "Wagner",
      "Becker",
      "Müller-Lüdenscheidt",
      "von Bülow",
    ],
    domains: ["web.de", "gmx.de", "t-online.de", "gmail.com", "posteo.de"],
  },
  {
    code: "FR",
    callingCode: "33",
    trunk: "0",
    currency: "EUR",
    rate: 1.08,
    weight: 0.15,
    places: [
      { city: "Paris", province: null, provinceCode: null, zips: ["75011", "75018", "75005"], area: "01", digits: 8 },
      { city: "Lyon", province: null, provinceCode: null, zips: ["69002", "69007"], area: "04", digits: 8 },
      { city: "Saint-Étienne", province: null, provinceCode: null, zips: ["42000"], area: "04", digits: 8 },
      { city: "Marseille", province: null, provinceCode: null, zips: ["13001", "13008"], area: "06", digits: 8 },
    ],
    national: [
      (a, s) => `${a} ${s.slice(0, 2)} ${s.slice(2, 4)} ${s.slice(4, 6)} ${s.slice(6)}`,
      (a, s) => `${a}.${s.slice(0, 2)}.${s.slice(2, 4)}.${s.slice(4, 6)}.${s.slice(6)}`,
      (a, s) => `${a}${s}`,
    ],
    international: (a, s) => `+33 ${a.slice(1)} ${s.slice(0, 2)} ${s.slice(2, 4)} ${s.slice(4, 6)} ${s.slice(6)}`,
    first: ["Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Camille", "Valéry", "Inès", "Jules"],
    last: ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Garnier", "Da Silva", "Roux", "Fontaine"],
    domains: ["orange.fr", "free.fr", "gmail.com", "laposte.net", "sfr.fr"],
  },
  {
    code: "GB",
    callingCode: "44",
    trunk: "0",
    currency: "GBP",
    rate: 1.27,
    weight: 0.1,
    places: [
      {
        city: "London",
        province: null,
        provinceCode: null,
        zips: ["SW1A 1AA", "E1 6AN", "NW3 2QG"],
        area: "020",
        digits: 8,
      },
      { city: "Manchester", province: null, provinceCode: null, zips: ["M1 1AE", "M4 5JD"], area: "0161", digits: 7 },
      { city: "Edinburgh", province: null, provinceCode: null, zips: ["EH1 1YZ", "EH3 9DR"], area: "0131", digits: 7 },
      { city: "Bristol", province: null, provinceCode: null, zips: ["BS1 4DJ"], area: "07700", digits: 6 },
    ],
    national: [(a, s) => `${a} ${s}`, (a, s) => `${a} ${split(s, s.length - 4)}`, (a, s) => `(${a}) ${s}`],
    international: (a, s) => `+44 ${a.slice(1)} ${s}`,
    first: ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Freya", "Siobhán", "Rhys"],
    last: ["Smith", "Jones", "Taylor", "Brown", "Williams", "Evans", "Wilson", "O'Connor", "Patel", "Ap Rhys"],
    domains: ["gmail.com", "btinternet.com", "outlook.com", "yahoo.co.uk", "sky.com"],
  },
];

const PRODUCTS = [
  { title: "Merino crew socks", price: 18 },
  { title: "Linen shirt", price: 79 },
  { title: "Waxed canvas tote", price: 64 },
  { title: "Wool beanie", price: 32 },
  { title: "Selvedge denim", price: 149 },
  { title: "Organic cotton tee", price: 29 },
  { title: "Leather card holder", price: 45 },
  { title: "Down vest", price: 189 },
];

const USER_AGENTS = [
  "Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 16; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/154.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/154.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:150.0) Gecko/20100101 Firefox/150.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 400.0.0.0",
];

/** The shop's timezone (America/New_York in November): Shopify writes local times with offset. */
const SHOP_OFFSET_SECONDS = -5 * 3600;
function shopTime(unixSeconds: number): string {
  return `${new Date((unixSeconds + SHOP_OFFSET_SECONDS) * 1000).toISOString().slice(0, 19)}-05:00`;
}

/** Letters a person would type into an email address for their name: "Jürgen" -> "jurgen". */
function asciiFold(name: string): string {
  return name.normalize("NFD").replace(/[^A-Za-z]/g, "");
}

const money = (amount: string, currency: string) => ({ amount, currency_code: currency });

export interface OrderTruth {
  /** The billing phone in E.164 without "+", i.e. what a matching `ph` hashes. */
  phoneE164: string;
}

/** Orders plus what the benchmark knows about them but a payload does not say. */
export function makeOrderSet(
  n: number,
  seed = 42,
  nowSeconds = BENCH_NOW_SECONDS,
): { orders: Array<Record<string, any>>; truth: OrderTruth[] } {
  const rand = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const chance = (p: number) => rand() < p;
  const digits = (count: number) =>
    Array.from({ length: count }, (_, k) => (k === 0 ? 2 + Math.floor(rand() * 8) : Math.floor(rand() * 10))).join("");
  const pickCountry = () => {
    let x = rand();
    for (const c of COUNTRIES) if ((x -= c.weight) < 0) return c;
    return COUNTRIES[0]!;
  };
  const person = (c: Country) => {
    const place = pick(c.places);
    const sub = digits(place.digits);
    const international = chance(0.15);
    const phone = international ? c.international(place.area, sub) : pick(c.national)(place.area, sub);
    const e164 = `${c.callingCode}${place.area.slice(c.trunk.length)}${sub}`;
    return { first: pick(c.first), last: pick(c.last), place, phone, e164 };
  };
  const address = (c: Country, p: ReturnType<typeof person>, phone: string | null) => ({
    first_name: p.first,
    last_name: p.last,
    name: `${p.first} ${p.last}`,
    company: null,
    address1: `${1 + Math.floor(rand() * 200)} ${pick(["Main Street", "Rue de la Paix", "Hauptstraße", "High Street", "King Street W"])}`,
    address2: chance(0.2) ? `Apt ${1 + Math.floor(rand() * 40)}` : null,
    city: p.place.city,
    province: p.place.province,
    province_code: p.place.provinceCode,
    zip: pick(p.place.zips),
    country: { US: "United States", CA: "Canada", DE: "Germany", FR: "France", GB: "United Kingdom" }[c.code],
    country_code: c.code,
    phone,
    latitude: null,
    longitude: null,
  });

  const orders: Array<Record<string, any>> = [];
  const truth: OrderTruth[] = [];
  for (let i = 0; i < n; i++) {
    const c = pickCountry();
    const buyer = person(c);
    const id = 6_100_000_000_000 + i;
    const customerId = 7_200_000_000_000 + i;
    const placed = nowSeconds - 60 - Math.floor(rand() * (86_400 - 120));
    const createdAt = shopTime(placed);

    // What the buyer typed: capitals, a stray space, now and then a name with its accents.
    const local = chance(0.02)
      ? `${buyer.first.toLowerCase()}.${buyer.last.toLowerCase().replace(/[^\p{L}]/gu, "")}`
      : `${asciiFold(buyer.first)}.${asciiFold(buyer.last)}${chance(0.5) ? String(Math.floor(rand() * 100)) : ""}`;
    const domain = pick(c.domains);
    const typed = `${local}@${domain}`;
    const email = `${chance(0.2) ? " " : ""}${chance(0.4) ? typed.replace(/^./, (s) => s.toUpperCase()).replace(/@.*/, (d) => d.toUpperCase()) : typed}${chance(0.2) ? " " : ""}`;

    const billing = address(c, buyer, buyer.phone);
    const gift = chance(0.15);
    const recipient = gift ? person(c) : buyer;
    const shipping = gift ? address(c, recipient, chance(0.5) ? recipient.phone : null) : { ...billing };
    const customerPhone = chance(0.3) ? `+${buyer.e164}` : null;

    const lines = 1 + Math.floor(rand() * 4);
    const lineItems = Array.from({ length: lines }, (_, j) => {
      const p = pick(PRODUCTS);
      const productIndex = PRODUCTS.indexOf(p);
      const variant = Math.floor(rand() * 6);
      const quantity = chance(0.8) ? 1 : 2 + Math.floor(rand() * 2);
      const shopPrice = p.price.toFixed(2);
      const localPrice = (p.price / c.rate).toFixed(2);
      return {
        id: 15_000_000_000_000 + i * 10 + j,
        admin_graphql_api_id: `gid://shopify/LineItem/${15_000_000_000_000 + i * 10 + j}`,
        product_id: 8_800_000_000_000 + productIndex,
        variant_id: 45_000_000_000_000 + productIndex * 10 + variant,
        sku: `SKU-${100 + productIndex}-${variant}`,
        title: p.title,
        variant_title: pick(["S", "M", "L", "XL", "One size"]),
        vendor: "Bench Goods",
        name: p.title,
        quantity,
        current_quantity: quantity,
        fulfillable_quantity: quantity,
        grams: 200 + productIndex * 50,
        requires_shipping: true,
        taxable: true,
        gift_card: false,
        price: shopPrice,
        price_set: { shop_money: money(shopPrice, "USD"), presentment_money: money(localPrice, c.currency) },
        total_discount: "0.00",
        total_discount_set: { shop_money: money("0.00", "USD"), presentment_money: money("0.00", c.currency) },
        tax_lines: [],
        discount_allocations: [],
        properties: [],
      };
    });
    const sum = (f: (li: (typeof lineItems)[number]) => number) =>
      lineItems.reduce((s, li) => s + f(li) * li.quantity, 0);
    const shopSubtotal = sum((li) => Number(li.price));
    const localSubtotal = sum((li) => Number(li.price_set.presentment_money.amount));
    const shopShipping = shopSubtotal >= 100 ? 0 : 8;
    const localShipping = shopShipping === 0 ? 0 : Number((shopShipping / c.rate).toFixed(2));
    const shopTotal = (shopSubtotal + shopShipping).toFixed(2);
    const localTotal = (localSubtotal + localShipping).toFixed(2);

    const clickId = `IwAR${digits(6)}${pick(["abcDEF", "Zx_9q", "kLm-Np"])}${digits(8)}`;
    const fromAd = chance(0.3);
    const landing = fromAd
      ? `/products/merino-crew-socks?fbclid=${clickId}&utm_source=facebook`
      : pick(["/", "/collections/all", "/products/linen-shirt?variant=1"]);
    const noteAttributes: Array<{ name: string; value: string }> = [];
    if (chance(0.85))
      noteAttributes.push({
        name: "_fbp",
        value: `fb.1.${(placed - Math.floor(rand() * 30 * 86_400)) * 1000 + Math.floor(rand() * 1000)}.${digits(10)}`,
      });
    if (fromAd && chance(0.7))
      noteAttributes.push({ name: "_fbc", value: `fb.1.${(placed - Math.floor(rand() * 3600)) * 1000}.${clickId}` });
    if (chance(0.6))
      noteAttributes.push({
        name: "_capi_consent",
        value: `marketing=1;analytics=1;sale_of_data=${chance(0.05) ? 0 : 1}`,
      });
    if (chance(0.1)) noteAttributes.push({ name: "gift_message", value: "Happy birthday!" });

    const ipv6 = chance(0.25);
    const token = digits(8) + digits(8);
    orders.push({
      id,
      admin_graphql_api_id: `gid://shopify/Order/${id}`,
      name: `#${1001 + i}`,
      order_number: 1001 + i,
      number: i + 1,
      token,
      created_at: createdAt,
      processed_at: createdAt,
      updated_at: shopTime(placed + 2),
      email,
      contact_email: email.trim(),
      phone: customerPhone && chance(0.5) ? customerPhone : null,
      buyer_accepts_marketing: chance(0.4),
      currency: "USD",
      presentment_currency: c.currency,
      total_price: shopTotal,
      subtotal_price: shopSubtotal.toFixed(2),
      total_tax: "0.00",
      total_discounts: "0.00",
      total_price_set: { shop_money: money(shopTotal, "USD"), presentment_money: money(localTotal, c.currency) },
      subtotal_price_set: {
        shop_money: money(shopSubtotal.toFixed(2), "USD"),
        presentment_money: money(localSubtotal.toFixed(2), c.currency),
      },
      total_shipping_price_set: {
        shop_money: money(shopShipping.toFixed(2), "USD"),
        presentment_money: money(localShipping.toFixed(2), c.currency),
      },
      financial_status: "paid",
      fulfillment_status: null,
      confirmed: true,
      test: false,
      gateway: "shopify_payments",
      payment_gateway_names: ["shopify_payments"],
      source_name: "web",
      browser_ip: null,
      landing_site: landing,
      referring_site: fromAd ? "https://l.facebook.com/" : pick(["", "https://www.google.com/"]),
      order_status_url: `https://${BENCH_SHOP}/74210000000/orders/${token}/authenticate?key=${digits(8)}${digits(8)}`,
      checkout_token: `${token}c`,
      cart_token: `Z2NwLXVzLWVhc3QxOjAxSj${digits(8)}`,
      tags: "",
      note: null,
      note_attributes: noteAttributes,
      discount_codes: [],
      tax_lines: [],
      customer_locale: { US: "en-US", CA: "en-CA", DE: "de", FR: "fr", GB: "en-GB" }[c.code],
      client_details: {
        browser_ip: ipv6
          ? `2001:db8:${(i % 65535).toString(16)}::${(1 + Math.floor(rand() * 65534)).toString(16)}`
          : `198.51.100.${1 + (i % 254)}`,
        user_agent: pick(USER_AGENTS),
        accept_language: {
          US: "en-US,en;q=0.9",
          CA: "en-CA,fr-CA;q=0.8",
          DE: "de-DE,de;q=0.9,en;q=0.6",
          FR: "fr-FR,fr;q=0.9",
          GB: "en-GB,en;q=0.9",
        }[c.code],
        browser_height: null,
        browser_width: null,
        session_hash: null,
      },
      customer: {
        id: customerId,
        email: email.trim().toLowerCase(),
        first_name: buyer.first,
        last_name: buyer.last,
        phone: customerPhone,
        state: "enabled",
        verified_email: true,
        tags: "",
        currency: "USD",
        created_at: createdAt,
        updated_at: createdAt,
      },
      billing_address: billing,
      shipping_address: shipping,
      line_items: lineItems,
      shipping_lines: [{ code: "Standard", title: "Standard", price: shopShipping.toFixed(2), source: "shopify" }],
      fulfillments: [],
      refunds: [],
    });
    truth.push({ phoneE164: buyer.e164 });
  }
  return { orders, truth };
}

export function makeOrders(n: number, seed = 42, nowSeconds = BENCH_NOW_SECONDS): Array<Record<string, any>> {
  return makeOrderSet(n, seed, nowSeconds).orders;
}
