import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const fixture = (name: string) => readFileSync(path.join(ROOT, "test/fixtures/shopify", `${name}.json`), "utf8");

function capi(args: string[], stdin: string) {
  const result = spawnSync(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "app/cli/capi.ts", ...args], {
    cwd: ROOT,
    input: stdin,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("capi event", () => {
  it("prints the request body that would be sent for an order", () => {
    const { code, stdout, stderr } = capi(["event", "--topic", "orders/create", "--now", "1795262400"], fixture("orders-create-web"));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const body = JSON.parse(stdout);
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ event_name: "Purchase", event_id: "5678901234567", action_source: "website" });
    expect(body.test_event_code).toBeUndefined();
  });

  it("applies shop settings and sends a test order with the shop's test code", () => {
    const { code, stdout } = capi(["event", "--topic", "orders/create", "--now", "1795262400", "--settings", '{"testEventCode":"TEST4821"}'], fixture("orders-create-test"));
    expect(code).toBe(0);
    expect(JSON.parse(stdout).test_event_code).toBe("TEST4821");
  });

  it.each([
    ["invalid JSON", ["event", "--topic", "orders/create"], "{not json", 1, /not JSON/],
    ["an invalid payload", ["event", "--topic", "orders/create"], '{"id": 1}', 1, /^rejected \(invalid_payload\)/],
    ["an order too old for Meta", ["event", "--topic", "orders/create", "--now", "1800000000"], fixture("orders-create-web"), 1, /event_too_old/],
    ["a test order without a test code", ["event", "--topic", "orders/create", "--now", "1795262400"], fixture("orders-create-test"), 3, /^not sent: .*test order/],
    ["an unknown topic", ["event", "--topic", "orders/updated"], "{}", 2, /--topic/],
    ["a bad clock", ["event", "--topic", "orders/create", "--now", "soon"], "{}", 2, /--now/],
  ])("exits non-zero with one line on stderr for %s", (_name, args, stdin, exitCode, message) => {
    const { code, stdout, stderr } = capi(args, stdin);
    expect(code).toBe(exitCode);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});
