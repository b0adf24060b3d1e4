/**
 * Chat completions (v1 and v3, base models and tuned tasks, plain and SSE), the
 * OpenAI-compatible endpoint and the chat tokenizer — all answered by the reference learner and
 * counted by the emulator tokenizer v1.
 *
 * Sources of every rule are in `rules.ts`. Choices worth knowing:
 * - Request seed `0` (or none) resolves to a seed derived from the emulator seed, the model or
 *   task answering and the messages, and that seed is returned; so identical requests to one
 *   model get identical answers, while two tasks draw independent samples. Pass distinct seeds to
 *   get independent samples from one model.
 * - v1 `stopReason` is lowercase (`end_token` | `length` | `stop_before`); v3 `finishReason` is
 *   `stop` | `length`; v3 `created` is in seconds (rule: chat.v3.created).
 * - A tuned task answers on `/v1|/v2/tasks/{id}/chat-completions` (v1 body) only when its base
 *   model is a v1 model (HCX-003, HCX-DASH-001), else 400 `40084`; on
 *   `/v3/tasks/{id}/chat-completions` (v3 body) whatever its base model; a task that has not
 *   `SUCCEEDED` answers 400 `40083` "Model no resource".
 * - Streams: v1 `token` events carry `message`, `index`, `inputLength`, `outputLength` (the
 *   delta's tokens) and `stopReason` (null); `result` the whole answer; then `signal`
 *   `{"data":"[DONE]"}` (rules: sse.framing, sse.v1.token, sse.v1.result, sse.v3.events, sse.signal).
 * - `includeAiFilters: true` returns the filter list with every score `"2"` (unlikely harmful):
 *   the emulator does not filter.
 * - On a stream, an injected 500/504 fault arrives as an SSE `error` event after part of the
 *   tokens (HTTP 200), exercising the client's mid-stream error path.
 * - Function calling and structured outputs are answered `40009` (the learner cannot call tools).
 * - On the OpenAI-compatible endpoint a tuned task is the model `ft:tuning-…` that
 *   `/v1/openai/models` lists (rule: openai.tuned-model — unverified).
 *
 * @module
 */
import { z } from "zod";
import { type ApiError, apiError, ApiErrorException, fail, okResponse } from "./envelope.ts";
import { bump, type EmulatorState, type RequestContext } from "./context.ts";
import { answer, baseModel, knownPairs, LEARNER_NAME, type LearnerModel } from "./learner.ts";
import { MODELS, type ModelSpec, servedModel } from "./models.ts";
import type { LocalAnswer } from "../local/engine.ts";
import type { LocalModelName } from "../local/names.ts";
import { hash32 } from "../../io/hash.ts";
import { formatData, formatEvent, sseResponse } from "./sse.ts";
import { BODY_LIMITS, readBodyText } from "./body.ts";
import { tunedModelId } from "./tasks.ts";
import {
  countTokens,
  IMAGE_TOKENS,
  MESSAGE_OVERHEAD,
  streamPieces,
  TOKENIZER_NAME,
  truncateTokens,
} from "./tokenizer.ts";

/** What a chat target resolved to. */
interface Target {
  base: string;
  taskId?: string;
  model: LearnerModel;
  /** Answered by the local neural model (with the task's adapter, if tuned). */
  local?: { adapter?: string };
}

function served(state: EmulatorState, name: string): ModelSpec | undefined {
  return servedModel(name, state.local !== undefined);
}

const BASE_MODEL = baseModel();

/** Throws 400 `40001` with zod's first issue path in the message. */
function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? ` (${issue.path.join(".")})` : "";
    fail("40001", `Invalid parameter${where}`);
  }
  return r.data;
}

/** Reads a JSON body (at most 50 MB, rule: limits.body) or throws the documented error. */
export async function readJson(req: Request): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (type && !/json/i.test(type)) fail("41500");
  const text = await readBodyText(req, BODY_LIMITS.json);
  try {
    return JSON.parse(text);
  } catch {
    fail("40000", "Bad request: body is not valid JSON");
  }
}

/** rules: chat.v1.models, chat.v3.models */
function resolveModel(state: EmulatorState, name: string, api: "v1" | "v3"): Target {
  const spec = served(state, name);
  if (!spec) fail("40080");
  if (spec.api !== api && spec.engine !== "local") fail("40084"); // local models: v1 and v3
  return { base: spec.name, model: BASE_MODEL, local: spec.engine === "local" ? {} : undefined };
}

