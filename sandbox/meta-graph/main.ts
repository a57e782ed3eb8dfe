// `npm run meta-sandbox -- --port N [--app-secret S] [--latency-ms N] [--unknown-pixel ID ...]
//    [--login-app-id ID --login-app-secret S]` (the Meta app Facebook Login accepts; any without)
// Other processes (the demo, benchmarks) drive it over HTTP at /__sandbox/*.
import { parseArgs } from "node:util";
import { startMetaSandbox } from "./server";

function usage(problem: string): never {
  console.error(
    `${problem}\nusage: npm run meta-sandbox -- [--port N] [--app-secret S] [--latency-ms N] [--unknown-pixel ID ...] [--login-app-id ID --login-app-secret S]`,
  );
  process.exit(2);
}

let values: {
  port: string;
  "app-secret"?: string;
  "latency-ms"?: string;
  "unknown-pixel"?: string[];
  "login-app-id"?: string;
  "login-app-secret"?: string;
};
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string", default: "4100" },
      "app-secret": { type: "string" },
      "latency-ms": { type: "string" },
      // A pixel id Meta answers 100/33 for (repeatable); every other numeric id exists.
      "unknown-pixel": { type: "string", multiple: true },
      "login-app-id": { type: "string" },
      "login-app-secret": { type: "string" },
    },
    strict: true,
  }));
} catch (error) {
  usage((error as Error).message);
}

const port = Number(values.port);
if (!/^\d+$/.test(values.port) || port > 65535) usage("--port must be a port number (0 picks a free one)");
const latencyMs = values["latency-ms"] === undefined ? undefined : Number(values["latency-ms"]);
if (latencyMs !== undefined && !(Number.isInteger(latencyMs) && latencyMs >= 0))
  usage("--latency-ms must be a whole number of milliseconds");

const unknownPixels = values["unknown-pixel"] ?? [];
if (unknownPixels.some((id) => !/^\d+$/.test(id))) usage("--unknown-pixel must be a numeric pixel id");

const loginAppId = values["login-app-id"];
const loginAppSecret = values["login-app-secret"];
if ((loginAppId === undefined) !== (loginAppSecret === undefined))
  usage("--login-app-id and --login-app-secret go together");
if (loginAppId !== undefined && !/^\d+$/.test(loginAppId)) usage("--login-app-id must be a numeric Meta app id");
const loginApp = loginAppId && loginAppSecret ? { appId: loginAppId, appSecret: loginAppSecret } : undefined;

const sandbox = await startMetaSandbox({ port, appSecret: values["app-secret"], latencyMs, unknownPixels, loginApp });
console.log(`Meta Graph API stand-in listening on ${sandbox.url}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await sandbox.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
