/**
 * One small interface for "answer these messages with these sampling parameters", with three
 * backends: a CLOVA Studio tuned task, a CLOVA Studio base model (both through
 * {@link ClovaStudioClient}, chat-completions v1 by default, v3 on request) and any
 * OpenAI-compatible `/chat/completions` endpoint (vLLM, Ollama, llama.cpp server, CLOVA Studio's
 * own `/v1/openai/` endpoint).
 *
 * Retries live in one place: the batch runner (`lib/evaluate.ts`). Providers make exactly one
 * HTTP attempt per `answer` call — the CLOVA providers build their client with
 * `retry.maxAttempts = 1` — and throw a {@link ProviderError}-shaped error (`retryable`,
 * `retryAfterMs`, `code`, `httpStatus`) that the runner uses to decide and pace its retries, so
 * attempts are never multiplied and every retry is counted and shown in progress.
 *
 * Providers never expose credentials: `describe()` lists only non-secret settings, keys live in
 * private fields.
 *
 * @module
 */
import { z } from "zod";
import { SAMPLING_PARAMETERS } from "./cookbook.ts";
import {
  type ChatMessage,
  type ChatRequest,
  type ClovaClientOptions,
  ClovaStudioClient,
  ClovaStudioError,
  defaultChatApi,
} from "./clova/mod.ts";
import { parseRetryAfter } from "./clova/backoff.ts";

export type { ChatMessage };

/** Sampling parameters, in CLOVA Studio v1 names (the cookbook's `MODEL_PARAMETERS`). */
export interface SamplingParams {
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  repeatPenalty: number;
  includeAiFilters: boolean;
  /** 0 or absent = random. */
  seed?: number;
  /** Stop sequences (v1 `stopBefore`, v3/OpenAI `stop`). */
  stop?: string[];
}

/** The cookbook's sampling parameters: topP 0.6, topK 0, maxTokens 256, temperature 0.5, … */
export const DEFAULT_SAMPLING: Readonly<SamplingParams> = { ...SAMPLING_PARAMETERS };

/** Merges partial parameters over the cookbook defaults (undefined fields are ignored). */
export function resolveSampling(params?: Partial<SamplingParams>): SamplingParams {
  const defined = Object.fromEntries(
    Object.entries(params ?? {}).filter(([, v]) => v !== undefined),
  );
  return { ...DEFAULT_SAMPLING, ...defined };
}

/** One answer from a backend. */
export interface ProviderAnswer {
  text: string;
  finishReason?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** Wall time of the HTTP exchange. */
  latencyMs: number;
  /** The backend's request id (CLOVA `X-NCP-CLOVASTUDIO-REQUEST-ID`, OpenAI `id`). */
  requestId?: string;
}

/** Non-secret description of a provider, recorded in run metadata. */
export interface ProviderDescription {
  kind: "clova-task" | "clova-model" | "openai-compatible";
  /** Task id or model name the requests go to. */
  target: string;
  /** Base model name (for a tuned task: the model it was tuned from, when known). */
  model: string;
  /** Tuning-set size (0 = base model; undefined = unknown). */
  size?: number;
  baseUrl?: string;
  api?: "v1" | "v3";
  [key: string]: unknown;
}

/** "Answer these messages with these parameters." One HTTP attempt per call; no retries inside. */
export interface ChatProvider {
  /** Answer label (`HCX-003`, `HCX-003@500`, …), used for journal and sheet names. */
  readonly label: string;
  describe(): ProviderDescription;
  answer(
    messages: readonly ChatMessage[],
    params: SamplingParams,
    opts?: { signal?: AbortSignal },
  ): Promise<ProviderAnswer>;
}

/** A failed attempt, in the shape the runner's retry logic reads (same fields as `ClovaStudioError`). */
export class ProviderError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly requestId?: string;

  constructor(init: {
    code: string;
    httpStatus: number;
    message: string;
    retryable: boolean;
    retryAfterMs?: number;
    requestId?: string;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ProviderError";
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.requestId = init.requestId;
  }
}

