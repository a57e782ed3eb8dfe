// Operator and support command line. `capi event` answers "what did you send to Meta for this
// order?" by printing the exact request body the worker would send for a webhook payload.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isEventTopic, prepareEvent, EVENT_TOPICS } from "../events/prepare";
import { shopEventSettingsSchema } from "../events/settings";
import { requestBody } from "../meta/request";
import { EVENT_STATE_INFO, EVENT_STATES, RECEIPT_OUTCOME_INFO } from "../pipeline/lifecycle";
import { describeIssues } from "../shopify/payloads";
import { parseWebhookJson } from "../shopify/webhook-json";

const USAGE = `usage:
  capi event --topic <${EVENT_TOPICS.join("|")}> [--shop <domain>] [--now <unix seconds>] [--settings <json>] < payload.json
  capi connect --shop <domain> --pixel <id> (--token-file <path> | --token - < token.txt | --token <access token>) [--test-code <code>]
  capi test-event --shop <domain>
  capi rotate-key
  capi status --shop <domain>
  capi quality --shop <domain> [--format text|json]
  capi data-request --shop <domain> [--id <report id>]
  capi dedup --shop <domain> [--days <n>]
  capi events --shop <domain> [--state <state>] [--event <name>] [--order <name, id or checkout token>] [--since <YYYY-MM-DD | 24h | 7d>] [--format json|csv] [--limit <n>]
  capi retry --shop <domain> (--event-id <event id> | --state <rejected|invalid>)`;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function readStdin(what = "the payload"): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    throw new CliError(`could not read ${what} from standard input`, 1);
  }
}

function eventCommand(args: string[]): string {
  const { values } = parseArgs({
    args,
    options: {
      topic: { type: "string" },
      shop: { type: "string", default: "example.myshopify.com" },
      now: { type: "string" },
      settings: { type: "string", default: "{}" },
    },
    strict: true,
  });
  if (!values.topic || !isEventTopic(values.topic)) {
    throw new CliError(`--topic must be one of ${EVENT_TOPICS.join(", ")}`, 2);
  }
  const nowSeconds = values.now === undefined ? Math.floor(Date.now() / 1000) : Number(values.now);
  if (!Number.isInteger(nowSeconds) || nowSeconds <= 0) throw new CliError("--now must be Unix seconds", 2);

  let settingsJson: unknown;
  try {
    settingsJson = JSON.parse(values.settings);
  } catch {
    throw new CliError("--settings is not JSON", 2);
  }
  const settings = shopEventSettingsSchema.safeParse(settingsJson);
  if (!settings.success) throw new CliError(`--settings: ${describeIssues(settings.error)}`, 2);

  const raw = readStdin();
  let payload: unknown;
  try {
    // As the webhook route reads it: ids above 2^53 kept exact.
    payload = parseWebhookJson(raw);
  } catch (error) {
    throw new CliError(`the payload on standard input is not JSON (${(error as Error).message})`, 1);
  }
  const outcome = prepareEvent(values.topic, payload, settings.data, { shop: values.shop, nowSeconds });
  // In the words of the webhook's receipt (app/pipeline/lifecycle.ts).
  if (outcome.status === "held_back")
    throw new CliError(`${RECEIPT_OUTCOME_INFO.held_back.label.toLowerCase()}: ${outcome.reason}`, 3);
  if (outcome.status === "invalid")
    throw new CliError(`${RECEIPT_OUTCOME_INFO.invalid.label.toLowerCase()} (${outcome.code}): ${outcome.reason}`, 1);
  return JSON.stringify(requestBody([outcome.event], outcome.testEventCode), null, 2);
}

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

function shopArg(value: string | undefined): string {
  if (!value || !SHOP_DOMAIN.test(value)) throw new CliError("--shop must be a myshopify.com domain", 2);
  return value;
}

/** Commands that need the database open it lazily, so `capi event` stays instant and offline. */
async function withDatabase<T>(work: (prisma: import("@prisma/client").PrismaClient) => Promise<T>): Promise<T> {
  const { closeProcessClients, database } = await import("../process-clients.server");
  const db = database();
  try {
    await db.ready;
    return await work(db.prisma);
  } finally {
    await closeProcessClients();
  }
}

/**
 * The token from a file or standard input: the command line of a running process is visible
 * to every user of the machine (ps, /proc), so --token T still works but says so.
 */
