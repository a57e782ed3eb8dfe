// Group commit for webhook bursts. Every webhook must be durable before Shopify gets its 200,
// and a commit waits for the disk: one commit per webhook caps a process at a few hundred
// webhooks a second. Webhooks arriving within a couple of milliseconds are written together in
// one statement and one commit; each still waits for its own row to be durable.
import { Prisma, type PrismaClient } from "@prisma/client";
import { recordWebhookEvent, type IngestWrite, type NewEvent, type ReceiptInput } from "./event-store.server";

interface Pending {
  receipt: ReceiptInput;
  event: NewEvent;
  now: Date;
  resolve(write: IngestWrite): void;
  reject(error: unknown): void;
}

export interface WriteBatcherOptions {
  /** The longest a webhook waits for companions before its batch is written. */
  lingerMs?: number;
  maxBatch?: number;
}

export class WriteBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly lingerMs: number;
  private readonly maxBatch: number;

  constructor(
    private readonly prisma: PrismaClient,
    options: WriteBatcherOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 2;
    this.maxBatch = options.maxBatch ?? 200;
  }

  write(receipt: ReceiptInput, event: NewEvent, now: Date): Promise<IngestWrite> {
    return new Promise((resolve, reject) => {
      this.pending.push({ receipt, event, now, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    void this.writeBatch(batch);
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Pending];
      return recordWebhookEvent(this.prisma, only.receipt, only.event, only.now).then(only.resolve, only.reject);
    }
    try {
      const writes = await recordWebhookEvents(this.prisma, batch);
      batch.forEach((p, i) => p.resolve(writes[i]!));
    } catch {
      // One row the database refuses must not fail its neighbours: each goes on its own.
      await Promise.all(batch.map((p) => recordWebhookEvent(this.prisma, p.receipt, p.event, p.now).then(p.resolve, p.reject)));
    }
  }
}

/** The multi-row form of recordWebhookEvent: same rules, one statement, one commit. */
export async function recordWebhookEvents(prisma: PrismaClient, rows: Array<{ receipt: ReceiptInput; event: NewEvent; now: Date }>): Promise<IngestWrite[]> {
  const values = rows.map(({ receipt: r, event: e, now }, idx) => {
    const ev = e.event;
    return Prisma.sql`(${idx}::int, ${r.shop}::text, ${r.topic}::text, ${r.webhookId}::text, ${r.eventId ?? null}::text,
      ${r.eventId || r.webhookId}::text, ${r.triggeredAt ?? null}::timestamp(3), ${now}::timestamp(3), ${r.outcome}::text,
      ${r.reason ?? null}::text, ${ev.event_name}::text, ${ev.event_id}::text, ${e.topic}::text, ${e.state}::text,
      ${e.pixelId ?? null}::text, ${e.testEventCode ?? null}::text, ${JSON.stringify(ev)}::jsonb,
      ${new Date(ev.event_time * 1000)}::timestamp(3), ${e.reasonCode ?? null}::text, ${e.reason ?? null}::text,
      ${e.customerHash ?? null}::text)`;
  });
  const result = await prisma.$queryRaw<Array<{ idx: number; receipt: boolean; event: bigint | null }>>`
    WITH input ("idx", "shop", "topic", "webhookId", "eventId", "dedupeKey", "triggeredAt", "now", "outcome", "reason",
                "eventName", "evId", "evTopic", "state", "pixelId", "testEventCode", "payload", "eventTime", "reasonCode",
                "evReason", "customerHash") AS (VALUES ${Prisma.join(values)}),
    receipt AS (
      INSERT INTO "WebhookReceipt" ("shop", "topic", "webhookId", "eventId", "dedupeKey", "triggeredAt", "receivedAt", "outcome", "reason")
      SELECT i."shop", i."topic", i."webhookId", i."eventId", i."dedupeKey", i."triggeredAt", i."now",
             CASE WHEN EXISTS (SELECT 1 FROM "Event" x WHERE x."shop" = i."shop" AND x."eventName" = i."eventName" AND x."eventId" = i."evId")
                  THEN 'duplicate' ELSE i."outcome" END,
             i."reason"
      FROM input i
      ON CONFLICT ("shop", "topic", "dedupeKey") DO NOTHING
      RETURNING "shop", "topic", "dedupeKey"
    ),
    fresh AS (
      SELECT DISTINCT ON (i."shop", i."eventName", i."evId") i.*
      FROM input i JOIN receipt r ON r."shop" = i."shop" AND r."topic" = i."topic" AND r."dedupeKey" = i."dedupeKey"
      ORDER BY i."shop", i."eventName", i."evId", i."idx"
    ),
    event AS (
      INSERT INTO "Event" ("shop", "eventName", "eventId", "topic", "state", "pixelId", "testEventCode", "payload",
                           "eventTime", "nextAttemptAt", "reasonCode", "reason", "customerHash", "createdAt", "updatedAt")
      SELECT f."shop", f."eventName", f."evId", f."evTopic", f."state", f."pixelId", f."testEventCode", f."payload",
             f."eventTime", f."now", f."reasonCode", f."evReason", f."customerHash", f."now", f."now"
      FROM fresh f
      ON CONFLICT ("shop", "eventName", "eventId") DO NOTHING
      RETURNING "id", "shop", "eventName", "eventId", "state", "reason", "topic", "createdAt"
    ),
    transition AS (
      INSERT INTO "EventTransition" ("eventPk", "at", "state", "detail")
      SELECT "id", "createdAt", "state", COALESCE("reason", 'from ' || "topic") FROM event
    )
    SELECT i."idx", (r."dedupeKey" IS NOT NULL) AS "receipt", e."id" AS "event"
    FROM input i
    LEFT JOIN (SELECT DISTINCT "shop", "topic", "dedupeKey" FROM receipt) r
      ON r."shop" = i."shop" AND r."topic" = i."topic" AND r."dedupeKey" = i."dedupeKey"
    LEFT JOIN fresh f ON f."idx" = i."idx"
    LEFT JOIN event e ON f."idx" IS NOT NULL AND e."shop" = f."shop" AND e."eventName" = f."eventName" AND e."eventId" = f."evId"
    ORDER BY i."idx"`;
  // Two copies of one webhook in a batch: the receipt is new for the first only.
  const seen = new Set<string>();
  return result.map((row) => {
    const r = rows[row.idx]!.receipt;
    const key = `${r.shop}\u0000${r.topic}\u0000${r.eventId || r.webhookId}`;
    const first = !seen.has(key);
    seen.add(key);
    return { receiptInserted: row.receipt && first, eventPk: row.event ?? undefined };
  });
}
