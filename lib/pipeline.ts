/**
 * The experiment's stages, shared by `deno task reproduce`, `deno task score` and the notebooks:
 * run folder → datasets → tuning tasks → batch answers → scores → tables, charts and report.html.
 *
 * Each stage reads what the previous one wrote in `results/<run-id>/` (see `../shared/design.md`),
 * so a run can be resumed (`resume: true`) or re-scored without calling any model.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { BASE_MODELS, EVAL_PROMPTS, TUNING_SETTINGS, TUNING_SIZES } from "./cookbook.ts";
import { getTaxonomy, type Taxonomy, type TaxonomyListName } from "./countries.ts";
import {
  checkOverlap,
  type DatasetStats,
  datasetStats,
  generateEvalSet,
  generateNestedTrainingSets,
} from "./dataset.ts";
import { writeEvalXlsx, writeTuningCsv } from "./sheets.ts";
import {
  type ClovaClientOptions,
  clovaOptionsFromEnv,
  ClovaStudioClient,
  preflightTuningCsvBytes,
  type TuningTask,
  TuningTaskFailedError,
} from "./clova/mod.ts";
import { type Emulator, startEmulator } from "./emulator/mod.ts";
import { ClovaBaseModelProvider, ClovaTunedTaskProvider } from "./providers.ts";
import { type EvaluatePrompt, evaluateSheet, promptsFromEvalSet } from "./evaluate.ts";
import { writeAnswerSheet } from "./answerSheet.ts";
import { type ScoredRecord, type ScoreRow, scoreRun } from "./score.ts";
import { type Analysis, analyze, loadPublishedTables, readTrainLosses } from "./analyze.ts";
import {
  type BackendInfo,
  type DatasetStatsSection,
  loadCookbookImages,
  pickWorstAnswers,
  type WorstAnswer,
  writeReport,
} from "./report.ts";
import { createProgress, type ProgressMode } from "./progress.ts";

/** What a run does; saved as `run.json` and checked again on resume. */
export interface RunConfig {
  /** Base models to tune (default: the cookbook's HCX-003 and HCX-DASH-001). */
  models: string[];
  /** Tuning-set sizes (default: the cookbook's 50, 100 … 1,000, 2,000, 10,000). */
  sizes: number[];
  /** Dataset seed (training and evaluation). */
  seed: number;
  /** Evaluation prompts (default 100). */
  evalPrompts: number;
  /** Answers per prompt (default 1, as the cookbook). */
  repeats: number;
  /** Evaluate the untuned base models too (the cookbook's first row). */
  includeBaseModels: boolean;
  /** Country list the datasets draw from. */
  taxonomy: TaxonomyListName;
  /** Requests in flight per evaluation. */
  concurrency: number;
  /** Request starts per minute per evaluation (undefined = unlimited). */
  rpm?: number;
}

/** Defaults of {@link RunConfig}: the cookbook's experiment. */
export const DEFAULT_RUN_CONFIG: Readonly<RunConfig> = {
  models: [...BASE_MODELS],
  sizes: [...TUNING_SIZES],
  seed: 2024,
  evalPrompts: EVAL_PROMPTS,
  repeats: 1,
  includeBaseModels: true,
  taxonomy: "un",
  concurrency: 16,
};

const RunConfigSchema = z.object({
  models: z.array(z.string().min(1)).min(1),
  sizes: z.array(z.number().int().positive()).min(1),
  seed: z.number().int().min(0),
  evalPrompts: z.number().int().positive(),
  repeats: z.number().int().positive(),
  includeBaseModels: z.boolean(),
  taxonomy: z.enum(["un", "cookbook"]),
  concurrency: z.number().int().positive(),
  rpm: z.number().positive().optional(),
});

const RunFileSchema = z.object({
  runId: z.string(),
  created: z.string(),
  config: RunConfigSchema,
  backend: z.object({
    kind: z.enum(["emulator", "clova-studio"]),
    name: z.string(),
    url: z.string().optional(),
    note: z.string().optional(),
  }),
  versions: z.record(z.string(), z.string()),
});

/** Contents of `run.json`. */
export type RunFile = z.infer<typeof RunFileSchema>;

