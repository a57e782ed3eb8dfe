// Meta's browser identifiers: the _fbp and _fbc cookie formats, and fbc as Meta builds it from
// an ad click's fbclid. Malformed values make Meta reject the whole request, so both the
// builder (app/events) and the validation before sending (./validate.ts) judge them here.

// fb.<subdomain index>.<creation time ms>.<fbclid or random>, optionally with Meta's appendix.
const FBC = /^fb\.[0-2]\.\d{10,13}\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$/;
const FBP = /^fb\.[0-2]\.\d{10,13}\.\d+(\.[A-Za-z0-9_-]+)?$/;
const FBCLID = /^[A-Za-z0-9_-]{10,500}$/;

export function isValidFbc(value: string): boolean {
  return FBC.test(value);
}

export function isValidFbp(value: string): boolean {
  return FBP.test(value);
}

/** The fbclid of a landing URL or path ("/?fbclid=..."), if it carries a plausible one. */
export function fbclidFrom(landingUrl: string | null | undefined): string | undefined {
  if (!landingUrl) return undefined;
  let url: URL;
  try {
    url = new URL(landingUrl, "https://landing.invalid");
  } catch {
    return undefined;
  }
  const fbclid = url.searchParams.get("fbclid")?.trim();
  return fbclid && FBCLID.test(fbclid) ? fbclid : undefined;
}

/**
 * fbc as Meta defines it when no `_fbc` cookie is known: built from the click id with the
 * time we first saw it. We use the conversion's own timestamp, not "now", so that building
 * the same order twice (retries, reconciliation) yields the same fbc.
 */
export function fbcFromClickId(fbclid: string, firstSeenMs: number): string {
  return `fb.1.${firstSeenMs}.${fbclid}`;
}
