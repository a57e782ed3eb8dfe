-- Meta's Dataset Quality numbers per destination (app/pipeline/dataset-quality.server.ts): the last
-- answer, when, and what the merchant is told when Meta refuses. A new table, deleted with its
-- destination: nothing existing is rewritten.
-- CreateTable
CREATE TABLE "DatasetQuality" (
    "destinationId" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "readAt" TIMESTAMP(3),
    "attemptedAt" TIMESTAMP(3) NOT NULL,
    "nextReadAt" TIMESTAMP(3) NOT NULL,
    "metrics" JSONB,
    "message" TEXT,
    "reason" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DatasetQuality_pkey" PRIMARY KEY ("destinationId")
);

-- CreateIndex
CREATE INDEX "DatasetQuality_shop_idx" ON "DatasetQuality"("shop");

-- CreateIndex
CREATE INDEX "DatasetQuality_nextReadAt_idx" ON "DatasetQuality"("nextReadAt");

-- AddForeignKey
ALTER TABLE "DatasetQuality" ADD CONSTRAINT "DatasetQuality_destinationId_fkey" FOREIGN KEY ("destinationId") REFERENCES "Destination"("id") ON DELETE CASCADE ON UPDATE CASCADE;
