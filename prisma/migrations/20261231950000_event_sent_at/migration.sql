-- When Meta first accepted the event: written by the statement that records the outcome (the
-- same moment as its first 'sent' history line), so the Overview's delivery latency reads one
-- narrow index instead of joining every event of its window to its history.
ALTER TABLE "Event" ADD COLUMN "sentAt" TIMESTAMP(3);

UPDATE "Event" e SET "sentAt" = t."at"
  FROM (SELECT "eventPk", MIN("at") AS "at" FROM "EventTransition" WHERE "state" = 'sent' GROUP BY "eventPk") t
 WHERE t."eventPk" = e."id";

-- Latency per window and event name, from the index alone. Prisma's schema cannot state an
-- INCLUDE or a partial index: it lives here only, and a later `prisma migrate diff` must leave it be.
CREATE INDEX "Event_latency_idx" ON "Event"("shop", "createdAt") INCLUDE ("eventName", "sentAt")
  WHERE "sentAt" IS NOT NULL;
