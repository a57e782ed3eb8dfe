// Every branch of ingest's decisions, as tables: what a webhook plans to write and answer, and
// what the write's result makes of that answer.
import { describe, expect, it } from "vitest";
import { RECORDED_NOW, shopifyFixture } from "../../test/support/fixtures";
import type { EventTopic } from "../events/prepare";
import { DEFAULT_SETTINGS } from "../events/settings";
import { sha256Hex } from "../meta/user-data";
import type { IngestWrite, NewEvent } from "./event-store.server";
import {
  ALREADY_DELIVERED,
  answerOfWrite,
  ignoredTopic,
  planIngest,
  receiptOrderId,
  refusedByDatabase,
  triggeredAtOf,
  type IngestAnswer,
  type IngestPlan,
  type IngestResult,
  type DestinationTarget,
  type ShopSnapshot,
} from "./ingest-plan";

const SHOP = "northwind-woolens-demo.myshopify.com";
const DAY_MS = 24 * 3600_000;
const fixture = (name: string) => shopifyFixture(name, { asRecorded: true });
const web = fixture("orders-create-web");

const MAIN: DestinationTarget = {
  id: "dest-main",
  pixelId: "1234567890",
  events: ["Purchase", "InitiateCheckout"],
  testEventCode: null,
  sendTestOrders: true,
  paused: false,
};
const only = (target: Partial<DestinationTarget> = {}): ShopSnapshot => ({
  settings: DEFAULT_SETTINGS,
  destinations: [{ ...MAIN, ...target }],
});
const connected = only();
const PAUSE_REASON = "Meta no longer accepts the access token of this pixel.";
const pausedPixel = only({ paused: true, pauseReason: PAUSE_REASON });
const withTestCode = only({ testEventCode: "TEST12345" });

describe("the order a receipt is about (receiptOrderId)", () => {
  it.each([
    ["orders/create", { id: 5678901234567 }, "5678901234567"],
    ["orders/paid", { id: "450789469" }, "450789469"],
    ["orders/create", { id: "gid://shopify/Order/1" }, null],
    ["orders/create", { id: -4 }, null],
    ["orders/create", { id: 1.5 }, null],
    ["orders/create", { id: "9".repeat(21) }, null],
    ["orders/create", {}, null],
    ["orders/create", null, null],
    ["checkouts/create", { id: 35000000001 }, null],
    ["app/uninstalled", { id: 548380009 }, null],
  ])("%s %j -> %s", (topic, payload, expected) => {
    expect(receiptOrderId(topic, payload)).toBe(expected);
  });
});

describe("a webhook of a topic no event is built from", () => {
  it("is a receipt alone, ignored with the topic", () => {
    expect(ignoredTopic("products/update")).toEqual({
      result: { outcome: "ignored", reason: "no event is built from products/update" },
      copies: [],
    });
  });
});

describe("a webhook that stores no event", () => {
  it.each<[string, EventTopic, unknown, ShopSnapshot, IngestResult]>([
    [
      "a test order without a test event code",
      "orders/create",
      fixture("orders-create-test"),
      connected,
      { outcome: "held_back", reason: "Shopify test order, and the shop has no test event code" },
    ],
    [
      "a test order of a paused pixel",
      "orders/create",
      fixture("orders-create-test"),
      pausedPixel,
      { outcome: "held_back", reason: "Shopify test order, and the shop has no test event code" },
    ],
    [
      "a test order, the pixel's code set but test orders turned off for it",
      "orders/create",
      fixture("orders-create-test"),
      only({ testEventCode: "TEST12345", sendTestOrders: false }),
      { outcome: "held_back", reason: "Shopify test order, and the shop has no test event code" },
    ],
    [
      "a checkout, the only pixel set to receive Purchase alone",
      "checkouts/create",
      fixture("checkouts-create"),
      only({ events: ["Purchase"] }),
      { outcome: "held_back", reason: "pixel 1234567890 is set not to receive InitiateCheckout" },
    ],
    [
      "an unreadable order",
      "orders/create",
      { id: "not a number" },
      connected,
      { outcome: "invalid", reason: expect.stringMatching(/^orders\/create payload: /) },
    ],
    [
      "an unreadable checkout",
      "checkouts/create",
      null,
      pausedPixel,
      { outcome: "invalid", reason: expect.stringMatching(/^checkouts\/create payload: /) },
    ],
  ])("%s: its receipt says why", (_what, topic, payload, shop, result) => {
    expect(planIngest({ shop: SHOP, topic, payload }, shop, RECORDED_NOW)).toEqual({ result, copies: [] });
  });
});

