-- The Events page: a Purchase's order name ("#1001", not personal data) kept for the search, and
-- indexes for its pages ((createdAt, id) descending per shop, which also serves what the
-- (shop, createdAt) index did) and its search by order name and by checkout token.
ALTER TABLE "Event" ADD COLUMN "orderName" TEXT;
DROP INDEX IF EXISTS "Event_shop_createdAt_idx";
CREATE INDEX "Event_shop_createdAt_id_idx" ON "Event"("shop", "createdAt", "id");
CREATE INDEX "Event_shop_orderName_idx" ON "Event"("shop", "orderName");
CREATE INDEX "Event_shop_checkoutToken_idx" ON "Event"("shop", "checkoutToken");
