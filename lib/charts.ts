/**
 * The cookbook's three chart kinds as self-contained SVG strings, drawn with Observable Plot on a
 * server-side DOM (linkedom) so no browser is needed:
 *
 * 1. {@link errorBySizeChart}: error probability bars by tuning size with the summed missing,
 *    misclassified and extended counts as lines on a second axis, "this run" beside "cookbook".
 * 2. {@link errorByGroupChart} with `"countryCount"`: error probability by tuning size, one line per
 *    number of countries asked.
 * 3. {@link errorByGroupChart} with `"continentCount"`: the same per number of continents.
 *
 * Every chart is one `<svg xmlns=…>` with its own title and legend, inline styles and a font stack
 * with Hangul fonts. The same input always gives the same SVG.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { type GroupBy, type GroupSummary, sizeLabel, type SizeSummary } from "./analyze.ts";
import { escapeHtml } from "./html.ts";

/** Font stack set on every chart: Hangul-capable fonts first, then generic sans-serif. */
export const CHART_FONT_STACK =
  '"Noto Sans CJK KR", "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif';

/** Colours shared by charts and the report's legends. */
export const CHART_COLORS = {
  thisRunBar: "#3f6fd8",
  cookbookBar: "#c4ccd9",
  cookbookBarStroke: "#8592a8",
  interval: "#1d2a45",
  missing: "#d64541",
  misclassified: "#e09a1f",
  extended: "#2f9a5a",
  groups: ["#3f6fd8", "#d64541", "#e09a1f", "#2f9a5a", "#8e5ec4", "#6b6b6b", "#17a2b8"],
} as const;

/** Width of every chart in pixels. */
export const CHART_WIDTH = 780;
const WIDTH = CHART_WIDTH;
const PLOT_HEIGHT = 400;
const TITLE_FONT = 15;
const LEGEND_FONT = 12;
const LEGEND_ROW = 20;
const THIS_RUN = "this run";
const COOKBOOK = "cookbook";

/** Label of one group value, e.g. `10개국` or `3개 대륙`. */
export function groupLabel(by: GroupBy, value: number): string {
  return by === "countryCount" ? `${value}개국` : `${value}개 대륙`;
}

/** Chart title for a breakdown (Korean with English in parentheses). */
export function groupChartTitle(model: string, by: GroupBy): string {
  return by === "countryCount"
    ? `${model} 국가 개수별 오류 발생 확률 (error probability by country count)`
    : `${model} 대륙 개수별 오류 발생 확률 (error probability by continent count)`;
}

/** Chart title for {@link errorBySizeChart}. */
export function sizeChartTitle(model: string): string {
  return `${model} 문제 발생 확률 (error probability by tuning size)`;
}

// ---------------------------------------------------------------------------------------------
// Small pure helpers

function bySourceThenSize<T extends { source: string; size: number }>(a: T, b: T): number {
  return a.source === b.source ? a.size - b.size : a.source < b.source ? -1 : 1;
}

/** A "nice" upper bound ≥ max (1, 2, 2.5, 5 × 10^k) and its tick step. */
export function niceMax(max: number): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 1 };
  const target = max / 5;
  const pow = 10 ** Math.floor(Math.log10(target));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= target) ?? 10 * pow;
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}

/** Rough rendered width of a label (Hangul ≈ 1em, others ≈ 0.6em); deterministic layout only. */
function textWidth(text: string, fontSize: number): number {
  let w = 0;
  for (const ch of text) {
    w += /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]/.test(ch)
      ? fontSize * 0.92
      : ch === " "
      ? fontSize * 0.25
      : fontSize * 0.52;
  }
  return w;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

// ---------------------------------------------------------------------------------------------
// Legend and SVG assembly

/** A legend swatch: a bar, a line (dashed, with a dot) or an interval whisker. */
export type Swatch =
  | { kind: "bar"; fill: string; stroke?: string }
  | { kind: "line"; stroke: string; dash?: string; dot?: boolean }
  | { kind: "interval"; stroke: string };

/** One legend entry. */
export interface LegendItem {
  swatch: Swatch;
  label: string;
}

