// The embedded app's frame: every /app page is authenticated (token exchange), wrapped in
// App Bridge and Polaris, and gets Shopify's headers and error handling through `boundary`.
import type { HeadersFunction, LinksFunction, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, Outlet, useLoaderData, useRouteError } from "@remix-run/react";
import { boundary } from "@shopify/shopify-app-remix/server";
import { AppProvider } from "../admin/app-provider";
import polarisStyles from "@shopify/polaris/build/esm/styles.css";
import { env } from "../config/env.server";
import { authenticate } from "../shopify.server";

// App Bridge's navigation menu web component (defined by the App Bridge script AppProvider loads).
declare module "react" {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      "ui-nav-menu": React.DetailedHTMLProps<React.HTMLAttributes<HTMLElement>, HTMLElement>;
    }
  }
}

export const links: LinksFunction = () => [{ rel: "stylesheet", href: polarisStyles }];

export async function loader({ request }: LoaderFunctionArgs) {
  await authenticate.admin(request);
  // The API key is the app's public client id; App Bridge needs it in the page.
  return json({ apiKey: env().SHOPIFY_API_KEY });
}

export default function App() {
  const { apiKey } = useLoaderData<typeof loader>();
  return (
    <AppProvider isEmbeddedApp apiKey={apiKey}>
      <ui-nav-menu>
        <Link to="/app" rel="home">
          CAPI Relay
        </Link>
      </ui-nav-menu>
      <Outlet />
    </AppProvider>
  );
}

// Shopify's auth answers with thrown Responses (bounce page, exit-iframe); boundary renders them.
export function ErrorBoundary() {
  return boundary.error(useRouteError());
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
