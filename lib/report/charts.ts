/**
 * The charts of the report and the notebooks, as self-contained SVG strings drawn with Observable
 * Plot on a server-side DOM (linkedom), so no browser is needed. One frame for all of them
 * ({@link renderChart}): a title, an optional subtitle and a wrapping legend above the plot, sized
 * for one column of the report ({@link CHART_WIDTH}) with text at its drawn size.
 *
 * The cookbook's three kinds:
 * 1. {@link errorBySizeChart}: error probability bars by tuning size (right axis) with the summed
 *    missing, misclassified and extended counts as lines (left axis), the cookbook's layout.
 * 2. {@link errorByGroupChart} with `"countryCount"`: error probability by tuning size, one line per
 *    number of countries asked.
 * 3. {@link errorByGroupChart} with `"continentCount"`: the same per number of continents.
 *
 * And the notebooks' own: {@link histogramChart} (latency of a batch evaluation) and
 * {@link groupedBarChart} (a dataset's mix). The same input always gives the same SVG.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { type GroupBy, type GroupSummary, sizeLabel, type SizeSummary } from "../analysis/mod.ts";
import { EMBEDDED_FONT_FAMILY } from "./fonts.ts";
import { escapeHtml } from "../io/mod.ts";
import { COUNTRY_TERMS, type TaskTerms } from "../tasks/mod.ts";

/** Font stack of every chart: the report's embedded font first, then system Hangul fonts. */
export const CHART_FONT_STACK = `"${EMBEDDED_FONT_FAMILY}", "Noto Sans CJK KR", ` +
  `"Apple SD Gothic Neo", "Malgun Gothic", sans-serif`;

/** Colours shared by charts and the report's legends. */
export const CHART_COLORS = {
  thisRunBar: "#4a7fe0",
  cookbookBar: "#b8c2d3",
  cookbookMark: "#1f2430",
  interval: "#1d2a45",
  missing: "#d64541",
  misclassified: "#e8a317",
  extended: "#2f9a5a",
  text: "#222",
  muted: "#5b6475",
  groups: ["#3f6fd8", "#d64541", "#e8a317", "#2f9a5a", "#8e5ec4", "#6b6b6b", "#17a2b8"],
} as const;

/** Width of a chart in CSS pixels: one column of the report's two-column figure grid. */
export const CHART_WIDTH = 620;

const PLOT_HEIGHT = 340;
const TITLE_FONT = 16;
const SUBTITLE_FONT = 12;
const LEGEND_FONT = 12;
const TICK_FONT = 12;
const VALUE_FONT = 11;
const LINE_GAP = 6;
const PAD = 12;
const THIS_RUN = "this run";
const COOKBOOK = "cookbook";

/** Label of one group value, e.g. `10개국` or `3개 대륙` (in the task's words). */
export function groupLabel(by: GroupBy, value: number, terms: TaskTerms = COUNTRY_TERMS): string {
  return by === "countryCount" ? terms.items(value) : terms.groups(value);
}

/** Chart title for a breakdown (the cookbook's wording, in the task's words). */
export function groupChartTitle(
  model: string,
  by: GroupBy,
  terms: TaskTerms = COUNTRY_TERMS,
): string {
  return by === "countryCount"
    ? `${model} ${terms.item} 개수별 오류 발생 확률`
    : `${model} ${terms.group} 개수별 오류 발생 확률`;
}

