-- The admin's counts at a big shop's size: events per shop, hour of arrival, destination, event
-- name, state, test or not, stored payload or not, and the match keys they carry (a bitmask in
-- the order of app/admin/event-counts.ts COUNTED_KEYS). The Overview's cards sum these rows
-- instead of scanning a million events. Maintained by PostgreSQL itself: one statement-level
-- trigger per change of "Event" (insert, update, delete, truncate) adds the net change of each
-- group, so every writer (ingest, workers, retries, retention, redaction, tests) keeps it exact.
-- No customer field: counts only.
CREATE TABLE "EventCount" (
    "shop" TEXT NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "destinationId" TEXT NOT NULL,
    "eventName" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "test" BOOLEAN NOT NULL,
    "hasPayload" BOOLEAN NOT NULL,
    "keys" INTEGER NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "EventCount_pkey" PRIMARY KEY ("shop","hour","destinationId","eventName","state","test","hasPayload","keys")
);

-- The match keys an event carries, one bit each: in user_data, or (the buyer's IP and user
-- agent) named by the note left when they were removed past sending (app/pipeline/client-data.ts).
CREATE FUNCTION capi_event_keys(payload jsonb, notes jsonb) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (CASE WHEN jsonb_exists(u, 'em') THEN 1 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'ph') THEN 2 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'fn') THEN 4 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'ln') THEN 8 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'ct') THEN 16 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'st') THEN 32 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'zp') THEN 64 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'country') THEN 128 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'external_id') THEN 256 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'fbp') THEN 512 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'fbc') THEN 1024 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'client_ip_address') OR position('client_ip_address' in removed) > 0 THEN 2048 ELSE 0 END)
       | (CASE WHEN jsonb_exists(u, 'client_user_agent') OR position('client_user_agent' in removed) > 0 THEN 4096 ELSE 0 END)
  FROM (SELECT CASE WHEN jsonb_typeof(payload -> 'user_data') = 'object' THEN payload -> 'user_data' ELSE '{}'::jsonb END AS u,
               COALESCE((SELECT string_agg(n ->> 'message', ' ')
                           FROM jsonb_array_elements(CASE WHEN jsonb_typeof(notes) = 'array' THEN notes ELSE '[]'::jsonb END) n
                          WHERE n ->> 'code' = 'client_data_removed'), '') AS removed) x
$$;

-- The net change of a statement, group by group, written in key order (two statements touching
-- the same groups lock them in the same order). An update that leaves every counted column as it
-- was (a lease taken or renewed, a retry's next time) writes nothing.
CREATE FUNCTION capi_event_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM "EventCount";
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO "EventCount" AS c ("shop", "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys", "count")
    SELECT "shop", date_trunc('hour', "createdAt"), "destinationId", "eventName", "state", "testEventCode" IS NOT NULL,
           "payload" IS NOT NULL, capi_event_keys("payload", "notes"), sum(d)::int
    FROM (SELECT "shop", "createdAt", "destinationId", "eventName", "state", "testEventCode", "payload", "notes", 1 AS d FROM capi_new) x
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ("shop", "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys")
    DO UPDATE SET "count" = c."count" + EXCLUDED."count";
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "EventCount" AS c ("shop", "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys", "count")
    SELECT "shop", date_trunc('hour', "createdAt"), "destinationId", "eventName", "state", "testEventCode" IS NOT NULL,
           "payload" IS NOT NULL, capi_event_keys("payload", "notes"), sum(d)::int
    FROM (SELECT "shop", "createdAt", "destinationId", "eventName", "state", "testEventCode", "payload", "notes", -1 AS d FROM capi_old) x
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ("shop", "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys")
    DO UPDATE SET "count" = c."count" + EXCLUDED."count";
  ELSE
    INSERT INTO "EventCount" AS c ("shop", "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys", "count")
    SELECT "shop", date_trunc('hour', "createdAt"), "destinationId", "eventName", "state", "testEventCode" IS NOT NULL,
           "payload" IS NOT NULL, capi_event_keys("payload", "notes"), sum(d)::int
    FROM (SELECT n."shop", n."createdAt", n."destinationId", n."eventName", n."state", n."testEventCode", n."payload", n."notes", 1 AS d FROM capi_new n JOIN capi_old o ON o."id" = n."id"
            WHERE n."shop" IS DISTINCT FROM o."shop" OR n."createdAt" IS DISTINCT FROM o."createdAt" OR n."destinationId" IS DISTINCT FROM o."destinationId" OR n."eventName" IS DISTINCT FROM o."eventName" OR n."state" IS DISTINCT FROM o."state" OR n."testEventCode" IS DISTINCT FROM o."testEventCode" OR n."payload" IS DISTINCT FROM o."payload" OR n."notes" IS DISTINCT FROM o."notes"
          UNION ALL
          SELECT o."shop", o."createdAt", o."destinationId", o."eventName", o."state", o."testEventCode", o."payload", o."notes", -1 FROM capi_new n JOIN capi_old o ON o."id" = n."id"
            WHERE n."shop" IS DISTINCT FROM o."shop" OR n."createdAt" IS DISTINCT FROM o."createdAt" OR n."destinationId" IS DISTINCT FROM o."destinationId" OR n."eventName" IS DISTINCT FROM o."eventName" OR n."state" IS DISTINCT FROM o."state" OR n."testEventCode" IS DISTINCT FROM o."testEventCode" OR n."payload" IS DISTINCT FROM o."payload" OR n."notes" IS DISTINCT FROM o."notes") x
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ("shop", "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys")
    DO UPDATE SET "count" = c."count" + EXCLUDED."count";
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "Event_counts_insert" AFTER INSERT ON "Event" REFERENCING NEW TABLE AS capi_new
  FOR EACH STATEMENT EXECUTE FUNCTION capi_event_counts_apply();
CREATE TRIGGER "Event_counts_update" AFTER UPDATE ON "Event" REFERENCING OLD TABLE AS capi_old NEW TABLE AS capi_new
  FOR EACH STATEMENT EXECUTE FUNCTION capi_event_counts_apply();
CREATE TRIGGER "Event_counts_delete" AFTER DELETE ON "Event" REFERENCING OLD TABLE AS capi_old
  FOR EACH STATEMENT EXECUTE FUNCTION capi_event_counts_apply();
CREATE TRIGGER "Event_counts_truncate" AFTER TRUNCATE ON "Event"
  FOR EACH STATEMENT EXECUTE FUNCTION capi_event_counts_apply();

-- The events already stored.
INSERT INTO "EventCount" ("shop", "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys", "count")
SELECT "shop", date_trunc('hour', "createdAt"), "destinationId", "eventName", "state", "testEventCode" IS NOT NULL,
           "payload" IS NOT NULL, capi_event_keys("payload", "notes"), count(*)::int
FROM "Event" GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