function tokenArg(values: { token?: string; "token-file"?: string }): string | undefined {
  if (values.token !== undefined && values["token-file"] !== undefined)
    throw new CliError("give --token-file or --token, not both", 2);
  if (values["token-file"] !== undefined) {
    try {
      return readFileSync(values["token-file"], "utf8").trim();
    } catch {
      throw new CliError(`could not read --token-file ${values["token-file"]}`, 1);
    }
  }
  if (values.token === "-") return readStdin("the token").trim();
  if (values.token !== undefined) {
    process.stderr.write(
      "warning: --token on the command line is visible to other users of this machine; use --token-file <path> or --token - (standard input)\n",
    );
  }
  return values.token;
}

/** `capi connect`: saved but Meta gave no usable answer to the check (unreachable, 5xx, rate limit). */
const EXIT_NOT_CHECKED = 4;

/**
 * Checks the pixel and token with Meta (META_GRAPH_URL), then saves them, as the admin page
 * does (app/pipeline/connection.server.ts): refused ones are not saved and exit 1 with the
 * page's sentence; saved but not checked exits 4. The token is never echoed back.
 */
async function connectCommand(args: string[]): Promise<{ report: string; exitCode: number; warning?: string }> {
  const { values } = parseArgs({
    args,
    options: {
      shop: { type: "string" },
      pixel: { type: "string" },
      token: { type: "string" },
      "token-file": { type: "string" },
      "test-code": { type: "string" },
      label: { type: "string" },
      events: { type: "string" },
    },
    strict: true,
  });
  const shop = shopArg(values.shop);
  const { destinationInputSchema } = await import("../pipeline/destinations.server");
  const { saveDestinationUnderPlan } = await import("../billing/billing.server");
  const { connectDestination, metaAccessFromEnv } = await import("../pipeline/connection.server");
  // A pixel the shop has is changed; another is added next to it (a shop may send to several).
  const input = destinationInputSchema.safeParse({
    pixelId: values.pixel,
    accessToken: tokenArg(values),
    testEventCode: values["test-code"],
    label: values.label,
    events: values.events?.split(",").map((e) => e.trim()),
  });
  if (!input.success) throw new CliError(describeIssues(input.error), 2);
  if (!input.data.accessToken) throw new CliError("--token-file or --token is required", 2);
  const outcome = await withDatabase((prisma) =>
    connectDestination(prisma, shop, input.data, { meta: metaAccessFromEnv(), save: saveDestinationUnderPlan }),
  );
  if (!outcome.saved) {
    // The CLI always gives a token, so the stored one is never needed.
    const sentence = "check" in outcome ? outcome.check.message : "the stored access token can no longer be read";
    throw new CliError(`not saved: ${sentence}`, 1);
  }
  const { check } = outcome;
  const report = JSON.stringify({
    shop,
    destinationId: outcome.id,
    pixelId: input.data.pixelId,
    testEventCode: input.data.testEventCode ?? null,
    connected: check.status === "connected",
    check: check.status,
    paused: outcome.paused,
    message: check.message,
  });
  if (check.status === "connected") return { report, exitCode: 0 };
  return {
    report,
    exitCode: EXIT_NOT_CHECKED,
    warning: `saved, not checked yet: ${check.message} Run capi connect again when Meta answers.`,
  };
}

/**
 * One test Purchase to the shop's pixel with its test event code (app/pipeline/test-event.server.ts):
 * Meta's answer on stdout; not sent for lack of a pixel or a test event code exits 3 with what
 * to do, refused or unanswered by Meta exits 1.
 */
async function testEventCommand(args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: { shop: { type: "string" }, pixel: { type: "string" } },
    strict: true,
  });
  const shop = shopArg(values.shop);
  const { metaAccessFromEnv } = await import("../pipeline/connection.server");
  const { sendTestEvent } = await import("../pipeline/test-event.server");
  const { TEST_EVENTS_PLACE } = await import("../meta/test-event");
  const sent = await withDatabase(async (prisma) => {
    // --pixel picks one of the shop's pixels; without it, the first connected.
    const destinationId = values.pixel
      ? (
          await prisma.destination.findUnique({
            where: { shop_pixelId: { shop, pixelId: values.pixel } },
            select: { id: true },
          })
        )?.id
      : undefined;
    if (values.pixel && !destinationId) throw new CliError(`${shop} has no pixel ${values.pixel}`, 3);
    return sendTestEvent(prisma, shop, metaAccessFromEnv(), { destinationId });
  });
  if (!sent.ok) {
    const notSent = ["no-destination", "no-test-event-code", "unreadable-token", "not-built"].includes(sent.reason);
    throw new CliError(`${notSent ? "not sent" : "failed"}: ${sent.message}`, notSent ? 3 : 1);
  }
  return JSON.stringify(
    {
      shop,
      pixelId: sent.pixelId,
      testEventCode: sent.testEventCode,
      eventId: sent.eventId,
      eventsReceived: sent.eventsReceived,
      fbtraceId: sent.fbtraceId ?? null,
      messages: sent.messages,
      seeIt: `${TEST_EVENTS_PLACE} (code ${sent.testEventCode})`,
      message: sent.message,
    },
    null,
    2,
  );
}

