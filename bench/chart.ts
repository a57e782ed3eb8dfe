// The report's chart: six small panels drawn as one SVG, rasterised to PNG by Debian's
// Chromium through playwright-core (no network, no downloaded browser).
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";
import type { BurstResult } from "./burst";
import type { LatencyResult } from "./latency";
import type { ScalingResult } from "./scaling";
import { P99_TARGET_MS } from "./report";

const W = 560;
const H = 380;
const M = { left: 64, right: 16, top: 44, bottom: 58 };
const OURS = "#2a6fdb";
const NAIVE = "#e0622a";
const GREY = "#8a8f98";
const EXTRA = ["#2a6fdb", "#17a673", "#9b51e0", "#d4a017"];

interface Series {
  name: string;
  color: string;
  values: number[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function label(v: number): string {
  if (v === 0) return "0";
  if (v >= 10_000) return `${Math.round(v / 1000)}k`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  if (v >= 10) return String(Math.round(v));
  return v.toFixed(v >= 1 ? 1 : 2);
}

/** Axis ticks: powers of ten on a log axis, about five round steps on a linear one. */
function ticks(max: number, log: boolean, min = 1): number[] {
  if (log) {
    const out: number[] = [];
    for (let t = 10 ** Math.floor(Math.log10(min)); t <= max * 1.0001; t *= 10) out.push(t);
    return out;
  }
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
}

function frame(
  title: string,
  body: string,
  legend: Array<{ name: string; color: string; dashed?: boolean }>,
  xLabel: string,
  yLabel: string,
): string {
  const items = legend
    .map((l, i) => {
      const x = M.left + i * 150;
      const line = l.dashed ? `stroke-dasharray="5 4"` : "";
      return `<line x1="${x}" y1="${H - 14}" x2="${x + 18}" y2="${H - 14}" stroke="${l.color}" stroke-width="4" ${line}/><text x="${x + 24}" y="${H - 10}" font-size="12">${esc(l.name)}</text>`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif">
<rect width="${W}" height="${H}" fill="#fff" stroke="#d9dce1"/>
<text x="${M.left - 50}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>
<text x="${(M.left + W - M.right) / 2}" y="${H - 30}" font-size="11" text-anchor="middle" fill="#444">${esc(xLabel)}</text>
<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" font-size="11" text-anchor="middle" fill="#444">${esc(yLabel)}</text>
${body}${items}</svg>`;
}

function empty(title: string, why: string): string {
  return frame(
    title,
    `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="13" fill="${GREY}">${esc(why)}</text>`,
    [],
    "",
    "",
  );
}

function yAxis(
  max: number,
  log: boolean,
  min: number,
  format: (v: number) => string,
): { y: (v: number) => number; svg: string } {
  const top = M.top;
  const bottom = H - M.bottom;
  // A bar at the axis minimum would have no height: start a little below the smallest value.
  const lo = log ? 10 ** Math.floor(Math.log10(min) - 0.3) : 0;
  const step = ticks(max * 1.08, false)[1] ?? 1;
  const hi = log ? 10 ** Math.ceil(Math.log10(Math.max(max * 1.3, min * 10))) : step * Math.ceil((max * 1.08) / step);
  const y = (v: number) =>
    log
      ? bottom - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (bottom - top)
      : bottom - (v / hi) * (bottom - top);
  const svg = ticks(hi, log, lo)
    .map(
      (t) =>
        `<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eceef1"/><text x="${M.left - 6}" y="${y(t) + 4}" font-size="11" text-anchor="end" fill="#555">${format(t)}</text>`,
    )
    .join("");
  return {
    y,
    svg:
      svg +
      `<line x1="${M.left}" x2="${M.left}" y1="${top}" y2="${bottom}" stroke="#999"/><line x1="${M.left}" x2="${W - M.right}" y1="${bottom}" y2="${bottom}" stroke="#999"/>`,
  };
}

function bars(
  title: string,
  categories: string[],
  series: Series[],
  o: {
    log?: boolean;
    xLabel: string;
    yLabel: string;
    format?: (v: number) => string;
    target?: { value: number; name: string };
  },
): string {
  const format = o.format ?? label;
  const all = series.flatMap((s) => s.values).filter((v) => v > 0);
  const max = Math.max(1, ...all, o.target?.value ?? 0);
  const min = o.log ? Math.max(0.1, Math.min(...all, o.target?.value ?? Infinity)) : 0;
  const { y, svg } = yAxis(max, o.log ?? false, min, o.log ? (v) => (v >= 1 ? label(v) : String(v)) : format);
  const plotW = W - M.left - M.right;
  const groupW = plotW / categories.length;
  const barW = Math.min(48, (groupW * 0.75) / series.length);
  let body = svg;
  categories.forEach((c, i) => {
    const x0 = M.left + i * groupW + (groupW - barW * series.length) / 2;
    body += `<text x="${M.left + i * groupW + groupW / 2}" y="${H - M.bottom + 16}" font-size="12" text-anchor="middle">${esc(c)}</text>`;
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      const top = y(v);
      const x = x0 + k * barW;
      body += `<rect x="${x + 1}" y="${top}" width="${barW - 2}" height="${Math.max(0, H - M.bottom - top)}" fill="${s.color}"/>`;
      body += `<text x="${x + barW / 2}" y="${top - 4}" font-size="10.5" text-anchor="middle" fill="#222">${esc(format(v))}</text>`;
    });
  });
  const legend = series.map((s) => ({ name: s.name, color: s.color }));
  if (o.target) {
    body += `<line x1="${M.left}" x2="${W - M.right}" y1="${y(o.target.value)}" y2="${y(o.target.value)}" stroke="#c0392b" stroke-dasharray="6 4" stroke-width="1.5"/>`;
    legend.push({ name: o.target.name, color: "#c0392b" });
  }
  return frame(title, body, legend, o.xLabel, o.yLabel);
}

function lines(
  title: string,
  series: Array<{ name: string; color: string; points: Array<[number, number]>; dashed?: boolean }>,
  o: {
    xLabel: string;
    yLabel: string;
    format?: (v: number) => string;
    log?: boolean;
    target?: { value: number; name: string };
  },
): string {
  const maxX = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[0])));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const maxY = Math.max(1, ...ys, o.target?.value ?? 0);
  const minY = o.log ? Math.max(0.1, Math.min(...ys.filter((v) => v > 0), o.target?.value ?? Infinity)) : 0;
  const { y, svg } = yAxis(
    maxY,
    o.log ?? false,
    minY,
    o.log ? (v) => (v >= 1 ? label(v) : String(v)) : (o.format ?? label),
  );
  const x = (v: number) => M.left + (v / maxX) * (W - M.left - M.right);
  let body = svg;
  for (const t of ticks(maxX, false))
    body += `<text x="${x(t)}" y="${H - M.bottom + 16}" font-size="11" text-anchor="middle" fill="#555">${label(t)}</text>`;
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map(([a, b], i) => `${i ? "L" : "M"}${x(a).toFixed(1)},${y(b).toFixed(1)}`).join("");
    body += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.5" ${s.dashed ? `stroke-dasharray="6 4"` : ""}/>`;
  }
  const legend: Array<{ name: string; color: string; dashed?: boolean }> = [...series];
  if (o.target) {
    body += `<line x1="${M.left}" x2="${W - M.right}" y1="${y(o.target.value)}" y2="${y(o.target.value)}" stroke="#c0392b" stroke-dasharray="6 4" stroke-width="1.5"/>`;
    legend.push({ name: o.target.name, color: "#c0392b", dashed: true });
  }
  return frame(title, body, legend, o.xLabel, o.yLabel);
}

