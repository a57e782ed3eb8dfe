-- Nullable columns without defaults: adding them rewrites nothing. The Event index is built
-- under the migration lock (a large table is locked for writes while it builds).
-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "shopifyId" TEXT;

-- AlterTable
ALTER TABLE "Event" ADD COLUMN     "checkoutToken" TEXT;

-- CreateTable
CREATE TABLE "DataRequest" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "shopifyRequestId" TEXT,
    "subjectHashes" TEXT[],
    "report" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DataRequest_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "DataRequest_shop_createdAt_idx" ON "DataRequest"("shop", "createdAt");

-- CreateIndex
CREATE INDEX "DataRequest_expiresAt_idx" ON "DataRequest"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "DataRequest_shop_shopifyRequestId_key" ON "DataRequest"("shop", "shopifyRequestId");

-- CreateIndex
CREATE INDEX "Event_eventId_idx" ON "Event"("eventId");