/**
 * Seals every Meta token and Shopify session token again under ENCRYPTION_KEY, opening each
 * with it or ENCRYPTION_KEY_PREVIOUS; values already sealed under the current key are skipped,
 * so running it twice is harmless. Prints counts and key ids, never a token or a key.
 */
async function rotateKeyCommand(args: string[]): Promise<{ report: string; unreadable: number }> {
  parseArgs({ args, options: {}, strict: true });
  const { keyId } = await import("../security/token-vault");
  const { vaultKeys } = await import("../security/vault-key.server");
  const { resealDestinationTokens } = await import("../pipeline/destinations.server");
  const { resealSessionTokens } = await import("../shopify/session-storage.server");
  const keys = vaultKeys();
  const counts = await withDatabase(async (prisma) => ({
    destinations: await resealDestinationTokens(prisma, keys),
    sessions: await resealSessionTokens(prisma, keys),
  }));
  const report = JSON.stringify(
    { keyId: keyId(keys.current), previousKeyId: keys.previous ? keyId(keys.previous) : null, ...counts },
    null,
    2,
  );
  return { report, unreadable: counts.destinations.unreadable + counts.sessions.unreadable };
}

async function statusCommand(args: string[]): Promise<string> {
  const { values } = parseArgs({ args, options: { shop: { type: "string" } }, strict: true });
  const shop = shopArg(values.shop);
  const { countEvents, countHeldBack, topReasons } = await import("../admin/dashboard.server");
  return withDatabase(async (prisma) => {
    const { listDestinations, storedCheck } = await import("../pipeline/destinations.server");
    const destinations = await listDestinations(prisma, shop);
    // Everything still kept (RETENTION_DAYS), in the admin page's words.
    const [events, heldBack] = await Promise.all([countEvents(prisma, shop), countHeldBack(prisma, shop)]);
    const heldBackTotal = [...heldBack.values()].reduce((a, b) => a + b, 0);
    const { offlineAccessLost } = await import("../shopify/offline-token.server");
    const { offlineAccessLostMessage } = await import("../shopify/offline-token");
    const lost = await offlineAccessLost(prisma, shop);
    return JSON.stringify(
      {
        shop,
        destinations: destinations.map((destination) => {
          const check = storedCheck(destination);
          return {
            id: destination.id,
            pixelId: destination.pixelId,
            label: destination.label,
            events: destination.events,
            sendTestOrders: destination.sendTestOrders,
            testEventCode: destination.testEventCode,
            apiVersion: destination.apiVersion,
            paused: destination.pausedAt !== null,
            pauseMessage: destination.pauseMessage,
            check: check && {
              status: check.status,
              message: check.message,
              checkedAt: check.checkedAt.toISOString(),
            },
          };
        }),
        events: {
          total: events.total,
          byState: EVENT_STATES.filter((state) => events[state] > 0).map((state) => ({
            state,
            label: EVENT_STATE_INFO[state].label,
            count: events[state],
          })),
        },
        heldBack: { label: RECEIPT_OUTCOME_INFO.held_back.label, total: heldBackTotal, reasons: topReasons(heldBack) },
        // Background work through the Admin API (reconciliation): stopped when Shopify refused to renew the token.
        offlineAccess: lost
          ? { stopped: true, since: lost.at.toISOString(), reason: lost.reason, message: offlineAccessLostMessage() }
          : { stopped: false },
      },
      null,
      2,
    );
  });
}

/** Our match-key coverage and Meta's last Dataset Quality numbers per pixel, as the Overview's card shows them. */
async function qualityCommand(args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: { shop: { type: "string" }, format: { type: "string", default: "text" } },
    strict: true,
  });
  const shop = shopArg(values.shop);
  if (values.format !== "text" && values.format !== "json") throw new CliError("--format must be text or json", 2);
  const { loadMetaQuality } = await import("../admin/meta-quality.server");
  const quality = await withDatabase((prisma) => loadMetaQuality(prisma, shop));
  if (values.format === "json") return JSON.stringify({ shop, ...quality }, null, 2);
  const { qualityText } = await import("./quality-text");
  return qualityText(shop, quality);
}

