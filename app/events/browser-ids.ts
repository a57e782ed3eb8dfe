// The browser's identifiers travel to the server order as cart attributes, written by our
// theme app embed (Shopify turns cart attributes into the order's `note_attributes`). These
// names are the contract between extensions/ and this module; the formats of the values are
// Meta's (app/meta/browser-ids.ts).
import { fbcFromClickId, fbclidFrom, isValidFbc, isValidFbp } from "../meta/browser-ids";
import { PIXEL_ID_PATTERN } from "../meta/pixel-id";
import type { Note } from "./outcome";

export const CART_ATTRIBUTE = {
  fbp: "_fbp",
  fbc: "_fbc",
  consent: "_capi_consent",
  userAgent: "_capi_ua",
  /** The pixels the embed fired, written only while the theme editor's own pixel field overrides the app's list. */
  embedPixels: "_capi_pixels",
} as const;

export type NoteAttributes = ReadonlyArray<{ name: string; value: string | null }> | null | undefined;

export function noteAttribute(attributes: NoteAttributes, name: string): string | undefined {
  const value = attributes?.find((a) => a.name === name)?.value?.trim();
  return value ? value : undefined;
}

export interface BrowserIds {
  fbp?: string;
  fbc?: string;
  /** Why an identifier we were given was left out (malformed values make Meta reject events). */
  dropped: Note[];
}

export function browserIds(
  attributes: NoteAttributes,
  landingSite: string | null | undefined,
  conversionMs: number,
): BrowserIds {
  const dropped: Note[] = [];
  const fbpRaw = noteAttribute(attributes, CART_ATTRIBUTE.fbp);
  const fbcRaw = noteAttribute(attributes, CART_ATTRIBUTE.fbc);
  const fbp = fbpRaw && isValidFbp(fbpRaw) ? fbpRaw : undefined;
  if (fbpRaw && !fbp) dropped.push({ code: "malformed_fbp", message: "malformed _fbp cart attribute" });
  let fbc = fbcRaw && isValidFbc(fbcRaw) ? fbcRaw : undefined;
  if (fbcRaw && !fbc) dropped.push({ code: "malformed_fbc", message: "malformed _fbc cart attribute" });
  if (!fbc) {
    const fbclid = fbclidFrom(landingSite);
    if (fbclid) fbc = fbcFromClickId(fbclid, conversionMs);
  }
  return { fbp, fbc, dropped };
}

export interface Consent {
  marketing?: boolean;
  analytics?: boolean;
  saleOfData?: boolean;
}

/**
 * The consent state our embed records from `window.Shopify.customerPrivacy`, written as
 * "marketing=1;analytics=1;sale_of_data=0". Unknown or absent keys stay undefined: absence
 * of a record is not a refusal.
 */
export function parseConsent(attributes: NoteAttributes): Consent {
  const raw = noteAttribute(attributes, CART_ATTRIBUTE.consent);
  if (!raw) return {};
  const consent: Consent = {};
  // Pairs separated by ";", "&" or ","; in "key=value=more" the value is "value".
  for (const pair of raw.split(/[;&,]/)) {
    const [key, value] = pair.split("=").map((s) => s.trim().toLowerCase());
    const flag =
      value === "1" || value === "true" || value === "granted"
        ? true
        : value === "0" || value === "false" || value === "denied"
          ? false
          : undefined;
    if (flag === undefined) continue;
    if (key === "marketing") consent.marketing = flag;
    else if (key === "analytics") consent.analytics = flag;
    else if (key === "sale_of_data") consent.saleOfData = flag;
  }
  return consent;
}

/**
 * The embed's pixels when the theme's own field overrode the app's list (the `_capi_pixels`
 * attribute): a note on the event, which the admin shows, since browser and server events then
 * go to different pixels. Only pixel ids are kept (at most 10), nothing else of the value.
 */
export function embedPixelNotes(attributes: NoteAttributes): Note[] {
  const ids = (noteAttribute(attributes, CART_ATTRIBUTE.embedPixels) ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter((id) => PIXEL_ID_PATTERN.test(id))
    .slice(0, 10);
  if (ids.length === 0) return [];
  return [
    {
      code: "embed_pixel_override",
      message: `the theme app embed fired Meta pixel ${ids.join(", ")} from its own "Meta pixel ID (override)" field, not the pixels connected in the app`,
    },
  ];
}
