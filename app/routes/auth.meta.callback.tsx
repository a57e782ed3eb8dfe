// Where Meta's login dialog sends the merchant back (the redirect URI registered in the Meta
// App Dashboard). Public: there is no Shopify session here, so the shop comes from the signed,
// single-use state alone (app/pipeline/meta-login.server.ts). The code is exchanged here,
// server-side; the merchant is then sent back to the embedded admin's Connect with Meta page,
// where the businesses and pixels are listed. Neither the code nor the token reaches a page
// or a log, and no Referer carries this URL (with its code) onward.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { env } from "../config/env.server";
import { LOGIN_PROBLEM_MESSAGES } from "../meta/facebook-login";
import {
  finishLogin,
  LOGIN_NOT_CONFIGURED,
  loginSetupFromEnv,
  type CallbackOutcome,
} from "../pipeline/meta-login.server";
import { database } from "../process-clients.server";

const PRIVATE = { "Referrer-Policy": "no-referrer", "Cache-Control": "no-store" };

/** The app's Connect with Meta page inside the shop's Shopify admin. */
export function adminConnectUrl(shop: string, apiKey: string, problem?: string): string {
  return `https://${shop}/admin/apps/${encodeURIComponent(apiKey)}/app/connect${problem ? `?problem=${problem}` : ""}`;
}

export async function loader({ request }: LoaderFunctionArgs) {
  const setup = loginSetupFromEnv();
  if (!setup) return json({ message: LOGIN_NOT_CONFIGURED }, { status: 404, headers: PRIVATE });
  const db = database();
  await db.ready;
  let outcome: CallbackOutcome;
  try {
    outcome = await finishLogin(db.prisma, new URL(request.url).searchParams, setup);
  } catch (error) {
    console.error("capi-relay: Connect with Meta's callback failed:", error instanceof Error ? error.message : error);
    outcome = { problem: "meta-unreachable", reason: "callback failed" };
  }
  if (outcome.problem)
    console.warn(`capi-relay: Connect with Meta${outcome.shop ? ` for ${outcome.shop}` : ""} ended: ${outcome.reason}`);
  if (outcome.shop)
    return redirect(adminConnectUrl(outcome.shop, env().SHOPIFY_API_KEY, outcome.problem), { headers: PRIVATE });
  // The state was not ours (or is gone): no shop to send the merchant back to.
  return json({ message: LOGIN_PROBLEM_MESSAGES[outcome.problem ?? "state"] }, { status: 400, headers: PRIVATE });
}

export default function MetaLoginCallback() {
  const { message } = useLoaderData<typeof loader>();
  return (
    <main style={{ fontFamily: "system-ui, sans-serif", maxWidth: "32rem", margin: "3rem auto", padding: "0 1rem" }}>
      <h1>Connect with Meta did not finish</h1>
      <p>{message}</p>
      <p>
        <a href="https://admin.shopify.com">Back to your Shopify admin</a>, then open CAPI Relay and its Settings.
      </p>
    </main>
  );
}
