// Whether Meta's own Facebook & Instagram sales channel is installed on a shop, and what the
// Overview says about it. The channel cannot be seen from the storefront (its pixel runs as a
// sandboxed web pixel, and it sends its own Conversions API events with its own event ids), so
// the app asks Shopify: every sales channel has a publication. When the channel shares data with
// one of the pixels CAPI Relay sends to, Meta receives each purchase twice with different event
// ids and counts both. Shopify does not say which pixel the channel uses, so the warning names
// the shop's pixels and leaves the check to the merchant.
import { z } from "zod";

/** `publications` needs read_publications (shopify.dev, GraphQL Admin `publications`), and nothing else here. */
export const SALES_CHANNEL_SCOPES = ["read_publications"] as const;

/** Sales channels are app catalogs; a shop has a handful, so a few pages are plenty. */
export const SALES_CHANNEL_PAGE_SIZE = 50;
export const SALES_CHANNEL_MAX_PAGES = 4;

// `name` is deprecated in favour of `catalog { title }`, but AppCatalog's fields need
// read_products or read_product_listings besides, which the app has no other use for; `name`
// needs read_publications only. Should Shopify drop it, the query fails and no warning shows.
export const APP_PUBLICATIONS_QUERY = `#graphql
query CapiRelayAppPublications($first: Int!, $after: String) {
  publications(first: $first, after: $after, catalogType: APP) {
    pageInfo { hasNextPage endCursor }
    nodes { name }
  }
}`;

export const appPublicationSchema = z.object({ name: z.string().max(500).nullish() });

/**
 * The names Meta's channel has had on Shopify ("Facebook & Instagram"; "Facebook" and
 * "Instagram" before the two merged), compared whole: an unrelated channel with "Facebook" in
 * its name (a product feed) does not share the shop's pixel.
 */
const META_CHANNEL_NAMES = new Set(["facebook & instagram", "facebook and instagram", "facebook", "instagram"]);

export function isMetaChannelName(name: string | null | undefined): boolean {
  if (!name) return false;
  return META_CHANNEL_NAMES.has(name.normalize("NFKC").trim().replace(/\s+/g, " ").toLowerCase());
}

/** Re-read at most this often: installing the channel is rare, and the Overview loads often. */
export const META_CHANNEL_RECHECK_MS = 6 * 3_600_000;

export interface MetaChannelState {
  /** null: never read, or the reads so far failed. */
  metaChannelInstalled: boolean | null;
  metaChannelCheckedAt: Date | null;
  uninstalledAt: Date | null;
}

/**
 * Whether opening the Overview should ask Shopify again: never read, read 6 hours ago or more,
 * read before the latest uninstall (a reinstalled shop may have changed its channels), or read
 * "in the future" (the clock moved back: the age is unknown).
 */
export function metaChannelCheckDue(state: MetaChannelState | null, now: Date): boolean {
  const checkedAt = state?.metaChannelCheckedAt;
  if (!checkedAt) return true;
  const age = now.getTime() - checkedAt.getTime();
  if (age < 0 || age >= META_CHANNEL_RECHECK_MS) return true;
  return state.uninstalledAt !== null && checkedAt.getTime() <= state.uninstalledAt.getTime();
}

export interface ChannelPixel {
  pixelId: string;
  label: string | null;
}

/** What the Overview's banner needs: the shop's pixels the channel may also be sending to. JSON-safe. */
export interface MetaChannelWarning {
  pixels: ChannelPixel[];
}

/** A warning when the channel is known to be installed and the shop sends to at least one pixel. */
export function metaChannelWarning(
  installed: boolean | null,
  pixels: readonly ChannelPixel[],
): MetaChannelWarning | null {
  if (installed !== true || pixels.length === 0) return null;
  return { pixels: pixels.map((p) => ({ pixelId: p.pixelId, label: p.label })) };
}