/** One tuning task of a run (`tasks.json`). */
export interface TaskEntry {
  label: string;
  model: string;
  size: number;
  taskId: string;
  status: string;
  trainLoss: number | null;
  currStep?: number;
  totalTrainSteps?: number;
  failureReason?: string;
  message?: string;
  requestId?: string;
}

/** Raised when the run cannot go on (bad resume, refused confirmation, …). */
export class PipelineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PipelineError";
  }
}

/** Where the run talks to: the local emulator (default) or CLOVA Studio. */
export interface Backend {
  info: BackendInfo;
  client: ClovaStudioClient;
  /** Client options for providers (built fresh with retries left to the batch runner). */
  clientOptions: ClovaClientOptions;
  /** Polling for tuning tasks (fast on the emulator, patient on the service). */
  poll: { intervalMs: number; maxIntervalMs: number };
  close(): Promise<void>;
}

/** Which backend {@link openBackend} should use. */
export type BackendChoice = "auto" | "emulator" | "clova-studio";

/**
 * Opens the backend. `auto` uses CLOVA Studio when credentials are in the environment (or `.env`)
 * and otherwise starts the local emulator on 127.0.0.1 with a throwaway key (never printed).
 * The emulator keeps its tasks under `stateDir`, so a resumed run finds them.
 */
export async function openBackend(options: {
  choice?: BackendChoice;
  stateDir: string;
  env?: Record<string, string | undefined>;
  emulatorSeed?: number;
  /** Tuning-poll interval override (default: 100 ms on the emulator, 10 s on the service). */
  poll?: Backend["poll"];
}): Promise<Backend> {
  const choice = options.choice ?? "auto";
  const fromEnv = choice === "emulator" ? undefined : clovaOptionsFromEnv(options.env);
  if (choice === "clova-studio" && !fromEnv) {
    throw new PipelineError(
      "no CLOVA Studio credentials: set CLOVA_STUDIO_API_KEY (or the legacy key pair, or " +
        "CLOVA_STUDIO_CLIENT_ID and CLOVA_STUDIO_CLIENT_SECRET) in the environment or .env",
    );
  }
  if (fromEnv) {
    return {
      info: {
        kind: "clova-studio",
        name: `CLOVA Studio (${fromEnv.auth.kind} auth, ${
          fromEnv.tuningApi ?? "current"
        } tuning API)`,
        url: fromEnv.baseUrl,
      },
      client: new ClovaStudioClient(fromEnv),
      clientOptions: fromEnv,
      poll: options.poll ?? { intervalMs: 10_000, maxIntervalMs: 120_000 },
      close: () => Promise.resolve(),
    };
  }
  const apiKey = `nv-local-${crypto.randomUUID()}`;
  await Deno.mkdir(options.stateDir, { recursive: true });
  const emulator: Emulator = await startEmulator({
    seed: options.emulatorSeed ?? 1,
    credentials: { apiKeys: [apiKey] },
    // The service's per-account rate limits would stretch the offline run to an hour; the batch
    // runner's own --rpm limit still applies when set.
    rateLimits: false,
    stateDir: options.stateDir,
    quiet: true,
  });
  const clientOptions: ClovaClientOptions = {
    baseUrl: emulator.url,
    auth: { kind: "api-key", apiKey },
    tuningApi: "legacy",
  };
  return {
    info: {
      kind: "emulator",
      name: "local CLOVA Studio emulator — reference learner",
      url: emulator.url,
      note: "answers come from the emulator's reference learner (counts of (country, continent) " +
        "pairs in the tuning rows), not from HyperCLOVA X",
    },
    client: new ClovaStudioClient(clientOptions),
    clientOptions,
    poll: options.poll ?? { intervalMs: 100, maxIntervalMs: 500 },
    close: () => emulator.close(),
  };
}

/** A run folder and its config. */
export interface RunContext {
  runId: string;
  dir: string;
  file: RunFile;
}

/** The answer label of a base model or a tuned task: `HCX-003`, `HCX-003@500`. */
export function answerLabel(model: string, size: number): string {
  return size === 0 ? model : `${model}@${size}`;
}