const cumulative = (perSecond: number[]): Array<[number, number]> => {
  let total = 0;
  return [[0, 0], ...perSecond.map((n, i): [number, number] => [i + 1, (total += n)])];
};

export function chartSvgs(r: { burst?: BurstResult; latency?: LatencyResult; scaling?: ScalingResult }): string[] {
  const b = r.burst;
  const panels: string[] = [];
  if (b) {
    const q = (run: typeof b.ours) => [
      run.load.latency.p50,
      run.load.latency.p90,
      run.load.latency.p99,
      run.load.latency.max,
    ];
    panels.push(
      bars(
        `Burst: webhook answer latency`,
        ["p50", "p90", "p99", "max"],
        [
          { name: "CAPI Relay", color: OURS, values: q(b.ours) },
          { name: "naive sender", color: NAIVE, values: q(b.naive) },
        ],
        {
          log: true,
          xLabel: `${label(b.options.orders)} orders in ${b.options.seconds} s, latency from when due`,
          yLabel: "ms (log scale)",
          target: { value: P99_TARGET_MS, name: `p99 target ${P99_TARGET_MS} ms` },
        },
      ),
    );
    const offered: Array<[number, number]> = [
      [0, 0],
      [b.options.seconds, b.options.orders],
    ];
    panels.push(
      lines(
        `Burst: events at Meta`,
        [
          { name: "webhooks offered", color: GREY, points: offered, dashed: true },
          { name: "CAPI Relay", color: OURS, points: cumulative(b.ours.arrivalsPerSecond) },
          { name: "naive sender", color: NAIVE, points: cumulative(b.naive.arrivalsPerSecond) },
        ],
        { xLabel: "seconds since the first webhook", yLabel: "events at Meta (cumulative)" },
      ),
    );
    const p99 = (run: typeof b.ours) => run.load.perSecond.map((x): [number, number] => [x.second + 0.5, x.p99]);
    panels.push(
      lines(
        `Burst: answer p99, second by second`,
        [
          { name: "CAPI Relay", color: OURS, points: p99(b.ours) },
          { name: "naive sender", color: NAIVE, points: p99(b.naive) },
        ],
        {
          log: true,
          xLabel: "second of the burst (webhooks due in it)",
          yLabel: "p99 ms (log scale)",
          target: { value: P99_TARGET_MS, name: `${P99_TARGET_MS} ms` },
        },
      ),
    );
    panels.push(
      bars(
        `Burst: Meta requests used`,
        ["Meta requests", "events lost"],
        [
          { name: "CAPI Relay", color: OURS, values: [b.ours.meta.requests, b.ours.lost] },
          { name: "naive sender", color: NAIVE, values: [b.naive.meta.requests, b.naive.lost] },
        ],
        {
          log: true,
          xLabel: `same ${label(b.options.orders)} orders, same Meta`,
          yLabel: "count (log scale)",
          format: (v) => Math.round(v).toLocaleString("en-US"),
        },
      ),
    );
    const oc = b.ours.cpu;
    const nc = b.naive.cpu;
    if (oc && nc) {
      const rows: Array<[string, number, number]> = [
        [
          "app / sender",
          (oc.cores["web processes"] ?? 0) + (oc.cores["worker processes"] ?? 0),
          nc.cores["naive sender"] ?? 0,
        ],
        ["PostgreSQL", oc.cores["postgres"] ?? 0, nc.cores["postgres"] ?? 0],
        ["Meta stand-in", oc.cores["Meta stand-in"] ?? 0, nc.cores["Meta stand-in"] ?? 0],
        ["other work", oc.otherCores, nc.otherCores],
      ];
      panels.push(
        bars(
          `Burst: CPU used (of ${oc.machineCores} cores)`,
          rows.map((r) => r[0]),
          [
            { name: "CAPI Relay run", color: OURS, values: rows.map((r) => r[1]) },
            { name: "naive run", color: NAIVE, values: rows.map((r) => r[2]) },
          ],
          {
            xLabel: "app = web + worker processes; other work = not this benchmark",
            yLabel: "cores",
            format: (v) => v.toFixed(2),
          },
        ),
      );
    } else panels.push(empty("Burst: CPU used", "not measured"));
  } else {
    panels.push(
      empty("Burst: webhook answer latency", "burst not run"),
      empty("Burst: events at Meta", "burst not run"),
      empty("Burst: answer p99, second by second", "burst not run"),
      empty("Burst: Meta requests", "burst not run"),
      empty("Burst: CPU used", "burst not run"),
    );
  }
  const l = r.latency;
  panels.push(
    l
      ? bars(
          `Answer latency by offered rate`,
          l.steps.map((s) => s.label.replace(/ \(.*\)/, "")),
          [
            { name: "p50", color: "#7fb0f0", values: l.steps.map((s) => s.load.latency.p50) },
            { name: "p99", color: OURS, values: l.steps.map((s) => s.load.latency.p99) },
          ],
          {
            log: true,
            xLabel: "webhooks offered per second (max: closed loop)",
            yLabel: "ms (log scale)",
            target: { value: P99_TARGET_MS, name: `target ${P99_TARGET_MS} ms` },
          },
        )
      : empty("Answer latency by offered rate", "latency not run"),
  );
  const s = r.scaling;
  panels.push(
    s
      ? bars(
          `Events/s by worker processes (${s.cpus} cores)`,
          s.steps.map((x) => `${x.workers}`),
          [
            { name: "end to end", color: OURS, values: s.steps.map((x) => x.eventsPerSecond) },
            { name: "backlog drain", color: "#17a673", values: s.steps.map((x) => x.drain.eventsPerSecond) },
          ],
          { xLabel: "worker processes", yLabel: "events per second" },
        )
      : empty("Events/s by worker processes", "scaling not run"),
  );
  const mem = b?.ours.memory;
  panels.push(
    mem
      ? lines(
          `Memory during the burst (RSS)`,
          [
            ...(mem.series[0]?.workersMiB ?? []).map((_, k) => ({
              name: `worker ${k + 1}`,
              color: EXTRA[k % EXTRA.length]!,
              points: mem.series.map((p): [number, number] => [p.t / 1000, p.workersMiB[k] ?? 0]),
            })),
            {
              name: "web (all)",
              color: GREY,
              points: mem.series.map((p): [number, number] => [p.t / 1000, p.webMiB]),
              dashed: true,
            },
          ],
          { xLabel: "seconds since the first webhook", yLabel: "MiB" },
        )
      : empty("Memory during the burst", "burst not run"),
  );
  return panels;
}

export async function renderChart(
  r: { burst?: BurstResult; latency?: LatencyResult; scaling?: ScalingResult },
  file: string,
): Promise<void> {
  const panels = chartSvgs(r);
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#fff}#grid{display:grid;grid-template-columns:repeat(4,${W}px);gap:12px;padding:12px;width:max-content}
svg{display:block}</style></head><body><div id="grid">${panels.join("")}</div></body></html>`;
  writeFileSync(file.replace(/\.png$/, ".html"), html);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 4 * W + 60, height: 2 * H + 36 }, deviceScaleFactor: 1 });
    await page.route(/^https?:/, (route) => route.abort());
    await page.setContent(html);
    await page.locator("#grid").screenshot({ path: file });
  } finally {
    await browser.close();
  }
}
