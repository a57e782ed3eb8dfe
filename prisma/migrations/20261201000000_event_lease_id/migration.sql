-- AlterTable
-- The fencing token of a claim (see Event.leaseId). Nullable with no default: adding it
-- rewrites nothing, so the migration is instant on a large table.
ALTER TABLE "Event" ADD COLUMN     "leaseId" TEXT;
