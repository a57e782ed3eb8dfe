// The one entry point from a webhook payload to a sendable Meta event: parse (zod), build,
// validate. The worker, the CLI and the benchmarks all go through here.
import { validateEvent } from "../meta/validate";
import { checkoutSchema, describeIssues, gidMismatch, orderSchema } from "../shopify/payloads";
import { buildInitiateCheckout } from "./initiate-checkout";
import type { BuildContext, BuildOutcome } from "./outcome";
import { buildPurchase } from "./purchase";
import type { ShopEventSettings } from "./settings";

export const EVENT_TOPICS = ["orders/create", "orders/paid", "checkouts/create"] as const;
export type EventTopic = (typeof EVENT_TOPICS)[number];

export function isEventTopic(topic: string): topic is EventTopic {
  return (EVENT_TOPICS as readonly string[]).includes(topic);
}

export function prepareEvent(
  topic: EventTopic,
  payload: unknown,
  settings: ShopEventSettings,
  context: BuildContext & { nowSeconds: number },
): BuildOutcome {
  let outcome: BuildOutcome;
  if (topic === "checkouts/create") {
    const parsed = checkoutSchema.safeParse(payload);
    if (!parsed.success)
      return {
        status: "invalid",
        code: "invalid_payload",
        reason: `${topic} payload: ${describeIssues(parsed.error)}`,
      };
    const mismatch = gidMismatch("Customer", parsed.data.customer?.id, parsed.data.customer?.admin_graphql_api_id);
    if (mismatch)
      return { status: "invalid", code: "invalid_payload", reason: `${topic} payload: customer.${mismatch}` };
    outcome = buildInitiateCheckout(parsed.data, settings, context);
  } else {
    const parsed = orderSchema.safeParse(payload);
    if (!parsed.success)
      return {
        status: "invalid",
        code: "invalid_payload",
        reason: `${topic} payload: ${describeIssues(parsed.error)}`,
      };
    const order = parsed.data;
    // The id as a number and as text in the gid must agree: a rounded id would name another order.
    const orderMismatch = gidMismatch("Order", order.id, order.admin_graphql_api_id);
    const customerMismatch = gidMismatch("Customer", order.customer?.id, order.customer?.admin_graphql_api_id);
    const mismatch = orderMismatch ?? (customerMismatch && `customer.${customerMismatch}`);
    if (mismatch) return { status: "invalid", code: "invalid_payload", reason: `${topic} payload: ${mismatch}` };
    outcome = buildPurchase(order, topic, settings, context);
  }
  if (outcome.status !== "ready") return outcome;
  const problems = validateEvent(outcome.event, context.nowSeconds);
  if (problems.length === 0) return outcome;
  return {
    status: "invalid",
    code: problems[0]!.code,
    reason: problems.map((p) => p.message).join("; "),
    event: outcome.event,
    notes: outcome.notes,
  };
}
