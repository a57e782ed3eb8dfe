-- The Overview counts held-back webhooks (per hour, day and reason, over 24 hours, 7 and 30
-- days: six queries) among every receipt of its window, a big shop's hundreds of thousands;
-- held back is about one webhook in twenty. This index holds only those, with the reason, so
-- the counts read it alone. Prisma's schema cannot state an INCLUDE or a partial index: it
-- lives here only, and a later `prisma migrate diff` must leave it be.
CREATE INDEX "WebhookReceipt_held_back_idx" ON "WebhookReceipt"("shop", "receivedAt") INCLUDE ("reason")
  WHERE "outcome" = 'held_back';
