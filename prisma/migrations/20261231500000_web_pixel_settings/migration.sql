-- The web pixel's settings as last written: a change of the shop's settings resyncs the storefront.
ALTER TABLE "Shop" ADD COLUMN "webPixelSettings" TEXT;
