// docs/privacy.md, held to the code: its retention table's figures against the constants the
// code uses, then what it says of storage, retention and redaction against a real database
// seeded through ingest with buyers whose every field is recognisable, at the ages it states.
// Dates are built from today's clock: nothing here depends on the day it runs.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopifyFixture } from "../../test/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { parseEnv } from "../config/env.server";
import { hashValue, sha256Hex } from "../meta/user-data";
import { MAX_AGE_PHYSICAL_STORE_SECONDS, MAX_AGE_SECONDS } from "../meta/validate";
import { CLIENT_KEYS } from "./client-data";
import { ingestWebhook } from "./ingest.server";
import { foldEventCounts } from "./event-counts.server";
import {
  DATA_REQUEST_RETENTION_DAYS,
  handleCustomerRedact,
  handleInstalled,
  handleShopRedact,
  handleUninstalled,
  recordDataRequest,
} from "./privacy.server";
import { applyRetention } from "./retention.server";
import { SIGHTING_WARN_DAYS } from "./pixel-sightings.server";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const DOC = readFileSync(path.resolve(__dirname, "../../docs/privacy.md"), "utf8");

/** The retention table of docs/privacy.md: each row's id and the "N days" figures of its "kept" cell, in order. */
function retentionTable(): Record<string, number[]> {
  const start = DOC.indexOf("<!-- retention");
  const end = DOC.indexOf("<!-- /retention -->");
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  const rows = DOC.slice(start, end)
    .split("\n")
    .filter((line) => line.startsWith("| `"));
  const header = DOC.slice(start, end)
    .split("\n")
    .find((line) => line.startsWith("| id |"))!
    .split("|")
    .map((c) => c.trim());
  const kept = header.indexOf("kept");
  expect(kept).toBeGreaterThan(0);
  return Object.fromEntries(
    rows.map((line) => {
      const cells = line.split("|").map((c) => c.trim());
      return [cells[1]!.replace(/`/g, ""), [...cells[kept]!.matchAll(/(\d+) days/g)].map((m) => Number(m[1]))];
    }),
  );
}

const TABLE = retentionTable();
const DEFAULT_RETENTION_DAYS = parseEnv({}).RETENTION_DAYS;

describe("docs/privacy.md's retention table", () => {
  it("states each duration the code uses, and only those", () => {
    expect(TABLE).toEqual({
      events: [DEFAULT_RETENTION_DAYS],
      receipts: [DEFAULT_RETENTION_DAYS],
      "browser-events": [DEFAULT_RETENTION_DAYS],
      "pixel-sightings": [DEFAULT_RETENTION_DAYS, SIGHTING_WARN_DAYS],
      "data-requests": [DATA_REQUEST_RETENTION_DAYS],
      "client-data": [MAX_AGE_SECONDS / 86_400, MAX_AGE_PHYSICAL_STORE_SECONDS / 86_400],
      sessions: [],
      shop: [],
      billing: [],
      "meta-login": [],
      accuracy: [DEFAULT_RETENTION_DAYS],
      "dataset-quality": [],
      "event-counts": [],
      "report-snapshots": [],
    });
  });

  it("names every table the app has", async () => {
    const tables = (await everything()).map((t) => t.table);
    expect(tables).toEqual(expect.arrayContaining(["DataRequest", "Event", "Session", "Shop", "WebhookReceipt"]));
    for (const table of tables) expect(DOC, table).toContain(`\`${table}\``);
  });
});

// ---------------------------------------------------------------------------------------------
// A buyer whose every field is recognisable, on a real-shaped order and checkout.

interface Buyer {
  n: number;
  email: string;
  phone: string;
  firstName: string;
  lastName: string;
  street: string;
  city: string;
  province: string;
  zip: string;
  ip: string;
  userAgent: string;
  fbp: string;
  customerId: number;
  orderId: number;
  checkoutToken: string;
}

function buyer(n: number): Buyer {
  return {
    n,
    email: `Quentinella.Zybrowski${n}@Privacy-Test.example`,
    // Ofcom's range for drama: a valid London number that rings nobody.
    phone: `020 7946 0${n}${n}${n}`,
    firstName: `Quentinella${"abcdefghij"[n]}`,
    lastName: `Zybrowski${"abcdefghij"[n]}`,
    street: `${n}42 Evergreen Terrace`,
    city: `Xanadu Springs${"abcdefghij"[n]}`,
    province: `Zedshire${"abcdefghij"[n]}`,
    zip: `ZX${n} 9QQ`,
    ip: `203.0.113.${100 + n}`,
    userAgent: `Mozilla/5.0 PrivacyTestBrowser/${n}.0`,
    fbp: `fb.1.${Date.now() - 3_600_000}.${String(1_000_000_000 + n)}`,
    customerId: 9_000_000_000 + n,
    orderId: 8_000_000_000 + n,
    checkoutToken: `c0ffee${String(n).padStart(26, "0")}`,
  };
}

/** What the buyer's rows must never hold raw, and (with the hashes) what must be gone after a redact. */
function rawValues(b: Buyer): string[] {
  return [
    b.email,
    b.email.toLowerCase(),
    b.phone,
    `2079460${b.n}${b.n}${b.n}`,
    b.firstName,
    b.lastName,
    b.street,
    b.city,
    b.province,
    b.zip,
  ];
}

function hashes(b: Buyer): string[] {
  return [
    hashValue("em", b.email)!,
    hashValue("ph", { value: b.phone, country: "GB" })!,
    hashValue("fn", b.firstName)!,
    hashValue("ln", b.lastName)!,
    sha256Hex(String(b.customerId)),
  ];
}

function address(b: Buyer) {
  return {
    first_name: b.firstName,
    last_name: b.lastName,
    address1: b.street,
    address2: null,
    company: null,
    name: `${b.firstName} ${b.lastName}`,
    phone: b.phone,
    city: b.city,
    province: b.province,
    province_code: null,
    zip: b.zip,
    country: "United Kingdom",
    country_code: "GB",
    latitude: null,
    longitude: null,
  };
}

function customer(b: Buyer) {
  return {
    id: b.customerId,
    admin_graphql_api_id: `gid://shopify/Customer/${b.customerId}`,
    email: b.email,
    phone: b.phone,
    first_name: b.firstName,
    last_name: b.lastName,
    default_address: address(b),
  };
}

function cartAttributes(b: Buyer) {
  return [
    { name: "_fbp", value: b.fbp },
    { name: "_capi_consent", value: "marketing=1;analytics=1;sale_of_data=1" },
    { name: "_capi_ua", value: b.userAgent },
  ];
}

function order(b: Buyer, shop: string, ageSeconds = 600) {
  const base = shopifyFixture("orders-create-web", { ageSeconds });
  return {
    ...base,
    id: b.orderId,
    admin_graphql_api_id: `gid://shopify/Order/${b.orderId}`,
    email: b.email,
    contact_email: b.email,
    phone: b.phone,
    checkout_token: b.checkoutToken,
    browser_ip: b.ip,
    client_details: { ...base.client_details, browser_ip: b.ip, user_agent: b.userAgent },
    customer: customer(b),
    billing_address: address(b),
    shipping_address: address(b),
    note_attributes: cartAttributes(b),
    order_status_url: `https://${shop}/1/orders/${b.orderId}abc/authenticate?key=${b.checkoutToken}`,
  };
}

function checkout(b: Buyer, shop: string, ageSeconds = 900) {
  const base = shopifyFixture("checkouts-create", { ageSeconds });
  return {
    ...base,
    id: b.orderId + 1,
    token: b.checkoutToken,
    email: b.email,
    phone: b.phone,
    customer: customer(b),
    billing_address: address(b),
    shipping_address: address(b),
    note_attributes: cartAttributes(b),
    abandoned_checkout_url: `https://${shop}/1/checkouts/ac/x/recover?key=${b.checkoutToken}`,
  };
}

// ---------------------------------------------------------------------------------------------

let db: TestDatabase;
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** Every row of every table of the app, as JSON text, table by table. */
async function everything(): Promise<Array<{ table: string; rows: string[] }>> {
  const tables = await db.sql<{ name: string }>(
    `SELECT table_name AS "name" FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_%'
     ORDER BY table_name`,
    [],
  );
  const out: Array<{ table: string; rows: string[] }> = [];
  for (const { name } of tables) {
    const rows = await db.sql<{ row: string }>(`SELECT row_to_json(t)::text AS "row" FROM "${name}" t`, []);
    out.push({ table: name, rows: rows.map((r) => r.row) });
  }
  return out;
}

/** The tables whose rows contain any of `values` (case-insensitive), with the values found. */
async function holding(values: string[]): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  for (const { table, rows } of await everything()) {
    const text = rows.join("\n").toLowerCase();
    const hits = values.filter((v) => text.includes(v.toLowerCase()));
    if (hits.length) found[table] = hits;
  }
  return found;
}

