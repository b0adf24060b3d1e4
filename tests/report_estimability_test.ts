/**
 * What a report says when a statistic cannot be estimated, and whose figures it names: a nearly
 * flat curve's "rows needed" is ∞, never a 30-digit number; data with every answer wrong have no
 * fitted curve; the cookbook's points carry the cookbook model's name; the published models get no
 * sections of their own in a run that did not use them; and the emulator's models, one model by
 * construction, are said to be so instead of being compared.
 */
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import { analyze, loadPublishedTables } from "../lib/analysis/tables.ts";
import { renderReport } from "../lib/report/report.ts";
import { scoreAnswer } from "../lib/scoring/score.ts";
import { statsRunOf } from "../lib/report/statsReport.ts";
import {
  CurveFitError,
  fitLearningCurve,
  MAX_EXTRAPOLATION,
  rowsNeeded,
  type SizedOutcome,
} from "../lib/analysis/stats/curve.ts";
import { runStatistics } from "../lib/analysis/stats/runStatistics.ts";
import type { ScoredAnswer } from "../lib/run/schema.ts";
import { scoredAnswer } from "./helpers/scored.ts";
import { statisticsSections } from "../lib/report/statsReport.ts";
import { RunConfigSchema, type RunFile } from "../lib/run/schema.ts";
import { fixtureReportInput } from "./fixtures/report_fixture.ts";

const COOKBOOK_DIR = new URL("../data/cookbook/", import.meta.url);
const ASKED = ["프랑스", "일본", "이집트"];
const RIGHT = "유럽: 프랑스\n아시아: 일본\n아프리카: 이집트";
const WRONG = "유럽: 프랑스\n아시아: 일본, 이집트";
/** A number of 13 digits or more, as the reader would see it (with or without separators). */
const ABSURD = /\d{13,}|\d{1,3}(,\d{3}){4,}/;

/** Answers of `models`, 20 prompts each: at each size, the first `errs[size]` are wrong. */
function answers(models: readonly string[], errs: Record<number, number>): ScoredAnswer[] {
  return models.flatMap((model) =>
    Object.entries(errs).flatMap(([size, k]) =>
      Array.from({ length: 20 }, (_, i) => {
        const score = scoreAnswer(ASKED, i < k ? WRONG : RIGHT);
        return scoredAnswer({
          label: Number(size) === 0 ? model : `${model}@${size}`,
          model,
          size: Number(size),
          promptId: `e${String(i).padStart(3, "0")}`,
          index: i,
          countries: ASKED,
          continentCount: 3,
        }, score);
      })
    )
  );
}

function bySizeOf(run: ScoredAnswer[]) {
  return analyze(run).bySize;
}

function runFile(models: string[], backendName: string): RunFile {
  return {
    runId: "r1",
    created: "2026-12-07T00:00:00.000Z",
    config: RunConfigSchema.parse({ models, sizes: [50, 100, 200, 500] }),
    backend: { kind: "emulator", name: backendName },
    versions: {},
  };
}

Deno.test("rows needed: a crossing far beyond the sizes measured is not reached (∞), not a number", () => {
  // As the local backend's quick sweep: every answer wrong up to 200 rows, 99 of 100 at 500.
  const outcomes: SizedOutcome[] = [50, 100, 200, 500].flatMap((size) =>
    Array.from({ length: 100 }, (_, i) => ({
      size,
      promptId: `e${i}`,
      hasError: !(size === 500 && i === 0),
    }))
  );
  const r = rowsNeeded(outcomes, 0.02, { replicates: 200 });
  assertEquals(r.estimate, Infinity);
  assertEquals(r.high, Infinity);
  // Replicates that cross only beyond the limit count as never reaching the target.
  assert(r.notReached > 0.975, `${r.notReached}`);
  assert(!(r.low < MAX_EXTRAPOLATION * 500), `low ${r.low}`);
});

Deno.test("learning curve: data with every answer wrong (or none) have no fit", () => {
  const all = [50, 100, 200, 500].map((size) => ({ size, answers: 100, errors: 100 }));
  throws(() => fitLearningCurve(all), CurveFitError);
  throws(() => fitLearningCurve(all.map((p) => ({ ...p, errors: 0 }))), CurveFitError);
});