/** Chart title for {@link errorBySizeChart} (the cookbook's wording). */
export function sizeChartTitle(model: string): string {
  return `${model} 문제 발생 확률`;
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

/**
 * A count axis that shares its grid with a 0–100% axis: 4 or 5 equal intervals (so the other axis
 * reads 25% or 20% steps), with a whole-number step from 1, 2, 2.5, 5 × 10^k. Picks the smallest
 * top ≥ `max`.
 */
export function sharedCountAxis(max: number): { max: number; step: number; intervals: 4 | 5 } {
  const top = Math.max(max, 1);
  let best: { max: number; step: number; intervals: 4 | 5 } | null = null;
  for (const intervals of [5, 4] as const) {
    let pow = 10 ** Math.floor(Math.log10(top / intervals));
    let step = 0;
    while (step === 0) {
      step = [1, 2, 2.5, 5, 10].map((m) =>
        m * pow
      ).find((s) => s * intervals >= top && Number.isInteger(s)) ?? 0;
      pow *= 10;
    }
    if (!best || step * intervals < best.max) best = { max: step * intervals, step, intervals };
  }
  return best!;
}

/**
 * Estimated drawn width of a label: Hangul and other wide characters 1 em, capitals 0.7 em,
 * digits and lower case 0.6 em, spaces 0.3 em. It errs wide, so layout built on it leaves gaps
 * rather than overlaps.
 */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    em += c > 0x2000 ? 1 : ch === " " ? 0.3 : /[A-Z%@&mwMW]/.test(ch) ? 0.75 : 0.6;
  }
  return em * fontSize;
}

/** Breaks `text` at spaces into lines no wider than `width` (by {@link textWidth}). */
export function wrapText(text: string, fontSize: number, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, fontSize) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

// ---------------------------------------------------------------------------------------------
// The frame: title, subtitle, legend and plot in one SVG

/** How a legend entry is drawn. */
export type Swatch =
  | { kind: "bar"; fill: string; stroke?: string }
  | { kind: "line"; stroke: string; dash?: string; dot?: boolean }
  | { kind: "interval"; stroke: string }
  | { kind: "mark"; stroke: string };

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
        `stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""} />` +
        (s.dot ? `<circle cx="${x + 8}" cy="${y}" r="3" fill="${s.stroke}" />` : "");
    case "interval":
      return `<path d="M${x + 7},${y - 7}V${y + 7}M${x + 3},${y - 7}H${x + 11}M${x + 3},${y + 7}H${
        x + 11
      }" stroke="${s.stroke}" stroke-width="1.5" fill="none" />`;
    case "mark":
      return `<line x1="${x - 2}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${s.stroke}" ` +
        `stroke-width="2.5" stroke-dasharray="4,2" />`;
  }
}

/** Lays out legend items left to right, wrapping at the chart width. Returns SVG and height. */
function legendSvg(items: readonly LegendItem[], top: number, width: number): {
  svg: string;
  height: number;
} {
  if (items.length === 0) return { svg: "", height: 0 };
  const row = LEGEND_FONT + 8;
  const parts: string[] = [];
  let x = PAD;
  let y = top + row / 2;
  for (const item of items) {
    const w = 24 + textWidth(item.label, LEGEND_FONT) + 16;
    if (x > PAD && x + w > width - PAD) {
      x = PAD;
      y += row;
    }
    parts.push(
      `<g class="legend-item">${swatchSvg(item.swatch, x, y)}<text x="${x + 24}" y="${y}" ` +
        `dy="0.35em">${escapeHtml(item.label)}</text></g>`,
    );
    x += w;
  }
  return { svg: parts.join(""), height: y + row / 2 - top };
}

/** The part of Plot's returned `<svg>` element that the frame reads (linkedom node). */
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

/** The text of a chart's frame: what {@link renderChart} and {@link assemble} put above the plot. */
export interface ChartFrame {
  /** CSS class suffix: the SVG gets `class="chart chart-<kind>"`. */
  kind: string;
  /** Title (bold, first line). */
  title: string;
  /** Smaller second line under the title (wraps at the chart width). */
  subtitle?: string;
  legend?: readonly LegendItem[];
  /** A note under the legend (muted, wraps). */
  note?: string;
}

/** What {@link renderChart} draws. */
export interface ChartSpec extends ChartFrame {
  /** Width of the whole chart (default {@link CHART_WIDTH}). */
  width?: number;
  /** The Plot: everything but `document` and `width`, which the frame sets. */
  plot: Omit<Plot.PlotOptions, "document" | "width">;
}

/**
 * Draws `spec.plot` with Observable Plot and frames it: title, subtitle, legend and note above,
 * all text in {@link CHART_FONT_STACK}. Returns one `<svg xmlns=…>` string with its own
 * `<title>` and inline styles, fit to be written into HTML or shown in a notebook.
 */
