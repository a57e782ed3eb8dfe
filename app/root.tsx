/// <reference types="@remix-run/dev" />
// The document around every page. Polaris styles are linked by the routes that use Polaris; no
// web font is loaded (Polaris falls back to the system's fonts), so the admin's pages make no
// request outside the app except App Bridge's script.
import { Links, Meta, Outlet, Scripts, ScrollRestoration } from "@remix-run/react";

export default function Root() {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>CAPI Relay</title>
        <Meta />
        <Links />
      </head>
      <body>
        <Outlet />
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}
