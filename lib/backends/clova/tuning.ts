/**
 * Tuning tasks: create (Object Storage reference on the current API, multipart upload on the 2024
 * API), get, list (paged async iterator), find by name, delete, and waitForTask (polling with
 * backoff, progress callback, typed failure).
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
import { type ApiGeneration, GENERATION_PROFILES } from "./generation.ts";
import { type HttpCore, neverSent } from "./http.ts";
import { ensureObject, type ObjectStorageConfig } from "./objectStorage.ts";
import {
  checkCreateTaskParams,
  type CreateTaskParams,
  statusInfoSchema,
  taskPageSchema,
  taskSchema,
} from "./params.ts";

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

/**
 * Where the training data comes from: a file sent as the multipart `trainingDataset` part (the
 * 2024 API only), an object already in NCP Object Storage, or a file put there first (the
 * current API only; an existing object is never overwritten).
 */
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

/** Base path of the tuning API of a generation. */
export function tasksPath(generation: ApiGeneration): string {
  return GENERATION_PROFILES[generation].tasksPath;
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

function checkExtension(name: string): void {
  if (!DATASET_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e))) {
    throw new ClovaRequestInvalidError("tuning task creation", [
      { path: "dataset.file.name", message: "file.extension: use .csv or .jsonl" },
    ]);
  }
}

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

/** The 2024 multipart text fields (the cookbook sent `method` and `taskType`). */
function legacyFields(p: CreateTaskParams & { name: string }): Record<string, string> {
  const f: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    if (v !== undefined) f[k] = String(v);
  };
  put("name", p.name);
  put("model", p.model);
  put("method", p.method ?? "LORA");
  put("taskType", p.taskType ?? "GENERATION");
  put("tuningType", p.tuningType);
  put("trainEpochs", p.trainEpochs);
  put("learningRate", p.learningRate);
  put("validationSplitRatio", p.validationSplitRatio);
  put("loraR", p.loraR);
  put("loraAlpha", p.loraAlpha);
  return f;
}

/**
 * The current JSON body (without the dataset fields): `trainEpochs` and `learningRate` as
 * strings, as the create page's field table types them and NAVER's console sample sends them;
 * the other numbers as numbers.
 */
function currentFields(p: CreateTaskParams & { name: string }): Record<string, unknown> {
  const f: Record<string, unknown> = {
    name: p.name,
    model: p.model,
    tuningType: p.tuningType ?? "PEFT",
  };
  if (p.taskType !== undefined) f.taskType = p.taskType;
  if (p.trainEpochs !== undefined) f.trainEpochs = String(p.trainEpochs);
  if (p.learningRate !== undefined) f.learningRate = String(p.learningRate);
  if (p.validationSplitRatio !== undefined) f.validationSplitRatio = p.validationSplitRatio;
  if (p.loraR !== undefined) f.loraR = p.loraR;
  if (p.loraAlpha !== undefined) f.loraAlpha = p.loraAlpha;
  return f;
}

/**
 * Whether a failed create was answered by the service itself, so that its handler has finished:
 * an HTTP error other than a gateway's 502/503/504 (a timeout or a dropped connection has no
 * status).
 */
function answeredByService(e: ClovaStudioError): boolean {
  return e.httpStatus >= 400 && ![502, 503, 504].includes(e.httpStatus);
}

/**
 * The largest LoRA rank every public page allows: 2–64 on the Korean create page, 2–8 on the
 * Japanese and government ones.
 */
export const MAX_SAFE_LORA_R = 8;

/** Object key a dataset upload uses when the caller gives none. */
export function defaultDatasetKey(fileName: string): string {
  return `clova-tuning/${crypto.randomUUID()}/${fileName}`;
}

/** Options of a create. */
export interface CreateOptions {
  signal?: AbortSignal;
  requestId?: string;
  /**
   * Awaited right before each time the create is sent, with the task's name and the request
   * timeout: a caller records it, so that a later process knows a create may still be in the
   * service's hands until twice the timeout after the last send.
   */
  onSend?: (send: { name: string; timeoutMs: number }) => void | Promise<void>;
}

/** Tuning operations over an {@link HttpCore}. */
export class TuningApiClient {
  #http: HttpCore;
  readonly generation: ApiGeneration;

  constructor(http: HttpCore, generation: ApiGeneration) {
    this.#http = http;
    this.generation = generation;
  }

