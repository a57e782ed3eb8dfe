import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RECORDED_NOW_SECONDS, shopifyFixtureText } from "../../test/support/fixtures";
import { sha256Hex } from "../meta/user-data";

const ROOT = path.resolve(__dirname, "../..");
// The CLI gets a pinned clock (--now) and the fixtures' exact bytes as recorded.
const fixture = (name: string) => shopifyFixtureText(name, { asRecorded: true });
const NOW = String(RECORDED_NOW_SECONDS);
const EIGHT_DAYS_LATER = String(RECORDED_NOW_SECONDS + 8 * 24 * 3600);

function capi(args: string[], stdin: string) {
  const result = spawnSync(
    process.execPath,
    [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "app/cli/capi.ts", ...args],
    {
      cwd: ROOT,
      input: stdin,
      encoding: "utf8",
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("capi event", () => {
  it("prints the request body that would be sent for an order", () => {
    const { code, stdout, stderr } = capi(
      ["event", "--topic", "orders/create", "--now", NOW],
      fixture("orders-create-web"),
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const body = JSON.parse(stdout);
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ event_name: "Purchase", event_id: "5678901234567", action_source: "website" });
    expect(body.test_event_code).toBeUndefined();
  });

  it("applies shop settings and sends a test order with the shop's test code", () => {
    const { code, stdout } = capi(
      ["event", "--topic", "orders/create", "--now", NOW, "--settings", '{"testEventCode":"TEST4821"}'],
      fixture("orders-create-test"),
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout).test_event_code).toBe("TEST4821");
  });

  it.each([
    ["invalid JSON", ["event", "--topic", "orders/create"], "{not json", 1, /not JSON/],
    ["an invalid payload", ["event", "--topic", "orders/create"], '{"id": 1}', 1, /^invalid \(invalid_payload\)/],
    [
      "an order too old for Meta",
      ["event", "--topic", "orders/create", "--now", EIGHT_DAYS_LATER],
      fixture("orders-create-web"),
      1,
      /event_too_old/,
    ],
    [
      "a test order without a test code",
      ["event", "--topic", "orders/create", "--now", NOW],
      fixture("orders-create-test"),
      3,
      /^held back: .*test order/,
    ],
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

describe("capi event on Shopify's documented orders/create sample (ids above 2^53)", () => {
  // 2022-01-01T12:00:00Z: half a day after the sample's order. The sample is a test order,
  // cancelled and voided; as it would be while standing, it is paid and not cancelled.
  const SAMPLE_NOW = "1641038400";
  const sample = () => fixture("shopify-sample-orders-create");
  const standing = () =>
    sample()
      .replace('"cancelled_at": "2021-12-31T19:00:00-05:00"', '"cancelled_at": null')
      .replace('"financial_status": "voided"', '"financial_status": "paid"');

  it("prints the exact order id, content ids and hashed customer id", () => {
    const { code, stdout, stderr } = capi(
      ["event", "--topic", "orders/create", "--now", SAMPLE_NOW, "--settings", '{"testEventCode":"TEST123"}'],
      standing(),
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const body = JSON.parse(stdout);
    expect(body.test_event_code).toBe("TEST123");
    expect(body.data[0]).toMatchObject({
      event_name: "Purchase",
      event_id: "820982911946154508",
      action_source: "website",
    });
    expect(body.data[0].custom_data).toMatchObject({
      order_id: "820982911946154508",
      content_ids: ["788032119674292922", "LENS-PROTECT-2YR", "CASE-LEATHER-PREM"],
      value: 404.95,
      currency: "USD",
    });
    expect(body.data[0].user_data.external_id).toBe(sha256Hex("115310627314723954"));
  });

  it("as documented it is held back: cancelled before its Purchase", () => {
    const { code, stdout, stderr } = capi(
      ["event", "--topic", "orders/create", "--now", SAMPLE_NOW, "--settings", '{"testEventCode":"TEST123"}'],
      sample(),
    );
    expect(code).toBe(3);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^held back: the order was cancelled/);
  });

  it("prints the documented checkouts/create sample with its exact customer id", () => {
    const { code, stdout, stderr } = capi(
      ["event", "--topic", "checkouts/create", "--now", SAMPLE_NOW],
      fixture("shopify-sample-checkouts-create"),
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const [event] = JSON.parse(stdout).data;
    expect(event).toMatchObject({
      event_name: "InitiateCheckout",
      event_id: "123123123",
      custom_data: { content_ids: ["808950810"], num_items: 2 },
    });
    expect(event.user_data.external_id).toBe(sha256Hex("603851970716743426"));
  });
});
