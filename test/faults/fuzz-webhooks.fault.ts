// Fuzzed webhook bodies (fast-check, fixed seed) posted through the signed webhook routes:
// real fixtures mutated (fields deleted, wrong types, huge strings, unicode, nested junk),
// arbitrary JSON, order-shaped records of junk, and bodies that are not JSON at all. Every
// body carries recognisable plaintext personal data (emails, phones, names, addresses).
// Each run is a shop of its own, installed, and its fixture bodies carry that shop's links and
// ids of their own (the routes bind a body to its shop; Shopify's ids are global).
// Properties: no input crashes or throws through the route; every JSON body is answered 200
// with an outcome, and a reason whenever it was not taken (or 400 "refused" when, and only
// when, another run's shop already holds the event's id or the body has another topic's
// fields); what is stored matches the answer;
// stored user_data is hashed; and no table, in any text column, holds the personal data.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { saveDestination } from "../../app/pipeline/destinations.server";
import { forgetShopContext } from "../../app/pipeline/ingest.server";
import { handleInstalled } from "../../app/pipeline/privacy.server";
import { HASHED_KEYS, sha256Hex } from "../../app/meta/user-data";
import { atShop, shopifyFixture, shopifyFixtureNames } from "../support/fixtures";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../support/services";
import { faultSeed, webhookRoutes, type WebhookRoutes } from "./harness";

const seed = faultSeed(4701);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const key = randomBytes(32);
const EVENT_TOPICS = ["orders/create", "orders/paid", "checkouts/create"] as const;
const OUTCOMES = ["queued", "paused", "duplicate", "held_back", "invalid", "expired", "ignored"];

let db: TestDatabase;
let routes: WebhookRoutes;
let scan: pg.Client;

const FIXTURES = shopifyFixtureNames();
const HOUR_S = 3600;
const topicOf = (name: string) =>
  name.startsWith("checkouts-") ? "checkouts/create" : name.startsWith("orders-paid") ? "orders/paid" : "orders/create";

// ---------------------------------------------------------------------------------------------
// Personal data of one run: every value carries the run's tag (letters no id, hash or reason
// contains), the phone a run-specific ten-digit number.

interface Pii {
  tag: string;
  phoneDigits: string;
  values: Record<string, string>;
}

function piiFor(run: number): Pii {
  let letters = "";
  for (let n = run; ; n = Math.floor(n / 26) - 1) {
    letters = String.fromCharCode(97 + (n % 26)) + letters;
    if (n < 26) break;
  }
  const tag = `piiq${letters}x`;
  const line = String(run).padStart(6, "0");
  const phoneDigits = `2127${line}`;
  const first = `Qwyn${tag}`;
  const last = `Zyzz${tag}`;
  return {
    tag,
    phoneDigits,
    values: {
      email: ` ${first}.${last}@Mail-${tag}.Example `,
      contact_email: `${first}.${last}@mail-${tag}.example`,
      phone: `(212) 7${line.slice(0, 2)}-${line.slice(2)}`,
      first_name: first,
      last_name: last,
      name: `${first} ${last}`,
      address1: `${run} Xanadu ${tag} Road`,
      address2: `Apt ${tag}`,
      city: `Quill${tag}ville`,
      zip: `Q${tag}`,
      company: `${tag} GmbH`,
      note: `Leave it with ${first}, the neighbour at ${run} Xanadu Road`,
    },
  };
}

const PERSON_OBJECTS = new Set(["customer", "billing_address", "shipping_address", "default_address", "addresses"]);
const TOP_LEVEL_PII = new Set(["email", "contact_email", "phone", "note"]);

/** Writes the run's personal data over every personal field Shopify sends, wherever it is. */
function seedPii(body: unknown, pii: Pii, parent = ""): void {
  if (Array.isArray(body)) return body.forEach((item) => seedPii(item, pii, parent));
  if (!body || typeof body !== "object") return;
  const record = body as Record<string, unknown>;
  for (const [k, v] of Object.entries(record)) {
    const personal = PERSON_OBJECTS.has(parent) ? k in pii.values : parent === "" && TOP_LEVEL_PII.has(k);
    if (personal && (v === null || typeof v === "string")) record[k] = pii.values[k];
    else seedPii(v, pii, k);
  }
}

