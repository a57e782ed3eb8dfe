// Shopify's order status and checkout recovery URLs carry access keys in their query string
// (anyone holding one can open the page, with the buyer's address). Meta only needs the page.
export function pageUrlWithoutSecrets(url: string | null | undefined, fallback: string): string {
  if (!url) return fallback;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return fallback;
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return fallback;
  }
}
