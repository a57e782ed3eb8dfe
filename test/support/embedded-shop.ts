// A shop as the embedded admin page finds it after install: an offline session (so Shopify's
// token exchange is never called) and a Meta destination whose pixel Meta has paused. The
// sealed token and fingerprint are labelled placeholders, so a page can be searched for them.
import { Session } from "@shopify/shopify-api";
import type { PrismaClient } from "@prisma/client";

export interface EmbeddedShop {
  shop: string;
  /** Names the placeholders: `sealed-ciphertext-<label>`, `fingerprint-<label>`, `shpat_<label>`. */
  label: string;
  scope: string;
  pause: { reason: string; message: string };
}

export async function seedEmbeddedShop(
  prisma: PrismaClient,
  sessionStorage: { storeSession(session: Session): Promise<boolean> },
  s: EmbeddedShop,
): Promise<void> {
  await sessionStorage.storeSession(
    new Session({
      id: `offline_${s.shop}`,
      shop: s.shop,
      state: s.label,
      isOnline: false,
      accessToken: `shpat_${s.label}`,
      scope: s.scope,
      // An expiring token with its hour ahead, as the app stores them: no token exchange is needed.
      expires: new Date(Date.now() + 3600_000),
    }),
  );
  await prisma.destination.create({
    data: {
      id: crypto.randomUUID(),
      shop: s.shop,
      pixelId: "123456789012345",
      accessTokenEnc: `sealed-ciphertext-${s.label}`,
      tokenFingerprint: `fingerprint-${s.label}`,
      pausedAt: new Date(),
      pauseReason: s.pause.reason,
      pauseMessage: s.pause.message,
    },
  });
}
