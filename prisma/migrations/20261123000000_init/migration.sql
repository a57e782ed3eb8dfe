-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "isOnline" BOOLEAN NOT NULL DEFAULT false,
    "scope" TEXT,
    "expires" TIMESTAMP(3),
    "accessToken" TEXT NOT NULL,
    "userId" BIGINT,
    "firstName" TEXT,
    "lastName" TEXT,
    "email" TEXT,
    "accountOwner" BOOLEAN NOT NULL DEFAULT false,
    "locale" TEXT,
    "collaborator" BOOLEAN DEFAULT false,
    "emailVerified" BOOLEAN DEFAULT false,
    "refreshToken" TEXT,
    "refreshTokenExpires" TIMESTAMP(3),

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Shop" (
    "shop" TEXT NOT NULL,
    "installedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uninstalledAt" TIMESTAMP(3),
    "settings" JSONB NOT NULL DEFAULT '{}',
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Shop_pkey" PRIMARY KEY ("shop")
);

-- CreateTable
CREATE TABLE "Destination" (
    "shop" TEXT NOT NULL,
    "pixelId" TEXT NOT NULL,
    "accessTokenEnc" TEXT NOT NULL,
    "tokenFingerprint" TEXT NOT NULL,
    "testEventCode" TEXT,
    "apiVersion" TEXT NOT NULL DEFAULT 'v26.0',
    "pausedAt" TIMESTAMP(3),
    "pauseReason" TEXT,
    "pauseMessage" TEXT,
    "slowUntil" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Destination_pkey" PRIMARY KEY ("shop")
);

-- CreateTable
CREATE TABLE "WebhookReceipt" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "webhookId" TEXT NOT NULL,
    "eventId" TEXT,
    "dedupeKey" TEXT NOT NULL,
    "triggeredAt" TIMESTAMP(3),
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "outcome" TEXT NOT NULL,
    "reason" TEXT,

    CONSTRAINT "WebhookReceipt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Event" (
    "id" BIGSERIAL NOT NULL,
    "shop" TEXT NOT NULL,
    "eventName" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "pixelId" TEXT,
    "testEventCode" TEXT,
    "payload" JSONB,
    "eventTime" TIMESTAMP(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leaseUntil" TIMESTAMP(3),
    "reasonCode" TEXT,
    "reason" TEXT,
    "fbtraceId" TEXT,
    "customerHash" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EventTransition" (
    "id" BIGSERIAL NOT NULL,
    "eventPk" BIGINT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "state" TEXT NOT NULL,
    "detail" TEXT,

    CONSTRAINT "EventTransition_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Session_shop_idx" ON "Session"("shop");

-- CreateIndex
CREATE INDEX "Destination_pixelId_idx" ON "Destination"("pixelId");

-- CreateIndex
CREATE INDEX "WebhookReceipt_shop_receivedAt_idx" ON "WebhookReceipt"("shop", "receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "WebhookReceipt_shop_topic_dedupeKey_key" ON "WebhookReceipt"("shop", "topic", "dedupeKey");

-- CreateIndex
CREATE INDEX "Event_state_nextAttemptAt_idx" ON "Event"("state", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Event_shop_createdAt_idx" ON "Event"("shop", "createdAt");

-- CreateIndex
CREATE INDEX "Event_shop_customerHash_idx" ON "Event"("shop", "customerHash");

-- CreateIndex
CREATE UNIQUE INDEX "Event_shop_eventName_eventId_key" ON "Event"("shop", "eventName", "eventId");

-- CreateIndex
CREATE INDEX "EventTransition_eventPk_idx" ON "EventTransition"("eventPk");

-- AddForeignKey
ALTER TABLE "EventTransition" ADD CONSTRAINT "EventTransition_eventPk_fkey" FOREIGN KEY ("eventPk") REFERENCES "Event"("id") ON DELETE CASCADE ON UPDATE CASCADE;