/** rules: chat.v1.models, chat.task-not-ready; `api` is the chat generation of the path. */
function resolveTask(state: EmulatorState, id: string, api: "v1" | "v3"): Target {
  const rec = state.tasks.get(id);
  if (!rec) fail("40400");
  if (api === "v1" && MODELS[rec.params.model]?.api !== "v1") fail("40084");
  if (rec.local) {
    const adapter = state.tasks.adapter(rec);
    if (!adapter || !state.local) fail("40083");
    return { base: rec.params.model, taskId: rec.id, model: BASE_MODEL, local: { adapter } };
  }
  const learned = state.tasks.learned(rec);
  if (!learned) fail("40083");
  return { base: rec.params.model, taskId: rec.id, model: learned };
}

interface Generation {
  text: string;
  reason: "end" | "length" | "stop";
  seed: number;
  inputTokens: number;
  outputTokens: number;
}

interface GenerateParams {
  messages: { role: string; content: string; images?: number }[];
  temperature: number;
  seed: number | undefined;
  maxTokens: number;
  stop: readonly string[];
  /** Used by the local neural models (the reference learner samples by temperature only). */
  topP?: number;
  topK?: number;
  repeatPenalty?: number;
}

function inputTokensOf(messages: GenerateParams["messages"]): number {
  let n = 0;
  for (const m of messages) {
    n += countTokens(m.content) + MESSAGE_OVERHEAD + (m.images ?? 0) * IMAGE_TOKENS;
  }
  return n;
}

// rule: ratelimit
function admit(state: EmulatorState, base: string, tokens: number): void {
  if (!state.limiter) return;
  const r = state.limiter.admit(base, tokens);
  if (!r.ok) {
    bump(state.stats, "rateLimited");
    throw new ApiErrorException(apiError("42901", undefined, r.retryAfterSeconds));
  }
}

async function generate(
  state: EmulatorState,
  target: Target,
  p: GenerateParams,
): Promise<Generation> {
  const spec = MODELS[target.base];
  const inputTokens = inputTokensOf(p.messages);
  if (p.messages.every((m) => !m.content.trim() && !m.images)) fail("40004");
  if (spec && inputTokens > spec.maxInputTokens) fail("40003");
  admit(state, target.base, inputTokens + p.maxTokens);
  const seed = p.seed && p.seed > 0
    ? p.seed
    : (hash32(`${state.seed}|${target.taskId ?? target.base}|${JSON.stringify(p.messages)}`) %
      4294967295) + 1;
  const lastUser = [...p.messages].reverse().find((m) => m.role === "user")?.content ?? "";
  let local: LocalAnswer | undefined;
  if (target.local && state.local) {
    const engine = state.local.engine;
    const messages = p.messages.map((m) => ({
      role: m.role === "assistant"
        ? "assistant" as const
        : m.role === "system"
        ? "system" as const
        : "user" as const,
      content: m.content,
    }));
    const model = target.base as LocalModelName;
    if ((await engine.promptTokens(model, messages)) >= (spec?.maxInputTokens ?? 768)) {
      fail("40003");
    }
    local = await engine.chat(model, target.local.adapter, messages, {
      temperature: p.temperature,
      topP: p.topP ?? 1,
      topK: p.topK ?? 0,
      repeatPenalty: p.repeatPenalty ?? 1,
      maxTokens: p.maxTokens,
      seed,
    });
  }
  let text = local ? local.text : answer(target.model, lastUser, {
    temperature: p.temperature,
    seed,
    emulatorSeed: state.seed,
  });
  let reason: Generation["reason"] = local?.finishReason === "length" ? "length" : "end";
  let cut = Infinity;
  for (const s of p.stop) {
    if (!s) continue;
    const i = text.indexOf(s);
    if (i >= 0 && i < cut) cut = i;
  }
  if (cut !== Infinity) {
    text = text.slice(0, cut);
    reason = "stop";
  }
  const t = truncateTokens(text, p.maxTokens);
  if (t.cut) {
    text = t.text;
    reason = "length";
  }
  bump(state.stats, "chatCompletions");
  if (local) {
    return {
      text,
      reason,
      seed,
      inputTokens: local.promptTokens,
      outputTokens: local.completionTokens,
    };
  }
  return { text, reason, seed, inputTokens, outputTokens: countTokens(text) };
}

