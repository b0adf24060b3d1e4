/**
 * The experiment's stages, shared by `deno task reproduce`, `deno task score` and the notebooks:
 * run folder → datasets → tuning tasks → batch answers → scores → tables, charts and report.html.
 *
 * Each stage lives in `lib/stages/` and reads what the previous one wrote in `results/<run-id>/`
 * (see `../shared/design.md`), so a run can be resumed (`resume: true`) or re-scored without
 * calling any model.
 *
 * @module
 */
import { join } from "node:path";
import type { BackendInfo } from "./report.ts";
import type { ProgressMode } from "./progress.ts";
import {
  DEFAULT_RUN_CONFIG,
  latestRun,
  newRunId,
  PipelineError,
  prepareRun,
  readTasks,
  type RunConfig,
  type TaskEntry,
} from "./stages/run.ts";
import {
  type Backend,
  type BackendChoice,
  checkTuningStorage,
  openBackend,
} from "./stages/backend.ts";
import { buildDatasets } from "./stages/datasets.ts";
import { planTuning, preflightDatasets, tuneAll, tuningPlanNotes } from "./stages/tuning.ts";
import { evaluateAll, type EvaluationEntry } from "./stages/answers.ts";
import { analyzeRun, type RunAnalysis } from "./stages/analysis.ts";
import { countTrainingTokens, readTuningRows, tuningConfirmation } from "./stages/tokens.ts";
import { loadPriceTable } from "./stats/cost.ts";
import { promptMix } from "./stats/promptMix.ts";

export * from "./stages/run.ts";
export * from "./stages/backend.ts";
export * from "./stages/datasets.ts";
export * from "./stages/tuning.ts";
export * from "./stages/answers.ts";
export * from "./stages/analysis.ts";
export * from "./stages/tokens.ts";

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  config?: Partial<RunConfig>;
  resultsDir?: string;
  runId?: string;
  resume?: boolean;
  backend?: BackendChoice;
  env?: Record<string, string | undefined>;
  /** Tuning-poll interval override (see {@link openBackend}). */
  poll?: Backend["poll"];
  /** Asked before creating tuning tasks on CLOVA Studio (they cost money); false aborts. */
  confirm?: (message: string) => boolean | Promise<boolean>;
  progress?: ProgressMode;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** What {@link runPipeline} produced. */
export interface PipelineResult {
  runId: string;
  dir: string;
  backend: BackendInfo;
  tasks: TaskEntry[];
  evaluations: EvaluationEntry[];
  analysis: RunAnalysis;
  seconds: number;
}

/** Runs every stage: datasets → tuning → evaluation → scores → report. */
export async function runPipeline(options: PipelineOptions = {}): Promise<PipelineResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => console.log(line));
  const config: RunConfig = { ...DEFAULT_RUN_CONFIG, ...options.config };
  const resultsDir = options.resultsDir ?? "results";
  let runId = options.runId;
  if (options.resume && !runId) {
    runId = await latestRun(resultsDir);
    if (!runId) throw new PipelineError(`--resume: no run folder under ${resultsDir}/`);
  }
  runId ??= newRunId();
  const backend = await openBackend({
    choice: options.backend,
    stateDir: join(resultsDir, runId, "emulator-state"),
    env: options.env,
    poll: options.poll,
  });
  try {
    log(`backend: ${backend.info.name}`);
    // Said before anything is created or paid: sizes under the API's row minimum, and a missing
    // Object Storage bucket for the current API.
    planTuning(config.sizes, backend.info.minRows ?? 0, config.minRowsPolicy);
    for (const line of tuningPlanNotes({ config, backend: backend.info })) log(`note: ${line}`);
    checkTuningStorage(backend);
    const ctx = await prepareRun({
      resultsDir,
      config,
      backend: backend.info,
      runId,
      resume: options.resume,
    });
    log(`run folder: ${ctx.dir}`);
    const datasets = await buildDatasets(ctx);
    log(
      `datasets: ${config.sizes.length} tuning ${config.sizes.length === 1 ? "set" : "sets"} ` +
        `(${config.sizes.join(", ")} rows) and ` +
        `${datasets.prompts.length} evaluation prompts → ${join(ctx.dir, "datasets")}`,
    );
    const mix = promptMix(config.evalPrompts);
    if (!mix.exact) log(`note: ${mix.note}`);
    await preflightDatasets(datasets.trainPaths, {
      minRows: backend.info.minRows ?? 0,
      requireIds: datasets.layout === "single-turn",
    }, log);
    const tokens = await countTrainingTokens(
      ctx,
      backend,
      await readTuningRows(datasets.trainPaths),
      { log },
    );
    if (backend.info.kind === "clova-studio") {
      const tuned = [...datasets.trainPaths.keys()].sort((x, y) => x - y);
      const known = new Set((await readTasks(ctx.dir)).map((t) => `${t.model}\u0000${t.size}`));
      const pending = new Set(
        config.models.flatMap((m) => tuned.map((s) => `${m}\u0000${s}`))
          .filter((k) => !known.has(k)),
      );
      const message = tuningConfirmation({
        tasks: pending.size,
        models: config.models,
        sizes: tuned,
        prompts: config.evalPrompts * config.repeats,
        tokens,
        pending,
        prices: await loadPriceTable(),
      });
      if (pending.size > 0 && !(await (options.confirm?.(message) ?? false))) {
        throw new PipelineError("not confirmed; nothing was submitted");
      }
    }
    const tasks = await tuneAll(ctx, backend, datasets, { ...options, log });
    const evaluations = await evaluateAll(ctx, backend, datasets.prompts, tasks, options);
    const analysis = await analyzeRun(ctx.dir, { datasetStats: datasets.stats });
    return {
      runId: ctx.runId,
      dir: ctx.dir,
      backend: backend.info,
      tasks,
      evaluations,
      analysis,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await backend.close();
  }
}
