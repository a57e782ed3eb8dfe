-- The last connection check of a destination (GET /{version}/{pixel} with its token), shown on
-- the admin page. Nullable columns without defaults: adding them rewrites nothing.
-- AlterTable
ALTER TABLE "Destination" ADD COLUMN     "checkedAt" TIMESTAMP(3),
ADD COLUMN     "checkStatus" TEXT,
ADD COLUMN     "checkMessage" TEXT;