function meta(target: Target): Record<string, unknown> {
  if (target.local) {
    return {
      model: `local neural model ${target.base}${target.local.adapter ? " + LoRA adapter" : ""}`,
      baseModel: target.base,
      taskId: target.taskId ?? null,
      tokenizer: "local syllable tokenizer",
    };
  }
  return {
    model: LEARNER_NAME,
    baseModel: target.base,
    taskId: target.taskId ?? null,
    knownPairs: knownPairs(target.model),
    tokenizer: TOKENIZER_NAME,
  };
}

function aiFilter() {
  return [
    { groupName: "curse", name: "insult", score: "2", result: "OK" },
    { groupName: "curse", name: "discrimination", score: "2", result: "OK" },
    { groupName: "unsafeContents", name: "sexualHarassment", score: "2", result: "OK" },
  ];
}

function wantsStream(req: Request): boolean {
  return (req.headers.get("accept") ?? "").includes("text/event-stream");
}

function headersFor(ctx: RequestContext, target: Target): Record<string, string> {
  return {
    "x-ncp-clovastudio-request-id": ctx.requestId,
    "x-emulator-model": `${LEARNER_NAME} (${
      target.taskId ? `task ${target.taskId}, ` : ""
    }base ${target.base})`,
  };
}

function streamErrorEvent(ctx: RequestContext): ApiError | undefined {
  if (ctx.fault.kind === "500") return apiError("50000");
  if (ctx.fault.kind === "504") return apiError("50400");
  return undefined;
}

// ---------------------------------------------------------------- v1

// rule: chat.params (v1)
const v1Schema = z.object({
  messages: z.array(z.object({
    role: z.enum(["system", "user", "assistant"]),
    content: z.string(),
  })).min(1),
  temperature: z.number().gt(0).lte(1).default(0.5),
  topK: z.number().int().min(0).max(128).default(0),
  topP: z.number().gt(0).lte(1).default(0.8),
  repeatPenalty: z.number().gt(0).lte(10).default(5),
  stopBefore: z.array(z.string()).default([]),
  maxTokens: z.number().int().gt(0).lte(4096).default(100),
  includeAiFilters: z.boolean().default(false),
  seed: z.number().int().min(0).max(4294967295).default(0),
});

const V1_REASON = { end: "end_token", length: "length", stop: "stop_before" } as const;

/** `POST /v1/chat-completions/{model}` and `/v1|v2/tasks/{id}/chat-completions`. */
export async function chatV1(
  state: EmulatorState,
  ctx: RequestContext,
  target: { model: string } | { taskId: string },
): Promise<Response> {
  const t = "model" in target
    ? resolveModel(state, target.model, "v1")
    : resolveTask(state, target.taskId, "v1");
  const body = parseBody(v1Schema, await readJson(ctx.req));
  const g = await generate(state, t, {
    messages: body.messages,
    temperature: body.temperature,
    seed: body.seed,
    maxTokens: body.maxTokens,
    stop: body.stopBefore,
    topP: body.topP,
    topK: body.topK,
    repeatPenalty: body.repeatPenalty,
  });
  // rules: chat.v1.result, sse.v1.result (the same object ends the stream)
  const result: Record<string, unknown> = {
    message: { role: "assistant", content: g.text },
    stopReason: V1_REASON[g.reason],
    inputLength: g.inputTokens,
    outputLength: g.outputTokens,
    seed: g.seed,
  };
  if (body.includeAiFilters) result.aiFilter = aiFilter();
  result.emulator = meta(t);
  // rule: sse.v1.token
  return nativeChatResponse(ctx, headersFor(ctx, t), g.text, result, (content) => ({
    message: { role: "assistant", content },
    index: 0,
    inputLength: g.inputTokens,
    outputLength: countTokens(content),
    stopReason: null,
  }));
}

/**
 * A native (v1/v3) chat answer: the `result` envelope, or with `Accept: text/event-stream` the
 * answer as `token` events (`tokenData` shapes each delta), then `result` and `signal [DONE]` —
 * or, when a 500/504 fault hits the stream, an `error` event half-way through.
 */
