// Each admin page's error boundary. Shopify's auth answers with thrown Responses (the bounce
// page, exit-iframe, 401 for App Bridge to retry) that `boundary.error` renders as Shopify
// means them; anything else failed on our side, and the merchant reads what did not load and
// can try again without reloading the admin.
import { isRouteErrorResponse, useRevalidator, useRouteError } from "@remix-run/react";
import { Banner, BlockStack, Button, Card, Page, Text } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { TitleBar } from "./app-bridge";

export function RouteError({
  what,
  title,
  onRetry,
  retrying,
}: {
  what: string;
  title: string;
  onRetry: () => void;
  retrying: boolean;
}) {
  return (
    <Page>
      <TitleBar title={title} />
      <Card>
        <BlockStack gap="400">
          <Text as="h1" variant="headingMd">
            {`${what} could not be loaded`}
          </Text>
          <Banner tone="critical">
            <p>
              Something went wrong on our side while loading {what.toLowerCase()}. Nothing is lost: orders are still
              received and sent in the background. Press Retry; if it keeps failing, wait a few minutes and reload the
              app.
            </p>
          </Banner>
          <div>
            <Button variant="primary" onClick={onRetry} loading={retrying}>
              Retry
            </Button>
          </div>
        </BlockStack>
      </Card>
    </Page>
  );
}

/** The ErrorBoundary of the page showing `what` ("Your events"), titled `title` in the title bar. */
export function routeErrorBoundary(what: string, title: string) {
  return function ErrorBoundary() {
    const error = useRouteError();
    const revalidator = useRevalidator();
    if (isRouteErrorResponse(error)) return boundary.error(error);
    if (error instanceof Error) console.error(`capi-relay: ${title} page failed:`, error.message);
    return (
      <RouteError
        what={what}
        title={title}
        onRetry={() => revalidator.revalidate()}
        retrying={revalidator.state === "loading"}
      />
    );
  };
}
