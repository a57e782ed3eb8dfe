import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "app/**/*.test.ts",
      "server/**/*.test.ts",
      "sandbox/**/*.test.ts",
      "extensions/**/*.test.ts",
      "test/**/*.test.ts",
      "demo/**/*.test.ts",
    ],
    // Tests spawn the CLI and the Meta stand-in as child processes; the 2-core CI machine needs headroom.
    testTimeout: 30_000,
  },
});