/** Options shared by the two CLOVA Studio providers. */
export interface ClovaProviderOptions {
  /** A client, or options to build one (its retries are switched off: the runner retries). */
  client: ClovaStudioClient | ClovaClientOptions;
  /**
   * Chat-completions API version (default: v1 for HCX-003 / HCX-DASH-001 and tasks tuned from
   * them, the cookbook's; v3 for other models and their tasks).
   */
  api?: "v1" | "v3";
  /** Answer label override. */
  label?: string;
}

function clovaClient(client: ClovaStudioClient | ClovaClientOptions): ClovaStudioClient {
  if (client instanceof ClovaStudioClient) return client;
  return new ClovaStudioClient({ ...client, retry: { ...client.retry, maxAttempts: 1 } });
}

function clovaBaseUrl(client: ClovaStudioClient | ClovaClientOptions): string | undefined {
  return client instanceof ClovaStudioClient ? undefined : client.baseUrl;
}

/**
 * The CLOVA chat body for an API generation: v1 takes `repeatPenalty`/`stopBefore`, v3 takes
 * `repetitionPenalty`/`stop` (the client validates, it does not translate).
 */
export function clovaChatBody(
  api: "v1" | "v3",
  messages: readonly ChatMessage[],
  params: SamplingParams,
): ChatRequest {
  const common = {
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    temperature: params.temperature,
    topP: params.topP,
    topK: params.topK,
    maxTokens: params.maxTokens,
    includeAiFilters: params.includeAiFilters,
    ...(params.seed !== undefined ? { seed: params.seed } : {}),
  };
  const stop = params.stop?.length ? params.stop : undefined;
  return api === "v1"
    ? { ...common, repeatPenalty: params.repeatPenalty, ...(stop ? { stopBefore: stop } : {}) }
    : { ...common, repetitionPenalty: params.repeatPenalty, ...(stop ? { stop } : {}) };
}

abstract class ClovaProviderBase implements ChatProvider {
  abstract readonly label: string;
  protected readonly client: ClovaStudioClient;
  protected readonly api: "v1" | "v3";
  protected readonly baseUrl?: string;

  constructor(opts: ClovaProviderOptions, defaultApi: "v1" | "v3") {
    this.client = clovaClient(opts.client);
    this.baseUrl = clovaBaseUrl(opts.client);
    this.api = opts.api ?? defaultApi;
  }

  abstract describe(): ProviderDescription;
  protected abstract target(): { model: string } | { taskId: string };

  async answer(
    messages: readonly ChatMessage[],
    params: SamplingParams,
    opts: { signal?: AbortSignal } = {},
  ): Promise<ProviderAnswer> {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    const result = await this.client.chat(
      this.target(),
      clovaChatBody(this.api, messages, params),
      { api: this.api, signal: opts.signal, requestId },
    );
    return {
      text: result.text,
      finishReason: result.finishReason,
      inputTokens: result.inputTokens,
      outputTokens: result.outputTokens,
      latencyMs: performance.now() - started,
      requestId: result.requestId ?? requestId,
    };
  }
}

/** A CLOVA Studio tuned task (`/v{1,3}/tasks/{taskId}/chat-completions`). */
export class ClovaTunedTaskProvider extends ClovaProviderBase {
  readonly label: string;
  readonly #taskId: string;
  readonly #model: string;
  readonly #size?: number;

  constructor(
    opts: ClovaProviderOptions & {
      taskId: string;
      /** The base model the task was tuned from (recorded with answers; default "unknown"). */
      model?: string;
      /** Tuning-set size, when known. */
      size?: number;
    },
  ) {
    super(opts, defaultChatApi({ taskId: opts.taskId, baseModel: opts.model }));
    this.#taskId = opts.taskId;
    this.#model = opts.model ?? "unknown";
    this.#size = opts.size;
    this.label = opts.label ??
      (opts.model && opts.size !== undefined
        ? `${opts.model}@${opts.size}`
        : `task-${opts.taskId}`);
  }

