/**
 * Charts of the statistics (`lib/analysis/stats/`), as self-contained SVG strings in the same frame as
 * `lib/report/charts.ts` (title, legend, Hangul font stack, deterministic output):
 *
 * 1. {@link learningCurveChart}: measured error probabilities with Wilson intervals over a log
 *    size axis, the fitted logistic curve with its 95% band, the X% target and the rows needed
 *    to reach it with its bootstrap interval; one colour per series (model, or run × model).
 * 2. {@link worstCountriesChart}: a heat map of the worst countries of one model by tuning size
 *    (share of the answers asking the country that missed or misplaced it).
 * 3. {@link confusionChart}: the continent-by-continent confusion table of one model, one small
 *    panel per tuning size with errors.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import {
  type ConfusionTable,
  type CountryErrorRow,
  type CurveBandPoint,
  sizeLabel,
  worstCountries,
} from "../analysis/mod.ts";
import {
  assemble,
  CHART_COLORS,
  CHART_FONT_STACK,
  CHART_WIDTH,
  emptyChart,
  type LegendItem,
  newDocument,
  type PlotSvg,
} from "./charts.ts";
import { COUNTRY_TERMS, type TaskTerms } from "../tasks/mod.ts";

const pct = (x: number) => `${Math.round(x * 100)}%`;
const pct1 = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

/** One measured point of a learning-curve series. */
export interface MeasuredPoint {
  size: number;
  rate: number;
  low: number;
  high: number;
  errors: number;
  answers: number;
}

/** One curve of {@link learningCurveChart}. */
export interface CurveSeries {
  /** Legend label, e.g. `HCX-003` or `emulator · grouped · HCX-003`. */
  name: string;
  /** Measured tuned sizes (size > 0). */
  measured: readonly MeasuredPoint[];
  /** The fitted curve with its band, ascending in size; empty when no fit. */
  band: readonly CurveBandPoint[];
  /** Rows needed for the target, with its interval (omitted when not estimated). */
  rowsNeeded?: { estimate: number; low: number; high: number };
}

/** 1-2-5 ticks (…, 50, 100, 200, 500, 1,000 …) within [from, to]. */
export function logTicks(from: number, to: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(from)); e <= Math.ceil(Math.log10(to)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= from && t <= to) out.push(t);
    }
  }
  return out;
}

/** Chart title for {@link learningCurveChart}. */
export function learningCurveTitle(subject: string): string {
  return `${subject} 학습 곡선 (learning curve, log size)`;
}

/**
 * The learning curves of several series over a log size axis: points with Wilson 95% intervals,
 * the fitted logistic curve (solid) with its 95% band (shaded), the target rate (dashed grey) and,
 * where the curve reaches it, the rows needed (dashed vertical) with its bootstrap interval (a
 * thick segment on the target line).
 */