describe("a webhook that stores its event", () => {
  type Row = Omit<NewEvent, "event" | "shop" | "topic" | "notes">;
  const queued: Row = {
    state: "queued",
    destinationId: "dest-main",
    pixelId: "1234567890",
    testEventCode: null,
    reasonCode: null,
    reason: null,
    customerHash: sha256Hex(String(web.customer.id)),
    checkoutToken: web.checkout_token,
    // As the shop shows the order, for the Events page's search.
    orderName: web.name,
    refuseForeign: false,
  };
  const bigCustomer = "98765432109876543210";
  const bigCustomerOrder = {
    ...web,
    customer: { ...web.customer, id: bigCustomer, admin_graphql_api_id: `gid://shopify/Customer/${bigCustomer}` },
  };

  it.each<[string, EventTopic, unknown, ShopSnapshot, Date, boolean, IngestResult, Row]>([
    ["a ready order: queued", "orders/create", web, connected, RECORDED_NOW, false, { outcome: "queued" }, queued],
    [
      "arriving under its shop's header: refused if another shop holds its id",
      "orders/create",
      web,
      connected,
      RECORDED_NOW,
      true,
      { outcome: "queued" },
      { ...queued, refuseForeign: true },
    ],
    [
      "a ready order of a paused pixel: paused with the pause's reason",
      "orders/create",
      web,
      pausedPixel,
      RECORDED_NOW,
      false,
      { outcome: "paused" },
      {
        ...queued,
        state: "paused",
        reasonCode: "pixel_paused",
        reason: PAUSE_REASON,
      },
    ],
    [
      "a ready order of a paused pixel without a recorded reason",
      "orders/create",
      web,
      only({ paused: true, pauseReason: null }),
      RECORDED_NOW,
      false,
      { outcome: "paused" },
      { ...queued, state: "paused", reasonCode: "pixel_paused", reason: "the pixel is paused until the merchant acts" },
    ],
    [
      "a ready order with no pixel connected",
      "orders/create",
      web,
      { settings: DEFAULT_SETTINGS, destinations: [] },
      RECORDED_NOW,
      false,
      { outcome: "paused" },
      {
        ...queued,
        state: "paused",
        destinationId: "",
        pixelId: null,
        reasonCode: "no_destination",
        reason: "no Meta pixel is connected yet",
      },
    ],
    [
      "a test order with the shop's test event code",
      "orders/create",
      fixture("orders-create-test"),
      withTestCode,
      RECORDED_NOW,
      false,
      { outcome: "queued" },
      {
        ...queued,
        testEventCode: "TEST12345",
        customerHash: sha256Hex(String(fixture("orders-create-test").customer.id)),
        checkoutToken: fixture("orders-create-test").checkout_token,
        orderName: fixture("orders-create-test").name,
      },
    ],
    [
      "an order past Meta's window: expired, never sent",
      "orders/create",
      web,
      connected,
      new Date(RECORDED_NOW.getTime() + 10 * DAY_MS),
      false,
      { outcome: "expired", reason: expect.stringContaining("days ago") },
      {
        ...queued,
        state: "expired",
        testEventCode: null,
        reasonCode: "event_too_old",
        reason: expect.stringContaining("days ago"),
      },
    ],
    [
      "an order Meta's rules refuse, of a paused pixel: invalid, not paused",
      "orders/create",
      web,
      pausedPixel,
      new Date(RECORDED_NOW.getTime() - 2 * DAY_MS),
      false,
      { outcome: "invalid", reason: expect.stringContaining("in the future") },
      {
        ...queued,
        state: "invalid",
        testEventCode: null,
        reasonCode: "event_in_future",
        reason: expect.stringContaining("in the future"),
      },
    ],
    [
      "a guest order: no customer hash",
      "orders/create",
      fixture("orders-create-no-customer"),
      connected,
      RECORDED_NOW,
      false,
      { outcome: "queued" },
      {
        ...queued,
        customerHash: null,
        checkoutToken: fixture("orders-create-no-customer").checkout_token,
        orderName: fixture("orders-create-no-customer").name,
      },
    ],
    [
      "a customer id above 2^53, kept as its digits",
      "orders/create",
      bigCustomerOrder,
      connected,
      RECORDED_NOW,
      false,
      { outcome: "queued" },
      { ...queued, customerHash: sha256Hex(bigCustomer) },
    ],
    [
      "an order without a checkout token",
      "orders/create",
      fixture("orders-create-pos"),
      connected,
      RECORDED_NOW,
      false,
      { outcome: "queued" },
      {
        ...queued,
        customerHash: sha256Hex(String(fixture("orders-create-pos").customer.id)),
        checkoutToken: null,
        orderName: fixture("orders-create-pos").name,
      },
    ],
    [
      "a checkout: its token is its own event id, not a Purchase's",
      "checkouts/create",
      fixture("checkouts-create"),
      connected,
      RECORDED_NOW,
      false,
      { outcome: "queued" },
      {
        ...queued,
        customerHash: sha256Hex(String(fixture("checkouts-create").customer.id)),
        checkoutToken: null,
        orderName: null,
      },
    ],
  ])("%s", (_what, topic, payload, shop, now, shopFromHeader, result, row) => {
    const plan = planIngest({ shop: SHOP, topic, payload, shopFromHeader }, shop, now);
    expect(plan.result).toEqual(result);
    expect(plan.copies).toHaveLength(1);
    const { event, shop: eventShop, topic: eventTopic, notes, ...stored } = plan.copies[0]!;
    expect(stored).toEqual(row);
    expect({ shop: eventShop, topic: eventTopic, eventName: event.event_name }).toEqual({
      shop: SHOP,
      topic,
      eventName: topic === "checkouts/create" ? "InitiateCheckout" : "Purchase",
    });
    expect(Array.isArray(notes)).toBe(true);
  });
});

