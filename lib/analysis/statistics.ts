/**
 * The statistics step of the analysis: from a run's scored answers (as the score stage read them
 * from the journals), its `tokens.json` and the price table, the run's {@link RunStatistics} (see
 * `lib/analysis/stats/runStatistics.ts`), ready for the report as a {@link StatsRun}.
 *
 * @module
 */
import type { Taxonomy } from "../countries/taxonomy.ts";
import type { SizeSummary } from "./tables.ts";
import { DEFAULT_PRICE_TABLE, loadPriceTable, type UsageRecord } from "./stats/cost.ts";
import { type RunStatistics, runStatistics, type StatisticsAnswer } from "./stats/runStatistics.ts";
import type { StatsRun } from "../report/statsReport.ts";
import { readTokensFile } from "../tuning/tokens.ts";
import type { RunFile } from "../run/folder.ts";
import { isLocalModel } from "../backends/local/names.ts";

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
    answers: readonly StatisticsAnswer[];
    usage: readonly UsageRecord[];
    /** What the answers were scored against (default all 193 UN members). */
    taxonomy?: Taxonomy;
  },
  options: RunStatisticsOptions = {},
): Promise<RunStatistics> {
  const tokens = await readTokensFile(dir);
  const prices = await loadPriceTable(options.prices ?? DEFAULT_PRICE_TABLE);
  return runStatistics({
    answers: scored.answers,
    usage: scored.usage,
    taxonomy: scored.taxonomy,
    training: tokens?.training ?? [],
    prices,
    prompts: file.config.evalPrompts,
    target: options.target,
    replicates: options.replicates,
  });
}

/** A run as the statistics sections show it, named by its backend. */
export function statsRunOf(
  file: RunFile,
  bySize: readonly SizeSummary[],
  statistics: RunStatistics,
  name = file.backend.name,
): StatsRun {
  const models = file.config.models;
  const referenceLearner = file.backend.kind === "emulator" && !models.some(isLocalModel);
  return {
    name,
    runId: file.runId,
    bySize: bySize.filter((r) => r.source === "this run"),
    statistics,
    ...(referenceLearner && models.length > 1
      ? {
        identicalModels: `${models.join(", ")}: 에뮬레이터의 reference learner는 모델 이름을 ` +
          `보지 않으므로 이 실행의 모델들은 구조상 같은 모델이고, 같은 튜닝 데이터에서 같은 답을 ` +
          `냅니다. 그래서 모델 비교는 의미가 없습니다 (쿡북에서는 HCX-003이 HCX-DASH-001보다 ` +
          `훨씬 적게 틀립니다). The emulator's reference learner ignores which model is named, ` +
          `so ${models.join(" and ")} are the same model by construction and give the same ` +
          `answers from the same tuning rows: there is no model comparison to make here (in the ` +
          `cookbook, HCX-003 errs far less than HCX-DASH-001). Run on CLOVA Studio, or with ` +
          `--backend local, to compare models.`,
      }
      : {}),
  };
}
