// Which IP addresses may go to Meta as client_ip_address. Only a public address can be the
// buyer's: an unspecified, private, loopback, link-local or carrier-grade NAT address is the
// address of a proxy, a load balancer or a developer's machine as one of them saw the browser,
// and sending it only matches strangers. Pure: no I/O.
import { BlockList, isIP } from "node:net";

export type NonPublicKind = "unspecified" | "private" | "loopback" | "link_local" | "cgnat";

const RANGES: Array<[NonPublicKind, string, number, "ipv4" | "ipv6"]> = [
  ["unspecified", "0.0.0.0", 32, "ipv4"],
  ["unspecified", "::", 128, "ipv6"],
  ["private", "10.0.0.0", 8, "ipv4"],
  ["private", "172.16.0.0", 12, "ipv4"],
  ["private", "192.168.0.0", 16, "ipv4"],
  ["private", "fc00::", 7, "ipv6"],
  ["loopback", "127.0.0.0", 8, "ipv4"],
  ["loopback", "::1", 128, "ipv6"],
  ["link_local", "169.254.0.0", 16, "ipv4"],
  ["link_local", "fe80::", 10, "ipv6"],
  ["cgnat", "100.64.0.0", 10, "ipv4"],
];

// One BlockList per kind, so that the note can say which. BlockList also matches IPv4-mapped
// IPv6 addresses (::ffff:10.0.0.1) against the IPv4 ranges. ANY answers the common case, a
// public address, in one check.
const ANY = new BlockList();
const LISTS = new Map<NonPublicKind, BlockList>();
for (const [kind, network, prefix, family] of RANGES) {
  let list = LISTS.get(kind);
  if (!list) LISTS.set(kind, (list = new BlockList()));
  list.addSubnet(network, prefix, family);
  ANY.addSubnet(network, prefix, family);
}

export const NON_PUBLIC_LABELS: Record<NonPublicKind, string> = {
  unspecified: "an unspecified address (0.0.0.0, ::)",
  private: "a private address (10/8, 172.16/12, 192.168/16, fc00::/7)",
  loopback: "a loopback address (127/8, ::1)",
  link_local: "a link-local address (169.254/16, fe80::/10)",
  cgnat: "a carrier-grade NAT address (100.64/10)",
};

export type IpVerdict = { ip: string } | { rejected: NonPublicKind | "not_an_ip" };

/** A trimmed address when it is a public IPv4 or IPv6 address, else why not. */
export function judgeClientIp(raw: string): IpVerdict {
  const ip = raw.trim();
  const family = isIP(ip);
  if (family === 0) return { rejected: "not_an_ip" };
  const type = family === 6 ? "ipv6" : "ipv4";
  // A zone index ("fe80::1%eth0") names the interface, not the address.
  const address = family === 6 ? ip.replace(/%.*$/, "") : ip;
  if (!ANY.check(address, type)) return { ip };
  for (const [kind, list] of LISTS) if (list.check(address, type)) return { rejected: kind };
  return { ip };
}

export interface ClientIpChoice {
  ip?: string;
  /** The candidates left out, in order, with why (each distinct value once). */
  dropped: Array<{ value: string; reason: NonPublicKind | "not_an_ip" }>;
}

/** The first public address among the candidates, best source first; empty ones are skipped. */
export function firstPublicIp(candidates: ReadonlyArray<string | null | undefined>): ClientIpChoice {
  const dropped: ClientIpChoice["dropped"] = [];
  for (const candidate of candidates) {
    const value = candidate?.trim();
    if (!value) continue;
    const verdict = judgeClientIp(value);
    if ("ip" in verdict) return { ip: verdict.ip, dropped };
    if (!dropped.some((d) => d.value === value)) dropped.push({ value, reason: verdict.rejected });
  }
  return { dropped };
}
