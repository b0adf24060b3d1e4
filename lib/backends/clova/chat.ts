/**
 * Chat completions on base models (v1 / v3) and tuned tasks, plain and streamed (SSE).
 * @module
 */
import { backoffDelayMs, sleep } from "./backoff.ts";
import { CLIENT_CODES, ClovaStudioError } from "./errors.ts";
import type { HttpCore } from "./http.ts";
import {
  type ChatApi,
  type ChatRequest,
  chatTokenEventSchema,
  chatV1ResultSchema,
  chatV3ResultSchema,
  checkChatRequest,
  envelopeSchema,
  V1_MODELS,
} from "./params.ts";
import { parseSseStream } from "./sse.ts";

/**
 * What to talk to: a base model, or a tuned task (with the base model it was tuned from, when
 * known, which decides the chat API generation).
 */
export type ChatTarget = { model: string } | { taskId: string; baseModel?: string };

/** A finished chat completion. */
export interface ChatResult {
  /** The assistant's message content. */
  text: string;
  /** v1 `stopReason` / v3 `finishReason`, lower-cased ("length", "end_token", "stop_before", "stop"). */
  finishReason: string;
  /** v1 `inputLength` / v3 `usage.promptTokens`. */
  inputTokens?: number;
  /** v1 `outputLength` / v3 `usage.completionTokens`. */
  outputTokens?: number;
  /** The `X-NCP-CLOVASTUDIO-REQUEST-ID` this answer was requested with. */
  requestId: string;
  seed?: number;
  /** v3 reasoning text (HCX-007), when present. */
  thinkingContent?: string;
  /** Which API generation answered. */
  api: ChatApi;
  /** HTTP attempts used (1 = no retry). */
  attempts: number;
  /** The service's `result` object with every field. */
  raw: Record<string, unknown>;
}

/** Per-call options. */
export interface ChatOptions {
  api?: ChatApi;
  signal?: AbortSignal;
  requestId?: string;
  /**
   * `false` sends the body as given, skipping the client-side range check — only for probing the
   * service's own validation (the contract tests do); default true.
   */
  validate?: boolean;
}

/** Streaming options. */
export interface ChatStreamOptions extends ChatOptions {
  /** Called with each content delta as it arrives. */
  onToken?: (delta: string) => void;
}

/**
 * The chat API used when none is given: v1 for HCX-003 / HCX-DASH-001 and tasks tuned from them
 * (the v1 page lists only those two models), v3 for other models and tasks tuned from them
 * (`/v3/tasks/{id}/chat-completions`). A task whose base model is unknown is asked on v1, as the
 * cookbook did.
 */
export function defaultChatApi(target: ChatTarget): ChatApi {
  if ("taskId" in target) {
    return target.baseModel === undefined || V1_MODELS.has(target.baseModel) ? "v1" : "v3";
  }
  return V1_MODELS.has(target.model) ? "v1" : "v3";
}

/** Path of the chat endpoint (without any `/testapp` prefix). */
export function chatPath(target: ChatTarget, api: ChatApi): string {
  if ("taskId" in target) {
    const id = encodeURIComponent(target.taskId);
    return api === "v1" ? `/v2/tasks/${id}/chat-completions` : `/v3/tasks/${id}/chat-completions`;
  }
  return `/${api}/chat-completions/${encodeURIComponent(target.model)}`;
}

function badResult(requestId: string, what: string): ClovaStudioError {
  return new ClovaStudioError({
    httpStatus: 200,
    code: CLIENT_CODES.badResponse,
    message: `unexpected chat result: ${what}`,
    requestId,
    retryable: false,
  });
}

/** Turn a v1 or v3 `result` object into a {@link ChatResult}. */
export function toChatResult(
  api: ChatApi,
  result: unknown,
  requestId: string,
  attempts: number,
): ChatResult {
  if (api === "v1") {
    const r = chatV1ResultSchema.safeParse(result);
    if (!r.success) throw badResult(requestId, r.error.issues[0]?.message ?? "?");
    return {
      text: r.data.message.content ?? "",
      finishReason: (r.data.stopReason ?? "unknown").toLowerCase(),
      inputTokens: r.data.inputLength ?? undefined,
      outputTokens: r.data.outputLength ?? undefined,
      seed: r.data.seed ?? undefined,
      requestId,
      api,
      attempts,
      raw: result as Record<string, unknown>,
    };
  }
  const r = chatV3ResultSchema.safeParse(result);
  if (!r.success) throw badResult(requestId, r.error.issues[0]?.message ?? "?");
  return {
    text: r.data.message.content ?? "",
    finishReason: (r.data.finishReason ?? "unknown").toLowerCase(),
    inputTokens: r.data.usage?.promptTokens ?? undefined,
    outputTokens: r.data.usage?.completionTokens ?? undefined,
    seed: r.data.seed ?? undefined,
    thinkingContent: r.data.message.thinkingContent ?? undefined,
    requestId,
    api,
    attempts,
    raw: result as Record<string, unknown>,
  };
}

