/**
 * Tuning tasks: records, their time-driven lifecycle and persistence.
 *
 * A task's state is a pure function of wall-clock time since creation, so there are no timers:
 * `WAIT` for `waitMs`, then `FAILED` (dataset rejected) or `RUNNING` for
 * `totalTrainSteps / trainingSpeed` seconds, then `SUCCEEDED`. `statusInfo` is computed on each
 * read from the reference learner's real per-step losses (see `learner.ts`).
 * `estimatedTime` is the emulated training time in **seconds** (total steps ÷ speed, rounded up).
 * With a state directory, each task is one JSON file `<stateDir>/tasks/<id>.json`; secrets
 * (Object Storage keys) are never stored.
 *
 * Tasks on a local neural model (`local-1m`, `local-250k`) are trained for real by a
 * {@link LocalTuner} instead: their state and progress come from the training itself
 * (see `localTuning.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { oneWriteAtATime, sha256Hex, writeFileAtomic } from "../../io/mod.ts";
import { z } from "zod";
import { kstDate } from "./envelope.ts";
import { type LearnerModel, train, type TrainingRun } from "./learner.ts";
import { checkDataset, type DatasetCheck } from "./dataset.ts";
import type { DatasetRules } from "./rules.ts";
import { MODELS } from "./models.ts";
import { createRng, type Rng } from "./random.ts";
import { localTaskState, localTaskStateSchema, type LocalTuner } from "./localTuning.ts";
import { isLocalModel } from "../mod.ts";

/** The request fields a task keeps (already validated). */
export interface TaskParams {
  name: string;
  model: string;
  method: "LORA" | "LoRA";
  tuningType: "PEFT";
  taskType: "GENERATION";
  trainEpochs: number;
  learningRate: number;
  validationSplitRatio: number;
  loraR: number;
  loraAlpha: number;
}

/** Where the dataset came from. */
export type DatasetSource =
  | { kind: "upload"; fileName: string; bytes: Uint8Array }
  | { kind: "objectStorage"; bucket: string; path: string; bytes: Uint8Array };

/** What a test hook sees of a stored task. */
export interface StoredTask {
  id: string;
  name: string;
  model: string;
}

const outcomeSchema = z.union([
  z.object({
    ok: z.literal(true),
    dataRows: z.number(),
    numOfTokens: z.number(),
    stepsPerEpoch: z.number(),
    stepLoss: z.array(z.number()),
    model: z.object({
      prefix: z.string().nullable(),
      continents: z.array(z.string()),
      counts: z.record(z.string(), z.record(z.string(), z.number())),
      whole: z.literal(true).optional(),
    }),
  }),
  z.object({ ok: z.literal(false), failureReason: z.string(), message: z.string() }),
]);

const recordSchema = z.object({
  id: z.string(),
  seq: z.number(),
  params: z.object({
    name: z.string(),
    model: z.string(),
    method: z.enum(["LORA", "LoRA"]),
    tuningType: z.literal("PEFT"),
    taskType: z.literal("GENERATION"),
    trainEpochs: z.number(),
    learningRate: z.number(),
    validationSplitRatio: z.number(),
    loraR: z.number(),
    loraAlpha: z.number(),
  }),
  createdMs: z.number(),
  waitMs: z.number(),
  stepsPerSecond: z.number(),
  dataset: z.object({
    id: z.string(),
    fileName: z.string(),
    fileSize: z.number(),
    filePath: z.string(),
    bucket: z.string().nullable(),
  }),
  outcome: outcomeSchema,
  local: localTaskStateSchema.optional(),
});

/** A stored task (what persistence writes). */
export type TaskRecord = z.infer<typeof recordSchema>;

/** Task status names. */
export type TaskStatus = "WAIT" | "RUNNING" | "SUCCEEDED" | "FAILED";

