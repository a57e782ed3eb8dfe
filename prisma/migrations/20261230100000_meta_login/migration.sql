-- Connect with Meta (Facebook Login for Business): how a destination's token came and when Meta
-- stops accepting it, and the logins under way (one hour at most, deleted once used). Nullable
-- columns without defaults: adding them rewrites nothing.
-- AlterTable
ALTER TABLE "Destination" ADD COLUMN     "connectedVia" TEXT,
ADD COLUMN     "tokenExpiresAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "MetaLogin" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "claimedAt" TIMESTAMP(3),
    "accessTokenEnc" TEXT,
    "tokenExpiresAt" TIMESTAMP(3),

    CONSTRAINT "MetaLogin_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "MetaLogin_shop_createdAt_idx" ON "MetaLogin"("shop", "createdAt");

-- CreateIndex
CREATE INDEX "MetaLogin_expiresAt_idx" ON "MetaLogin"("expiresAt");