export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? CHART_WIDTH;
  const plot = Plot.plot({
    height: PLOT_HEIGHT,
    ...spec.plot,
    document: newDocument(),
    width,
    className: "cb-chart",
    style: { fontFamily: CHART_FONT_STACK, fontSize: `${TICK_FONT}px`, background: "#fff" },
  }) as unknown as PlotSvg;
  return frameSvg(plot, spec);
}

/**
 * Frames a Plot SVG drawn elsewhere (with `document: newDocument()`): title and legend rows above
 * it, as {@link renderChart} does. Legend rows are laid out as one wrapping flow.
 */
export function assemble(
  plot: PlotSvg,
  title: string,
  legend: readonly (readonly LegendItem[])[],
  kind: string,
): string {
  return frameSvg(plot, { kind, title, legend: legend.flat() });
}

function frameSvg(plot: PlotSvg, frame: ChartFrame): string {
  const width = Number(plot.getAttribute("width"));
  const parts: string[] = [];
  let y = PAD;
  const line = (text: string, size: number, attrs: string) => {
    y += size;
    parts.push(`<text x="${PAD}" y="${y}" font-size="${size}"${attrs}>${escapeHtml(text)}</text>`);
    y += LINE_GAP;
  };
  line(frame.title, TITLE_FONT, ` font-weight="bold" fill="#333"`);
  for (const l of wrapText(frame.subtitle ?? "", SUBTITLE_FONT, width - 2 * PAD)) {
    line(l, SUBTITLE_FONT, ` fill="${CHART_COLORS.muted}"`);
  }
  const legend = legendSvg(frame.legend ?? [], y, width);
  if (legend.height) {
    parts.push(`<g class="chart-legend" font-size="${LEGEND_FONT}">${legend.svg}</g>`);
  }
  y += legend.height;
  for (const l of wrapText(frame.note ?? "", LEGEND_FONT - 1, width - 2 * PAD)) {
    line(l, LEGEND_FONT - 1, ` class="chart-note" fill="${CHART_COLORS.muted}"`);
  }
  const top = Math.ceil(y + 2);
  const height = top + Number(plot.getAttribute("height"));
  const plotClass = ["chart-plot", plot.getAttribute("class")].filter(Boolean).join(" ");
  const attrs = ["text-anchor", "font-size", "fill"]
    .map((a) => [a, plot.getAttribute(a)] as const)
    .filter(([, v]) => v !== null)
    .map(([a, v]) => ` ${a}="${escapeHtml(v)}"`)
    .join("");
  const fonts = escapeHtml(CHART_FONT_STACK);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-${escapeHtml(frame.kind)}" ` +
    `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" ` +
    `aria-label="${escapeHtml(frame.title)}" font-family="${fonts}" font-size="${LEGEND_FONT}" ` +
    `fill="${CHART_COLORS.text}" style="font-family: ${fonts}; background: #fff; ` +
    `max-width: 100%; height: auto;">` +
    `<title>${escapeHtml(frame.title)}</title>` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff" />` +
    parts.join("") +
    `<g class="${escapeHtml(plotClass)}" transform="translate(0,${top})"${attrs}>` +
    `${plot.innerHTML}</g></svg>`;
}

/** A chart saying there is nothing to draw (same frame and title as a real one). */
export function emptyChart(title: string, kind: string, message: string): string {
  return renderChart({
    kind,
    title,
    plot: {
      height: 120,
      x: { axis: null },
      y: { axis: null },
      marks: [Plot.frame({ stroke: "#ddd" }), Plot.text([message], { frameAnchor: "middle" })],
    },
  });
}

/** The x axis of the size-indexed charts: one rotated label per tuning size, no title. */
function sizeAxis(labels: readonly string[]): Plot.Markish {
  return Plot.axisX(labels.map((_, i) => i), {
    tickFormat: (i: number) => labels[i],
    tickRotate: -45,
    tickSize: 0,
    tickPadding: 6,
    fontSize: TICK_FONT,
    label: null,
  });
}

/** A vertical value axis: ticks at `ticks` (fractions of the frame), its label centred beside it. */
function valueAxis(
  ticks: readonly number[],
  options: { anchor?: "left" | "right"; tickFormat: (f: number) => string; label: string },
): Plot.Markish {
  return Plot.axisY(ticks, {
    ...options,
    tickSize: 0,
    fontSize: TICK_FONT,
    labelAnchor: "center",
    labelArrow: "none",
    labelOffset: 52,
  });
}

