/**
 * Chart text a reader must be able to read: no cookbook dash strikes through a value label, the
 * learning curve labels every tick of its log axis (50 and 500 included), and a model with no
 * price gets its tokens without columns of "unknown".
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { errorBySizeChart } from "../lib/report/charts.ts";
import { learningCurveChart } from "../lib/report/statsCharts.ts";
import { statisticsSections } from "../lib/report/statsReport.ts";
import { runStatistics } from "../lib/analysis/stats/runStatistics.ts";
import type { ScoredAnswer } from "../lib/run/schema.ts";
import { scoredAnswer } from "./helpers/scored.ts";
import type { PriceTable } from "../lib/tuning/cost.ts";
import { scoreAnswer } from "../lib/scoring/score.ts";
import { fixtureSizeSummaries } from "./fixtures/report_fixture.ts";

/** Value labels of a size chart: x, and the vertical extent of their glyphs in SVG pixels. */
function valueLabels(svg: string): { text: string; x: number; top: number; bottom: number }[] {
  const out: { text: string; x: number; top: number; bottom: number }[] = [];
  for (
    const g of svg.matchAll(
      /<g transform="translate\(0,(-?4)\)"[^>]*font-size="(\d+)"[^>]*aria-label="text">([\s\S]*?)<\/g>/g,
    )
  ) {
    const above = g[1] === "-4";
    const font = Number(g[2]);
    for (
      const t of g[3].matchAll(/<text transform="translate\(([\d.]+),([\d.]+)\)"[^>]*>([^<]*)</g)
    ) {
      const [x, y] = [Number(t[1]), Number(t[2])];
      // Above a bar the text's baseline is 4 px over y; inside, its top is 4 px under y.
      out.push(
        above
          ? { text: t[3], x, top: y - 4 - font, bottom: y - 4 + 1 }
          : { text: t[3], x, top: y + 4 - 1, bottom: y + 4 + font },
      );
    }
  }
  return out;
}

/** The cookbook's dashed marks: x range and y. */
function cookbookDashes(svg: string): { x1: number; x2: number; y: number }[] {
  const group = /<g stroke-dasharray="4,2"[^>]*aria-label="rule">([\s\S]*?)<\/g>/.exec(svg)?.[1] ??
    "";
  return [...group.matchAll(/<line y2="([\d.]+)" y1="[\d.]+" x2="([\d.]+)" x1="([\d.]+)"/g)]
    .map((m) => ({ y: Number(m[1]), x2: Number(m[2]), x1: Number(m[3]) }));
}

Deno.test("size chart: no cookbook dash strikes through a value label (0% under the cookbook's 2%)", () => {
  // The fixture's run reaches 0% at 2,000 and 10,000 rows, where the cookbook published 2% and 0%.
  const svg = errorBySizeChart(fixtureSizeSummaries(), "HCX-003");
  const labels = valueLabels(svg);
  const dashes = cookbookDashes(svg);
  assertEquals(labels.length, 14);
  assertEquals(dashes.length, 14);
  const struck = labels.filter((l) =>
    dashes.some((d) => d.x1 <= l.x && l.x <= d.x2 && l.top <= d.y && d.y <= l.bottom)
  );
  assertEquals(struck.map((l) => `${l.text} at x ${l.x}`), []);
  assert(labels.filter((l) => l.text === "0%").length >= 2, "the 0% labels are drawn");
});

Deno.test("learning curve: every tick of the log axis has its label, 50 and 500 included", () => {
  const measured = [50, 100, 200, 500].map((size, i) => ({
    size,
    rate: 0.9 - i * 0.2,
    low: 0.8 - i * 0.2,
    high: 0.95 - i * 0.2,
    errors: 90 - i * 20,
    answers: 100,
  }));
  // The cookbook's points run to 10,000 rows, as beside every run in the report.
  const cookbook = [50, 100, 200, 500, 1000, 2000, 10000].map((size) => ({
    size,
    rate: 0.5,
    low: 0.4,
    high: 0.6,
    errors: 50,
    answers: 100,
  }));
  const svg = learningCurveChart([
    { name: "local-1m", measured, band: [] },
    { name: "쿡북 (cookbook, published) · HCX-003", measured: cookbook, band: [] },
  ], { subject: "local-1m", target: 0.02 });
  const axis = /aria-label="x-axis tick label"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? "";
  const labels = [...axis.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assertEquals(labels, ["50", "100", "200", "500", "1,000", "2,000", "5,000", "10,000"]);
});

Deno.test("cost: a model with no price gets its tokens, not a column of 'unknown'", () => {
  const asked = ["프랑스", "일본", "이집트"];
  const answers: ScoredAnswer[] = [50, 100].flatMap((size) =>
    Array.from({ length: 10 }, (_, i) => {
      const score = scoreAnswer(asked, "유럽: 프랑스\n아시아: 일본\n아프리카: 이집트");
      return scoredAnswer({
        label: `local-1m@${size}`,
        model: "local-1m",
        size,
        promptId: `e${i}`,
        index: i,
        countries: asked,
        usage: { inputTokens: 40, outputTokens: 20 },
      }, score);
    })
  );
  const prices: PriceTable = {
    currency: "KRW",
    perTokens: 1000,
    vat: "excluded",
    models: {
      "HCX-003": { training: 4, input: 5, output: 5, source: "test", checked: "2026-12-01" },
    },
  };
  const stats = runStatistics({
    answers,
    prices,
    prompts: 10,
    replicates: 20,
  });
  assert(stats.cost !== null && stats.cost.rows.length > 0);
  const html = statisticsSections([{ name: "local", runId: "r1", bySize: [], statistics: stats }]);
  const cost = html.slice(html.indexOf('<section id="cost">'));
  assert(!cost.includes(">unknown<"), "a cell of 'unknown'");
  assert(cost.includes("no price: it runs on this machine, at no charge"));
  assert(cost.includes(">400<"), "the evaluation input tokens are there (10 answers × 40 a size)");
});
