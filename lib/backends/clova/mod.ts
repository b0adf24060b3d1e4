/**
 * CLOVA Studio client for both API generations (`current`, `legacy-2024`: see `generation.ts`):
 * auth (API key, legacy key pair, client-credentials token), tuning tasks,
 * chat completions (v1/v3, base or tuned, plain or SSE), tokenizer, typed errors with retry,
 * dataset pre-flight and Object Storage upload.
 *
 * Validation errors thrown before sending are {@link ClovaRequestInvalidError}
 * (`ClovaStudioError` with `httpStatus` 0, `code` "40001", `sent` false).
 * @module
 */
export {
  type ClovaAuth,
  describeAuth,
  makeRedacting,
  REDACTED,
  redactSecrets,
  tokenExpiryMs,
} from "./auth.ts";
export { backoffDelayMs, DEFAULT_RETRY, parseRetryAfter, type RetryPolicy } from "./backoff.ts";
export {
  type ChatOptions,
  chatPath,
  type ChatResult,
  type ChatStreamOptions,
  type ChatTarget,
  defaultChatApi,
} from "./chat.ts";
export { ClovaStudioClient } from "./client.ts";
export {
  clovaOptionsFromEnv,
  CURRENT_BASE_URL,
  LEGACY_BASE_URL,
  OBJECT_STORAGE_VARIABLES,
  objectStorageFromEnv,
  type ObjectStorageSettings,
  objectStorageSettings,
  parseDotEnv,
  readEnvironment,
} from "./env.ts";
export {
  API_GENERATIONS,
  type ApiGeneration,
  type DatasetLayout,
  GENERATION_PROFILES,
  generationFor,
  type GenerationProfile,
} from "./generation.ts";
export {
  CLIENT_CODES,
  ClovaRequestInvalidError,
  ClovaStudioError,
  isRetryableCode,
  type RequestIssue,
  RETRYABLE_CODES,
  TaskWaitTimeoutError,
  TuningTaskFailedError,
} from "./errors.ts";
export type { OnRetry, RetryMode } from "./http.ts";
export {
  DEFAULT_OBJECT_STORAGE_ENDPOINT,
  downloadObject,
  ensureObject,
  headObject,
  md5Etag,
  type ObjectStorageConfig,
  objectStorageConfig,
  ObjectStorageError,
  objectUrl,
  uploadObject,
} from "./objectStorage.ts";
export type { ClovaClientOptions } from "./options.ts";
export {
  type ChatApi,
  type ChatMessage,
  type ChatRequest,
  checkChatRequest,
  checkCreateTaskParams,
  type CreateTaskParams,
  MODEL_MAX_OUTPUT,
  V1_MODELS,
} from "./params.ts";
export {
  INSTRUCTION_COLUMNS,
  type PreflightOptions,
  type PreflightProblem,
  type PreflightReport,
  preflightTuningCsv,
  preflightTuningCsvBytes,
  readTuningCsvRows,
} from "./preflight.ts";
export { parseSseStream, type SseEvent, SseParser } from "./sse.ts";
export { type DatasetTokenCount, type TokenizeResult, type TokenRow } from "./tokenize.ts";
export {
  type CreateOptions,
  type CreateTaskRequest,
  type DatasetFile,
  type ObjectStorageDataset,
  parseServiceDate,
  type TaskDataset,
  type TaskProgress,
  type TaskStatus,
  type TaskStatusInfo,
  type TuningTask,
  type WaitOptions,
} from "./tuning.ts";
