// shopify.app.toml and the extensions' shopify.extension.toml as Shopify's CLI reads them, and
// the deploy-time values `npm run config` writes into the app's file. Pure: the CLI
// (app/cli/app-config.ts) and the tests (./app-config.test.ts) parse the TOML and hand the
// object here.
//
// The fields and their rules follow Shopify CLI's own app-configuration schemas (packages/app,
// models/app/app.ts and models/extensions/specifications/*: app_home, app_access, branding,
// webhooks, app_proxy, point_of_sale, theme, web_pixel_extension), restated here since the CLI
// is not a dependency of the app. Two differences, both stricter: nested tables refuse keys the
// CLI would drop silently (a typo such as `redirect_url` fails here instead of vanishing), and
// only the app's own extension types are known.
import { z } from "zod";

const COMPLIANCE_TOPICS = ["customers/data_request", "customers/redact", "shop/redact"] as const;

/** An http(s) URL without a line break, as the CLI checks application_url and redirect URLs. */
const httpUrl = z
  .string()
  .refine(
    (value) => !value.includes("\n") && /^https?:$/.test(safeUrl(value)?.protocol ?? ""),
    "must be an http(s) URL",
  );

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** A webhook subscription's address: a path under application_url, an https URL, or one of Shopify's event buses. */
const webhookUri = z
  .string()
  .refine(
    (uri) =>
      uri.startsWith("/") ||
      uri.startsWith("https://") ||
      /^pubsub:\/\/[^:]+:.+$/.test(uri) ||
      /^arn:aws:events:[a-z]{2}-[a-z]+-\d+::event-source\/aws\.partner\/shopify\.com(\.test)?\/\d+\/.+$/.test(uri),
    "must be a path starting with /, an https URL, pubsub://project:topic or an EventBridge ARN",
  );

const subscriptionSchema = z.strictObject({
  topics: z.array(z.string()).optional(),
  actions: z.array(z.string()).optional(),
  uri: webhookUri,
  include_fields: z.array(z.string()).optional(),
  filter: z.string().optional(),
  payload_query: z.string().trim().min(1).optional(),
  name: z.string().trim().min(1).max(50).optional(),
  compliance_topics: z.array(z.enum(COMPLIANCE_TOPICS)).optional(),
});

const webhooksSchema = z
  .strictObject({
    /** A Shopify API version: YYYY-MM, or unstable. */
    api_version: z.string().regex(/^(\d{4}-(01|04|07|10)|unstable)$/, "must be a Shopify API version such as 2026-10"),
    privacy_compliance: z
      .strictObject({
        customer_deletion_url: webhookUri.optional(),
        customer_data_request_url: webhookUri.optional(),
        shop_deletion_url: webhookUri.optional(),
      })
      .optional(),
    subscriptions: z.array(subscriptionSchema).optional(),
  })
  .superRefine((webhooks, ctx) => {
    const subscriptions = webhooks.subscriptions ?? [];
    if (webhooks.privacy_compliance && subscriptions.some((s) => s.compliance_topics)) {
      ctx.addIssue({
        code: "custom",
        message: "privacy_compliance cannot be used beside subscriptions with compliance_topics",
      });
    }
    const compliance = subscriptions.flatMap((s) => s.compliance_topics ?? []);
    if (new Set(compliance).size !== compliance.length) {
      ctx.addIssue({
        code: "custom",
        path: ["subscriptions"],
        message: "a compliance topic may have one subscription only",
      });
    }
    const seen = new Set<string>();
    subscriptions.forEach((s, i) => {
      if (!s.topics?.length && !s.compliance_topics?.length) {
        ctx.addIssue({
          code: "custom",
          path: ["subscriptions", i],
          message: "a subscription needs topics or compliance_topics",
        });
      }
      for (const topic of s.topics ?? []) {
        const key = `${topic} ${s.uri.replace(/\/+$/, "")} ${s.filter ?? ""}`;
        if (seen.has(key))
          ctx.addIssue({
            code: "custom",
            path: ["subscriptions", i],
            message: `${topic} to ${s.uri} is subscribed twice`,
          });
        seen.add(key);
      }
    });
  });

