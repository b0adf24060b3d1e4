/**
 * Client options.
 * @module
 */
import type { ClovaAuth } from "./auth.ts";
import type { OnRetry } from "./http.ts";
import type { ObjectStorageConfig } from "./objectStorage.ts";
import type { ApiGeneration } from "./generation.ts";

/** Options of {@link ClovaStudioClient}. */
export interface ClovaClientOptions {
  /** e.g. https://clovastudio.stream.ntruss.com, or the emulator's URL. */
  baseUrl: string;
  auth: ClovaAuth;
  /**
   * API generation (see `generation.ts`): `current` (default; `/tuning/v2/tasks`, Object Storage)
   * or `legacy-2024` (default for client-credentials; `/v2/tasks`, multipart).
   */
  generation?: ApiGeneration;
  /** Prefix of inference/api-tools paths; default "/testapp" for key pairs, "" otherwise. */
  pathPrefix?: "" | "/testapp" | "/serviceapp";
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  onRetry?: OnRetry;
  /** Per-attempt timeout (streams: idle time between chunks). Default 120 s. */
  requestTimeoutMs?: number;
  /** Refresh client-credentials tokens this long before `expiresIn` (default 60 s). */
  tokenRefreshMarginMs?: number;
  /** Object Storage used by `uploadDataset` / `createTask({dataset:{upload}})`. */
  objectStorage?: ObjectStorageConfig;
  /** fetch implementation (tests). */
  fetch?: typeof fetch;
}
