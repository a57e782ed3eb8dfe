// BullMQ on Redis carries one message: "shop S has events due". The events themselves live
// in PostgreSQL, so a lost or duplicated message costs a little latency, never an event.
import { Queue } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";

export const QUEUE_NAME = "capi-deliveries";
export const FLUSH_JOB = "flush";
/** Light traffic is flushed within this window; heavy traffic fills batches sooner. */
export const FLUSH_WINDOW_MS = 1_000;

export interface FlushJob {
  shop: string;
}

export interface DeliveryQueue {
  queue: Queue<FlushJob>;
  /**
   * Announces due work for a shop; never throws and never waits long when Redis is down.
   * `tag` separates kinds of announcement, so that a worker re-announcing from inside a
   * running job is not swallowed by that job's own id.
   */
  kick(shop: string, delayMs?: number, tag?: string): Promise<boolean>;
  close(): Promise<void>;
}

export function redisConnection(redisUrl: string, options: RedisOptions = {}): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, ...options });
}

export function createDeliveryQueue(redisUrl: string, prefix = "capi"): DeliveryQueue {
  // Fail fast while Redis is away: a webhook must be answered within Shopify's 5 seconds and
  // the event is already safe in PostgreSQL.
  const connection = redisConnection(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  connection.on("error", () => undefined);
  const queue = new Queue<FlushJob>(QUEUE_NAME, { connection, prefix });
  queue.on("error", () => undefined);
  // The window each shop (and tag) was last announced for by this process. A burst of one
  // shop is hundreds of webhooks per window; BullMQ would drop all but the first as
  // duplicates of its job id, but only after a Redis script round trip each. Only kicks
  // delayed by a whole window are remembered: their job fires after every kick that shares
  // its id, so skipping those can never leave an event unannounced.
  const announced = new Map<string, number>();
  return {
    queue,
    async kick(shop, delayMs = FLUSH_WINDOW_MS, tag = "") {
      const now = Date.now();
      // One job per shop per window: concurrent webhooks of one shop share it.
      const bucket = Math.floor((now + delayMs) / FLUSH_WINDOW_MS);
      const key = delayMs >= FLUSH_WINDOW_MS ? `${shop}\u0000${tag}` : undefined;
      if (key && announced.get(key) === bucket) return true;
      try {
        await withTimeout(
          queue.add(
            FLUSH_JOB,
            { shop },
            {
              jobId: `${FLUSH_JOB}-${shop}-${tag}${bucket}`,
              delay: delayMs,
              removeOnComplete: true,
              removeOnFail: { count: 1000 },
            },
          ),
          500,
        );
        if (key) {
          if (announced.size > 10_000) announced.clear();
          announced.set(key, bucket);
        }
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await queue.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
