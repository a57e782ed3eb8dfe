// Shopify's auth paths (/auth/session-token bounce page, /auth/exit-iframe, and /auth/callback
// should an OAuth install ever happen): authenticate.admin answers them itself by throwing.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { authenticate } from "../shopify.server";

export async function loader({ request }: LoaderFunctionArgs) {
  await authenticate.admin(request);
  return null;
}