export function learningCurveChart(
  series: readonly CurveSeries[],
  options: { subject: string; target?: number },
): string {
  const title = learningCurveTitle(options.subject);
  const all = series.flatMap((s) => s.measured.map((m) => m.size));
  if (all.length === 0) return emptyChart(title, "curve", "데이터 없음 (no tuned sizes)");
  const lo = Math.min(...all);
  const hi = Math.max(...all, ...series.flatMap((s) => s.band.map((b) => b.size)));
  const names = series.map((s) => s.name);
  const colors = names.map((_, i) => CHART_COLORS.groups[i % CHART_COLORS.groups.length]);
  const target = options.target;
  const tagged = <T>(s: CurveSeries, rows: readonly T[]) =>
    rows.map((r) => ({ ...r, name: s.name }));
  const measured = series.flatMap((s) => tagged(s, s.measured));
  const bands = series.flatMap((s) => tagged(s, s.band));
  const needed = series.flatMap((s) =>
    s.rowsNeeded && Number.isFinite(s.rowsNeeded.estimate) && target !== undefined
      ? [{ ...s.rowsNeeded, name: s.name }]
      : []
  );
  const xMax = Math.max(hi, ...needed.map((n) => Math.min(n.estimate, hi * 4))) * 1.3;
  const clampX = (x: number) => Math.min(Math.max(x, lo / 1.3), xMax);
  const document = newDocument();
  const plot = Plot.plot({
    document,
    width: CHART_WIDTH,
    height: 400,
    marginLeft: 56,
    marginRight: 24,
    marginTop: 24,
    marginBottom: 56,
    className: "cb-chart",
    style: { fontFamily: CHART_FONT_STACK, fontSize: "12px", background: "#fff" },
    x: { type: "log", domain: [lo / 1.3, xMax] },
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
      Plot.axisX(logTicks(lo / 1.3, xMax), {
        // Every tick labelled: a log scale's own format would blank the 5s (50, 500, 5,000).
        text: (d: number) => d.toLocaleString("en-US"),
        label: "튜닝 데이터 수, 로그 눈금 (tuning rows, log scale)",
        labelAnchor: "center",
        labelOffset: 40,
      }),
      Plot.ruleY([0], { stroke: "#444" }),
      Plot.areaY(bands, {
        x: "size",
        y1: "low",
        y2: "high",
        z: "name",
        fill: "name",
        fillOpacity: 0.14,
      }),
      Plot.line(bands, { x: "size", y: "rate", z: "name", stroke: "name", strokeWidth: 2 }),
      Plot.ruleX(measured, {
        x: "size",
        y1: "low",
        y2: "high",
        stroke: "name",
        strokeOpacity: 0.55,
        strokeWidth: 1.4,
      }),
      Plot.dot(measured, {
        x: "size",
        y: "rate",
        fill: "name",
        r: 3,
        title: (m: MeasuredPoint & { name: string }) =>
          `${m.name} · ${m.size.toLocaleString("en-US")}: ${pct1(m.rate)} ` +
          `[${pct1(m.low)}–${pct1(m.high)}], ${m.errors}/${m.answers}`,
      }),
      ...(target === undefined ? [] : [
        Plot.ruleY([target], { stroke: "#777", strokeDasharray: "4,3" }),
        Plot.text([target], {
          x: lo / 1.3,
          y: (d: number) => d,
          text: (d: number) => `${pct1(d)} 목표 (target)`,
          textAnchor: "start",
          dx: 4,
          dy: -7,
          fill: "#555",
          fontSize: 10,
        }),
      ]),
      Plot.ruleX(needed, {
        x: (n: { estimate: number }) => clampX(n.estimate),
        y1: 0,
        y2: target ?? 0,
        stroke: "name",
        strokeDasharray: "3,3",
      }),
      Plot.link(needed, {
        x1: (n: { low: number }) => clampX(n.low),
        x2: (n: { high: number }) => clampX(Number.isFinite(n.high) ? n.high : xMax),
        y1: target ?? 0,
        y2: target ?? 0,
        stroke: "name",
        strokeWidth: 4,
        strokeOpacity: 0.6,
        title: (n: { name: string; estimate: number; low: number; high: number }) =>
          `${n.name}: ${Math.round(n.estimate).toLocaleString("en-US")} rows ` +
          `[${Math.round(n.low).toLocaleString("en-US")}–${
            Number.isFinite(n.high) ? Math.round(n.high).toLocaleString("en-US") : "∞"
          }]`,
      }),
    ],
  }) as unknown as PlotSvg;
  const legend: LegendItem[][] = [
    names.map((label, i) => ({ swatch: { kind: "line", stroke: colors[i], dot: true }, label })),
    [
      {
        swatch: { kind: "bar", fill: "#3f6fd8" },
        label: "옅은 띠 = 적합 곡선의 95% 구간 (fit band)",
      },
      { swatch: { kind: "interval", stroke: "#888" }, label: "측정값의 95% Wilson 구간" },
    ],
  ];
  if (target !== undefined) {
    legend[1].push({
      swatch: { kind: "line", stroke: "#777", dash: "4,3" },
      label: `${pct1(target)} 목표와 필요한 행 수 (rows needed, bootstrap 95%)`,
    });
  }
  return assemble(plot, title, legend, "curve");
}

