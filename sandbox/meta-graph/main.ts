// `npm run meta-sandbox -- --port N [--app-secret S] [--latency-ms N]`
// Other processes (the demo, benchmarks) drive it over HTTP at /__sandbox/*.
import { parseArgs } from "node:util";
import { startMetaSandbox } from "./server";

function usage(problem: string): never {
  console.error(`${problem}\nusage: npm run meta-sandbox -- [--port N] [--app-secret S] [--latency-ms N]`);
  process.exit(2);
}

let values: { port: string; "app-secret"?: string; "latency-ms"?: string };
try {
  ({ values } = parseArgs({
    options: { port: { type: "string", default: "4100" }, "app-secret": { type: "string" }, "latency-ms": { type: "string" } },
    strict: true,
  }));
} catch (error) {
  usage((error as Error).message);
}

const port = Number(values.port);
if (!/^\d+$/.test(values.port) || port > 65535) usage("--port must be a port number (0 picks a free one)");
const latencyMs = values["latency-ms"] === undefined ? undefined : Number(values["latency-ms"]);
if (latencyMs !== undefined && !(Number.isInteger(latencyMs) && latencyMs >= 0)) usage("--latency-ms must be a whole number of milliseconds");

const sandbox = await startMetaSandbox({ port, appSecret: values["app-secret"], latencyMs });
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
