// Connect with Meta (Facebook Login for Business) in the admin: the entry on the Settings
// page's pixel card, the page where the merchant picks the business and pixel after Meta's
// dialog (app/routes/app.connect.tsx), and the banner that warns before the token expires.
// Meta's dialog refuses to be shown in a frame, so it opens at the top of the window (App
// Bridge turns a `_top` window.open inside the admin's frame into a top-level redirect).
import { useEffect, useRef, useState } from "react";
import { useFetcher, useNavigate, useSearchParams } from "@remix-run/react";
import { Banner, BlockStack, Button, Card, ChoiceList, InlineStack, Select, Text } from "@shopify/polaris";
import { showToast } from "./app-bridge";
import type { ConnectResult, ConnectView } from "./connect.server";
import type { DestinationView } from "./dashboard.server";
import { formatTime } from "./format-time";
import { tokenExpiryMessage, type TokenExpiry } from "../meta/token-expiry";

const CONNECT_ROUTE = "/app/connect";

/** Starts a login: the action makes the signed state, then the dialog opens top level. */
function useStartLogin() {
  const fetcher = useFetcher<ConnectResult>({ key: "start-login" });
  const opened = useRef<string | undefined>(undefined);
  const dialogUrl = fetcher.data?.ok ? fetcher.data.dialogUrl : undefined;
  useEffect(() => {
    if (fetcher.state !== "idle" || !dialogUrl || opened.current === dialogUrl) return;
    opened.current = dialogUrl;
    window.open(dialogUrl, "_top");
  }, [fetcher.state, dialogUrl]);
  return {
    start: () => fetcher.submit({ intent: "start-login" }, { method: "post", action: CONNECT_ROUTE }),
    // Until the browser has left for Meta's dialog.
    busy: fetcher.state !== "idle" || !!dialogUrl,
    error: fetcher.data && !fetcher.data.ok ? fetcher.data.formError : undefined,
  };
}

function ConnectButton({ primary = true, label = "Connect with Meta" }: { primary?: boolean; label?: string }) {
  const { start, busy, error } = useStartLogin();
  return (
    <BlockStack gap="200">
      {error && <Banner tone="critical">{error}</Banner>}
      <div>
        <Button variant={primary ? "primary" : "secondary"} onClick={start} loading={busy}>
          {label}
        </Button>
      </div>
    </BlockStack>
  );
}

/** On the Settings page's pixel card: the first way to connect, or why it is not offered here. */
export function ConnectWithMetaEntry({
  available,
  notConfigured,
  connectedVia,
  tokenExpiry,
}: {
  available: boolean;
  notConfigured?: string;
  connectedVia?: string | null;
  tokenExpiry?: TokenExpiry;
}) {
  if (!available)
    return (
      <Text as="p" tone="subdued">
        {notConfigured}
      </Text>
    );
  const viaLogin = connectedVia === "facebook-login";
  const renew = tokenExpiry?.state === "expired" || tokenExpiry?.state === "expiring";
  return (
    <BlockStack gap="200">
      <Text as="p">
        {!viaLogin
          ? "Sign in with Facebook and choose your business and pixel: nothing to copy. Or paste a Conversions API access token below."
          : renew
            ? "Connect with Meta again to renew the connection: you can choose the same pixel."
            : "Connected with Facebook. To renew the connection or choose another pixel, connect again."}
      </Text>
      <ConnectButton primary={!viaLogin || renew} />
    </BlockStack>
  );
}