function nativeChatResponse(
  ctx: RequestContext,
  headers: Record<string, string>,
  text: string,
  result: Record<string, unknown>,
  tokenData: (content: string) => Record<string, unknown>,
): Response {
  if (!wantsStream(ctx.req)) return okResponse(result, headers);
  const blocks: string[] = [];
  const pieces = streamPieces(text);
  const err = streamErrorEvent(ctx);
  const upTo = err ? Math.floor(pieces.length / 2) : pieces.length;
  // rule: sse.framing (a fresh id per event)
  for (let i = 0; i < upTo; i++) {
    blocks.push(formatEvent({ event: "token", data: tokenData(pieces[i]) }));
  }
  if (err) {
    // rule: sse.error
    blocks.push(formatEvent({
      event: "error",
      data: { status: { code: err.code, message: err.message } },
    }));
  } else {
    blocks.push(formatEvent({ event: "result", data: result }));
    // rule: sse.signal
    blocks.push(formatEvent({ event: "signal", data: { data: "[DONE]" } }));
  }
  return sseResponse(blocks, headers);
}

// ---------------------------------------------------------------- v3

const v3Part = z.union([
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({
    type: z.literal("image_url"),
    imageUrl: z.object({ url: z.string() }).optional(),
    dataUri: z.object({ data: z.string() }).optional(),
  }),
]);

// rule: chat.params (v3)
const v3Schema = z.object({
  messages: z.array(z.object({
    role: z.enum(["system", "user", "assistant", "tool"]),
    content: z.union([z.string(), z.array(v3Part)]),
  })).min(1),
  temperature: z.number().min(0).max(1).default(0.5),
  topK: z.number().int().min(0).max(128).default(0),
  topP: z.number().gt(0).lte(1).default(0.8),
  repetitionPenalty: z.number().gt(0).lte(2).default(1.1),
  stop: z.array(z.string()).default([]),
  maxTokens: z.number().int().min(1).optional(),
  maxCompletionTokens: z.number().int().min(1).optional(),
  includeAiFilters: z.boolean().default(false),
  seed: z.number().int().min(0).max(4294967295).default(0),
  thinking: z.object({ effort: z.enum(["none", "low", "medium", "high"]) }).optional(),
  tools: z.array(z.unknown()).optional(),
  toolChoice: z.unknown().optional(),
  responseFormat: z.unknown().optional(),
});

function flattenV3(
  messages: z.infer<typeof v3Schema>["messages"],
): GenerateParams["messages"] {
  return messages.map((m) => {
    if (typeof m.content === "string") return { role: m.role, content: m.content };
    let text = "";
    let images = 0;
    for (const p of m.content) {
      if (p.type === "text") text += (text ? "\n" : "") + p.text;
      else images++;
    }
    return images ? { role: m.role, content: text, images } : { role: m.role, content: text };
  });
}

/** `POST /v3/chat-completions/{model}` and `/v3/tasks/{id}/chat-completions`. */
export async function chatV3(
  state: EmulatorState,
  ctx: RequestContext,
  target: { model: string } | { taskId: string },
): Promise<Response> {
  const t = "model" in target
    ? resolveModel(state, target.model, "v3")
    : resolveTask(state, target.taskId, "v3");
  const body = parseBody(v3Schema, await readJson(ctx.req));
  if (body.maxTokens !== undefined && body.maxCompletionTokens !== undefined) {
    fail("40001", "Invalid parameter (maxTokens and maxCompletionTokens are exclusive)");
  }
  if (body.messages.filter((m) => m.role === "system").length > 1) {
    fail("40001", "Invalid parameter (at most one system message)");
  }
  if (body.tools || body.toolChoice !== undefined || body.responseFormat !== undefined) {
    fail("40009");
  }
  if (body.thinking && (t.base !== "HCX-007" || t.taskId)) fail("40009");
  const flat = flattenV3(body.messages);
  if (t.taskId && flat.some((m) => m.images)) fail("40009", "Unsupported input format");
  const spec = MODELS[t.base];
  const max = body.maxCompletionTokens ?? body.maxTokens ?? 100;
  if (spec && max > spec.maxOutputTokens) fail("40001", "Invalid parameter (maxTokens)");
  const g = await generate(state, t, {
    messages: flat,
    temperature: body.temperature,
    seed: body.seed,
    maxTokens: max,
    stop: body.stop,
    topP: body.topP,
    topK: body.topK,
    repeatPenalty: body.repetitionPenalty,
  });
  // rule: chat.v3.created (seconds)
  const created = Math.floor(Date.now() / 1000);
  const usage = {
    promptTokens: g.inputTokens,
    completionTokens: g.outputTokens,
    totalTokens: g.inputTokens + g.outputTokens,
  };
  // The order of the function-calling page's plain and stream results.
  const result: Record<string, unknown> = {
    message: { role: "assistant", content: g.text },
    finishReason: g.reason === "length" ? "length" : "stop",
    created,
    seed: g.seed,
    usage,
  };
  if (body.includeAiFilters) result.aiFilter = aiFilter();
  result.emulator = meta(t);
  // rule: sse.v3.events
  return nativeChatResponse(ctx, headersFor(ctx, t), g.text, result, (content) => ({
    message: { role: "assistant", content },
    finishReason: null,
    created,
    seed: g.seed,
    usage: null,
  }));
}

