-- When Shopify refused to renew a shop's expiring offline access token, and what it answered:
-- the shop's background work (reconciliation) stops until the merchant opens the app again.
-- Nullable columns without defaults: adding them rewrites nothing.
-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "offlineAccessLostAt" TIMESTAMP(3),
ADD COLUMN     "offlineAccessLostReason" TEXT;