/** Chart title for {@link worstCountriesChart} (in the task's words). */
export function worstCountriesTitle(model: string, terms: TaskTerms = COUNTRY_TERMS): string {
  return `${model} 오류가 많은 ${terms.item} (worst ${terms.itemsEn} by size)`;
}

const ERROR_SCHEME = { type: "linear" as const, scheme: "reds" as const, domain: [0, 1] };

function rampLegend(label: string): LegendItem[] {
  const scale = Plot.scale({ color: ERROR_SCHEME });
  return [
    ...[0, 0.25, 0.5, 0.75, 1].map((v) => ({
      swatch: { kind: "bar" as const, fill: String(scale.apply(v)), stroke: "#ccc" },
      label: pct(v),
    })),
    { swatch: { kind: "bar", fill: "#fff", stroke: "#fff" }, label },
  ];
}

/**
 * Heat map of one model's worst countries (most missing + misclassified answers over the tuned
 * sizes, see `worstCountries`) by tuning size: colour = share of the answers asking the country
 * that missed or misplaced it, text = those answers / answers asking it. The base model has its
 * own column but does not decide the ranking.
 */
export function worstCountriesChart(
  rows: readonly CountryErrorRow[],
  model: string,
  options: { limit?: number; terms?: TaskTerms } = {},
): string {
  const terms = options.terms ?? COUNTRY_TERMS;
  const title = worstCountriesTitle(model, terms);
  const worst = worstCountries(rows, model, { limit: options.limit ?? 15 });
  if (worst.length === 0) {
    return emptyChart(
      title,
      "worst-countries",
      `${model}: 튜닝 후 오류 없음 (no errors after tuning)`,
    );
  }
  const order = worst.map((w) => w.country);
  const keep = new Set(worst.map((w) => w.code));
  const sizes = [...new Set(rows.filter((r) => r.model === model).map((r) => r.size))]
    .sort((a, b) => a - b);
  const labels = sizes.map((s) => sizeLabel(model, s).replace("개 튜닝", ""));
  const cells = rows
    .filter((r) => r.model === model && keep.has(r.code) && r.asked > 0)
    .map((r) => ({
      ...r,
      column: labels[sizes.indexOf(r.size)],
      wrong: r.missing + r.misclassified,
    }));
  const cellHeight = 22;
  const document = newDocument();
  const plot = Plot.plot({
    document,
    width: CHART_WIDTH,
    height: 60 + cellHeight * order.length + 40,
    marginLeft: 130,
    marginRight: 16,
    marginTop: 16,
    marginBottom: 60,
    className: "cb-chart",
    style: { fontFamily: CHART_FONT_STACK, fontSize: "12px", background: "#fff" },
    x: { domain: labels, label: null, tickRotate: -35, padding: 0.04 },
    y: { domain: order, label: null, padding: 0.06 },
    color: ERROR_SCHEME,
    marks: [
      Plot.cell(cells, {
        x: "column",
        y: "country",
        fill: "errorRate",
        inset: 0.5,
        title: (c: CountryErrorRow & { wrong: number }) =>
          `${c.country} · ${
            sizeLabel(model, c.size)
          }: 누락 ${c.missing}, 오분류 ${c.misclassified}` +
          ` / ${c.asked}`,
      }),
      Plot.text(cells.filter((c) => c.wrong > 0), {
        x: "column",
        y: "country",
        text: (c: { wrong: number; asked: number }) => `${c.wrong}/${c.asked}`,
        fill: (c: { errorRate: number }) => (c.errorRate > 0.55 ? "#fff" : "#222"),
        fontSize: 9,
      }),
    ],
  }) as unknown as PlotSvg;
  return assemble(
    plot,
    title,
    [rampLegend(
      `= 그 ${terms.item}를 물은 답 중 누락·오분류 비율 (share of answers missing or misplacing it)`,
    )],
    "worst-countries",
  );
}

/** Chart title for {@link confusionChart} (in the task's words). */
export function confusionTitle(model: string, terms: TaskTerms = COUNTRY_TERMS): string {
  return `${model} ${terms.group} 혼동표 (${terms.groupEn} confusion)`;
}