/** shopify.app.toml. Sections no module of the CLI claims are refused, as the CLI refuses them. */
export const appConfigSchema = z.strictObject({
  client_id: z.string().min(1),
  name: z.string().min(1).max(30),
  handle: z
    .string()
    .max(256)
    .regex(/^[_a-z0-9-]+$/)
    .refine((h) => !h.startsWith("-") && !h.endsWith("-"), "cannot start or end with a hyphen")
    .optional(),
  application_url: httpUrl,
  embedded: z.boolean(),
  app_preferences: z.strictObject({ url: httpUrl.refine((u) => u.length <= 255, "at most 255 characters") }).optional(),
  build: z
    .strictObject({
      automatically_update_urls_on_dev: z.boolean().optional(),
      dev_store_url: z.string().optional(),
      include_config_on_deploy: z.boolean().optional(),
    })
    .optional(),
  extension_directories: z.array(z.string()).optional(),
  web_directories: z.array(z.string()).optional(),
  access_scopes: z
    .strictObject({
      scopes: z.string().optional(),
      required_scopes: z.array(z.string()).optional(),
      optional_scopes: z.array(z.string()).optional(),
      use_legacy_install_flow: z.boolean().optional(),
    })
    .optional(),
  access: z
    .strictObject({
      admin: z
        .strictObject({
          direct_api_mode: z.enum(["online", "offline"]).optional(),
          embedded_app_direct_api_access: z.boolean().optional(),
        })
        .optional(),
    })
    .optional(),
  auth: z.strictObject({ redirect_urls: z.array(httpUrl) }),
  webhooks: webhooksSchema,
  app_proxy: z
    .strictObject({
      url: z
        .string()
        .refine((u) => u.startsWith("/") || safeUrl(u)?.protocol === "https:", "must be an https URL or start with /"),
      subpath: z.string(),
      prefix: z.string(),
    })
    .optional(),
  pos: z.strictObject({ embedded: z.boolean() }).optional(),
});
export type AppConfig = z.output<typeof appConfigSchema>;

/** An extension's handle: letters, digits and inner hyphens, at most 50. */
const handle = z
  .string()
  .trim()
  .min(1)
  .max(50)
  .regex(/^[a-zA-Z0-9-]+$/)
  .refine((h) => !h.startsWith("-") && !h.endsWith("-"), "cannot start or end with a hyphen");

/** What every extension's toml may carry (the CLI's base schema). */
const extensionBase = {
  name: z.string().min(1),
  handle: handle.optional(),
  uid: z.string().trim().min(1).max(250).optional(),
  description: z.string().optional(),
  api_version: z.string().optional(),
};

/** The extension types this app has: a theme app extension and a web pixel. */
export const extensionConfigSchema = z.discriminatedUnion("type", [
  z.strictObject({ ...extensionBase, type: z.literal("theme") }),
  z.strictObject({
    ...extensionBase,
    type: z.literal("web_pixel_extension"),
    runtime_context: z.literal("strict"),
    version: z.string().optional(),
    customer_privacy: z
      .strictObject({
        analytics: z.boolean(),
        preferences: z.boolean(),
        marketing: z.boolean(),
        sale_of_data: z.enum(["enabled", "disabled", "ldu"]),
      })
      .optional(),
    settings: z
      .strictObject({
        type: z.literal("object"),
        fields: z.record(
          z.string(),
          z.strictObject({
            name: z.string(),
            description: z.string().optional(),
            type: z.string(),
            validations: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
          }),
        ),
      })
      .optional(),
  }),
]);
export type ExtensionConfig = z.output<typeof extensionConfigSchema>;

// ---------------------------------------------------------------------------------------------
// Deploy-time values. The committed file holds placeholders that name no real app, so that no
// checkout points at someone's production app by accident; `npm run config` writes the real
// ones from the environment before `shopify app deploy`.

export const PLACEHOLDER_CLIENT_ID = "REPLACE_WITH_CLIENT_ID";

/** A URL on a host reserved for examples (RFC 2606): never a real deployment. */
export function isPlaceholderUrl(url: string): boolean {
  const host = safeUrl(url)?.hostname ?? "";
  return host === "example.com" || host.endsWith(".example.com");
}

