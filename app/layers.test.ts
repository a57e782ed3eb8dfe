// The layers' boundaries (eslint.config.mjs) through ESLint itself: they catch what they name,
// let each layer's own imports through, and hold for today's code.
import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const eslint = new ESLint({ cwd: ROOT });

async function restricted(file: string, specifier: string): Promise<boolean> {
  const [result] = await eslint.lintText(`import x from "${specifier}";\nexport default x;\n`, {
    filePath: path.join(ROOT, file),
  });
  return result!.messages.some((m) => m.ruleId === "no-restricted-imports");
}

describe("layers point one way", () => {
  it.each([
    ["app/meta/x.ts", "../events/settings"],
    ["app/meta/x.ts", "../pipeline/worker.server"],
    ["app/meta/x.ts", "../shopify/payloads"],
    ["app/meta/x.ts", "../../server/main"],
    ["app/meta/x.ts", "../shopify.server"],
    ["app/meta/x.ts", "./graph-client.server"],
    ["app/meta/x.ts", "@prisma/client"],
    ["app/meta/x.ts", "@remix-run/node"],
    ["app/meta/x.ts", "bullmq"],
    ["app/meta/sub/x.ts", "../../events/settings"],
    ["app/events/x.ts", "../pipeline/ingest.server"],
    ["app/events/x.ts", "../db/db.server"],
    ["app/events/x.ts", "../admin/options"],
    ["app/events/x.ts", "@remix-run/react"],
    ["app/events/x.ts", "ioredis"],
  ])("%s may not import %s", async (file, specifier) => {
    expect(await restricted(file, specifier)).toBe(true);
  });

  it.each([
    ["app/meta/x.ts", "./user-data"],
    ["app/meta/x.ts", "zod"],
    ["app/meta/x.ts", "libphonenumber-js/max"],
    ["app/meta/x.ts", "node:net"],
    ["app/events/x.ts", "../meta/event"],
    ["app/events/x.ts", "../shopify/payloads"],
    ["app/events/x.ts", "./settings"],
    ["app/pipeline/x.ts", "../events/settings"],
  ])("%s may import %s", async (file, specifier) => {
    expect(await restricted(file, specifier)).toBe(false);
  });

  it("app/meta and app/events hold no import across the line", async () => {
    const results = await eslint.lintFiles(["app/meta", "app/events"]);
    expect(results.length).toBeGreaterThan(10);
    const found = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId === "no-restricted-imports")
        .map((m) => `${path.relative(ROOT, r.filePath)}:${m.line} ${m.message}`),
    );
    expect(found).toEqual([]);
  });
});