  protected target() {
    return this.#model === "unknown"
      ? { taskId: this.#taskId }
      : { taskId: this.#taskId, baseModel: this.#model };
  }

  describe(): ProviderDescription {
    return {
      kind: "clova-task",
      target: this.#taskId,
      model: this.#model,
      size: this.#size,
      api: this.api,
      ...(this.baseUrl ? { baseUrl: this.baseUrl } : {}),
    };
  }
}

/** A CLOVA Studio base model (`/v1/chat-completions/{model}` or `/v3/…`). */
export class ClovaBaseModelProvider extends ClovaProviderBase {
  readonly label: string;
  readonly #model: string;

  constructor(opts: ClovaProviderOptions & { model: string }) {
    super(opts, defaultChatApi({ model: opts.model }));
    this.#model = opts.model;
    this.label = opts.label ?? opts.model;
  }

  protected target() {
    return { model: this.#model };
  }

  describe(): ProviderDescription {
    return {
      kind: "clova-model",
      target: this.#model,
      model: this.#model,
      size: 0,
      api: this.api,
      ...(this.baseUrl ? { baseUrl: this.baseUrl } : {}),
    };
  }
}

/** Options of {@link OpenAICompatibleProvider}. */
export interface OpenAICompatibleOptions {
  /** Base URL up to (not including) `/chat/completions`, e.g. `http://localhost:8000/v1`. */
  baseUrl: string;
  /** The `model` field sent with every request. */
  model: string;
  /** Bearer key; when absent, read from the env variable `apiKeyEnv` (if set there). */
  apiKey?: string;
  /** Env variable holding the bearer key (default `OPENAI_API_KEY`). */
  apiKeyEnv?: string;
  /**
   * Send CLOVA-only sampling fields (`top_k`, `repeat_penalty`). Default: on when the URL path
   * contains `/openai` under a CLOVA Studio host or when `baseUrl` ends in `/v1/openai`.
   */
  clovaExtras?: boolean;
  /** Answer label (default: the model name). */
  label?: string;
  /** Tuning-set size recorded with answers (default 0). */
  size?: number;
  /** fetch implementation (tests). */
  fetch?: typeof fetch;
}

const OpenAIChatResponse = z.object({
  id: z.string().optional(),
  choices: z.array(z.object({
    message: z.object({ content: z.string() }),
    finish_reason: z.string().nullish(),
  })).min(1),
  usage: z.object({
    prompt_tokens: z.number().optional(),
    completion_tokens: z.number().optional(),
  }).nullish(),
});

function isClovaOpenAIUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return /\/v1\/openai\/?$/.test(u.pathname) ||
      u.hostname.endsWith("clovastudio.stream.ntruss.com");
  } catch {
    return false;
  }
}

/** HTTP statuses worth retrying on an OpenAI-compatible server. */
const RETRYABLE_HTTP = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/** Any OpenAI-compatible chat-completions endpoint (`POST ${baseUrl}/chat/completions`). */
export class OpenAICompatibleProvider implements ChatProvider {
  readonly label: string;
  readonly #baseUrl: string;
  readonly #model: string;
  readonly #apiKey?: string;
  readonly #clovaExtras: boolean;
  readonly #size: number;
  readonly #fetch: typeof fetch;

  constructor(opts: OpenAICompatibleOptions) {
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.#model = opts.model;
    this.#apiKey = opts.apiKey ?? Deno.env.get(opts.apiKeyEnv ?? "OPENAI_API_KEY") ?? undefined;
    this.#clovaExtras = opts.clovaExtras ?? isClovaOpenAIUrl(this.#baseUrl);
    this.#size = opts.size ?? 0;
    this.#fetch = opts.fetch ?? fetch;
    this.label = opts.label ?? opts.model;
  }

  describe(): ProviderDescription {
    return {
      kind: "openai-compatible",
      target: this.#model,
      model: this.#model,
      size: this.#size,
      baseUrl: this.#baseUrl,
      clovaExtras: this.#clovaExtras,
      authenticated: this.#apiKey !== undefined,
    };
  }

