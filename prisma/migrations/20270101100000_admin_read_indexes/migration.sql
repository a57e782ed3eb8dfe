-- The two Overview queries the EventCount rollup cannot answer, at a big shop's size (a million
-- events): delivery latency (each event's first 'sent' transition, percentiles per event name)
-- and deduplication health (the delivered events' ids joined with the browser's). Both read
-- every event of the window; these let them read narrow indexes instead of the wide event rows
-- (measured in `npm run bench -- --only admin`). Prisma's schema cannot state an INCLUDE or a
-- partial index: they live here only, and a later `prisma migrate diff` must leave them be.

-- Latency: the events of a window with their name, from the index alone.
DROP INDEX IF EXISTS "Event_shop_createdAt_id_idx";
CREATE INDEX "Event_shop_createdAt_id_idx" ON "Event"("shop", "createdAt", "id") INCLUDE ("eventName");

-- Latency: an event's acceptance time, only the 'sent' transitions.
CREATE INDEX "EventTransition_sent_idx" ON "EventTransition"("eventPk") INCLUDE ("at") WHERE "state" = 'sent';

-- Deduplication health: the delivered real events by conversion time, with their name and id.
CREATE INDEX "Event_dedup_sent_idx" ON "Event"("shop", "eventTime") INCLUDE ("eventName", "eventId")
  WHERE "state" = 'sent' AND "testEventCode" IS NULL;
