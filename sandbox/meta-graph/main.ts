// `npm run meta-sandbox -- --port N [--app-secret S] [--latency-ms N]`
import { parseArgs } from "node:util";
import { startMetaSandbox } from "./server";

const { values } = parseArgs({
  options: { port: { type: "string", default: "4100" }, "app-secret": { type: "string" }, "latency-ms": { type: "string" } },
  strict: true,
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error("--port must be a port number");
  process.exit(2);
}
const sandbox = await startMetaSandbox({
  port,
  appSecret: values["app-secret"],
  latencyMs: values["latency-ms"] ? Number(values["latency-ms"]) : undefined,
});
console.log(`Meta Graph API stand-in listening on ${sandbox.url}`);
const stop = async () => {
  await sandbox.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