/** A person-shaped block to graft onto bodies that have none. */
function personBlock(pii: Pii): Record<string, unknown> {
  const v = pii.values;
  const address = {
    first_name: v.first_name,
    last_name: v.last_name,
    name: v.name,
    address1: v.address1,
    address2: v.address2,
    city: v.city,
    zip: v.zip,
    phone: v.phone,
    company: v.company,
    country_code: "US",
    province_code: "NY",
  };
  return {
    email: v.email,
    phone: v.phone,
    customer: {
      id: 42,
      email: v.contact_email,
      first_name: v.first_name,
      last_name: v.last_name,
      phone: v.phone,
      default_address: address,
    },
    billing_address: address,
    shipping_address: address,
  };
}

// ---------------------------------------------------------------------------------------------
// Generators

const JUNK_VALUES: unknown[] = [
  0,
  -1,
  1e308,
  -0.5,
  2 ** 53 + 1,
  true,
  false,
  null,
  [],
  {},
  "",
  "0",
  "NaN",
  "null",
  "9".repeat(400),
  [[[[[]]]]],
  { "": { "": null } },
  "\u0000",
  "\ud800",
  "💥🧨",
  "é\u0301",
  "ﷺ",
  "\u202e",
];

const mutation = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom("delete", "json", "huge", "unicode", "wrongType", "bigArray", "nest"),
  json: fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" }),
  text: fc.string({ unit: "grapheme", maxLength: 40 }),
  size: fc.integer({ min: 5_000, max: 200_000 }),
  junk: fc.nat({ max: JUNK_VALUES.length - 1 }),
});
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function pathsOf(
  value: unknown,
  prefix: Array<string | number> = [],
  out: Array<Array<string | number>> = [],
): Array<Array<string | number>> {
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const p = [...prefix, Array.isArray(value) ? Number(k) : k];
      out.push(p);
      if (out.length < 2_000) pathsOf(v, p, out);
    }
  }
  return out;
}

