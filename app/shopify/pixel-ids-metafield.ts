// The shop's Meta pixel IDs in an app-owned metafield on the app's installation: the theme app
// embed reads it in Liquid (`app.metafields.capi_relay.pixel_ids`), so the browser pixel fires
// the very pixels the server sends to and the web pixel's settings name. Only this app can
// write an AppInstallation's metafields; no access scope is needed for them.
import { z } from "zod";
import type { WebPixelUserError } from "./web-pixel";

export const PIXEL_IDS_METAFIELD = {
  namespace: "capi_relay",
  key: "pixel_ids",
  // Comma-separated, the format of the web pixel's pixelIds setting: one parser reads both.
  type: "single_line_text_field",
} as const;

export const APP_INSTALLATION_QUERY = `#graphql
query CapiRelayAppInstallation {
  currentAppInstallation { id }
}`;

export const PIXEL_IDS_METAFIELD_SET = `#graphql
mutation CapiRelayPixelIdsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { namespace key value }
    userErrors { code field message }
  }
}`;

/** A shop without destinations has no list: the metafield goes (a text metafield cannot be blank). */
export const PIXEL_IDS_METAFIELD_DELETE = `#graphql
mutation CapiRelayPixelIdsDelete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) {
    deletedMetafields { namespace key }
    userErrors { field message }
  }
}`;

const userErrors = z.array(
  z.object({ code: z.string().nullish(), field: z.array(z.string()).nullish(), message: z.string() }),
);

export const appInstallationResponseSchema = z.object({
  data: z.object({ currentAppInstallation: z.object({ id: z.string().min(1) }) }),
});
export const metafieldsSetResponseSchema = z.object({
  data: z.object({
    metafieldsSet: z.object({
      metafields: z.array(z.object({ namespace: z.string(), key: z.string(), value: z.string() })).nullish(),
      userErrors,
    }),
  }),
});
export const metafieldsDeleteResponseSchema = z.object({
  data: z.object({ metafieldsDelete: z.object({ userErrors }) }),
});

/** metafieldsSet's input for the installation `ownerId` and the joined pixel ids. */
export function pixelIdsMetafieldInput(ownerId: string, pixelIds: string) {
  return [{ ownerId, ...PIXEL_IDS_METAFIELD, value: pixelIds }];
}

export function pixelIdsMetafieldIdentifier(ownerId: string) {
  return [{ ownerId, namespace: PIXEL_IDS_METAFIELD.namespace, key: PIXEL_IDS_METAFIELD.key }];
}

/** The merchant's message when Shopify refused the metafield. */
export function metafieldRefusedMessage(errors: Pick<WebPixelUserError, "message">[]): string {
  return `The theme app embed's pixel list could not be saved: Shopify said: “${errors
    .map((e) => e.message.trim())
    .join(" ")}” It is tried again when you open this page.`;
}

/** The merchant's message when the call itself failed. */
export function metafieldUnreachableMessage(detail: string): string {
  return `The theme app embed's pixel list could not be saved: Shopify did not answer (${detail}). It is tried again when you open this page.`;
}
