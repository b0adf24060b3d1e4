/**
 * The analysis stages (no model is called; the scored answers pass from the first to the second
 * in memory, the report reads only files):
 *
 * 1. **score** — the journals `answers/*.jsonl` → each answer's record with its verdict (a
 *    `ScoredAnswer`), written as `scores.csv` (one line per answer);
 * 2. **summarize** — those scored answers, `tasks.json` and `tokens.json` → `summary.json` (the
 *    tables by size, country count and continent count, the worst answers, and the run's
 *    statistics: paired comparisons, curves, country errors and cost), every part read from the
 *    same scored answers, none scored again;
 * 3. **report** — `run.json`, `datasets.json` and `summary.json` → `report.html`.
 *
 * They read the run folder and write into `outDir` (default: the run folder itself), so a notebook
 * can analyse a run it did not make without writing into it. The same files give the same report,
 * byte for byte, whether `reproduce` or `deno task score` made it.
 *
 * @module
 */
import { join } from "node:path";
import { cookbookCounterpart, isLocalModel } from "../backends/mod.ts";
import { getTaxonomy, type Taxonomy } from "../countries/mod.ts";
import { scoreRun } from "../scoring/mod.ts";
import { writeJsonAtomic } from "../io/mod.ts";
import {
  readDatasets,
  readRunFile,
  readSummary,
  readTasks,
  RUN_FILES,
  type RunSummary,
  RunSummarySchema,
  type ScoredAnswer,
  type TaxonomyList,
} from "../run/mod.ts";
import { tuningPlanNotes } from "../tuning/mod.ts";
import {
  analyze,
  computeRunStatistics,
  loadPublishedTables,
  RunStatisticsSchema,
  scoresFrame,
  worstAnswerKeys,
} from "../analysis/mod.ts";
import { loadCookbookImages, writeReport } from "./report.ts";
import { statsRunOf } from "./statsReport.ts";
import { confusionTable, type LabelScore, runScoring, termsOf } from "../tasks/mod.ts";

type LabelOutcome = Pick<LabelScore, "expected" | "answered">;

/** Worst answers per tuning size kept in `summary.json` and shown in the report. */
const WORST_ANSWERS_PER_SIZE = 2;

/** What {@link analyzeRun} wrote, and the answers it scored. */
export interface RunAnalysis {
  summary: RunSummary;
  /** Every answer scored, journal by journal (the records `summary.json` was made from). */
  answers: readonly ScoredAnswer[];
  scoresPath: string;
  summaryPath: string;
  reportPath: string;
}

/**
 * The cookbook's published rows of the model each local model stands in for, under the local
 * model's name, so its tables and charts keep the cookbook's figures beside its own.
 */
function standInRows<R extends { model: string }>(
  published: readonly R[],
  models: readonly string[],
) {
  return models.filter(isLocalModel).flatMap((m) =>
    published.filter((r) => r.model === cookbookCounterpart(m)).map((r) => ({ ...r, model: m }))
  );
}

/** The key of one answer: its label, prompt index and repeat. */
const answerKey = (a: { label: string; index: number; repeat: number }) =>
  `${a.label}\u0000${a.index}\u0000${a.repeat}`;

/**
 * Summarizes the scored answers (and the run's `tasks.json` for train losses) into
 * `outDir/summary.json`. The answers come as the score stage scored them, and the tables, the
 * worst answers and the statistics all read them (nothing is read back or scored again).
 */
async function summarizeRun(
  runDir: string,
  outDir: string,
  scoring: {
    journals: RunSummary["journals"];
    taxonomy: Taxonomy;
    /** Every scored answer. */
    answers: readonly ScoredAnswer[];
    /** Whether the verdicts' mentions name asked items (the per-item error tables read them). */
    mentions: boolean;
    /** Error probability the "rows needed" estimate is for (default 0.02). */
    target?: number;
    /** For `label`: expected × answered label counts per model × size. */
    labelConfusion?: RunSummary["labelConfusion"];
  },
): Promise<RunSummary> {
  const frame = scoresFrame(scoring.answers);
  const trainLoss = (await readTasks(runDir)).map((t) => ({
    model: t.model,
    size: t.size,
    trainLoss: t.trainLoss,
  }));
  const analysis = analyze(frame, { trainLoss });
  const errored = new Map(
    scoring.answers.filter((a) => a.score.hasError).map((a) => [answerKey(a.record), a]),
  );
  const worst = worstAnswerKeys(frame, WORST_ANSWERS_PER_SIZE).map((key) =>
    errored.get(answerKey(key))!
  );
  const summary: RunSummary = RunSummarySchema.parse({
    scoredWith: scoring.taxonomy.list as TaxonomyList,
    journals: scoring.journals,
    answers: scoring.journals.reduce((n, j) => n + j.answered, 0),
    failedAnswers: scoring.journals.reduce((n, j) => n + j.failed, 0),
    bySize: analysis.bySize,
    byCountryCount: analysis.byCountryCount,
    byContinentCount: analysis.byContinentCount,
    worst,
    statistics: await computeRunStatistics(runDir, await readRunFile(runDir), scoring, {
      target: scoring.target,
    }),
    ...(scoring.labelConfusion ? { labelConfusion: scoring.labelConfusion } : {}),
  });
  await writeJsonAtomic(join(outDir, RUN_FILES.summary), summary);
  return summary;
}

