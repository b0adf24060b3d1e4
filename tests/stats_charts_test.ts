import {
  deepStrictEqual as assertEquals,
  doesNotMatch as assertNotMatch,
  ok as assert,
} from "node:assert";
import { DOMParser } from "linkedom";
import { scoreAnswer } from "../lib/scoring/score.ts";
import { countryErrors } from "../lib/analysis/stats/countryErrors.ts";
import { scoredAnswer } from "./helpers/scored.ts";
import { curveBandSeries, fitLearningCurve } from "../lib/analysis/stats/curve.ts";
import {
  confusionChart,
  type CurveSeries,
  learningCurveChart,
  logTicks,
  worstCountriesChart,
} from "../lib/report/statsCharts.ts";

// deno-lint-ignore no-explicit-any
type Node = any;

function parseSvg(svg: string): Node {
  assertNotMatch(svg, /NaN|undefined|Infinity/);
  const root = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement as Node;
  assertEquals(root.tagName.toLowerCase(), "svg");
  assertEquals(root.getAttribute("xmlns"), "http://www.w3.org/2000/svg");
  return root;
}

const text = (root: Node) =>
  [...root.querySelectorAll("text")].map((t: Node) => t.textContent).join("\n");
const mark = (root: Node, aria: string) =>
  [...root.querySelectorAll(`g[aria-label="${aria}"]`)] as Node[];

const SIZES = [50, 100, 200, 500, 1000, 2000];

function series(name: string, a: number): CurveSeries {
  const measured = SIZES.map((size) => {
    const errors = Math.round(100 / (1 + Math.exp(-(a - Math.log(size)))));
    return {
      size,
      errors,
      answers: 100,
      rate: errors / 100,
      low: errors / 200,
      high: 0.05 + errors / 100,
    };
  });
  const fit = fitLearningCurve(measured);
  return {
    name,
    measured,
    band: curveBandSeries(fit, 50, 2000, 30),
    rowsNeeded: { estimate: 700, low: 400, high: Infinity },
  };
}

Deno.test("learningCurveChart: points, intervals, fitted line and band per series; target", () => {
  const svg = learningCurveChart([series("HCX-003", 6), series("HCX-DASH-001", 7)], {
    subject: "this run",
    target: 0.02,
  });
  const root = parseSvg(svg);
  assertEquals(mark(root, "dot")[0].querySelectorAll("circle").length, 2 * SIZES.length);
  assertEquals(mark(root, "area")[0].querySelectorAll("path").length, 2);
  assertEquals(mark(root, "line")[0].querySelectorAll("path").length, 2);
  // one Wilson whisker per measured point
  const whiskers = mark(root, "rule").find((g) =>
    g.querySelectorAll("line").length === 2 * SIZES.length
  );
  assert(whiskers, "a rule mark with one line per point");
  // rows-needed interval: one link per series, the open end drawn to the axis end
  assertEquals(mark(root, "link")[0].querySelectorAll("path").length, 2);
  const all = text(root);
  for (const s of ["학습 곡선", "HCX-003", "HCX-DASH-001", "2.0% 목표", "1,000", "tuning rows"]) {
    assert(all.includes(s), `missing ${s}`);
  }
  assertEquals(
    svg,
    learningCurveChart([series("HCX-003", 6), series("HCX-DASH-001", 7)], {
      subject: "this run",
      target: 0.02,
    }),
    "deterministic",
  );
  assert(text(parseSvg(learningCurveChart([], { subject: "x" }))).includes("no tuned sizes"));
  assertEquals(logTicks(40, 12000), [50, 100, 200, 500, 1000, 2000, 5000, 10000]);
});

function scored(model: string, size: number, asked: string[], answer: string) {
  return scoredAnswer({ model, size, countries: asked, text: answer }, scoreAnswer(asked, answer));
}

const TABLES = countryErrors([
  scored("M", 0, ["프랑스", "일본", "이집트"], "아시아: 프랑스, 일본, 이집트"),
  scored("M", 100, ["프랑스", "일본", "이집트"], "유럽: 프랑스\n아시아: 일본, 이집트"),
  scored("M", 100, ["프랑스", "브라질"], "남아메리카: 브라질"),
  scored("M", 200, ["프랑스", "일본", "이집트"], "유럽: 프랑스\n아시아: 일본\n아프리카: 이집트"),
]);

Deno.test("worstCountriesChart: one row per worst country, one column per size", () => {
  const root = parseSvg(worstCountriesChart(TABLES.countries, "M"));
  // tuned sizes rank: 이집트 (1 of 2 answers) and 프랑스 (1 of 3); the base model does not rank
  const cells = mark(root, "cell")[0].querySelectorAll("rect");
  // 이집트 at 0, 100, 200 and 프랑스 at 0, 100, 200
  assertEquals(cells.length, 6);
  const all = text(root);
  for (const s of ["이집트", "프랑스", "M", "100", "200", "오류가 많은 국가", "1/1", "1/2"]) {
    assert(all.includes(s), `missing ${s}`);
  }
  assert(!all.includes("일본 –"), "일본 has no error after tuning");
  const none = worstCountriesChart(TABLES.countries, "other");
  assert(text(parseSvg(none)).includes("no errors after tuning"));
});

Deno.test("confusionChart: one panel per size with errors, counts as text", () => {
  const root = parseSvg(confusionChart(TABLES.confusion, "M"));
  const all = text(root);
  // sizes 0 and 100 have errors; 200 does not
  assert(all.includes("M") && all.includes("100개 튜닝") && !all.includes("200개 튜닝"), all);
  for (const s of ["아프리카", "누락", "기타 라벨", "대륙 혼동표"]) assert(all.includes(s), s);
  const offDiagonal = mark(root, "cell")[0].querySelectorAll("rect").length;
  assertEquals(offDiagonal, 2 * (6 * 8 - 6));
  assert(text(parseSvg(confusionChart(TABLES.confusion, "none"))).includes("no missing"));
});
