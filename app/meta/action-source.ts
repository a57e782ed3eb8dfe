// Where a conversion happened, in Meta's words: the action_source values the Conversions API
// accepts. Which Shopify order gets which one is the shop's choice (app/events/settings.ts).
export const ACTION_SOURCES = [
  "website",
  "app",
  "email",
  "phone_call",
  "chat",
  "physical_store",
  "system_generated",
  "business_messaging",
  "other",
] as const;
export type ActionSource = (typeof ACTION_SOURCES)[number];
