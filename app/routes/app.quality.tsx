// The Overview's Refresh of one pixel's Meta quality numbers (app/admin/meta-quality-card.tsx):
// a read of Meta's Dataset Quality API now, at most once per 10 minutes per pixel, for a pixel
// of the authenticated shop only. Answers { ok, message } for the card's toast.
import type { ActionFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { z } from "zod";
import type { RefreshAnswer } from "../admin/meta-quality-card";
import { metaAccessFromEnv } from "../pipeline/connection.server";
import { refreshDatasetQuality } from "../pipeline/dataset-quality.server";
import { database } from "../process-clients.server";
import { authenticate } from "../shopify.server";

const formSchema = z.object({ destinationId: z.string().uuid() });

export async function action({ request }: ActionFunctionArgs) {
  const { session } = await authenticate.admin(request);
  const form = formSchema.safeParse(Object.fromEntries((await request.formData()).entries()));
  if (!form.success)
    return json<RefreshAnswer>(
      { ok: false, message: "The page sent no pixel to refresh. Reload it and try again." },
      400,
    );
  const db = database();
  await db.ready;
  const result = await refreshDatasetQuality(
    { prisma: db.prisma, meta: metaAccessFromEnv() },
    { shop: session.shop, id: form.data.destinationId },
  );
  if (!result.ok)
    return json<RefreshAnswer>({ ok: false, message: result.message }, result.reason === "too-soon" ? 429 : 404);
  const { read } = result;
  if (read.status === "read")
    return json<RefreshAnswer>({ ok: true, message: "Meta's quality numbers were read again." });
  return json<RefreshAnswer>({ ok: false, message: read.message });
}
