import { webhookAction } from "../pipeline/webhook-route.server";

export const action = webhookAction("app_subscriptions/update");
