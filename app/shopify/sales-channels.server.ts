// Reading from Shopify whether Meta's Facebook & Instagram channel is installed, at most every
// 6 hours per shop (kept on the Shop row), for the Overview's warning. Never throws: without the
// read_publications grant, or when Shopify does not answer, the Overview shows no warning.
import type { PrismaClient } from "@prisma/client";
import { listDestinations } from "../pipeline/destinations.server";
import { connectionPages, type AdminGraphql } from "./admin-graphql";
import {
  APP_PUBLICATIONS_QUERY,
  appPublicationSchema,
  isMetaChannelName,
  metaChannelCheckDue,
  metaChannelWarning,
  SALES_CHANNEL_MAX_PAGES,
  SALES_CHANNEL_PAGE_SIZE,
  SALES_CHANNEL_SCOPES,
  type MetaChannelWarning,
} from "./sales-channels";
import { missingScopes } from "./web-pixel";
import type { ShopifyAccess } from "./web-pixel.server";

/** Whether one of the shop's sales channels is Meta's; throws what Shopify's answer threw. */
export async function readMetaChannelInstalled(graphql: AdminGraphql): Promise<boolean> {
  let pages = 0;
  for await (const nodes of connectionPages(graphql, APP_PUBLICATIONS_QUERY, "publications", {
    first: SALES_CHANNEL_PAGE_SIZE,
  })) {
    if (nodes.some((node) => isMetaChannelName(appPublicationSchema.safeParse(node).data?.name))) return true;
    if (++pages >= SALES_CHANNEL_MAX_PAGES) break;
  }
  return false;
}

/** What was last read for the shop, without calling Shopify (the CLI's view). JSON-safe. */
export async function loadMetaChannelState(
  prisma: PrismaClient,
  shop: string,
): Promise<{ installed: boolean | null; checkedAt: string | null }> {
  const row = await prisma.shop.findUnique({
    where: { shop },
    select: { metaChannelInstalled: true, metaChannelCheckedAt: true },
  });
  return { installed: row?.metaChannelInstalled ?? null, checkedAt: row?.metaChannelCheckedAt?.toISOString() ?? null };
}

/**
 * The Overview's warning for the shop: reads Shopify when the last read is 6 hours old (or
 * none), only for a shop that granted read_publications and has a pixel. A failed read keeps
 * what was known and waits the same 6 hours, so a refusal does not cost a call per page load.
 */
export async function loadMetaChannelWarning(
  prisma: PrismaClient,
  access: ShopifyAccess,
  shop: string,
  now = new Date(),
): Promise<MetaChannelWarning | null> {
  // A shop installed before the scope was asked for: nothing to read until the merchant approves it.
  if (missingScopes(access.grantedScopes, SALES_CHANNEL_SCOPES).length > 0) return null;
  const [state, destinations] = await Promise.all([
    prisma.shop.findUnique({
      where: { shop },
      select: { metaChannelInstalled: true, metaChannelCheckedAt: true, uninstalledAt: true },
    }),
    listDestinations(prisma, shop),
  ]);
  if (destinations.length === 0) return null;
  let installed = state?.metaChannelInstalled ?? null;
  if (metaChannelCheckDue(state, now)) {
    try {
      installed = await readMetaChannelInstalled(access.graphql);
    } catch (error) {
      console.warn(`${shop}: sales channels read failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const data = { metaChannelInstalled: installed, metaChannelCheckedAt: now };
    await prisma.shop.upsert({ where: { shop }, create: { shop, ...data }, update: data });
  }
  return metaChannelWarning(installed, destinations);
}
