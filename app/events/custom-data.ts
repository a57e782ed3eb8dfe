// custom_data from Shopify line items and money fields. Value and currency always come as a
// pair from the same money set: mixing the shop's amount with the buyer's currency would
// report a wrong revenue to Meta's value optimisation.
import type { MetaContent, MetaCustomData } from "../meta/event";
import type { ShopifyLineItem, ShopifyOrder } from "../shopify/payloads";
import type { Note } from "./outcome";
import type { ShopEventSettings } from "./settings";

export interface Money {
  value: number;
  currency: string;
}

type AmountLike = string | null | undefined;
interface MoneySet {
  shop_money?: { amount?: AmountLike; currency_code?: AmountLike } | null;
  presentment_money?: { amount?: AmountLike; currency_code?: AmountLike } | null;
}

function parseAmount(amount: AmountLike): number | undefined {
  if (amount === null || amount === undefined || amount.trim() === "") return undefined;
  const n = Number(amount);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The amount in the buyer's (presentment) currency when Shopify gives it, else the shop
 * currency amount with the shop currency.
 */
export function pickMoney(
  set: MoneySet | null | undefined,
  shopAmount: AmountLike,
  shopCurrency: string | null | undefined,
): Money | undefined {
  const presentment = set?.presentment_money;
  const pValue = parseAmount(presentment?.amount);
  if (pValue !== undefined && presentment?.currency_code) {
    return { value: pValue, currency: presentment.currency_code.toUpperCase() };
  }
  const value = parseAmount(shopAmount);
  return value !== undefined && shopCurrency ? { value, currency: shopCurrency.toUpperCase() } : undefined;
}

const fractionDigits = new Map<string, number>();

/** Minor-unit digits of a currency (2 for USD, 0 for JPY, 3 for KWD); 2 when unknown. */
function digitsOf(currency: string | undefined): number {
  if (!currency) return 2;
  let digits = fractionDigits.get(currency);
  if (digits === undefined) {
    try {
      digits =
        new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    fractionDigits.set(currency, digits);
  }
  return digits;
}

/** An amount rounded to the currency's minor unit (cents for most). */
export function roundMoney(amount: number, currency: string | undefined): number {
  const scale = 10 ** digitsOf(currency);
  // toPrecision(15) first: 1.005 × 100 is 100.49999999999999 in binary, and rounds to 101.
  return Math.round(Number((amount * scale).toPrecision(15))) / scale;
}

/** A gift card sold in the order (not one spent on it: that is a payment, not a line). */
export function isGiftCardLine(item: ShopifyLineItem): boolean {
  return item.gift_card === true;
}

/** A tip's line: Shopify sets tip_payment_gateway (and tip_payment_method) on tips only. */
export function isTipLine(item: ShopifyLineItem): boolean {
  return Boolean(item.tip_payment_gateway);
}

/** Lines the shop leaves out of the event's value, contents and num_items. */
function leftOut(
  item: ShopifyLineItem,
  settings: Pick<ShopEventSettings, "includeGiftCards" | "includeTips">,
): boolean {
  return (!settings.includeGiftCards && isGiftCardLine(item)) || (!settings.includeTips && isTipLine(item));
}

function contentId(item: ShopifyLineItem, source: ShopEventSettings["contentIdSource"]): string | undefined {
  const byChoice = source === "variant" ? item.variant_id : source === "product" ? item.product_id : item.sku;
  return byChoice || item.variant_id || item.product_id || item.sku || undefined;
}

/** Line-item price in the same currency as the event's value. */
function itemPrice(item: ShopifyLineItem, currency: string | undefined): number | undefined {
  const presentment = item.price_set?.presentment_money;
  if (presentment?.currency_code?.toUpperCase() === currency) return parseAmount(presentment?.amount);
  const shop = item.price_set?.shop_money;
  if (shop?.currency_code?.toUpperCase() === currency) return parseAmount(shop?.amount);
  return item.price_set ? undefined : parseAmount(item.price);
}

/** The lines of one content id: their quantity and what they cost together. */
interface Merged {
  content: MetaContent;
  /** Sum of price × quantity, or undefined once a line without a price joined. */
  total: number | undefined;
  /** The price of every line so far when they all agree. */
  price: number | undefined;
  samePrice: boolean;
}

export function commerceData(
  items: ShopifyLineItem[],
  money: Money | undefined,
  settings: ShopEventSettings,
): MetaCustomData {
  const contents = new Map<string, Merged>();
  let numItems = 0;
  for (const item of items) {
    if (item.quantity <= 0 || leftOut(item, settings)) continue;
    numItems += item.quantity;
    const id = contentId(item, settings.contentIdSource);
    // Custom line items (draft orders) have no catalogue id: counted, not listed.
    if (!id) continue;
    const price = itemPrice(item, money?.currency);
    const existing = contents.get(id);
    if (existing) {
      existing.content.quantity += item.quantity;
      existing.total =
        existing.total === undefined || price === undefined ? undefined : existing.total + price * item.quantity;
      existing.samePrice &&= price === existing.price;
      continue;
    }
    contents.set(id, {
      content: { id, quantity: item.quantity },
      total: price === undefined ? undefined : price * item.quantity,
      price,
      samePrice: true,
    });
  }
  // Lines merged under one id (the same variant at two prices: a price change between two
  // adds, an app's bundle or sale pricing; products without variant ids) carry the
  // quantity-weighted price, so that item_price × quantity adds up to what the lines cost;
  // without a price on every line, none.
  const list: MetaContent[] = [];
  for (const merged of contents.values()) {
    const { content } = merged;
    if (merged.samePrice && merged.price !== undefined) content.item_price = merged.price;
    else if (merged.total !== undefined)
      content.item_price = roundMoney(merged.total / content.quantity, money?.currency);
    list.push(content);
  }
  return {
    ...(money ? { value: money.value, currency: money.currency } : {}),
    ...(list.length
      ? {
          content_ids: list.map((c) => c.id),
          contents: list,
          content_type: settings.contentIdSource === "product" ? "product_group" : "product",
        }
      : {}),
    num_items: numItems,
  };
}

/** What the gift cards sold in these lines cost, in the value's currency. */
function giftCardSales(items: ShopifyLineItem[], currency: string): { count: number; amount: number; priced: boolean } {
  let count = 0;
  let amount = 0;
  let priced = true;
  for (const item of items) {
    if (item.quantity <= 0 || !isGiftCardLine(item)) continue;
    count += item.quantity;
    // Shopify applies no discount and no tax to a gift card: its price is what was paid for it.
    const price = itemPrice(item, currency);
    if (price === undefined) priced = false;
    else amount += price * item.quantity;
  }
  return { count, amount, priced };
}

/** Every line is a gift card (tips aside): there is nothing else to report. */
export function onlyGiftCards(items: ShopifyLineItem[]): boolean {
  let giftCards = 0;
  for (const item of items) {
    if (item.quantity <= 0 || isTipLine(item)) continue;
    if (!isGiftCardLine(item)) return false;
    giftCards += 1;
  }
  return giftCards > 0;
}

/**
 * The tips of an order in the value's currency: their lines' prices when Shopify lists them,
 * else `total_tip_received` (shop currency), converted at the order's own rate (presentment
 * total / shop total) when the value is in the buyer's currency.
 */
function tipsOf(order: ShopifyOrder, currency: string): number | undefined {
  let fromLines = 0;
  let lines = 0;
  for (const item of order.line_items) {
    if (item.quantity <= 0 || !isTipLine(item)) continue;
    const price = itemPrice(item, currency);
    if (price === undefined) return undefined;
    fromLines += price * item.quantity;
    lines += 1;
  }
  if (lines > 0) return fromLines;
  const received = parseAmount(order.total_tip_received);
  if (!received) return received;
  if (order.currency.toUpperCase() === currency) return received;
  const shopTotal = parseAmount(order.total_price_set?.shop_money?.amount ?? order.total_price);
  const presentment = order.total_price_set?.presentment_money;
  const buyerTotal =
    presentment?.currency_code?.toUpperCase() === currency ? parseAmount(presentment.amount) : undefined;
  return shopTotal && buyerTotal !== undefined ? (received * buyerTotal) / shopTotal : undefined;
}

export interface EventValue {
  money?: Money;
  /** What was left out of the value, and how much. */
  notes: Note[];
}

function formatAmount(amount: number, currency: string): string {
  return `${roundMoney(amount, currency).toFixed(digitsOf(currency))} ${currency}`;
}

/**
 * The value of an event: `money` (an order's total or subtotal, a checkout's total) less the
 * gift cards sold and, where `money` includes them, the tips, unless the shop includes them.
 */
export function eventValue(
  money: Money | undefined,
  lines: { items: ShopifyLineItem[]; order?: ShopifyOrder; includesTips: boolean },
  settings: Pick<ShopEventSettings, "includeGiftCards" | "includeTips">,
): EventValue {
  const notes: Note[] = [];
  if (!money) return { money, notes };
  let value = money.value;
  if (!settings.includeGiftCards) {
    const sales = giftCardSales(lines.items, money.currency);
    if (sales.count > 0) {
      if (sales.priced) value -= sales.amount;
      notes.push({
        code: "gift_cards_excluded",
        message: sales.priced
          ? `${sales.count} gift card(s) sold (${formatAmount(sales.amount, money.currency)}) left out of value, contents and num_items`
          : `${sales.count} gift card(s) sold left out of contents and num_items; their price is not given in ${money.currency}, so the value still includes them`,
      });
    }
  }
  if (!settings.includeTips && lines.includesTips && lines.order) {
    const tips = tipsOf(lines.order, money.currency);
    if (tips) {
      value -= tips;
      notes.push({ code: "tips_excluded", message: `tips (${formatAmount(tips, money.currency)}) left out of value` });
    }
  }
  if (value === money.value) return { money, notes };
  return { money: { value: Math.max(0, roundMoney(value, money.currency)), currency: money.currency }, notes };
}
