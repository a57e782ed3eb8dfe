// The app's public front page. Shopify opens the app at its URL with ?shop=...: those
// requests go straight to the embedded app; anyone else sees what the app does and a login form.
import type { LinksFunction, LoaderFunctionArgs } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, useLoaderData } from "@remix-run/react";
import { login } from "../../shopify.server";
import styles from "./styles.css";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: styles }];

export async function loader({ request }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  if (url.searchParams.get("shop")) throw redirect(`/app?${url.searchParams.toString()}`);
  return json({ showForm: Boolean(login) });
}

export default function Landing() {
  const { showForm } = useLoaderData<typeof loader>();
  return (
    <main className="landing">
      <div className="landing-content">
        <h1>CAPI Relay</h1>
        <p>
          Sends every order and checkout of your Shopify store to Meta&apos;s Conversions API from the server, so ad
          blockers and browser limits stop losing your Purchase events.
        </p>
        {showForm && (
          <Form method="post" action="/auth/login">
            <label>
              <span>Shop domain</span>
              <input type="text" name="shop" placeholder="my-shop.myshopify.com" autoComplete="on" />
            </label>
            <button type="submit">Log in</button>
          </Form>
        )}
        <ul>
          <li>One Purchase per order and one InitiateCheckout per checkout, with the same event ID as your pixel.</li>
          <li>Customer data normalised and hashed as Meta requires, before it leaves your store.</li>
          <li>Every event&apos;s fate visible: delivered, retried, or why Meta refused it.</li>
        </ul>
      </div>
    </main>
  );
}
