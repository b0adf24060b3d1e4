/**
 * The analysis stages, each a function of files (no model is called, nothing is kept from an
 * earlier stage in memory):
 *
 * 1. **score** — the journals `answers/*.jsonl` → `scores.csv` (one row per answer);
 * 2. **summarize** — `scores.csv`, `tasks.json` and `tokens.json` → `summary.json` (the tables by
 *    size, country count and continent count, the worst answers re-read from their journals, and
 *    the run's statistics: paired comparisons, curves, country errors and cost, from the answers
 *    the score stage read);
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
  type ScoreRow,
  type TaxonomyList,
} from "../run/mod.ts";
import { tuningPlanNotes, type UsageRecord } from "../tuning/mod.ts";
import {
  analyze,
  computeRunStatistics,
  loadPublishedTables,
  RunStatisticsSchema,
  scoresFrame,
  type StatisticsAnswer,
  worstAnswerKeys,
} from "../analysis/mod.ts";
import { loadCookbookImages, writeReport } from "./report.ts";
import { statsRunOf } from "./statsReport.ts";
import { confusionTable, type LabelScore, runScoring, termsOf } from "../tasks/mod.ts";

type LabelOutcome = Pick<LabelScore, "expected" | "answered">;

/** Worst answers per tuning size kept in `summary.json` and shown in the report. */
const WORST_ANSWERS_PER_SIZE = 2;

/** What {@link analyzeRun} wrote. */
export interface RunAnalysis {
  summary: RunSummary;
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
 * `outDir/summary.json`. The answers come as the score stage scored them: their rows for the
 * tables, and every answer with an error, record and verdict, for the worst answers' drill-down
 * (nothing is read back or scored again).
 */
async function summarizeRun(
  runDir: string,
  outDir: string,
  scoring: {
    journals: RunSummary["journals"];
    taxonomy: Taxonomy;
    /** Every answer's score row. */
    rows: readonly ScoreRow[];
    /** The answers with an error, by {@link answerKey}: the worst answers are among them. */
    errored: ReadonlyMap<string, ScoredAnswer>;
    /** Every scored answer and its usage, for the statistics. */
    answers: readonly StatisticsAnswer[];
    usage: readonly UsageRecord[];
    /** Error probability the "rows needed" estimate is for (default 0.02). */
    target?: number;
    /** For `label`: expected × answered label counts per model × size. */
    labelConfusion?: RunSummary["labelConfusion"];
  },
): Promise<RunSummary> {
  const frame = scoresFrame(scoring.rows);
  const trainLoss = (await readTasks(runDir)).map((t) => ({
    model: t.model,
    size: t.size,
    trainLoss: t.trainLoss,
  }));
  const analysis = analyze(frame, { trainLoss });
  const worst = worstAnswerKeys(frame, WORST_ANSWERS_PER_SIZE).map((key) =>
    scoring.errored.get(answerKey(key))!
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
  const rows: ScoreRow[] = [];
  const errored = new Map<string, ScoredAnswer>();
  const answers: StatisticsAnswer[] = [];
  const usage: UsageRecord[] = [];
  const labels = new Map<string, { model: string; size: number; seen: LabelOutcome[] }>();
  const scored = await scoreRun(dir, {
    taxonomy,
    score: scoring.score,
    outDir,
    onScored: ({ record, score, row }) => {
      rows.push(row);
      if (row.hasError) errored.set(answerKey(row), { record, score });
      answers.push({
        label: row.label,
        model: row.model,
        size: row.size,
        promptId: row.promptId,
        repeat: row.repeat,
        hasError: row.hasError,
        countries: record.prompt.countries,
        // Mentions name asked items only where the prompt records them.
        score: { mentions: scoring.mentions ? score.mentions : [] },
      });
      usage.push({ model: row.model, size: row.size, ...record.usage });
      if (scoring.label) {
        const key = `${row.model}\u0000${row.size}`;
        const at = labels.get(key) ?? { model: row.model, size: row.size, seen: [] };
        at.seen.push(scoring.label(record));
        labels.set(key, at);
      }
    },
  });
  const summary = await summarizeRun(dir, outDir, {
    journals: scored.journals,
    taxonomy,
    rows,
    errored,
    answers,
    usage,
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
    scoresPath: scored.scoresPath,
    summaryPath: join(outDir, RUN_FILES.summary),
    reportPath,
  };
}
