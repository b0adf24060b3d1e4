/**
 * Retry timing: jittered exponential backoff that honours `Retry-After`, and an abortable sleep.
 * @module
 */

/** Retry settings (all optional in client options). */
export interface RetryPolicy {
  /** Total attempts including the first (default 5; 1 disables retries). */
  maxAttempts: number;
  /** Base delay of the exponential backoff (default 500 ms). */
  baseDelayMs: number;
  /** Cap of a computed backoff delay (default 30 s). A server `Retry-After` may exceed it. */
  maxDelayMs: number;
}

/** Defaults used when client options leave a field out. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/** The longest `Retry-After` the client will sleep for (5 minutes). */
export const MAX_RETRY_AFTER_MS = 300_000;

/** Merge partial retry options over the defaults, rejecting nonsense values. */
export function resolveRetryPolicy(p?: Partial<RetryPolicy>): RetryPolicy {
  const r = {
    ...DEFAULT_RETRY,
    ...Object.fromEntries(
      Object.entries(p ?? {}).filter(([, v]) => v !== undefined),
    ),
  } as RetryPolicy;
  if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < 1) {
    throw new RangeError("retry.maxAttempts must be an integer ≥ 1");
  }
  if (!(r.baseDelayMs >= 0) || !(r.maxDelayMs >= 0)) {
    throw new RangeError("retry delays must be ≥ 0");
  }
  return r;
}

/**
 * Delay before retry number `retry` (1 = first retry): "equal jitter" exponential backoff, i.e.
 * half of `base·2^(retry-1)` (capped) plus a random share of the other half. A server
 * `Retry-After` wins when it is longer (capped at {@link MAX_RETRY_AFTER_MS}).
 */
export function backoffDelayMs(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  const server = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  return Math.round(Math.max(jittered, server));
}

/**
 * Parse a `Retry-After` header: delta-seconds ("3", "1.5") or an HTTP date. Returns ms from `now`
 * (never negative), or undefined when absent/unparsable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** Sleep `ms`, rejecting with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
