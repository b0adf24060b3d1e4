/**
 * zod schemas: request parameters with the documented ranges (v1 and v3 differ), checked before
 * anything is sent; and loose response schemas that tolerate unknown extra fields.
 * @module
 */
import { z } from "zod";
import { ClovaRequestInvalidError, type RequestIssue } from "./errors.ts";

/** Chat API generation: v1 (HCX-003, HCX-DASH-001, cookbook tasks) or v3 (HCX-005 and later). */
export type ChatApi = "v1" | "v3";

/** One chat message. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Maximum output tokens per model (reference §4); unknown models fall back to 4096 (v1) / 32768 (v3). */
export const MODEL_MAX_OUTPUT: Readonly<Record<string, number>> = {
  "HCX-003": 4096,
  "HCX-DASH-001": 4096,
  "HCX-005": 4096,
  "HCX-DASH-002": 4096,
  "HCX-007": 32768,
};

/** Models that only exist on the v1 chat API. */
export const V1_MODELS: ReadonlySet<string> = new Set(["HCX-003", "HCX-DASH-001"]);

const message = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});
const seed = z.number().int().min(0).max(4294967295);

/** v1 chat-completions body (`/v1/chat-completions/{model}`, `/v2/tasks/{id}/chat-completions`). */
export const chatV1RequestSchema = z.strictObject({
  messages: z.array(message).min(1),
  temperature: z.number().gt(0).lte(1).optional(),
  topK: z.number().int().min(0).max(128).optional(),
  topP: z.number().gt(0).lte(1).optional(),
  repeatPenalty: z.number().gt(0).lte(10).optional(),
  stopBefore: z.array(z.string()).optional(),
  maxTokens: z.number().int().gt(0).lte(4096).optional(),
  includeAiFilters: z.boolean().optional(),
  seed: seed.optional(),
});

/** v3 chat-completions body (`/v3/chat-completions/{model}`, `/v3/tasks/{id}/chat-completions`). */
export const chatV3RequestSchema = z.strictObject({
  messages: z.array(message).min(1),
  temperature: z.number().min(0).lte(1).optional(),
  topK: z.number().int().min(0).max(128).optional(),
  topP: z.number().gt(0).lte(1).optional(),
  repetitionPenalty: z.number().gt(0).lte(2).optional(),
  stop: z.array(z.string()).optional(),
  maxTokens: z.number().int().min(1).optional(),
  maxCompletionTokens: z.number().int().min(1).optional(),
  includeAiFilters: z.boolean().optional(),
  seed: seed.optional(),
  thinking: z.strictObject({ effort: z.enum(["none", "low", "medium", "high"]) }).optional(),
});

/** Sampling parameters accepted by {@link ClovaStudioClient.chat} (v1 or v3 names). */
export type ChatRequest =
  & { messages: ChatMessage[] }
  & Partial<Omit<z.infer<typeof chatV1RequestSchema>, "messages">>
  & Partial<Omit<z.infer<typeof chatV3RequestSchema>, "messages">>;

function issuesOf(error: z.ZodError): RequestIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}

/**
 * Validate a chat body for the API generation and model; returns the body to send or throws a
 * {@link ClovaRequestInvalidError}. v1 names on v3 (and the reverse) are rejected, not translated.
 * For a tuned task (`opts.task`), `model` is its base model: v1 refuses tasks of v3-only models,
 * while v3 serves tasks of any base model (`/v3/tasks/{id}/chat-completions`).
 */
export function checkChatRequest(
  api: ChatApi,
  model: string | undefined,
  req: unknown,
  opts: { task?: boolean } = {},
): ChatRequest {
  const schema = api === "v1" ? chatV1RequestSchema : chatV3RequestSchema;
  const r = schema.safeParse(req);
  const issues: RequestIssue[] = r.success ? [] : issuesOf(r.error);
  if (r.success) {
    const body = r.data as ChatRequest;
    if (api === "v3") {
      if (body.maxTokens !== undefined && body.maxCompletionTokens !== undefined) {
        issues.push({
          path: "maxTokens",
          message: "maxTokens and maxCompletionTokens are exclusive",
        });
      }
      if (body.thinking && body.maxTokens !== undefined) {
        issues.push({ path: "maxTokens", message: "use maxCompletionTokens with thinking" });
      }
      if (body.messages.filter((m) => m.role === "system").length > 1) {
        issues.push({ path: "messages", message: "v3 allows at most one system message" });
      }
      const cap = (model ? MODEL_MAX_OUTPUT[model] : undefined) ?? 32768;
      for (const k of ["maxTokens", "maxCompletionTokens"] as const) {
        const v = body[k];
        if (v !== undefined && v > cap) {
          issues.push({ path: k, message: `must be ≤ ${cap} for ${model ?? "this model"}` });
        }
      }
    }
    if (api === "v1" && model && !V1_MODELS.has(model) && model in MODEL_MAX_OUTPUT) {
      issues.push({ path: "model", message: `${model} is not available on the v1 API; use v3` });
    }
    if (api === "v3" && model && V1_MODELS.has(model) && !opts.task) {
      issues.push({ path: "model", message: `${model} is not available on the v3 API; use v1` });
    }
    if (issues.length === 0) return body;
  }
  throw new ClovaRequestInvalidError(`${api} chat-completions`, issues);
}

