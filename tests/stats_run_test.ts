import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { scoreAnswer } from "../lib/scoring/score.ts";
import { analyze } from "../lib/analysis/tables.ts";
import {
  compareArms,
  runStatistics,
  RunStatisticsSchema,
} from "../lib/analysis/stats/runStatistics.ts";
import type { AnswerRecord, ScoredAnswer } from "../lib/run/schema.ts";
import { scoredAnswer } from "./helpers/scored.ts";
import { statisticsSections } from "../lib/report/statsReport.ts";
import { type PriceTable, trainingTokens } from "../lib/tuning/cost.ts";

const ASKED = ["프랑스", "일본", "이집트"];
const RIGHT = "유럽: 프랑스\n아시아: 일본\n아프리카: 이집트";
const WRONG = "유럽: 프랑스\n아시아: 일본, 이집트";

/**
 * A run: model A errs on the first `errs[size]` of 20 prompts, model B on `errsB[size]`; every
 * answer reports `usage`.
 */
function answers(
  errsA: Record<number, number>,
  errsB: Record<number, number>,
  usage: AnswerRecord["usage"] = {},
): ScoredAnswer[] {
  const out: ScoredAnswer[] = [];
  for (const [model, errs] of [["A", errsA], ["B", errsB]] as const) {
    for (const [size, k] of Object.entries(errs)) {
      for (let i = 0; i < 20; i++) {
        const wrong = i < k;
        const score = scoreAnswer(ASKED, wrong ? WRONG : RIGHT);
        out.push(scoredAnswer({
          label: Number(size) === 0 ? model : `${model}@${size}`,
          model,
          size: Number(size),
          promptId: `e${String(i).padStart(3, "0")}`,
          index: i,
          countries: ASKED,
          continentCount: 3,
          usage,
        }, score));
      }
    }
  }
  return out;
}

const PRICES: PriceTable = {
  currency: "KRW",
  perTokens: 1000,
  vat: "excluded",
  models: {
    A: { training: 1, input: 1, output: 1, source: "test", checked: "2026-12-01" },
    B: { training: null, input: 1, output: 1, source: "test", checked: "2026-12-01" },
  },
};

Deno.test("runStatistics: paired model comparisons, size steps, curves, JSON round trip", () => {
  const run = answers({ 0: 20, 50: 16, 100: 8, 200: 2 }, { 0: 20, 50: 20, 100: 18, 200: 10 }, {
    inputTokens: 10,
    outputTokens: 5,
  });
  const stats = runStatistics({
    answers: run,
    prompts: 20,
    prices: PRICES,
    training: trainingTokens(["A", "B"], new Map([[50, 500], [100, 1000], [200, 2000]]), 4, "t"),
    replicates: 100,
  });
  // A vs B at each of the four sizes; errors nested, so B errs wherever A does
  assertEquals(stats.models.map((c) => [c.first.size, c.both, c.onlyFirst, c.onlySecond]), [
    [0, 20, 0, 0],
    [50, 16, 0, 4],
    [100, 8, 0, 10],
    [200, 2, 0, 8],
  ]);
  const at100 = stats.models[2];
  assertEquals(at100.design, "paired");
  // exact McNemar with b = 0, c = 10: 2 · (1/2)^10
  assert(Math.abs(at100.pValue! - 2 / 1024) < 1e-9, `${at100.pValue}`);
  assertEquals(at100.distinguishable, true);
  assertEquals(stats.models[0].distinguishable, false);
  assertEquals(stats.models[0].pairedPromptsNeeded, null);
  // three steps per model: 0 → 50 → 100 → 200
  assertEquals(stats.sizes.map((c) => `${c.first.label}>${c.second.label}`), [
    "A>A@50",
    "A@50>A@100",
    "A@100>A@200",
    "B>B@50",
    "B@50>B@100",
    "B@100>B@200",
  ]);
  assertEquals(stats.curves.map((c) => [c.model, c.fit?.points]), [["A", 3], ["B", 3]]);
  assert(stats.curves[0].rowsNeeded && stats.curves[0].fit!.slope < 0);
  assertEquals(stats.promptMix?.exact, true);
  // one misplaced country (이집트 under 아시아) per wrong answer
  const egypt = stats.countries.find((r) =>
    r.model === "A" && r.size === 100 && r.country === "이집트"
  );
  assertEquals([egypt?.misclassified, egypt?.placedUnder], [8, { 아시아: 8 }]);
  // cost: model B has no training price
  const b100 = stats.cost!.rows.find((r) => r.model === "B" && r.size === 100)!;
  assertEquals([b100.inputTokens, b100.outputTokens], [200, 100]);
  assert(Math.abs(b100.evaluationCost! - 0.3) < 1e-12 && b100.totalCost === null);
  const a100 = stats.cost!.rows.find((r) => r.model === "A" && r.size === 100)!;
  assertEquals([a100.trainedTokens, a100.trainingCost], [4000, 4]);
  // the stored shape is plain JSON and reads back the same
  const json = JSON.parse(JSON.stringify(stats));
  assertEquals(RunStatisticsSchema.parse(json), json);
});

