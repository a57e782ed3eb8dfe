// Deterministic, realistic Shopify orders/create payloads for the benchmarks: a seeded PRNG,
// so every run measures the same work.
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

const FIRST = ["Jane", "Jürgen", "Valéry", "Aiko", "Olivia", "Marcus", "Priya", "Noor", "Sam", "Liam"];
const LAST = ["Doe", "Müller-Lüdenscheidt", "Lefèvre", "Tanaka", "Chen", "Lee", "Raman", "de Vries", "Rivera", "O'Brien"];
const PLACES = [
  { country: "US", city: "San Francisco", province: "California", code: "CA", zip: "94103-1234", phone: "(415) 555-0132", currency: "USD" },
  { country: "US", city: "New York", province: "New York", code: "NY", zip: "10001", phone: "212.555.0199", currency: "USD" },
  { country: "DE", city: "München", province: "Bayern", code: "BY", zip: "80331", phone: "030 1234567", currency: "EUR" },
  { country: "FR", city: "Saint-Étienne", province: "Auvergne-Rhône-Alpes", code: "ARA", zip: "42000", phone: "06 12 34 56 78", currency: "EUR" },
  { country: "GB", city: "Manchester", province: "England", code: "ENG", zip: "M1 1AE", phone: "07700 900123", currency: "GBP" },
];
const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/154.0.0.0 Safari/537.36";

export const BENCH_NOW_SECONDS = 1_795_200_000;

export function makeOrders(n: number, seed = 42, nowSeconds = BENCH_NOW_SECONDS): Array<Record<string, any>> {
  const rand = prng(seed);
  const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const place = pick(PLACES);
    const first = pick(FIRST);
    const last = pick(LAST);
    const created = new Date((nowSeconds - Math.floor(rand() * 86_400)) * 1000).toISOString();
    const email = ` ${first}.${last.replace(/[^A-Za-z]/g, "")}${i}@Example.COM `;
    const items = Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, j) => {
      const price = (5 + Math.floor(rand() * 9500) / 100).toFixed(2);
      return {
        id: 90_000_000 + i * 10 + j,
        product_id: 8_000_000 + Math.floor(rand() * 500),
        variant_id: 44_000_000 + Math.floor(rand() * 5000),
        sku: `SKU-${Math.floor(rand() * 9999)}`,
        title: "Merino socks",
        quantity: 1 + Math.floor(rand() * 3),
        price,
        price_set: { shop_money: { amount: price, currency_code: place.currency }, presentment_money: { amount: price, currency_code: place.currency } },
      };
    });
    const total = items.reduce((sum, li) => sum + Number(li.price) * li.quantity, 0).toFixed(2);
    const address = {
      first_name: first,
      last_name: last,
      address1: "1 Example Street",
      city: place.city,
      province: place.province,
      province_code: place.code,
      zip: place.zip,
      country: place.country,
      country_code: place.country,
      // Every buyer has a phone of their own, as in a real store: no cache can help.
      phone: place.phone.replace(/\d{4}$/, String(1000 + (i % 9000))),
    };
    return {
      id: 6_000_000_000_000 + i,
      name: `#${1000 + i}`,
      created_at: created,
      processed_at: created,
      email,
      phone: null,
      currency: place.currency,
      presentment_currency: place.currency,
      total_price: total,
      subtotal_price: total,
      total_price_set: { shop_money: { amount: total, currency_code: place.currency }, presentment_money: { amount: total, currency_code: place.currency } },
      customer: { id: 7_000_000_000_000 + i, email: email.trim().toLowerCase(), phone: null, first_name: first, last_name: last },
      billing_address: address,
      shipping_address: address,
      client_details: { browser_ip: `203.0.113.${i % 250}`, user_agent: UA, accept_language: "en-US" },
      landing_site: i % 3 === 0 ? `/?fbclid=IwAR${i}abcDEF_ghi-JKL` : "/products/merino-socks",
      note_attributes: [{ name: "_fbp", value: `fb.1.${nowSeconds * 1000 - 86_400_000}.${1_000_000_000 + i}` }],
      order_status_url: `https://bench.myshopify.com/1/orders/${i}/authenticate?key=secret`,
      test: false,
      source_name: "web",
      financial_status: "paid",
      line_items: items,
    };
  });
}
