-- The events the storefront's web pixel reports it fired: shop, event name and id only, for
-- the deduplication health (app/pipeline/dedup-health.ts). A new table: nothing existing is rewritten.
-- CreateTable
CREATE TABLE "BrowserEvent" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "eventName" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "firedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BrowserEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "BrowserEvent_shop_eventName_eventId_key" ON "BrowserEvent"("shop", "eventName", "eventId");

-- CreateIndex
CREATE INDEX "BrowserEvent_firedAt_idx" ON "BrowserEvent"("firedAt");

-- Another Meta pixel seen on a shop's storefront running one of its pixel ids (the theme
-- embed reports it through the app proxy), for the Overview's warning. A new table too.
-- CreateTable
CREATE TABLE "PixelSighting" (
    "shop" TEXT NOT NULL,
    "pixelId" TEXT NOT NULL,
    "firstSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PixelSighting_pkey" PRIMARY KEY ("shop","pixelId")
);

-- CreateIndex
CREATE INDEX "PixelSighting_lastSeenAt_idx" ON "PixelSighting"("lastSeenAt");

-- The web pixel gains a setting (firedIdsUrl, where it reports the ids it fired): a shop whose
-- pixel is on is synced again on its next admin page load (webPixelNeedsSync: no sync time
-- means sync), which writes the new setting. One small row per shop.
UPDATE "Shop" SET "webPixelSyncedAt" = NULL WHERE "webPixelStatus" = 'active';