Deno.test("compareArms: different prompts are compared unpaired", () => {
  const outcomes = (prefix: string, errs: number) =>
    Array.from(
      { length: 50 },
      (_, i) => ({ promptId: `${prefix}${i}`, repeat: 0, hasError: i < errs }),
    );
  const c = compareArms(
    "runs",
    { arm: { label: "A@100", model: "A", size: 100, run: "one" }, outcomes: outcomes("x", 25) },
    { arm: { label: "A@100", model: "A", size: 100, run: "two" }, outcomes: outcomes("y", 5) },
  );
  assertEquals(c.design, "unpaired");
  assertEquals(c.pValue, null);
  assertEquals([c.firstRate, c.secondRate], [0.5, 0.1]);
  assert(c.distinguishable && c.low > 0, `${c.low}`);
  assertEquals(c.pairedPromptsNeeded, null);
  assert(c.unpairedPromptsNeeded !== null && c.unpairedPromptsNeeded < 50);
});

Deno.test("statisticsSections: every table and chart with a sentence on how to read it", () => {
  const run = answers({ 0: 20, 50: 16, 100: 8, 200: 2 }, { 0: 20, 50: 20, 100: 18, 200: 10 });
  // The tables read the same scored answers as the statistics.
  const bySize = analyze(run).bySize;
  const stats = runStatistics({ answers: run, prompts: 20, prices: PRICES, replicates: 50 });
  const one = statisticsSections([{ name: "emulator", runId: "r1", bySize, statistics: stats }]);
  for (const id of ["curves", "paired", "steps", "planning", "countries", "cost"]) {
    assert(one.includes(`<section id="${id}">`), `section ${id}`);
  }
  assert(!one.includes(`<section id="runs">`), "no run comparison for one run");
  // one sentence per section at least, Korean and English
  assert((one.match(/<p class="note read">/g) ?? []).length >= 7);
  // learning curve per model, worst countries and confusion per model
  assertEquals((one.match(/<svg xmlns=/g) ?? []).length, 2 + 2 + 2);
  assert(one.includes("구분 불가 (cannot tell apart)") && one.includes("구분됨 (differ)"));
  const outcomesOf = (label: string) =>
    run.filter((a) => a.record.label === label).map(({ record, score }) => ({
      promptId: record.prompt.id,
      repeat: record.repeat,
      hasError: score.hasError,
    }));
  const two = statisticsSections([
    { name: "emulator · shuffled", runId: "r1", bySize, statistics: stats },
    { name: "emulator · grouped", runId: "r2", bySize, statistics: stats },
  ], {
    runComparisons: [compareArms(
      "runs",
      {
        arm: { label: "A@100", model: "A", size: 100, run: "emulator · shuffled" },
        outcomes: outcomesOf("A@100"),
      },
      {
        arm: { label: "A@100", model: "A", size: 100, run: "emulator · grouped" },
        outcomes: outcomesOf("A@100"),
      },
    )],
  });
  assert(two.includes(`<section id="runs">`));
  assert(two.includes("emulator · shuffled vs emulator · grouped"));
  // the curves overlay both runs in one chart per model
  assertEquals((two.match(/chart-curve/g) ?? []).length, 2);
  assert(two.includes("emulator · grouped · A"));
  assert(!/NaN|undefined/.test(one + two));
});
