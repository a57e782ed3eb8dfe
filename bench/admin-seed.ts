// A big shop's database for the admin benchmark, written by SQL alone (INSERT ... SELECT
// generate_series): one shop with `events` events over 30 days, spread over three pixels, every
// state, both event names, payloads shaped like the app's (hashed user_data, the buyer's IP and
// user agent only while the event may still be sent, the removal note after), their state
// histories, webhook receipts (some held back), accuracy days and the browser's fired ids; and
// `shops` - 1 other shops with a pixel and a few events each, so that every query has to find its
// shop among many. Two more shops hold exactly `exportEvents` and `baselineEvents` events, for
// the CSV export and its baseline.
import type pg from "pg";
import { CLIENT_DATA_REMOVED } from "../app/pipeline/client-data";
import { foldEventCounts } from "../app/pipeline/event-counts.server";

export const BIG_SHOP = "bench-big.myshopify.com";
export const EXPORT_SHOP = "bench-export.myshopify.com";
export const BASELINE_SHOP = "bench-export-small.myshopify.com";
/** Events of each of the other shops. */
export const SMALL_SHOP_EVENTS = 10;
const WINDOW_MS = 30 * 86_400_000;

export interface SeedOptions {
  events: number;
  shops: number;
  exportEvents: number;
  baselineEvents: number;
  now: Date;
}

/** The states and their share in a hundred: mostly sent, a few of each other. */
const STATE_OF = `CASE
  WHEN g < 80 THEN 'sent' WHEN g < 85 THEN 'retrying' WHEN g < 90 THEN 'rejected' WHEN g < 93 THEN 'paused'
  WHEN g < 96 THEN 'invalid' WHEN g < 98 THEN 'queued' WHEN g < 99 THEN 'expired' ELSE 'sending' END`;

const hash = (label: string, expr: string) => `md5('${label}' || ${expr}) || md5('${label}2' || ${expr})`;

/**
 * The rows of one shop's events: `i` runs 1..`n` (newest first, spread evenly over 30 days);
 * as many consecutive i as it has pixels are one order's copies for them (`dests`, an array of ids).
 */
function eventsSql(shopExpr: string, series: string, n: string, dests: string, pixels: string): string {
  return `
  WITH s AS (
    SELECT ${shopExpr} AS shop, i, (i / array_length(${dests}, 1)) AS o, (i::bigint * 7919) % 100 AS g,
      (i % array_length(${dests}, 1)) + 1 AS d, ${dests} AS dests, ${pixels} AS pixels,
      ($1::timestamptz AT TIME ZONE 'UTC') - (i * (${WINDOW_MS}.0 / ${n})) * interval '1 millisecond' AS at
    FROM ${series}
  ), e AS (
    SELECT s.*, ${STATE_OF} AS state, CASE WHEN o % 3 = 0 THEN 'InitiateCheckout' ELSE 'Purchase' END AS name
    FROM s
  )
  INSERT INTO "Event" ("shop", "eventName", "eventId", "topic", "state", "destinationId", "pixelId", "testEventCode",
    "payload", "eventTime", "attempts", "nextAttemptAt", "reasonCode", "reason", "fbtraceId", "customerHash",
    "checkoutToken", "orderName", "notes", "createdAt", "updatedAt", "sentAt")
  SELECT shop, name,
    CASE WHEN name = 'Purchase' THEN (6000000000000 + o)::text ELSE md5('ck' || o) END,
    CASE WHEN name = 'Purchase' THEN 'orders/paid' ELSE 'checkouts/create' END,
    state, dests[d], pixels[d], CASE WHEN o % 97 = 0 THEN 'TEST12345' END,
    jsonb_build_object(
      'event_name', name,
      'event_id', CASE WHEN name = 'Purchase' THEN (6000000000000 + o)::text ELSE md5('ck' || o) END,
      'event_time', floor(extract(epoch FROM at))::bigint - 5,
      'action_source', 'website',
      'event_source_url', 'https://' || shop || '/checkouts/c/' || md5('ck' || o),
      'user_data', jsonb_strip_nulls(jsonb_build_object(
        'em', jsonb_build_array(${hash("em", "o")}),
        'ph', CASE WHEN o % 10 < 8 THEN jsonb_build_array(${hash("ph", "o")}) END,
        'fn', jsonb_build_array(${hash("fn", "o")}),
        'ln', jsonb_build_array(${hash("ln", "o")}),
        'ct', CASE WHEN o % 10 < 9 THEN jsonb_build_array(${hash("ct", "(o % 500)")}) END,
        'st', CASE WHEN o % 10 < 9 THEN jsonb_build_array(${hash("st", "(o % 50)")}) END,
        'zp', CASE WHEN o % 10 < 9 THEN jsonb_build_array(${hash("zp", "(o % 900)")}) END,
        'country', jsonb_build_array(${hash("country", "(o % 5)")}),
        'external_id', jsonb_build_array(${hash("ext", "o")}),
        'fbp', 'fb.1.' || (1700000000000 + o) || '.' || (o * 31 % 1000000000),
        'fbc', CASE WHEN o % 10 < 4 THEN 'fb.1.' || (1700000000000 + o) || '.IwAR' || md5('fbc' || o) END,
        'client_ip_address', CASE WHEN state IN ('queued', 'sending', 'retrying', 'paused')
          THEN '203.0.113.' || (o % 250) END,
        'client_user_agent', CASE WHEN state IN ('queued', 'sending', 'retrying', 'paused')
          THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148' END)),
      'custom_data', CASE WHEN name = 'Purchase'
        THEN jsonb_build_object('value', (o % 200) + 0.99, 'currency', 'USD', 'order_id', (6000000000000 + o)::text)
        ELSE jsonb_build_object('value', (o % 200) + 0.99, 'currency', 'USD') END),
    at - interval '5 seconds',
    CASE WHEN state IN ('queued', 'sending') THEN 0 WHEN state = 'retrying' THEN 2 ELSE 1 END,
    CASE WHEN state = 'retrying' THEN at + interval '1 hour' ELSE at END,
    CASE WHEN state = 'rejected' THEN 'invalid_parameter' WHEN state = 'retrying' THEN 'meta_unavailable'
         WHEN state = 'invalid' THEN 'missing_user_data' WHEN state = 'paused' THEN 'token_expired' END,
    CASE WHEN state = 'rejected' THEN 'Meta error 100/2804050: Invalid parameter'
         WHEN state = 'retrying' THEN 'Meta answered 503; trying again'
         WHEN state = 'invalid' THEN 'The order has no email, phone or customer to match'
         WHEN state = 'paused' THEN 'Meta no longer accepts your access token: it expired.' END,
    CASE WHEN state IN ('sent', 'rejected') THEN 'A' || md5('trace' || i) END,
    ${hash("ext", "o")},
    CASE WHEN name = 'Purchase' THEN md5('ck' || o) END,
    CASE WHEN name = 'Purchase' THEN '#' || (1000 + o) END,
    CASE WHEN state IN ('sent', 'rejected', 'invalid', 'expired') THEN jsonb_build_array(jsonb_build_object(
      'code', 'client_data_removed', 'message', '${CLIENT_DATA_REMOVED}client_ip_address, client_user_agent')) END,
    at, at, CASE WHEN state = 'sent' THEN at + (1 + i % 5) * interval '1 second' END
  FROM e`;
}

