-- The last test event Meta counted (events_received >= 1) from the admin's Send test event, and
-- the pixel it went to: the home page's onboarding checklist marks "test event seen" from it, for
-- the pixel saved now only. Nullable columns without defaults: adding them rewrites nothing.
-- AlterTable
ALTER TABLE "Destination" ADD COLUMN     "testEventAt" TIMESTAMP(3),
ADD COLUMN     "testEventPixelId" TEXT;
