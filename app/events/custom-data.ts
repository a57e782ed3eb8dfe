// custom_data from Shopify line items and money fields. Value and currency always come as a
// pair from the same money set: mixing the shop's amount with the buyer's currency would
// report a wrong revenue to Meta's value optimisation.
import type { MetaContent, MetaCustomData } from "../meta/event";
import type { ShopifyLineItem } from "../shopify/payloads";
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
export function pickMoney(set: MoneySet | null | undefined, shopAmount: AmountLike, shopCurrency: string | null | undefined): Money | undefined {
  const presentment = set?.presentment_money;
  const pValue = parseAmount(presentment?.amount);
  if (pValue !== undefined && presentment?.currency_code) {
    return { value: pValue, currency: presentment.currency_code.toUpperCase() };
  }
  const value = parseAmount(shopAmount);
  return value !== undefined && shopCurrency ? { value, currency: shopCurrency.toUpperCase() } : undefined;
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

export function commerceData(items: ShopifyLineItem[], money: Money | undefined, settings: ShopEventSettings): MetaCustomData {
  const contents = new Map<string, MetaContent>();
  let numItems = 0;
  for (const item of items) {
    if (item.quantity <= 0) continue;
    numItems += item.quantity;
    const id = contentId(item, settings.contentIdSource);
    // Custom line items (draft orders) have no catalogue id: counted, not listed.
    if (!id) continue;
    const existing = contents.get(id);
    if (existing) {
      existing.quantity += item.quantity;
      continue;
    }
    const price = itemPrice(item, money?.currency);
    contents.set(id, price === undefined ? { id, quantity: item.quantity } : { id, quantity: item.quantity, item_price: price });
  }
  const list = [...contents.values()];
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