/** A new run id: UTC date and time, e.g. `20261124-031500`. */
export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/** Finds the newest run folder under `resultsDir` (by name), if any. */
export async function latestRun(resultsDir: string): Promise<string | undefined> {
  const ids: string[] = [];
  try {
    for await (const e of Deno.readDir(resultsDir)) {
      if (e.isDirectory && await exists(join(resultsDir, e.name, "run.json"))) ids.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return ids.sort().at(-1);
}

/** Reads and validates a run folder's `run.json`. */
export async function readRunFile(dir: string): Promise<RunFile> {
  const path = join(dir, "run.json");
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new PipelineError(`${path}: cannot read run.json (${(e as Error).message})`);
  }
  const parsed = RunFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new PipelineError(`${path}: not a run.json (${parsed.error.issues[0]?.message})`);
  }
  return parsed.data;
}

/**
 * Creates `resultsDir/<runId>/` with `run.json`, or on `resume` reopens it and checks that the
 * config asked for now is the one it was made with.
 */
export async function prepareRun(options: {
  resultsDir: string;
  config: RunConfig;
  backend: BackendInfo;
  runId?: string;
  resume?: boolean;
}): Promise<RunContext> {
  const config = RunConfigSchema.parse(options.config);
  const runId = options.runId ?? newRunId();
  const dir = join(options.resultsDir, runId);
  const runJson = join(dir, "run.json");
  if (await exists(runJson)) {
    if (!options.resume) {
      throw new PipelineError(`${dir} already holds a run; pass --resume to continue it`);
    }
    const file = await readRunFile(dir);
    if (JSON.stringify(file.config) !== JSON.stringify(config)) {
      throw new PipelineError(
        `${dir} was made with another config; resume it with the same options.\n` +
          `  saved: ${JSON.stringify(file.config)}\n  asked: ${JSON.stringify(config)}`,
      );
    }
    if (file.backend.kind !== options.backend.kind) {
      throw new PipelineError(
        `${dir} ran on ${file.backend.kind}, not ${options.backend.kind}; resume it on the same backend`,
      );
    }
    return { runId, dir, file };
  }
  await Deno.mkdir(join(dir, "datasets"), { recursive: true });
  await Deno.mkdir(join(dir, "answers"), { recursive: true });
  const file: RunFile = {
    runId,
    created: new Date().toISOString(),
    config,
    backend: { ...options.backend },
    versions: await versions(),
  };
  await writeJsonAtomic(runJson, file);
  return { runId, dir, file };
}

async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {
    deno: Deno.version.deno,
    typescript: Deno.version.typescript,
  };
  try {
    const denoJson = JSON.parse(
      await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
    );
    for (const [name, spec] of Object.entries(denoJson.imports ?? {})) {
      if (typeof spec === "string" && !name.endsWith("/") && !name.includes("/sync")) {
        out[name] = spec.replace(/^npm:\/?/, "");
      }
    }
  } catch {
    // versions are informative only
  }
  try {
    const git = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      cwd: new URL("..", import.meta.url),
      stdout: "piped",
      stderr: "null",
    }).output();
    if (git.success) out.git = new TextDecoder().decode(git.stdout).trim();
  } catch {
    // not a git checkout
  }
  return out;
}

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

async function readTasks(dir: string): Promise<TaskEntry[]> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, "tasks.json"))) as TaskEntry[];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

function entryFrom(task: TuningTask, base: TaskEntry): TaskEntry {
  const info = task.statusInfo;
  return {
    ...base,
    status: task.status,
    trainLoss: info.trainLoss ?? null,
    currStep: info.currStep,
    totalTrainSteps: info.totalTrainSteps,
    failureReason: info.failureReason,
    message: info.message,
    requestId: task.requestId ?? base.requestId,
  };
}

/**
 * Checks every tuning CSV against the service's documented dataset rules before anything is
 * uploaded; throws listing the problems. Sets below the documented 100-row minimum are allowed
 * (the cookbook tuned 50 rows on the 2024 service) and reported through `warn`.
 */
