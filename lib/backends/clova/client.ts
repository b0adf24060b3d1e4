/**
 * `ClovaStudioClient`: one object for tuning, chat, tokenizer and dataset upload, holding the
 * credentials privately (never shown by `Deno.inspect`, `JSON.stringify` or `toString`).
 * @module
 */
import { type ClovaAuth, describeAuth } from "./auth.ts";
import { resolveRetryPolicy } from "./backoff.ts";
import {
  chat,
  type ChatOptions,
  type ChatResult,
  chatStream,
  type ChatStreamOptions,
  type ChatTarget,
} from "./chat.ts";
import { ClovaRequestInvalidError } from "./errors.ts";
import { HttpCore } from "./http.ts";
import { type ApiGeneration, generationFor } from "./generation.ts";
import { ensureObject, type ObjectStorageConfig } from "./objectStorage.ts";
import type { ClovaClientOptions } from "./options.ts";
import type { ChatMessage, ChatRequest } from "./params.ts";
import { countDatasetTokens, type DatasetTokenCount, tokenize, type TokenRow } from "./tokenize.ts";
import {
  type CreateOptions,
  type CreateTaskRequest,
  type DatasetFile,
  defaultDatasetKey,
  type ObjectStorageDataset,
  TuningApiClient,
  type TuningTask,
  type WaitOptions,
} from "./tuning.ts";

function checkOptions(o: ClovaClientOptions): void {
  const issues: { path: string; message: string }[] = [];
  try {
    const u = new URL(o.baseUrl);
    if (!/^https?:$/.test(u.protocol)) issues.push({ path: "baseUrl", message: "http(s) URL" });
  } catch {
    issues.push({ path: "baseUrl", message: "not a URL" });
  }
  const a = o.auth as Partial<Record<string, unknown>> | undefined;
  const need: Record<string, string[]> = {
    "api-key": ["apiKey"],
    "key-pair": ["clovaStudioApiKey", "apigwApiKey"],
    "client-credentials": ["clientId", "clientSecret"],
  };
  const fields = a && typeof a.kind === "string" ? need[a.kind] : undefined;
  if (!fields) {
    issues.push({ path: "auth.kind", message: "api-key | key-pair | client-credentials" });
  }
  for (const f of fields ?? []) {
    if (typeof a?.[f] !== "string" || (a[f] as string).trim() === "") {
      issues.push({ path: `auth.${f}`, message: "required (non-empty string)" });
    }
  }
  if (issues.length) throw new ClovaRequestInvalidError("client options", issues);
}

/** The CLOVA Studio client. */
export class ClovaStudioClient {
  /** Base URL requests go to. */
  readonly baseUrl: string;
  /** API generation in use. */
  readonly generation: ApiGeneration;
  /** Auth scheme in use (no secrets). */
  readonly authKind: ClovaAuth["kind"];
  #http: HttpCore;
  #tuning: TuningApiClient;
  #storage?: ObjectStorageConfig;