  /**
   * Create a task. On the current API the dataset comes from Object Storage (`{objectStorage}`,
   * or `{upload}`, which puts the file there first and never overwrites an existing object) and
   * the body is JSON; on the 2024 API it is the multipart `trainingDataset` part (`{file}`).
   * Any other combination is refused before anything is sent. Creation is not idempotent: it is
   * retried blindly only when the service certainly did not act (429s, connection refused);
   * after an ambiguous failure the task list is checked first, so a retry never makes a second,
   * billed task.
   */
  async create(req: CreateTaskRequest, opts: CreateOptions = {}) {
    const { dataset, ...rest } = req;
    const params = checkCreateTaskParams(rest);
    if (params.loraR !== undefined && params.loraR > MAX_SAFE_LORA_R) {
      throw new ClovaRequestInvalidError("tuning task creation", [{
        path: "loraR",
        message: `${params.loraR} is refused before sending: the Korean create page allows ` +
          `2–64 but the Japanese and government pages 2–${MAX_SAFE_LORA_R}, so a larger rank ` +
          "may be refused after upload or billed differently; leave it out (the service's " +
          `default) or give 2–${MAX_SAFE_LORA_R}`,
      }]);
    }
    if (!dataset || typeof dataset !== "object") {
      throw new ClovaRequestInvalidError("tuning task creation", [
        { path: "dataset", message: "required: {file} | {objectStorage} | {upload}" },
      ]);
    }
    const name = params.name ?? defaultTaskName();
    const profile = GENERATION_PROFILES[this.generation];
    if (profile.datasetTransport === "multipart") {
      if (!("file" in dataset)) {
        throw new ClovaRequestInvalidError("tuning task creation", [{
          path: "dataset",
          message: "the 2024 API (/v2/tasks) takes the dataset as the multipart trainingDataset " +
            "file: pass {file}",
        }]);
      }
      const { name: fileName, bytes } = dataset.file;
      checkExtension(fileName);
      const fields = legacyFields({ ...params, name });
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      form.set("trainingDataset", new Blob([bytes as BlobPart], { type: "text/csv" }), fileName);
      return await this.#send({ form }, name, opts);
    }
    if ("file" in dataset) {
      throw new ClovaRequestInvalidError("tuning task creation", [{
        path: "dataset",
        message: "the current API (/tuning/v2/tasks) reads the dataset from NCP Object Storage: " +
          "pass {upload: {file, storage}} or {objectStorage}",
      }]);
    }
    const wrong = (["method"] as const).filter((k) => params[k] !== undefined);
    if (wrong.length) {
      throw new ClovaRequestInvalidError(
        "tuning task creation",
        wrong.map((k) => ({
          path: k,
          message: "a 2024 field; the current API takes tuningType (PEFT)",
        })),
      );
    }
    let ref: ObjectStorageDataset;
    if ("upload" in dataset) {
      const { file, storage, key } = dataset.upload;
      checkExtension(file.name);
      const objectKey = key ?? defaultDatasetKey(file.name);
      await ensureObject(storage, objectKey, file.bytes, opts.signal);
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
    const body: Record<string, unknown> = { ...currentFields({ ...params, name }) };
    body.trainingDatasetFilePath = ref.path;
    body.trainingDatasetBucket = ref.bucket;
    body.trainingDatasetAccessKey = ref.accessKey;
    body.trainingDatasetSecretKey = ref.secretKey;
    return await this.#send({ json: body }, name, opts);
  }

  /**
   * Send a create. The HTTP core retries only failures where nothing was created (429s, refused
   * connections). After an ambiguous failure (500, 504, timeout, dropped connection — the task
   * may or may not exist, and may still come into being) the create is sent again only once
   * the task list has been read twice, both times after the failed request is over, and holds
   * no task of this name made since the first attempt; a task found is returned instead.
   *
   * "Over" is when the service answered with an error of its own (a 500 with its envelope):
   * then its handler has finished. A timeout, a dropped connection or a gateway's 502/503/504
   * says nothing of the handler, which may still be creating the task; such a request counts
   * as over only at twice the request timeout after the failure was seen (the request was sent
   * before the failure, so that is at least twice the timeout after it was sent). The two reads
   * are a backoff delay apart, for a list that shows a new task a moment late. If the list
   * cannot be read, the create's own failure is thrown and nothing is sent again. Names are
   * made unique when the caller gives none.
   */
  async #send(
    body: { form?: FormData; json?: unknown },
    name: string,
    opts: CreateOptions,
  ): Promise<TuningTask> {
    const since = Date.now() - 120_000;
    const policy = this.#http.retryPolicy;
    const { onSend, ...request } = opts;
    for (let attempt = 1;; attempt++) {
      try {
        await onSend?.({ name, timeoutMs: this.#http.requestTimeoutMs });
        const r = await this.#http.json({
          method: "POST",
          path: tasksPath(this.generation),
          ...body,
          retryMode: "unsent",
          ...request,
        });
        return parseTask(r.result, r.requestId);
      } catch (e) {
        if (
          !(e instanceof ClovaStudioError) || !e.retryable || e.code.startsWith("429") ||
          attempt >= policy.maxAttempts || opts.signal?.aborted ||
          neverSent(e) // refused: the core has already retried it
        ) throw e;
        const overAt = answeredByService(e)
          ? Date.now()
          : Date.now() + 2 * this.#http.requestTimeoutMs;
        await sleep(Math.max(0, overAt - Date.now()), opts.signal);
        const delayMs = backoffDelayMs(attempt, policy, e.retryAfterMs);
        for (let read = 0; read < 2; read++) {
          if (read > 0) await sleep(delayMs, opts.signal);
          // If the list cannot be read, report the create's own failure.
          const found = await this.#findCreated(name, since, opts.signal).catch(() => {
            throw e;
          });
          if (found) return found;
        }
        this.#http.notifyRetry({ attempt, delayMs, error: e });
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

  /**
   * Every task whose name is `name`, newest first, from the whole (paged) task list. Callers
   * that give their tasks unique names use it to adopt a task an interrupted run created
   * instead of paying for it again.
   */
  async findByName(name: string, opts: { signal?: AbortSignal } = {}): Promise<TuningTask[]> {
    const found: TuningTask[] = [];
    for await (const t of this.list({ pageSize: 100, signal: opts.signal })) {
      if (t.name === name) found.push(t);
    }
    return found.sort((a, b) =>
      (parseServiceDate(b.createdDate) ?? 0) - (parseServiceDate(a.createdDate) ?? 0)
    );
  }

  /** Get one task. Unknown ids fail with `ClovaStudioError` 40400 (HTTP 404). */
  async get(id: string, opts: { signal?: AbortSignal } = {}): Promise<TuningTask> {
    const r = await this.#http.json({
      method: "GET",
      path: `${tasksPath(this.generation)}/${encodeURIComponent(id)}`,
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
      path: tasksPath(this.generation),
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
        path: `${tasksPath(this.generation)}/${encodeURIComponent(id)}`,
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
