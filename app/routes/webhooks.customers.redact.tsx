import { webhookAction } from "../pipeline/webhook-route.server";

export const action = webhookAction("customers/redact");
