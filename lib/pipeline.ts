/**
 * The experiment's stages, shared by `deno task reproduce`, `deno task score` and the notebooks:
 * run folder → datasets → tuning tasks → batch answers → scores → tables, charts and report.html.
 *
 * Each stage has its folder (`lib/datasets/`, `lib/tuning/`, `lib/answers/`, `lib/report/` …)
 * and reads what the previous one wrote in the run folder `results/<run-id>/` (`lib/run/`), so a
 * run can be resumed (`resume: true`) or re-scored without calling any model.
 *
 * @module
 */
import { join } from "node:path";
import {
  type Backend,
  type BackendChoice,
  type BackendInfo,
  checkTuningStorage,
  createRunFolder,
  exists,
  latestRun,
  listRuns,
  openBackend,
  openRunFolder,
  PipelineError,
  readTasks,
  resolveBackendKind,
  resumeConfig,
  RUN_FILES,
  type RunConfig,
  RunConfigSchema,
  type RunContext,
  type RunFile,
  StoppedError,
  type TaskEntry,
  versions,
  writeRunFile,
} from "./run/mod.ts";
import type { Lock } from "./io/mod.ts";
import type { ProgressMode } from "./progress/mod.ts";
import { BACKEND_MODELS, type BackendKind, isLocalModel } from "./backends/mod.ts";
import { buildDatasets, contextLimits, planTuning, promptMix } from "./datasets/mod.ts";
import {
  countTrainingTokens,
  loadPriceTable,
  preflightDatasets,
  readTuningRows,
  tuneAll,
  tuningConfirmation,
  tuningPlanNotes,
} from "./tuning/mod.ts";
import { evaluateAll, type EvaluationEntry } from "./answers/mod.ts";
import type { RunAnalysis } from "./report/mod.ts";
import {
  checkDatasetTask,
  type CheckedDatasetTask,
  isCountryTask,
  loadTaxonomyTask,
  recordDatasetTask,
  type ScorerName,
  TaskError,
  type TaskRecord,
  taskRecord,
  termsOf,
} from "./tasks/mod.ts";

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  /** The experiment; omitted fields take their defaults (on resume: the run's saved values). */
  config?: Partial<RunConfig>;
  /**
   * The task (`--task`): a built-in's name, a JSON spec or an `item,group[,aliases]` file; default
   * the cookbook's country task. A resumed run keeps its own.
   */
  task?: string;
  /**
   * A dataset you bring (`--train`, `--eval`, `--scorer`) in place of a task: tuning rows in
   * either CLOVA Studio layout, an evaluation sheet with an `answer` column, and the scorer.
   */
  dataset?: { train: string; eval: string; scorer: ScorerName };
  resultsDir?: string;
  /** The run's id (its folder name); a new run gets a fresh, unique one by default. */
  runId?: string;
  /** Continue the run `runId` (default: the newest under `resultsDir`). */
  resume?: boolean;
  backend?: BackendChoice;
  env?: Record<string, string | undefined>;
  /** Tuning-poll interval override (see {@link openBackend}). */
  poll?: Backend["poll"];
  /** Asked before creating tuning tasks on CLOVA Studio (they cost money); false aborts. */
  confirm?: (message: string) => boolean | Promise<boolean>;
  progress?: ProgressMode;
  /** Stops the run (Ctrl-C): in-flight requests finish, then {@link StoppedError}. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Describes this writer in the run's lock (shown to a second writer). */
  command?: string;
  /** Told the run's id and folder as soon as it is created or opened. */
  onRunFolder?: (runId: string, dir: string) => void;
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

/** What a new run will do, resolved and checked before its folder exists. */
export interface RunPlan {
  /** The backend it runs on. */
  backend: BackendKind;
  /** Its whole config: what was given, else the backend's defaults, else the cookbook's. */
  config: RunConfig;
}