function swatchSvg(s: Swatch, x: number, y: number): string {
  switch (s.kind) {
    case "bar":
      return `<rect x="${x}" y="${y - 6}" width="14" height="12" fill="${s.fill}"${
        s.stroke ? ` stroke="${s.stroke}" stroke-width="1"` : ""
      } />`;
    case "line":
      return `<line x1="${x - 2}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${s.stroke}" ` +
        `stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""} />` +
        (s.dot ? `<circle cx="${x + 8}" cy="${y}" r="3" fill="${s.stroke}" />` : "");
    case "interval":
      return `<line x1="${x + 7}" x2="${x + 7}" y1="${y - 7}" y2="${y + 7}" stroke="${s.stroke}" ` +
        `stroke-width="1.5" /><line x1="${x + 3}" x2="${x + 11}" y1="${y - 7}" y2="${y - 7}" ` +
        `stroke="${s.stroke}" stroke-width="1.5" /><line x1="${x + 3}" x2="${x + 11}" ` +
        `y1="${y + 7}" y2="${y + 7}" stroke="${s.stroke}" stroke-width="1.5" />`;
  }
}

/** Lays out legend rows left to right, wrapping at the chart width. Returns SVG and height. */
function legendSvg(rows: readonly (readonly LegendItem[])[], top: number): {
  svg: string;
  height: number;
} {
  const parts: string[] = [];
  let y = top + LEGEND_ROW / 2;
  for (const row of rows) {
    if (row.length === 0) continue;
    let x = 16;
    for (const item of row) {
      const w = 24 + textWidth(item.label, LEGEND_FONT) + 22;
      if (x > 16 && x + w > WIDTH - 8) {
        x = 16;
        y += LEGEND_ROW;
      }
      parts.push(
        `<g class="legend-item">${swatchSvg(item.swatch, x, y)}<text x="${x + 24}" y="${y}" ` +
          `dy="0.35em" text-anchor="start">${escapeHtml(item.label)}</text></g>`,
      );
      x += w;
    }
    y += LEGEND_ROW;
  }
  return { svg: parts.join(""), height: y - LEGEND_ROW / 2 - top + 4 };
}

/** Wraps a Plot SVG into one self-contained SVG with title and legend above it. */
export function assemble(
  plot: PlotSvg,
  title: string,
  legend: readonly (readonly LegendItem[])[],
  kind: string,
): string {
  const titleHeight = 30;
  const leg = legendSvg(legend, titleHeight);
  const top = titleHeight + leg.height + 4;
  const plotHeight = Number(plot.getAttribute("height"));
  const height = top + plotHeight;
  const plotClass = ["chart-plot", plot.getAttribute("class")].filter(Boolean).join(" ");
  const attrs = ["text-anchor", "font-size", "fill"]
    .map((a) => [a, plot.getAttribute(a)] as const)
    .filter(([, v]) => v !== null)
    .map(([a, v]) => ` ${a}="${escapeHtml(v)}"`)
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-${kind}" ` +
    `width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" ` +
    `aria-label="${escapeHtml(title)}" font-family="${escapeHtml(CHART_FONT_STACK)}" ` +
    `font-size="${LEGEND_FONT}" fill="#222" ` +
    `style="font-family: ${
      escapeHtml(CHART_FONT_STACK)
    }; background: #fff; max-width: 100%; height: auto;">` +
    `<title>${escapeHtml(title)}</title>` +
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#fff" />` +
    `<text x="16" y="21" font-size="${TITLE_FONT}" font-weight="bold" text-anchor="start" ` +
    `fill="#333">${escapeHtml(title)}</text>` +
    `<g class="chart-legend" font-size="${LEGEND_FONT}">${leg.svg}</g>` +
    `<g class="${
      escapeHtml(plotClass)
    }" transform="translate(0,${top})"${attrs}>${plot.innerHTML}</g></svg>`;
}

/** The part of Plot's returned `<svg>` element that {@link assemble} reads (linkedom node). */
export interface PlotSvg {
  getAttribute(name: string): string | null;
  readonly innerHTML: string;
}

type PlotDocument = NonNullable<Plot.PlotOptions["document"]>;

/** A fresh server-side DOM document for Plot to draw into. */
export function newDocument(): PlotDocument {
  const window = parseHTML("<!doctype html><html><body></body></html>") as unknown as {
    document: PlotDocument;
  };
  return window.document;
}

/** A chart saying there is nothing to draw (same frame and title as a real one). */
export function emptyChart(title: string, kind: string, message: string): string {
  const document = newDocument();
  const plot = Plot.plot({
    document,
    width: WIDTH,
    height: 120,
    className: "cb-chart",
    style: { fontFamily: CHART_FONT_STACK, fontSize: "12px", background: "#fff" },
    x: { axis: null },
    y: { axis: null },
    marks: [Plot.frame({ stroke: "#ddd" }), Plot.text([message], { frameAnchor: "middle" })],
  }) as unknown as PlotSvg;
  return assemble(plot, title, [], kind);
}