/**
 * Renders `outDir/report.html` from the run's `run.json` and `datasets.json` and
 * `outDir/summary.json`, beside the cookbook's published tables and figures.
 */
export async function reportRun(runDir: string, outDir: string): Promise<string> {
  const file = await readRunFile(runDir);
  const summary = await readSummary(outDir);
  // The cookbook's figures stand beside the country task's only.
  const terms = termsOf(file.task);
  const published = terms.cookbook ? await loadPublishedTables() : [];
  const notes: string[] = [...tuningPlanNotes(file)];
  if (summary.failedAnswers > 0) {
    notes.push(
      `${summary.failedAnswers} prompts have no answer (permanent API failures); not scored.`,
    );
  }
  return await writeReport(outDir, {
    runId: file.runId,
    created: file.created,
    backend: file.backend,
    config: { ...file.config, versions: file.versions },
    datasets: await readDatasets(runDir),
    sizeSummaries: [
      ...summary.bySize,
      ...published,
      ...standInRows(published, file.config.models),
    ],
    groupSummaries: [...summary.byCountryCount, ...summary.byContinentCount],
    worstAnswers: summary.worst,
    cookbookImages: terms.cookbook ? await loadCookbookImages() : [],
    notes,
    statistics: statsRunOf(file, summary.bySize, RunStatisticsSchema.parse(summary.statistics)),
    ...(file.task ? { task: file.task, terms } : {}),
    ...(summary.labelConfusion ? { labelConfusion: summary.labelConfusion } : {}),
  });
}

/**
 * Scores every journal of a run, summarizes the scores and renders the report (the three stages
 * above), reading the run folder `dir` and writing into `outDir` (default `dir`).
 */
export async function analyzeRun(
  dir: string,
  options: {
    taxonomy?: Taxonomy;
    outDir?: string;
    /** Error probability the "rows needed" estimate is for (default 0.02). */
    target?: number;
  } = {},
): Promise<RunAnalysis> {
  const outDir = options.outDir ?? dir;
  await Deno.mkdir(outDir, { recursive: true });
  // By default answers are scored against all 193 members, whichever list the datasets drew
  // from, so a model naming DR Congo is never counted as naming an unknown country; a run with a
  // task, against its task's taxonomy.
  // A run.json that cannot be read is reported where the summary reads it, after the journals
  // are scored (their problems come first, as in a folder of journals alone).
  const task = await readRunFile(dir).then((f) => f.task, () => undefined);
  const scoring = await runScoring(task, dir);
  const taxonomy = options.taxonomy ?? scoring.taxonomy ?? getTaxonomy("un");
  const answers: ScoredAnswer[] = [];
  const labels = new Map<string, { model: string; size: number; seen: LabelOutcome[] }>();
  const scored = await scoreRun(dir, {
    taxonomy,
    score: scoring.score,
    outDir,
    onScored: (answer) => {
      answers.push(answer);
      if (scoring.label) {
        const { model, size } = answer.record;
        const key = `${model}\u0000${size}`;
        const at = labels.get(key) ?? { model, size, seen: [] };
        at.seen.push(scoring.label(answer.record));
        labels.set(key, at);
      }
    },
  });
  const summary = await summarizeRun(dir, outDir, {
    journals: scored.journals,
    taxonomy,
    answers,
    // Mentions name asked items only where the prompt records them.
    mentions: scoring.mentions,
    target: options.target,
    labelConfusion: scoring.label
      ? [...labels.values()].sort((a, b) =>
        (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) ||
        a.size - b.size
      ).map(({ model, size, seen }) => ({ model, size, ...confusionTable(seen) }))
      : undefined,
  });
  const reportPath = await reportRun(dir, outDir);
  return {
    summary,
    answers,
    scoresPath: scored.scoresPath,
    summaryPath: join(outDir, RUN_FILES.summary),
    reportPath,
  };
}
