-- The order an orders/* webhook is about, so that the accuracy report can tell why an order
-- that has no event was held back (consent, settings) from the webhook's own receipt, without
-- waiting for reconciliation to read the order again. Earlier receipts keep NULL.
ALTER TABLE "WebhookReceipt" ADD COLUMN "orderId" TEXT;
CREATE INDEX "WebhookReceipt_shop_orderId_idx" ON "WebhookReceipt"("shop", "orderId");
