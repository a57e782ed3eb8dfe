// What custom_data.value and contents add up to: merged lines at their weighted price, gift
// cards and tips left out unless the shop counts them. Real-shaped orders: the recorded
// fixtures with the lines and totals Shopify would send for such an order.
import { describe, expect, it } from "vitest";
import { preparerFor, ready as readyAt } from "../../test/support/event-cases";
import { RECORDED_NOW_SECONDS, shopifyFixture } from "../../test/support/fixtures";
import type { BuildOutcome } from "./outcome";

const NOW = RECORDED_NOW_SECONDS;
const SHOP = "northwind-woolens-demo.myshopify.com";
const fixture = (name: string) => shopifyFixture(name, { asRecorded: true });

const prepare = preparerFor(SHOP, NOW);
const ready = (outcome: BuildOutcome) => readyAt(outcome, NOW);

type Line = Record<string, any>;
const usd = (amount: string) => ({
  shop_money: { amount, currency_code: "USD" },
  presentment_money: { amount, currency_code: "USD" },
});
const inEur = (usdAmount: string, eurAmount: string) => ({
  shop_money: { amount: usdAmount, currency_code: "USD" },
  presentment_money: { amount: eurAmount, currency_code: "EUR" },
});
let nextLineId = 14_000_000_000_001;
/** A line as Shopify writes it, from one of the order's own lines, with an id of its own. */
function lineLike(base: Line, fields: Line): Line {
  const id = nextLineId++;
  return { ...base, id, admin_graphql_api_id: `gid://shopify/LineItem/${id}`, ...fields };
}
const add = (a: string, b: string) => (Number(a) + Number(b)).toFixed(2);

/** The web order with one more line, its totals raised as Shopify would (no tax on the extra line). */
function webOrderWith(extra: Line, { subtotal = true }: { subtotal?: boolean } = {}) {
  const order = fixture("orders-create-web");
  const amount = (Number(extra.price) * extra.quantity).toFixed(2);
  order.line_items = [...order.line_items, extra];
  order.total_price = add(order.total_price, amount);
  order.total_price_set = usd(order.total_price);
  if (subtotal) {
    order.subtotal_price = add(order.subtotal_price, amount);
    order.subtotal_price_set = usd(order.subtotal_price);
  }
  return order;
}

describe("contents: lines of one content id carry their quantity-weighted price", () => {
  it("the same variant at two prices: item_price × quantity adds up to what the lines cost", () => {
    const order = fixture("orders-create-web");
    const socks = order.line_items[0]; // 2 × 18.00
    order.line_items.push(lineLike(socks, { quantity: 1, price: "15.00", price_set: usd("15.00") }));
    const { contents } = ready(prepare("orders/create", order)).event.custom_data!;
    const merged = contents!.find((c) => c.id === String(socks.variant_id))!;
    expect(merged).toEqual({ id: String(socks.variant_id), quantity: 3, item_price: 17 });
    expect(merged.item_price! * merged.quantity).toBe(2 * 18 + 15);
  });

  it.each([
    [
      "1 × 10.00 and 3 × 12.00",
      [
        [1, "10.00"],
        [3, "12.00"],
      ],
      11.5,
    ],
    [
      "rounded to the cent: 10.00, 10.00, 10.01",
      [
        [1, "10.00"],
        [1, "10.00"],
        [1, "10.01"],
      ],
      10,
    ],
    [
      "2 × 19.99 and 1 × 24.99",
      [
        [2, "19.99"],
        [1, "24.99"],
      ],
      21.66,
    ],
  ] as const)("%s", (_name, lines, price) => {
    const order = fixture("orders-create-web");
    const base = order.line_items[1];
    order.line_items = lines.map(([quantity, amount]) =>
      lineLike(base, { quantity, price: amount, price_set: usd(amount) }),
    );
    const [content] = ready(prepare("orders/create", order)).event.custom_data!.contents!;
    const quantity = lines.reduce((n, [q]) => n + q, 0);
    const total = lines.reduce((sum, [q, amount]) => sum + q * Number(amount), 0);
    expect(content).toEqual({ id: String(base.variant_id), quantity, item_price: price });
    // Within half a cent per unit of the lines' total.
    expect(Math.abs(content!.item_price! * quantity - total)).toBeLessThanOrEqual(0.005 * quantity + 1e-9);
  });

  it("in the buyer's currency when the value is", () => {
    const order = fixture("orders-create-multicurrency");
    const blanket = order.line_items[0]; // 129.00 USD = 118.68 EUR
    order.line_items.push(lineLike(blanket, { quantity: 1, price: "100.00", price_set: inEur("100.00", "92.00") }));
    const merged = ready(prepare("orders/create", order)).event.custom_data!.contents!.find(
      (c) => c.id === String(blanket.variant_id),
    )!;
    expect(merged).toEqual({ id: String(blanket.variant_id), quantity: 2, item_price: 105.34 });
  });
});

