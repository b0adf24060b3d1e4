import { ok as assert } from "node:assert";
import { renderReport, worstAnswersSection } from "../lib/report/report.ts";
import { fixtureReportInput, fixtureWorstAnswers } from "./fixtures/report_fixture.ts";

Deno.test("worst answers are shown under a heading per tuning size, base model first", async () => {
  const [tuned, base] = fixtureWorstAnswers(); // sizes 50 and 0
  const html = await renderReport({ ...fixtureReportInput(), worstAnswers: [base, tuned] });
  const worst = html.slice(html.indexOf('<section id="worst">'));
  const baseAt = worst.indexOf("기본 모델 (base models, untuned)");
  const tunedAt = worst.indexOf("50개 튜닝 (tuned on 50 rows)");
  assert(baseAt > 0 && tunedAt > baseAt, "one heading per size, ascending");
  assert(worst.indexOf("e012") > baseAt && worst.indexOf("e007") > tunedAt);
  // several runs: one heading per run, then per size
  const runs = worstAnswersSection([{ name: "run one", answers: [tuned] }, {
    name: "run two",
    answers: [],
  }]);
  assert(runs.indexOf("<h3>run one</h3>") < runs.indexOf("<h3>run two</h3>"));
  assert(runs.includes("no answer with an error"));
});
