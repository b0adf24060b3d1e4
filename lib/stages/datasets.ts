/**
 * The dataset stage: the run's nested tuning CSVs and its evaluation spreadsheet.
 *
 * @module
 */
import { join } from "node:path";
import { getTaxonomy } from "../countries.ts";
import {
  checkOverlap,
  type DatasetStats,
  datasetStats,
  generateEvalSet,
  generateNestedTrainingSets,
} from "../dataset.ts";
import { writeEvalXlsx, writeTuningCsv } from "../sheets.ts";
import { type EvaluatePrompt, promptsFromEvalSet } from "../evaluate.ts";
import type { DatasetStatsSection } from "../report.ts";
import { PipelineError, type RunContext } from "./run.ts";

/** What {@link buildDatasets} made. */
export interface DatasetsResult {
  trainPaths: Map<number, string>;
  evalPath: string;
  prompts: EvaluatePrompt[];
  stats: DatasetStatsSection[];
}

/**
 * Writes the nested tuning sets (`datasets/train_<size>.csv`, UTF-8 with BOM) and the
 * evaluation spreadsheet (`datasets/eval.xlsx`), checking that no evaluation prompt asks a
 * country set any training row asks. Deterministic: a resumed run rewrites identical files.
 */
export async function buildDatasets(ctx: RunContext): Promise<DatasetsResult> {
  const { config } = ctx.file;
  const taxonomy = getTaxonomy(config.taxonomy);
  const sets = generateNestedTrainingSets(config.sizes, { seed: config.seed, taxonomy });
  const largest = sets.get(Math.max(...config.sizes))!;
  const evalSet = generateEvalSet({
    seed: config.seed,
    prompts: config.evalPrompts,
    taxonomy,
    exclude: largest.map((r) => r.countries),
  });
  // The sets are nested, so the largest holds every training row of the run.
  const overlap = checkOverlap(evalSet, largest);
  if (overlap.overlapping > 0) {
    throw new PipelineError(`evaluation set shares ${overlap.overlapping} prompts with training`);
  }
  const dir = join(ctx.dir, "datasets");
  await Deno.mkdir(dir, { recursive: true });
  const trainPaths = new Map<number, string>();
  const stats: DatasetStatsSection[] = [];
  for (const size of [...config.sizes].sort((a, b) => a - b)) {
    const rows = sets.get(size)!;
    const path = join(dir, `train_${size}.csv`);
    await writeTuningCsv(path, rows);
    trainPaths.set(size, path);
    stats.push({
      name: `튜닝 ${size.toLocaleString("en-US")}개 (train)`,
      file: `datasets/train_${size}.csv`,
      stats: datasetStats(rows, { taxonomy }),
    });
  }
  const evalPath = join(dir, "eval.xlsx");
  await writeEvalXlsx(evalPath, evalSet);
  stats.push({
    name: "평가 세트 (evaluation)",
    file: "datasets/eval.xlsx",
    stats: datasetStats(evalSet, { taxonomy }) as DatasetStats,
  });
  return { trainPaths, evalPath, prompts: promptsFromEvalSet(evalSet), stats };
}