/** Wilson-interval whiskers at `x`: a rule from `errorLow` to `errorHigh`, capped at both ends. */
function whiskerMarks<T extends { errorLow: number; errorHigh: number }>(
  data: readonly T[],
  x: (d: T) => number,
  cap: number,
  style: { stroke: string; strokeWidth: number; strokeOpacity?: number },
): Plot.Markish[] {
  return [
    Plot.ruleX(data, { x, y1: "errorLow", y2: "errorHigh", ...style }),
    ...(["errorLow", "errorHigh"] as const).map((end) =>
      Plot.ruleY(data, { y: end, x1: (d: T) => x(d) - cap, x2: (d: T) => x(d) + cap, ...style })
    ),
  ];
}

/** Whether a Wilson interval is worth drawing: it exists and the point has at least one error. */
function informs(r: { errors: number; errorLow: number; errorHigh: number }): boolean {
  return r.errors > 0 && Number.isFinite(r.errorLow) && Number.isFinite(r.errorHigh);
}

/** A note on the intervals not drawn: the widest upper bound among zero-error points. */
function zeroNote(rows: readonly { errors: number; answers: number; errorHigh: number }[]) {
  const zero = rows.filter((r) => r.errors === 0 && Number.isFinite(r.errorHigh));
  if (zero.length === 0) return "";
  const worst = zero.reduce((a, b) => (b.errorHigh > a.errorHigh ? b : a));
  return `오류 0건인 점은 구간을 생략 (0/${worst.answers} → 95% 상한 ${
    (worst.errorHigh * 100).toFixed(1)
  }%) · intervals are drawn only where errors occurred.`;
}

// ---------------------------------------------------------------------------------------------
// Chart 1: error probability (bars, right axis) and counts (lines, left axis) by tuning size

/** A count's label in the size chart, e.g. `누락 국가 수 (missing)`. */
function kindLabel(kind: typeof KINDS[number], terms: TaskTerms): string {
  const word = { missing: "누락", misclassified: "오분류", extended: "확장" }[kind];
  return `${word} ${terms.item} 수 (${kind})`;
}

const KIND_SHORT = {
  missing: "누락 (missing)",
  misclassified: "오분류 (misclassified)",
  extended: "확장 (extended)",
} as const;

const KINDS = ["missing", "misclassified", "extended"] as const;

/** Below this many pixels of bar under the interval, a bar's value label goes above it. */
const INSIDE_LABEL_MIN = VALUE_FONT + 7;

/**
 * Error probability by tuning size for one model, in the cookbook's layout: bars of this run's
 * error probability on the right axis (0–100%) with their value printed, Wilson 95% whiskers where
 * errors occurred, and the summed 누락/오분류/확장 counts as lines on the left axis. Where the
 * cookbook's published rows are given too, its error probability is a dashed mark on each bar
 * (its counts are in its own figure and the tables). With cookbook rows only, they are the bars.
 */