async function ingest(shop: string, topic: "orders/create" | "checkouts/create", payload: unknown, now: Date) {
  const id = `privacy-${++seq}`;
  return ingestWebhook({ prisma: db.prisma }, { shop, topic, webhookId: id, eventId: id, payload }, now);
}

async function seedShop(shop: string, buyers: Buyer[], now = new Date()) {
  await handleInstalled(db.prisma, shop, now);
  for (const b of buyers) {
    // No pixel connected: the events wait paused, keeping what a pending event keeps.
    expect((await ingest(shop, "checkouts/create", checkout(b, shop), now)).outcome).toBe("paused");
    expect((await ingest(shop, "orders/create", order(b, shop), now)).outcome).toBe("paused");
  }
}

describe("what is stored (docs/privacy.md, 'Every customer field read')", () => {
  const shop = "privacy-stored.myshopify.com";
  const [x, y] = [buyer(1), buyer(2)];

  it("no name, email, phone or address is kept raw anywhere; the IP address and user agent only in the events still to send", async () => {
    await seedShop(shop, [x, y]);
    expect(await db.prisma.event.count({ where: { shop } })).toBe(4);
    expect(await holding([...rawValues(x), ...rawValues(y)])).toEqual({});
    expect(await holding([x.ip, x.userAgent, y.ip, y.userAgent])).toEqual({
      Event: [x.ip, x.userAgent, y.ip, y.userAgent],
    });
    // The hashes Meta matches on are what the events keep.
    expect(Object.keys(await holding(hashes(x)))).toEqual(["Event"]);
  });
});