/** The shop's customers/data_request reports still kept (summaries), or one report whole (--id). */
async function dataRequestCommand(args: string[]): Promise<string> {
  const { values } = parseArgs({ args, options: { shop: { type: "string" }, id: { type: "string" } }, strict: true });
  const shop = shopArg(values.shop);
  const { listDataRequests, loadDataRequest } = await import("../pipeline/privacy.server");
  return withDatabase(async (prisma) => {
    if (values.id === undefined)
      return JSON.stringify({ shop, dataRequests: await listDataRequests(prisma, shop) }, null, 2);
    const report = await loadDataRequest(prisma, shop, values.id);
    if (!report) throw new CliError(`no data request report ${values.id} for ${shop}`, 1);
    return JSON.stringify(report, null, 2);
  });
}

/**
 * Deduplication health, as the Overview shows it: per event name and UTC day, the server's
 * delivered events, those the storefront pixel fired too, and those only the server delivered;
 * another Meta pixel seen running the shop's pixels; and whether Meta's Facebook & Instagram
 * channel was installed when the Overview last asked Shopify (no call to Shopify here).
 */
async function dedupCommand(args: string[]): Promise<string> {
  const { values } = parseArgs({ args, options: { shop: { type: "string" }, days: { type: "string" } }, strict: true });
  const shop = shopArg(values.shop);
  const days = values.days === undefined ? undefined : Number(values.days);
  if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 90))
    throw new CliError("--days must be a whole number from 1 to 90", 2);
  const { loadDedupHealth } = await import("../pipeline/dedup-health.server");
  const { loadPixelSightings } = await import("../pipeline/pixel-sightings.server");
  const { loadMetaChannelState } = await import("../shopify/sales-channels.server");
  const { prismaSql } = await import("../db/client.server");
  return withDatabase(async (prisma) => {
    const now = new Date();
    const [health, otherPixels, metaChannel] = await Promise.all([
      loadDedupHealth(prismaSql(prisma), shop, now, days),
      loadPixelSightings(prisma, shop, now),
      loadMetaChannelState(prisma, shop),
    ]);
    return JSON.stringify({ shop, ...health, otherPixels, metaChannel }, null, 2);
  });
}

/** `capi events` lists at most this many as JSON unless --limit says otherwise (CSV streams them all). */
const EVENTS_JSON_LIMIT = 100;
const EVENTS_LIMIT_MAX = 100_000;

/** --since: a UTC day (YYYY-MM-DD), or a span back from now (36h, 7d). */
function sinceArg(value: string | undefined, now: Date): Date | undefined {
  if (value === undefined) return undefined;
  const span = /^(\d{1,4})([hd])$/.exec(value);
  if (span) return new Date(now.getTime() - Number(span[1]) * (span[2] === "h" ? 3_600_000 : 86_400_000));
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    return new Date(`${value}T00:00:00Z`);
  throw new CliError("--since must be a UTC day (YYYY-MM-DD) or a span back from now (24h, 7d)", 2);
}

/**
 * A shop's events as the Events page filters them (app/admin/event-filter.ts), newest first:
 * JSON (at most --limit, 100 by default) or CSV streamed to stdout, the export's columns
 * (hashed data only). `--order` searches by order name, order id or checkout token.
 */
async function eventsCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      shop: { type: "string" },
      state: { type: "string" },
      event: { type: "string" },
      order: { type: "string" },
      pixel: { type: "string" },
      since: { type: "string" },
      format: { type: "string", default: "json" },
      limit: { type: "string" },
    },
    strict: true,
  });
  const shop = shopArg(values.shop);
  if (values.format !== "json" && values.format !== "csv") throw new CliError("--format must be json or csv", 2);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > EVENTS_LIMIT_MAX))
    throw new CliError(`--limit must be a whole number from 1 to ${EVENTS_LIMIT_MAX}`, 2);
  const since = sinceArg(values.since, new Date());
  const { eventFilterSchema } = await import("../admin/event-filter");
  const parsed = eventFilterSchema.safeParse({ state: values.state, event: values.event, q: values.order });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliError(`--${issue.path[0] === "q" ? "order" : String(issue.path[0])}: ${issue.message}`, 2);
  }
  const { streamEvents } = await import("../admin/events-list.server");
  const { CSV_HEADER, csvRow, eventRecord } = await import("../admin/events-csv");
  await withDatabase(async (prisma) => {
    let destination: string | undefined;
    if (values.pixel) {
      const found = await prisma.destination.findUnique({
        where: { shop_pixelId: { shop, pixelId: values.pixel } },
        select: { id: true },
      });
      if (!found) throw new CliError(`${shop} has no pixel ${values.pixel}`, 3);
      destination = found.id;
    }
    const rows = streamEvents(
      prisma,
      shop,
      { ...parsed.data, destination, since },
      {
        limit: values.format === "json" ? (limit ?? EVENTS_JSON_LIMIT) : limit,
      },
    );
    if (values.format === "csv") {
      await write(CSV_HEADER);
      for await (const row of rows) await write(csvRow(row));
      return;
    }
    const events = [];
    for await (const row of rows) events.push(eventRecord(row));
    await write(`${JSON.stringify({ shop, count: events.length, events }, null, 2)}\n`);
  });
}

