// `capi quality`'s text: per pixel and event name, Meta's Event Match Quality and each match
// key's coverage, ours beside Meta's, and Meta's refusal in the merchant's words.
import type { MetaQualityCard } from "../admin/meta-quality.server";

const pct = (n: number | null) => (n === null ? "-" : `${Math.round(n)}%`);

export function qualityText(shop: string, quality: MetaQualityCard): string {
  const out: string[] = [shop];
  if (quality.destinations.length === 0) out.push("No Meta pixel is connected.");
  for (const d of quality.destinations) {
    const when = d.readAt ? `Meta's numbers read ${d.readAt}` : "Meta's numbers not read yet";
    out.push("", `${d.name} (pixel ${d.pixelId}): ${when}`);
    if (d.message) out.push(`  ${d.status === "refused" ? "Meta refuses" : "Not available"}: ${d.message}`);
    if (d.events.length === 0) out.push("  No events yet.");
    for (const e of d.events) {
      const score =
        e.score === null
          ? "no Event Match Quality from Meta"
          : `Event Match Quality ${e.score.toFixed(1)}/10 (${e.rating})`;
      out.push(
        `  ${e.eventName}: ${score}; ${e.ourEvents} of our events accepted in the last ${quality.windowDays} days`,
      );
      out.push(`    ${"match key".padEnd(24)}${"ours".padStart(6)}${"Meta".padStart(6)}`);
      for (const k of e.keys) {
        if (k.ours === null && k.meta === null) continue;
        out.push(`    ${k.label.padEnd(24)}${pct(k.ours).padStart(6)}${pct(k.meta).padStart(6)}`);
      }
      for (const line of e.notes) out.push(`    ${line}`);
    }
  }
  return out.join("\n");
}
