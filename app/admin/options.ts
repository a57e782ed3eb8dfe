// The choices of the admin page's forms, shared by the page (labels) and the action (validation).
// No server code and no zod here: this module is bundled into the browser.
// (app/events/settings.ts builds zod schemas at import, so only its types are imported;
// options.test.ts checks that the lists below match its enums.)
import type { ShopEventSettings } from "../events/settings";
import type { ActionSource } from "../meta/action-source";
import { DEFAULT_API_VERSION } from "../meta/api-version";

export interface Choice<V extends string = string> {
  value: V;
  label: string;
}

/** Graph API versions the merchant may pick; the first is the default of a new destination. */
export const META_API_VERSIONS = [DEFAULT_API_VERSION, "v25.0", "v24.0"] as const;

export const PURCHASE_TRIGGERS: Choice<ShopEventSettings["purchaseTrigger"]>[] = [
  { value: "orders/create", label: "When the order is placed" },
  { value: "orders/paid", label: "When the order is paid (cash on delivery, bank transfer)" },
];

export const VALUE_MODES: Choice<ShopEventSettings["valueMode"]>[] = [
  { value: "total", label: "Order total" },
  { value: "subtotal", label: "Subtotal (before shipping and taxes)" },
];

export const CONTENT_ID_SOURCES: Choice<ShopEventSettings["contentIdSource"]>[] = [
  { value: "variant", label: "Variant ID (Meta's Shopify catalogue)" },
  { value: "product", label: "Product ID" },
  { value: "sku", label: "SKU" },
];

export const ORDER_SOURCES: Choice<keyof ShopEventSettings["sources"]>[] = [
  { value: "web", label: "Online store orders" },
  { value: "pos", label: "Point of Sale orders" },
  { value: "shopify_draft_order", label: "Draft orders (created by staff)" },
  { value: "other", label: "Orders from other apps and channels" },
];

const ACTION_SOURCE_LABELS: Record<ActionSource, string> = {
  website: "Website",
  app: "App",
  email: "Email",
  phone_call: "Phone call",
  chat: "Chat",
  physical_store: "Physical store",
  system_generated: "System generated",
  business_messaging: "Business messaging",
  other: "Other",
};

export const SOURCE_RULES: Choice[] = [
  ...(Object.keys(ACTION_SOURCE_LABELS) as ActionSource[]).map((value) => ({
    value,
    label: `Send as ${ACTION_SOURCE_LABELS[value]} (${value})`,
  })),
  { value: "skip", label: "Don't send" },
];