Deno.test("report: rows needed not estimable is said so, and no absurd number is printed", () => {
  const run = [
    ...answers(["local-1m"], { 0: 20, 50: 20, 100: 20, 200: 20, 500: 20 }),
    ...answers(["local-250k"], { 0: 20, 50: 20, 100: 20, 200: 20, 500: 19 }),
  ];
  const stats = runStatistics({ answers: run, prompts: 20, replicates: 100 });
  const [all, nearly] = stats.curves;
  assertEquals(all.fit, null);
  assert(all.problem?.includes("every answer at every tuning size has an error"));
  assert(nearly.fit !== null && nearly.rowsNeeded?.estimate === null);
  const html = statisticsSections([{
    name: "local",
    runId: "r1",
    bySize: bySizeOf(run),
    statistics: stats,
  }]);
  assert(html.includes("추정 불가 (not estimable)"), "the all-wrong model's rows needed");
  assert(html.includes("∞: 도달 안 함 (not reached within the sizes measured"), "the flat one's");
  const text = html.replace(/<[^>]*>/g, " "); // what a reader sees, not SVG coordinates
  assert(!ABSURD.test(text), text.match(ABSURD)?.[0]);
});

Deno.test("report: the cookbook's points beside a local model carry the cookbook model's name", async () => {
  const run = answers(["local-1m"], { 0: 20, 50: 16, 100: 8, 200: 2, 500: 1 });
  const stats = runStatistics({ answers: run, prompts: 20, replicates: 50 });
  // The analysis stage lists the cookbook's HCX-003 rows under the local model standing in for it.
  const published = (await loadPublishedTables(COOKBOOK_DIR))
    .filter((r) => r.model === "HCX-003").map((r) => ({ ...r, model: "local-1m" }));
  const html = statisticsSections(
    [{ name: "local", runId: "r1", bySize: bySizeOf(run), statistics: stats }],
    { cookbook: published },
  );
  assert(html.includes("쿡북 (cookbook, published) · HCX-003"));
  assert(!html.includes("쿡북 (cookbook, published) · local-1m"));
});

Deno.test("report: no sections for the published models a run did not use", async () => {
  const published = await loadPublishedTables(COOKBOOK_DIR);
  const input = fixtureReportInput("local-1m");
  const html = await renderReport({
    ...input,
    sizeSummaries: [...input.sizeSummaries, ...published],
  });
  assert(html.includes('id="tables-local-1m"') && html.includes('id="charts-local-1m"'));
  for (const model of ["HCX-003", "HCX-DASH-001"]) {
    assert(!html.includes(`id="tables-${model}"`), `tables of ${model}`);
    assert(!html.includes(`id="charts-${model}"`), `charts of ${model}`);
  }
  assert(!html.includes("데이터 없음"), "an empty chart was drawn");
});

Deno.test("report: the emulator's models, one model by construction, are said to be so, not compared", () => {
  const models = ["HCX-003", "HCX-DASH-001"];
  const run = answers(models, { 0: 20, 50: 16, 100: 8, 200: 2, 500: 0 });
  const stats = runStatistics({ answers: run, prompts: 20, replicates: 50 });
  const emulator = statsRunOf(
    runFile(models, "local CLOVA Studio emulator — reference learner"),
    bySizeOf(run),
    stats,
  );
  assert(emulator.identicalModels?.includes("same model by construction"));
  const html = statisticsSections([emulator]);
  const paired = html.slice(html.indexOf('<section id="paired">'), html.indexOf('id="steps"'));
  assert(paired.includes('class="note identical-models"'), "the note replaces the comparison");
  assert(!paired.includes("<table"), "no table of zero differences");
  assert(!paired.includes("구분 불가"), "no verdict on a difference that cannot exist");
  // Local models are different models: they are compared.
  const local = statsRunOf(
    runFile(["local-1m", "local-250k"], "local"),
    bySizeOf(answers(["local-1m", "local-250k"], { 50: 16, 100: 8 })),
    runStatistics({
      answers: answers(["local-1m", "local-250k"], { 50: 16, 100: 8 }),
      prompts: 20,
      replicates: 50,
    }),
  );
  assertEquals(local.identicalModels, undefined);
  assert(statisticsSections([local]).includes("local-1m vs local-250k"));
});