async function destinations(client: pg.Client, shopExpr: string, series: string, count: number, now: Date) {
  await client.query(
    `INSERT INTO "Destination" ("id", "shop", "pixelId", "label", "accessTokenEnc", "tokenFingerprint", "createdAt", "updatedAt")
     SELECT md5(${shopExpr} || '/' || d)::uuid::text, ${shopExpr}, (4100000000000 + j * 10 + d)::text,
       CASE d WHEN 1 THEN NULL WHEN 2 THEN 'Agency' ELSE 'Brand B' END,
       'sealed-bench-token', 'bench-fingerprint', $1::timestamptz AT TIME ZONE 'UTC', $1::timestamptz AT TIME ZONE 'UTC'
     FROM ${series}, generate_series(1, ${count}) AS d`,
    [now.toISOString()],
  );
}

const destsOf = (shop: string) =>
  `(SELECT array_agg("id" ORDER BY "pixelId") FROM "Destination" WHERE "shop" = ${shop})`;
const pixelsOf = (shop: string) =>
  `(SELECT array_agg("pixelId" ORDER BY "pixelId") FROM "Destination" WHERE "shop" = ${shop})`;

/** One shop with its own pixels and `n` events. */
async function oneShop(client: pg.Client, shop: string, pixels: number, n: number, j: number, now: Date) {
  await destinations(client, `'${shop}'`, `(SELECT ${j} AS j) AS x`, pixels, now);
  await client.query(
    eventsSql(`'${shop}'`, `generate_series(1, ${n}) AS i`, String(n), destsOf(`'${shop}'`), pixelsOf(`'${shop}'`)),
    [now.toISOString()],
  );
}

