// Start-up checks of the services the app needs, each failing with a message that says what
// is missing and how to fix it.
import { Redis } from "ioredis";

export async function checkRedis(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch {
    throw new Error(
      `Redis is not reachable at ${url}. Start it (for example: redis-server --daemonize yes) or set REDIS_URL.`,
    );
  } finally {
    client.disconnect();
  }
}
