/**
 * The run folder `results/<run-id>/`: its config (`run.json`), its id, and opening or creating it.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { BASE_MODELS, EVAL_PROMPTS, TUNING_SIZES } from "../cookbook.ts";
import type { TaxonomyListName } from "../countries.ts";
import type { BackendInfo } from "../report.ts";
import type { TextOrder } from "../dataset.ts";
import { API_GENERATIONS, type ApiGeneration } from "../clova/generation.ts";

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
  /**
   * What to do with a tuning size below the backend's row minimum (the current API's 100):
   * `skip` it (default), `pad` it by repeating its rows up to the minimum, or `fail` before
   * anything is created.
   */
  minRowsPolicy?: MinRowsPolicy;
  /**
   * How the tuning `Text` lists its countries: `shuffled` (the cookbook's final data; the default
   * when absent) or `grouped` by continent (its first, worse attempt). Both draw the same country
   * sets, so the evaluation prompts are the same and runs of the two orders compare pairwise.
   */
  order?: TextOrder;
}

/** See {@link RunConfig.minRowsPolicy}. */
export type MinRowsPolicy = "skip" | "pad" | "fail";

/** The policies, for flag parsing. */
export const MIN_ROWS_POLICIES: readonly MinRowsPolicy[] = ["skip", "pad", "fail"];

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
  minRowsPolicy: z.enum(["skip", "pad", "fail"]).optional(),
  order: z.enum(["shuffled", "grouped"]).optional(),
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
    generation: z.enum(API_GENERATIONS as [ApiGeneration, ...ApiGeneration[]]).optional(),
    compat: z.enum(["strict", "cookbook-2024"]).optional(),
    minRows: z.number().int().min(0).optional(),
  }),
  versions: z.record(z.string(), z.string()),
});

/** Contents of `run.json`. */
export type RunFile = z.infer<typeof RunFileSchema>;

/**
 * What `run.json` and the report say about the backend: besides the name, the API generation,
 * the emulator's strictness and the fewest rows a tuning set may have there.
 */
export type RunBackend = BackendInfo & {
  generation?: ApiGeneration;
  /** Emulator strictness (`strict`: the current docs; `cookbook-2024`: the 2024 dataset rules). */
  compat?: "strict" | "cookbook-2024";
  /** Fewest data rows a tuning set may have on this backend (0 = no minimum). */
  minRows?: number;
};

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

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
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
  backend: RunBackend;
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
    if (file.backend.generation && file.backend.generation !== options.backend.generation) {
      throw new PipelineError(
        `${dir} ran on the ${file.backend.generation} API, not ${options.backend.generation}; ` +
          "resume it with the same credentials",
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
      await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
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
      cwd: new URL("../..", import.meta.url),
      stdout: "piped",
      stderr: "null",
    }).output();
    if (git.success) out.git = new TextDecoder().decode(git.stdout).trim();
  } catch {
    // not a git checkout
  }
  return out;
}

/** Reads a run's `tasks.json` (no file: no tasks yet). */
export async function readTasks(dir: string): Promise<TaskEntry[]> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, "tasks.json"))) as TaskEntry[];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}
