/**
 * Tuning tasks: create (multipart upload or Object Storage reference), get, list (paged async
 * iterator), delete, and waitForTask (polling with backoff, progress callback, typed failure).
 * @module
 */
import { redactSecrets } from "./auth.ts";
import { backoffDelayMs, sleep } from "./backoff.ts";
import {
  CLIENT_CODES,
  ClovaRequestInvalidError,
  ClovaStudioError,
  TaskWaitTimeoutError,
  TuningTaskFailedError,
} from "./errors.ts";
import type { HttpCore } from "./http.ts";
import { type ObjectStorageConfig, uploadObject } from "./objectStorage.ts";
import {
  checkCreateTaskParams,
  type CreateTaskParams,
  statusInfoSchema,
  taskPageSchema,
  taskSchema,
} from "./params.ts";

/** Which tuning API: current `/tuning/v2/tasks` or the cookbook host's `/v2/tasks`. */
export type TuningApi = "current" | "legacy";

/** Task status (the four documented values; others passed through). */
export type TaskStatus =
  | "WAIT"
  | "RUNNING"
  | "SUCCEEDED"
  | "FAILED"
  | (string & Record<never, never>);

/** `statusInfo`, nulls turned into absent fields. */
export interface TaskStatusInfo {
  dataRows?: number;
  numOfTokens?: number;
  currStep?: number;
  totalTrainSteps?: number;
  currEpoch?: number;
  totalTrainEpochs?: number;
  estimatedTime?: number;
  trainLoss?: number;
  sendWeightSuccess?: boolean;
  failureReason?: string;
  message?: string;
  endDatetime?: string;
}

/** A tuning task as the client returns it. */
export interface TuningTask {
  id: string;
  name?: string;
  /** Base model (`model`, or legacy `baseModel`). */
  model?: string;
  method?: string;
  tuningType?: string;
  taskType?: string;
  trainEpochs?: number;
  learningRate?: number;
  status: TaskStatus;
  statusInfo: TaskStatusInfo;
  createdDate?: string;
  updatedDate?: string;
  /** Request id of the call that returned this snapshot. */
  requestId?: string;
  /** The service's task object with every field (secret-looking fields redacted). */
  raw: Record<string, unknown>;
}

/** A dataset file held in memory. */
export interface DatasetFile {
  name: string;
  bytes: Uint8Array;
}

/** Reference to a dataset already in NCP Object Storage. */
export interface ObjectStorageDataset {
  bucket: string;
  /** Object key inside the bucket (no bucket name). */
  path: string;
  accessKey: string;
  secretKey: string;
}

/** Where the training data comes from. */
export type TaskDataset =
  | { file: DatasetFile }
  | { objectStorage: ObjectStorageDataset }
  | { upload: { file: DatasetFile; storage: ObjectStorageConfig; key?: string } };

/** `createTask` input: documented parameters plus the dataset. */
export type CreateTaskRequest = CreateTaskParams & { dataset: TaskDataset };

/** What `waitForTask` reports at every poll. */
export interface TaskProgress {
  taskId: string;
  status: TaskStatus;
  currStep?: number;
  totalTrainSteps?: number;
  currEpoch?: number;
  totalTrainEpochs?: number;
  trainLoss?: number;
  /** Since the task was created (or since waiting began when the creation date is unknown). */
  elapsedMs: number;
  /** Remaining training time from the observed step rate, when it can be estimated. */
  estimatedRemainingMs?: number;
  task: TuningTask;
}

/** Options of `waitForTask`. */
export interface WaitOptions {
  onProgress?: (p: TaskProgress) => void;
  signal?: AbortSignal;
  /** First poll interval (default 2 s); grows ×1.5 while nothing changes. */
  pollIntervalMs?: number;
  /** Longest poll interval (default 30 s). */
  maxPollIntervalMs?: number;
  /** Give up (TaskWaitTimeoutError) after this long; default: wait forever. */
  timeoutMs?: number;
}

/** Base path of the tuning API. */
export function tasksPath(api: TuningApi): string {
  return api === "legacy" ? "/v2/tasks" : "/tuning/v2/tasks";
}

const clean = <T>(v: T | null | undefined): T | undefined => (v == null ? undefined : v);

