/**
 * The statistics step of the analysis: from a run's scored answers (as the score stage read them
 * from the journals), its `tokens.json` and the price table, the run's {@link RunStatistics} (see
 * `lib/analysis/stats/runStatistics.ts`).
 *
 * @module
 */
import { DEFAULT_PRICE_TABLE, loadPriceTable, readTokensFile } from "../tuning/mod.ts";
import type { Taxonomy } from "../countries/mod.ts";
import { type RunStatistics, runStatistics } from "./stats/runStatistics.ts";
import type { RunFile, ScoredAnswer } from "../run/mod.ts";
import { isCountryTask } from "../tasks/mod.ts";

/** Options of {@link computeRunStatistics}. */
export interface RunStatisticsOptions {
  /** Rows-needed target error probability (default 0.02). */
  target?: number;
  /** Price table file (default `data/prices.json`). */
  prices?: string | URL;
  /** Bootstrap replicates (default 1,000). */
  replicates?: number;
}

/** The statistics of a run folder's scored answers (no model is called). */
export async function computeRunStatistics(
  dir: string,
  file: RunFile,
  scored: {
    answers: readonly ScoredAnswer[];
    /** Whether the answers' mentions name asked items (default true; see `runStatistics`). */
    mentions?: boolean;
    /** What the answers were scored against (default all 193 UN members). */
    taxonomy?: Taxonomy;
  },
  options: RunStatisticsOptions = {},
): Promise<RunStatistics> {
  const tokens = await readTokensFile(dir);
  const prices = await loadPriceTable(options.prices ?? DEFAULT_PRICE_TABLE);
  return runStatistics({
    answers: scored.answers,
    mentions: scored.mentions,
    taxonomy: scored.taxonomy,
    training: tokens?.training ?? [],
    prices,
    // The mix note speaks of the cookbook's country-count × continent-count cells: the country
    // task's only (a task draws from its own mix; a dataset you bring has none).
    prompts: isCountryTask(file.task) ? file.config.evalPrompts : undefined,
    target: options.target,
    replicates: options.replicates,
  });
}
