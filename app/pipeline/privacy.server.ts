// Shopify's lifecycle and compliance webhooks, and the install that undoes an uninstall. What we
// hold about a buyer is hashed already: these handlers find it by every identifier a request
// names (the customer's hashed id, email and phone, the orders and their checkouts) and delete
// or report it. Each handler is called only once the webhook is bound to its shop
// (app/shopify/webhook-binding.ts).
import { randomUUID } from "node:crypto";
import { Prisma, type PrismaClient } from "@prisma/client";
import { z } from "zod";
import { storedSettings } from "../events/settings";
import { hashValue, sha256Hex } from "../meta/user-data";
import { UNINSTALLED_REASON } from "./destinations.server";
import { resumePausedFor, setPendingState } from "./event-store.server";
import { forgetShopContext } from "./ingest.server";

/** How long a data request's report is kept for the merchant to download (README, "Privacy"). */
export const DATA_REQUEST_RETENTION_DAYS = 30;

const idSchema = z.union([z.number(), z.string()]).transform(String);
const customerRequestSchema = z.object({
  customer: z.object({ id: idSchema.nullish(), email: z.string().nullish(), phone: z.string().nullish() }).nullish(),
  orders_to_redact: z.array(idSchema).nullish(),
  orders_requested: z.array(idSchema).nullish(),
  data_request: z.object({ id: idSchema }).nullish(),
});

/** What a request names, as the events hold it: hashed the way the event core hashes it. */
export interface CustomerKeys {
  customerHash: string | null;
  emailHashes: string[];
  phoneHashes: string[];
  orderIds: string[];
}

/**
 * The request's identifiers, hashed as the event core hashed them (app/meta/user-data.ts). A
 * phone was read with the buyer's address country, which the request does not give: it is
 * hashed without a country (numbers written with "+" or "00") and with the shop's default
 * country (national numbers).
 */
export function customerKeys(payload: unknown, defaultCountry?: string): CustomerKeys | undefined {
  const parsed = customerRequestSchema.safeParse(payload);
  if (!parsed.success) return undefined;
  const { customer, orders_to_redact, orders_requested } = parsed.data;
  const distinct = (values: Array<string | undefined>) => [...new Set(values.filter((v): v is string => !!v))];
  const customerId = customer?.id?.trim();
  return {
    customerHash: customerId ? sha256Hex(customerId) : null,
    emailHashes: distinct([hashValue("em", customer?.email)]),
    phoneHashes: distinct([
      hashValue("ph", { value: customer?.phone }),
      hashValue("ph", { value: customer?.phone, country: defaultCountry }),
    ]),
    orderIds: distinct([...(orders_to_redact ?? []), ...(orders_requested ?? [])]),
  };
}

const nothingNamed = (k: CustomerKeys) =>
  !k.customerHash && !k.emailHashes.length && !k.phoneHashes.length && !k.orderIds.length;
/** What a stored report is found by for a later customers/redact: the hashes, and the order ids as `order:<id>`. */
const subjectKeys = (k: CustomerKeys) =>
  [k.customerHash, ...k.emailHashes, ...k.phoneHashes, ...k.orderIds.map((id) => `order:${id}`)].filter(
    (h): h is string => !!h,
  );

/**
 * The events of a customer: by the hashed customer id (the column and user_data.external_id),
 * by any hashed email or phone (user_data.em / .ph hold one hash or an array of them: `?|`
 * matches either), by order id, and the InitiateCheckout of each of those orders (a Purchase
 * keeps its order's checkout token, the checkout event's id). $1 shop, $2 customer hash,
 * $3 email hashes, $4 phone hashes, $5 order ids.
 */
const CUSTOMER_EVENTS = `
  WITH orders AS (
    SELECT "checkoutToken" FROM "Event"
    WHERE "shop" = $1 AND "eventName" = 'Purchase' AND "eventId" = ANY($5::text[]) AND "checkoutToken" IS NOT NULL
  )
  SELECT "id" FROM "Event" e
  WHERE e."shop" = $1
    AND (e."customerHash" = $2
         OR e."payload"->'user_data'->'external_id' ? $2
         OR e."payload"->'user_data'->'em' ?| $3::text[]
         OR e."payload"->'user_data'->'ph' ?| $4::text[]
         OR (e."eventName" = 'Purchase' AND e."eventId" = ANY($5::text[]))
         OR (e."eventName" = 'InitiateCheckout' AND e."eventId" IN (SELECT "checkoutToken" FROM orders)))`;

