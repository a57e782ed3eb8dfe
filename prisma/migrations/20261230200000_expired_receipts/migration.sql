-- A webhook whose event was past Meta's window when it arrived has its own receipt outcome,
-- "expired", like the event stored with it (app/pipeline/lifecycle.ts). No schema change:
-- receipts written "invalid" for that reason by an earlier release say so too. Their reason is
-- the one app/meta/validate.ts gives a conversion older than the window, first of its problems.
UPDATE "WebhookReceipt" SET "outcome" = 'expired'
WHERE "outcome" = 'invalid' AND "reason" LIKE 'the conversion happened % days ago; Meta accepts at most % days%';