const preview = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 80)}…(${text.length} chars)` : text;
};

/** Applies one mutation; says what it did, for the counterexample's report. */
function mutate(body: Record<string, unknown>, m: Mutation): string {
  const done = mutateAt(body, m);
  return done ?? `${m.op}: nothing to mutate`;
}

function mutateAt(body: Record<string, unknown>, m: Mutation): string | undefined {
  const paths = pathsOf(body);
  if (paths.length === 0) return;
  const target = paths[m.pick % paths.length]!;
  let parent: any = body;
  for (const step of target.slice(0, -1)) parent = parent?.[step];
  if (!parent || typeof parent !== "object") return;
  const last = target[target.length - 1]!;
  const current = parent[last];
  const where = target.join(".");
  switch (m.op) {
    case "delete":
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
      return `delete ${where}`;
    case "json":
      parent[last] = m.json;
      break;
    case "huge": {
      const unit = m.text || "x";
      parent[last] = unit.repeat(Math.ceil(m.size / unit.length)).slice(0, m.size);
      break;
    }
    case "unicode":
      parent[last] = typeof current === "string" ? `${m.text}${current}${m.text}` : m.text;
      break;
    case "wrongType":
      parent[last] = structuredClone(JUNK_VALUES[m.junk]);
      break;
    case "bigArray":
      parent[last] = Array.from({ length: Math.min(2_000, Math.ceil(m.size / 100)) }, () =>
        structuredClone(Array.isArray(current) ? (current[0] ?? null) : (current ?? null)),
      );
      break;
    case "nest": {
      let nested: unknown = current ?? null;
      for (let i = 0; i < 1 + (m.size % 60); i++) nested = i % 2 ? [nested] : { [m.text || "x"]: nested };
      parent[last] = nested;
      break;
    }
  }
  return `${m.op} ${where} = ${preview(parent[last])}`;
}

/** The run's shop, and its number (which makes the fixture's ids the run's own). */
interface Owner {
  shop: string;
  run: number;
}
type Body = {
  kind: string;
  topic: string;
  build(pii: Pii, nowMs: number, owner: Owner): { json?: unknown; raw?: string; notes?: string[] };
};

/** A fixture as the run's shop sends it: its links on the shop's host, its order id and checkout tokens its own. */
function ownedBy(body: Record<string, any>, owner: Owner): Record<string, any> {
  const out = atShop(body, owner.shop);
  if (Number.isSafeInteger(out.id) && Number.isSafeInteger(out.id + owner.run)) {
    out.id += owner.run;
    if (typeof out.admin_graphql_api_id === "string")
      out.admin_graphql_api_id = out.admin_graphql_api_id.replace(/\d+$/, String(out.id));
  }
  for (const field of ["token", "checkout_token"])
    if (typeof out[field] === "string") out[field] = `${out[field]}r${owner.run}`;
  return out;
}

const mutatedFixture: fc.Arbitrary<Body> = fc
  .record({
    fixture: fc.nat({ max: FIXTURES.length - 1 }),
    // Now and then a body arrives on another topic's route.
    otherTopic: fc.oneof(
      { arbitrary: fc.constant(null), weight: 4 },
      { arbitrary: fc.constantFrom(...EVENT_TOPICS), weight: 1 },
    ),
    recent: fc.boolean(),
    mutations: fc.array(mutation, { maxLength: 6 }),
  })
  .map(({ fixture: i, otherTopic, recent, mutations }) => ({
    kind: `fixture ${FIXTURES[i]!} with ${mutations.length} mutation(s)`,
    topic: otherTopic ?? topicOf(FIXTURES[i]!),
    build(pii, nowMs, owner) {
      // Half the bodies are of the last hour, so that they go all the way to a stored event;
      // the others are past Meta's 7-day window, whatever the day of the run.
      const body = ownedBy(
        shopifyFixture(FIXTURES[i]!, { now: nowMs, ageSeconds: recent ? HOUR_S : 8 * 24 * HOUR_S }),
        owner,
      );
      seedPii(body, pii);
      const notes = mutations.map((m) => mutate(body, m));
      return { json: body, notes };
    },
  }));

const arbitraryJson: fc.Arbitrary<Body> = fc
  .record({
    json: fc.jsonValue({ maxDepth: 5, stringUnit: "grapheme" }),
    topic: fc.constantFrom(...EVENT_TOPICS),
    graft: fc.boolean(),
  })
  .map(({ json, topic, graft }) => ({
    kind: `arbitrary JSON (${Array.isArray(json) ? "array" : json === null ? "null" : typeof json})`,
    topic,
    build(pii) {
      const body = structuredClone(json);
      if (graft && body && typeof body === "object" && !Array.isArray(body)) Object.assign(body, personBlock(pii));
      return { json: body };
    },
  }));

const field = <T>(plausible: fc.Arbitrary<T>) =>
  fc.oneof(
    { arbitrary: plausible, weight: 4 },
    { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
    { arbitrary: fc.constantFrom(...JUNK_VALUES), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );

const orderShaped: fc.Arbitrary<Body> = fc
  .record({
    topic: fc.constantFrom(...EVENT_TOPICS),
    id: field(fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String))),
    token: field(fc.string({ minLength: 1, maxLength: 40 })),
    created_at: field(fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    currency: field(fc.constantFrom("USD", "EUR", "usd", "XXX", "€")),
    total_price: field(fc.oneof(fc.double().map(String), fc.double())),
    line_items: field(
      fc.array(
        fc.record({
          quantity: field(fc.integer()),
          price: field(fc.double().map(String)),
          product_id: field(fc.nat()),
        }),
        { maxLength: 5 },
      ),
    ),
    source_name: field(fc.constantFrom("web", "pos", "shopify_draft_order", "iphone", "")),
    test: field(fc.boolean()),
    note_attributes: field(
      fc.array(
        fc.record({
          name: field(fc.constantFrom("_fbp", "_fbc", "_capi_consent", "_capi_ua", "x")),
          value: field(fc.string({ unit: "grapheme" })),
        }),
        { maxLength: 4 },
      ),
    ),
    personal: fc.boolean(),
  })
  .map(({ topic, personal, ...fields }) => ({
    kind: "order-shaped junk",
    topic,
    build(pii) {
      const body: Record<string, unknown> = Object.fromEntries(
        Object.entries(fields).filter(([, v]) => v !== undefined),
      );
      if (personal) Object.assign(body, personBlock(pii));
      return { json: body };
    },
  }));

const notJson: fc.Arbitrary<Body> = fc
  .record({ text: fc.string({ unit: "binary", maxLength: 200 }), topic: fc.constantFrom(...EVENT_TOPICS) })
  .map(({ text, topic }) => ({
    kind: "not JSON",
    topic,
    build(pii) {
      return { raw: `{"email": "${pii.values.contact_email}", ${text}` };
    },
  }));

const input = fc.record({
  body: fc.oneof(
    { arbitrary: mutatedFixture, weight: 6 },
    { arbitrary: arbitraryJson, weight: 2 },
    { arbitrary: orderShaped, weight: 2 },
    { arbitrary: notJson, weight: 1 },
  ),
  connected: fc.boolean(),
});

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  db = await createTestDatabase();
  routes = await webhookRoutes({
    databaseUrl: db.url,
    redisUrl: REDIS_URL,
    queuePrefix: uniquePrefix(),
    vaultKey: key,
  });
  scan = new pg.Client({ connectionString: db.url });
  await scan.connect();
});
afterAll(async () => {
  await scan?.end();
  await routes?.close();
  await db?.drop();
});

/** Every table of the app's schema, and whether its rows carry the shop. */
async function tables(): Promise<Array<{ name: string; hasShop: boolean }>> {
  const { rows } = await scan.query<{ table_name: string; has_shop: boolean }>(`
    SELECT t.table_name, EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.column_name = 'shop') AS has_shop
    FROM information_schema.tables t WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'`);
  return rows.map((r) => ({ name: r.table_name, hasShop: r.has_shop }));
}

