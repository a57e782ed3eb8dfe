// Operator and support command line. `capi event` answers "what did you send to Meta for this
// order?" by printing the exact request body the worker would send for a webhook payload.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isEventTopic, prepareEvent, EVENT_TOPICS } from "../events/prepare";
import { shopEventSettingsSchema } from "../events/settings";
import { requestBody } from "../meta/request";
import { describeIssues } from "../shopify/payloads";

const USAGE = `usage:
  capi event --topic <${EVENT_TOPICS.join("|")}> [--shop <domain>] [--now <unix seconds>] [--settings <json>] < payload.json`;

class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    throw new CliError("could not read the payload from standard input", 1);
  }
}

function eventCommand(args: string[]): string {
  const { values } = parseArgs({
    args,
    options: {
      topic: { type: "string" },
      shop: { type: "string", default: "example.myshopify.com" },
      now: { type: "string" },
      settings: { type: "string", default: "{}" },
    },
    strict: true,
  });
  if (!values.topic || !isEventTopic(values.topic)) {
    throw new CliError(`--topic must be one of ${EVENT_TOPICS.join(", ")}`, 2);
  }
  const nowSeconds = values.now === undefined ? Math.floor(Date.now() / 1000) : Number(values.now);
  if (!Number.isInteger(nowSeconds) || nowSeconds <= 0) throw new CliError("--now must be Unix seconds", 2);

  let settingsJson: unknown;
  try {
    settingsJson = JSON.parse(values.settings);
  } catch {
    throw new CliError("--settings is not JSON", 2);
  }
  const settings = shopEventSettingsSchema.safeParse(settingsJson);
  if (!settings.success) throw new CliError(`--settings: ${describeIssues(settings.error)}`, 2);

  const raw = readStdin();
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch (error) {
    throw new CliError(`the payload on standard input is not JSON (${(error as Error).message})`, 1);
  }
  const outcome = prepareEvent(values.topic, payload, settings.data, { shop: values.shop, nowSeconds });
  if (outcome.status === "skipped") throw new CliError(`not sent: ${outcome.reason}`, 3);
  if (outcome.status === "rejected") throw new CliError(`rejected (${outcome.code}): ${outcome.reason}`, 1);
  return JSON.stringify(requestBody([outcome.event], outcome.testEventCode), null, 2);
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "event":
        process.stdout.write(`${eventCommand(rest)}\n`);
        return 0;
      default:
        throw new CliError(command ? `unknown command "${command}"\n${USAGE}` : USAGE, 2);
    }
  } catch (error) {
    const message = error instanceof CliError ? error.message : `error: ${(error as Error).message}`;
    process.stderr.write(`${message.split("\n")[0]}\n`);
    if (error instanceof CliError && error.message.includes("\n")) process.stderr.write(`${USAGE}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

process.exitCode = main(process.argv.slice(2));
