// `npm run bench`: every figure is measured in this run against a baseline run in the same
// process, and printed as a ratio, because this machine is noisy.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runEventCore } from "./event-core";

const out = path.resolve("bench/out");
mkdirSync(out, { recursive: true });

console.log(`# CAPI Relay benchmarks — ${new Date().toISOString()} — ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n`);
const core = runEventCore();
writeFileSync(path.join(out, "event-core.json"), JSON.stringify(core, null, 2));
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
console.log(`## Event core: orders/create payload to a hashed, validated Meta event (one core)

| | events/s (median of ${core.rounds} rounds of ${core.orders}) |
|---|---:|
| CAPI Relay event core | ${Math.round(core.oursPerSecond).toLocaleString("en-US")} |
| Meta facebook-nodejs-business-sdk (ServerEvent.normalize) | ${Math.round(core.sdkPerSecond).toLocaleString("en-US")} |
| **ratio** | **${core.ratio.toFixed(2)}x** (worst round ${core.ratioMin.toFixed(2)}x; target ≥ 3x) |

Matching quality on the same orders: phone hashes carrying the country calling code — ours ${pct(core.phonesWithCountryCode.ours)}, SDK ${pct(core.phonesWithCountryCode.sdk)}; SDK exceptions: ${core.sdkFailures}.
`);