/** The plaintext markers of a run found anywhere in the rows given (as JSON text). */
function leaks(texts: string[], pii: Pii): string[] {
  const found: string[] = [];
  for (const text of texts) {
    const lower = text.toLowerCase();
    const digits = lower.replace(/[^0-9]/g, " ");
    if (lower.includes(pii.tag) || digits.split(" ").some((run) => run.includes(pii.phoneDigits)))
      found.push(text.slice(0, 300));
  }
  return found;
}

/** Every row of the shop, in every table that holds the shop's rows, as JSON text. */
async function rowsOfShop(allTables: Array<{ name: string; hasShop: boolean }>, shop: string): Promise<string[]> {
  const texts: string[] = [];
  for (const t of allTables) {
    const where = t.hasShop
      ? `WHERE x."shop" = $1`
      : t.name === "EventTransition"
        ? `WHERE x."eventPk" IN (SELECT "id" FROM "Event" WHERE "shop" = $1)`
        : "";
    if (!where) continue; // tables without a shop are scanned in full at the end
    const { rows } = await scan.query<{ row: string }>(
      `SELECT row_to_json(x)::text AS "row" FROM "${t.name}" x ${where}`,
      [shop],
    );
    texts.push(...rows.map((r) => r.row));
  }
  return texts;
}

interface Tally {
  kinds: Record<string, number>;
  outcomes: Record<string, number>;
  statuses: Record<string, number>;
  stored: number;
  /** Stored events whose em is the hash of the run's email: personal data went through, hashed. */
  hashedEmails: number;
  thrownOnNonJson: number;
}

let runCounter = 0;

/**
 * Posts one body through the signed route for a shop of its own and checks every property:
 * an answer, an outcome with its reason, a matching receipt, hashed user_data, no plaintext.
 */
