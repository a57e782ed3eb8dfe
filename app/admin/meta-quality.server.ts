// Meta's numbers beside ours, per destination and event name: what the Overview's Meta quality
// card and `capi quality` show. Meta's are the last Dataset Quality answer stored
// (app/pipeline/dataset-quality.server.ts); ours the match-key coverage counted over the shop's
// events (./accepted-coverage.server.ts). Read for one shop only.
import type { PrismaClient } from "@prisma/client";
import { MATCH_KEY_FIELDS, type EmqRating } from "../meta/dataset-quality";
import { loadDatasetQuality, type StoredQuality } from "../pipeline/dataset-quality.server";
import { listDestinations } from "../pipeline/destinations.server";
import {
  COVERAGE_KEYS,
  COVERAGE_WINDOW_DAYS,
  loadAcceptedCoverage,
  type CoverageKey,
} from "./accepted-coverage.server";

/** The merchant's words for each user_data key, in COVERAGE_KEYS order. */
export const COVERAGE_KEY_LABELS: Record<CoverageKey, string> = {
  em: "Email",
  ph: "Phone number",
  fn: "First name",
  ln: "Last name",
  ct: "City",
  st: "State or province",
  zp: "ZIP or postal code",
  country: "Country",
  external_id: "External ID (customer)",
  fbp: "Browser ID (fbp)",
  fbc: "Click ID (fbc)",
  client_ip_address: "IP address",
  client_user_agent: "User agent",
};

const IDENTIFIER_OF = Object.fromEntries(Object.entries(MATCH_KEY_FIELDS).map(([id, field]) => [field, id]));

export interface QualityKeyRow {
  key: CoverageKey;
  label: string;
  /** Share of our events carrying it (percent), or null when we counted none. */
  ours: number | null;
  /** Meta's coverage, or null when Meta gave none. */
  meta: number | null;
}

export interface QualityEventRow {
  eventName: string;
  /** Events of ours counted (accepted by Meta in the window, outside Test events). */
  ourEvents: number;
  score: number | null;
  rating: EmqRating | null;
  /** Meta's numbers in plain words (../meta/dataset-quality.ts summarizeEventQuality). */
  lines: string[];
  /** The same beyond the score and the match keys, which the table shows. */
  notes: string[];
  keys: QualityKeyRow[];
}

export interface DestinationQuality {
  destinationId: string;
  name: string;
  pixelId: string;
  status: StoredQuality["status"] | "not-read";
  readAt: string | null;
  attemptedAt: string | null;
  /** Meta's refusal or outage in words, with what to do. */
  message: string | null;
  events: QualityEventRow[];
}

export interface MetaQualityCard {
  windowDays: number;
  destinations: DestinationQuality[];
}

export async function loadMetaQuality(
  prisma: PrismaClient,
  shop: string,
  now: Date = new Date(),
): Promise<MetaQualityCard> {
  const [destinations, stored, coverage] = await Promise.all([
    listDestinations(prisma, shop),
    loadDatasetQuality(prisma, shop),
    loadAcceptedCoverage(prisma, shop, now),
  ]);
  return {
    windowDays: COVERAGE_WINDOW_DAYS,
    destinations: destinations.map((d) => {
      const quality = stored.find((q) => q.destinationId === d.id);
      const ours = coverage.filter((c) => c.destinationId === d.id);
      const names = [...new Set([...ours.map((c) => c.eventName), ...(quality?.events ?? []).map((e) => e.eventName)])];
      names.sort((a, b) => (a === "Purchase" ? -1 : b === "Purchase" ? 1 : a.localeCompare(b)));
      return {
        destinationId: d.id,
        name: d.label || `Pixel ${d.pixelId}`,
        pixelId: d.pixelId,
        status: quality?.status ?? "not-read",
        readAt: quality?.readAt ?? null,
        attemptedAt: quality?.attemptedAt ?? null,
        message: quality?.message ?? null,
        events: names.map((eventName) => {
          const mine = ours.find((c) => c.eventName === eventName);
          const theirs = quality?.events.find((e) => e.eventName === eventName);
          return {
            eventName,
            ourEvents: mine?.events ?? 0,
            score: theirs?.score ?? null,
            rating: theirs?.rating ?? null,
            lines: theirs?.lines ?? [],
            notes: theirs?.notes ?? [],
            keys: COVERAGE_KEYS.map((key) => ({
              key,
              label: COVERAGE_KEY_LABELS[key],
              ours: mine ? mine.percent[key] : null,
              meta: theirs?.matchKeys.find((k) => k.identifier === IDENTIFIER_OF[key])?.percentage ?? null,
            })),
          };
        }),
      };
    }),
  };
}
