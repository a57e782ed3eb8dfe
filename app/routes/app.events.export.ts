// The Events page's CSV export: the authenticated shop's events matching the page's filter,
// streamed a page of rows at a time (app/admin/events-list.server.ts), hashed data only
// (app/admin/events-csv.ts). The page fetches it with App Bridge's fetch (the session token).
import type { LoaderFunctionArgs } from "@remix-run/node";
import { parseEventFilter } from "../admin/event-filter";
import { CSV_HEADER, csvFilename, csvRow } from "../admin/events-csv";
import { streamEvents } from "../admin/events-list.server";
import { database } from "../process-clients.server";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  const { session } = await authenticate.admin(request);
  const parsed = parseEventFilter(new URL(request.url).searchParams);
  if (!parsed.ok) {
    return Response.json({ errors: parsed.errors }, { status: 400, headers: { "Cache-Control": "no-store" } });
  }
  const db = database();
  await db.ready;
  const rows = streamEvents(db.prisma, session.shop, parsed.filter);
  const encoder = new TextEncoder();
  let headerSent = false;
  // pull() is asked for more only as the client reads: a slow download holds one page, not the table.
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(`\uFEFF${CSV_HEADER}`));
        return;
      }
      const chunk: string[] = [];
      for (let i = 0; i < 200; i++) {
        const next = await rows.next();
        if (next.done) {
          if (chunk.length) controller.enqueue(encoder.encode(chunk.join("")));
          controller.close();
          return;
        }
        chunk.push(csvRow(next.value));
      }
      controller.enqueue(encoder.encode(chunk.join("")));
    },
    async cancel() {
      await rows.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${csvFilename(session.shop, new Date())}"`,
      "Cache-Control": "no-store",
    },
  });
}
