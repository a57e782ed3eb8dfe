// Every setting the app reads, validated once. On embedded defaults (no DATABASE_URL) the app
// runs on a fresh machine for development and the demo; in production (NODE_ENV=production)
// the Shopify credentials and the encryption key are required and their absence stops start-up
// with a message that names them.
import { z } from "zod";
import { parseVaultKey } from "../security/token-vault";

/** A vault key (32 bytes, 64 hex characters or base64); empty counts as unset. */
const vaultKeyText = z.preprocess(
  (value) => (value === "" ? undefined : value),
  z
    .string()
    .refine((text) => {
      try {
        return parseVaultKey(text).length === 32;
      } catch {
        return false;
      }
    }, "must be 32 bytes, as 64 hex characters or base64")
    .optional(),
);

/** The Admin API scopes the app asks for; shopify.app.toml's access_scopes must be the same (`npm run config` writes them). */
export const DEFAULT_SCOPES = "read_orders,write_pixels,read_customer_events,read_publications";
/** Empty counts as unset. */
const optionalText = z.preprocess((value) => (value === "" ? undefined : value), z.string().optional());

/** See MAX_BODY_BYTES and WEB_MAX_CONNECTIONS below; server/main.ts uses the same defaults in-process. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_WEB_MAX_CONNECTIONS = 512;

const base = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default("data"),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
  META_GRAPH_URL: z.string().url().default("https://graph.facebook.com"),
  /** The Meta app's secret: server only (appsecret_proof, the login's code exchange); never sent to a browser or logged. */
  META_APP_SECRET: z.string().optional(),
  /** Connect with Meta (Facebook Login for Business) needs the app id, its secret and the login configuration id. */
  META_APP_ID: optionalText.pipe(
    z
      .string()
      .regex(/^\d{1,20}$/, "must be the Meta app's numeric id")
      .optional(),
  ),
  META_LOGIN_CONFIG_ID: optionalText.pipe(
    z
      .string()
      .regex(/^\d{1,20}$/, "must be the numeric id of the Facebook Login for Business configuration")
      .optional(),
  ),
  /** Where Meta's login dialog is (the stand-in's URL in tests). */
  META_DIALOG_URL: z.string().url().default("https://www.facebook.com"),
  /** 32 bytes, base64 or hex: the key of the token vault. */
  ENCRYPTION_KEY: vaultKeyText,
  /** The key before a rotation: still opens what it sealed until `capi rotate-key` re-seals it. */
  ENCRYPTION_KEY_PREVIOUS: vaultKeyText,
  SHOPIFY_API_KEY: z.string().optional(),
  SHOPIFY_API_SECRET: z.string().optional(),
  SHOPIFY_APP_URL: z.string().url().optional(),
  SCOPES: z.string().default(DEFAULT_SCOPES),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** How long a worker holds a claimed batch before another may take it over. */
  WORKER_LEASE_MS: z.coerce.number().int().min(1000).default(60_000),
  /**
   * Largest request body a web process reads (413 beyond). Shopify caps an order at 500 line
   * items on most shops; such an order's webhook measures 0.65 to 1.2 MiB (lines with several
   * tax lines, discounts and custom properties), so 4 MiB keeps a wide margin for real orders
   * while no sender can make the process buffer more than this per connection.
   */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(DEFAULT_MAX_BODY_BYTES),
  /**
   * Sockets one web process keeps open at once (idle keep-alive ones included); further
   * connections are dropped at accept. With MAX_BODY_BYTES it bounds the bodies held in memory.
   */
  WEB_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(65_535).default(DEFAULT_WEB_MAX_CONNECTIONS),
  /**
   * Days events (with their transitions), webhook receipts and data-request reports are kept
   * (app/pipeline/retention.server.ts, run hourly by the worker). An event Meta could still
   * accept is never deleted unsent, whatever this says.
   */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /**
   * Whether plan subscriptions are Shopify test charges (never billed). Unset: test charges
   * everywhere but production, since development stores accept nothing else.
   */
  BILLING_TEST_CHARGES: z.enum(["true", "false"]).optional(),
  /** Redis key prefix: lets several installations (or test runs) share one Redis. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default("capi"),
});

export type Env = Omit<z.output<typeof base>, "BILLING_TEST_CHARGES"> & {
  BILLING_TEST_CHARGES: boolean;
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
    const missing = (
      ["SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "SHOPIFY_APP_URL", "ENCRYPTION_KEY", "DATABASE_URL"] as const
    ).filter((k) => !env[k]);
    if (missing.length)
      throw new ConfigError(`missing required setting${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`);
  }
  return {
    ...env,
    SHOPIFY_API_KEY: env.SHOPIFY_API_KEY ?? DEV_DEFAULTS.SHOPIFY_API_KEY,
    SHOPIFY_API_SECRET: env.SHOPIFY_API_SECRET ?? DEV_DEFAULTS.SHOPIFY_API_SECRET,
    SHOPIFY_APP_URL: env.SHOPIFY_APP_URL ?? `http://localhost:${env.PORT}`,
    BILLING_TEST_CHARGES: env.BILLING_TEST_CHARGES
      ? env.BILLING_TEST_CHARGES === "true"
      : env.NODE_ENV !== "production",
  };
}

let cached: Env | undefined;
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}