describe("retention at the ages docs/privacy.md states", () => {
  const shop = "privacy-retention.myshopify.com";
  const x = buyer(3);
  const days = (id: string, i = 0) => TABLE[id]![i]!;

  it("events and receipts go after their stated days, with the events' history", async () => {
    const now = new Date();
    await seedShop(shop, [x], now);
    const at = (ms: number) => new Date(now.getTime() + ms);
    const count = async () => ({
      events: await db.prisma.event.count({ where: { shop } }),
      history: await db.prisma.eventTransition.count({ where: { event: { shop } } }),
      receipts: await db.prisma.webhookReceipt.count({ where: { shop } }),
    });
    await applyRetention(db.sql, DEFAULT_RETENTION_DAYS, at(days("events") * DAY_MS - HOUR_MS));
    expect(await count()).toEqual({ events: 2, history: 2, receipts: 2 });
    await applyRetention(db.sql, DEFAULT_RETENTION_DAYS, at(days("events") * DAY_MS + HOUR_MS));
    expect(await count()).toEqual({ events: 0, history: 0, receipts: 0 });
    expect(days("receipts")).toBe(days("events"));
  });

  it("the buyer's IP address and user agent of an event still waiting go when Meta's window closes, with the note", async () => {
    const s = "privacy-client-data.myshopify.com";
    const now = new Date();
    await seedShop(s, [buyer(4)], now);
    const events = await db.prisma.event.findMany({ where: { shop: s }, select: { id: true, eventTime: true } });
    const windowMs = days("client-data") * DAY_MS;
    const latest = Math.max(...events.map((e) => e.eventTime.getTime()));
    const earliest = Math.min(...events.map((e) => e.eventTime.getTime()));
    const userData = async () =>
      (await db.prisma.event.findMany({ where: { shop: s }, select: { payload: true, notes: true } })).map((e) => ({
        keys: Object.keys((e.payload as { user_data: object }).user_data).filter((k) =>
          (CLIENT_KEYS as readonly string[]).includes(k),
        ),
        notes: ((e.notes as Array<{ code: string }> | null) ?? []).map((n) => n.code),
      }));
    await applyRetention(db.sql, DEFAULT_RETENTION_DAYS, new Date(earliest + windowMs - HOUR_MS));
    // The checkout has no IP (checkout webhooks carry none); the order has both.
    expect((await userData()).flatMap((e) => e.keys).sort()).toEqual([
      "client_ip_address",
      "client_user_agent",
      "client_user_agent",
    ]);
    await applyRetention(db.sql, DEFAULT_RETENTION_DAYS, new Date(latest + windowMs + HOUR_MS));
    expect(await userData()).toEqual([
      { keys: [], notes: expect.arrayContaining(["client_data_removed"]) },
      { keys: [], notes: expect.arrayContaining(["client_data_removed"]) },
    ]);
    expect(await db.prisma.event.count({ where: { shop: s } })).toBe(2);
  });

  it("a data request report goes after its stated days", async () => {
    const s = "privacy-reports.myshopify.com";
    const now = new Date();
    const x5 = buyer(5);
    await seedShop(s, [x5], now);
    await recordDataRequest(db.prisma, s, { customer: { id: x5.customerId, email: x5.email } }, now);
    const reports = () => db.prisma.dataRequest.count({ where: { shop: s } });
    await applyRetention(
      db.sql,
      DEFAULT_RETENTION_DAYS,
      new Date(now.getTime() + days("data-requests") * DAY_MS - HOUR_MS),
    );
    expect(await reports()).toBe(1);
    await applyRetention(
      db.sql,
      DEFAULT_RETENTION_DAYS,
      new Date(now.getTime() + days("data-requests") * DAY_MS + HOUR_MS),
    );
    expect(await reports()).toBe(0);
  });
});