export function errorBySizeChart(
  rows: readonly SizeSummary[],
  model: string,
  terms: TaskTerms = COUNTRY_TERMS,
): string {
  const title = sizeChartTitle(model);
  const data = rows.filter((r) => r.model === model).slice().sort(bySourceThenSize);
  if (data.length === 0) return emptyChart(title, "size", `${model}: 데이터 없음 (no data)`);

  const sizes = [...new Set(data.map((r) => r.size))].sort((a, b) => a - b);
  const index = new Map(sizes.map((s, i) => [s, i]));
  const ours = data.filter((r) => r.source === THIS_RUN);
  const book = data.filter((r) => r.source === COOKBOOK);
  const mainIsOurs = ours.length > 0;
  const main = mainIsOurs ? ours : book;
  const bars = main.map((r) => {
    const i = index.get(r.size)!;
    return { ...r, i, x1: i - BAR_HALF, x2: i + BAR_HALF };
  });
  const marginTop = 20;
  const marginBottom = 78;
  const view: SizeChartView = {
    model,
    terms,
    index,
    labels: sizes.map((s) => sizeLabel(model, s)),
    bars,
    main,
    book: mainIsOurs ? book : [],
    mainIsOurs,
    barFill: mainIsOurs ? CHART_COLORS.thisRunBar : CHART_COLORS.cookbookBar,
    who: mainIsOurs ? "이번 실행 (this run)" : "쿡북 (cookbook)",
    inner: PLOT_HEIGHT - marginTop - marginBottom,
  };
  return renderChart({
    kind: "size",
    title,
    subtitle:
      `막대: 오류 확률 (error probability, 오른쪽 축) · 선: ${terms.item} 수 (${terms.itemsEn}, 왼쪽 축)`,
    legend: sizeChartLegend(view),
    note: mainIsOurs ? zeroNote(main) : "",
    plot: {
      marginLeft: 66,
      marginRight: 66,
      marginTop,
      marginBottom,
      x: { type: "linear", domain: [-0.6, sizes.length - 0.4], round: true, axis: null },
      y: { domain: [0, 1], round: true, axis: null },
      color: {
        domain: [...KINDS],
        range: [CHART_COLORS.missing, CHART_COLORS.misclassified, CHART_COLORS.extended],
      },
      marks: sizeChartMarks(view),
    },
  });
}

/** Half a bar's width on the size axis (one size per unit). */
const BAR_HALF = 0.36;

/** A bar of the size chart: a size's summary at its place on the axis. */
type SizeBar = SizeSummary & { i: number; x1: number; x2: number };

/** What the size chart's marks and legend are drawn from. */
interface SizeChartView {
  model: string;
  terms: TaskTerms;
  /** Axis position of each size. */
  index: Map<number, number>;
  labels: string[];
  bars: SizeBar[];
  /** The rows drawn as bars: this run's, else the cookbook's. */
  main: SizeSummary[];
  /** The cookbook's rows drawn as dashed marks over this run's bars (none when it has the bars). */
  book: SizeSummary[];
  mainIsOurs: boolean;
  barFill: string;
  who: string;
  /** Height of the plot area in pixels. */
  inner: number;
}

/**
 * Where each bar's value label goes: inside the bar when the bar (or its interval's low end) is
 * tall enough, else above it; never on the cookbook's dashed mark — a label the mark would strike
 * through goes just above the mark (or, inside the bar, just below it when there is room).
 */
function sizeValueLabels(v: SizeChartView) {
  const labelOf = (r: SizeBar) => {
    const floor = informs(r) ? Math.min(r.errorLow, r.errorRate) : r.errorRate;
    return floor * v.inner >= INSIDE_LABEL_MIN
      ? { ...r, inside: true, y: floor }
      : { ...r, inside: false, y: informs(r) ? Math.max(r.errorHigh, r.errorRate) : r.errorRate };
  };
  const bookRate = new Map(v.book.map((r) => [r.size, r.errorRate] as const));
  const clearOfMark = (l: ReturnType<typeof labelOf>) => {
    const mark = bookRate.get(l.size);
    if (mark === undefined || !Number.isFinite(mark)) return l;
    const band = (VALUE_FONT + 6) / v.inner;
    if (!l.inside && mark >= l.y && mark - l.y <= band) return { ...l, y: mark };
    if (l.inside && mark <= l.y && l.y - mark <= band) {
      return mark * v.inner >= INSIDE_LABEL_MIN + VALUE_FONT
        ? { ...l, y: mark }
        : { ...l, inside: false, y: Math.max(mark, informs(l) ? l.errorHigh : l.errorRate) };
    }
    return l;
  };
  return v.bars.map(labelOf).map(clearOfMark);
}

