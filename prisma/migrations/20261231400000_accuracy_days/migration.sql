-- The accuracy report (app/pipeline/accuracy.ts): one row per shop, UTC day and Meta pixel, counts
-- and reason sentences only. A new table: nothing existing is rewritten.
-- CreateTable
CREATE TABLE "AccuracyDay" (
    "shop" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "destinationId" TEXT NOT NULL,
    "orders" INTEGER NOT NULL,
    "accepted" INTEGER NOT NULL,
    "recovered" INTEGER NOT NULL,
    "heldBack" INTEGER NOT NULL,
    "rejected" INTEGER NOT NULL,
    "invalid" INTEGER NOT NULL,
    "pending" INTEGER NOT NULL,
    "expired" INTEGER NOT NULL,
    "neverReceived" INTEGER NOT NULL,
    "heldBackReasons" JSONB NOT NULL DEFAULT '{}',
    "measuredAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AccuracyDay_pkey" PRIMARY KEY ("shop","day","destinationId")
);

-- CreateIndex
CREATE INDEX "AccuracyDay_day_idx" ON "AccuracyDay"("day");