// ---------------------------------------------------------------- tokenizer

const tokenizeV1Schema = z.object({
  messages: z.array(z.object({ role: z.string(), content: z.string() })).min(1),
});

/** `POST /v1/api-tools/chat-tokenize/{model}`: per-message counts (content + overhead). */
export async function tokenizeV1(
  _state: EmulatorState,
  ctx: RequestContext,
  model: string,
): Promise<Response> {
  resolveModel(_state, model, "v1");
  const body = parseBody(tokenizeV1Schema, await readJson(ctx.req));
  const messages = body.messages.map((m) => ({
    role: m.role,
    content: m.content,
    count: countTokens(m.content) + MESSAGE_OVERHEAD,
  }));
  return okResponse({ messages }, { "x-ncp-clovastudio-request-id": ctx.requestId });
}

const tokenizeV3Schema = z.object({
  messages: z.array(z.object({
    role: z.string(),
    content: z.union([z.string(), z.array(v3Part)]),
  })).min(1),
});

/** `POST /v3/api-tools/chat-tokenize/{model}`: per-part counts (message overhead excluded). */
export async function tokenizeV3(
  _state: EmulatorState,
  ctx: RequestContext,
  model: string,
): Promise<Response> {
  resolveModel(_state, model, "v3");
  const body = parseBody(tokenizeV3Schema, await readJson(ctx.req));
  const messages = body.messages.map((m) => {
    if (typeof m.content === "string") {
      return {
        role: m.role,
        content: { type: "text", text: m.content, count: countTokens(m.content) },
      };
    }
    return {
      role: m.role,
      content: m.content.map((p) =>
        p.type === "text"
          ? { type: "text", text: p.text, count: countTokens(p.text) }
          : { type: "image_url", imageUrl: p.imageUrl ?? null, count: IMAGE_TOKENS }
      ),
    };
  });
  return okResponse({ messages }, { "x-ncp-clovastudio-request-id": ctx.requestId });
}

// ---------------------------------------------------------------- OpenAI-compatible

// rule: openai.fields
const OPENAI_UNSUPPORTED = [
  "audio",
  "frequency_penalty",
  "logit_bias",
  "logprobs",
  "top_logprobs",
  "metadata",
  "modalities",
  "prediction",
  "presence_penalty",
  "prompt_cache_key",
  "safety_identifier",
  "service_tier",
  "store",
  "stream_options",
  "user",
  "web_search_options",
];

