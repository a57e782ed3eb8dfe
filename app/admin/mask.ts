// The admin page never shows a buyer's IP address or user agent: the stored payload keeps
// them raw until the event is delivered (Meta wants them unhashed), and the page is HTML any
// staff member with app access can read. The loader masks them here, before they leave the server.
import { isIP } from "node:net";

/** "203.0.113.x" for IPv4, the first three hextets as a /48 for IPv6, "(not an IP address)" otherwise. */
export function maskIp(ip: string): string {
  const kind = isIP(ip);
  if (kind === 4) return ip.split(".").slice(0, 3).join(".") + ".x";
  if (kind === 6) {
    // Expand "::" so that the first three hextets are the real ones.
    const [head = "", tail] = ip.split("::");
    const left = head ? head.split(":") : [];
    const right = tail === undefined ? [] : tail ? tail.split(":") : [];
    const groups =
      tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
    return (
      groups
        .slice(0, 3)
        .map((g) => (g.includes(".") ? "0" : g.toLowerCase().replace(/^0+(?=.)/, "")))
        .join(":") + "::/48"
    );
  }
  return "(not an IP address)";
}

/** Its length only: a user agent is close to a fingerprint of the buyer's browser. */
export function maskUserAgent(ua: string): string {
  return `(user agent, ${ua.length} characters)`;
}

/** The payload with user_data.client_ip_address and client_user_agent masked; the rest as is. */
export function maskPayload(payload: unknown): unknown {
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) return payload;
  const p = payload as Record<string, unknown>;
  const ud = p.user_data;
  if (!ud || typeof ud !== "object" || Array.isArray(ud)) return payload;
  const userData = { ...(ud as Record<string, unknown>) };
  if (typeof userData.client_ip_address === "string") userData.client_ip_address = maskIp(userData.client_ip_address);
  if (typeof userData.client_user_agent === "string")
    userData.client_user_agent = maskUserAgent(userData.client_user_agent);
  return { ...p, user_data: userData };
}
