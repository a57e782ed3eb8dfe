// Whether the theme app embed fires other pixels than the app's: the embed writes the pixels it
// fired to the cart only while the theme editor's own field overrides the app's list
// (extensions/README.md), and the order's Purchase keeps that as a note
// (app/events/browser-ids.ts, embedPixelNotes). The latest order that carries the embed's
// data says how the storefront is set now; one from before the merchant cleared the field no
// longer counts once a newer order came without the note. The app has no read_themes scope, so
// orders are how it learns what the theme does (as the onboarding checklist's embed step).
import type { PrismaClient } from "@prisma/client";
import { z } from "zod";
import { DAY_MS } from "./dashboard.server";

export interface EmbedOverride {
  /** The note's words: which pixels the embed fired, from its own field. */
  message: string;
  /** When the order that showed it arrived. */
  at: string;
}

const notesSchema = z.array(z.object({ code: z.string(), message: z.string() }).loose()).catch([]);

export async function loadEmbedOverride(
  prisma: PrismaClient,
  shop: string,
  now: Date = new Date(),
): Promise<EmbedOverride | null> {
  const weekAgo = new Date(now.getTime() - 7 * DAY_MS);
  // The embed writes _fbp with every yes to tracking; the Purchase carries it as user_data.fbp.
  const rows = await prisma.$queryRaw<Array<{ notes: unknown; createdAt: Date }>>`
    SELECT "notes", "createdAt" FROM "Event"
    WHERE "shop" = ${shop} AND "eventName" = 'Purchase' AND "createdAt" >= ${weekAgo}
      AND "payload" -> 'user_data' ->> 'fbp' IS NOT NULL
    ORDER BY "createdAt" DESC, "id" DESC
    LIMIT 1`;
  const latest = rows[0];
  const note = latest && notesSchema.parse(latest.notes ?? []).find((n) => n.code === "embed_pixel_override");
  return note ? { message: note.message, at: latest.createdAt.toISOString() } : null;
}