/** Options for {@link TaskStore}. */
export interface TaskStoreOptions {
  seed: number;
  /** Emulated training steps per real second. */
  trainingSpeed: number;
  /** Time a task spends in `WAIT` (ms). */
  waitMs: number;
  /** Rows per training step. */
  batchSize: number;
  stateDir?: string;
  maxDatasetBytes?: number;
  /** Dataset rules in force (strict or cookbook-2024). */
  datasetRules: DatasetRules;
  now?: () => number;
  /** Trains tasks on local models (absent: such tasks cannot be created). */
  local?: LocalTuner;
}

const ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

function hex32(rng: Rng): string {
  let s = "";
  for (let i = 0; i < 32; i++) s += "0123456789abcdef"[Math.floor(rng.next() * 16)];
  return s;
}

/** yyMMdd-HHmmss in KST, the documented default task name shape. */
function defaultName(ms: number): string {
  const d = kstDate(ms); // 2024-05-13T15:42:50+0900
  return `${d.slice(2, 4)}${d.slice(5, 7)}${d.slice(8, 10)}-${d.slice(11, 13)}${d.slice(14, 16)}${
    d.slice(17, 19)
  }`;
}

/** In-memory task table with optional JSON persistence. */
export class TaskStore {
  #tasks = new Map<string, TaskRecord>();
  #rng: Rng;
  #seq = 0;
  #opts: TaskStoreOptions;
  #now: () => number;
  /**
   * Each distinct dataset's check and, per epoch count, the reference learner's training: both
   * are functions of the file (its extension and bytes) and of this store's fixed options alone,
   * so a set uploaded once per model is parsed and learned once. Keyed by extension and SHA-256.
   */
  #learned = new Map<string, { check: DatasetCheck; runs: Map<number, TrainingRun> }>();

  constructor(opts: TaskStoreOptions) {
    this.#opts = opts;
    this.#rng = createRng(opts.seed ^ 0x5eed7a5c);
    this.#now = opts.now ?? Date.now;
  }

