-- A shop's billing record (app/billing/subscription.ts): one row per shop that ever had a Shopify
-- subscription or chose Free; no row is the Free plan. A new table: nothing existing is rewritten.
-- CreateTable
CREATE TABLE "ShopBilling" (
    "shop" TEXT NOT NULL,
    "subscriptionId" TEXT,
    "subscriptionName" TEXT,
    "subscriptionStatus" TEXT,
    "subscriptionTest" BOOLEAN NOT NULL DEFAULT false,
    "trialDays" INTEGER NOT NULL DEFAULT 0,
    "subscriptionCreatedAt" TIMESTAMP(3),
    "currentPeriodEnd" TIMESTAMP(3),
    "trialStartedAt" TIMESTAMP(3),
    "lapsedPlan" TEXT,
    "lapsedAt" TIMESTAMP(3),
    "lapsedInTrial" BOOLEAN NOT NULL DEFAULT false,
    "freeChosenAt" TIMESTAMP(3),
    "checkedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ShopBilling_pkey" PRIMARY KEY ("shop")
);