describe("a shop with several pixels", () => {
  const SECOND: DestinationTarget = { ...MAIN, id: "dest-agency", pixelId: "9876543210", label: "Agency" };
  const plan = (destinations: DestinationTarget[], payload: unknown = web, topic: EventTopic = "orders/create") =>
    planIngest({ shop: SHOP, topic, payload }, { settings: DEFAULT_SETTINGS, destinations }, RECORDED_NOW);
  const summary = (p: IngestPlan) =>
    p.copies.map((c) => ({ destinationId: c.destinationId, state: c.state, testEventCode: c.testEventCode }));

  it.each<[string, DestinationTarget[], unknown, EventTopic, IngestResult, ReturnType<typeof summary>]>([
    [
      "an order: one copy per pixel, the same event",
      [MAIN, SECOND],
      web,
      "orders/create",
      { outcome: "queued" },
      [
        { destinationId: "dest-main", state: "queued", testEventCode: null },
        { destinationId: "dest-agency", state: "queued", testEventCode: null },
      ],
    ],
    [
      "one pixel paused: its copy waits, the other goes",
      [{ ...MAIN, paused: true, pauseReason: PAUSE_REASON }, SECOND],
      web,
      "orders/create",
      { outcome: "queued" },
      [
        { destinationId: "dest-main", state: "paused", testEventCode: null },
        { destinationId: "dest-agency", state: "queued", testEventCode: null },
      ],
    ],
    [
      "both paused: the receipt says paused",
      [
        { ...MAIN, paused: true },
        { ...SECOND, paused: true },
      ],
      web,
      "orders/create",
      { outcome: "paused" },
      [
        { destinationId: "dest-main", state: "paused", testEventCode: null },
        { destinationId: "dest-agency", state: "paused", testEventCode: null },
      ],
    ],
    [
      "a checkout: only to the pixel that receives InitiateCheckout",
      [{ ...MAIN, events: ["Purchase"] }, SECOND],
      fixture("checkouts-create"),
      "checkouts/create",
      { outcome: "queued" },
      [{ destinationId: "dest-agency", state: "queued", testEventCode: null }],
    ],
    [
      "a test order: only to the pixel with a test event code, under its code",
      [MAIN, { ...SECOND, testEventCode: "TEST777" }],
      fixture("orders-create-test"),
      "orders/create",
      { outcome: "queued" },
      [{ destinationId: "dest-agency", state: "queued", testEventCode: "TEST777" }],
    ],
    [
      "a test order, each pixel its own code",
      [
        { ...MAIN, testEventCode: "TEST111" },
        { ...SECOND, testEventCode: "TEST777" },
      ],
      fixture("orders-create-test"),
      "orders/create",
      { outcome: "queued" },
      [
        { destinationId: "dest-main", state: "queued", testEventCode: "TEST111" },
        { destinationId: "dest-agency", state: "queued", testEventCode: "TEST777" },
      ],
    ],
    [
      "a real order goes without the test code to every pixel",
      [{ ...MAIN, testEventCode: "TEST111" }, SECOND],
      web,
      "orders/create",
      { outcome: "queued" },
      [
        { destinationId: "dest-main", state: "queued", testEventCode: null },
        { destinationId: "dest-agency", state: "queued", testEventCode: null },
      ],
    ],
  ])("%s", (_what, destinations, payload, topic, result, copies) => {
    const planned = plan(destinations, payload, topic);
    expect(planned.result).toEqual(result);
    expect(summary(planned)).toEqual(copies);
    // Every copy is the same Meta event: the browser's copy and each server copy share its id.
    expect(new Set(planned.copies.map((c) => JSON.stringify(c.event))).size).toBe(1);
  });

  it("no pixel receives it: held back, each reason named", () => {
    const planned = plan(
      [
        { ...MAIN, events: ["Purchase"] },
        { ...SECOND, events: ["Purchase"] },
      ],
      fixture("checkouts-create"),
      "checkouts/create",
    );
    expect(planned).toEqual({
      result: {
        outcome: "held_back",
        reason:
          "pixel 1234567890 is set not to receive InitiateCheckout; pixel Agency is set not to receive InitiateCheckout",
      },
      copies: [],
    });
  });
});