  /** Loads persisted tasks from the state directory (if any). */
  async load(): Promise<number> {
    const dir = this.#dir();
    if (!dir) return 0;
    await Deno.mkdir(dir, { recursive: true });
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      const rec = recordSchema.parse(JSON.parse(await Deno.readTextFile(join(dir, entry.name))));
      this.#tasks.set(rec.id, rec);
      this.#seq = Math.max(this.#seq, rec.seq + 1);
      await this.#requeue(rec);
    }
    return this.#tasks.size;
  }

  /** A local task that was waiting or running when the process stopped is trained again. */
  async #requeue(rec: TaskRecord): Promise<void> {
    const tuner = this.#opts.local;
    const st = rec.local;
    if (!tuner || !st || st.status === "SUCCEEDED" || st.status === "FAILED") return;
    const bytes = await Deno.readFile(tuner.datasetPath(rec.id)).catch(() => undefined);
    const check = bytes && checkDataset(rec.dataset.fileName, bytes);
    if (!check || !check.ok) return;
    st.status = "WAIT";
    tuner.enqueue(rec, check.rows);
  }

  #dir(): string | undefined {
    return this.#opts.stateDir ? join(this.#opts.stateDir, "tasks") : undefined;
  }

  // A task is saved as its state changes, from requests and from its training at once: one
  // write at a time, each of the record as it is then, so the file ends with the last state.
  #persist = oneWriteAtATime(async (rec: TaskRecord): Promise<void> => {
    const dir = this.#dir();
    if (!dir) return;
    await writeFileAtomic(join(dir, `${rec.id}.json`), JSON.stringify(rec));
  });

  #newId(): string {
    for (;;) {
      let id = "";
      for (let i = 0; i < 8; i++) id += ID_CHARS[Math.floor(this.#rng.next() * ID_CHARS.length)];
      if (!this.#tasks.has(id)) return id;
    }
  }

  async #learnedOf(fileName: string, bytes: Uint8Array) {
    const ext = fileName.includes(".")
      ? fileName.slice(fileName.lastIndexOf(".")).toLowerCase()
      : "";
    const key = `${ext}\u0000${await sha256Hex(bytes)}`;
    let learned = this.#learned.get(key);
    if (!learned) {
      const check = checkDataset(fileName, bytes, {
        maxBytes: this.#opts.maxDatasetBytes,
        rules: this.#opts.datasetRules,
      });
      learned = { check, runs: new Map() };
      this.#learned.set(key, learned);
    }
    return learned;
  }

  /** Creates a task; the dataset is checked and learned now but only revealed after `WAIT`. */
  async create(params: Omit<TaskParams, "name"> & { name?: string }, source: DatasetSource) {
    const id = this.#newId();
    const datasetId = hex32(this.#rng);
    const day = new Date(this.#now()).toISOString().slice(0, 10);
    let fileName: string;
    let filePath: string;
    let bytes: Uint8Array;
    let bucket: string | null = null;
    if (source.kind === "upload") {
      fileName = source.fileName;
      const ext = fileName.includes(".") ? fileName.slice(fileName.lastIndexOf(".")) : "";
      filePath = `/dataset/${day}Z/${datasetId}/${datasetId}${ext}`;
      bytes = source.bytes;
    } else {
      fileName = source.path.split("/").pop() ?? source.path;
      filePath = source.path;
      bucket = source.bucket;
      bytes = source.bytes;
    }
    const learned = await this.#learnedOf(fileName, bytes);
    const check = learned.check;
    let outcome: TaskRecord["outcome"];
    const local = isLocalModel(params.model) ? this.#opts.local : undefined;
    if (isLocalModel(params.model) && !local) throw new Error("local models are not enabled");
    if (check.ok && local) {
      outcome = {
        ok: true,
        dataRows: check.rows.length,
        numOfTokens: check.tokens,
        stepsPerEpoch: 0,
        stepLoss: [],
        model: { prefix: null, continents: [], counts: {} },
      };
    } else if (check.ok) {
      let run = learned.runs.get(params.trainEpochs);
      if (!run) {
        run = train(check.rows.map((r) => r.completion), {
          epochs: params.trainEpochs,
          batchSize: this.#opts.batchSize,
          texts: check.rows.map((r) => r.text),
        });
        learned.runs.set(params.trainEpochs, run);
      }
      outcome = {
        ok: true,
        dataRows: check.rows.length,
        numOfTokens: check.tokens,
        stepsPerEpoch: run.stepsPerEpoch,
        stepLoss: run.stepLoss,
        model: run.model,
      };
    } else {
      outcome = { ok: false, failureReason: check.failureReason, message: check.message };
    }
    const createdMs = this.#now(); // after checking/learning: WAIT starts now
    const rec: TaskRecord = {
      id,
      seq: this.#seq++,
      params: { ...params, name: params.name || defaultName(createdMs) },
      createdMs,
      waitMs: this.#opts.waitMs,
      stepsPerSecond: this.#opts.trainingSpeed,
      dataset: { id: datasetId, fileName, fileSize: bytes.length, filePath, bucket },
      outcome,
    };
    if (local && check.ok && outcome.ok) {
      rec.local = localTaskState(
        params.model as never,
        check.rows.length,
        params.trainEpochs,
        createdMs,
      );
      outcome.stepsPerEpoch = rec.local.stepsPerEpoch;
      await local.keepDataset(id, bytes!);
    }
    this.#tasks.set(id, rec);
    await this.#persist(rec);
    if (local && check.ok) local.enqueue(rec, check.rows);
    return rec;
  }

  /** The stored record, or undefined. */
  get(id: string): TaskRecord | undefined {
    return this.#tasks.get(id);
  }

  /** Deletes a task; false when unknown. */
  async delete(id: string): Promise<boolean> {
    if (!this.#tasks.delete(id)) return false;
    const dir = this.#dir();
    if (dir) await Deno.remove(join(dir, `${id}.json`)).catch(() => {});
    return true;
  }

  /** All tasks, newest first. */
  list(): TaskRecord[] {
    return [...this.#tasks.values()].sort((a, b) => b.seq - a.seq);
  }

  /** Current status of a task. */
  status(rec: TaskRecord): TaskStatus {
    return taskState(rec, this.#now()).status;
  }

  /** The adapter file of a SUCCEEDED local task, else undefined. */
  adapter(rec: TaskRecord): string | undefined {
    const rel = rec.local?.status === "SUCCEEDED" ? rec.local.adapter : null;
    return rel && this.#opts.local ? this.#opts.local.resolve(rel) : undefined;
  }

  /** Writes a task's record (the local tuner calls it as training progresses). */
  save(rec: TaskRecord): Promise<void> {
    return this.#persist(rec);
  }

  /** The learned model of a SUCCEEDED task, else undefined. */
  learned(rec: TaskRecord): LearnerModel | undefined {
    if (rec.local || !rec.outcome.ok || this.status(rec) !== "SUCCEEDED") return undefined;
    return rec.outcome.model;
  }

  /** Task object as the API returns it (documented fields plus the legacy extras). */
  view(rec: TaskRecord): Record<string, unknown> {
    return taskView(rec, this.#now());
  }
}

interface TaskState {
  status: TaskStatus;
  currStep: number;
  endMs: number | null;
  changedMs: number;
}

/**
 * The task's model id on the OpenAI-compatible endpoint, shaped like the public example
 * `ft:tuning-1883-250519-111923-2qjqh` (rule: openai.tuned-model): a running number, the
 * creation time `yyMMdd-HHmmss` (KST) and five id characters.
 */
export function tunedModelId(rec: TaskRecord): string {
  return `ft:tuning-${1000 + rec.seq}-${defaultName(rec.createdMs)}-${rec.id.slice(0, 5)}`;
}

/** Status and progress of a task at time `now` (rule: tuning.task). */
export function taskState(rec: TaskRecord, now: number): TaskState {
  if (rec.local) {
    const l = rec.local;
    const step = rec.outcome.ok ? rec.outcome.stepLoss.length : 0;
    return { status: l.status, currStep: step, endMs: l.endMs, changedMs: l.changedMs };
  }
  const start = rec.createdMs + rec.waitMs;
  if (now < start) return { status: "WAIT", currStep: 0, endMs: null, changedMs: rec.createdMs };
  if (!rec.outcome.ok) return { status: "FAILED", currStep: 0, endMs: start, changedMs: start };
  const total = rec.outcome.stepLoss.length;
  const durationMs = (total / rec.stepsPerSecond) * 1000;
  if (now >= start + durationMs) {
    const end = Math.round(start + durationMs);
    return { status: "SUCCEEDED", currStep: total, endMs: end, changedMs: end };
  }
  const step = Math.min(total, Math.floor(((now - start) / 1000) * rec.stepsPerSecond));
  return {
    status: "RUNNING",
    currStep: step,
    endMs: null,
    changedMs: Math.round(start + (step / rec.stepsPerSecond) * 1000),
  };
}

/** Seconds a local task needs in all: measured so far, extrapolated from its step rate. */
function localEstimate(
  l: NonNullable<TaskRecord["local"]>,
  step: number,
  now: number,
): number | null {
  if (l.startedMs === null || step === 0) return null;
  const end = l.endMs ?? now;
  return Math.ceil(
    ((end - l.startedMs) / 1000) * (l.status === "SUCCEEDED" ? 1 : l.totalSteps / step),
  );
}

function mean(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  return Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1e6) / 1e6;
}

/** The task's `statusInfo`: progress, loss and timing once it runs, the reason when it failed. */
function statusInfoOf(
  rec: TaskRecord,
  st: ReturnType<typeof taskState>,
  now: number,
): Record<string, unknown> {
  const p = rec.params;
  const statusInfo: Record<string, unknown> = {
    label: null,
    dataRows: null,
    numOfTokens: null,
    currStep: null,
    totalTrainSteps: null,
    currEpoch: null,
    totalTrainEpochs: null,
    estimatedTime: null,
    trainLoss: null,
    lossDiff: null,
    sendWeightSuccess: null,
    uploadedWeights: [],
    failureReason: null,
    message: null,
    endDatetime: null,
    currNumOfTokens: null,
  };
  const o = rec.outcome;
  if (st.status === "FAILED" && !o.ok) {
    statusInfo.failureReason = o.failureReason;
    statusInfo.message = o.message;
    statusInfo.endDatetime = kstDate(st.endMs!);
  } else if (st.status !== "WAIT" && o.ok) {
    const total = rec.local?.totalSteps ?? o.stepLoss.length;
    const per = o.stepsPerEpoch;
    const step = st.currStep;
    const epoch = step === 0 ? 1 : Math.min(p.trainEpochs, Math.ceil(step / per));
    const epochStart = (epoch - 1) * per;
    const current = mean(o.stepLoss.slice(epochStart, Math.max(step, epochStart)));
    const previous = epoch > 1 ? mean(o.stepLoss.slice(epochStart - per, epochStart)) : null;
    Object.assign(statusInfo, {
      dataRows: o.dataRows,
      numOfTokens: o.numOfTokens,
      currStep: step,
      totalTrainSteps: total,
      currEpoch: epoch,
      totalTrainEpochs: p.trainEpochs,
      estimatedTime: rec.local
        ? localEstimate(rec.local, step, now)
        : Math.ceil(total / rec.stepsPerSecond),
      trainLoss: current,
      lossDiff: current !== null && previous !== null
        ? Math.round((current - previous) * 1e6) / 1e6
        : null,
      currNumOfTokens: Math.round((o.numOfTokens * step) / per),
    });
    if (st.status === "SUCCEEDED") {
      statusInfo.sendWeightSuccess = true;
      statusInfo.endDatetime = kstDate(st.endMs!);
    }
  }
  return statusInfo;
}

/** The task's `dataset`: the uploaded file and, once counted, its rows and tokens. */
function datasetView(rec: TaskRecord, created: string): Record<string, unknown> {
  const o = rec.outcome;
  return {
    id: rec.dataset.id,
    type: "NONE",
    tuningType: null,
    filePath: rec.dataset.filePath,
    fileName: rec.dataset.fileName,
    fileSize: rec.dataset.fileSize,
    token: o.ok ? o.numOfTokens : null,
    rowCount: o.ok ? o.dataRows : null,
    groupId: "emulator",
    userId: "emulator",
    trainMethod: "mle",
    bucket: rec.dataset.bucket,
    accessKey: null,
    secretKey: null,
    createdDate: created,
    updatedDate: created,
  };
}

/** Builds the task object for `rec` at time `now` (rule: tuning.task). */
export function taskView(rec: TaskRecord, now: number): Record<string, unknown> {
  const st = taskState(rec, now);
  const p = rec.params;
  const statusInfo = statusInfoOf(rec, st, now);
  const created = kstDate(rec.createdMs);
  const spec = MODELS[p.model];
  return {
    id: rec.id,
    name: p.name,
    model: p.model,
    groupId: "emulator",
    groupName: null,
    userId: "emulator",
    userName: null,
    userEmail: null,
    baseModelId: spec?.baseModelId ?? null,
    baseModel: p.model,
    tuningModelId: null,
    tuningModel: null,
    tuningPipeline: null,
    deployPipeline: null,
    dataset: datasetView(rec, created),
    method: p.method,
    modelDeprecated: false,
    modelUseChat: true,
    tuningType: p.tuningType,
    taskType: p.taskType,
    trainEpochs: p.trainEpochs,
    learningRate: rec.local?.learningRate ?? p.learningRate,
    validationSplitRatio: p.validationSplitRatio,
    loraR: rec.local?.rank ?? p.loraR,
    loraAlpha: rec.local?.alpha ?? p.loraAlpha,
    instructionMixinRatio: 0.0,
    useOnlyInstructionData: false,
    status: st.status,
    statusInfo,
    checkpoint: null,
    createdClientType: "API",
    modelLabel: "",
    createdDate: created,
    updatedDate: kstDate(st.changedMs),
  };
}
