/**
 * The dataset stage: the run's nested tuning CSVs (in the layout of its API generation, padded
 * where the tuning plan says so) and its evaluation spreadsheet.
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
import { type DatasetLayout, GENERATION_PROFILES } from "../clova/mod.ts";
import { PipelineError, type RunContext } from "./run.ts";
import { planTuning, type TuningPlanEntry } from "./tuning.ts";

/** What {@link buildDatasets} made. */
export interface DatasetsResult {
  /** The file to upload per size that is tuned (padded files for padded sizes). */
  trainPaths: Map<number, string>;
  /** What happens to each size. */
  plan: TuningPlanEntry[];
  /** The CSV layout written (`single-turn` for the current API, `text-completion` for 2024). */
  layout: DatasetLayout;
  evalPath: string;
  prompts: EvaluatePrompt[];
  stats: DatasetStatsSection[];
}

/**
 * Writes the nested tuning sets (`datasets/train_<size>.csv`, UTF-8 with BOM) in the layout of
 * the run's API generation (`C_ID,T_ID,Text,Completion` for the current API, the cookbook's
 * `Text,Completion` for `legacy-2024`), a `train_<size>_padded.csv` for sizes the plan pads, and
 * the evaluation spreadsheet (`datasets/eval.xlsx`), checking that no evaluation prompt asks a
 * country set any training row asks. Deterministic: a resumed run rewrites identical files.
 */
export async function buildDatasets(ctx: RunContext): Promise<DatasetsResult> {
  const { config } = ctx.file;
  const layout = GENERATION_PROFILES[ctx.file.backend.generation ?? "legacy-2024"].datasetLayout;
  const plan = planTuning(
    config.sizes,
    ctx.file.backend.minRows ?? 0,
    config.minRowsPolicy ?? "skip",
  );
  const taxonomy = getTaxonomy(config.taxonomy);
  const sets = generateNestedTrainingSets(config.sizes, {
    seed: config.seed,
    taxonomy,
    order: config.order ?? "shuffled",
  });
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
  for (const entry of plan) {
    const { size } = entry;
    const rows = sets.get(size)!;
    const path = join(dir, `train_${size}.csv`);
    await writeTuningCsv(path, rows, { format: layout });
    if (entry.action === "tune") trainPaths.set(size, path);
    if (entry.action === "pad") {
      const padded = Array.from({ length: entry.rows }, (_, i) => rows[i % rows.length]);
      const paddedPath = join(dir, `train_${size}_padded.csv`);
      await writeTuningCsv(paddedPath, padded, { format: layout });
      trainPaths.set(size, paddedPath);
    }
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
  return { trainPaths, plan, layout, evalPath, prompts: promptsFromEvalSet(evalSet), stats };
}