export async function preflightDatasets(
  trainPaths: ReadonlyMap<number, string>,
  warn: (line: string) => void,
): Promise<void> {
  const errors: string[] = [];
  for (const path of trainPaths.values()) {
    const report = preflightTuningCsvBytes(await Deno.readFile(path), {
      fileName: path.split("/").pop(),
    });
    for (const p of report.problems) {
      const where = `${path}${p.record ? ` record ${p.record}` : ""}`;
      const line = `${where}: ${p.failureReason}: ${p.message}`;
      if (p.rule === "rows.minimum") warn(`note: ${line} (the cookbook tuned sets this small)`);
      else if (p.severity === "error") errors.push(line);
      else warn(`warning: ${line}`);
    }
  }
  if (errors.length) {
    throw new PipelineError(`tuning datasets fail the pre-flight:\n  ${errors.join("\n  ")}`);
  }
}

/**
 * Submits one tuning task per model × size (the cookbook's LoRA settings) and waits for all of
 * them, showing one progress line. `tasks.json` is rewritten after every change, so a resumed run
 * reuses tasks it already created instead of paying for them twice. A failed task is recorded
 * with its `failureReason` and the run goes on without it.
 */
export async function tuneAll(
  ctx: RunContext,
  backend: Backend,
  datasets: DatasetsResult,
  options: { progress?: ProgressMode; signal?: AbortSignal } = {},
): Promise<TaskEntry[]> {
  const { config } = ctx.file;
  const tasks = await readTasks(ctx.dir);
  const save = () => writeJsonAtomic(join(ctx.dir, "tasks.json"), tasks);
  const wanted = config.models.flatMap((model) =>
    [...config.sizes].sort((a, b) => a - b).map((size) => ({ model, size }))
  );
  for (const { model, size } of wanted) {
    const label = answerLabel(model, size);
    if (tasks.some((t) => t.label === label)) continue;
    const bytes = await Deno.readFile(datasets.trainPaths.get(size)!);
    const task = await backend.client.createTask({
      name: `${ctx.runId}-${model}-${size}`,
      model,
      method: TUNING_SETTINGS.method,
      taskType: TUNING_SETTINGS.taskType,
      trainEpochs: TUNING_SETTINGS.trainEpochs,
      learningRate: TUNING_SETTINGS.learningRate,
      dataset: { file: { name: `train_${size}.csv`, bytes } },
    });
    tasks.push(entryFrom(task, {
      label,
      model,
      size,
      taskId: task.id,
      status: task.status,
      trainLoss: null,
    }));
    await save();
  }
  const open = tasks.filter((t) => t.status !== "SUCCEEDED" && t.status !== "FAILED");
  const finished = () => tasks.filter((t) => t.status === "SUCCEEDED" || t.status === "FAILED");
  const progress = createProgress("tuning", tasks.length, { mode: options.progress });
  const running = new Map<string, string>();
  const show = () => {
    const failed = tasks.filter((t) => t.status === "FAILED").length;
    const now = [...running.values()].slice(0, 2).join(" · ");
    progress.update(finished().length, `${failed} failed${now ? ` · ${now}` : ""}`);
  };
  show();
  await Promise.all(open.map(async (entry) => {
    const index = tasks.indexOf(entry);
    try {
      const task = await backend.client.waitForTask(entry.taskId, {
        pollIntervalMs: backend.poll.intervalMs,
        maxPollIntervalMs: backend.poll.maxIntervalMs,
        signal: options.signal,
        onProgress: (p) => {
          const step = p.totalTrainSteps ? ` ${p.currStep ?? 0}/${p.totalTrainSteps}` : "";
          const loss = p.trainLoss !== undefined ? ` loss ${p.trainLoss.toFixed(3)}` : "";
          running.set(entry.label, `${entry.label} ${p.status}${step}${loss}`);
          show();
        },
      });
      tasks[index] = entryFrom(task, entry);
    } catch (e) {
      if (!(e instanceof TuningTaskFailedError)) throw e;
      tasks[index] = {
        ...entry,
        status: "FAILED",
        failureReason: e.failureReason,
        message: e.detail,
      };
    }
    running.delete(entry.label);
    await save();
    show();
  }));
  progress.finish(`${tasks.filter((t) => t.status === "FAILED").length} failed`);
  return tasks;
}

/** One evaluation of {@link evaluateAll}. */
export interface EvaluationEntry {
  label: string;
  model: string;
  size: number;
  answered: number;
  failed: number;
  achievedRpm: number;
  seconds: number;
}

