/**
 * The dataset stage: the run's nested tuning CSVs (`datasets/train_<size>.csv`, in the layout of
 * its API generation: `C_ID,T_ID,Text,Completion` for the current API, the cookbook's
 * `Text,Completion` for `legacy-2024`), a `train_<size>_padded.csv` for sizes the tuning plan
 * pads, its evaluation spreadsheet (`datasets/eval.xlsx`) and `datasets.json` (each file's
 * SHA-256 and statistics).
 *
 * The files are deterministic from the run's config. A resumed run reuses the files whose digest
 * matches `datasets.json` and never rewrites them; a missing or damaged one is made again and must
 * come out with the recorded digest.
 *
 * @module
 */
import { join } from "node:path";
import { getTaxonomy, type Taxonomy } from "../countries/mod.ts";
import { sha256Hex, writeFileAtomic, writeJsonAtomic } from "../io/mod.ts";
import {
  checkOverlap,
  datasetStats,
  generateEvalSet,
  generateNestedTrainingSets,
} from "./generator.ts";
import { evalXlsxBytes, tuningCsv } from "./sheets.ts";
import {
  type DatasetEntry,
  DatasetsFileSchema,
  type MinRowsPolicy,
  PipelineError,
  readDatasets,
  RUN_FILES,
  type RunContext,
} from "../run/mod.ts";
import { type DatasetLayout, GENERATION_PROFILES } from "../backends/mod.ts";
import { contextLimits } from "./contextLimits.ts";
import {
  checkContext,
  datasetTaskDatasets,
  scoringTaxonomy,
  TaskError,
  taskOfRecord,
  taskRunDatasets,
} from "../tasks/mod.ts";

/** What happens to one tuning size on a backend. */
export interface TuningPlanEntry {
  size: number;
  /** `tune` as is, `pad` up to the minimum by repeating rows, or `skip` (no task). */
  action: "tune" | "pad" | "skip";
  /** Rows in the uploaded file (0 when skipped). */
  rows: number;
}

/**
 * The tuning plan: sizes at or above `minRows` are tuned as they are; smaller ones are skipped,
 * padded or refused per `policy` (refusal throws a {@link PipelineError}, before anything is
 * created).
 */
export function planTuning(
  sizes: readonly number[],
  minRows: number,
  policy: MinRowsPolicy = "skip",
): TuningPlanEntry[] {
  const small = sizes.filter((s) => s < minRows);
  if (small.length && policy === "fail") {
    throw new PipelineError(
      `tuning size ${small.join(", ")} is below this API's minimum of ${minRows} rows per ` +
        "tuning set; use --min-rows-policy skip or pad, or other --sizes. Nothing was created.",
    );
  }
  return [...sizes].sort((a, b) => a - b).map((size) =>
    size >= minRows
      ? { size, action: "tune", rows: size }
      : policy === "pad"
      ? { size, action: "pad", rows: minRows }
      : { size, action: "skip", rows: 0 }
  );
}

/** The dataset files of a run. */
export interface DatasetsResult {
  /** The file to upload per size that is tuned (padded files for padded sizes). */
  trainPaths: Map<number, string>;
  /** What happens to each size. */
  plan: TuningPlanEntry[];
  /** The CSV layout written (`single-turn` for the current API, `text-completion` for 2024). */
  layout: DatasetLayout;
  /** Path of the evaluation spreadsheet. */
  evalPath: string;
  /** What `datasets.json` holds. */
  entries: DatasetEntry[];
  /** Files written (not reused) this time. */
  written: number;
}

/** The country task's datasets, from the country list the config names. */
function countryDatasets(config: RunContext["file"]["config"], taxonomy: Taxonomy) {
  const sets = generateNestedTrainingSets(config.sizes, {
    seed: config.seed,
    taxonomy,
    order: config.order ?? "shuffled",
  });
  const evalSet = generateEvalSet({
    seed: config.seed,
    prompts: config.evalPrompts,
    taxonomy,
    exclude: sets.get(Math.max(...config.sizes))!.map((r) => r.countries),
  });
  return { sets, evalSet };
}

