import {
  deepStrictEqual as assertEquals,
  doesNotMatch as assertNotMatch,
  match as assertMatch,
  ok as assert,
} from "node:assert";
import { DOMParser } from "linkedom";
import type { GroupSummary, SizeSummary } from "../lib/analyze.ts";
import {
  CHART_COLORS,
  errorByGroupChart,
  errorBySizeChart,
  groupLabel,
  niceMax,
} from "../lib/charts.ts";
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

Deno.test("errorBySizeChart: bars, count lines and intervals for both sources", () => {
  const svg = errorBySizeChart(fixtureSizeSummaries(), "HCX-003");
  const root = parseSvg(svg);
  const n = FIXTURE_SIZES.length;
  const oursBars = marks(root, "rect", ["fill", CHART_COLORS.thisRunBar]);
  const bookBars = marks(root, "rect", ["fill", CHART_COLORS.cookbookBar]);
  assertEquals(oursBars.length, 1);
  assertEquals(bookBars.length, 1);
  assertEquals(oursBars[0].querySelectorAll("rect").length, n);
  assertEquals(bookBars[0].querySelectorAll("rect").length, n);
  // Three count lines per source: cookbook dashed, this run solid.
  const lines = marks(root, "line");
  assertEquals(lines.length, 2);
  const dashed = lines.find((g) => g.getAttribute("stroke-dasharray") === "5,3");
  const solid = lines.find((g) => g.getAttribute("stroke-dasharray") === null);
  assertEquals(dashed.querySelectorAll("path").length, 3);
  assertEquals(solid.querySelectorAll("path").length, 3);
  // One Wilson interval per this-run bar.
  const rules = marks(root, "rule").filter((g) =>
    g.getAttribute("stroke") === CHART_COLORS.interval
  );
  assertEquals(rules[0].querySelectorAll("line").length, n);
  // Points on this run's count lines.
  assertEquals(marks(root, "dot")[0].querySelectorAll("circle").length, 3 * n);
  assertNotMatch(svg, /NaN|undefined/);
});

Deno.test("errorBySizeChart: Korean labels, legend says which is which, font stack", () => {
  const root = parseSvg(errorBySizeChart(fixtureSizeSummaries(), "HCX-003"));
  const all = texts(root).join("\n");
  for (
    const label of [
      "HCX-003 문제 발생 확률",
      "오류 확률 · 이번 실행",
      "오류 확률 · 쿡북 (cookbook)",
      "누락 국가 수",
      "오분류 국가 수",
      "확장 국가 수",
      "95% 신뢰구간",
      "튜닝 데이터 수",
      "50개 튜닝",
      "10,000개 튜닝",
    ]
  ) assert(all.includes(label), `missing label ${label}`);
  assertMatch(root.getAttribute("font-family"), /^"Noto Sans CJK KR", "Noto Sans KR"/);
  assertMatch(root.getAttribute("style"), /font-family: &quot;|font-family: "Noto Sans CJK KR"/);
  // Right axis shows counts: max count 412 (cookbook 100개) → nice max 500.
  assert(texts(root).includes("500"));
  assert(texts(root).includes("100%"));
});

Deno.test("errorBySizeChart: deterministic and model-filtered", () => {
  const rows = fixtureSizeSummaries();
  const other = fixtureSizeSummaries("HCX-DASH-001").map((r) => ({ ...r, errorRate: 0.5 }));
  const a = errorBySizeChart([...rows, ...other], "HCX-003");
  const b = errorBySizeChart([...rows].reverse(), "HCX-003");
  assertEquals(a, b);
  assert(!a.includes("HCX-DASH-001"));
});

Deno.test("errorBySizeChart: this run only — full-width bars, no cookbook legend", () => {
  const rows = fixtureSizeSummaries().filter((r) => r.source === "this run" && r.size <= 300);
  const root = parseSvg(errorBySizeChart(rows, "HCX-003"));
  assertEquals(marks(root, "rect", ["fill", CHART_COLORS.cookbookBar]).length, 0);
  const bars = [
    ...marks(root, "rect", ["fill", CHART_COLORS.thisRunBar])[0].querySelectorAll("rect"),
  ];
  assertEquals(bars.length, 5);
  const all = texts(root).join("\n");
  assert(!all.includes("쿡북"));
  assert(all.includes("300개 튜닝") && !all.includes("400개 튜닝"));
  // Bars fill most of each slot (no side-by-side halving).
  const w = Number(bars[1].getAttribute("width"));
  const step = Number(bars[2].getAttribute("x")) - Number(bars[1].getAttribute("x"));
  assert(w > 0.7 * step, `bar ${w} vs step ${step}`);
});

Deno.test("errorBySizeChart: cookbook only (NaN intervals) draws no interval", () => {
  const rows = fixtureSizeSummaries().filter((r) => r.source === "cookbook");
  const svg = errorBySizeChart(rows, "HCX-003");
  const root = parseSvg(svg);
  assertEquals(
    marks(root, "rule").filter((g) => g.getAttribute("stroke") === CHART_COLORS.interval).length,
    0,
  );
  assert(!texts(root).join().includes("신뢰구간"));
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

Deno.test("errorByGroupChart: one line per country count, Korean legend", () => {
  const rows = fixtureGroupSummaries();
  const svg = errorByGroupChart(rows, "HCX-003", "countryCount");
  const root = parseSvg(svg);
  const lines = marks(root, "line");
  assertEquals(lines.length, 1, "only this run's lines");
  assertEquals(lines[0].querySelectorAll("path").length, 4);
  assertEquals(marks(root, "dot")[0].querySelectorAll("circle").length, 4 * FIXTURE_SIZES.length);
  const all = texts(root).join("\n");
  for (const v of [10, 15, 20, 30]) assert(all.includes(`${v}개국`));
  assert(all.includes("국가 개수별 오류 발생 확률"));
  assert(!all.includes("대륙"));
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

Deno.test("niceMax: rounds up to 1/2/2.5/5 steps", () => {
  assertEquals(niceMax(412), { max: 500, step: 100 });
  assertEquals(niceMax(2835), { max: 3000, step: 1000 });
  assertEquals(niceMax(9), { max: 10, step: 2 });
  assertEquals(niceMax(0), { max: 1, step: 1 });
  assertEquals(niceMax(100), { max: 100, step: 20 });
});