describe("deletion as docs/privacy.md describes it", () => {
  it("customers/redact leaves nothing of the customer, raw or hashed, in any table, and the other customer's events as they were", async () => {
    const shop = "privacy-redact.myshopify.com";
    const [x, y] = [buyer(6), buyer(7)];
    await seedShop(shop, [x, y]);
    await recordDataRequest(db.prisma, shop, { customer: { id: x.customerId, email: x.email } });
    const xValues = [...rawValues(x), ...hashes(x), x.ip, x.userAgent, x.fbp];
    expect(Object.keys(await holding(xValues)).sort()).toEqual(["DataRequest", "Event"]);

    // As Shopify sends it: the customer's id, email and phone, and the orders to redact.
    const reason = await handleCustomerRedact(db.prisma, shop, {
      shop_domain: shop,
      customer: { id: x.customerId, email: x.email, phone: x.phone },
      orders_to_redact: [x.orderId],
    });
    expect(reason).toBe("customer redacted: 2 event(s) and 1 data request report(s) deleted");
    expect(await holding(xValues)).toEqual({});
    expect(await db.prisma.event.count({ where: { shop } })).toBe(2);
    expect(Object.keys(await holding(hashes(y)))).toEqual(["Event"]);
  });

  it("customers/redact naming only an order removes that order's Purchase and its checkout's InitiateCheckout", async () => {
    const shop = "privacy-redact-order.myshopify.com";
    const x = buyer(0);
    await seedShop(shop, [x]);
    await handleCustomerRedact(db.prisma, shop, { shop_domain: shop, orders_to_redact: [x.orderId] });
    expect(await holding([...hashes(x), x.ip, x.userAgent])).toEqual({});
  });

  it("app/uninstalled deletes the sessions; shop/redact then every row of the shop in every table, and nothing of another shop", async () => {
    const [shop, other] = ["privacy-gone.myshopify.com", "privacy-stays.myshopify.com"];
    const [x, y] = [buyer(8), buyer(9)];
    await seedShop(shop, [x]);
    await seedShop(other, [y]);
    for (const [s, b] of [
      [shop, x],
      [other, y],
    ] as const) {
      await recordDataRequest(db.prisma, s, { customer: { id: b.customerId } });
      await db.prisma.session.create({ data: { id: `offline_${s}`, shop: s, state: "", accessToken: "v2.sealed" } });
      const destination = await db.prisma.destination.create({
        data: {
          id: crypto.randomUUID(),
          shop: s,
          pixelId: "1234567890",
          accessTokenEnc: "v2.sealed",
          tokenFingerprint: "f",
        },
      });
      await db.prisma.datasetQuality.create({
        data: {
          destinationId: destination.id,
          shop: s,
          status: "read",
          readAt: new Date(),
          attemptedAt: new Date(),
          nextReadAt: new Date(Date.now() + 6 * HOUR_MS),
          metrics: [{ eventName: "Purchase", score: 7.1 }],
        },
      });
      await db.prisma.shopBilling.create({
        data: { shop: s, subscriptionName: "Starter", subscriptionStatus: "ACTIVE" },
      });
      await db.prisma.metaLogin.create({
        data: { id: crypto.randomUUID(), shop: s, expiresAt: new Date(Date.now() + 3600_000) },
      });
      await db.prisma.accuracyDay.create({
        data: {
          shop: s,
          day: new Date(),
          destinationId: "d",
          ...{ orders: 2, accepted: 1, recovered: 0, heldBack: 1, rejected: 0, invalid: 0, pending: 0 },
          ...{ expired: 0, neverReceived: 0, heldBackReasons: { "the buyer declined marketing tracking": 1 } },
          measuredAt: new Date(),
        },
      });
      await db.prisma.browserEvent.create({ data: { shop: s, eventName: "Purchase", eventId: String(b.orderId) } });
      await db.prisma.pixelSighting.create({ data: { shop: s, pixelId: "1234567890" } });
      await db.prisma.reportSnapshot.create({
        data: { shop: s, report: "dedup", measuredAt: new Date(), value: { days: 14, rows: [] } },
      });
    }
    await handleUninstalled(db.prisma, shop);
    expect(await db.prisma.session.count({ where: { shop } })).toBe(0);
    // As the worker's sweep would have: the counts folded, with none of either shop left to fold.
    await foldEventCounts(db.sql);
    await handleShopRedact(db.prisma, shop);

    const withShop = await db.sql<{ name: string }>(
      `SELECT table_name AS "name" FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'shop'`,
      [],
    );
    expect(withShop.length).toBeGreaterThanOrEqual(6);
    for (const { name } of withShop) {
      const [gone] = await db.sql<{ n: number }>(`SELECT COUNT(*)::int AS "n" FROM "${name}" WHERE "shop" = $1`, [
        shop,
      ]);
      const [kept] = await db.sql<{ n: number }>(`SELECT COUNT(*)::int AS "n" FROM "${name}" WHERE "shop" = $1`, [
        other,
      ]);
      expect(gone!.n, name).toBe(0);
      if (name !== "EventCountDelta") expect(kept!.n, name).toBeGreaterThan(0);
    }
    const [orphans] = await db.sql<{ n: number }>(
      `SELECT COUNT(*)::int AS "n" FROM "EventTransition" t WHERE NOT EXISTS (SELECT 1 FROM "Event" e WHERE e."id" = t."eventPk")`,
      [],
    );
    expect(orphans!.n).toBe(0);
    expect(await holding([...hashes(x), x.ip, x.userAgent, shop])).toEqual({});
  });
});
