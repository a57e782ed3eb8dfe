// `npm run config`: writes the deploy-time values of shopify.app.toml from the environment
// (SHOPIFY_API_KEY, SHOPIFY_APP_URL, SCOPES), then checks the file against the fields Shopify's
// CLI accepts. Run it before `shopify app deploy`; running it again changes nothing.
// `npm run config -- --check` only checks, and exits 1 on a placeholder or a bad field.
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse as parseToml } from "smol-toml";
import { DEFAULT_SCOPES } from "../config/env.server";
import {
  appConfigSchema,
  deployValuesSchema,
  isPlaceholderUrl,
  PLACEHOLDER_CLIENT_ID,
  withDeployValues,
  type AppConfig,
} from "../shopify/app-config";

const USAGE = `usage:
  npm run config [-- --file <path>]          write client_id, URLs and scopes from SHOPIFY_API_KEY, SHOPIFY_APP_URL, SCOPES
  npm run config -- --check [--file <path>]  check the file only (exit 1 on a placeholder or a field Shopify's CLI refuses)`;

/** The file parsed and checked against Shopify's fields; the problems, or none. */
export function checkAppConfig(text: string): { config?: AppConfig; problems: string[] } {
  let parsed: unknown;
  try {
    parsed = parseToml(text);
  } catch (error) {
    const e = error as { message: string; line?: number };
    return { problems: [`not TOML${e.line ? ` (line ${e.line})` : ""}: ${e.message}`] };
  }
  const result = appConfigSchema.safeParse(parsed);
  if (!result.success)
    return { problems: result.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`) };
  return { config: result.data, problems: [] };
}

/** What still names no real app: the committed placeholders. */
export function placeholdersLeft(config: AppConfig): string[] {
  const left: string[] = [];
  if (config.client_id === PLACEHOLDER_CLIENT_ID) left.push("client_id");
  if (isPlaceholderUrl(config.application_url)) left.push("application_url");
  if (config.auth.redirect_urls.some(isPlaceholderUrl)) left.push("auth.redirect_urls");
  if (config.app_proxy && isPlaceholderUrl(config.app_proxy.url)) left.push("app_proxy.url");
  return left;
}

export function runAppConfig(argv: string[], environment: Record<string, string | undefined>): number {
  const { values } = parseArgs({
    args: argv,
    options: { file: { type: "string" }, check: { type: "boolean" }, help: { type: "boolean" } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const file = path.resolve(values.file ?? "shopify.app.toml");
  const before = readFileSync(file, "utf8");
  let text = before;
  if (!values.check) {
    const input = deployValuesSchema.safeParse({ ...environment, SCOPES: environment.SCOPES || DEFAULT_SCOPES });
    if (!input.success) {
      for (const issue of input.error.issues) console.error(`${issue.path.join(".")} ${issue.message}`);
      return 1;
    }
    text = withDeployValues(before, input.data);
  }
  const { config, problems } = checkAppConfig(text);
  const left = config ? placeholdersLeft(config) : [];
  for (const p of problems) console.error(`${path.basename(file)}: ${p}`);
  if (left.length)
    console.error(`${path.basename(file)}: still a placeholder: ${left.join(", ")} (run npm run config)`);
  if (problems.length || left.length) return 1;
  if (text !== before) writeFileSync(file, text);
  console.log(
    `${path.basename(file)}: ${text === before ? "unchanged" : "written"}, client_id ${config!.client_id}, ` +
      `application_url ${config!.application_url}, scopes ${config!.access_scopes?.scopes ?? ""}`,
  );
  return 0;
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  try {
    process.exitCode = runAppConfig(process.argv.slice(2), process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