/** The environment `npm run config` reads, validated: the Partner Dashboard's client ID, the public URL, the scopes. */
export const deployValuesSchema = z.object({
  SHOPIFY_API_KEY: z
    .string({ error: "is not set: the client ID of the app (Partner Dashboard > Apps > the app > Client credentials)" })
    .trim()
    .regex(/^[0-9a-f]{32}$/, "must be the app's client ID: 32 hexadecimal characters, from the Partner Dashboard"),
  SHOPIFY_APP_URL: z
    .string({ error: "is not set: the app's public https URL, as the web processes serve it" })
    .trim()
    .refine((u) => safeUrl(u)?.protocol === "https:", "must be an https URL (Shopify loads the app over https only)")
    .refine((u) => !isPlaceholderUrl(u), "must be the app's own URL, not an example.com placeholder")
    .refine((u) => !safeUrl(u)?.search && !safeUrl(u)?.hash, "must have no query or fragment")
    .transform((u) => u.replace(/\/+$/, "")),
  SCOPES: z
    .string()
    .transform((s) => normalizeScopes(s))
    .refine((s) => s.length > 0, "must name at least one scope"),
});
export type DeployValues = z.output<typeof deployValuesSchema>;

/** Scopes comma-separated, trimmed, without empties or repeats, in the order given. */
export function normalizeScopes(scopes: string): string {
  return [...new Set(scopes.split(",").map((s) => s.trim()))].filter(Boolean).join(",");
}

/** Where Shopify may send the browser back after OAuth (authPathPrefix "/auth" in app/shopify.server.ts). */
export const authCallbackUrl = (appUrl: string) => `${appUrl}/auth/callback`;

interface Edit {
  /** The TOML table the key sits in ("" for the top level). */
  table: string;
  key: string;
  /** The new value as TOML text, given the old value's text. */
  value: (old: string) => string;
  /** The key must be present (the committed file has it). */
  required: boolean;
}

const tomlString = (text: string) => JSON.stringify(text);

/**
 * The app's TOML text with the deploy values written in: client_id, application_url, the OAuth
 * redirect URL, the scopes, and the app proxy's URL when the file declares a proxy (kept on its
 * path, moved to the app's host). Comments, order and everything else stay as they are, and
 * running it again with the same values changes nothing. Throws when a required key is missing.
 */
export function withDeployValues(text: string, values: DeployValues): string {
  const edits: Edit[] = [
    { table: "", key: "client_id", value: () => tomlString(values.SHOPIFY_API_KEY), required: true },
    { table: "", key: "application_url", value: () => tomlString(values.SHOPIFY_APP_URL), required: true },
    {
      table: "auth",
      key: "redirect_urls",
      value: () => `[ ${tomlString(authCallbackUrl(values.SHOPIFY_APP_URL))} ]`,
      required: true,
    },
    { table: "access_scopes", key: "scopes", value: () => tomlString(values.SCOPES), required: true },
    {
      table: "app_proxy",
      key: "url",
      value: (old) => {
        const path = old.startsWith("/") ? old : (safeUrl(old)?.pathname ?? "/");
        return tomlString(`${values.SHOPIFY_APP_URL}${path === "/" ? "" : path}`);
      },
      required: false,
    },
  ];
  const lines = text.split("\n");
  const done = new Set<Edit>();
  let table = "";
  for (let i = 0; i < lines.length; i++) {
    const header = /^\s*\[{1,2}\s*([A-Za-z0-9_.-]+)\s*\]{1,2}\s*(#.*)?$/.exec(lines[i]!);
    if (header) {
      table = header[1]!;
      continue;
    }
    const assignment = /^(\s*)([A-Za-z0-9_-]+)(\s*=\s*)(.*)$/.exec(lines[i]!);
    if (!assignment) continue;
    const edit = edits.find((e) => e.table === table && e.key === assignment[2]);
    if (!edit) continue;
    // A multi-line array runs to the line that closes it.
    let end = i;
    if (assignment[4]!.trimStart().startsWith("[")) {
      while (end < lines.length - 1 && !/\]\s*(#.*)?$/.test(lines[end]!)) end++;
    }
    const old = oldString(assignment[4]!);
    lines.splice(i, end - i + 1, `${assignment[1]}${assignment[2]}${assignment[3]}${edit.value(old)}`);
    done.add(edit);
  }
  const missing = edits.filter((e) => e.required && !done.has(e));
  if (missing.length)
    throw new Error(
      `shopify.app.toml has no ${missing.map((e) => (e.table ? `${e.table}.${e.key}` : e.key)).join(", ")}`,
    );
  return lines.join("\n");
}

/** The text of a one-line TOML basic string value ("..."), else "" (an array, a literal string). */
function oldString(valueText: string): string {
  const match = /^"((?:[^"\\]|\\.)*)"/.exec(valueText.trim());
  if (!match) return "";
  try {
    return JSON.parse(`"${match[1]}"`) as string;
  } catch {
    return "";
  }
}