async function postAndCheck(
  allTables: Array<{ name: string; hasShop: boolean }>,
  body: Body,
  connected: boolean,
  tally: Tally,
  used: Pii[],
): Promise<void> {
  const n = runCounter++;
  const pii = piiFor(n);
  used.push(pii);
  const shop = `fuzz-${n}.myshopify.com`;
  await handleInstalled(db.prisma, shop);
  if (connected) {
    await saveDestination(db.prisma, shop, { pixelId: "5700000001", accessToken: "EAAfuzz-0123456789abcdef" }, key);
    forgetShopContext(shop);
  }
  const eventId = `fz-${n}`;
  const { json, raw, notes = [] } = body.build(pii, Date.now(), { shop, run: n });
  const what = [body.kind, ...notes].join("; ");
  const answer = await routes.post({ topic: body.topic, shop, payload: json ?? null, eventId, rawBody: raw });
  const kind = body.kind.split(" ")[0]!;
  tally.kinds[kind] = (tally.kinds[kind] ?? 0) + 1;
  tally.statuses[answer.status] = (tally.statuses[answer.status] ?? 0) + 1;

  if (raw === undefined) {
    // Never a crash: the route answers, it does not throw.
    expect(answer.thrown, `${what}: the route threw`).toBeUndefined();
    // Any JSON body: 200 with an outcome (a 5xx would make Shopify retry it for two days,
    // and then drop the subscription), and a reason whenever it was not taken.
    const result = JSON.parse(answer.body) as { outcome: string; reason?: string };
    if (answer.status === 400 && result.outcome === "refused") {
      // Junk ids (small numbers, short tokens) repeat across runs: another run's shop holds it.
      // Or a body with another topic's fields came to this topic's route (an order's on the
      // checkouts route, a checkout's on an orders route): each field named is in the body.
      const held = /^(Purchase|InitiateCheckout) (.+) is held for another shop/.exec(result.reason ?? "");
      const shape = /^a body with (.+) is not a (.+)$/.exec(result.reason ?? "");
      expect(held ?? shape, `${what}: ${result.reason}`).not.toBeNull();
      if (held)
        expect(
          await db.prisma.event.count({ where: { eventName: held[1], eventId: held[2], shop: { not: shop } } }),
          what,
        ).toBeGreaterThan(0);
      else {
        expect(shape![2], what).toBe(body.topic);
        for (const field of shape![1]!.split(", "))
          expect((json as Record<string, unknown>)[field], `${what}: ${field}`).not.toBeUndefined();
      }
      expect(await db.prisma.event.count({ where: { shop } })).toBe(0);
      tally.outcomes.refused = (tally.outcomes.refused ?? 0) + 1;
      expect(leaks(await rowsOfShop(allTables, shop), pii), `${what}: personal data stored in plaintext`).toEqual([]);
      return;
    }
    expect(answer.status, `${what}: ${answer.body.slice(0, 300)}`).toBe(200);
    expect(OUTCOMES).toContain(result.outcome);
    tally.outcomes[result.outcome] = (tally.outcomes[result.outcome] ?? 0) + 1;
    if (["held_back", "invalid", "expired", "ignored", "duplicate"].includes(result.outcome))
      expect(result.reason, result.outcome).toBeTruthy();
    const receipt = await db.prisma.webhookReceipt.findUniqueOrThrow({
      where: { shop_topic_dedupeKey: { shop, topic: body.topic, dedupeKey: eventId } },
    });
    expect(receipt.outcome).toBe(result.outcome);
    const events = await db.prisma.event.findMany({ where: { shop } });
    if (["queued", "paused", "expired"].includes(result.outcome)) expect(events).toHaveLength(1);
    const emailHash = sha256Hex(pii.values.contact_email!.trim().toLowerCase());
    for (const event of events) {
      tally.stored++;
      if (event.state !== "queued") expect(event.reason, `${event.state} without a reason`).toBeTruthy();
      const userData = ((event.payload as { user_data?: Record<string, unknown> } | null)?.user_data ?? {}) as Record<
        string,
        unknown
      >;
      for (const f of HASHED_KEYS) {
        const values = userData[f] === undefined ? [] : ([] as unknown[]).concat(userData[f]);
        for (const v of values) expect(v, `user_data.${f}`).toMatch(/^[0-9a-f]{64}$/);
      }
      if (([] as unknown[]).concat(userData.em ?? []).includes(emailHash)) tally.hashedEmails++;
    }
  } else {
    // Shopify never sends a signed body that is not JSON. Shopify's library throws on it
    // (Remix answers 500; the process carries on): it must be that parse error and
    // nothing may be stored.
    if (answer.thrown) {
      expect(answer.thrown).toMatch(/JSON/);
      tally.thrownOnNonJson++;
    }
    expect(await db.prisma.event.count({ where: { shop } })).toBe(0);
    expect(await db.prisma.webhookReceipt.count({ where: { shop } })).toBe(0);
  }

  // No raw personal data in any row this webhook could have touched.
  expect(leaks(await rowsOfShop(allTables, shop), pii), `${what}: personal data stored in plaintext`).toEqual([]);
}

function newTally(): Tally {
  return { kinds: {}, outcomes: {}, statuses: {}, stored: 0, hashedEmails: 0, thrownOnNonJson: 0 };
}

it("the scan finds plaintext personal data when there is some (the check can fail)", async () => {
  const allTables = await tables();
  const pii = piiFor(999_999);
  const shop = "fuzz-control.myshopify.com";
  await db.prisma.webhookReceipt.create({
    data: {
      shop,
      topic: "orders/create",
      webhookId: "control",
      dedupeKey: "control",
      outcome: "invalid",
      reason: `customer ${pii.values.name}`,
    },
  });
  await db.prisma.event.create({
    data: {
      shop,
      eventName: "Purchase",
      eventId: "control",
      topic: "orders/create",
      state: "invalid",
      eventTime: new Date(),
      payload: { user_data: { ph: ["+1 " + pii.phoneDigits] } },
    },
  });
  const found = leaks(await rowsOfShop(allTables, shop), pii);
  await db.prisma.event.deleteMany({ where: { shop } });
  await db.prisma.webhookReceipt.deleteMany({ where: { shop } });
  expect(found).toHaveLength(2);
});

