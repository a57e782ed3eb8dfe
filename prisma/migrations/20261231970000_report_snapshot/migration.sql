-- The Overview's two reports that read every event of their window (delivery latency over 7
-- days, deduplication pairs over 14), kept as last computed: a big shop's Overview reads them
-- here and has them computed again in the background once they are 10 minutes old
-- (app/admin/report-snapshot.server.ts). Counts and durations only.
CREATE TABLE "ReportSnapshot" (
    "shop" TEXT NOT NULL,
    "report" TEXT NOT NULL,
    "measuredAt" TIMESTAMP(3) NOT NULL,
    "value" JSONB NOT NULL,

    CONSTRAINT "ReportSnapshot_pkey" PRIMARY KEY ("shop","report")
);
