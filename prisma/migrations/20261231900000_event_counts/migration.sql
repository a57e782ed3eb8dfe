-- The admin's counts at a big shop's size: events per shop, hour of arrival, destination, event
-- name, state, test or not, stored payload or not, and the match keys they carry (a bitmask in
-- the order of app/admin/event-counts.ts COUNTED_KEYS). The Overview's cards sum these rows
-- instead of scanning a million events. Maintained by PostgreSQL itself: triggers on "Event"
-- (insert, update, delete, truncate) record each change, so every writer (ingest, workers,
-- retries, retention, redaction, tests) keeps it exact.
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

-- The same counts without the payload and match-key columns, which multiply a big shop's groups
-- by the combinations of keys its orders carry: the delivery card and charts, which never ask
-- for keys, read a few thousand rows here instead of a hundred thousand. Written by the same
-- fold from the same changes.
CREATE TABLE "EventStateCount" (
    "shop" TEXT NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "destinationId" TEXT NOT NULL,
    "eventName" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "test" BOOLEAN NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "EventStateCount_pkey" PRIMARY KEY ("shop","hour","destinationId","eventName","state","test")
);

-- The same per UTC day: a window's whole days (the 30-day chart, the 7-day card) read a row per
-- day instead of 24.
CREATE TABLE "EventDayCount" (
    "shop" TEXT NOT NULL,
    "day" TIMESTAMP(3) NOT NULL,
    "destinationId" TEXT NOT NULL,
    "eventName" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "test" BOOLEAN NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "EventDayCount_pkey" PRIMARY KEY ("shop","day","destinationId","eventName","state","test")
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

-- Every change of a counted column adds its +1 and -1 here, in the writer's own transaction:
-- an append, no row to lock, so concurrent workers never wait on one another's counts nor
-- deadlock. The worker's sweep folds these into "EventCount" every few seconds
-- (foldEventCounts in app/pipeline/event-counts.server.ts); readers add what is not folded
-- yet, so a count is exact at every moment. No index: folding keeps it a few thousand rows.
CREATE TABLE "EventCountDelta" (
    "shop" TEXT NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "destinationId" TEXT NOT NULL,
    "eventName" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "test" BOOLEAN NOT NULL,
    "hasPayload" BOOLEAN NOT NULL,
    "keys" INTEGER NOT NULL,
    "count" INTEGER NOT NULL
);

CREATE FUNCTION capi_event_count_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO "EventCountDelta" VALUES (OLD."shop", date_trunc('hour', OLD."createdAt"), OLD."destinationId",
      OLD."eventName", OLD."state", OLD."testEventCode" IS NOT NULL, OLD."payload" IS NOT NULL,
      capi_event_keys(OLD."payload", OLD."notes"), -1);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO "EventCountDelta" VALUES (NEW."shop", date_trunc('hour', NEW."createdAt"), NEW."destinationId",
      NEW."eventName", NEW."state", NEW."testEventCode" IS NOT NULL, NEW."payload" IS NOT NULL,
      capi_event_keys(NEW."payload", NEW."notes"), 1);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION capi_event_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE "EventCount", "EventStateCount", "EventDayCount", "EventCountDelta";
  RETURN NULL;
END $$;

-- Row triggers, so that an update is filtered by its row before any function runs: the
-- updates that leave every counted column as it was (a lease taken over or renewed, which a
-- slow Meta makes a thousand a second; a retry's next time) cost one comparison each. A
-- statement trigger with transition tables copied every updated row, payload included.
CREATE TRIGGER "Event_counts_insert_delete" AFTER INSERT OR DELETE ON "Event"
  FOR EACH ROW EXECUTE FUNCTION capi_event_count_delta();
CREATE TRIGGER "Event_counts_update" AFTER UPDATE ON "Event" FOR EACH ROW
  WHEN (OLD."state" IS DISTINCT FROM NEW."state" OR OLD."destinationId" IS DISTINCT FROM NEW."destinationId"
     OR OLD."shop" IS DISTINCT FROM NEW."shop" OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt"
     OR OLD."eventName" IS DISTINCT FROM NEW."eventName" OR OLD."testEventCode" IS DISTINCT FROM NEW."testEventCode"
     OR OLD."payload" IS DISTINCT FROM NEW."payload" OR OLD."notes" IS DISTINCT FROM NEW."notes")
  EXECUTE FUNCTION capi_event_count_delta();
CREATE TRIGGER "Event_counts_truncate" AFTER TRUNCATE ON "Event"
  FOR EACH STATEMENT EXECUTE FUNCTION capi_event_counts_truncate();

-- The events already stored.
INSERT INTO "EventCount" ("shop", "hour", "destinationId", "eventName", "state", "test", "hasPayload", "keys", "count")
SELECT "shop", date_trunc('hour', "createdAt"), "destinationId", "eventName", "state", "testEventCode" IS NOT NULL,
           "payload" IS NOT NULL, capi_event_keys("payload", "notes"), count(*)::int
FROM "Event" GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO "EventStateCount" ("shop", "hour", "destinationId", "eventName", "state", "test", "count")
SELECT "shop", "hour", "destinationId", "eventName", "state", "test", sum("count")::int
FROM "EventCount" GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO "EventDayCount" ("shop", "day", "destinationId", "eventName", "state", "test", "count")
SELECT "shop", date_trunc('day', "hour"), "destinationId", "eventName", "state", "test", sum("count")::int
FROM "EventCount" GROUP BY 1, 2, 3, 4, 5, 6;