describe("a webhook Shopify delivered late (X-Shopify-Triggered-At)", () => {
  const before = (days: number) => new Date(RECORDED_NOW.getTime() - days * DAY_MS);
  const late = (days: number, window: number) =>
    `Shopify delivered this webhook ${days} days after it was triggered: Meta accepts events up to ${window} days old, so it was never sent`;
  const pos = fixture("orders-create-pos");

  it.each<[string, unknown, ShopSnapshot, Date | null, IngestResult, NewEvent["state"] | undefined]>([
    ["triggered moments ago: queued", web, connected, before(0.001), { outcome: "queued" }, "queued"],
    ["triggered 6 days ago: still in Meta's window", web, connected, before(6.9), { outcome: "queued" }, "queued"],
    ["without the header: judged by its own times", web, connected, null, { outcome: "queued" }, "queued"],
    ["triggered in the future (a clock ahead): queued", web, connected, before(-1), { outcome: "queued" }, "queued"],
    [
      "triggered 9 days ago: expired on arrival, however recent the order's own times read",
      web,
      connected,
      before(9),
      { outcome: "expired", reason: late(9, 7) },
      "expired",
    ],
    [
      "triggered 9 days ago, the pixel paused: expired, not paused (it can never go)",
      web,
      pausedPixel,
      before(9),
      { outcome: "expired", reason: late(9, 7) },
      "expired",
    ],
    [
      "an in-store sale 30 days late: Meta's 62 days still hold",
      pos,
      connected,
      before(30),
      { outcome: "queued" },
      "queued",
    ],
    [
      "an in-store sale 63 days late: expired against the 62 days",
      pos,
      connected,
      before(63),
      { outcome: "expired", reason: late(63, 62) },
      "expired",
    ],
    [
      "a test order held back: still held back, never to be sent either way",
      fixture("orders-create-test"),
      connected,
      before(9),
      { outcome: "held_back", reason: "Shopify test order, and the shop has no test event code" },
      undefined,
    ],
    [
      "an unreadable body: invalid, there is no event to expire",
      { id: "not a number" },
      connected,
      before(9),
      { outcome: "invalid", reason: expect.stringMatching(/^orders\/create payload: /) },
      undefined,
    ],
  ])("%s", (_what, payload, shop, triggeredAt, result, state) => {
    const plan = planIngest({ shop: SHOP, topic: "orders/create", payload, triggeredAt }, shop, RECORDED_NOW);
    expect(plan.result).toEqual(result);
    expect(plan.copies[0]?.state).toBe(state);
    if (state === "expired") {
      expect(plan.copies[0]).toMatchObject({ reasonCode: "event_too_old", reason: result.reason, testEventCode: null });
    }
  });

  it("an event that can never be sent is stored without the buyer's IP and user agent, with the note; a sendable one keeps them", () => {
    const sendable = planIngest({ shop: SHOP, topic: "orders/create", payload: web }, connected, RECORDED_NOW)
      .copies[0]!;
    expect(sendable.event.user_data).toMatchObject({
      client_ip_address: expect.any(String),
      client_user_agent: expect.any(String),
    });
    for (const [what, now, triggeredAt] of [
      ["delivered late", RECORDED_NOW, before(9)],
      ["placed 10 days ago", new Date(RECORDED_NOW.getTime() + 10 * DAY_MS), null],
      ["invalid (in the future)", before(2), null],
    ] as const) {
      const stored = planIngest({ shop: SHOP, topic: "orders/create", payload: web, triggeredAt }, connected, now)
        .copies[0]!;
      expect(["expired", "invalid"], what).toContain(stored.state);
      expect(stored.event.user_data, what).not.toHaveProperty("client_ip_address");
      expect(stored.event.user_data, what).not.toHaveProperty("client_user_agent");
      expect(stored.event.user_data, what).toMatchObject({ em: sendable.event.user_data.em });
      expect(stored.notes, what).toContainEqual({
        code: "client_data_removed",
        message:
          "removed from the stored payload once the event was past sending: client_ip_address, client_user_agent",
      });
    }
  });

  it.each<[string, string | null | undefined, Date | null]>([
    ["Shopify's ISO time", "2026-11-12T08:30:00.123Z", new Date("2026-11-12T08:30:00.123Z")],
    ["absent", undefined, null],
    ["empty", "", null],
    ["not a date", "yesterday-ish", null],
  ])("the header %s reads as %s", (_what, header, at) => {
    expect(triggeredAtOf(header)).toEqual(at);
  });
});

