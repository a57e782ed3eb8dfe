// The buyer's browser as the event sees it: which IP goes (only a public one, from
// client_details, else the order's browser_ip) and a website event without a user agent,
// sent with a note rather than refused.
import { describe, expect, it } from "vitest";
import { preparerFor, ready as readyAt } from "../../test/support/event-cases";
import { RECORDED_NOW_SECONDS, shopifyFixture } from "../../test/support/fixtures";
import type { BuildOutcome } from "./outcome";

const NOW = RECORDED_NOW_SECONDS;
const SHOP = "northwind-woolens-demo.myshopify.com";
const fixture = (name: string) => shopifyFixture(name, { asRecorded: true });

const prepare = preparerFor(SHOP, NOW);
const ready = (outcome: BuildOutcome) => readyAt(outcome, NOW);
/** The web order with its browser facts replaced. */
function webOrder(clientDetails: Record<string, unknown> | null, browserIp?: string | null) {
  const order = fixture("orders-create-web");
  order.client_details = clientDetails === null ? null : { ...order.client_details, ...clientDetails };
  if (browserIp !== undefined) order.browser_ip = browserIp;
  return order;
}

describe("client_ip_address: the first public address of client_details.browser_ip, then browser_ip", () => {
  it("a public client_details address goes as it is", () => {
    const { event, notes } = ready(prepare("orders/create", webOrder({}, "198.51.100.3")));
    expect(event.user_data.client_ip_address).toBe("203.0.113.42");
    expect(notes).toEqual([]);
  });

  it("without client_details, the order's own browser_ip", () => {
    const { event, notes } = ready(prepare("orders/create", webOrder(null, "198.51.100.23")));
    expect(event.user_data.client_ip_address).toBe("198.51.100.23");
    // The embed's _capi_ua still gives the user agent.
    expect(event.user_data.client_user_agent).toBe(
      fixture("orders-create-web").note_attributes.find((a: any) => a.name === "_capi_ua").value,
    );
    expect(notes).toEqual([]);
  });

  it.each([
    ["a private", "10.0.0.5"],
    ["a private", "192.168.1.20"],
    ["a private", "fd00::5"],
    ["a loopback", "127.0.0.1"],
    ["a loopback", "::1"],
    ["a link-local", "169.254.10.1"],
    ["a link-local", "fe80::1"],
    ["a carrier-grade NAT", "100.64.3.4"],
    ["an unspecified", "0.0.0.0"],
  ])("%s address (%s) is never sent, and the note says so", (kind, ip) => {
    const { event, notes } = ready(prepare("orders/create", webOrder({ browser_ip: ip }, null)));
    expect(event.user_data.client_ip_address).toBeUndefined();
    expect(notes).toEqual([{ code: "client_ip_not_public", message: expect.stringContaining(`${kind} address`) }]);
  });

  it("a private client_details address falls back to a public browser_ip", () => {
    const { event, notes } = ready(prepare("orders/create", webOrder({ browser_ip: "10.1.2.3" }, "203.0.113.77")));
    expect(event.user_data.client_ip_address).toBe("203.0.113.77");
    expect(notes.map((n) => n.code)).toEqual(["client_ip_not_public"]);
  });

  it("a value that is no IP address at all is left out with its own note", () => {
    const { event, notes } = ready(prepare("orders/create", webOrder({ browser_ip: "unknown" }, null)));
    expect(event.user_data.client_ip_address).toBeUndefined();
    expect(notes.map((n) => n.code)).toEqual(["malformed_client_ip"]);
  });

  it("staff-entered orders never take the merchant's browser, and have nothing to note about it", () => {
    const draft = fixture("orders-create-draft");
    draft.browser_ip = draft.client_details.browser_ip;
    const { event, notes } = ready(prepare("orders/create", draft));
    expect(event.user_data.client_ip_address).toBeUndefined();
    expect(notes).toEqual([]);
  });
});

describe("a website event without a user agent is sent, with a note saying why it matches less", () => {
  it("no client_details user agent and no embed attribute: ready, noted no_user_agent", () => {
    const order = webOrder({ user_agent: null });
    order.note_attributes = order.note_attributes.filter((a: any) => a.name !== "_capi_ua");
    const { event, notes } = ready(prepare("orders/create", order));
    expect(event.user_data.client_user_agent).toBeUndefined();
    expect(event.user_data.client_ip_address).toBe("203.0.113.42");
    expect(notes).toEqual([{ code: "no_user_agent", message: expect.stringMatching(/theme app embed.*less well/) }]);
  });

  it("the embed's _capi_ua stands in for an empty client_details user agent", () => {
    const order = webOrder({ user_agent: "" });
    const { event, notes } = ready(prepare("orders/create", order));
    expect(event.user_data.client_user_agent).toBe(order.note_attributes.find((a: any) => a.name === "_capi_ua").value);
    expect(notes).toEqual([]);
  });

  it("only website events need one: a POS order without a browser has no such note", () => {
    const { event, notes } = ready(prepare("orders/create", fixture("orders-create-pos")));
    expect(event.action_source).toBe("physical_store");
    expect(notes).toEqual([]);
  });
});
