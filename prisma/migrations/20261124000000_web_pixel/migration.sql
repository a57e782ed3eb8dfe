-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "webPixelId" TEXT,
ADD COLUMN     "webPixelMessage" TEXT,
ADD COLUMN     "webPixelPixelId" TEXT,
ADD COLUMN     "webPixelStatus" TEXT,
ADD COLUMN     "webPixelSyncedAt" TIMESTAMP(3);

