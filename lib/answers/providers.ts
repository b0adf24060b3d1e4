/**
 * One small interface for "answer these messages with these sampling parameters", with three
 * backends: a CLOVA Studio tuned task, a CLOVA Studio base model (both through
 * {@link ClovaStudioClient}, chat-completions v1 by default, v3 on request) and any
 * OpenAI-compatible `/chat/completions` endpoint (vLLM, Ollama, llama.cpp server, CLOVA Studio's
 * own `/v1/openai/` endpoint).
 *
 * Errors are data at this boundary: `answer` makes exactly one HTTP attempt and returns either the
 * answer or a {@link ProviderFailure} that the provider has classified itself — `retry`,
 * `rate-limited` (with the server's wait), `fatal` (credentials, unknown model or task) or
 * `failed-row` — so the batch runner (`lib/answers/evaluate.ts`), the one retry layer, needs no
 * backend's error codes. The CLOVA providers take client *options*, never a client, and build
 * their client with `retry.maxAttempts = 1`: no caller can stack a second retry loop under the
 * runner's.
 *
 * Providers never expose credentials: `describe()` lists only non-secret settings, keys live in
 * private fields.
 *
 * @module
 */
import { describeFetchFailure } from "../io/fetchFailure.ts";
import { z } from "zod";
import { SAMPLING_PARAMETERS } from "../cookbook.ts";
import {
  type ChatMessage,
  type ChatRequest,
  type ClovaClientOptions,
  ClovaStudioClient,
  ClovaStudioError,
  defaultChatApi,
} from "../backends/clova/mod.ts";
import { parseRetryAfter } from "../backends/clova/backoff.ts";
import type { FailureKind, SamplingParams } from "../run/schema.ts";

export type { ChatMessage, SamplingParams };

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

/** A failed attempt, classified by the provider that made it. */
export interface ProviderFailure {
  kind: FailureKind;
  /** The backend's code (`42901`, `40003`, `HTTP_500`, `NETWORK`, `TIMEOUT`, …). */
  code: string;
  httpStatus?: number;
  message: string;
  /** For `retry` and `rate-limited`: how long the server asked to wait (`Retry-After`), ms. */
  waitMs?: number;
  /** For `fatal`: what the user should check, e.g. "check the model name". */
  advice?: string;
  requestId?: string;
  /** Wall time of the failed HTTP exchange. */
  latencyMs: number;
}

/** What one attempt gave: the answer, or a classified failure. */
export type ProviderResult =
  | { ok: true; answer: ProviderAnswer }
  | { ok: false; failure: ProviderFailure };

/**
 * "Answer these messages with these parameters." One HTTP attempt per call, no retries inside;
 * request failures come back as a classified {@link ProviderFailure}, never as an exception.
 * `signal` aborts the attempt (the runner's per-request timeout); the failure then says `TIMEOUT`.
 */
export interface ChatProvider {
  /** Answer label (`HCX-003`, `HCX-003@500`, …), used for journal and sheet names. */
  readonly label: string;
  describe(): ProviderDescription;
  answer(
    messages: readonly ChatMessage[],
    params: SamplingParams,
    opts?: { signal?: AbortSignal },
  ): Promise<ProviderResult>;
}

/** Options shared by the two CLOVA Studio providers. */
export interface ClovaProviderOptions {
  /** Client options; the provider builds its own client with retries off (the runner retries). */
  client: ClovaClientOptions;
  /**
   * Chat-completions API version (default: v1 for HCX-003 / HCX-DASH-001 and tasks tuned from
   * them, the cookbook's; v3 for other models and their tasks).
   */
  api?: "v1" | "v3";
  /** Answer label override. */
  label?: string;
}

/** CLOVA codes that concern the target, not the row: model not found / faded out / wrong API. */
const CLOVA_TARGET_CODES = new Set(["40080", "40082", "40084"]);

/**
 * Classifies a CLOVA Studio failure (codes from the API's error table): 429 is `rate-limited`;
 * retryable codes (500, 504, timeouts, dropped connections) are `retry`; 401/403 and
 * model-not-found codes end the run (`fatal`); anything else fails only this row.
 */
function classifyClovaError(e: ClovaStudioError, latencyMs: number): ProviderFailure {
  const base = {
    code: e.code,
    ...(e.httpStatus ? { httpStatus: e.httpStatus } : {}),
    message: e.serviceMessage,
    ...(e.requestId ? { requestId: e.requestId } : {}),
    latencyMs,
  };
  const wait = e.retryAfterMs !== undefined ? { waitMs: e.retryAfterMs } : {};
  if (e.httpStatus === 429) return { kind: "rate-limited", ...base, ...wait };
  if (e.retryable) return { kind: "retry", ...base, ...wait };
  if (e.httpStatus === 401 || e.httpStatus === 403) {
    return { kind: "fatal", ...base, advice: "check the credentials and their permissions" };
  }
  if (e.httpStatus === 404 || CLOVA_TARGET_CODES.has(e.code)) {
    return { kind: "fatal", ...base, advice: "check the task id or model name" };
  }
  return { kind: "failed-row", ...base };
}