/**
 * Answers the evaluation set with every base model (when configured) and every succeeded
 * tuning task, journaling to `answers/<label>.jsonl` and writing `answers/<label>.xlsx`.
 * Always resumes its own journals, so an interrupted run loses at most the requests in flight.
 */
export async function evaluateAll(
  ctx: RunContext,
  backend: Backend,
  prompts: readonly EvaluatePrompt[],
  tasks: readonly TaskEntry[],
  options: { progress?: ProgressMode; signal?: AbortSignal } = {},
): Promise<EvaluationEntry[]> {
  const { config } = ctx.file;
  const targets: { label: string; model: string; size: number; taskId?: string }[] = [];
  if (config.includeBaseModels) {
    for (const model of config.models) targets.push({ label: model, model, size: 0 });
  }
  for (const t of tasks) {
    if (t.status === "SUCCEEDED") {
      targets.push({ label: t.label, model: t.model, size: t.size, taskId: t.taskId });
    }
  }
  const out: EvaluationEntry[] = [];
  for (const target of targets) {
    const provider = target.taskId
      ? new ClovaTunedTaskProvider({
        client: backend.clientOptions,
        taskId: target.taskId,
        model: target.model,
        size: target.size,
        label: target.label,
      })
      : new ClovaBaseModelProvider({
        client: backend.clientOptions,
        model: target.model,
        label: target.label,
      });
    const journalPath = join(ctx.dir, "answers", `${target.label}.jsonl`);
    const started = performance.now();
    const result = await evaluateSheet({
      prompts,
      provider,
      journalPath,
      label: target.label,
      model: target.model,
      size: target.size,
      concurrency: config.concurrency,
      rpm: config.rpm,
      repeats: config.repeats,
      resume: true,
      signal: options.signal,
      progress: options.progress === undefined ? true : { mode: options.progress },
    });
    await writeAnswerSheet(join(ctx.dir, "answers", `${target.label}.xlsx`), result.records);
    out.push({
      label: target.label,
      model: target.model,
      size: target.size,
      answered: result.records.filter((r) => r.text !== null).length,
      failed: result.failures.length,
      achievedRpm: result.achievedRpm,
      seconds: (performance.now() - started) / 1000,
    });
    if (result.stopped) throw new PipelineError("stopped; run again with --resume to continue");
  }
  return out;
}

/** Scores, tables and the report of a run, computed from its files alone. */
export interface RunAnalysis {
  scored: ScoredRecord[];
  rows: ScoreRow[];
  analysis: Analysis;
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
  options: { datasetStats?: DatasetStatsSection[]; notes?: string[]; taxonomy?: Taxonomy } = {},
): Promise<RunAnalysis> {
  const file = await readRunFile(dir);
  // By default answers are scored against all 193 members, whichever list the datasets drew
  // from, so a model naming DR Congo is never counted as naming an unknown country.
  const { rows, scored, failed: failedAnswers } = await scoreRun(dir, {
    taxonomy: options.taxonomy ?? getTaxonomy("un"),
  });
  const trainLoss = await readTrainLosses(dir);
  const analysis = analyze(rows, { trainLoss });
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
  const notes = [...(options.notes ?? [])];
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
    worstAnswers: pickWorstAnswers(worst, 12),
    cookbookImages: await loadCookbookImages(),
    notes,
  });
  return { scored, rows, analysis, failedAnswers, reportPath };
}

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
      `datasets: ${config.sizes.length} tuning sets (${config.sizes.join(", ")} rows) and ` +
        `${datasets.prompts.length} evaluation prompts → ${join(ctx.dir, "datasets")}`,
    );
    await preflightDatasets(datasets.trainPaths, log);
    const taskCount = config.models.length * config.sizes.length;
    if (backend.info.kind === "clova-studio") {
      const known = (await readTasks(ctx.dir)).length;
      const message = `This creates ${taskCount - known} tuning task(s) on CLOVA Studio ` +
        `(${config.models.join(", ")} × ${config.sizes.length} sizes) and answers ` +
        `${config.evalPrompts * config.repeats} prompts per model/task. Continue?`;
      if (taskCount - known > 0 && !(await (options.confirm?.(message) ?? false))) {
        throw new PipelineError("not confirmed; nothing was submitted");
      }
    }
    const tasks = await tuneAll(ctx, backend, datasets, options);
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