const customerParams = (shop: string, k: CustomerKeys) => [
  shop,
  k.customerHash,
  k.emailHashes,
  k.phoneHashes,
  k.orderIds,
];

type Tx = Prisma.TransactionClient;

/**
 * A compliance request scans all of a shop's events (the hashes sit inside the payload, which
 * has no index): for a large shop that outlasts the web tier's 3 s statement limit, and every
 * retry would fail the same way. The limit is lifted for it, as for shop/redact.
 */
function withoutStatementLimit<T>(prisma: PrismaClient, work: (tx: Tx) => Promise<T>): Promise<T> {
  return prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SET LOCAL statement_timeout = 0`;
      return work(tx);
    },
    { timeout: 15 * 60_000 },
  );
}

async function defaultCountry(prisma: PrismaClient | Tx, shop: string): Promise<string | undefined> {
  const row = await prisma.shop.findUnique({ where: { shop }, select: { settings: true } });
  return storedSettings(row?.settings).settings.defaultCountry;
}

/** The first bound lifecycle or compliance webhook tells Shopify's id of the shop; later ones must agree. */
export async function recordShopifyId(prisma: PrismaClient, shop: string, shopifyId: string): Promise<void> {
  await prisma.shop.updateMany({ where: { shop, shopifyId: null }, data: { shopifyId } });
}

/**
 * A new offline token (Shopify's afterAuth: install, reinstall, a session the app lost, or an
 * expired one replaced by token exchange when the merchant opens the app):
 * the shop is installed now. What app/uninstalled stopped starts again: the destination paused
 * for the uninstall and the events paused with it. Other pauses (a revoked Meta token) stay.
 */
export async function handleInstalled(prisma: PrismaClient, shop: string, now = new Date()): Promise<string> {
  const before = await prisma.shop.findUnique({ where: { shop }, select: { uninstalledAt: true } });
  // Shopify removed the app's web pixel with the app: what is recorded of it is gone, and the
  // next admin page load creates it again (app/shopify/web-pixel.ts).
  const pixelGone = before?.uninstalledAt
    ? { webPixelStatus: null, webPixelMessage: null, webPixelSyncedAt: null }
    : {};
  await prisma.shop.upsert({
    where: { shop },
    create: { shop, installedAt: now },
    // A new token pair: background work stopped by a refused token renewal resumes.
    update: {
      installedAt: now,
      uninstalledAt: null,
      offlineAccessLostAt: null,
      offlineAccessLostReason: null,
      ...pixelGone,
    },
  });
  const { count } = await prisma.destination.updateMany({
    where: { shop, pauseReason: UNINSTALLED_REASON },
    data: { pausedAt: null, pauseReason: null, pauseMessage: null },
  });
  const resumed = count
    ? await resumePausedFor(prisma, shop, UNINSTALLED_REASON, "app installed again: resumed", now)
    : 0;
  forgetShopContext(shop);
  return `installed: ${resumed} paused event(s) resumed`;
}

/** The app's access is gone: stop delivering, forget the sessions, keep events until shop/redact. */
export async function handleUninstalled(prisma: PrismaClient, shop: string, now = new Date()): Promise<string> {
  await prisma.session.deleteMany({ where: { shop } });
  // A shop known by its session only gets its row now: shop/redact must find the shop later.
  await prisma.shop.upsert({ where: { shop }, create: { shop, uninstalledAt: now }, update: { uninstalledAt: now } });
  await prisma.destination.updateMany({
    where: { shop },
    data: {
      pausedAt: now,
      pauseReason: UNINSTALLED_REASON,
      pauseMessage: "The app was uninstalled; reinstall it to resume delivery.",
    },
  });
  const paused = await setPendingState(
    prisma,
    { shop },
    ["queued", "retrying", "sending"],
    "paused",
    UNINSTALLED_REASON,
    now,
  );
  forgetShopContext(shop);
  return `uninstalled: ${paused} pending event(s) paused`;
}

/** 48 hours after uninstall: every row of the shop goes. */
export async function handleShopRedact(prisma: PrismaClient, shop: string): Promise<string> {
  // A large shop's rows take longer to delete than the web tier's statement limit (3 s) and
  // Prisma's default transaction time (5 s): both are lifted here, else every retry of the
  // redact would fail the same way and the shop's data would stay.
  const events = await withoutStatementLimit(prisma, async (tx) => {
    const deleted = await tx.event.deleteMany({ where: { shop } });
    await tx.eventCount.deleteMany({ where: { shop } });
    await tx.eventStateCount.deleteMany({ where: { shop } });
    await tx.eventDayCount.deleteMany({ where: { shop } });
    // The deletion's own changes are still to fold: they go with the counts they would change.
    await tx.$executeRaw`DELETE FROM "EventCountDelta" WHERE "shop" = ${shop}`;
    await tx.reportSnapshot.deleteMany({ where: { shop } });
    await tx.webhookReceipt.deleteMany({ where: { shop } });
    await tx.dataRequest.deleteMany({ where: { shop } });
    await tx.datasetQuality.deleteMany({ where: { shop } });
    await tx.destination.deleteMany({ where: { shop } });
    await tx.shopBilling.deleteMany({ where: { shop } });
    await tx.metaLogin.deleteMany({ where: { shop } });
    await tx.accuracyDay.deleteMany({ where: { shop } });
    await tx.browserEvent.deleteMany({ where: { shop } });
    await tx.pixelSighting.deleteMany({ where: { shop } });
    await tx.session.deleteMany({ where: { shop } });
    await tx.shop.deleteMany({ where: { shop } });
    return deleted;
  });
  forgetShopContext(shop);
  return `shop redacted: ${events.count} event(s) deleted`;
}

export async function handleCustomerRedact(prisma: PrismaClient, shop: string, payload: unknown): Promise<string> {
  return withoutStatementLimit(prisma, async (tx) => {
    const keys = customerKeys(payload, await defaultCountry(tx, shop));
    if (!keys || nothingNamed(keys)) return "customer redact: nothing identifies a customer in the request";
    const deleted = await tx.$queryRawUnsafe<Array<{ id: bigint }>>(
      `DELETE FROM "Event" WHERE "id" IN (${CUSTOMER_EVENTS}) RETURNING "id"`,
      ...customerParams(shop, keys),
    );
    // A report made for this customer's data request lists the same events: it goes too.
    const hashes = subjectKeys(keys);
    const reports = hashes.length
      ? (await tx.dataRequest.deleteMany({ where: { shop, subjectHashes: { hasSome: hashes } } })).count
      : 0;
    return `customer redacted: ${deleted.length} event(s) and ${reports} data request report(s) deleted`;
  });
}

// ---------------------------------------------------------------------------------------------
// customers/data_request: a report stored for the merchant, who passes it on to the customer
// (Shopify discards whatever the webhook's answer says).

export interface DataRequestReport {
  id: string;
  shop: string;
  shopifyRequestId: string | null;
  requestedAt: string;
  keptUntil: string;
  note: string;
  /** What the request named, as we looked for it (hashed). */
  searchedFor: CustomerKeys;
  /** Every identifier the customer's events hold, by Meta user_data key: hashes, and the browser facts Meta takes unhashed (IP, user agent, _fbp/_fbc). */
  identifiers: Record<string, string[]>;
  events: Array<{
    eventName: string;
    eventId: string;
    state: string;
    eventTime: string;
    createdAt: string;
    updatedAt: string;
  }>;
}

const NOTE =
  "CAPI Relay keeps no raw customer fields: names, emails, phones and addresses exist here only as the SHA-256 hashes sent to Meta; " +
  "the browser's IP address, user agent and Meta cookies are kept as Meta requires them. Raw webhook payloads are never stored.";

/** Builds and stores the report of one customers/data_request; a redelivery of the same request replaces it. */
export async function recordDataRequest(
  prisma: PrismaClient,
  shop: string,
  payload: unknown,
  now = new Date(),
): Promise<{ id: string; events: number }> {
  const shopifyRequestId = customerRequestSchema.safeParse(payload).data?.data_request?.id ?? null;
  return withoutStatementLimit(prisma, async (tx) => {
    const keys = customerKeys(payload, await defaultCountry(tx, shop)) ?? {
      customerHash: null,
      emailHashes: [],
      phoneHashes: [],
      orderIds: [],
    };
    const rows = nothingNamed(keys)
      ? []
      : await tx.$queryRawUnsafe<
          Array<{
            eventName: string;
            eventId: string;
            state: string;
            eventTime: Date;
            createdAt: Date;
            updatedAt: Date;
            userData: unknown;
          }>
        >(
          `SELECT "eventName", "eventId", "state", "eventTime", "createdAt", "updatedAt", "payload"->'user_data' AS "userData"
           FROM "Event" WHERE "id" IN (${CUSTOMER_EVENTS}) ORDER BY "createdAt", "id"`,
          ...customerParams(shop, keys),
        );
    const identifiers: Record<string, Set<string>> = {};
    for (const row of rows) {
      for (const [key, value] of Object.entries((row.userData ?? {}) as Record<string, unknown>)) {
        for (const v of ([] as unknown[]).concat(value))
          if (typeof v === "string") (identifiers[key] ??= new Set()).add(v);
      }
    }
    const expiresAt = new Date(now.getTime() + DATA_REQUEST_RETENTION_DAYS * 86_400_000);
    const existing = shopifyRequestId
      ? await tx.dataRequest.findUnique({
          where: { shop_shopifyRequestId: { shop, shopifyRequestId } },
          select: { id: true },
        })
      : null;
    const id = existing?.id ?? randomUUID();
    const report: DataRequestReport = {
      id,
      shop,
      shopifyRequestId,
      requestedAt: now.toISOString(),
      keptUntil: expiresAt.toISOString(),
      note: NOTE,
      searchedFor: keys,
      identifiers: Object.fromEntries(Object.entries(identifiers).map(([k, set]) => [k, [...set].sort()])),
      events: rows.map((r) => ({
        eventName: r.eventName,
        eventId: r.eventId,
        state: r.state,
        eventTime: r.eventTime.toISOString(),
        createdAt: r.createdAt.toISOString(),
        updatedAt: r.updatedAt.toISOString(),
      })),
    };
    const data = {
      subjectHashes: subjectKeys(keys),
      report: report as unknown as Prisma.InputJsonValue,
      createdAt: now,
      expiresAt,
    };
    if (existing) await tx.dataRequest.update({ where: { id }, data });
    else await tx.dataRequest.create({ data: { id, shop, shopifyRequestId, ...data } });
    return { id, events: rows.length };
  });
}

export interface DataRequestSummary {
  id: string;
  requestedAt: string;
  keptUntil: string;
  events: number;
}

/** The shop's reports still kept, newest first. */
export async function listDataRequests(
  prisma: PrismaClient,
  shop: string,
  now = new Date(),
): Promise<DataRequestSummary[]> {
  const rows = await prisma.dataRequest.findMany({
    where: { shop, expiresAt: { gt: now } },
    orderBy: { createdAt: "desc" },
    take: 50,
  });
  return rows.map((r) => ({
    id: r.id,
    requestedAt: r.createdAt.toISOString(),
    keptUntil: r.expiresAt.toISOString(),
    events: (r.report as unknown as DataRequestReport).events?.length ?? 0,
  }));
}

/** One report of the shop's own; another shop's id reads as none. */
export async function loadDataRequest(
  prisma: PrismaClient,
  shop: string,
  id: string,
  now = new Date(),
): Promise<DataRequestReport | undefined> {
  const row = await prisma.dataRequest.findFirst({ where: { id, shop, expiresAt: { gt: now } } });
  return row ? (row.report as unknown as DataRequestReport) : undefined;
}

/** Reports past their keeping time go (the worker's sweep, hourly). */
export async function deleteExpiredDataRequests(prisma: PrismaClient, now = new Date()): Promise<number> {
  return (await prisma.dataRequest.deleteMany({ where: { expiresAt: { lte: now } } })).count;
}