describe("the answer once written", () => {
  const heldBack: IngestPlan = { result: { outcome: "held_back", reason: "r" }, copies: [] };
  const copy = (state: NewEvent["state"]): NewEvent => ({
    shop: SHOP,
    topic: "orders/create",
    state,
    event: { event_name: "Purchase", event_id: "5678901234567" } as NewEvent["event"],
  });
  const event = (state: NewEvent["state"], result: IngestResult, ...more: NewEvent["state"][]): IngestPlan => ({
    result,
    copies: [copy(state), ...more.map(copy)],
  });
  const queued = event("queued", { outcome: "queued" });
  const write = (w: Partial<IngestWrite>): IngestWrite => ({ receiptInserted: true, eventPk: 1n, ...w });

  it.each<[string, IngestPlan, IngestWrite, IngestAnswer]>([
    ["a receipt alone, recorded", heldBack, { receiptInserted: true }, { result: heldBack.result, kick: false }],
    [
      "a receipt alone, delivered before",
      heldBack,
      { receiptInserted: false },
      { result: ALREADY_DELIVERED, kick: false },
    ],
    ["a queued event, stored: announced", queued, write({}), { result: { outcome: "queued" }, kick: true }],
    [
      "copies for two pixels, one paused: announced for the other",
      event("paused", { outcome: "queued" }, "queued"),
      write({}),
      { result: { outcome: "queued" }, kick: true },
    ],
    [
      "a paused event, stored: nothing to announce",
      event("paused", { outcome: "paused" }),
      write({}),
      { result: { outcome: "paused" }, kick: false },
    ],
    [
      "an expired event, stored",
      event("expired", { outcome: "expired", reason: "old" }),
      write({}),
      { result: { outcome: "expired", reason: "old" }, kick: false },
    ],
    [
      "an event whose webhook was delivered before",
      queued,
      write({ receiptInserted: false, eventPk: undefined }),
      { result: ALREADY_DELIVERED, kick: false },
    ],
    [
      "an event already recorded from another webhook",
      queued,
      write({ eventPk: undefined }),
      { result: { outcome: "duplicate", reason: "Purchase 5678901234567 was already recorded" }, kick: false },
    ],
    [
      "an event another shop holds",
      queued,
      write({ eventPk: undefined, refused: true }),
      {
        result: {
          outcome: "refused",
          reason: `Purchase 5678901234567 is held for another shop: this body is not ${SHOP}'s`,
        },
        kick: false,
      },
    ],
  ])("%s", (_what, plan, written, answer) => {
    expect(answerOfWrite(plan, written)).toEqual(answer);
  });
});

describe("an event the database refuses", () => {
  const invalid = (code: string): IngestPlan => ({
    result: { outcome: "invalid", reason: `the database cannot store this event (PostgreSQL ${code})` },
    copies: [],
  });
  it.each<[string, unknown, IngestPlan | undefined]>([
    ["a NUL character (the driver's code)", { code: "22P05" }, invalid("22P05")],
    [
      "a date out of range, through Prisma",
      { code: "P2010", meta: { driverAdapterError: { cause: { code: "22008" } } } },
      invalid("22008"),
    ],
    ["an id too long to index", { code: "54000" }, invalid("54000")],
    ["a lock timeout: retried", { code: "55P03" }, undefined],
    ["a unique violation: not the data's own fault", { code: "23505" }, undefined],
    ["a class 22 look-alike", { code: "220" }, undefined],
    ["an error without a code", new Error("Connection terminated"), undefined],
    ["nothing", null, undefined],
  ])("%s", (_what, error, plan) => {
    expect(refusedByDatabase(error)).toEqual(plan);
  });
});