  /** The JSON body sent for these messages and parameters (exposed for tests and docs). */
  requestBody(messages: readonly ChatMessage[], params: SamplingParams): Record<string, unknown> {
    return {
      model: this.#model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      temperature: params.temperature,
      top_p: params.topP,
      max_tokens: params.maxTokens,
      ...(this.#clovaExtras ? { top_k: params.topK, repeat_penalty: params.repeatPenalty } : {}),
      ...(params.seed !== undefined ? { seed: params.seed } : {}),
      ...(params.stop?.length ? { stop: params.stop } : {}),
    };
  }

  async answer(
    messages: readonly ChatMessage[],
    params: SamplingParams,
    opts: { signal?: AbortSignal } = {},
  ): Promise<ProviderAnswer> {
    const started = performance.now();
    const clientRequestId = crypto.randomUUID();
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "accept": "application/json",
      "X-NCP-CLOVASTUDIO-REQUEST-ID": clientRequestId,
    };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    let res: Response;
    try {
      res = await this.#fetch(`${this.#baseUrl}/chat/completions`, {
        method: "POST",
        headers,
        body: JSON.stringify(this.requestBody(messages, params)),
        signal: opts.signal,
      });
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? e;
      throw new ProviderError({
        code: "NETWORK",
        httpStatus: 0,
        message: `request to ${this.#baseUrl}/chat/completions failed: ${(e as Error).message}`,
        retryable: true,
        requestId: clientRequestId,
        cause: e,
      });
    }
    let bodyText: string;
    try {
      bodyText = await res.text();
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? e;
      throw new ProviderError({
        code: "NETWORK",
        httpStatus: res.status,
        message: `connection lost while reading the response: ${(e as Error).message}`,
        retryable: true,
        requestId: clientRequestId,
        cause: e,
      });
    }
    const latencyMs = performance.now() - started;
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      body = undefined;
    }
    const headerRequestId = res.headers.get("x-ncp-clovastudio-request-id") ??
      res.headers.get("x-request-id") ?? undefined;
    if (!res.ok) {
      const err = (body as { error?: { message?: string; code?: string | number } })?.error;
      const code = err?.code !== undefined && err.code !== null
        ? String(err.code)
        : `HTTP_${res.status}`;
      const retryAfterMs = parseRetryAfter(res.headers.get("retry-after")) ??
        (res.headers.get("retry-after-ms") ? Number(res.headers.get("retry-after-ms")) : undefined);
      throw new ProviderError({
        code,
        httpStatus: res.status,
        message: err?.message ?? (bodyText.slice(0, 200) || res.statusText),
        retryable: RETRYABLE_HTTP.has(res.status),
        retryAfterMs,
        requestId: headerRequestId ?? clientRequestId,
      });
    }
    const parsed = OpenAIChatResponse.safeParse(body);
    if (!parsed.success) {
      throw new ProviderError({
        code: "BAD_RESPONSE",
        httpStatus: res.status,
        message: `response is not an OpenAI chat completion (${
          parsed.error.issues[0]?.path.join(".")
        }: ${parsed.error.issues[0]?.message}): ${bodyText.slice(0, 200)}`,
        retryable: false,
        requestId: headerRequestId ?? clientRequestId,
      });
    }
    const choice = parsed.data.choices[0];
    return {
      text: choice.message.content,
      finishReason: choice.finish_reason ?? undefined,
      inputTokens: parsed.data.usage?.prompt_tokens,
      outputTokens: parsed.data.usage?.completion_tokens,
      latencyMs,
      requestId: parsed.data.id ?? headerRequestId ?? clientRequestId,
    };
  }
}

/** The retry-relevant view of any error a provider throws. */
export interface ErrorInfo {
  code: string;
  httpStatus?: number;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
  requestId?: string;
}

/**
 * Classifies an error thrown by a provider: `ClovaStudioError` and {@link ProviderError} carry
 * their own `retryable` and `retryAfterMs`; a bare `TypeError` from fetch is a retryable network
 * failure; anything else is permanent.
 */
export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof ClovaStudioError || e instanceof ProviderError) {
    return {
      code: e.code,
      httpStatus: e.httpStatus || undefined,
      message: e instanceof ClovaStudioError ? e.serviceMessage : e.message,
      retryable: e.retryable,
      retryAfterMs: e.retryAfterMs,
      requestId: e.requestId,
    };
  }
  if (e instanceof TypeError) {
    return { code: "NETWORK", message: e.message, retryable: true };
  }
  return { code: "ERROR", message: e instanceof Error ? e.message : String(e), retryable: false };
}
