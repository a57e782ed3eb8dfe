-- AlterTable
ALTER TABLE "Event" ADD COLUMN     "notes" JSONB;
