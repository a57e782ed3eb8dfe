// Shopify's order status and checkout recovery URLs carry access keys in their query string
// (anyone holding one can open the page, with the buyer's address). Meta only needs the page.

// The last page URL built here. validateEvent checks the same string moments later; it was cut
// from a parsed http(s) URL, so it needs no second parse.
let lastBuilt: string | undefined;

export function pageUrlWithoutSecrets(url: string | null | undefined, fallback: string): string {
  if (!url) return fallback;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return fallback;
    lastBuilt = `${parsed.origin}${parsed.pathname}`;
    return lastBuilt;
  } catch {
    return fallback;
  }
}

/** True when `value` is the page URL just built from a parsed http(s) URL: absolute http(s). */
export function isPageUrlJustBuilt(value: string): boolean {
  return value === lastBuilt;
}
