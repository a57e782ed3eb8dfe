import { describe, expect, it } from "vitest";
import { firstPublicIp, judgeClientIp } from "./client-ip";

describe("judgeClientIp: only a public address can be the buyer's", () => {
  it.each([
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.254", "private"],
    ["192.168.1.20", "private"],
    ["fc00::1", "private"],
    ["fd12:3456:789a::1", "private"],
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["::1", "loopback"],
    ["169.254.169.254", "link_local"],
    ["fe80::1", "link_local"],
    ["fe80::1%eth0", "link_local"],
    ["febf::1", "link_local"],
    ["100.64.0.1", "cgnat"],
    ["100.127.255.254", "cgnat"],
    // IPv4 written as IPv6 (a dual-stack proxy) is judged as the IPv4 address.
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:127.0.0.1", "loopback"],
    ["999.1.1.1", "not_an_ip"],
    ["unknown", "not_an_ip"],
  ])("%s is %s", (ip, reason) => {
    expect(judgeClientIp(ip)).toEqual({ rejected: reason });
  });

  it.each([
    "203.0.113.42",
    "198.51.100.88",
    "8.8.8.8",
    "172.15.255.255", // just below 172.16/12
    "172.32.0.1", // just above
    "100.63.255.255", // just below 100.64/10
    "100.128.0.1", // just above
    "169.253.1.1",
    "2001:db8::42",
    "2a00:1450:4007:80e::200e",
    "fec0::1", // above fe80::/10
    "::ffff:203.0.113.7",
  ])("%s is public", (ip) => {
    expect(judgeClientIp(ip)).toEqual({ ip });
  });

  it("trims the address it keeps", () => {
    expect(judgeClientIp(" 203.0.113.42 ")).toEqual({ ip: "203.0.113.42" });
  });
});

describe("firstPublicIp: the best source that holds a public address", () => {
  it("takes the first public candidate and says which ones it passed over", () => {
    expect(firstPublicIp(["10.0.0.7", null, "", "203.0.113.9", "198.51.100.1"])).toEqual({
      ip: "203.0.113.9",
      dropped: [{ value: "10.0.0.7", reason: "private" }],
    });
  });

  it("lists each left-out value once, and none when every candidate is empty", () => {
    expect(firstPublicIp(["100.64.1.1", "100.64.1.1"])).toEqual({
      dropped: [{ value: "100.64.1.1", reason: "cgnat" }],
    });
    expect(firstPublicIp([undefined, null, "  "])).toEqual({ dropped: [] });
  });
});
