/**
 * `deno task score --run results/<run-id> [--list un|cookbook]`: re-scores a finished run from its
 * journals (no model is called) and writes `scores.csv`, `summary.json` and — for a full run (one
 * with `run.json`) — `report.html`, then prints the summary per model × size. When the scoring
 * rules have not changed, the report comes out byte for byte as the run first wrote it.
 *
 * A folder of journals without `run.json` (e.g. `deno task evaluate` output in `answers/`) gets
 * `scores.csv` only. A run that stopped before any answer was journaled is named in one line with
 * the command that continues it (exit 1).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { choiceFlag, parseFlags, printUsage, runCli, UsageError } from "./args.ts";
import type { ScoredAnswer } from "../run/mod.ts";

const USAGE = `usage: deno task score --run results/<run-id> [--list un|cookbook] [--target 2%]

  --run DIR            a run folder (or any folder with answers/*.jsonl)
  --list un|cookbook   country list answers are scored against (default un: all 193 members)
  --target P           error probability the report's "rows needed" is estimated for (default 2%)`;

const OPTIONS = {
  run: { type: "string" },
  list: { type: "string" },
  target: { type: "string" },
} as const;

/** Parses flags, scores the run and prints the summary; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const values = parseFlags(args, OPTIONS);
  if (values.help) return printUsage(USAGE);
  if (values.run === undefined) throw new UsageError("--run is required");
  const list = choiceFlag("list", values.list, ["un", "cookbook"]) ?? "un";
  const { parseTarget } = await import("../analysis/mod.ts");
  const target = values.target === undefined ? undefined : parseTarget(values.target);
  if (typeof target === "string") throw new UsageError(target);
  const runDir = values.run.replace(/\/+$/, "");
  const { exists, readTasks, RUN_FILES } = await import("../run/mod.ts");
  const journals = await journalCount(join(runDir, "answers"));
  if (!journals && await exists(join(runDir, RUN_FILES.run))) {
    // A run that stopped before answering (a failed tuning attempt): nothing to score yet.
    const parent = dirname(runDir);
    console.error(
      `score: ${runDir} is an incomplete run (no answers journaled yet); continue it with: ` +
        `deno task reproduce --resume --run ${basename(runDir)}` +
        (parent === "results" ? "" : ` --results ${parent}`),
    );
    return 1;
  }
  if (journals === undefined) {
    throw new UsageError(`--run ${runDir}: no answers/ folder there (is it results/<run-id>?)`);
  }
  const { getTaxonomy } = await import("../countries/mod.ts");
  const taxonomy = getTaxonomy(list);
  const { acquireLock } = await import("../io/mod.ts");
  const lock = await acquireLock(join(runDir, RUN_FILES.lock), `deno task score ${args.join(" ")}`);
  try {
    const { sizeSummaryText, summarizeBySize } = await import("../analysis/mod.ts");
    if (await exists(join(runDir, RUN_FILES.run))) {
      const { analyzeRun } = await import("../report/mod.ts");
      // A run with a task is scored against its task's taxonomy unless --list names a list.
      const result = await analyzeRun(runDir, {
        taxonomy: values.list === undefined ? undefined : taxonomy,
        target,
      });
      console.log(sizeSummaryText(result.summary.bySize));
      console.log(
        `\n${result.summary.answers} answers scored` +
          (result.summary.failedAnswers
            ? ` (${result.summary.failedAnswers} failed calls not scored)`
            : "") +
          ` → ${result.scoresPath}\nreport: ${result.reportPath}`,
      );
      return 0;
    }
    const { scoreRun } = await import("../scoring/mod.ts");
    const answers: ScoredAnswer[] = [];
    const result = await scoreRun(runDir, { taxonomy, onScored: (a) => answers.push(a) });
    const trainLoss = (await readTasks(runDir)).map((t) => ({
      model: t.model,
      size: t.size,
      trainLoss: t.trainLoss,
    }));
    console.log(
      sizeSummaryText(summarizeBySize(answers, { trainLoss })),
    );
    console.log(
      `\n${result.answers} answers from ${result.journals.length} journals scored` +
        (result.failed ? ` (${result.failed} failed calls not scored)` : "") +
        ` → ${result.scoresPath}`,
    );
    return 0;
  } finally {
    await lock.release();
  }
}

/** The number of journals (`*.jsonl`) in `dir`; undefined when there is no such folder. */
async function journalCount(dir: string): Promise<number | undefined> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile && e.name.endsWith(".jsonl")) n++;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  return n;
}

if (import.meta.main) await runCli("score", USAGE, main);
