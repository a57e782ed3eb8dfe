// A stacked bar chart drawn as plain SVG, server-rendered with the page (no chart script to load,
// nothing to lay out after hydration), and the same numbers as a table: hidden visually but read
// by screen readers, or shown with the toggle, which the keyboard reaches like any button.
import { useId, useState, type CSSProperties, type ReactNode } from "react";
import { BlockStack, Box, Button, DataTable, InlineStack, Text } from "@shopify/polaris";

export interface StackedSeries {
  id: string;
  label: string;
  /** A CSS color (Polaris tokens), paired with the label in the legend. */
  color: string;
}

export interface StackedBar {
  label: string;
  values: Record<string, number>;
}

const VISUALLY_HIDDEN: CSSProperties = {
  position: "absolute",
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: "hidden",
  clip: "rect(0, 0, 0, 0)",
  whiteSpace: "nowrap",
  border: 0,
};

const HEIGHT = 120;
const BAR = 10;
const GAP = 2;

/** `summary`: one sentence read in place of the picture (the table holds the rest). */
export function StackedBars({
  title,
  summary,
  series,
  bars,
  firstColumn,
}: {
  title: string;
  summary: string;
  series: StackedSeries[];
  bars: StackedBar[];
  firstColumn: string;
}) {
  const [showTable, setShowTable] = useState(false);
  const id = useId();
  const max = Math.max(1, ...bars.map((b) => series.reduce((sum, s) => sum + (b.values[s.id] ?? 0), 0)));
  const width = bars.length * (BAR + GAP);
  const table = (
    <DataTable
      columnContentTypes={["text", ...series.map(() => "numeric" as const), "numeric"]}
      headings={[firstColumn, ...series.map((s) => s.label), "Total"]}
      rows={bars.map((b) => [
        b.label,
        ...series.map((s) => b.values[s.id] ?? 0),
        series.reduce((sum, s) => sum + (b.values[s.id] ?? 0), 0),
      ])}
      increasedTableDensity
    />
  );
  return (
    <BlockStack gap="200">
      <InlineStack align="space-between" blockAlign="center" gap="200">
        <Text as="h3" variant="headingSm" id={`${id}-title`}>
          {title}
        </Text>
        <Button
          variant="plain"
          onClick={() => setShowTable((v) => !v)}
          ariaExpanded={showTable}
          ariaControls={`${id}-table`}
        >
          {showTable ? "Hide table" : "Show as table"}
        </Button>
      </InlineStack>
      <svg
        role="img"
        aria-labelledby={`${id}-title ${id}-summary`}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        preserveAspectRatio="none"
        width="100%"
        height={HEIGHT}
        style={{ display: "block" }}
      >
        <desc id={`${id}-summary`}>{summary}</desc>
        <line x1={0} x2={width} y1={HEIGHT - 0.5} y2={HEIGHT - 0.5} stroke="var(--p-color-border)" strokeWidth={1} />
        {bars.map((b, i) => {
          let y = HEIGHT;
          return (
            <g key={b.label}>
              {series.map((s) => {
                const v = b.values[s.id] ?? 0;
                if (v === 0) return null;
                const h = (v / max) * (HEIGHT - 4);
                y -= h;
                return (
                  <rect key={s.id} x={i * (BAR + GAP)} y={y} width={BAR} height={h} fill={s.color}>
                    <title>{`${b.label}: ${v} ${s.label.toLowerCase()}`}</title>
                  </rect>
                );
              })}
            </g>
          );
        })}
      </svg>
      {bars.length > 1 && (
        <InlineStack align="space-between">
          <Text as="span" variant="bodySm" tone="subdued">
            {bars[0]!.label}
          </Text>
          <Text as="span" variant="bodySm" tone="subdued">
            {bars[bars.length - 1]!.label}
          </Text>
        </InlineStack>
      )}
      <Legend series={series} />
      <div id={`${id}-table`} style={showTable ? undefined : VISUALLY_HIDDEN}>
        {table}
      </div>
    </BlockStack>
  );
}

export function Legend({ series }: { series: StackedSeries[] }) {
  return (
    <InlineStack gap="300" wrap>
      {series.map((s) => (
        <InlineStack key={s.id} gap="100" blockAlign="center" wrap={false}>
          <Swatch color={s.color} />
          <Text as="span" variant="bodySm">
            {s.label}
          </Text>
        </InlineStack>
      ))}
    </InlineStack>
  );
}

function Swatch({ color }: { color: string }) {
  return (
    <span
      aria-hidden
      style={{ display: "inline-block", width: 10, height: 10, borderRadius: 2, background: color, flex: "none" }}
    />
  );
}

/** One horizontal stacked bar per row (an event name, a destination), its numbers written beside it. */
export function StackedRows({
  series,
  rows,
}: {
  series: StackedSeries[];
  rows: Array<{ label: string; values: Record<string, number>; total: number; note?: ReactNode }>;
}) {
  const max = Math.max(1, ...rows.map((r) => r.total));
  return (
    <BlockStack gap="200">
      {rows.map((r) => (
        <BlockStack key={r.label} gap="100">
          <InlineStack align="space-between" gap="200" wrap={false}>
            <Text as="span" breakWord>
              {r.label}
            </Text>
            <Text as="span" numeric>
              {r.total}
            </Text>
          </InlineStack>
          <div aria-hidden style={{ display: "flex", height: 8, width: `${(r.total / max) * 100}%`, minWidth: 2 }}>
            {series.map((s) =>
              (r.values[s.id] ?? 0) > 0 ? (
                <span key={s.id} style={{ flex: r.values[s.id], background: s.color }} />
              ) : null,
            )}
          </div>
          <Box>
            <Text as="p" variant="bodySm" tone="subdued">
              {series
                .filter((s) => (r.values[s.id] ?? 0) > 0)
                .map((s) => `${s.label} ${r.values[s.id]}`)
                .join(" · ")}
              {r.note}
            </Text>
          </Box>
        </BlockStack>
      ))}
    </BlockStack>
  );
}
