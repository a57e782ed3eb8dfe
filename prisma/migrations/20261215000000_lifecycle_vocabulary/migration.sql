-- One word per meaning (app/pipeline/lifecycle.ts). No schema change: stored words only.
--
-- "rejected" now means only that Meta refused the event. An event our check of Meta's rules
-- refused when it was built was stored "rejected" too; it never reached Meta (attempts = 0:
-- every claim counts an attempt before the request), and becomes "invalid", with the line of
-- its history that said so.
UPDATE "Event" SET "state" = 'invalid' WHERE "state" = 'rejected' AND "attempts" = 0;

UPDATE "EventTransition" t SET "state" = 'invalid'
FROM "Event" e
WHERE t."eventPk" = e."id" AND e."state" = 'invalid' AND t."state" = 'rejected';

-- A webhook deliberately not sent was "skipped", one that could not become an event Meta
-- takes was "rejected": they are "held_back" and "invalid".
UPDATE "WebhookReceipt" SET "outcome" = 'held_back' WHERE "outcome" = 'skipped';
UPDATE "WebhookReceipt" SET "outcome" = 'invalid' WHERE "outcome" = 'rejected';