describe("gift cards sold: left out of value, contents and num_items unless the shop counts them", () => {
  const giftCard = (order: Line, amount = "50.00", priceSet: unknown = usd(amount)) =>
    lineLike(order.line_items[0], {
      variant_id: 46100000000050,
      product_id: 8910000000050,
      sku: "GIFTCARD-50",
      title: "Gift card",
      name: "Gift card - $50",
      quantity: 1,
      price: amount,
      price_set: priceSet,
      gift_card: true,
      taxable: false,
      requires_shipping: false,
    });

  it("by default: value as without the card, the card neither listed nor counted, and a note says so", () => {
    const base = fixture("orders-create-web");
    const order = webOrderWith(giftCard(base));
    expect(order.total_price).toBe("132.25");
    const { event, notes } = ready(prepare("orders/create", order));
    const without = ready(prepare("orders/create", base)).event.custom_data!;
    expect(event.custom_data).toEqual({ ...without, value: 82.25 });
    expect(notes).toEqual([
      {
        code: "gift_cards_excluded",
        message: "1 gift card(s) sold (50.00 USD) left out of value, contents and num_items",
      },
    ]);
  });

  it("in subtotal mode too (the subtotal includes the card)", () => {
    const order = webOrderWith(giftCard(fixture("orders-create-web")));
    expect(ready(prepare("orders/create", order, { valueMode: "subtotal" })).event.custom_data!.value).toBe(70.2);
  });

  it("with includeGiftCards: value, contents and num_items include the card", () => {
    const order = webOrderWith(giftCard(fixture("orders-create-web")));
    const { event, notes } = ready(prepare("orders/create", order, { includeGiftCards: true }));
    expect(event.custom_data).toMatchObject({ value: 132.25, num_items: 4 });
    expect(event.custom_data!.contents).toContainEqual({ id: "46100000000050", quantity: 1, item_price: 50 });
    expect(notes).toEqual([]);
  });

  it("subtracted in the buyer's currency when the value is in it", () => {
    const order = fixture("orders-create-multicurrency");
    order.line_items.push(giftCard(order, "50.00", inEur("50.00", "46.00")));
    order.total_price = "209.00";
    order.total_price_set = inEur("209.00", "192.28");
    const { event } = ready(prepare("orders/create", order));
    expect(event.custom_data).toMatchObject({ value: 146.28, currency: "EUR", num_items: 2 });
  });

  it("an order of gift cards only is not sent, with the reason; the shop can choose to send it", () => {
    const order = fixture("orders-create-web");
    order.line_items = [giftCard(order, "25.00"), giftCard(order, "25.00")];
    order.subtotal_price = order.total_price = "50.00";
    order.subtotal_price_set = order.total_price_set = usd("50.00");
    expect(prepare("orders/create", order)).toEqual({
      status: "held_back",
      reason: expect.stringMatching(/only gift cards/),
    });
    expect(ready(prepare("orders/create", order, { includeGiftCards: true })).event.custom_data).toMatchObject({
      value: 50,
      num_items: 2,
    });
  });

  it("InitiateCheckout: the gift card comes off the checkout's value and contents as well", () => {
    const checkout = fixture("checkouts-create");
    const line = {
      ...checkout.line_items[0],
      variant_id: 46100000000050,
      product_id: 8910000000050,
      sku: "GIFTCARD-50",
      quantity: 1,
      price: "50.00",
      gift_card: true,
    };
    const plain = ready(prepare("checkouts/create", checkout)).event.custom_data!;
    checkout.line_items = [...checkout.line_items, line];
    checkout.total_price = add(checkout.total_price, "50.00");
    const { event, notes } = ready(prepare("checkouts/create", checkout));
    expect(event.custom_data).toEqual(plain);
    expect(notes.map((n) => n.code)).toEqual(["gift_cards_excluded"]);
  });
});