async function fileSha256(path: string): Promise<string | undefined> {
  try {
    return await sha256Hex(await Deno.readFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Makes (or, on resume, checks and reuses) the run's datasets, checking that no evaluation prompt
 * asks a country set any training row asks, and records them in `datasets.json`.
 */
export async function buildDatasets(ctx: RunContext): Promise<DatasetsResult> {
  const { config } = ctx.file;
  const layout = GENERATION_PROFILES[ctx.file.backend.generation ?? "legacy-2024"].datasetLayout;
  const plan = planTuning(config.sizes, ctx.file.backend.minRows ?? 0, config.minRowsPolicy);
  const dir = join(ctx.dir, "datasets");
  await Deno.mkdir(dir, { recursive: true });
  const recorded = new Map((await readDatasets(ctx.dir)).map((e) => [e.file, e]));
  const fileOf = (p: TuningPlanEntry) =>
    `datasets/train_${p.size}${p.action === "pad" ? "_padded" : ""}.csv`;
  const trainPaths = new Map(
    plan.filter((p) => p.action !== "skip").map((p) => [p.size, join(ctx.dir, fileOf(p))]),
  );
  const evalPath = join(dir, "eval.xlsx");

  // A finished dataset stage: every file recorded and unchanged.
  const wanted = [
    ...plan.map((p) => `datasets/train_${p.size}.csv`),
    ...plan.filter((p) => p.action === "pad").map(fileOf),
    "datasets/eval.xlsx",
  ];
  if (wanted.every((f) => recorded.has(f))) {
    let intact = true;
    for (const f of wanted) {
      if ((await fileSha256(join(ctx.dir, f))) !== recorded.get(f)!.sha256) intact = false;
    }
    if (intact) {
      const entries = wanted.map((f) => recorded.get(f)!);
      return { trainPaths, plan, layout, evalPath, entries, written: 0 };
    }
  }

  // A run with a task draws from the task's taxonomy, mixes and templates; without one, from the
  // country list (the two give the same files for the country task).
  // A dataset you bring is drawn from its copies in the run folder.
  const record = ctx.file.task;
  const task = record?.kind === "taxonomy" ? await taskOfRecord(record) : undefined;
  const taxonomy = task ? scoringTaxonomy(task) : getTaxonomy(config.taxonomy);
  const { sets, evalSet } = record?.kind === "dataset"
    ? await datasetTaskDatasets(record, ctx.dir, { sizes: config.sizes, seed: config.seed })
    : task
    ? taskRunDatasets(task, {
      sizes: config.sizes,
      seed: config.seed,
      order: config.order ?? "shuffled",
      prompts: config.evalPrompts,
    })
    : countryDatasets(config, taxonomy);
  const largest = sets.get(Math.max(...config.sizes))!;
  // The sets are nested, so the largest holds every training row of the run. (Prompts you bring
  // record no items to compare: their overlap is yours to judge.)
  const overlap = record?.kind === "dataset" ? { overlapping: 0 } : checkOverlap(evalSet, largest);
  if (overlap.overlapping > 0) {
    throw new PipelineError(`evaluation set shares ${overlap.overlapping} prompts with training`);
  }
  // A task's rows can be longer than a model takes (long item names, many items a row): refused
  // here, before any file is written (a new run's folder is then removed).
  if (task) {
    try {
      checkContext(
        [
          ...largest.map((r) => ({
            user: r.text,
            completion: r.completion,
            where: `tuning row ${r.id}`,
          })),
          ...evalSet.map((p) => ({
            system: p.system,
            user: p.user,
            where: `evaluation prompt ${p.id}`,
          })),
        ],
        await contextLimits(config.models),
      );
    } catch (e) {
      if (e instanceof TaskError) throw new PipelineError(`task ${task.name}: ${e.message}`);
      throw e;
    }
  }
  const entries: DatasetEntry[] = [];
  let written = 0;
  const place = async (file: string, bytes: Uint8Array) => {
    const digest = await sha256Hex(bytes);
    const before = recorded.get(file);
    if (before && before.sha256 !== digest) {
      throw new PipelineError(
        `${join(ctx.dir, file)}: the dataset generator no longer makes the file this run was ` +
          `made with (SHA-256 ${digest.slice(0, 12)}…, recorded ${before.sha256.slice(0, 12)}…)`,
      );
    }
    const path = join(ctx.dir, file);
    if ((await fileSha256(path)) !== digest) {
      await writeFileAtomic(path, bytes);
      written++;
    }
    return digest;
  };
  const encoder = new TextEncoder();
  for (const entry of plan) {
    const { size } = entry;
    const rows = sets.get(size)!;
    const file = `datasets/train_${size}.csv`;
    entries.push({
      name: `튜닝 ${size.toLocaleString("en-US")}개 (train)`,
      file,
      kind: "train",
      size,
      sha256: await place(file, encoder.encode(tuningCsv(rows, { format: layout }))),
      stats: datasetStats(rows, { taxonomy }),
    });
    if (entry.action === "pad") {
      const padded = Array.from({ length: entry.rows }, (_, i) => rows[i % rows.length]);
      entries.push({
        name: `튜닝 ${size.toLocaleString("en-US")}개 → ${entry.rows}행 (padded)`,
        file: fileOf(entry),
        kind: "train",
        size,
        sha256: await place(fileOf(entry), encoder.encode(tuningCsv(padded, { format: layout }))),
        stats: datasetStats(padded, { taxonomy }),
      });
    }
  }
  entries.push({
    name: "평가 세트 (evaluation)",
    file: "datasets/eval.xlsx",
    kind: "eval",
    size: 0,
    sha256: await place("datasets/eval.xlsx", await evalXlsxBytes(evalSet)),
    stats: datasetStats(evalSet, { taxonomy }),
  });
  await writeJsonAtomic(join(ctx.dir, RUN_FILES.datasets), DatasetsFileSchema.parse(entries));
  return { trainPaths, plan, layout, evalPath, entries, written };
}