export async function seedAdminDatabase(client: pg.Client, o: SeedOptions): Promise<void> {
  const now = o.now.toISOString();
  await client.query("SET synchronous_commit = off");
  await oneShop(client, BIG_SHOP, 3, o.events, 0, o.now);
  await oneShop(client, EXPORT_SHOP, 1, o.exportEvents, 1, o.now);
  await oneShop(client, BASELINE_SHOP, 1, o.baselineEvents, 2, o.now);
  const others = Math.max(0, o.shops - 3);
  if (others > 0) {
    const shopOf = `'bench-s' || j || '.myshopify.com'`;
    await destinations(client, shopOf, `generate_series(3, ${others + 2}) AS j`, 1, o.now);
    // One pass for all of them: i numbers the shop's events, j the shop.
    await client.query(
      eventsSql(
        shopOf,
        `generate_series(3, ${others + 2}) AS j, generate_series(1, ${SMALL_SHOP_EVENTS}) AS i`,
        String(SMALL_SHOP_EVENTS),
        `ARRAY[md5(${shopOf} || '/1')::uuid::text]`,
        `ARRAY[(4100000000000 + j * 10 + 1)::text]`,
      ),
      [now],
    );
  }
  await client.query(
    `INSERT INTO "Shop" ("shop", "installedAt", "updatedAt")
     SELECT DISTINCT "shop", $1::timestamptz AT TIME ZONE 'UTC', $1::timestamptz AT TIME ZONE 'UTC' FROM "Destination"`,
    [now],
  );
  // Every event's arrival; the sent ones' acceptance 1 to 5 seconds later, the others' state.
  await client.query(
    `INSERT INTO "EventTransition" ("eventPk", "at", "state", "detail")
     SELECT "id", "createdAt", 'queued', 'from ' || "topic" FROM "Event"
     UNION ALL
     SELECT "id", COALESCE("sentAt", "createdAt" + (1 + "id" % 5) * interval '1 second'), "state",
       CASE WHEN "state" = 'sent' THEN 'Meta accepted it (events_received 1)' ELSE "reason" END
     FROM "Event" WHERE "state" NOT IN ('queued', 'sending')`,
  );
  // One receipt per order's webhook (the first pixel's copy stands for the order), and held-back
  // webhooks (test orders, declined consent) about a twentieth of them, which never became events.
  await client.query(
    `INSERT INTO "WebhookReceipt" ("shop", "topic", "webhookId", "eventId", "dedupeKey", "triggeredAt", "receivedAt", "outcome")
     SELECT "shop", "topic", md5('wh' || "id"), "eventId", md5('dk' || "id"), "createdAt", "createdAt", 'queued'
     FROM "Event" WHERE "destinationId" = (SELECT min(d."id") FROM "Destination" d WHERE d."shop" = "Event"."shop")`,
  );
  await client.query(
    `INSERT INTO "WebhookReceipt" ("shop", "topic", "webhookId", "dedupeKey", "triggeredAt", "receivedAt", "outcome", "reason")
     SELECT $2, 'orders/create', md5('hb' || i), md5('hbk' || i),
       ($1::timestamptz AT TIME ZONE 'UTC') - (i * (${WINDOW_MS}.0 / $3)) * interval '1 millisecond',
       ($1::timestamptz AT TIME ZONE 'UTC') - (i * (${WINDOW_MS}.0 / $3)) * interval '1 millisecond',
       'held_back',
       (ARRAY['A test order: test orders go to your test event code only', 'The buyer declined marketing consent',
              'Your settings leave out orders from the point of sale', 'The order has no line item to send'])[1 + i % 4]
     FROM generate_series(1, $3::int) AS i`,
    [now, BIG_SHOP, Math.max(1, Math.round(o.events / 20))],
  );
  // Thirty measured days for each of the big shop's pixels.
  await client.query(
    `INSERT INTO "AccuracyDay" ("shop", "day", "destinationId", "orders", "accepted", "recovered", "heldBack", "rejected",
       "invalid", "pending", "expired", "neverReceived", "heldBackReasons", "measuredAt")
     SELECT $2, (($1::timestamptz AT TIME ZONE 'UTC')::date - k), d."id", 1000 + k, 950 + k, 3, 20, 10, 5, 8, 2, 5,
       '{"A test order: test orders go to your test event code only": 20}'::jsonb, $1::timestamptz AT TIME ZONE 'UTC'
     FROM generate_series(1, 30) AS k, "Destination" d WHERE d."shop" = $2`,
    [now, BIG_SHOP],
  );
  // The browser fired seven in ten of the delivered orders' events too (deduplication pairs).
  await client.query(
    `INSERT INTO "BrowserEvent" ("shop", "eventName", "eventId", "firedAt")
     SELECT DISTINCT ON ("eventName", "eventId") "shop", "eventName", "eventId", "createdAt" - interval '10 seconds'
     FROM "Event" WHERE "shop" = $1 AND "state" = 'sent' AND abs(hashtext("eventId") % 10) < 7
     ORDER BY "eventName", "eventId"`,
    [BIG_SHOP],
  );
  // As the worker's sweep does every few seconds: the counts the triggers appended, folded in.
  await foldEventCounts((text, params) => client.query(text, params).then((r) => r.rows));
  // As autovacuum leaves a table that has settled: statistics, and the pages marked all-visible.
  await client.query("VACUUM ANALYZE");
}
