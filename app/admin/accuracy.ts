// The Accuracy page's and the Overview banner's figures, from the stored days: per pixel, per
// day, Shopify's orders, those Meta accepted, the percentage and the gap in plain words. Pure
// (type-only imports of the shell): the page bundles it for the browser.
import {
  accuracyRatio,
  ACCURACY_THRESHOLD,
  gapOf,
  ORDER_FATE_INFO,
  type FateCounts,
  type OrderFate,
} from "../pipeline/accuracy";
import type { AccuracyDayView } from "../pipeline/accuracy.server";

export interface AccuracyRow {
  day: string;
  orders: number;
  /** Accepted by Meta, recovered ones included. */
  accepted: number;
  recovered: number;
  /** Orders meant to reach Meta (all but the held back). */
  expected: number;
  percent: string;
  below: boolean;
  /** The gap, one line per reason, largest first. */
  gap: Array<{ fate: OrderFate; count: number; text: string; reasons: Array<{ reason: string; count: number }> }>;
}

export interface AccuracyPixelView {
  id: string;
  name: string;
  rows: AccuracyRow[];
}

export interface AccuracyAlert {
  pixel: string;
  day: string;
  percent: string;
  /** The largest gaps, in words. */
  gap: string;
}

export interface AccuracyView {
  pixels: AccuracyPixelView[];
  alerts: AccuracyAlert[];
  /** The latest measurement; null: not measured yet. */
  measuredAt: string | null;
  threshold: string;
}

export const formatPercent = (ratio: number | null): string =>
  ratio === null ? "—" : `${(Math.floor(ratio * 1000) / 10).toFixed(ratio === 1 ? 0 : 1)}%`;

/** "2 rejected by Meta": the label in a sentence (its first letter lowercased, Meta's name kept). */
const gapText = (fate: OrderFate, count: number) => {
  const label = ORDER_FATE_INFO[fate].label;
  return `${count} ${label[0]!.toLowerCase()}${label.slice(1)}`;
};

function rowOf(day: AccuracyDayView): AccuracyRow {
  const { expected, accepted, ratio } = accuracyRatio(day.counts);
  return {
    day: day.day,
    orders: day.orders,
    accepted,
    recovered: day.counts.recovered,
    expected,
    percent: formatPercent(ratio),
    below: ratio !== null && ratio < ACCURACY_THRESHOLD,
    gap: gapOf(day.counts).map(({ fate, count }) => ({
      fate,
      count,
      text: gapText(fate, count),
      reasons:
        fate === "held_back"
          ? Object.entries(day.heldBackReasons)
              .map(([reason, n]) => ({ reason, count: n }))
              .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
          : [],
    })),
  };
}

/** Counted gaps other than held back: what keeps the ratio down. */
const shortfall = (counts: FateCounts) => gapOf(counts).filter((g) => g.fate !== "held_back");

export function accuracyView(
  days: readonly AccuracyDayView[],
  pixels: ReadonlyArray<{ id: string; pixelId: string; label: string | null }>,
): AccuracyView {
  const name = (p: { pixelId: string; label: string | null }) => p.label || `pixel ${p.pixelId}`;
  const views = pixels.map((p) => ({
    id: p.id,
    name: name(p),
    rows: days
      .filter((d) => d.destinationId === p.id)
      .sort((a, b) => b.day.localeCompare(a.day))
      .map(rowOf),
  }));
  const alerts: AccuracyAlert[] = [];
  for (const p of pixels) {
    for (const d of days) {
      if (d.destinationId !== p.id) continue;
      const { ratio } = accuracyRatio(d.counts);
      if (ratio === null || ratio >= ACCURACY_THRESHOLD) continue;
      const gap = shortfall(d.counts)
        .slice(0, 3)
        .map((g) => gapText(g.fate, g.count))
        .join(", ");
      alerts.push({ pixel: name(p), day: d.day, percent: formatPercent(ratio), gap });
    }
  }
  alerts.sort((a, b) => b.day.localeCompare(a.day) || a.pixel.localeCompare(b.pixel));
  const measuredAt = days.reduce<string | null>((m, d) => (m === null || d.measuredAt > m ? d.measuredAt : m), null);
  return { pixels: views, alerts, measuredAt, threshold: `${Math.round(ACCURACY_THRESHOLD * 100)}%` };
}
