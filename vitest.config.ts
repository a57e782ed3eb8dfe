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
    // expect.poll waits 1 s by default: a browser test's page on a loaded 2-core machine can take longer to
    // answer a click. A poll that is met returns at once, so only a failing test waits the whole time.
    expect: { poll: { timeout: 10_000 } },
  },
});
