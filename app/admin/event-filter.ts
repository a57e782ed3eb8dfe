// What the Events page, its CSV export and `capi events` are asked for: filters (state, event
// name, destination, a date range), a search (order name, order id or checkout token) and a
// page cursor. They travel in the URL's query, so a filtered list can be shared and the back
// button returns to it; every value is validated here and bounded in size. Pure: the page
// bundles it for the browser too.
import { z } from "zod";
import { EVENT_STATES } from "../pipeline/lifecycle";

/** Events on one page of the list. */
export const EVENTS_PAGE_SIZE = 50;
/** The longest search a merchant can type: an order name, an order id or a checkout token fit. */
export const SEARCH_MAX = 100;

/** The Meta events the app sends (app/events): the event name filter offers these. */
export const EVENT_NAMES = ["Purchase", "InitiateCheckout"] as const;

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar day (UTC) as the date inputs give it, or empty. */
const day = z
  .string()
  .max(10)
  .refine(
    (v) => v === "" || (DATE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))),
    "Enter a date as YYYY-MM-DD",
  )
  .optional()
  .transform((v) => (v ? v : undefined));

const empty = (v: unknown) => (v === "" ? undefined : v);

/** Where a page starts: after the (createdAt, id) of the last row shown, newest first. */
export interface Cursor {
  createdAt: Date;
  id: bigint;
}

export function encodeCursor(c: Cursor): string {
  return `${c.createdAt.getTime().toString(36)}.${c.id.toString(36)}`;
}

export function decodeCursor(text: string): Cursor | undefined {
  const match = /^([0-9a-z]{1,12})\.([0-9a-z]{1,14})$/.exec(text);
  if (!match) return undefined;
  const ms = parseInt(match[1]!, 36);
  let id = 0n;
  for (const ch of match[2]!) id = id * 36n + BigInt(parseInt(ch, 36));
  if (!Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime())) return undefined;
  return { createdAt: new Date(ms), id };
}

export const eventFilterSchema = z
  .object({
    state: z.preprocess(empty, z.enum(EVENT_STATES, { message: "Choose one of the states listed" }).optional()),
    event: z.preprocess(empty, z.enum(EVENT_NAMES, { message: "Choose one of the events listed" }).optional()),
    destination: z.preprocess(empty, z.string().uuid("Choose one of your pixels").optional()),
    from: day,
    to: day,
    q: z
      .string()
      .max(SEARCH_MAX, `Search with at most ${SEARCH_MAX} characters`)
      .optional()
      .transform((v) => v?.trim() || undefined),
    cursor: z.preprocess(
      empty,
      z
        .string()
        .max(40)
        .optional()
        .transform((v, ctx) => {
          if (v === undefined) return undefined;
          const c = decodeCursor(v);
          if (!c)
            ctx.addIssue({ code: "custom", message: "This page link is broken: start again from the first page" });
          return c;
        }),
    ),
    /** Which way from the cursor: older rows (next) or newer ones (prev). */
    dir: z.preprocess(empty, z.enum(["next", "prev"]).default("next")),
  })
  .superRefine((f, ctx) => {
    if (f.from && f.to && f.from > f.to)
      ctx.addIssue({ code: "custom", path: ["to"], message: "The end date is before the start date" });
  });

export type EventFilter = z.output<typeof eventFilterSchema>;

/** The keys of the query the page reads; anything else in the URL (Shopify's own) is ignored. */
const FILTER_KEYS = ["state", "event", "destination", "from", "to", "q", "cursor", "dir"] as const;

export type FilterParse =
  | { ok: true; filter: EventFilter }
  | { ok: false; filter: EventFilter; errors: Partial<Record<(typeof FILTER_KEYS)[number], string>> };

/**
 * The filter of a URL's query. Bad values are dropped (the list shows as if they were not
 * given) and each is said next to its field; a query never fails the page.
 */
export function parseEventFilter(params: URLSearchParams): FilterParse {
  const raw: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value !== null) raw[key] = value;
  }
  const parsed = eventFilterSchema.safeParse(raw);
  if (parsed.success) return { ok: true, filter: parsed.data };
  const errors: Partial<Record<(typeof FILTER_KEYS)[number], string>> = {};
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0] ?? "q") as (typeof FILTER_KEYS)[number];
    errors[key] ??= issue.message;
    delete raw[key];
  }
  // A bad cursor also drops its direction: the list starts again from the newest.
  if (errors.cursor) delete raw.dir;
  // A date range the wrong way round is dropped whole.
  if (errors.to && raw.from) delete raw.from;
  const again = eventFilterSchema.safeParse(raw);
  return { ok: false, filter: again.success ? again.data : eventFilterSchema.parse({}), errors };
}

/** The filter as a query string (no cursor unless given): the links of the page and the export. */
export function filterQuery(filter: EventFilter, page?: { cursor: Cursor; dir: "next" | "prev" }): string {
  const params = new URLSearchParams();
  if (filter.state) params.set("state", filter.state);
  if (filter.event) params.set("event", filter.event);
  if (filter.destination) params.set("destination", filter.destination);
  if (filter.from) params.set("from", filter.from);
  if (filter.to) params.set("to", filter.to);
  if (filter.q) params.set("q", filter.q);
  if (page) {
    params.set("cursor", encodeCursor(page.cursor));
    if (page.dir === "prev") params.set("dir", "prev");
  }
  return params.toString();
}

/** The createdAt range of the filter's dates (UTC days, `to` included). */
export function createdRange(filter: { from?: string; to?: string }): { gte?: Date; lt?: Date } {
  return {
    ...(filter.from ? { gte: new Date(`${filter.from}T00:00:00Z`) } : {}),
    ...(filter.to ? { lt: new Date(Date.parse(`${filter.to}T00:00:00Z`) + DAY_MS) } : {}),
  };
}

/**
 * What a search names: an order id or a checkout token is an event id (Purchase, InitiateCheckout)
 * or a Purchase's checkout token; an order name is stored as Shopify shows it ("#1001"), so a
 * number typed without its "#" is tried with it too.
 */
export function searchTerms(q: string): { ids: string[]; orderNames: string[] } {
  const term = q.trim();
  const orderNames = [term];
  if (!term.startsWith("#")) orderNames.push(`#${term}`);
  return { ids: [term], orderNames };
}

/** Whether a filter narrows the list at all (the empty state then says "no events match"). */
export function isFiltered(filter: EventFilter): boolean {
  return Boolean(filter.state || filter.event || filter.destination || filter.from || filter.to || filter.q);
}
