import {
  deepStrictEqual as assertEquals,
  doesNotMatch as assertNotMatch,
  match as assertMatch,
  ok as assert,
} from "node:assert";
import { join } from "node:path";
import { DOMParser } from "linkedom";
import { type GroupSummary, type SizeSummary, wilsonInterval } from "../lib/analysis/tables.ts";
import {
  CHART_COLORS,
  CHART_WIDTH,
  errorByGroupChart,
  errorBySizeChart,
  groupedBarChart,
  groupLabel,
  histogramChart,
  niceMax,
  sharedCountAxis,
  textWidth,
  wrapText,
} from "../lib/report/charts.ts";
import { embeddedFontCss } from "../lib/report/fonts.ts";
import { checkChartsInBrowser } from "./helpers/browser.ts";
import {
  FIXTURE_SIZES,
  fixtureGroupSummaries,
  fixtureSizeSummaries,
} from "./fixtures/report_fixture.ts";

// deno-lint-ignore no-explicit-any
type Node = any;

/**
 * Strict-enough XML check: every tag closes in order, attributes are quoted and unique, no stray
 * `<`/`&`.
 */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  const ent = "&(?:amp|lt|gt|quot|#39|#\\d+|#x[0-9a-f]+);";
  const attr = `\\s+[\\w:-]+="[^"<&]*(?:${ent}[^"<&]*)*"`;
  const tag = new RegExp(
    `<(\\/?)([A-Za-z][\\w:-]*)((?:${attr})*)\\s*(\\/?)>|<!--[\\s\\S]*?-->`,
    "gi",
  );
  let last = 0;
  for (const m of xml.matchAll(tag)) {
    const between = xml.slice(last, m.index);
    assertNotMatch(between, /<|&(?!(?:amp|lt|gt|quot|#39|#\d+|#x[0-9a-f]+);)/i, `stray text`);
    last = m.index! + m[0].length;
    if (m[0].startsWith("<!--")) continue;
    const [, close, name, attrs, self] = m;
    const names = [...attrs.matchAll(/\s([\w:-]+)=/g)].map((a) => a[1].toLowerCase());
    assertEquals(new Set(names).size, names.length, `duplicate attribute in <${name}${attrs}>`);
    if (close) assertEquals(stack.pop(), name, `closing </${name}> at ${m.index}`);
    else if (!self) stack.push(name);
  }
  assertNotMatch(xml.slice(last), /<|>/);
  assertEquals(stack, [], "unclosed tags");
}

function parseSvg(svg: string): Node {
  assertWellFormedXml(svg);
  const doc = new DOMParser().parseFromString(svg, "image/svg+xml") as Node;
  const root = doc.documentElement;
  assertEquals(root.tagName.toLowerCase(), "svg");
  assertEquals(root.getAttribute("xmlns"), "http://www.w3.org/2000/svg");
  return root;
}

function texts(root: Node): string[] {
  return [...root.querySelectorAll("text")].map((t: Node) => t.textContent as string);
}

/** `<g>` of a Plot mark by its aria-label and an attribute value. */
function marks(root: Node, aria: string, attr?: [string, string]): Node[] {
  return [...root.querySelectorAll(`g[aria-label="${aria}"]`)].filter((g: Node) =>
    !attr || g.getAttribute(attr[0]) === attr[1]
  );
}

/** Texts of one Plot axis group, e.g. `y-axis tick label`. */
function axisTexts(root: Node, aria: string): string[][] {
  return marks(root, aria).map((g) => texts(g));
}

/** Size rows of this run with their Wilson intervals, from (errors, misclassified) pairs. */
function runRows(model: string, errors: readonly number[]): SizeSummary[] {
  return errors.map((e, i) => {
    const [lo, hi] = wilsonInterval(e, 100);
    return {
      source: "this run",
      model,
      size: FIXTURE_SIZES[i],
      trainLoss: null,
      answers: 100,
      errors: e,
      missing: 0,
      misclassified: e * 3,
      extended: 0,
      errorRate: e / 100,
      errorLow: lo,
      errorHigh: hi,
    };
  });
}

Deno.test("errorBySizeChart: the cookbook's layout — bars on the right axis, counts on the left", () => {
  const root = parseSvg(errorBySizeChart(fixtureSizeSummaries(), "HCX-003"));
  const n = FIXTURE_SIZES.length;
  const bars = marks(root, "rect", ["fill", CHART_COLORS.thisRunBar]);
  assertEquals(bars.length, 1);
  assertEquals(bars[0].querySelectorAll("rect").length, n);
  // No cookbook bars: the cookbook's error probability is one dashed mark per size.
  assertEquals(marks(root, "rect", ["fill", CHART_COLORS.cookbookBar]).length, 0);
  const book = marks(root, "rule").find((g) => g.getAttribute("stroke-dasharray") === "4,2");
  assertEquals(book.querySelectorAll("line").length, n);
  // Three count lines (this run), with points.
  assertEquals(marks(root, "line")[0].querySelectorAll("path").length, 3);
  assertEquals(marks(root, "dot")[0].querySelectorAll("circle").length, 3 * n);
  // Axes: counts on the left (max 240 → 0…250 in 5 steps), percentages on the right (20% steps).
  const [left, right] = axisTexts(root, "y-axis tick label");
  assertEquals(left, ["0", "50", "100", "150", "200", "250"]);
  assertEquals(right, ["0%", "20%", "40%", "60%", "80%", "100%"]);
  const [leftLabel, rightLabel] = axisTexts(root, "y-axis label");
  assertEquals([leftLabel, rightLabel], [["국가 수 (countries)"], [
    "오류 확률 (error probability)",
  ]]);
  // One value label per bar.
  const values = marks(root, "text").flatMap((g) => texts(g));
  assertEquals(values.length, n);
  assert(values.includes("90%") && values.includes("0%"));
  assertNotMatch(root.outerHTML, /NaN|undefined/);
});

Deno.test("errorBySizeChart: whiskers only where errors occurred, with a note for the rest", () => {
  const rows = runRows("HCX-003", [90, 40, 3, 0, 0, 0]);
  const root = parseSvg(errorBySizeChart(rows, "HCX-003"));
  const whisker = marks(root, "rule").find((g) =>
    g.getAttribute("stroke") === CHART_COLORS.interval &&
    g.querySelector("line").getAttribute("x1") === g.querySelector("line").getAttribute("x2")
  );
  assertEquals(whisker.querySelectorAll("line").length, 3);
  const all = texts(root).join("\n");
  assert(all.includes("오류 0건인 점은 구간을 생략 (0/100 → 95% 상한 3.7%)"), all);
  assert(all.includes("95% 신뢰구간"));
});

Deno.test("errorBySizeChart: tall bars carry their value inside, short ones above", () => {
  const root = parseSvg(errorBySizeChart(runRows("HCX-003", [100, 61, 4, 0]), "HCX-003"));
  const [inside, above] = marks(root, "text");
  assertEquals(texts(inside), ["100%", "61%"]);
  assertEquals(inside.getAttribute("fill"), "#fff");
  assertEquals(texts(above), ["4%", "0%"]);
});

Deno.test("errorBySizeChart: Korean labels, the cookbook's title, the embedded font first", () => {
  const root = parseSvg(errorBySizeChart(fixtureSizeSummaries(), "HCX-003"));
  const all = texts(root).join("\n");
  for (
    const label of [
      "HCX-003 문제 발생 확률",
      "오류 확률 · 이번 실행 (this run)",
      "쿡북 오류 확률 (cookbook)",
      "누락 (missing)",
      "오분류 (misclassified)",
      "확장 (extended)",
      "95% 신뢰구간",
      "HCX-003",
      "50개 튜닝",
      "10,000개 튜닝",
    ]
  ) assert(all.includes(label), `missing label ${label}`);
  assertMatch(root.getAttribute("font-family"), /^"Noto Sans KR", "Noto Sans CJK KR"/);
  assertEquals(root.getAttribute("width"), String(CHART_WIDTH));
});

Deno.test("errorBySizeChart: deterministic and model-filtered", () => {
  const rows = fixtureSizeSummaries();
  const other = fixtureSizeSummaries("HCX-DASH-001").map((r) => ({ ...r, errorRate: 0.5 }));
  const a = errorBySizeChart([...rows, ...other], "HCX-003");
  const b = errorBySizeChart([...rows].reverse(), "HCX-003");
  assertEquals(a, b);
  assert(!a.includes("HCX-DASH-001"));
});

Deno.test("errorBySizeChart: this run only — no cookbook mark or legend", () => {
  const rows = fixtureSizeSummaries().filter((r) => r.source === "this run" && r.size <= 300);
  const root = parseSvg(errorBySizeChart(rows, "HCX-003"));
  const bars = [
    ...marks(root, "rect", ["fill", CHART_COLORS.thisRunBar])[0].querySelectorAll("rect"),
  ];
  assertEquals(bars.length, 5);
  const all = texts(root).join("\n");
  assert(!all.includes("쿡북"));
  assert(all.includes("300개 튜닝") && !all.includes("400개 튜닝"));
  const w = Number(bars[1].getAttribute("width"));
  const step = Number(bars[2].getAttribute("x")) - Number(bars[1].getAttribute("x"));
  assert(w > 0.6 * step && w < 0.8 * step, `bar ${w} vs step ${step}`);
});

Deno.test("errorBySizeChart: cookbook only — its rows are the bars, no interval", () => {
  const rows = fixtureSizeSummaries().filter((r) => r.source === "cookbook");
  const svg = errorBySizeChart(rows, "HCX-003");
  const root = parseSvg(svg);
  assertEquals(marks(root, "rect", ["fill", CHART_COLORS.cookbookBar]).length, 1);
  assertEquals(
    marks(root, "rule").filter((g) => g.getAttribute("stroke") === CHART_COLORS.interval).length,
    0,
  );
  const all = texts(root).join();
  assert(all.includes("오류 확률 · 쿡북 (cookbook)") && !all.includes("신뢰구간"));
  // The cookbook's published counts set the left axis (412 → 500).
  assertEquals(axisTexts(root, "y-axis tick label")[0].at(-1), "500");
  assertNotMatch(svg, /NaN/);
});

Deno.test("errorBySizeChart: escapes model names and handles no data", () => {
  const rows: SizeSummary[] = fixtureSizeSummaries().map((r) => ({ ...r, model: "<b>&x" }));
  const svg = errorBySizeChart(rows, "<b>&x");
  parseSvg(svg);
  assert(svg.includes("&lt;b&gt;&amp;x 문제 발생 확률"));
  assert(!svg.includes("<b>"));
  const empty = parseSvg(errorBySizeChart([], "HCX-003"));
  assert(texts(empty).join().includes("데이터 없음"));
});

Deno.test("errorByGroupChart: one line per country count, whiskers only where errors occurred", () => {
  const rows = fixtureGroupSummaries();
  const svg = errorByGroupChart(rows, "HCX-003", "countryCount");
  const root = parseSvg(svg);
  const lines = marks(root, "line");
  assertEquals(lines.length, 1, "only this run's lines");
  assertEquals(lines[0].querySelectorAll("path").length, 4);
  assertEquals(marks(root, "dot")[0].querySelectorAll("circle").length, 4 * FIXTURE_SIZES.length);
  const ours = rows.filter((r) => r.by === "countryCount");
  const withErrors = ours.filter((r) => r.errors > 0).length;
  assert(withErrors > 0 && withErrors < ours.length);
  const vertical = marks(root, "rule").flatMap((g) => [...g.querySelectorAll("line")])
    .filter((l: Node) => l.getAttribute("x1") === l.getAttribute("x2"));
  assertEquals(vertical.length, withErrors);
  const all = texts(root).join("\n");
  for (const v of [10, 15, 20, 30]) assert(all.includes(`${v}개국`));
  assert(all.includes("HCX-003 국가 개수별 오류 발생 확률"));
  assert(all.includes("0/20 → 95% 상한 16.1%"), all);
  assert(!all.includes("대륙"));
  assertEquals(axisTexts(root, "y-axis tick label")[0], ["0%", "25%", "50%", "75%", "100%"]);
  assertEquals(errorByGroupChart([...rows].reverse(), "HCX-003", "countryCount"), svg);
});

Deno.test("errorByGroupChart: continent counts, with cookbook rows dashed", () => {
  const ours = fixtureGroupSummaries().filter((r) => r.by === "continentCount");
  const book: GroupSummary[] = ours.filter((r) => r.size >= 1000).map((r) => ({
    ...r,
    source: "cookbook",
    errorLow: NaN,
    errorHigh: NaN,
  }));
  const root = parseSvg(errorByGroupChart([...ours, ...book], "HCX-003", "continentCount"));
  const lines = marks(root, "line");
  assertEquals(lines.length, 2);
  const dashed = lines.find((g) => g.getAttribute("stroke-dasharray") === "5,3");
  assertEquals(dashed.querySelectorAll("path").length, 5);
  const all = texts(root).join("\n");
  for (const v of [2, 3, 4, 5, 6]) assert(all.includes(groupLabel("continentCount", v)));
  assert(all.includes("점선 = 쿡북"));
  assert(all.includes("대륙 개수별 오류 발생 확률"));
});

Deno.test("errorByGroupChart: no rows for that breakdown → no-data chart", () => {
  const rows = fixtureGroupSummaries().filter((r) => r.by === "countryCount");
  const root = parseSvg(errorByGroupChart(rows, "HCX-003", "continentCount"));
  assert(texts(root).join().includes("데이터 없음"));
});

Deno.test("histogramChart and groupedBarChart: the notebooks' charts in the same frame", () => {
  const latencies = Array.from({ length: 100 }, (_, i) => 40 + (i * 37) % 90);
  const hist = parseSvg(histogramChart(latencies, {
    title: "지연 시간 분포",
    xLabel: "latency per request (ms)",
    marker: { value: 85, label: "중앙값 (median)" },
  }));
  assertEquals(hist.getAttribute("class"), "chart chart-histogram");
  const bins = [...marks(hist, "rect")[0].querySelectorAll("rect")];
  assert(bins.length > 5);
  assert(texts(hist).includes("중앙값 (median)"));
  const bars = parseSvg(groupedBarChart(
    [10, 15].flatMap((n) =>
      [2, 3].map((k) => ({ group: `${n}개국`, series: `${k}개 대륙`, value: n * k }))
    ),
    { title: "구성", groupLabel: "국가 수", valueLabel: "rows" },
  ));
  assertEquals(marks(bars, "bar")[0].querySelectorAll("rect").length, 4);
  assert(texts(bars).includes("3개 대륙"));
});

Deno.test("niceMax and sharedCountAxis: round tops; 4 or 5 intervals to share a grid with %", () => {
  assertEquals(niceMax(412), { max: 500, step: 100 });
  assertEquals(niceMax(9), { max: 10, step: 2 });
  assertEquals(niceMax(0), { max: 1, step: 1 });
  assertEquals(sharedCountAxis(412), { max: 500, step: 100, intervals: 5 });
  assertEquals(sharedCountAxis(2835), { max: 4000, step: 1000, intervals: 4 });
  assertEquals(sharedCountAxis(240), { max: 250, step: 50, intervals: 5 });
  assertEquals(sharedCountAxis(0), { max: 4, step: 1, intervals: 4 });
  assertEquals(sharedCountAxis(1600), { max: 2000, step: 500, intervals: 4 });
});

Deno.test("textWidth errs wide for Hangul; wrapText breaks at spaces", () => {
  assertEquals(textWidth("가나", 10), 20);
  assert(textWidth("10,000개 튜닝", 12) > textWidth("10,000", 12));
  assertEquals(wrapText("a bb ccc dddd", 10, 30), ["a bb", "ccc", "dddd"]);
});

/** Charts at their extremes: every bar 100%, every bar 0%, long names, one size, many sizes. */
function extremeCharts(): string[] {
  const all100 = runRows("HCX-DASH-001", Array(14).fill(100));
  const all0 = runRows("HCX-003", Array(14).fill(0));
  const mixed = runRows("HCX-003", [100, 99, 97, 90, 50, 20, 11, 5, 3, 2, 1, 0, 0, 0]);
  const book = fixtureSizeSummaries("HCX-003").filter((r) => r.source === "cookbook");
  const long = "a-very-long-model-name-v2";
  const groups = (
    errors: (i: number, k: number) => number,
    by: "countryCount" | "continentCount",
  ) =>
    FIXTURE_SIZES.flatMap((size, i) =>
      (by === "countryCount" ? [10, 15, 20, 30] : [2, 3, 4, 5, 6]).map((value, k) => {
        const e = errors(i, k);
        const [lo, hi] = wilsonInterval(e, 25);
        return {
          source: "this run" as const,
          model: long,
          size,
          by,
          value,
          answers: 25,
          errors: e,
          errorRate: e / 25,
          errorLow: lo,
          errorHigh: hi,
        };
      })
    );
  return [
    errorBySizeChart(all100, "HCX-DASH-001"),
    errorBySizeChart([...all0, ...book], "HCX-003"),
    errorBySizeChart([...mixed, ...book], "HCX-003"),
    errorBySizeChart(book, "HCX-003"),
    errorBySizeChart(runRows(long, [7]).map((r) => ({ ...r, model: long })), long),
    errorByGroupChart(groups(() => 25, "countryCount"), long, "countryCount"),
    errorByGroupChart(
      groups((i, k) => Math.max(0, 25 - i * 2 - k), "continentCount"),
      long,
      "continentCount",
    ),
    errorByGroupChart(fixtureGroupSummaries(), "HCX-003", "countryCount"),
    histogramChart([1, 2, 2, 3, 3, 3, 400], { title: "지연 시간", xLabel: "ms" }),
  ];
}

Deno.test("charts in Chromium: no two text labels overlap, even at the extremes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "charts-" });
  try {
    const path = join(dir, "charts.html");
    const charts = extremeCharts();
    const body = charts.join("\n");
    await Deno.writeTextFile(
      path,
      `<!doctype html><html><head><meta charset="utf-8"><style>${await embeddedFontCss(body)}` +
        `</style></head><body>${body}</body></html>`,
    );
    const result = await checkChartsInBrowser(path);
    assertEquals(result.problems, []);
    assertEquals(result.charts, charts.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
