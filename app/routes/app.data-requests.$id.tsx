// One customers/data_request report (app/pipeline/privacy.server.ts) as a JSON download, for
// the merchant to pass on to the customer. Only the shop of the authenticated admin session
// reads its own reports: another shop's id, a malformed id or an expired report is a 404.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { database } from "../process-clients.server";
import { loadDataRequest } from "../pipeline/privacy.server";
import { authenticate } from "../shopify.server";

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { session } = await authenticate.admin(request);
  const id = z.uuid().safeParse(params.id);
  const db = database();
  await db.ready;
  const report = id.success ? await loadDataRequest(db.prisma, session.shop, id.data) : undefined;
  if (!report) return new Response("no such data request report", { status: 404 });
  return Response.json(report, {
    headers: {
      "Content-Disposition": `attachment; filename="data-request-${report.id}.json"`,
      "Cache-Control": "no-store",
    },
  });
}