/** The failure of an attempt that its `signal` aborted (the runner's per-request timeout). */
function timeoutFailure(
  signal: AbortSignal,
  latencyMs: number,
  requestId?: string,
): ProviderFailure {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
  return {
    kind: "retry",
    code: "TIMEOUT",
    message: reason || "the request was aborted",
    ...(requestId ? { requestId } : {}),
    latencyMs,
  };
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
  protected readonly baseUrl: string;

  constructor(opts: ClovaProviderOptions, defaultApi: "v1" | "v3") {
    this.client = new ClovaStudioClient({
      ...opts.client,
      retry: { ...opts.client.retry, maxAttempts: 1 },
    });
    this.baseUrl = opts.client.baseUrl;
    this.api = opts.api ?? defaultApi;
  }

  abstract describe(): ProviderDescription;
  protected abstract target(): { model: string } | { taskId: string; baseModel?: string };

  async answer(
    messages: readonly ChatMessage[],
    params: SamplingParams,
    opts: { signal?: AbortSignal } = {},
  ): Promise<ProviderResult> {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    try {
      const result = await this.client.chat(
        this.target(),
        clovaChatBody(this.api, messages, params),
        { api: this.api, signal: opts.signal, requestId },
      );
      return {
        ok: true,
        answer: {
          text: result.text,
          finishReason: result.finishReason,
          inputTokens: result.inputTokens,
          outputTokens: result.outputTokens,
          latencyMs: performance.now() - started,
          requestId: result.requestId ?? requestId,
        },
      };
    } catch (e) {
      const latencyMs = performance.now() - started;
      if (opts.signal?.aborted) {
        return { ok: false, failure: timeoutFailure(opts.signal, latencyMs, requestId) };
      }
      if (e instanceof ClovaStudioError) {
        return { ok: false, failure: classifyClovaError(e, latencyMs) };
      }
      throw e;
    }
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
      baseUrl: this.baseUrl,
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
      baseUrl: this.baseUrl,
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

/** HTTP statuses worth retrying on an OpenAI-compatible server (429 is `rate-limited`). */
const RETRYABLE_HTTP = new Set([408, 409, 425, 500, 502, 503, 504]);
/** HTTP statuses no request to that server can get past (key, URL or model). */
const FATAL_HTTP = new Set([401, 403, 404]);

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
  ): Promise<ProviderResult> {
    const started = performance.now();
    const clientRequestId = crypto.randomUUID();
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "accept": "application/json",
      "X-NCP-CLOVASTUDIO-REQUEST-ID": clientRequestId,
    };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    const fail = (f: Omit<ProviderFailure, "latencyMs">): ProviderResult => ({
      ok: false,
      failure: { ...f, latencyMs: performance.now() - started },
    });
    let res: Response;
    let bodyText: string;
    try {
      res = await this.#fetch(`${this.#baseUrl}/chat/completions`, {
        method: "POST",
        headers,
        body: JSON.stringify(this.requestBody(messages, params)),
        signal: opts.signal,
      });
      bodyText = await res.text();
    } catch (e) {
      if (opts.signal?.aborted) {
        return {
          ok: false,
          failure: timeoutFailure(opts.signal, performance.now() - started, clientRequestId),
        };
      }
      return fail({
        kind: "retry",
        code: "NETWORK",
        message: `request to ${this.#baseUrl}/chat/completions failed: ${
          describeFetchFailure(e, `${this.#baseUrl}/chat/completions`)
        }`,
        requestId: clientRequestId,
      });
    }
    const latencyMs = performance.now() - started;
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      body = undefined;
    }
    const requestId = res.headers.get("x-ncp-clovastudio-request-id") ??
      res.headers.get("x-request-id") ?? clientRequestId;
    if (!res.ok) {
      const err = (body as { error?: { message?: string; code?: string | number } })?.error;
      const code = err?.code !== undefined && err.code !== null
        ? String(err.code)
        : `HTTP_${res.status}`;
      const waitMs = parseRetryAfter(res.headers.get("retry-after")) ??
        (res.headers.get("retry-after-ms") ? Number(res.headers.get("retry-after-ms")) : undefined);
      const kind: FailureKind = res.status === 429
        ? "rate-limited"
        : RETRYABLE_HTTP.has(res.status)
        ? "retry"
        : FATAL_HTTP.has(res.status)
        ? "fatal"
        : "failed-row";
      return fail({
        kind,
        code,
        httpStatus: res.status,
        message: err?.message ?? (bodyText.slice(0, 200) || res.statusText),
        ...(waitMs !== undefined && kind !== "fatal" ? { waitMs } : {}),
        ...(kind === "fatal"
          ? {
            advice: res.status === 404
              ? "check the URL and the model name"
              : "check the API key and its permissions",
          }
          : {}),
        requestId,
      });
    }
    const parsed = OpenAIChatResponse.safeParse(body);
    if (!parsed.success) {
      return fail({
        kind: "failed-row",
        code: "BAD_RESPONSE",
        httpStatus: res.status,
        message: `response is not an OpenAI chat completion (${
          parsed.error.issues[0]?.path.join(".")
        }: ${parsed.error.issues[0]?.message}): ${bodyText.slice(0, 200)}`,
        requestId,
      });
    }
    const choice = parsed.data.choices[0];
    return {
      ok: true,
      answer: {
        text: choice.message.content,
        finishReason: choice.finish_reason ?? undefined,
        inputTokens: parsed.data.usage?.prompt_tokens,
        outputTokens: parsed.data.usage?.completion_tokens,
        latencyMs,
        requestId: parsed.data.id ?? requestId,
      },
    };
  }
}
