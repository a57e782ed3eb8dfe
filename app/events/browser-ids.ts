// The browser's identifiers travel to the server order as cart attributes, written by our
// theme app embed (Shopify turns cart attributes into the order's `note_attributes`). These
// names are the contract between extensions/ and this module; the formats of the values are
// Meta's (app/meta/browser-ids.ts).
import { fbcFromClickId, fbclidFrom, isValidFbc, isValidFbp } from "../meta/browser-ids";
import type { Note } from "./outcome";

export const CART_ATTRIBUTE = {
  fbp: "_fbp",
  fbc: "_fbc",
  consent: "_capi_consent",
  userAgent: "_capi_ua",
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
