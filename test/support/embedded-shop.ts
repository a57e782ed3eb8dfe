// A shop as the embedded admin page finds it after install: an offline session (so Shopify's
// token exchange is never called) and a Meta destination whose pixel Meta has paused. The
// sealed token and fingerprint are labelled placeholders, so a page can be searched for them.
import type { Session } from "@shopify/shopify-api";
import type { PrismaClient } from "@prisma/client";
import { offlineSession } from "./admin-requests";

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
    offlineSession(s.shop, { scope: s.scope, state: s.label, accessToken: `shpat_${s.label}` }),
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