/** Tuning-task creation parameters (dataset given separately). */
export const createTaskParamsSchema = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  model: z.string().min(1),
  /** Legacy (`/v2/tasks`) field; default "LORA" there. */
  method: z.string().optional(),
  /** Legacy field; "GENERATION" (default) or "CLASSIFICATION". */
  taskType: z.enum(["GENERATION", "CLASSIFICATION"]).optional(),
  /** Current field; only "PEFT". */
  tuningType: z.literal("PEFT").optional(),
  trainEpochs: z.number().int().min(1).max(20).optional(),
  learningRate: z.number().min(1e-6).max(1).optional(),
  validationSplitRatio: z.number().min(0).max(0.1).optional(),
  loraR: z.number().int().min(2).max(64).optional(),
  loraAlpha: z.number().int().min(2).max(512).optional(),
});

/** Validated creation parameters. */
export type CreateTaskParams = z.infer<typeof createTaskParamsSchema>;

/** Validate creation parameters or throw {@link ClovaRequestInvalidError}. */
export function checkCreateTaskParams(params: unknown): CreateTaskParams {
  const r = createTaskParamsSchema.safeParse(params);
  if (!r.success) throw new ClovaRequestInvalidError("tuning task creation", issuesOf(r.error));
  return r.data;
}

/** Validate a tokenize body (messages only). */
export function checkTokenizeMessages(messages: unknown): ChatMessage[] {
  const r = z.array(message).min(1).safeParse(messages);
  if (!r.success) throw new ClovaRequestInvalidError("chat-tokenize", issuesOf(r.error));
  return r.data;
}

// ---------------------------------------------------------------------------------------------
// Responses (loose: unknown fields tolerated and kept)

/** Native envelope `{status:{code,message}, result?}`; `code` is a string (numbers tolerated). */
export const envelopeSchema = z.looseObject({
  status: z.looseObject({
    code: z.union([z.string(), z.number()]).transform(String),
    message: z.string().nullish(),
  }),
  result: z.unknown().optional(),
});

/** OpenAI-compatible error `{error:{message, code}}`. */
export const openAiErrorSchema = z.looseObject({
  error: z.looseObject({
    message: z.string().nullish(),
    code: z.union([z.string(), z.number()]).nullish(),
  }),
});

const num = z.union([z.number(), z.string().transform((s) => Number(s.replace(/[^\d.eE+-]/g, "")))])
  .pipe(z.number());

/** `/v1/auth/token` result. */
export const tokenResultSchema = z.looseObject({
  accessToken: z.string().min(1),
  tokenType: z.string().nullish(),
  expiresIn: num.nullish(),
});

const chatMessageOut = z.looseObject({
  role: z.string().nullish(),
  content: z.string().nullish(),
  thinkingContent: z.string().nullish(),
});

/** v1 chat result (also the v1 stream's `result` event). */
export const chatV1ResultSchema = z.looseObject({
  message: chatMessageOut,
  stopReason: z.string().nullish(),
  inputLength: num.nullish(),
  outputLength: num.nullish(),
  seed: num.nullish(),
  aiFilter: z.array(z.looseObject({})).nullish(),
});

/** v3 chat result (also the v3 stream's `result` event). */
export const chatV3ResultSchema = z.looseObject({
  message: chatMessageOut,
  finishReason: z.string().nullish(),
  created: num.nullish(),
  seed: num.nullish(),
  usage: z.looseObject({
    promptTokens: num.nullish(),
    completionTokens: num.nullish(),
    totalTokens: num.nullish(),
  }).nullish(),
  aiFilter: z.array(z.looseObject({})).nullish(),
});

/** A stream `token` event (v1 or v3). */
export const chatTokenEventSchema = z.looseObject({
  message: chatMessageOut.nullish(),
  stopReason: z.string().nullish(),
  finishReason: z.string().nullish(),
});

/** `statusInfo` of a task (object; documented as "Array"; all null while WAIT). */
export const statusInfoSchema = z.looseObject({
  dataRows: num.nullish(),
  numOfTokens: num.nullish(),
  currStep: num.nullish(),
  totalTrainSteps: num.nullish(),
  currEpoch: num.nullish(),
  totalTrainEpochs: num.nullish(),
  estimatedTime: num.nullish(),
  trainLoss: num.nullish(),
  sendWeightSuccess: z.boolean().nullish(),
  failureReason: z.string().nullish(),
  message: z.string().nullish(),
  endDatetime: z.string().nullish(),
});

/** A task object (current or legacy shape). */
export const taskSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().nullish(),
  model: z.string().nullish(),
  baseModel: z.string().nullish(),
  method: z.string().nullish(),
  tuningType: z.string().nullish(),
  taskType: z.string().nullish(),
  trainEpochs: num.nullish(),
  learningRate: num.nullish(),
  status: z.string(),
  statusInfo: z.union([statusInfoSchema, z.array(z.unknown()), z.null()]).optional(),
  createdClientType: z.string().nullish(),
  createdDate: z.string().nullish(),
  updatedDate: z.string().nullish(),
});

/** List result page. */
export const taskPageSchema = z.looseObject({
  totalPages: num.nullish(),
  totalElements: num.nullish(),
  size: num.nullish(),
  number: num.nullish(),
  content: z.array(z.unknown()),
});

/** `/v1/api-tools/chat-tokenize/{model}` result. */
export const tokenizeResultSchema = z.looseObject({
  messages: z.array(z.looseObject({
    role: z.string(),
    content: z.union([z.string(), z.unknown()]),
    count: num,
  })),
});
