// `npm run test:faults`: scripted failures on the real services of this machine (test/faults).
// Slow and heavy on purpose, so kept out of `npm test`: files are *.fault.ts, run one at a
// time, since each scenario owns processes and services it kills and restarts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/faults/**/*.fault.ts"],
    fileParallelism: false,
    testTimeout: 150_000,
    hookTimeout: 60_000,
  },
});