const SHORT: Record<string, string> = {
  "아시아": "아시아",
  "유럽": "유럽",
  "북아메리카": "북미",
  "남아메리카": "남미",
  "아프리카": "아프리카",
  "오세아니아": "오세아니아",
  "other label": "기타 라벨",
  "missing": "누락",
};

/**
 * The continent confusion of one model, one panel per tuning size that has any missing or
 * misplaced country (three panels a row): rows = the asked country's continent, columns = where
 * the answer put it (a continent, a label naming none, or missing). Off-diagonal colour = share
 * of the row's asked countries; the diagonal (correct) is drawn grey. Numbers are counts.
 */
export function confusionChart(
  tables: readonly ConfusionTable[],
  model: string,
  terms: TaskTerms = COUNTRY_TERMS,
): string {
  const title = confusionTitle(model, terms);
  // A group's short name: the continents' (북미, 남미 …), any other group's own.
  const short = (name: string) => SHORT[name] ?? name;
  const panels = tables
    .filter((t) => t.model === model)
    .filter((t) => t.counts.some((row, i) => row.some((v, j) => j !== i && v > 0)))
    .sort((a, b) => a.size - b.size);
  if (panels.length === 0) {
    return emptyChart(
      title,
      "confusion",
      `${model}: 누락·오분류 없음 (no missing or misplaced ${terms.itemEn})`,
    );
  }
  const perRow = 3;
  const cells = panels.flatMap((t, p) => {
    const label = sizeLabel(model, t.size);
    return t.rows.flatMap((continent, i) => {
      const rowTotal = t.counts[i].reduce((a, b) => a + b, 0);
      return t.columns.map((column, j) => ({
        fx: p % perRow,
        fy: Math.floor(p / perRow),
        panel: label,
        from: short(continent),
        to: short(column),
        count: t.counts[i][j],
        share: rowTotal ? t.counts[i][j] / rowTotal : 0,
        diagonal: i === j,
      }));
    });
  });
  const heads = panels.map((t, p) => ({
    fx: p % perRow,
    fy: Math.floor(p / perRow),
    text: sizeLabel(model, t.size),
  }));
  const rowsOfPanels = Math.ceil(panels.length / perRow);
  const document = newDocument();
  const plot = Plot.plot({
    document,
    width: CHART_WIDTH,
    height: 40 + rowsOfPanels * 200,
    marginLeft: 62,
    marginRight: 8,
    marginTop: 24,
    marginBottom: 48,
    className: "cb-chart",
    style: { fontFamily: CHART_FONT_STACK, fontSize: "10px", background: "#fff" },
    fx: { axis: null, padding: 0.08 },
    fy: { axis: null, padding: 0.18 },
    x: { domain: panels[0].columns.map(short), label: null, tickRotate: -50 },
    y: { domain: panels[0].rows.map(short), label: null },
    color: ERROR_SCHEME,
    marks: [
      Plot.cell(cells.filter((c) => !c.diagonal), {
        fx: "fx",
        fy: "fy",
        x: "to",
        y: "from",
        fill: "share",
        inset: 0.5,
      }),
      Plot.cell(cells.filter((c) => c.diagonal), {
        fx: "fx",
        fy: "fy",
        x: "to",
        y: "from",
        fill: "#e4e7ec",
        inset: 0.5,
      }),
      Plot.text(cells.filter((c) => c.count > 0), {
        fx: "fx",
        fy: "fy",
        x: "to",
        y: "from",
        text: (c: { count: number }) => String(c.count),
        fill: (c: { share: number; diagonal: boolean }) =>
          !c.diagonal && c.share > 0.55 ? "#fff" : "#222",
        fontSize: 8,
      }),
      Plot.text(heads, {
        fx: "fx",
        fy: "fy",
        text: "text",
        frameAnchor: "top",
        dy: -14,
        fontSize: 11,
        fontWeight: "bold",
      }),
    ],
  }) as unknown as PlotSvg;
  return assemble(
    plot,
    title,
    [[
      ...rampLegend(`= 행(실제 ${terms.group})에서의 비율 (share of the row)`),
      { swatch: { kind: "bar", fill: "#e4e7ec" }, label: "대각선 = 정답 (correct)" },
    ]],
    "confusion",
  );
}
