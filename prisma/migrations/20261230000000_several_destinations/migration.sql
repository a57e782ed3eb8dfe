-- Several Meta pixels per shop: a destination gets an id of its own, its events it receives and
-- whether test orders go to it; an event row becomes one destination's copy of the event. Rows
-- of before keep their meaning: each shop's one destination gets a random id, and its events
-- name it.
ALTER TABLE "Destination" ADD COLUMN "id" TEXT;
UPDATE "Destination" SET "id" = gen_random_uuid()::text;
ALTER TABLE "Destination" ALTER COLUMN "id" SET NOT NULL;
ALTER TABLE "Destination" DROP CONSTRAINT "Destination_pkey";
ALTER TABLE "Destination" ADD CONSTRAINT "Destination_pkey" PRIMARY KEY ("id");
ALTER TABLE "Destination" ADD COLUMN "label" TEXT,
ADD COLUMN "events" TEXT[] DEFAULT ARRAY['Purchase', 'InitiateCheckout']::TEXT[],
ADD COLUMN "sendTestOrders" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
CREATE UNIQUE INDEX "Destination_shop_pixelId_key" ON "Destination"("shop", "pixelId");

ALTER TABLE "Event" ADD COLUMN "destinationId" TEXT NOT NULL DEFAULT '';
UPDATE "Event" e SET "destinationId" = d."id" FROM "Destination" d WHERE d."shop" = e."shop";
DROP INDEX "Event_shop_eventName_eventId_key";
CREATE UNIQUE INDEX "Event_shop_destinationId_eventName_eventId_key" ON "Event"("shop", "destinationId", "eventName", "eventId");
