// Group commit for webhook bursts. Every webhook must be durable before Shopify gets its 200,
// and a commit waits for the disk: one commit per webhook caps a process at a few hundred
// webhooks a second. Webhooks arriving within a couple of milliseconds are written together in
// one statement and one commit; each still waits for its own row to be durable.
import type { SqlRunner } from "../db/client.server";
import {
  recordWebhookEvents,
  type IngestWrite,
  type NewEvent,
  type ReceiptInput,
  type WebhookWrite,
} from "./event-store.server";

interface Pending extends WebhookWrite {
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
    private readonly sql: SqlRunner,
    options: WriteBatcherOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 2;
    this.maxBatch = options.maxBatch ?? 200;
  }

  /** A webhook and its event's copies (one per destination). */
  write(receipt: ReceiptInput, copies: [NewEvent, ...NewEvent[]], now: Date): Promise<IngestWrite> {
    const [event, ...more] = copies;
    return new Promise((resolve, reject) => {
      this.pending.push({ receipt, event, more, now, resolve, reject });
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
    try {
      const writes = await recordWebhookEvents(this.sql, batch);
      batch.forEach((p, i) => p.resolve(writes[i]!));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      // One row the database refuses must not fail its neighbours: each goes on its own.
      await Promise.all(
        batch.map((p) => recordWebhookEvents(this.sql, [p]).then(([write]) => p.resolve(write!), p.reject)),
      );
    }
  }
}
