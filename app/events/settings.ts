// What a shop decides about the events built from its orders. Validated with zod wherever it
// enters (admin form, CLI, database), with defaults that a merchant who never opens the
// settings would choose.
import { z } from "zod";
import { ACTION_SOURCES } from "../meta/action-source";
import { TEST_EVENT_CODE_PATTERN } from "../meta/test-event-code";

/** What to do with orders from one Shopify `source_name`: send with this action_source, or skip. */
const sourceRule = z.union([z.enum(ACTION_SOURCES), z.literal("skip")]);
export type SourceRule = z.infer<typeof sourceRule>;

export const shopEventSettingsSchema = z.object({
  /**
   * `orders/create` sends the Purchase as soon as the order exists; `orders/paid` waits for
   * payment (cash on delivery, bank transfer shops). Either way one event_id per order.
   */
  purchaseTrigger: z.enum(["orders/create", "orders/paid"]).default("orders/create"),
  /** Purchase value: the order total, or the subtotal (before shipping and taxes). */
  valueMode: z.enum(["total", "subtotal"]).default("total"),
  /**
   * Gift cards sold in an order: a gift card is revenue only when it is spent, so by default
   * its sale is left out of value, contents and num_items (and an order of gift cards only is
   * not sent).
   */
  includeGiftCards: z.boolean().default(false),
  /** Tips the buyer added: not a sale of the shop's products, so left out of value by default. */
  includeTips: z.boolean().default(false),
  /** Catalogue ids: Meta's Shopify catalogue uses variant ids as `product` ids. */
  contentIdSource: z.enum(["variant", "product", "sku"]).default("variant"),
  /**
   * action_source per Shopify source_name. Draft orders are created by the merchant, so they
   * default to system_generated; unknown sources (apps, subscriptions) to `other`.
   */
  sources: z
    .object({
      web: sourceRule.default("website"),
      pos: sourceRule.default("physical_store"),
      shopify_draft_order: sourceRule.default("system_generated"),
      other: sourceRule.default("other"),
    })
    .prefault({}),
  /** Shopify test orders go to Meta only with this code, so they land in Test Events. */
  testEventCode: z
    .string()
    .trim()
    .regex(TEST_EVENT_CODE_PATTERN, "a test event code is letters and digits, like TEST12345")
    .optional(),
  /** The shop's own country: the calling code for phone numbers of orders with no address. */
  defaultCountry: z
    .string()
    .regex(/^[A-Za-z]{2}$/)
    .transform((c) => c.toUpperCase())
    .optional(),
  /** With a consent attribute present, a buyer who declined marketing is not sent. */
  respectMarketingConsent: z.boolean().default(true),
});
export type ShopEventSettings = z.output<typeof shopEventSettingsSchema>;
export type ShopEventSettingsInput = z.input<typeof shopEventSettingsSchema>;

export const DEFAULT_SETTINGS: ShopEventSettings = shopEventSettingsSchema.parse({});

export interface StoredSettings {
  settings: ShopEventSettings;
  /** The stored settings did not validate; defaults are shown (and used by the pipeline). */
  invalidStored: boolean;
}

/**
 * The settings a shop's row holds (its JSON column, absent for a shop without a row). Stored
 * settings that no longer validate must not stop its events: the defaults stand in for them.
 */
export function storedSettings(stored: unknown): StoredSettings {
  const parsed = shopEventSettingsSchema.safeParse(stored ?? {});
  return parsed.success
    ? { settings: parsed.data, invalidStored: false }
    : { settings: DEFAULT_SETTINGS, invalidStored: true };
}

export function actionSourceFor(sourceName: string | null | undefined, settings: ShopEventSettings): SourceRule {
  const name = (sourceName ?? "").toLowerCase();
  if (name === "web" || name === "pos" || name === "shopify_draft_order") return settings.sources[name];
  return settings.sources.other;
}