function indexAxis(labels: readonly string[]): Plot.Markish[] {
  return [
    Plot.axisX(labels.map((_, i) => i), {
      tickFormat: (i: number) => labels[i],
      tickRotate: -35,
      tickSize: 4,
      label: "튜닝 데이터 수 (tuning rows)",
      labelAnchor: "center",
      labelOffset: 62,
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Chart 1: error probability + counts by tuning size

const KIND_LABEL = {
  missing: "누락 국가 수 (missing)",
  misclassified: "오분류 국가 수 (misclassified)",
  extended: "확장 국가 수 (extended)",
} as const;

interface CountPoint {
  i: number;
  y: number;
  count: number;
  kind: "missing" | "misclassified" | "extended";
  source: string;
}

/**
 * Error probability by tuning size for one model: bars (this run filled blue, cookbook light grey,
 * side by side), Wilson 95% interval on this run's bars, and the summed 누락/오분류/확장 counts as
 * lines on a right-hand axis (this run solid with points, cookbook dashed).
 */
export function errorBySizeChart(rows: readonly SizeSummary[], model: string): string {
  const title = sizeChartTitle(model);
  const data = rows.filter((r) => r.model === model).slice().sort(bySourceThenSize);
  if (data.length === 0) return emptyChart(title, "size", `${model}: 데이터 없음 (no data)`);

  const sizes = [...new Set(data.map((r) => r.size))].sort((a, b) => a - b);
  const index = new Map(sizes.map((s, i) => [s, i]));
  const labels = sizes.map((s) => sizeLabel(model, s));
  const ours = data.filter((r) => r.source === THIS_RUN);
  const book = data.filter((r) => r.source === COOKBOOK);
  const both = ours.length > 0 && book.length > 0;
  const half = 0.39;
  // Bars: cookbook on the left half of each slot, this run on the right half (or full width).
  const barOf = (r: SizeSummary) => {
    const i = index.get(r.size)!;
    if (!both) return { ...r, x1: i - half, x2: i + half, cx: i };
    return r.source === COOKBOOK
      ? { ...r, x1: i - half, x2: i - 0.01, cx: i - half / 2 }
      : { ...r, x1: i + 0.01, x2: i + half, cx: i + half / 2 };
  };
  const oursBars = ours.map(barOf);
  const bookBars = book.map(barOf);

  const kinds = ["missing", "misclassified", "extended"] as const;
  const maxCount = Math.max(0, ...data.flatMap((r) => kinds.map((k) => r[k])));
  const nice = niceMax(maxCount);
  const counts: CountPoint[] = data.flatMap((r) =>
    kinds.map((kind) => ({
      i: index.get(r.size)!,
      y: r[kind] / nice.max,
      count: r[kind],
      kind,
      source: r.source,
    }))
  );
  const countTicks: number[] = [];
  for (let t = 0; t <= nice.max + 1e-9; t += nice.step) countTicks.push(Math.round(t * 1e6) / 1e6);
  const intervals = oursBars.filter((r) =>
    Number.isFinite(r.errorLow) && Number.isFinite(r.errorHigh)
  );
  const capHalf = 0.07;

  const countColor = {
    domain: [...kinds],
    range: [CHART_COLORS.missing, CHART_COLORS.misclassified, CHART_COLORS.extended],
  };
  const document = newDocument();
  const plot = Plot.plot({
    document,
    width: WIDTH,
    height: PLOT_HEIGHT,
    marginLeft: 56,
    marginRight: 64,
    marginTop: 24,
    marginBottom: 86,
    className: "cb-chart",
    style: { fontFamily: CHART_FONT_STACK, fontSize: "12px", background: "#fff" },
    x: { type: "linear", domain: [-0.6, sizes.length - 0.4] },
    y: { domain: [0, 1] },
    color: countColor,
    marks: [
      Plot.gridY({ ticks: 5, stroke: "#000", strokeOpacity: 0.08 }),
      Plot.axisY({
        ticks: 5,
        tickFormat: (d: number) => pct(d),
        label: "↑ 오류 확률 (error probability)",
        labelAnchor: "top",
        anchor: "left",
      }),
      Plot.axisY(countTicks.map((t) => t / nice.max), {
        anchor: "right",
        tickFormat: (d: number) => Math.round(d * nice.max).toLocaleString("en-US"),
        label: "국가 수 (countries) ↑",
        labelAnchor: "top",
      }),
      ...indexAxis(labels),
      Plot.rectY(bookBars, {
        x1: "x1",
        x2: "x2",
        y: "errorRate",
        fill: CHART_COLORS.cookbookBar,
        stroke: CHART_COLORS.cookbookBarStroke,
        strokeWidth: 0.8,
        title: (r: SizeSummary) =>
          `쿡북 (cookbook) ${sizeLabel(model, r.size)}: ${pct(r.errorRate)}`,
      }),
      Plot.rectY(oursBars, {
        x1: "x1",
        x2: "x2",
        y: "errorRate",
        fill: CHART_COLORS.thisRunBar,
        title: (r: SizeSummary) =>
          `이번 실행 (this run) ${sizeLabel(model, r.size)}: ${pct(r.errorRate)} ` +
          `[${pct(r.errorLow)}–${pct(r.errorHigh)}], ${r.errors}/${r.answers}`,
      }),
      Plot.ruleX(intervals, {
        x: "cx",
        y1: "errorLow",
        y2: "errorHigh",
        stroke: CHART_COLORS.interval,
        strokeWidth: 1.2,
      }),
      Plot.ruleY(intervals, {
        y: "errorLow",
        x1: (r: { cx: number }) => r.cx - capHalf,
        x2: (r: { cx: number }) => r.cx + capHalf,
        stroke: CHART_COLORS.interval,
        strokeWidth: 1.2,
      }),
      Plot.ruleY(intervals, {
        y: "errorHigh",
        x1: (r: { cx: number }) => r.cx - capHalf,
        x2: (r: { cx: number }) => r.cx + capHalf,
        stroke: CHART_COLORS.interval,
        strokeWidth: 1.2,
      }),
      Plot.text(oursBars, {
        x: "cx",
        y: (r: SizeSummary) =>
          Number.isFinite(r.errorHigh) ? Math.max(r.errorHigh, r.errorRate) : r.errorRate,
        text: (r: SizeSummary) => pct(r.errorRate),
        dy: -6,
        lineAnchor: "bottom",
        fontSize: 9,
        fill: "#1d2a45",
      }),
      Plot.ruleY([0], { stroke: "#444" }),
      Plot.line(counts.filter((c) => c.source === COOKBOOK), {
        x: "i",
        y: "y",
        z: "kind",
        stroke: "kind",
        strokeWidth: 1.6,
        strokeDasharray: "5,3",
        strokeOpacity: 0.85,
      }),
      Plot.line(counts.filter((c) => c.source === THIS_RUN), {
        x: "i",
        y: "y",
        z: "kind",
        stroke: "kind",
        strokeWidth: 2,
      }),
      Plot.dot(counts.filter((c) => c.source === THIS_RUN), {
        x: "i",
        y: "y",
        fill: "kind",
        r: 2.8,
        title: (c: CountPoint) => `이번 실행 ${KIND_LABEL[c.kind]}: ${c.count}`,
      }),
    ],
  }) as unknown as PlotSvg;

  const legend: LegendItem[][] = [[], []];
  if (ours.length) {
    legend[0].push({
      swatch: { kind: "bar", fill: CHART_COLORS.thisRunBar },
      label: "오류 확률 · 이번 실행 (this run, 왼쪽 축)",
    });
    if (intervals.length) {
      legend[0].push({
        swatch: { kind: "interval", stroke: CHART_COLORS.interval },
        label: "95% 신뢰구간 (Wilson CI)",
      });
    }
  }
  if (book.length) {
    legend[0].push({
      swatch: {
        kind: "bar",
        fill: CHART_COLORS.cookbookBar,
        stroke: CHART_COLORS.cookbookBarStroke,
      },
      label: "오류 확률 · 쿡북 (cookbook)",
    });
  }
  for (const k of kinds) {
    legend[1].push({
      swatch: { kind: "line", stroke: CHART_COLORS[k] },
      label: `${KIND_LABEL[k]} (오른쪽 축)`,
    });
  }
  if (ours.length) {
    legend[1].push({
      swatch: { kind: "line", stroke: "#555", dot: true },
      label: "실선 = 이번 실행",
    });
  }
  if (book.length) {
    legend[1].push({
      swatch: { kind: "line", stroke: "#555", dash: "5,3" },
      label: "점선 = 쿡북",
    });
  }
  return assemble(plot, title, legend, "size");
}

// ---------------------------------------------------------------------------------------------
// Charts 2 and 3: error probability by country / continent count

/**
 * Error probability by tuning size for one model, one line per group value (`by` =
 * `"countryCount"`: 10/15/20/30개국; `"continentCount"`: 2–6개 대륙). This run is drawn solid with
 * points and faint Wilson 95% intervals; cookbook rows (if any) dashed.
 */
export function errorByGroupChart(
  rows: readonly GroupSummary[],
  model: string,
  by: GroupBy,
): string {
  const title = groupChartTitle(model, by);
  const kind = by === "countryCount" ? "country-count" : "continent-count";
  const data = rows.filter((r) => r.model === model && r.by === by).slice().sort((a, b) =>
    bySourceThenSize(a, b) || a.value - b.value
  );
  if (data.length === 0) return emptyChart(title, kind, `${model}: 데이터 없음 (no data)`);

  const sizes = [...new Set(data.map((r) => r.size))].sort((a, b) => a - b);
  const index = new Map(sizes.map((s, i) => [s, i]));
  const values = [...new Set(data.map((r) => r.value))].sort((a, b) => a - b);
  const names = values.map((v) => groupLabel(by, v));
  const colors = values.map((_, k) => CHART_COLORS.groups[k % CHART_COLORS.groups.length]);
  const spread = 0.07;
  const offset = (v: number) => (values.indexOf(v) - (values.length - 1) / 2) * spread;
  const points = data.map((r) => ({
    ...r,
    name: groupLabel(by, r.value),
    x: index.get(r.size)! + (r.source === THIS_RUN ? offset(r.value) : 0),
  }));
  const ours = points.filter((p) => p.source === THIS_RUN);
  const book = points.filter((p) => p.source === COOKBOOK);
  const intervals = ours.filter((p) => Number.isFinite(p.errorLow) && Number.isFinite(p.errorHigh));

  const document = newDocument();
  const plot = Plot.plot({
    document,
    width: WIDTH,
    height: PLOT_HEIGHT,
    marginLeft: 56,
    marginRight: 24,
    marginTop: 24,
    marginBottom: 86,
    className: "cb-chart",
    style: { fontFamily: CHART_FONT_STACK, fontSize: "12px", background: "#fff" },
    x: { type: "linear", domain: [-0.6, sizes.length - 0.4] },
    y: { domain: [0, 1] },
    color: { domain: names, range: colors },
    marks: [
      Plot.gridY({ ticks: 5, stroke: "#000", strokeOpacity: 0.08 }),
      Plot.axisY({
        ticks: 5,
        tickFormat: (d: number) => pct(d),
        label: "↑ 오류 확률 (error probability)",
        labelAnchor: "top",
      }),
      ...indexAxis(sizes.map((s) => sizeLabel(model, s))),
      Plot.ruleY([0], { stroke: "#444" }),
      Plot.ruleX(intervals, {
        x: "x",
        y1: "errorLow",
        y2: "errorHigh",
        stroke: "name",
        strokeOpacity: 0.3,
        strokeWidth: 2.5,
      }),
      Plot.line(book, {
        x: "x",
        y: "errorRate",
        z: "name",
        stroke: "name",
        strokeWidth: 1.6,
        strokeDasharray: "5,3",
        strokeOpacity: 0.85,
      }),
      Plot.line(ours, { x: "x", y: "errorRate", z: "name", stroke: "name", strokeWidth: 2 }),
      Plot.dot(ours, {
        x: "x",
        y: "errorRate",
        fill: "name",
        r: 3,
        title: (p: GroupSummary & { name: string }) =>
          `${p.name} ${sizeLabel(model, p.size)}: ${pct(p.errorRate)} ` +
          `[${pct(p.errorLow)}–${pct(p.errorHigh)}], ${p.errors}/${p.answers}`,
      }),
    ],
  }) as unknown as PlotSvg;

  const legend: LegendItem[][] = [
    names.map((label, k) => ({ swatch: { kind: "line", stroke: colors[k] }, label })),
    [],
  ];
  if (ours.length) {
    legend[1].push({
      swatch: { kind: "line", stroke: "#555", dot: true },
      label: "실선 = 이번 실행 (this run)",
    });
    if (intervals.length) {
      legend[1].push({
        swatch: { kind: "interval", stroke: "#888" },
        label: "옅은 막대 = 95% 신뢰구간 (Wilson CI)",
      });
    }
  }
  if (book.length) {
    legend[1].push({
      swatch: { kind: "line", stroke: "#555", dash: "5,3" },
      label: "점선 = 쿡북 (cookbook)",
    });
  }
  return assemble(plot, title, legend, kind);
}
