/**
 * A process that rewrites one file again and again with one of the run's writers, for the tests
 * that kill a writer mid-write: `deno run -A tests/helpers/writer.ts <csv|xlsx|report|scores>
 * <path>`. For `scores`, `<path>` is a run folder holding `answers/*.jsonl`.
 */
import { dirname } from "node:path";
import { generateTrainingSet } from "../../lib/datasets/generator.ts";
import { writeTuningCsv } from "../../lib/datasets/sheets.ts";
import { writeAnswerSheet } from "../../lib/answers/answerSheet.ts";
import { writeReport } from "../../lib/report/report.ts";
import { scoreRun } from "../../lib/scoring/score.ts";
import { fixtureRecord, fixtureReportInput } from "../fixtures/report_fixture.ts";

/** The records the `xlsx` writer writes (also used by the test to check a complete file). */
export function sheetRecords(n: number) {
  return Array.from({ length: n }, (_, i) =>
    fixtureRecord({
      label: "HCX-003",
      model: "HCX-003",
      size: 0,
      id: `e${String(i + 1).padStart(5, "0")}`,
      repeat: 0,
      countries: ["한국", "일본", "프랑스"],
      countryCount: 3,
      continentCount: 2,
      text: "아시아: 한국, 일본\n유럽: 프랑스\n".repeat(20),
    }));
}

if (import.meta.main) {
  const [kind, path] = Deno.args;
  const rows = kind === "csv" ? generateTrainingSet({ rows: 20_000, seed: 3 }) : [];
  const records = kind === "xlsx" ? sheetRecords(3000) : [];
  const input = kind === "report" ? fixtureReportInput() : undefined;
  console.log("ready");
  for (;;) {
    if (kind === "csv") await writeTuningCsv(path, rows);
    else if (kind === "xlsx") await writeAnswerSheet(path, records);
    else if (kind === "report") await writeReport(dirname(path), input!);
    else if (kind === "scores") await scoreRun(path);
    else throw new Error(`unknown writer ${kind}`);
  }
}