describe("tips: left out of value unless the shop counts them", () => {
  const tipLine = (order: Line, amount: string, priceSet: unknown = usd(amount)) =>
    lineLike(order.line_items[0], {
      variant_id: null,
      product_id: null,
      sku: null,
      title: "Tip",
      name: "Tip",
      quantity: 1,
      price: amount,
      price_set: priceSet,
      gift_card: false,
      taxable: false,
      requires_shipping: false,
      tip_payment_gateway: "shopify_payments",
      tip_payment_method: "card",
    });

  it("total_tip_received comes off the total; the subtotal never had it", () => {
    const order = fixture("orders-create-web");
    order.total_tip_received = "5.00";
    order.total_price = "87.25";
    order.total_price_set = usd("87.25");
    const { event, notes } = ready(prepare("orders/create", order));
    expect(event.custom_data!.value).toBe(82.25);
    expect(notes).toEqual([{ code: "tips_excluded", message: "tips (5.00 USD) left out of value" }]);
    const subtotal = ready(prepare("orders/create", order, { valueMode: "subtotal" }));
    expect(subtotal.event.custom_data!.value).toBe(70.2);
    expect(subtotal.notes).toEqual([]);
    expect(ready(prepare("orders/create", order, { includeTips: true })).event.custom_data!.value).toBe(87.25);
  });

  it("a tip's line: not counted as an item, and its price (not a second copy of the tip) comes off", () => {
    const base = fixture("orders-create-web");
    const order = webOrderWith(tipLine(base, "5.00"), { subtotal: false });
    order.total_tip_received = "5.00";
    const { event } = ready(prepare("orders/create", order));
    expect(event.custom_data).toEqual({ ...ready(prepare("orders/create", base)).event.custom_data, value: 82.25 });
    const counted = ready(prepare("orders/create", order, { includeTips: true })).event.custom_data!;
    expect(counted).toMatchObject({ value: 87.25, num_items: 4 });
  });

  it("in the buyer's currency: the tip line's presentment price, else total_tip_received at the order's own rate", () => {
    const withLine = fixture("orders-create-multicurrency");
    withLine.line_items.push(tipLine(withLine, "10.00", inEur("10.00", "9.20")));
    withLine.total_tip_received = "10.00";
    withLine.total_price = "169.00";
    withLine.total_price_set = inEur("169.00", "155.48");
    expect(ready(prepare("orders/create", withLine)).event.custom_data).toMatchObject({
      value: 146.28,
      currency: "EUR",
    });

    const shopCurrencyOnly = fixture("orders-create-multicurrency");
    shopCurrencyOnly.total_tip_received = "10.00";
    shopCurrencyOnly.total_price = "169.00";
    shopCurrencyOnly.total_price_set = inEur("169.00", "155.48");
    const { event, notes } = ready(prepare("orders/create", shopCurrencyOnly));
    // 10.00 USD × 155.48 / 169.00 = 9.20 EUR.
    expect(event.custom_data).toMatchObject({ value: 146.28, currency: "EUR" });
    expect(notes).toEqual([{ code: "tips_excluded", message: "tips (9.20 EUR) left out of value" }]);
  });
});
