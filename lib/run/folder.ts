/**
 * The run folder `results/<run-id>/`: creating it (a unique id, one writer at a time), opening it
 * again, and reading and writing its small files through the run schema (`lib/run/schema.ts`).
 * Every read validates and names the file (and line) of a problem; every write is atomic.
 *
 * @module
 */
import { join } from "node:path";
import type { z } from "zod";
import {
  type BackendInfo,
  type DatasetEntry,
  DatasetsFileSchema,
  RUN_CONFIG_FIELDS,
  RUN_FILES,
  type RunConfig,
  type RunFile,
  RunFileSchema,
  type RunSummary,
  RunSummarySchema,
  type SentCreate,
  SentCreatesFileSchema,
  type TaskEntry,
  TasksFileSchema,
} from "./schema.ts";
import { writeJsonAtomic } from "../io/atomicFile.ts";
import { acquireLock, type Lock } from "../io/lock.ts";

export type { RunConfig, RunFile, TaskEntry };
export { MIN_ROWS_POLICIES, type MinRowsPolicy } from "./schema.ts";

/**
 * What `run.json` and the report say about the backend: besides the name, the API generation,
 * the emulator's strictness and the fewest rows a tuning set may have there.
 */
export type RunBackend = BackendInfo;

/** Raised when the run cannot go on (bad resume, refused confirmation, …); a one-line message. */
export class PipelineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PipelineError";
  }
}

/** The run stopped because its signal aborted (Ctrl-C); it can be resumed. */
export class StoppedError extends PipelineError {
  constructor() {
    super("stopped; run again with --resume to continue");
    this.name = "StoppedError";
  }
}

/** A run folder held by this process. */
export interface RunContext {
  runId: string;
  dir: string;
  file: RunFile;
  /** The folder's lock (released by {@link closeRun}). */
  lock: Lock;
}

/** The answer label of a base model or a tuned task: `HCX-003`, `HCX-003@500`. */
export function answerLabel(model: string, size: number): string {
  return size === 0 ? model : `${model}@${size}`;
}