const openAiSchema = z.object({
  model: z.string().min(1),
  messages: z.array(z.object({
    role: z.enum(["system", "user", "assistant", "tool", "developer"]),
    content: z.union([
      z.string(),
      z.array(z.object({ type: z.string(), text: z.string().optional() })),
      z.null(),
    ]),
    name: z.string().optional(),
  })).min(1),
  stream: z.boolean().default(false),
  max_tokens: z.number().int().min(1).optional(),
  max_completion_tokens: z.number().int().min(1).optional(),
  n: z.literal(1).default(1),
  temperature: z.number().min(0).max(1).default(0.5),
  top_p: z.number().gt(0).lte(1).optional(),
  top_k: z.number().int().min(0).max(128).optional(),
  repeat_penalty: z.number().gt(0).lte(10).optional(),
  repetition_penalty: z.number().gt(0).lte(2).optional(),
  stop: z.union([z.string(), z.array(z.string())]).optional(),
  seed: z.number().int().min(0).max(4294967295).optional(),
  tools: z.array(z.unknown()).optional(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().optional(),
  reasoning_effort: z.enum(["none", "low", "medium", "high"]).optional(),
  response_format: z.unknown().optional(),
});

function resolveOpenAiModel(state: EmulatorState, model: string): Target {
  if (model.startsWith("ft:")) {
    // rule: openai.tuned-model
    const rec = state.tasks.list().find((r) => tunedModelId(r) === model);
    if (!rec) fail("40080");
    return resolveTask(state, rec.id, "v3");
  }
  const spec = served(state, model);
  if (!spec) fail("40080");
  return { base: spec.name, model: BASE_MODEL, local: spec.engine === "local" ? {} : undefined };
}

/** `POST /v1/openai/chat/completions` (OpenAI shapes; `ft:tuning-…` addresses a tuned task). */
export async function openAiChat(state: EmulatorState, ctx: RequestContext): Promise<Response> {
  const raw = await readJson(ctx.req);
  if (raw && typeof raw === "object") {
    const bad = OPENAI_UNSUPPORTED.find((k) => k in (raw as Record<string, unknown>));
    if (bad) fail("40002", `Unsupported parameter: ${bad}`);
  }
  const body = parseBody(openAiSchema, raw);
  if (body.max_tokens !== undefined && body.max_completion_tokens !== undefined) {
    fail("40001", "Invalid parameter (max_tokens and max_completion_tokens are exclusive)");
  }
  if (body.tools || body.tool_choice !== undefined || body.response_format !== undefined) {
    fail("40009");
  }
  const t = resolveOpenAiModel(state, body.model);
  const max = body.max_completion_tokens ?? body.max_tokens ?? 512;
  const spec = MODELS[t.base];
  if (spec && max > spec.maxOutputTokens) fail("40001", "Invalid parameter (max_tokens)");
  const messages = body.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: typeof m.content === "string"
      ? m.content
      : (m.content ?? []).map((p) => p.text ?? "").join("\n"),
  }));
  const g = await generate(state, t, {
    messages,
    temperature: body.temperature,
    seed: body.seed,
    maxTokens: max,
    stop: body.stop === undefined ? [] : typeof body.stop === "string" ? [body.stop] : body.stop,
    topP: body.top_p,
    topK: body.top_k,
    repeatPenalty: body.repeat_penalty ?? body.repetition_penalty,
  });
  const id = `chatcmpl-${ctx.requestId}`;
  const created = Math.floor(Date.now() / 1000);
  const finish = g.reason === "length" ? "length" : "stop";
  const headers = headersFor(ctx, t);
  const usage = {
    prompt_tokens: g.inputTokens,
    completion_tokens: g.outputTokens,
    total_tokens: g.inputTokens + g.outputTokens,
  };
  if (!body.stream) {
    const res = {
      id,
      object: "chat.completion",
      created,
      model: body.model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: g.text },
        finish_reason: finish,
        logprobs: null,
      }],
      usage,
      system_fingerprint: "reference-learner",
      emulator: meta(t),
    };
    return new Response(JSON.stringify(res), {
      status: 200,
      headers: { "content-type": "application/json; charset=utf-8", ...headers },
    });
  }
  const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
    formatData({
      id,
      object: "chat.completion.chunk",
      created,
      model: body.model,
      system_fingerprint: "reference-learner",
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    });
  const blocks = [chunk({ role: "assistant", content: "" }, null)];
  for (const p of streamPieces(g.text)) blocks.push(chunk({ content: p }, null));
  blocks.push(chunk({}, finish));
  blocks.push(formatData("[DONE]"));
  return sseResponse(blocks, headers);
}

/** `GET /v1/openai/models`: base models plus `ft:tuning-…` for every SUCCEEDED task. */
export function openAiModels(state: EmulatorState): Response {
  const list = Object.values(MODELS).filter((m) => served(state, m.name));
  const data: Record<string, unknown>[] = list.map((m) => ({
    id: m.name,
    object: "model",
    created: 1_700_000_000,
    owned_by: "naver",
  }));
  for (const rec of state.tasks.list()) {
    if (state.tasks.status(rec) !== "SUCCEEDED") continue;
    data.push({
      id: tunedModelId(rec),
      object: "model",
      created: Math.floor(rec.createdMs / 1000),
      owned_by: "user",
      root: rec.params.model,
    });
  }
  return new Response(JSON.stringify({ object: "list", data }), {
    status: 200,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}