function modelOf(target: ChatTarget): string | undefined {
  return "model" in target ? target.model : target.baseModel;
}

/** One chat completion (JSON response). Parameters are validated before sending. */
export async function chat(
  http: HttpCore,
  target: ChatTarget,
  req: ChatRequest,
  opts: ChatOptions = {},
): Promise<ChatResult> {
  const api = opts.api ?? defaultChatApi(target);
  const body = opts.validate === false ? req : checkChatRequest(api, modelOf(target), req, {
    task: "taskId" in target,
  });
  const r = await http.json({
    method: "POST",
    path: chatPath(target, api),
    json: body,
    prefixed: true,
    signal: opts.signal,
    requestId: opts.requestId,
  });
  return toChatResult(api, r.result, r.requestId, r.attempts);
}

/**
 * A streamed chat completion: `token` deltas go to `onToken`, the `result` event gives the final
 * answer, an `error` event becomes a {@link ClovaStudioError}. A stream that fails (retryable
 * error event, dropped connection, idle timeout) is restarted like any request as long as no
 * delta has been handed to `onToken`; once one was, the error is thrown (the caller has already
 * shown part of an answer).
 */
export async function chatStream(
  http: HttpCore,
  target: ChatTarget,
  req: ChatRequest,
  opts: ChatStreamOptions = {},
): Promise<ChatResult> {
  const api = opts.api ?? defaultChatApi(target);
  const body = opts.validate === false ? req : checkChatRequest(api, modelOf(target), req, {
    task: "taskId" in target,
  });
  const requestId = opts.requestId ?? crypto.randomUUID();
  let attempts = 0;
  let restarts = 0;
  while (true) {
    let delivered = false;
    try {
      const s = await http.stream({
        method: "POST",
        path: chatPath(target, api),
        json: body,
        prefixed: true,
        signal: opts.signal,
        requestId,
      });
      attempts += s.attempts;
      let text = "";
      let lastReason: string | undefined;
      for await (const ev of parseSseStream(s.body)) {
        const data = parseJson(ev.data);
        if (ev.event === "token") {
          const t = chatTokenEventSchema.safeParse(data);
          if (!t.success) continue;
          const delta = t.data.message?.content ?? "";
          lastReason = t.data.finishReason ?? t.data.stopReason ?? lastReason;
          if (delta) {
            text += delta;
            if (opts.onToken) {
              delivered = true;
              opts.onToken(delta);
            }
          }
        } else if (ev.event === "result") {
          const res = toChatResult(api, data, requestId, attempts);
          if (!res.text && text) res.text = text;
          return res;
        } else if (ev.event === "error") {
          const env = envelopeSchema.safeParse(data);
          throw new ClovaStudioError({
            httpStatus: 200,
            code: env.success ? env.data.status.code : CLIENT_CODES.badResponse,
            message: env.success ? env.data.status.message ?? "" : `stream error event: ${ev.data}`,
            requestId,
            attempts,
          });
        } else if (ev.event === "signal") {
          const sig = data as { data?: unknown } | undefined;
          if (sig?.data === "[DONE]" || ev.data.includes("[DONE]")) {
            return {
              text,
              finishReason: (lastReason ?? "unknown").toLowerCase(),
              requestId,
              api,
              attempts,
              raw: {},
            };
          }
        }
      }
      throw new ClovaStudioError({
        httpStatus: 200,
        code: CLIENT_CODES.streamIncomplete,
        message: "the stream ended without a result event",
        requestId,
        attempts,
      });
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (!(e instanceof ClovaStudioError)) throw e;
      if (e.attempts < attempts) e.attempts = Math.max(attempts, 1);
      const policy = http.retryPolicy;
      // Errors raised before the stream started were already retried inside http.stream.
      const midStream = e.httpStatus === 200 || e.code === CLIENT_CODES.streamIncomplete ||
        e.code === CLIENT_CODES.timeout || e.code === CLIENT_CODES.network;
      if (
        !midStream || delivered || !e.retryable || attempts === 0 ||
        attempts + 1 > policy.maxAttempts
      ) throw e;
      restarts++;
      const delayMs = backoffDelayMs(restarts, policy, e.retryAfterMs);
      http.notifyRetry({ attempt: attempts, delayMs, error: e });
      await sleep(delayMs, opts.signal);
    }
  }
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
