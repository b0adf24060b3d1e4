/**
 * The batch runner's live counters and its progress line: what is done, in flight, waiting and
 * why (rate-limited with the server's code, backing off after errors, stalled), and an ETA that
 * counts the longest wait.
 *
 * @module
 */
import {
  createProgress,
  formatDuration,
  type Progress,
  type ProgressOptions,
} from "../progress/mod.ts";

/** Live counters of a run (also the `onProgress` payload). */
export interface EvaluateStatus {
  /** Keys to answer in this session (prompts × repeats − already answered). */
  total: number;
  /** Keys finished in this session (answered or failed permanently). */
  done: number;
  /** Keys skipped because the journal already held an answer. */
  skipped: number;
  /** Permanent failures so far. */
  errors: number;
  /** Retries so far (attempts beyond each key's first). */
  retries: number;
  /** HTTP attempts started. */
  attempts: number;
  inFlight: number;
  /** Keys waiting out a back-off after a `retry` failure. */
  backingOff: number;
  /** Keys waiting because the server rate-limited them. */
  rateLimited: number;
  /** The last rate-limit answer (`HTTP 429, <the server's code>`), while any key waits for one. */
  rateLimitCode?: string;
  /** The last `retry` failure (`HTTP 500, 50000`, `TIMEOUT`), while any key backs off. */
  backoffCode?: string;
  /** Longest remaining wait among waiting keys, ms (0 when none). */
  waitMs: number;
  /** Requests in flight for longer than `stallMs`. */
  stalled: number;
  elapsedMs: number;
}

/** Why a key waits before its next attempt. */
export interface WaitReason {
  kind: "retry" | "rate-limited";
  code: string;
  httpStatus?: number;
}

function failureCode(f: { code: string; httpStatus?: number }): string {
  return f.httpStatus ? `HTTP ${f.httpStatus}, ${f.code}` : f.code;
}

/** The counters of one session of the batch runner, shown as they change. */
export class StatusBoard {
  readonly status: EvaluateStatus;
  /** When the session began (`performance.now()`). */
  readonly started: number = performance.now();
  readonly #stallMs: number;
  readonly #waiting = new Map<object, number>();
  readonly #inFlightSince = new Set<{ t: number }>();
  #firstAttempt = NaN;
  #lastAttempt = NaN;
  readonly #progress?: Progress;
  readonly #onProgress?: (status: EvaluateStatus) => void;
  readonly #ticker: ReturnType<typeof setInterval>;

  constructor(opts: {
    label: string;
    /** Keys to answer in this session. */
    total: number;
    /** Keys the journal already answered. */
    skipped: number;
    stallMs: number;
    progress?: boolean | ProgressOptions;
    onProgress?: (status: EvaluateStatus) => void;
  }) {
    this.#stallMs = opts.stallMs;
    this.#onProgress = opts.onProgress;
    this.status = {
      total: opts.total,
      done: 0,
      skipped: opts.skipped,
      errors: 0,
      retries: 0,
      attempts: 0,
      inFlight: 0,
      backingOff: 0,
      rateLimited: 0,
      waitMs: 0,
      stalled: 0,
      elapsedMs: 0,
    };
    this.#progress = opts.progress === false ? undefined : createProgress(
      `answers · ${opts.label}`,
      opts.total,
      typeof opts.progress === "object" ? opts.progress : {},
    );
    this.#ticker = setInterval(() => this.refresh(), 1000);
  }

  /** Shows the counters and tells `onProgress`. */
  report(): void {
    this.status.elapsedMs = performance.now() - this.started;
    this.#progress?.update(this.status.done, this.#detail(), undefined, this.#eta());
    this.#onProgress?.({ ...this.status });
  }

  /** Recounts the longest wait and the stalled requests, then reports. */
  refresh(): void {
    const now = performance.now();
    let longest = 0;
    for (const until of this.#waiting.values()) longest = Math.max(longest, until - now);
    this.status.waitMs = Math.max(0, longest);
    let stalled = 0;
    for (const s of this.#inFlightSince) if (now - s.t > this.#stallMs) stalled++;
    this.status.stalled = stalled;
    this.report();
  }

  /** An attempt starts; call what it returns when it ends. */
  attemptStarted(): () => void {
    const s = this.status;
    s.attempts++;
    s.inFlight++;
    const now = performance.now();
    if (Number.isNaN(this.#firstAttempt)) this.#firstAttempt = now;
    this.#lastAttempt = now;
    const since = { t: now };
    this.#inFlightSince.add(since);
    return () => {
      this.#inFlightSince.delete(since);
      s.inFlight--;
    };
  }

  /** A key is finished: answered, or failed for good. */
  finished(failed: boolean): void {
    this.status.done++;
    if (failed) this.status.errors++;
    this.report();
  }

  /** `key` waits `delayMs` before its next attempt, for `why`; call what it returns when it goes. */
  waiting(key: object, delayMs: number, why: WaitReason): () => void {
    const s = this.status;
    const limited = why.kind === "rate-limited";
    s.retries++;
    if (limited) {
      s.rateLimited++;
      s.rateLimitCode = failureCode(why);
    } else {
      s.backingOff++;
      s.backoffCode = failureCode(why);
    }
    this.#waiting.set(key, performance.now() + delayMs);
    s.waitMs = Math.max(s.waitMs, delayMs);
    this.report();
    return () => {
      this.#waiting.delete(key);
      if (limited) s.rateLimited--;
      else s.backingOff--;
    };
  }

  /** Stops the ticker and shows the last line. */
  finish(): void {
    clearInterval(this.#ticker);
    this.refresh();
    this.#progress?.finish(this.#detail());
  }

  /** Request starts per minute over this session (NaN with fewer than two). */
  achievedRpm(): number {
    const span = this.#lastAttempt - this.#firstAttempt;
    const n = this.status.attempts;
    return n > 1 && span > 0 ? ((n - 1) / span) * 60_000 : NaN;
  }

  #detail(): string {
    const s = this.status;
    const parts: string[] = [];
    if (s.skipped) parts.push(`resumed past ${s.skipped}`);
    const wait = s.waitMs > 0 ? ` ≤${formatDuration(s.waitMs / 1000)}` : "";
    if (s.rateLimited) {
      parts.push(`rate-limited (${s.rateLimitCode}): ${s.rateLimited} waiting${wait}`);
    }
    if (s.backingOff) parts.push(`backing off (${s.backoffCode}): ${s.backingOff}${wait}`);
    if (s.stalled) parts.push(`${s.stalled} stalled > ${formatDuration(this.#stallMs / 1000)}`);
    parts.push(`retries ${s.retries}`, `errors ${s.errors}`);
    return parts.join(" · ");
  }

  /** Seconds left: keys waiting out a back-off finish no sooner than their wait; the rest go at the rate. */
  #eta(): number {
    const s = this.status;
    const remaining = s.total - s.done;
    const rate = s.done / Math.max(1e-3, (performance.now() - this.started) / 1000);
    if (remaining <= 0) return 0;
    const waiters = s.rateLimited + s.backingOff;
    const byRate = rate > 0 ? remaining / rate : NaN;
    const byWait = waiters > 0
      ? s.waitMs / 1000 + (rate > 0 ? Math.max(0, remaining - waiters) / rate : 0)
      : NaN;
    return Number.isNaN(byWait) ? byRate : Math.max(byWait, Number.isNaN(byRate) ? 0 : byRate);
  }
}
