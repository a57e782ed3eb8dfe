// The embedded app's frame: every /app page is authenticated (token exchange), wrapped in
// App Bridge and Polaris, and gets Shopify's headers and error handling through `boundary`.
// App Bridge's navigation menu lists the pages; while the next page loads, a skeleton shows.
import type { HeadersFunction, LinksFunction, LoaderFunctionArgs } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, Outlet, useLoaderData, useLocation, useNavigation, useRouteError } from "@remix-run/react";
import { boundary } from "@shopify/shopify-app-remix/server";
import { APP_BRIDGE_CSS } from "../admin/app-bridge";
import { AppProvider } from "../admin/app-provider";
import { PageSkeleton } from "../admin/page-skeleton";
import polarisStyles from "@shopify/polaris/build/esm/styles.css";
import { env } from "../config/env.server";
import { authenticate } from "../shopify.server";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: polarisStyles }];

export async function loader({ request }: LoaderFunctionArgs) {
  await authenticate.admin(request);
  // The API key is the app's public client id; App Bridge needs it in the page.
  return json({ apiKey: env().SHOPIFY_API_KEY });
}

/** The app's pages, in App Bridge's navigation menu (the first, rel="home", is the app's name's link). */
const NAV_PAGES = [
  { url: "/app/events", label: "Events" },
  { url: "/app/accuracy", label: "Accuracy" },
  { url: "/app/settings", label: "Settings" },
  { url: "/app/billing", label: "Plans" },
] as const;

export default function App() {
  const { apiKey } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const location = useLocation();
  const changingPage = navigation.state === "loading" && navigation.location.pathname !== location.pathname;
  return (
    <AppProvider isEmbeddedApp apiKey={apiKey}>
      <style>{APP_BRIDGE_CSS}</style>
      <ui-nav-menu>
        <Link to="/app" rel="home">
          Overview
        </Link>
        {NAV_PAGES.map((page) => (
          <Link key={page.url} to={page.url}>
            {page.label}
          </Link>
        ))}
      </ui-nav-menu>
      {changingPage ? <PageSkeleton /> : <Outlet />}
    </AppProvider>
  );
}

// Shopify's auth answers with thrown Responses (bounce page, exit-iframe); boundary renders them.
export function ErrorBoundary() {
  return boundary.error(useRouteError());
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