/** The size chart's marks: grid, axes, bars, whiskers, cookbook marks, count lines, labels. */
function sizeChartMarks(v: SizeChartView): Plot.Markish[] {
  const { model, terms, index, bars, main, book } = v;
  const axis = sharedCountAxis(Math.max(0, ...main.flatMap((r) => KINDS.map((k) => r[k]))));
  const fractions = Array.from({ length: axis.intervals + 1 }, (_, k) => k / axis.intervals);
  const counts = main.flatMap((r) =>
    KINDS.map((kind) => ({
      i: index.get(r.size)!,
      y: r[kind] / axis.max,
      count: r[kind],
      kind,
      label: sizeLabel(model, r.size),
    }))
  );
  const valueLabels = sizeValueLabels(v);
  const marks: Plot.Markish[] = [
    Plot.gridY(fractions, { stroke: "#000", strokeOpacity: 0.1 }),
    valueAxis(fractions, {
      anchor: "left",
      tickFormat: (f: number) => Math.round(f * axis.max).toLocaleString("en-US"),
      label: `${terms.item} 수 (${terms.itemsEn})`,
    }),
    valueAxis(fractions, {
      anchor: "right",
      tickFormat: pct,
      label: "오류 확률 (error probability)",
    }),
    sizeAxis(v.labels),
    Plot.rectY(bars, {
      x1: "x1",
      x2: "x2",
      y: "errorRate",
      fill: v.barFill,
      title: (r: SizeSummary) =>
        `${v.who} ${sizeLabel(model, r.size)}: ${pct(r.errorRate)}` +
        (informs(r) ? ` [${pct(r.errorLow)}–${pct(r.errorHigh)}]` : "") +
        `, ${r.errors}/${r.answers}`,
    }),
    ...whiskerMarks(bars.filter(informs), (r) => r.i, 0.1, {
      stroke: CHART_COLORS.interval,
      strokeWidth: 1.2,
    }),
    Plot.ruleY([0], { stroke: "#444" }),
  ];
  if (book.length) {
    marks.push(
      Plot.ruleY(book, {
        y: "errorRate",
        x1: (r: SizeSummary) => index.get(r.size)! - BAR_HALF - 0.06,
        x2: (r: SizeSummary) => index.get(r.size)! + BAR_HALF + 0.06,
        stroke: CHART_COLORS.cookbookMark,
        strokeWidth: 2,
        strokeDasharray: "4,2",
        title: (r: SizeSummary) =>
          `쿡북 (cookbook) ${sizeLabel(model, r.size)}: ${pct(r.errorRate)}`,
      }),
    );
  }
  marks.push(
    Plot.line(counts, { x: "i", y: "y", z: "kind", stroke: "kind", strokeWidth: 2.2 }),
    Plot.dot(counts, {
      x: "i",
      y: "y",
      fill: "kind",
      r: 2.6,
      title: (c: (typeof counts)[number]) => `${c.label} ${kindLabel(c.kind, terms)}: ${c.count}`,
    }),
    Plot.text(valueLabels.filter((l) => l.inside), {
      x: "i",
      y: "y",
      text: (r: SizeSummary) => pct(r.errorRate),
      lineAnchor: "top",
      dy: 4,
      fontSize: VALUE_FONT,
      fontWeight: "bold",
      fill: v.mainIsOurs ? "#fff" : CHART_COLORS.text,
    }),
    Plot.text(valueLabels.filter((l) => !l.inside), {
      x: "i",
      y: "y",
      text: (r: SizeSummary) => pct(r.errorRate),
      lineAnchor: "bottom",
      dy: -4,
      fontSize: VALUE_FONT,
      fontWeight: "bold",
      fill: CHART_COLORS.interval,
    }),
  );
  return marks;
}

/** The size chart's legend: the bars, the interval where any is drawn, the cookbook's marks, the counts. */
function sizeChartLegend(v: SizeChartView): LegendItem[] {
  const legend: LegendItem[] = [
    { swatch: { kind: "bar", fill: v.barFill }, label: `오류 확률 · ${v.who}` },
  ];
  if (v.bars.some(informs)) {
    legend.push({
      swatch: { kind: "interval", stroke: CHART_COLORS.interval },
      label: "95% 신뢰구간",
    });
  }
  if (v.book.length) {
    legend.push({
      swatch: { kind: "mark", stroke: CHART_COLORS.cookbookMark },
      label: "쿡북 오류 확률 (cookbook)",
    });
  }
  for (const k of KINDS) {
    legend.push({
      swatch: { kind: "line", stroke: CHART_COLORS[k], dot: true },
      label: KIND_SHORT[k],
    });
  }
  return legend;
}