/** Parse one task object (current or legacy shape) into a {@link TuningTask}. */
export function parseTask(value: unknown, requestId?: string): TuningTask {
  const r = taskSchema.safeParse(value);
  if (!r.success) {
    throw new ClovaStudioError({
      httpStatus: 200,
      code: CLIENT_CODES.badResponse,
      message: `unexpected task object: ${r.error.issues[0]?.message ?? "?"}`,
      requestId,
      retryable: false,
    });
  }
  const t = r.data;
  const si = statusInfoSchema.safeParse(Array.isArray(t.statusInfo) ? {} : t.statusInfo ?? {});
  const s = si.success ? si.data : {};
  const info: TaskStatusInfo = {};
  for (const k of Object.keys(s) as (keyof TaskStatusInfo)[]) {
    const v = (s as Record<string, unknown>)[k];
    if (v != null) (info as Record<string, unknown>)[k] = v;
  }
  return {
    id: t.id,
    name: clean(t.name),
    model: clean(t.model) ?? clean(t.baseModel),
    method: clean(t.method),
    tuningType: clean(t.tuningType),
    taskType: clean(t.taskType),
    trainEpochs: clean(t.trainEpochs),
    learningRate: clean(t.learningRate),
    status: t.status,
    statusInfo: info,
    createdDate: clean(t.createdDate),
    updatedDate: clean(t.updatedDate),
    requestId,
    raw: redactSecrets(value as Record<string, unknown>),
  };
}

/** Parse "2024-05-13T15:42:50+0900" (and ISO variants) into epoch ms. */
export function parseServiceDate(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const fixed = s.replace(/([+-]\d\d)(\d\d)$/, "$1:$2");
  const t = Date.parse(fixed);
  return Number.isNaN(t) ? undefined : t;
}

const DATASET_EXTENSIONS = [".csv", ".jsonl", ".json"];

/**
 * A unique default task name in the service's default style (creation date `yyMMdd-HHmmss`,
 * KST) plus a random suffix, so an ambiguous create can be found again in the task list.
 */
export function defaultTaskName(now = Date.now()): string {
  const k = new Date(now + 9 * 3600_000).toISOString();
  const stamp = `${k.slice(2, 4)}${k.slice(5, 7)}${k.slice(8, 10)}-${k.slice(11, 13)}${
    k.slice(14, 16)
  }${k.slice(17, 19)}`;
  return `${stamp}-${crypto.randomUUID().slice(0, 6)}`;
}

function formFields(
  api: TuningApi,
  p: CreateTaskParams & { name: string },
): Record<string, string> & { name: string } {
  const f: Record<string, string> & { name: string } = { name: p.name };
  const put = (k: string, v: unknown) => {
    if (v !== undefined) f[k] = String(v);
  };
  put("name", p.name);
  put("model", p.model);
  if (api === "legacy") {
    put("method", p.method ?? "LORA");
    put("taskType", p.taskType ?? "GENERATION");
    put("tuningType", p.tuningType);
  } else {
    put("tuningType", p.tuningType ?? "PEFT");
    put("method", p.method);
    put("taskType", p.taskType);
  }
  put("trainEpochs", p.trainEpochs);
  put("learningRate", p.learningRate);
  put("validationSplitRatio", p.validationSplitRatio);
  put("loraR", p.loraR);
  put("loraAlpha", p.loraAlpha);
  return f;
}

/** Tuning operations over an {@link HttpCore}. */
export class TuningApiClient {
  #http: HttpCore;
  readonly api: TuningApi;

  constructor(http: HttpCore, api: TuningApi) {
    this.#http = http;
    this.api = api;
  }