/** Writes to stdout, waiting while the pipe is full: a CSV of many events is streamed, never held. */
function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once("drain", resolve).once("error", reject);
  });
}

/**
 * Sends events again as the Events page does (app/pipeline/retry-rule.ts decides, at most
 * RETRY_ALL_LIMIT a run): every copy of one Meta event id (an order id or a checkout token), or
 * the shop's events in one retryable state. Exit 3 when none could be sent again, with why.
 */
async function retryCommand(args: string[]): Promise<{ report: string; exitCode: number; warning?: string }> {
  const { values } = parseArgs({
    args,
    options: { shop: { type: "string" }, "event-id": { type: "string" }, state: { type: "string" } },
    strict: true,
  });
  const shop = shopArg(values.shop);
  const { RETRYABLE_STATES } = await import("../pipeline/retry-rule");
  const eventId = values["event-id"]?.trim();
  if ((eventId === undefined) === (values.state === undefined))
    throw new CliError("give --event-id or --state, one of them", 2);
  if (eventId !== undefined && (!eventId || eventId.length > 255))
    throw new CliError("--event-id is empty or too long", 2);
  if (values.state !== undefined && !(RETRYABLE_STATES as readonly string[]).includes(values.state))
    throw new CliError(
      `--state must be ${RETRYABLE_STATES.join(" or ")}: events in other states are never sent again`,
      2,
    );
  const { retryEvents } = await import("../pipeline/retry.server");
  const { deliveryQueue } = await import("../process-clients.server");
  const result = await withDatabase(async (prisma) => {
    const where = eventId !== undefined ? { eventId } : { state: values.state };
    if (eventId !== undefined && !(await prisma.event.findFirst({ where: { shop, eventId }, select: { id: true } })))
      throw new CliError(`${shop} has no event ${eventId}`, 3);
    return retryEvents(prisma, shop, where, { now: new Date(), queue: deliveryQueue() });
  });
  const report = JSON.stringify({ shop, ...result }, null, 2);
  if (result.retried > 0) return { report, exitCode: 0 };
  return {
    report,
    exitCode: 3,
    warning: `nothing sent again${result.notRetried[0] ? `: ${result.notRetried[0].reason}` : ""}`,
  };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "event":
        process.stdout.write(`${eventCommand(rest)}\n`);
        return 0;
      case "connect": {
        const { report, exitCode, warning } = await connectCommand(rest);
        process.stdout.write(`${report}\n`);
        if (warning) process.stderr.write(`${warning}\n`);
        return exitCode;
      }
      case "test-event":
        process.stdout.write(`${await testEventCommand(rest)}\n`);
        return 0;
      case "rotate-key": {
        const { report, unreadable } = await rotateKeyCommand(rest);
        process.stdout.write(`${report}\n`);
        if (unreadable) {
          throw new CliError(
            `${unreadable} value(s) open with neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS and were left as they are`,
            1,
          );
        }
        return 0;
      }
      case "status":
        process.stdout.write(`${await statusCommand(rest)}\n`);
        return 0;
      case "quality":
        process.stdout.write(`${await qualityCommand(rest)}\n`);
        return 0;
      case "data-request":
        process.stdout.write(`${await dataRequestCommand(rest)}\n`);
        return 0;
      case "dedup":
        process.stdout.write(`${await dedupCommand(rest)}\n`);
        return 0;
      case "events":
        await eventsCommand(rest);
        return 0;
      case "retry": {
        const { report, exitCode, warning } = await retryCommand(rest);
        process.stdout.write(`${report}\n`);
        if (warning) process.stderr.write(`${warning}\n`);
        return exitCode;
      }
      default:
        throw new CliError(command ? `unknown command "${command}"\n${USAGE}` : USAGE, 2);
    }
  } catch (error) {
    const message = error instanceof CliError ? error.message : `error: ${(error as Error).message}`;
    process.stderr.write(`${message.split("\n")[0]}\n`);
    if (error instanceof CliError && error.message.includes("\n")) process.stderr.write(`${USAGE}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