it("bodies the fuzzer once broke ingest with are answered 200 and recorded with the reason", async () => {
  // Each of these was answered 500 ("could not record the webhook; please retry"), which
  // Shopify would have retried for two days: PostgreSQL refused a value of the event.
  const allTables = await tables();
  const tally = newTally();
  const cases: Array<{ kind: string; topic: string; change(body: Record<string, any>): Record<string, any> }> = [
    // An index row over PostgreSQL's 2,704-byte limit (SQLSTATE 54000).
    {
      kind: "checkout token of 100,000 unicode characters",
      topic: "checkouts/create",
      change: (b) => ({ ...b, token: "௩ࡸ".repeat(50_000) }),
    },
    // A lone surrogate in the stored payload: jsonb refuses it (22P02).
    {
      kind: "user agent ending in half a surrogate pair",
      topic: "orders/create",
      change: (b) => ({ ...b, client_details: { ...b.client_details, user_agent: "Mozilla/5.0 \ud83d" } }),
    },
    // NUL cannot be stored in text or jsonb (22P05).
    {
      kind: "NUL in the user agent",
      topic: "orders/create",
      change: (b) => ({ ...b, client_details: { ...b.client_details, user_agent: "Mozilla/5.0\u0000" } }),
    },
    // A date PostgreSQL cannot represent (22009).
    {
      kind: "created_at in the year -66294",
      topic: "checkouts/create",
      change: (b) => ({ ...b, created_at: "-066294-08-20T07:02:45.000Z" }),
    },
  ];
  const used: Pii[] = [];
  for (const c of cases) {
    const source = c.topic === "checkouts/create" ? "checkouts-create" : "orders-create-web";
    const body: Body = {
      kind: c.kind,
      topic: c.topic,
      build(pii, _nowMs, owner) {
        // Of the last hour, so that only the value PostgreSQL refuses stands in the way.
        const b = ownedBy(shopifyFixture(source, { ageSeconds: HOUR_S }), owner);
        seedPii(b, pii);
        return { json: c.change(b) };
      },
    };
    await postAndCheck(allTables, body, true, tally, used);
  }
  expect(tally.statuses).toEqual({ 200: cases.length });
  expect(tally.outcomes).toEqual({ invalid: cases.length });
});

it(`fuzzed webhook bodies (${RUNS} runs, seed ${seed}) never crash, always get an outcome, and never store raw personal data`, async () => {
  const allTables = await tables();
  expect(allTables.map((t) => t.name)).toEqual(
    expect.arrayContaining(["Event", "EventTransition", "WebhookReceipt", "Shop", "Destination", "Session"]),
  );
  const tally = newTally();
  const used: Pii[] = [];
  await fc.assert(
    fc.asyncProperty(input, async ({ body, connected }) => postAndCheck(allTables, body, connected, tally, used)),
    { seed, numRuns: RUNS, endOnFailure: true },
  );

  // Every row of every table, once more, against every run's personal data.
  const everything: string[] = [];
  for (const t of allTables) {
    const { rows } = await scan.query<{ row: string }>(`SELECT row_to_json(x)::text AS "row" FROM "${t.name}" x`);
    everything.push(...rows.map((r) => r.row));
  }
  const found = used.flatMap((pii) => leaks(everything, pii));
  console.log(
    [
      `── fault: fuzzed webhook bodies`,
      `   seed ${seed}, ${RUNS} runs; bodies ${JSON.stringify(tally.kinds)}`,
      `   answers ${JSON.stringify(tally.statuses)}; outcomes ${JSON.stringify(tally.outcomes)}`,
      `   events stored ${tally.stored}, of which ${tally.hashedEmails} carry the run's email, hashed`,
      `   bodies that are not JSON: the route threw Shopify's parse error (Remix answers 500) ${tally.thrownOnNonJson} time(s)`,
      `   rows scanned at the end ${everything.length} in ${allTables.length} tables; plaintext personal data found: ${found.length}`,
    ].join("\n"),
  );
  expect(found).toEqual([]);
  expect(tally.stored).toBeGreaterThan(RUNS / 5);
  expect(tally.hashedEmails).toBeGreaterThan(RUNS / 10);
});