/** The pick after Meta's dialog: the business, then one of its pixels (datasets). */
export function ConnectWithMetaPage({ view }: { view: ConnectView }) {
  const navigate = useNavigate();
  const [, setSearchParams] = useSearchParams();
  const fetcher = useFetcher<ConnectResult>({ key: "connect-pixel" });
  const discard = useFetcher<ConnectResult>({ key: "discard-login" });
  const [pixelId, setPixelId] = useState<string | undefined>(view.pixels.length === 1 ? view.pixels[0]!.id : undefined);
  const result = fetcher.data;

  useEffect(() => {
    if (view.pixels.length === 1) setPixelId(view.pixels[0]!.id);
    else if (!view.pixels.some((p) => p.id === pixelId)) setPixelId(undefined);
  }, [view.pixels, pixelId]);

  // Connected: said in a toast, and the merchant is back on Settings where the connection shows.
  useEffect(() => {
    if (fetcher.state !== "idle" || !result?.ok || !result.message) return;
    showToast(result.message);
    navigate("/app/settings");
  }, [fetcher.state, result, navigate]);

  if (!view.configured)
    return (
      <Card>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Connect with Meta
          </Text>
          <Text as="p">{view.notConfigured}</Text>
          <div>
            <Button url="/app/settings">Paste an access token in Settings</Button>
          </div>
        </BlockStack>
      </Card>
    );

  const chooseBusiness = (id: string) =>
    setSearchParams((params) => {
      params.set("business", id);
      params.delete("problem");
      return params;
    });

  return (
    <BlockStack gap="500">
      {view.problem && (
        <Banner tone="critical" title="Not connected">
          <p>{view.problem.message}</p>
        </Banner>
      )}
      {!view.pending && (
        <Card>
          <BlockStack gap="300">
            <Text as="h2" variant="headingMd">
              Connect with Meta
            </Text>
            <Text as="p">
              Sign in with Facebook, allow CAPI Relay to send events to your pixel, then come back here to choose the
              business and the pixel (dataset).
            </Text>
            <ConnectButton />
          </BlockStack>
        </Card>
      )}
      {view.pending && view.businesses.length > 0 && (
        <Card>
          <BlockStack gap="400">
            <Text as="h2" variant="headingMd">
              Choose your business and pixel
            </Text>
            <Select
              label="Business"
              options={[
                ...(view.businessId ? [] : [{ label: "Choose a business", value: "" }]),
                ...view.businesses.map((b) => ({ label: b.name ? `${b.name} (${b.id})` : b.id, value: b.id })),
              ]}
              value={view.businessId ?? ""}
              onChange={(id) => id && chooseBusiness(id)}
            />
            {view.pixels.length > 0 && (
              <ChoiceList
                title="Pixel (dataset)"
                choices={view.pixels.map((p) => ({ label: p.name ? `${p.name} (${p.id})` : p.id, value: p.id }))}
                selected={pixelId ? [pixelId] : []}
                onChange={([id]) => setPixelId(id)}
                error={result && !result.ok ? result.fieldErrors.pixelId : undefined}
              />
            )}
            {result && !result.ok && <Banner tone="critical">{result.formError}</Banner>}
            {result?.ok && result.warning && <Banner tone="warning">{result.warning}</Banner>}
            <Text as="p" tone="subdued" variant="bodySm">
              {view.pending.tokenExpiresAt
                ? `Meta gives this connection until ${formatTime(view.pending.tokenExpiresAt)}; the app warns you two weeks before.`
                : "Meta gives this connection no end date."}{" "}
              Choose within the hour, or sign in again.
            </Text>
            <InlineStack gap="300">
              <Button
                variant="primary"
                disabled={!pixelId}
                loading={fetcher.state !== "idle"}
                onClick={() =>
                  pixelId &&
                  fetcher.submit(
                    { intent: "connect-pixel", loginId: view.pending!.loginId, pixelId },
                    { method: "post", action: CONNECT_ROUTE },
                  )
                }
              >
                Connect this pixel
              </Button>
              <Button
                loading={discard.state !== "idle"}
                onClick={() => discard.submit({ intent: "discard-login" }, { method: "post", action: CONNECT_ROUTE })}
              >
                Cancel
              </Button>
            </InlineStack>
          </BlockStack>
        </Card>
      )}
      {view.pending && view.problem && <ConnectButton primary={false} label="Connect with Meta again" />}
    </BlockStack>
  );
}

/** Overview and Settings: the token's end is near, or past; how to reconnect. */
export function TokenExpiryBanner({
  destination,
  settingsUrl,
}: {
  destination: Pick<DestinationView, "tokenExpiry">;
  settingsUrl?: string;
}) {
  const said = tokenExpiryMessage(destination.tokenExpiry);
  if (!said) return null;
  return (
    <Banner
      tone={destination.tokenExpiry.state === "expired" ? "critical" : "warning"}
      title={said.title}
      action={settingsUrl ? { content: "Open settings", url: settingsUrl } : undefined}
    >
      <p>{said.message}</p>
    </Banner>
  );
}