// ---------------------------------------------------------------------------------------------
// Charts 2 and 3: error probability by country / continent count

/**
 * Error probability by tuning size for one model, one line per group value (`by` =
 * `"countryCount"`: 10/15/20/30개국; `"continentCount"`: 2–6개 대륙), on a 0–100% axis as in the
 * cookbook. This run is drawn solid with points and Wilson 95% whiskers where errors occurred;
 * cookbook rows (if any) dashed.
 */
export function errorByGroupChart(
  rows: readonly GroupSummary[],
  model: string,
  by: GroupBy,
  terms: TaskTerms = COUNTRY_TERMS,
): string {
  const title = groupChartTitle(model, by, terms);
  const kind = by === "countryCount" ? "country-count" : "continent-count";
  const data = rows.filter((r) => r.model === model && r.by === by).slice().sort((a, b) =>
    bySourceThenSize(a, b) || a.value - b.value
  );
  if (data.length === 0) return emptyChart(title, kind, `${model}: 데이터 없음 (no data)`);

  const sizes = [...new Set(data.map((r) => r.size))].sort((a, b) => a - b);
  const index = new Map(sizes.map((s, i) => [s, i]));
  const values = [...new Set(data.map((r) => r.value))].sort((a, b) => a - b);
  const names = values.map((v) => groupLabel(by, v, terms));
  const colors = values.map((_, k) => CHART_COLORS.groups[k % CHART_COLORS.groups.length]);
  const spread = 0.09;
  const offset = (v: number) => (values.indexOf(v) - (values.length - 1) / 2) * spread;
  const points = data.map((r) => ({
    ...r,
    name: groupLabel(by, r.value, terms),
    x: index.get(r.size)! + (r.source === THIS_RUN ? offset(r.value) : 0),
  }));
  const ours = points.filter((p) => p.source === THIS_RUN);
  const book = points.filter((p) => p.source === COOKBOOK);
  const whiskers = ours.filter(informs);
  const cap = 0.03;
  const ticks = [0, 0.25, 0.5, 0.75, 1];

  const legend: LegendItem[] = names.map((label, k) => ({
    swatch: { kind: "line", stroke: colors[k], dot: ours.length > 0 },
    label,
  }));
  if (ours.length && book.length) {
    legend.push({
      swatch: { kind: "line", stroke: "#555", dot: true },
      label: "실선 = 이번 실행 (this run)",
    });
  }
  if (book.length) {
    legend.push({
      swatch: { kind: "line", stroke: "#555", dash: "5,3" },
      label: "점선 = 쿡북 (cookbook)",
    });
  }
  if (whiskers.length) {
    legend.push({ swatch: { kind: "interval", stroke: "#555" }, label: "95% 신뢰구간 (Wilson)" });
  }
  const what = by === "countryCount" ? `${terms.itemEn} count` : `${terms.groupEn} count`;
  return renderChart({
    kind,
    title,
    subtitle: `error probability by ${what} and tuning size` +
      (ours.length ? ` · 이번 실행 (this run)` : ` · 쿡북 (cookbook)`),
    legend,
    note: zeroNote(ours),
    plot: {
      marginLeft: 66,
      marginRight: 20,
      marginTop: 16,
      marginBottom: 78,
      x: { type: "linear", domain: [-0.6, sizes.length - 0.4], round: true, axis: null },
      y: { domain: [0, 1], round: true, axis: null },
      color: { domain: names, range: colors },
      marks: [
        Plot.gridY(ticks, { stroke: "#000", strokeOpacity: 0.1 }),
        valueAxis(ticks, { tickFormat: pct, label: "오류 확률 (error probability)" }),
        sizeAxis(sizes.map((s) => sizeLabel(model, s))),
        Plot.ruleY([0], { stroke: "#444" }),
        ...whiskerMarks(whiskers, (p) => p.x, cap, {
          stroke: "name",
          strokeWidth: 1,
          strokeOpacity: 0.75,
        }),
        Plot.line(book, {
          x: "x",
          y: "errorRate",
          z: "name",
          stroke: "name",
          strokeWidth: 2,
          strokeDasharray: "5,3",
        }),
        Plot.line(ours, { x: "x", y: "errorRate", z: "name", stroke: "name", strokeWidth: 2.2 }),
        Plot.dot(ours, {
          x: "x",
          y: "errorRate",
          fill: "name",
          r: 3,
          title: (p: GroupSummary & { name: string }) =>
            `${p.name} ${sizeLabel(model, p.size)}: ${pct(p.errorRate)}` +
            (informs(p) ? ` [${pct(p.errorLow)}–${pct(p.errorHigh)}]` : "") +
            `, ${p.errors}/${p.answers}`,
        }),
      ],
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Notebook charts

/** Options of {@link histogramChart}. */
export interface HistogramOptions {
  title: string;
  subtitle?: string;
  /** x axis label, e.g. `latency per request (ms)`. */
  xLabel: string;
  /** Number of bins (default 24). */
  bins?: number;
  /** A dashed marker at this value (e.g. the median), with its legend label. */
  marker?: { value: number; label: string };
  kind?: string;
}

/** A histogram of `values` (e.g. the latencies of a batch evaluation), in the common frame. */
export function histogramChart(values: readonly number[], options: HistogramOptions): string {
  const kind = options.kind ?? "histogram";
  if (values.length === 0) return emptyChart(options.title, kind, "데이터 없음 (no data)");
  const legend: LegendItem[] = [{
    swatch: { kind: "bar", fill: CHART_COLORS.thisRunBar },
    label: "개수 (count)",
  }];
  const marks: Plot.Markish[] = [
    Plot.rectY(
      values,
      Plot.binX<Plot.RectYOptions>({ y: "count" }, {
        x: (v: number) => v,
        fill: CHART_COLORS.thisRunBar,
        inset: 0.5,
        thresholds: options.bins ?? 24,
      }),
    ),
    Plot.ruleY([0], { stroke: "#444" }),
  ];
  if (options.marker) {
    marks.push(
      Plot.ruleX([options.marker.value], {
        stroke: CHART_COLORS.missing,
        strokeWidth: 2,
        strokeDasharray: "4,3",
      }),
    );
    legend.push({
      swatch: { kind: "line", stroke: CHART_COLORS.missing, dash: "4,3" },
      label: options.marker.label,
    });
  }
  return renderChart({
    kind,
    title: options.title,
    subtitle: options.subtitle,
    legend,
    plot: {
      height: 280,
      marginLeft: 52,
      marginRight: 20,
      marginBottom: 44,
      x: { label: options.xLabel, labelAnchor: "center", labelArrow: "none", round: true },
      y: { label: "개수 (count)", labelAnchor: "center", labelArrow: "none", grid: true },
      marks,
    },
  });
}

/** One bar of {@link groupedBarChart}. */
export interface GroupedBar {
  /** Outer group (the facet), e.g. a country count. */
  group: string;
  /** Bar within the group (coloured), e.g. a continent count. */
  series: string;
  value: number;
}

/** Bars grouped side by side (e.g. a dataset's rows per country count × continent count). */
export function groupedBarChart(
  bars: readonly GroupedBar[],
  options: { title: string; subtitle?: string; groupLabel: string; valueLabel: string },
): string {
  const kind = "grouped-bars";
  if (bars.length === 0) return emptyChart(options.title, kind, "데이터 없음 (no data)");
  const series = [...new Set(bars.map((b) => b.series))];
  const colors = series.map((_, k) => CHART_COLORS.groups[k % CHART_COLORS.groups.length]);
  return renderChart({
    kind,
    title: options.title,
    subtitle: options.subtitle,
    legend: series.map((label, k) => ({ swatch: { kind: "bar", fill: colors[k] }, label })),
    plot: {
      height: 300,
      marginLeft: 56,
      marginRight: 16,
      marginBottom: 40,
      fx: { label: options.groupLabel, padding: 0.12 },
      x: { axis: null, domain: series },
      y: { label: options.valueLabel, labelAnchor: "center", labelArrow: "none", grid: true },
      color: { domain: series, range: colors },
      marks: [
        Plot.barY(bars, { fx: "group", x: "series", y: "value", fill: "series" }),
        Plot.ruleY([0], { stroke: "#444" }),
      ],
    },
  });
}