/**
 * Plans a new run: the backend `auto` stands for, the config with that backend's default models
 * and sizes where none are given (the local backend's quick sweep, the cookbook's on the others),
 * and every model checked against what that backend tunes. Throws a {@link PipelineError}, and
 * nothing is written, when the config is wrong.
 */
export async function planRun(
  options: Pick<PipelineOptions, "config" | "backend" | "env"> = {},
): Promise<RunPlan> {
  const backend = await resolveBackendKind(options.backend, options.env);
  const defaults = BACKEND_MODELS[backend];
  const parsed = RunConfigSchema.safeParse({
    models: [...defaults.defaultModels],
    sizes: [...defaults.defaultSizes],
    ...definedFields(options.config),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PipelineError(`config: ${issue.path.join(".")}: ${issue.message}`);
  }
  const config = parsed.data;
  const foreign = config.models.filter((m) => !defaults.tunable.includes(m));
  if (foreign.length > 0) {
    throw new PipelineError(
      `--models ${foreign.join(",")}: the ${backend} backend tunes ${defaults.tunable.join(", ")}${
        foreign.every(isLocalModel) ? "; the local models need --backend local" : ""
      }`,
    );
  }
  return { backend, config };
}

/** The fields of a partial config that are set. */
function definedFields(config: Partial<RunConfig> = {}): Partial<RunConfig> {
  return Object.fromEntries(
    Object.entries(config).filter(([, v]) => v !== undefined),
  ) as Partial<RunConfig>;
}

/**
 * The backend a saved run ran on. Runs made before `run.json` told the local backend apart
 * recorded it as `emulator`; their local models tell it.
 */
function savedBackend(file: RunFile): BackendKind {
  return file.backend.kind === "emulator" && file.config.models.every(isLocalModel)
    ? "local"
    : file.backend.kind;
}

/** Finds the run to resume: `runId` under `resultsDir`, else the newest there. */
async function runToResume(resultsDir: string, runId?: string): Promise<string> {
  if (runId !== undefined) {
    if (!(await exists(join(resultsDir, runId, RUN_FILES.run)))) {
      const known = await listRuns(resultsDir);
      throw new PipelineError(
        `--resume: no run ${JSON.stringify(runId)} under ${resultsDir}/` +
          (known.length ? ` (runs there: ${known.slice(-5).join(", ")})` : " (it holds no runs)"),
      );
    }
    return runId;
  }
  const latest = await latestRun(resultsDir);
  if (!latest) throw new PipelineError(`--resume: no run under ${resultsDir}/ to resume`);
  return latest;
}

/** What the run brings besides its config: a task, or a dataset checked against the plan. */
interface RunInput {
  task?: TaskRecord;
  dataset?: CheckedDatasetTask;
  /** The new run's plan, when checking the dataset needed it. */
  plan?: RunPlan;
}

/** Reads and checks `--task` or `--train/--eval` before any folder exists: a bad one leaves nothing. */
async function readRunInput(
  options: PipelineOptions,
  log: (line: string) => void,
): Promise<RunInput> {
  const asPipelineError = (e: unknown) => e instanceof TaskError ? new PipelineError(e.message) : e;
  if (options.task !== undefined) {
    if (options.resume) {
      throw new PipelineError("--task: a resumed run keeps its own task; resume it without --task");
    }
    let task: TaskRecord;
    try {
      task = taskRecord(await loadTaxonomyTask(options.task));
    } catch (e) {
      throw asPipelineError(e);
    }
    if (options.config?.taxonomy !== undefined) {
      throw new PipelineError("--list names a country list; a run with --task draws from its task");
    }
    if (options.dataset !== undefined) {
      throw new PipelineError(
        "--train/--eval bring a dataset; --task names a task: give one or the other",
      );
    }
    return { task };
  }
  if (options.dataset === undefined) return {};
  if (options.resume) {
    throw new PipelineError(
      "--train: a resumed run keeps its own dataset; resume it without --train/--eval",
    );
  }
  // Checked against the sizes and models the run will have (the backend's defaults where none
  // are given), each model counting with its own tokenizer.
  const plan = await planRun(options);
  let dataset: CheckedDatasetTask;
  try {
    dataset = await checkDatasetTask(options.dataset, {
      sizes: plan.config.sizes,
      limits: await contextLimits(plan.config.models),
    });
  } catch (e) {
    throw asPipelineError(e);
  }
  for (const warning of dataset.data.warnings) log(`warning: ${warning}`);
  return { dataset, plan };
}

/** A run folder, locked: a new one (with its plan) or the one being resumed (with its file). */
type OpenedRun =
  & { runId: string; dir: string; lock: Lock }
  & ({ saved: RunFile; plan?: undefined } | { saved?: undefined; plan: RunPlan });

/** Creates the new run's folder, or opens the one to resume. */
async function openRun(
  options: PipelineOptions,
  plan: RunPlan | undefined,
): Promise<OpenedRun> {
  const resultsDir = options.resultsDir ?? "results";
  const command = options.command ?? "runPipeline";
  if (options.resume) {
    const runId = await runToResume(resultsDir, options.runId);
    const dir = join(resultsDir, runId);
    const { file: saved, lock } = await openRunFolder(dir, command);
    return { runId, dir, lock, saved };
  }
  plan ??= await planRun(options);
  const { runId, dir, lock } = await createRunFolder(resultsDir, command, options.runId);
  return { runId, dir, lock, plan };
}

/**
 * The backend and config a run goes on with: a new run's plan, or a resumed run's own backend
 * (another one asked for is refused) and its saved spec with the runtime knobs given now.
 */
function runSettings(
  run: OpenedRun,
  options: PipelineOptions,
): { kind: BackendKind; config: RunConfig } {
  if (!run.saved) return { kind: run.plan.backend, config: run.plan.config };
  const kind = savedBackend(run.saved);
  const asked = options.backend ?? "auto";
  if (asked !== "auto" && asked !== kind) {
    throw new PipelineError(
      `${run.dir} ran on the ${kind} backend, not ${asked}; resume it with --backend ${kind} ` +
        "(or without --backend)",
    );
  }
  return { kind, config: resumeConfig(run.saved.config, definedFields(options.config), run.dir) };
}

/**
 * Says which backend runs, refuses a resumed run on another API generation, and says what is
 * known before anything is created or paid: sizes under the API's row minimum, a missing Object
 * Storage bucket for the current API.
 */
function checkBackend(
  backend: Backend,
  run: OpenedRun,
  config: RunConfig,
  options: PipelineOptions,
  log: (line: string) => void,
): void {
  const savedGeneration = run.saved?.backend.generation;
  if (savedGeneration && savedGeneration !== backend.info.generation) {
    throw new PipelineError(
      `${run.dir} ran on the ${savedGeneration} API, not ${backend.info.generation}; ` +
        "resume it with the same credentials",
    );
  }
  log(`backend: ${backend.info.name}`);
  // A new run's `auto` went to CLOVA Studio because its credentials are set.
  const chosenByCredentials = !run.saved && (options.backend ?? "auto") === "auto" &&
    backend.info.kind === "clova-studio";
  if (chosenByCredentials) {
    log(
      "note: CLOVA Studio was chosen because its credentials are set (environment or .env); " +
        "--backend emulator runs offline instead",
    );
  }
  planTuning(config.sizes, backend.info.minRows ?? 0, config.minRowsPolicy);
  for (const line of tuningPlanNotes({ config, backend: backend.info })) log(`note: ${line}`);
  checkTuningStorage(backend, chosenByCredentials);
}

/**
 * On CLOVA Studio, asks before creating the tuning tasks the run does not have yet (they cost
 * money), with their count, tokens and price; a refusal stops the run with nothing submitted.
 */
async function confirmTuning(
  ctx: RunContext,
  datasets: Awaited<ReturnType<typeof buildDatasets>>,
  spend: { prompts: number; tokens: Awaited<ReturnType<typeof countTrainingTokens>> },
  options: PipelineOptions,
): Promise<void> {
  const config = ctx.file.config;
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
    prompts: spend.prompts * config.repeats,
    tokens: spend.tokens,
    pending,
    prices: await loadPriceTable(),
  });
  if (pending.size > 0 && !(await (options.confirm?.(message) ?? false))) {
    throw new PipelineError("not confirmed; nothing was submitted");
  }
}