  /**
   * Create a task. Multipart (`trainingDataset` file part) for `{file}`; JSON with
   * `trainingDataset{Bucket,FilePath,AccessKey,SecretKey}` for `{objectStorage}`; `{upload}` puts
   * the file into Object Storage first. Creation is not idempotent: it is retried blindly only
   * when the service certainly did not act (429s, connection refused); after an ambiguous failure
   * the task list is checked first, so a retry never makes a second, billed task.
   */
  async create(req: CreateTaskRequest, opts: { signal?: AbortSignal; requestId?: string } = {}) {
    const { dataset, ...rest } = req;
    const params = checkCreateTaskParams(rest);
    if (!dataset || typeof dataset !== "object") {
      throw new ClovaRequestInvalidError("tuning task creation", [
        { path: "dataset", message: "required: {file} | {objectStorage} | {upload}" },
      ]);
    }
    const fields = formFields(this.api, { ...params, name: params.name ?? defaultTaskName() });
    if ("file" in dataset) {
      const { name, bytes } = dataset.file;
      if (!DATASET_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e))) {
        throw new ClovaRequestInvalidError("tuning task creation", [
          { path: "dataset.file.name", message: "file.extension: use .csv or .jsonl" },
        ]);
      }
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      form.set("trainingDataset", new Blob([bytes as BlobPart], { type: "text/csv" }), name);
      return await this.#send({ form }, fields.name, opts);
    }
    let ref: ObjectStorageDataset;
    if ("upload" in dataset) {
      const { file, storage, key } = dataset.upload;
      const objectKey = key ?? `clova-tuning/${crypto.randomUUID()}/${file.name}`;
      await uploadObject(storage, objectKey, file.bytes, opts.signal);
      ref = {
        bucket: storage.bucket,
        path: objectKey,
        accessKey: storage.accessKey,
        secretKey: storage.secretKey,
      };
    } else {
      ref = dataset.objectStorage;
    }
    const missing = (["bucket", "path", "accessKey", "secretKey"] as const).filter((k) =>
      !ref?.[k]
    );
    if (missing.length) {
      throw new ClovaRequestInvalidError(
        "tuning task creation",
        missing.map((k) => ({ path: `dataset.objectStorage.${k}`, message: "required" })),
      );
    }
    const body: Record<string, unknown> = { ...fields };
    body.trainingDatasetBucket = ref.bucket;
    body.trainingDatasetFilePath = ref.path;
    body.trainingDatasetAccessKey = ref.accessKey;
    body.trainingDatasetSecretKey = ref.secretKey;
    return await this.#send({ json: body }, fields.name, opts);
  }

  /**
   * Send a create. The HTTP core retries only failures where nothing was created (429s, refused
   * connections). After an ambiguous failure (500, 504, timeout, dropped connection — the task
   * may or may not exist) the task list is searched for a task with this create's name made
   * since the first attempt: found → returned; not found → the create is sent again (same
   * backoff and attempt budget). Names are made unique when the caller gives none.
   */
  async #send(
    body: { form?: FormData; json?: unknown },
    name: string,
    opts: { signal?: AbortSignal; requestId?: string },
  ): Promise<TuningTask> {
    const since = Date.now() - 120_000;
    const policy = this.#http.retryPolicy;
    for (let attempt = 1;; attempt++) {
      try {
        const r = await this.#http.json({
          method: "POST",
          path: tasksPath(this.api),
          ...body,
          retryMode: "unsent",
          ...opts,
        });
        return parseTask(r.result, r.requestId);
      } catch (e) {
        if (
          !(e instanceof ClovaStudioError) || !e.retryable || e.code.startsWith("429") ||
          attempt >= policy.maxAttempts || opts.signal?.aborted
        ) throw e;
        // If even the list cannot be read, report the create's own failure.
        const found = await this.#findCreated(name, since, opts.signal).catch(() => {
          throw e;
        });
        if (found) return found;
        const delayMs = backoffDelayMs(attempt, policy, e.retryAfterMs);
        this.#http.notifyRetry({ attempt, delayMs, error: e });
        await sleep(delayMs, opts.signal);
      }
    }
  }

  async #findCreated(name: string, since: number, signal?: AbortSignal) {
    let seen = 0;
    for await (const t of this.list({ pageSize: 100, signal })) {
      const created = parseServiceDate(t.createdDate);
      if (t.name === name && (created === undefined || created >= since)) return t;
      if (++seen >= 500) break;
    }
    return undefined;
  }

  /** Get one task. Unknown ids fail with `ClovaStudioError` 40400 (HTTP 404). */
  async get(id: string, opts: { signal?: AbortSignal } = {}): Promise<TuningTask> {
    const r = await this.#http.json({
      method: "GET",
      path: `${tasksPath(this.api)}/${encodeURIComponent(id)}`,
      signal: opts.signal,
    });
    return parseTask(r.result, r.requestId);
  }

  /** One page of the task list. */
  async page(
    page: number,
    size: number,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ tasks: TuningTask[]; totalPages?: number; totalElements?: number }> {
    if (!Number.isInteger(size) || size < 1 || size > 100) {
      throw new ClovaRequestInvalidError("task list", [{ path: "size", message: "1–100" }]);
    }
    const r = await this.#http.json({
      method: "GET",
      path: tasksPath(this.api),
      query: { page, size },
      signal: opts.signal,
    });
    const p = taskPageSchema.safeParse(r.result);
    if (!p.success) {
      throw new ClovaStudioError({
        httpStatus: r.httpStatus,
        code: CLIENT_CODES.badResponse,
        message: "task list result without content[]",
        requestId: r.requestId,
        retryable: false,
      });
    }
    return {
      tasks: p.data.content.map((t) => parseTask(t, r.requestId)),
      totalPages: clean(p.data.totalPages),
      totalElements: clean(p.data.totalElements),
    };
  }

  /** Every task, page by page (`page=0,1,…`, `size` 1–100, default 20). */
  async *list(
    opts: { pageSize?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<TuningTask, void, undefined> {
    const size = opts.pageSize ?? 20;
    for (let page = 0;; page++) {
      const p = await this.page(page, size, opts);
      for (const t of p.tasks) yield t;
      if (p.tasks.length === 0) return;
      if (p.totalPages !== undefined ? page + 1 >= p.totalPages : p.tasks.length < size) return;
    }
  }

  /**
   * Delete a task. When a retried delete (after a lost response) finds the task already gone
   * (40400), that counts as success.
   */
  async delete(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.#http.json({
        method: "DELETE",
        path: `${tasksPath(this.api)}/${encodeURIComponent(id)}`,
        signal: opts.signal,
      });
    } catch (e) {
      if (e instanceof ClovaStudioError && e.code === "40400" && e.attempts > 1) return;
      throw e;
    }
  }

  /**
   * Poll until SUCCEEDED (resolves with the task) or FAILED (rejects with
   * {@link TuningTaskFailedError}). Polls every `pollIntervalMs`, growing ×1.5 up to
   * `maxPollIntervalMs` while nothing changes and dropping back when progress moves.
   */
  async wait(id: string, opts: WaitOptions = {}): Promise<TuningTask> {
    const minMs = opts.pollIntervalMs ?? 2000;
    const maxMs = Math.max(minMs, opts.maxPollIntervalMs ?? 30_000);
    const started = Date.now();
    let interval = minMs;
    let lastKey = "";
    let rateFrom: { t: number; step: number } | undefined;
    while (true) {
      const task = await this.get(id, { signal: opts.signal });
      const now = Date.now();
      const si = task.statusInfo;
      const created = parseServiceDate(task.createdDate);
      const elapsedMs = created !== undefined && created <= now ? now - created : now - started;
      let estimatedRemainingMs: number | undefined;
      if (task.status === "RUNNING" && si.currStep !== undefined && si.totalTrainSteps) {
        if (!rateFrom) rateFrom = { t: now, step: si.currStep };
        const dStep = si.currStep - rateFrom.step;
        if (dStep > 0) {
          estimatedRemainingMs = Math.round(
            ((si.totalTrainSteps - si.currStep) * (now - rateFrom.t)) / dStep,
          );
        }
      }
      if (task.status === "SUCCEEDED") estimatedRemainingMs = 0;
      opts.onProgress?.({
        taskId: id,
        status: task.status,
        currStep: si.currStep,
        totalTrainSteps: si.totalTrainSteps,
        currEpoch: si.currEpoch,
        totalTrainEpochs: si.totalTrainEpochs,
        trainLoss: si.trainLoss,
        elapsedMs,
        estimatedRemainingMs,
        task,
      });
      if (task.status === "SUCCEEDED") return task;
      if (task.status === "FAILED") {
        throw new TuningTaskFailedError(id, si.failureReason ?? "unknown", si.message ?? "");
      }
      const key = `${task.status}/${si.currStep}/${si.currEpoch}`;
      interval = key === lastKey ? Math.min(maxMs, Math.round(interval * 1.5)) : minMs;
      lastKey = key;
      let delay = interval;
      if (opts.timeoutMs !== undefined) {
        const left = started + opts.timeoutMs - Date.now();
        if (left <= 0) throw new TaskWaitTimeoutError(id, task.status, opts.timeoutMs);
        delay = Math.min(interval, left);
      }
      await sleep(delay, opts.signal);
    }
  }
}
