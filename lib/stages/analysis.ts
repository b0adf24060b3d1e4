/**
 * The analysis stage: scores, tables and the report of a run, from its files.
 *
 * @module
 */
import { getTaxonomy, type Taxonomy } from "../countries.ts";
import { type ScoredRecord, type ScoreRow, scoreRun } from "../score.ts";
import type { Analysis } from "../analyze.ts";
import type { DatasetStatsSection, WorstAnswer } from "../report.ts";
import { readRunFile } from "./run.ts";
import { tuningPlanNotes } from "./tuning.ts";
import type { RunStatistics } from "../stats/runStatistics.ts";

/**
 * The analysis and report modules, loaded when a run is analysed: they bring nodejs-polars,
 * Observable Plot and linkedom, which the other stages (and `--help`) do without.
 */
function loadReporting() {
  return Promise.all([
    import("../analyze.ts"),
    import("../report.ts"),
    import("./statistics.ts"),
  ]);
}

/** Scores, tables and the report of a run, computed from its files alone. */
export interface RunAnalysis {
  scored: ScoredRecord[];
  rows: ScoreRow[];
  analysis: Analysis;
  /** Paired comparisons, learning curves, country errors and cost (see `lib/stats/`). */
  statistics: RunStatistics;
  /** Journal records with no answer (permanent failures), not scored. */
  failedAnswers: number;
  reportPath: string;
}

/**
 * Scores every journal of a run (`answers/*.jsonl`) without calling any model, writes
 * `scores.csv`, builds the tables beside the cookbook's published ones and writes `report.html`.
 */
export async function analyzeRun(
  dir: string,
  options: {
    datasetStats?: DatasetStatsSection[];
    notes?: string[];
    taxonomy?: Taxonomy;
    /** Error probability the "rows needed" estimate is for (default 0.02). */
    target?: number;
  } = {},
): Promise<RunAnalysis> {
  const [{ analyze, loadPublishedTables, readTrainLosses }, report, stats] = await loadReporting();
  const { computeRunStatistics, statsRunOf } = stats;
  const { loadCookbookImages, pickWorstAnswers, writeReport } = report;
  const file = await readRunFile(dir);
  // By default answers are scored against all 193 members, whichever list the datasets drew
  // from, so a model naming DR Congo is never counted as naming an unknown country.
  const { rows, scored, failed: failedAnswers } = await scoreRun(dir, {
    taxonomy: options.taxonomy ?? getTaxonomy("un"),
  });
  const trainLoss = await readTrainLosses(dir);
  const analysis = analyze(rows, { trainLoss });
  const statistics = await computeRunStatistics(dir, file, scored, { target: options.target });
  const published = await loadPublishedTables();
  const worst: WorstAnswer[] = scored.map((s) => ({
    label: s.row.label,
    model: s.row.model,
    size: s.row.size,
    promptId: s.row.promptId,
    repeat: s.row.repeat,
    countries: s.record.countries,
    countryCount: s.row.countryCount,
    continentCount: s.row.continentCount,
    text: s.record.text,
    score: s.score,
  }));
  const notes = [...(options.notes ?? []), ...tuningPlanNotes(file)];
  if (failedAnswers > 0) {
    notes.push(`${failedAnswers} prompts have no answer (permanent API failures); not scored.`);
  }
  const reportPath = await writeReport(dir, {
    runId: file.runId,
    created: file.created,
    backend: file.backend,
    config: { ...file.config, versions: file.versions },
    datasets: options.datasetStats ?? [],
    sizeSummaries: [...analysis.bySize, ...published],
    groupSummaries: [...analysis.byCountryCount, ...analysis.byContinentCount],
    worstAnswers: pickWorstAnswers(worst, 2),
    cookbookImages: await loadCookbookImages(),
    notes,
    statistics: statsRunOf(file, analysis.bySize, statistics),
  });
  return { scored, rows, analysis, statistics, failedAnswers, reportPath };
}
