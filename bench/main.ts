// `npm run bench [-- --only event-core|pipeline]`: every figure is measured in this run,
// against a baseline or a target, and printed; the machine is noisy, so ratios are taken
// between runs made side by side in the same process.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { formatEventCore, runEventCore } from "./event-core";
import { runPipeline } from "./pipeline";

const { values } = parseArgs({ options: { only: { type: "string" }, webhooks: { type: "string" } }, strict: true });
const out = path.resolve("bench/out");
mkdirSync(out, { recursive: true });
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

console.log(`# CAPI Relay benchmarks — ${new Date().toISOString()} — ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n`);

if (!values.only || values.only === "event-core") {
  const core = runEventCore();
  writeFileSync(path.join(out, "event-core.json"), JSON.stringify(core, null, 2));
  console.log(formatEventCore(core));
}

if (!values.only || values.only === "pipeline") {
  const p = await runPipeline({ webhooks: values.webhooks ? Number(values.webhooks) : undefined });
  writeFileSync(path.join(out, "pipeline.json"), JSON.stringify(p, null, 2));
  const mark = (ok: boolean) => (ok ? "✅" : "❌");
  console.log(`## Pipeline: ${fmt(p.webhooks)} signed orders/create webhooks → app (${p.webProcesses} web processes) → ${p.workers} workers → Meta stand-in

| figure | measured | target |
|---|---:|---:|
| webhook answer p50 / p90 / p99 / max | ${p.latencyMs.p50.toFixed(1)} / ${p.latencyMs.p90.toFixed(1)} / ${p.latencyMs.p99.toFixed(1)} / ${p.latencyMs.max.toFixed(1)} ms | p99 < 50 ms ${mark(p.latencyMs.p99 < 50)} |
| events delivered per second, end to end | ${fmt(p.eventsPerSecond)} (${fmt(p.delivered)} in ${p.endToEndSeconds.toFixed(1)} s; posting took ${p.postSeconds.toFixed(1)} s) | ≥ 1,000 ${mark(p.eventsPerSecond >= 1000)} |
| Meta requests used | ${p.metaRequests} | ≤ ${p.requestBudget} ${mark(p.metaRequests <= p.requestBudget)} |
| non-2xx webhook answers | ${p.nonOk} | 0 ${mark(p.nonOk === 0)} |
`);
}

// Handles of finished benchmarks (pools, sockets) must not keep the process alive.
process.exit(0);
