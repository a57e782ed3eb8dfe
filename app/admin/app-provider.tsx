// Polaris and App Bridge around the app's pages, with Remix navigation.
//
// Why not `AppProvider` from @shopify/shopify-app-remix/react: its ESM build imports Polaris'
// English strings with an import attribute (`with { type: "json" }`), which the esbuild of
// Remix's classic compiler (0.17) cannot parse, so the browser build fails. This does the
// same job: load App Bridge (embedded only), give Polaris its strings and a Remix link, and
// follow App Bridge's navigation events (nav menu clicks) with Remix's router.
import { forwardRef, useEffect, type AnchorHTMLAttributes, type ReactNode } from "react";
import { Link, useNavigate } from "@remix-run/react";
import { AppProvider as PolarisAppProvider, type AppProviderProps as PolarisAppProviderProps } from "@shopify/polaris";
import englishStrings from "@shopify/polaris/locales/en.json";

export const APP_BRIDGE_URL = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

type LinkComponent = NonNullable<PolarisAppProviderProps["linkComponent"]>;

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> & { url: string; external?: boolean };

const RemixLink = forwardRef<HTMLAnchorElement, LinkProps>(function RemixLink({ url, external, ...rest }, ref) {
  if (external || /^[a-z][a-z0-9+.-]*:/i.test(url)) return <a ref={ref} href={url} {...rest} />;
  return <Link ref={ref} to={url} {...rest} />;
}) as unknown as LinkComponent;

export interface AppProviderProps {
  /** The app's client id; App Bridge reads it from its script tag. */
  apiKey: string;
  /** Inside the Shopify admin (loads App Bridge); false on pages outside it, like login. */
  isEmbeddedApp: boolean;
  children: ReactNode;
}

export function AppProvider({ apiKey, isEmbeddedApp, children }: AppProviderProps) {
  const navigate = useNavigate();

  useEffect(() => {
    const follow = (event: Event) => {
      const href = (event.target as HTMLElement | null)?.getAttribute("href");
      if (href) navigate(href);
    };
    addEventListener("shopify:navigate", follow);
    return () => removeEventListener("shopify:navigate", follow);
  }, [navigate]);

  return (
    <>
      {isEmbeddedApp && <script src={APP_BRIDGE_URL} data-api-key={apiKey} />}
      <PolarisAppProvider i18n={englishStrings} linkComponent={RemixLink}>
        {children}
      </PolarisAppProvider>
    </>
  );
}
