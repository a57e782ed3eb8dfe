import { describe, expect, it } from "vitest";
import { maskIp, maskPayload, maskUserAgent } from "./mask";

describe("maskIp", () => {
  it.each([
    ["203.0.113.42", "203.0.113.x"],
    ["8.8.8.8", "8.8.8.x"],
    ["2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::/48"],
    ["2001:DB8::1", "2001:db8:0::/48"],
    ["2001:0db8:0001::", "2001:db8:1::/48"],
    ["::1", "0:0:0::/48"],
    ["::ffff:192.0.2.1", "0:0:0::/48"],
    ["not-an-ip", "(not an IP address)"],
    ["", "(not an IP address)"],
  ])("%s -> %s", (ip, masked) => {
    expect(maskIp(ip)).toBe(masked);
  });
});

describe("maskUserAgent", () => {
  it("keeps the length only", () => {
    const ua =
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
    expect(maskUserAgent(ua)).toBe(`(user agent, ${ua.length} characters)`);
    expect(maskUserAgent(ua)).not.toContain("Mozilla");
  });
});

describe("maskPayload", () => {
  it("masks IP and user agent and leaves the rest", () => {
    const payload = {
      event_name: "Purchase",
      user_data: { em: ["h"], client_ip_address: "198.51.100.7", client_user_agent: "UA/1.0" },
    };
    expect(maskPayload(payload)).toEqual({
      event_name: "Purchase",
      user_data: { em: ["h"], client_ip_address: "198.51.100.x", client_user_agent: "(user agent, 6 characters)" },
    });
    expect(payload.user_data.client_ip_address).toBe("198.51.100.7");
  });
  it.each([[null], ["text"], [[1, 2]], [{ event_name: "X" }], [{ user_data: null }]])("leaves %j as is", (p) => {
    expect(maskPayload(p)).toEqual(p);
  });
});
