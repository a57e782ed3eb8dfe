-- Deduplication health (app/pipeline/dedup-health.server.ts) reads the ids of the events Meta
-- accepted over 14 days, test events left out, to pair them with the browser's: at a big
-- shop's size, hundreds of thousands of wide rows. This index holds just those, with the two
-- columns read, so the query never touches the table. Prisma's schema cannot state an INCLUDE
-- or a partial index: it lives here only, and a later `prisma migrate diff` must leave it be.
CREATE INDEX "Event_dedup_sent_idx" ON "Event"("shop", "eventTime") INCLUDE ("eventName", "eventId")
  WHERE "state" = 'sent' AND "testEventCode" IS NULL;