/**
 * Runs every stage: datasets → tuning → answers → scores → summary → report, each reading what
 * the one before wrote in the run folder. The folder is locked for the whole run (a second writer
 * is refused); a new run that fails before any tuning task exists leaves no folder behind.
 */
export async function runPipeline(options: PipelineOptions = {}): Promise<PipelineResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => console.log(line));
  const input = await readRunInput(options, log);
  const run = await openRun(options, input.plan);
  const { runId, dir, lock, saved } = run;
  options.onRunFolder?.(runId, dir);
  let backend: Backend | undefined;
  let madeFiles = false;
  try {
    const { kind, config } = runSettings(run, options);
    const task = input.dataset ? await recordDatasetTask(dir, input.dataset) : input.task;
    backend = await openBackend({
      choice: kind,
      stateDir: join(dir, "emulator-state"),
      env: options.env,
      poll: options.poll,
      terms: termsOf(task ?? saved?.task),
    });
    checkBackend(backend, run, config, options, log);
    const file: RunFile = saved ? { ...saved, config } : {
      runId,
      created: new Date().toISOString(),
      config,
      ...(task ? { task } : {}),
      backend: { ...backend.info },
      versions: await versions(),
    };
    // A resumed run records the runtime knobs it goes on with.
    if (!saved || JSON.stringify(saved.config) !== JSON.stringify(config)) {
      await writeRunFile(dir, file);
    }
    const ctx: RunContext = { runId, dir, file, lock };
    log(`run folder: ${dir}`);
    const datasets = await buildDatasets(ctx);
    madeFiles = true;
    const prompts = datasets.entries.find((e) => e.kind === "eval")?.stats.rows ??
      config.evalPrompts;
    log(
      `datasets: ${config.sizes.length} tuning ${config.sizes.length === 1 ? "set" : "sets"} ` +
        `(${config.sizes.join(", ")} rows) and ${prompts} evaluation prompts → ` +
        `${join(dir, "datasets")}${datasets.written === 0 ? " (reused)" : ""}`,
    );
    // The cookbook's mix of prompts over country and continent counts (a task draws from its own
    // mix; a dataset you bring has none).
    const mix = promptMix(config.evalPrompts);
    if (!mix.exact && isCountryTask(file.task)) log(`note: ${mix.note}`);
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
      await confirmTuning(ctx, datasets, { prompts, tokens }, options);
    }
    const tasks = await tuneAll(ctx, backend, datasets, { ...options, log });
    const evaluations = await evaluateAll(ctx, backend, datasets.evalPath, tasks, options);
    // The report's libraries (nodejs-polars, Observable Plot, linkedom) load only here.
    const { analyzeRun } = await import("./report/mod.ts");
    const analysis = await analyzeRun(dir);
    return {
      runId,
      dir,
      backend: backend.info,
      tasks,
      evaluations,
      analysis,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (e) {
    // Ctrl-C in any phase: the run is kept, resumable.
    if (options.signal?.aborted) throw e instanceof StoppedError ? e : new StoppedError();
    // A new run that failed before writing its datasets holds nothing worth keeping.
    if (!saved && !madeFiles) {
      await backend?.close();
      backend = undefined;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    throw e;
  } finally {
    await backend?.close();
    await lock.release();
  }
}