  constructor(opts: ClovaClientOptions) {
    checkOptions(opts);
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.authKind = opts.auth.kind;
    this.generation = opts.generation ?? generationFor(opts.auth.kind);
    this.#http = new HttpCore({
      baseUrl: this.baseUrl,
      auth: opts.auth,
      pathPrefix: opts.pathPrefix ?? (opts.auth.kind === "key-pair" ? "/testapp" : ""),
      retry: resolveRetryPolicy(opts.retry),
      onRetry: opts.onRetry,
      requestTimeoutMs: opts.requestTimeoutMs ?? 120_000,
      tokenRefreshMarginMs: opts.tokenRefreshMarginMs ?? 60_000,
      fetch: opts.fetch,
    });
    this.#tuning = new TuningApiClient(this.#http, this.generation);
    this.#storage = opts.objectStorage ? { ...opts.objectStorage } : undefined;
  }

  /** Access tokens fetched so far (client-credentials; 0 otherwise). */
  get tokenFetches(): number {
    return this.#http.tokenFetches;
  }

  /**
   * Create a tuning task: from Object Storage (`{objectStorage}` or `{upload}`) on the current API,
   * from a multipart file (`{file}`) on the 2024 API.
   */
  createTask(
    req: CreateTaskRequest,
    opts?: CreateOptions,
  ): Promise<TuningTask> {
    return this.#tuning.create(req, opts);
  }

  /** Get a task by id. */
  getTask(id: string, opts?: { signal?: AbortSignal }): Promise<TuningTask> {
    return this.#tuning.get(id, opts);
  }

  /** Iterate over all tasks, fetching pages of `pageSize` (default 20) lazily. */
  listTasks(opts?: { pageSize?: number; signal?: AbortSignal }): AsyncIterable<TuningTask> {
    return this.#tuning.list(opts);
  }

  /** Every task named `name`, newest first (the whole list, paged). */
  findTasksByName(name: string, opts?: { signal?: AbortSignal }): Promise<TuningTask[]> {
    return this.#tuning.findByName(name, opts);
  }

  /** Delete a task. */
  deleteTask(id: string, opts?: { signal?: AbortSignal }): Promise<void> {
    return this.#tuning.delete(id, opts);
  }

  /** Poll a task until it SUCCEEDS (or throw TuningTaskFailedError / TaskWaitTimeoutError). */
  waitForTask(id: string, opts?: WaitOptions): Promise<TuningTask> {
    return this.#tuning.wait(id, opts);
  }

  /** Chat completion on a base model or tuned task. */
  chat(target: ChatTarget, req: ChatRequest, opts?: ChatOptions): Promise<ChatResult> {
    return chat(this.#http, target, req, opts);
  }

  /** Streamed chat completion; deltas go to `opts.onToken`. */
  chatStream(target: ChatTarget, req: ChatRequest, opts?: ChatStreamOptions): Promise<ChatResult> {
    return chatStream(this.#http, target, req, opts);
  }

  /** Token counts of `messages` for `model` (`/v1/api-tools/chat-tokenize/{model}`). */
  async tokenize(
    model: string,
    messages: ChatMessage[],
    opts?: { signal?: AbortSignal },
  ): Promise<
    {
      messages: { role: string; content: string; count: number }[];
      total: number;
      requestId: string;
    }
  > {
    return await tokenize(this.#http, model, messages, opts);
  }

  /** Count a tuning dataset's tokens (Text + Completion) with the service tokenizer. */
  countDatasetTokens(
    model: string,
    rows: readonly TokenRow[],
    opts?: { maxCharsPerRequest?: number; onProgress?: (done: number, total: number) => void },
  ): Promise<DatasetTokenCount> {
    return countDatasetTokens((m) => tokenize(this.#http, model, m), rows, opts);
  }

  /**
   * Put a dataset into Object Storage (the configured one unless `storage` is given) and return
   * the reference to pass as `createTask({ dataset: { objectStorage } })`. An object already at
   * the key is reused when it holds the same bytes and never overwritten otherwise.
   */
  async uploadDataset(
    file: DatasetFile,
    opts: { key?: string; storage?: ObjectStorageConfig; signal?: AbortSignal } = {},
  ): Promise<ObjectStorageDataset> {
    const storage = opts.storage ?? this.#storage;
    if (!storage) {
      throw new ClovaRequestInvalidError("dataset upload", [
        { path: "objectStorage", message: "no Object Storage configured (NCP_OBJECT_STORAGE_*)" },
      ]);
    }
    const key = opts.key ?? defaultDatasetKey(file.name);
    await ensureObject(storage, key, file.bytes, opts.signal);
    return {
      bucket: storage.bucket,
      path: key,
      accessKey: storage.accessKey,
      secretKey: storage.secretKey,
    };
  }

  /** Secret-free summary. */
  toJSON(): Record<string, unknown> {
    return {
      baseUrl: this.baseUrl,
      auth: describeAuth(this.authKind),
      generation: this.generation,
      pathPrefix: this.#http.pathPrefix,
      objectStorage: this.#storage
        ? { endpoint: this.#storage.endpoint, bucket: this.#storage.bucket }
        : undefined,
    };
  }

  /** Secret-free one-liner. */
  toString(): string {
    return `ClovaStudioClient(${this.baseUrl}, ${describeAuth(this.authKind)})`;
  }

  [Symbol.for("Deno.customInspect")](): string {
    return `ClovaStudioClient ${JSON.stringify(this.toJSON())}`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `ClovaStudioClient ${JSON.stringify(this.toJSON())}`;
  }
}
