// Every setting the app reads, validated once. On embedded defaults (no DATABASE_URL) the app
// runs on a fresh machine for development and the demo; in production (NODE_ENV=production)
// the Shopify credentials and the encryption key are required and their absence stops start-up
// with a message that names them.
import { z } from "zod";

const base = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default("data"),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
  META_GRAPH_URL: z.string().url().default("https://graph.facebook.com"),
  META_APP_SECRET: z.string().optional(),
  /** 32 bytes, base64 or hex: the key of the access-token vault. */
  ENCRYPTION_KEY: z.string().optional(),
  SHOPIFY_API_KEY: z.string().optional(),
  SHOPIFY_API_SECRET: z.string().optional(),
  SHOPIFY_APP_URL: z.string().url().optional(),
  SCOPES: z.string().default("read_orders,write_pixels,read_customer_events"),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** How long a worker holds a claimed batch before another may take it over. */
  WORKER_LEASE_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Redis key prefix: lets several installations (or test runs) share one Redis. */
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]+$/).default("capi"),
});

export type Env = z.output<typeof base> & {
  SHOPIFY_API_KEY: string;
  SHOPIFY_API_SECRET: string;
  SHOPIFY_APP_URL: string;
};

export class ConfigError extends Error {}

const DEV_DEFAULTS = {
  SHOPIFY_API_KEY: "capi-relay-dev-key",
  SHOPIFY_API_SECRET: "capi-relay-dev-secret",
};

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = base.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`setting ${issue.path.join(".")} is invalid: ${issue.message}`);
  }
  const env = parsed.data;
  if (env.NODE_ENV === "production") {
    const missing = (["SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "SHOPIFY_APP_URL", "ENCRYPTION_KEY", "DATABASE_URL"] as const).filter((k) => !env[k]);
    if (missing.length) throw new ConfigError(`missing required setting${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`);
  }
  return {
    ...env,
    SHOPIFY_API_KEY: env.SHOPIFY_API_KEY ?? DEV_DEFAULTS.SHOPIFY_API_KEY,
    SHOPIFY_API_SECRET: env.SHOPIFY_API_SECRET ?? DEV_DEFAULTS.SHOPIFY_API_SECRET,
    SHOPIFY_APP_URL: env.SHOPIFY_APP_URL ?? `http://localhost:${env.PORT}`,
  };
}

let cached: Env | undefined;
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}
