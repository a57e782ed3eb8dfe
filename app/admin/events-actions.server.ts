// The Events page's posts: retry one event, or every retryable one of the filter shown (at most
// RETRY_ALL_LIMIT a click). Validated with zod; the answer says, in the merchant's words, how
// many were sent again and why the others were not.
import type { PrismaClient } from "@prisma/client";
import { z } from "zod";
import { parseEventFilter } from "./event-filter";
import { eventWhere, loadEventRow, type EventListRow } from "./events-list.server";
import type { DeliveryQueue } from "../pipeline/queue.server";
import { retryEvents, type RetryResult } from "../pipeline/retry.server";
import { RETRY_ALL_LIMIT, RETRYABLE_STATES } from "../pipeline/retry-rule";

export type RetryAnswer =
  /** `event`: the one retried, as it is now (it may have left the filter shown). */
  | ({ ok: true; intent: "retry-one" | "retry-all"; message: string; event?: EventListRow } & RetryResult)
  | { ok: false; intent: "retry-one" | "retry-all" | null; message: string };

const formSchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("retry-one"), id: z.string().regex(/^\d{1,19}$/, "Reload the page and try again") }),
  z.object({ intent: z.literal("retry-all"), filter: z.string().max(2_000).default("") }),
]);

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

function sentence(result: RetryResult): string {
  const parts: string[] = [];
  parts.push(
    result.retried > 0
      ? `${plural(result.retried, "event")} sent again: they go to Meta within seconds.`
      : "No event was sent again.",
  );
  const left = result.notRetried.reduce((sum, r) => sum + r.count, 0);
  if (left > 0) parts.push(`${plural(left, "event")} not sent: ${result.notRetried[0]!.reason}`);
  if (result.more)
    parts.push(
      `Only ${RETRY_ALL_LIMIT.toLocaleString("en-US")} events are looked at per click: retry again for the rest.`,
    );
  return parts.join(" ");
}

export async function handleEventsAction(
  prisma: PrismaClient,
  shop: string,
  form: FormData,
  deps: { now: Date; queue?: DeliveryQueue | null },
): Promise<{ status: number; answer: RetryAnswer }> {
  const parsed = formSchema.safeParse(Object.fromEntries([...form].filter(([, v]) => typeof v === "string")));
  if (!parsed.success) {
    return {
      status: 400,
      answer: { ok: false, intent: null, message: "This request was not understood. Reload the page and try again." },
    };
  }
  if (parsed.data.intent === "retry-one") {
    const exists = await prisma.event.findFirst({ where: { shop, id: BigInt(parsed.data.id) }, select: { id: true } });
    if (!exists) {
      return {
        status: 404,
        answer: { ok: false, intent: "retry-one", message: "This event no longer exists. Reload the page." },
      };
    }
    const result = await retryEvents(prisma, shop, { id: exists.id }, { ...deps, limit: 1 });
    const event = await loadEventRow(prisma, shop, exists.id, deps.now);
    return { status: 200, answer: { ok: true, intent: "retry-one", message: sentence(result), ...result, event } };
  }
  const filter = parseEventFilter(new URLSearchParams(parsed.data.filter));
  if (!filter.ok) {
    return {
      status: 400,
      answer: { ok: false, intent: "retry-all", message: "Fix the filter first: " + Object.values(filter.errors)[0] },
    };
  }
  // Only the states a retry can change are looked at: thousands of delivered events are not reasons to list.
  const where = await eventWhere(prisma, shop, filter.filter);
  const result = await retryEvents(prisma, shop, { AND: [where, { state: { in: [...RETRYABLE_STATES] } }] }, deps);
  return { status: 200, answer: { ok: true, intent: "retry-all", message: sentence(result), ...result } };
}
