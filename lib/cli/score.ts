/**
 * `deno task score --run results/<run-id> [--list un|cookbook]`: re-scores a finished run from its
 * journals (no model is called), writes `scores.csv`, rewrites `report.html` when the folder is a
 * full run (has `run.json`), and prints the summary per model × size.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { getTaxonomy } from "../countries.ts";
import { scoreRun } from "../score.ts";
import { analyzeRun } from "../pipeline.ts";
import { parseTarget } from "../stats/target.ts";

/** Tables and summaries (nodejs-polars), loaded once the flags are read: `--help` never waits. */
const loadAnalysis = () => import("../analyze.ts");

const USAGE =
  "usage: deno task score --run results/<run-id> [--list un|cookbook] [--target 2%]\n\n" +
  '  --target P   error probability the report\'s "rows needed" is estimated for (default 2%)';

/** Parses flags, scores the run and prints the summary; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      run: { type: "string" },
      list: { type: "string", default: "un" },
      target: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.run) {
    console.error(USAGE);
    return 2;
  }
  if (values.list !== "un" && values.list !== "cookbook") {
    console.error(`--list must be "un" or "cookbook", got ${JSON.stringify(values.list)}`);
    return 2;
  }
  const target = values.target === undefined ? undefined : parseTarget(values.target);
  if (typeof target === "string") {
    console.error(`${target}\n\n${USAGE}`);
    return 2;
  }
  const { readTrainLosses, sizeSummaryText, summarizeBySize } = await loadAnalysis();
  const runDir = values.run.replace(/\/+$/, "");
  const taxonomy = getTaxonomy(values.list);
  let fullRun = true;
  try {
    await Deno.stat(join(runDir, "run.json"));
  } catch {
    fullRun = false;
  }
  if (fullRun) {
    const result = await analyzeRun(runDir, { taxonomy, target });
    console.log(sizeSummaryText(result.analysis.bySize));
    console.log(
      `\n${result.rows.length} answers scored` +
        (result.failedAnswers ? ` (${result.failedAnswers} failed calls not scored)` : "") +
        ` → ${join(runDir, "scores.csv")}\nreport: ${result.reportPath}`,
    );
    return 0;
  }
  const result = await scoreRun(runDir, { taxonomy });
  const summary = summarizeBySize(result.rows, { trainLoss: await readTrainLosses(runDir) });
  console.log(sizeSummaryText(summary));
  console.log(
    `\n${result.rows.length} answers from ${result.journals.length} journals scored` +
      (result.failed ? ` (${result.failed} failed calls not scored)` : "") +
      ` → ${result.scoresPath}`,
  );
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`score: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
