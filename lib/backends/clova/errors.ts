/**
 * Typed errors of the CLOVA Studio client.
 *
 * Every failure that comes from the service (or from talking to it) is a {@link ClovaStudioError}
 * carrying the HTTP status, the envelope's string `status.code`, the request id and whether a retry
 * can help. Parameter mistakes caught before anything is sent are a {@link ClovaRequestInvalidError}
 * (a `ClovaStudioError` with `httpStatus` 0, `code` "40001" — the service's "Invalid parameter" —
 * and `sent: false`), so one `catch (e instanceof ClovaStudioError)` covers both.
 * @module
 */

/** `status.code` values that are retried with backoff (rate limits, 500, 504, request timeout). */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "42900",
  "42901",
  "42902",
  "42903",
  "50000",
  "50400",
  "40800",
]);

/** Client-side pseudo codes (never sent by the service). */
export const CLIENT_CODES = {
  /** fetch failed: connection refused / reset / dropped mid-body. */
  network: "NETWORK",
  /** No response within the per-attempt timeout. */
  timeout: "TIMEOUT",
  /** The response body was not what the API documents (not JSON, envelope missing fields…). */
  badResponse: "BAD_RESPONSE",
  /** A stream ended without a `result` event. */
  streamIncomplete: "STREAM_INCOMPLETE",
} as const;

/** Whether a `status.code` (or client pseudo code) is worth retrying. */
export function isRetryableCode(code: string): boolean {
  return RETRYABLE_CODES.has(code) || code === CLIENT_CODES.network ||
    code === CLIENT_CODES.timeout || code === CLIENT_CODES.streamIncomplete;
}

/** Fields of a {@link ClovaStudioError}. */
export interface ClovaStudioErrorInit {
  httpStatus: number;
  code: string;
  message: string;
  requestId?: string;
  retryable?: boolean;
  retryAfterMs?: number;
  attempts?: number;
  cause?: unknown;
}

/** One typed error for everything the service (or the way to it) answers with. */
export class ClovaStudioError extends Error {
  /** HTTP status (0 when no response arrived or nothing was sent). */
  readonly httpStatus: number;
  /** The envelope's `status.code` as a string ("42901"), or a client pseudo code ("NETWORK"). */
  readonly code: string;
  /** The `X-NCP-CLOVASTUDIO-REQUEST-ID` the request carried. */
  readonly requestId?: string;
  /** Whether retrying the same request may succeed. */
  readonly retryable: boolean;
  /** Delay the server asked for (`Retry-After`), in ms. */
  readonly retryAfterMs?: number;
  /** How many attempts were made before giving up (1 = no retry). */
  attempts: number;

  constructor(init: ClovaStudioErrorInit) {
    super(
      `CLOVA Studio ${init.code}${init.httpStatus ? ` (HTTP ${init.httpStatus})` : ""}: ${
        init.message || "(no message)"
      }${init.requestId ? ` [request ${init.requestId}]` : ""}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = "ClovaStudioError";
    this.httpStatus = init.httpStatus;
    this.code = init.code;
    this.requestId = init.requestId;
    this.retryable = init.retryable ?? isRetryableCode(init.code);
    this.retryAfterMs = init.retryAfterMs;
    this.attempts = init.attempts ?? 1;
  }

  /** The message the service gave, without the code/request-id decoration. */
  get serviceMessage(): string {
    const m = /^CLOVA Studio \S+(?: \(HTTP \d+\))?: (.*?)(?: \[request [^\]]+\])?$/s.exec(
      this.message,
    );
    return m ? m[1] : this.message;
  }

  /** Plain, secret-free summary for journals and logs. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      httpStatus: this.httpStatus,
      code: this.code,
      message: this.serviceMessage,
      requestId: this.requestId,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      attempts: this.attempts,
    };
  }
}

/** One problem found in a request before it was sent. */
export interface RequestIssue {
  path: string;
  message: string;
}

/**
 * A request that breaks the documented parameter ranges. Thrown before anything is sent
 * (`httpStatus` 0, `code` "40001", never retryable), so a mistake costs no money.
 */
export class ClovaRequestInvalidError extends ClovaStudioError {
  /** Always false: the request never left the process. */
  readonly sent = false;
  /** Each offending field and why. */
  readonly issues: readonly RequestIssue[];

  constructor(what: string, issues: readonly RequestIssue[]) {
    super({
      httpStatus: 0,
      code: "40001",
      retryable: false,
      message: `Invalid parameter (checked before sending ${what}): ${
        issues.map((i) => `${i.path || "(request)"}: ${i.message}`).join("; ")
      }`,
    });
    this.name = "ClovaRequestInvalidError";
    this.issues = issues;
  }
}

/** A tuning task ended `FAILED`; carries the service's `failureReason` and `message`. */
export class TuningTaskFailedError extends Error {
  /** The failed task's id. */
  readonly taskId: string;
  /** `statusInfo.failureReason`, e.g. "file.encoding". */
  readonly failureReason: string;
  /** `statusInfo.message`, e.g. "Unsupported charset". */
  readonly detail: string;

  constructor(taskId: string, failureReason: string, detail: string) {
    super(`Tuning task ${taskId} FAILED: ${failureReason}${detail ? ` — ${detail}` : ""}`);
    this.name = "TuningTaskFailedError";
    this.taskId = taskId;
    this.failureReason = failureReason;
    this.detail = detail;
  }
}

/** `waitForTask` gave up after its `timeoutMs`; the task may still finish later. */
export class TaskWaitTimeoutError extends Error {
  /** The task waited for. */
  readonly taskId: string;
  /** Its status at the last poll. */
  readonly lastStatus: string;

  constructor(taskId: string, lastStatus: string, timeoutMs: number) {
    super(
      `Gave up waiting for tuning task ${taskId} after ${timeoutMs} ms (last status ${lastStatus})`,
    );
    this.name = "TaskWaitTimeoutError";
    this.taskId = taskId;
    this.lastStatus = lastStatus;
  }
}