/** A run id from a time: UTC date and time, e.g. `20261124-031500`. */
export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** Whether `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function lineOf(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return "";
  const line = text.slice(0, Number(m[1])).split("\n").length;
  return ` (line ${line})`;
}

/**
 * Reads and validates a JSON file of a run; a problem names the file, the line (bad JSON) or the
 * field (bad content). `missing` is returned when the file does not exist (else that is an error).
 */
export async function readJsonFile<S extends z.ZodType, M = never>(
  path: string,
  schema: S,
  missing?: { value: M },
): Promise<z.output<S> | M> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound && missing) return missing.value;
    throw new PipelineError(`${path}: cannot read it (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    throw new PipelineError(`${path}${lineOf(text, message)}: not valid JSON (${message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PipelineError(
      `${path}: ${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`,
    );
  }
  return parsed.data;
}

/** Reads and validates a run folder's `run.json`. */
export function readRunFile(dir: string): Promise<RunFile> {
  return readJsonFile(join(dir, RUN_FILES.run), RunFileSchema);
}

/** Reads a run's `tasks.json` (no file: no tasks yet). */
export function readTasks(dir: string): Promise<TaskEntry[]> {
  return readJsonFile(join(dir, RUN_FILES.tasks), TasksFileSchema, { value: [] });
}

/** Writes a run's `tasks.json`. */
export function writeTasks(dir: string, tasks: readonly TaskEntry[]): Promise<void> {
  return writeJsonAtomic(join(dir, RUN_FILES.tasks), TasksFileSchema.parse(tasks));
}

/** Reads a run's `tuning-sent.json` (no file: no create sent yet). */
export function readSentCreates(dir: string): Promise<SentCreate[]> {
  return readJsonFile(join(dir, RUN_FILES.sentCreates), SentCreatesFileSchema, { value: [] });
}

/** Writes a run's `tuning-sent.json`. */
export function writeSentCreates(dir: string, sent: readonly SentCreate[]): Promise<void> {
  return writeJsonAtomic(join(dir, RUN_FILES.sentCreates), SentCreatesFileSchema.parse(sent));
}

/** Reads a run's `datasets.json` (no file: none recorded yet). */
export function readDatasets(dir: string): Promise<DatasetEntry[]> {
  return readJsonFile(join(dir, RUN_FILES.datasets), DatasetsFileSchema, { value: [] });
}

/** Reads a run's `summary.json` (written by the analysis stage). */
export function readSummary(dir: string): Promise<RunSummary> {
  return readJsonFile(join(dir, RUN_FILES.summary), RunSummarySchema);
}

/** The run ids under `resultsDir`, oldest first (by `run.json`'s creation time, then name). */
export async function listRuns(resultsDir: string): Promise<string[]> {
  const runs: { id: string; created: string }[] = [];
  try {
    for await (const e of Deno.readDir(resultsDir)) {
      if (!e.isDirectory) continue;
      try {
        const file = await readRunFile(join(resultsDir, e.name));
        runs.push({ id: e.name, created: file.created });
      } catch {
        // not a run folder (or not finished being made)
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return runs.sort((a, b) =>
    a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : 1
  ).map((r) => r.id);
}

/** The newest run under `resultsDir`, if any. */
export async function latestRun(resultsDir: string): Promise<string | undefined> {
  return (await listRuns(resultsDir)).at(-1);
}

/**
 * The newest run under `resultsDir` that got as far as its analysis (it has `summary.json`), and
 * the newer run folders passed over because they did not (a run that stopped before its answers
 * were scored, such as a tuning attempt that failed): what a reader of finished runs should open.
 */
export async function latestCompleteRun(
  resultsDir: string,
): Promise<{ runId?: string; incomplete: string[] }> {
  const incomplete: string[] = [];
  for (const id of (await listRuns(resultsDir)).reverse()) {
    if (await exists(join(resultsDir, id, RUN_FILES.summary))) return { runId: id, incomplete };
    incomplete.push(id);
  }
  return { incomplete };
}

/**
 * Makes a new, empty run folder under `resultsDir` and locks it. Its id is `runId` when given
 * (an error if taken), else the current UTC time with `-2`, `-3`, … added until the folder can
 * be created: the folder is made atomically, so two runs started in the same second never share
 * one.
 */
export async function createRunFolder(
  resultsDir: string,
  command: string,
  runId?: string,
): Promise<{ runId: string; dir: string; lock: Lock }> {
  await Deno.mkdir(resultsDir, { recursive: true });
  const base = runId ?? newRunId();
  for (let n = 1;; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    const dir = join(resultsDir, id);
    try {
      await Deno.mkdir(dir);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      if (runId !== undefined) {
        throw new PipelineError(`${dir} already exists; pass --resume to continue that run`);
      }
      continue;
    }
    const lock = await acquireLock(join(dir, RUN_FILES.lock), command);
    return { runId: id, dir, lock };
  }
}

/** Opens an existing run folder for writing (locked; one writer at a time). */
export async function openRunFolder(
  dir: string,
  command: string,
): Promise<{ file: RunFile; lock: Lock }> {
  if (!(await exists(join(dir, RUN_FILES.run)))) {
    throw new PipelineError(`${dir}: no such run (no ${RUN_FILES.run})`);
  }
  const lock = await acquireLock(join(dir, RUN_FILES.lock), command);
  try {
    return { file: await readRunFile(dir), lock };
  } catch (e) {
    await lock.release();
    throw e;
  }
}

/** Writes `run.json` (atomically). */
export function writeRunFile(dir: string, file: RunFile): Promise<void> {
  return writeJsonAtomic(join(dir, RUN_FILES.run), RunFileSchema.parse(file));
}

/**
 * Checks the options given for a resumed run against the config it was made with: every field
 * given must equal the saved one. Returns the saved config.
 */
export function checkResumeConfig(saved: RunConfig, given: Partial<RunConfig>, dir: string) {
  for (const [key, value] of Object.entries(given) as [keyof RunConfig, unknown][]) {
    if (value === undefined) continue;
    if (JSON.stringify(saved[key]) !== JSON.stringify(value)) {
      const flag = RUN_CONFIG_FIELDS[key].flag.name;
      throw new PipelineError(
        `${dir} was made with ${key} ${JSON.stringify(saved[key])}, not ` +
          `${JSON.stringify(value)}; resume it without --${flag} (or with the same value)`,
      );
    }
  }
  return saved;
}

/** The versions that make a run: Deno, TypeScript, the pinned npm packages and the git commit. */
export async function versions(): Promise<Record<string, string>> {
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
