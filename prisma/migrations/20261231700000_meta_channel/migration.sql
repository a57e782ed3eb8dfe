-- Whether Meta's Facebook & Instagram sales channel is installed on the shop, read from Shopify's
-- publications at most every 6 hours for the Overview's warning. Nullable columns: nothing existing is rewritten.
-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "metaChannelCheckedAt" TIMESTAMP(3),
ADD COLUMN     "metaChannelInstalled" BOOLEAN;
