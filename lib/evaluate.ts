/**
 * The batch runner: answers a prompt sheet with bounded concurrency and a requests-per-minute
 * limit, journals every answer as soon as it arrives, resumes, and writes the result sheet.
 *
 * Design:
 * - **One queue, one limiter** — a single `p-queue` runs *attempts* (one HTTP request each):
 *   `concurrency` bounds requests in flight, and with `rpm` set its strict sliding window
 *   (`intervalCap: 1`, `interval: 60000 / rpm`) spaces request starts evenly, so every attempt —
 *   retries included — counts against the limit and no burst ever exceeds it.
 * - **Retries live here, only here.** Providers make one attempt per call (the CLOVA client is built
 *   with `retry.maxAttempts = 1`). A retryable failure (429 rate-limit codes, 500, 504, timeouts,
 *   dropped connections) waits a jittered exponential backoff — at least the server's
 *   `Retry-After` — *outside* the queue (it holds no concurrency slot), then re-enters the queue
 *   ahead of fresh work. Retries, back-offs and errors are counted and shown in progress.
 * - **Permanent failures are data**: after `maxAttempts`, or on a non-retryable error, the row is
 *   journaled with its `error` and the run goes on. Credentials or target problems (HTTP 401, 403,
 *   404; model not found / faded out / wrong API) stop the run instead ({@link EvaluationAbortedError}); nothing is journaled for them.
 * - **Journal** (`lib/journal.ts`): one fsynced JSON line per answer, so a crash loses only the
 *   requests in flight. `resume` skips keys `(promptId, repeat)` already answered and retries the
 *   ones that failed; readers dedupe, so a finished run never holds two answers for one key.
 * - **Stop** (`signal`): no new attempt starts, back-offs are cancelled, in-flight requests finish
 *   and are journaled; the result says `stopped` and what is missing.
 *
 * @module
 */
import PQueue from "p-queue";
import {
  type ChatMessage,
  type ChatProvider,
  type ErrorInfo,
  errorInfo,
  resolveSampling,
  type SamplingParams,
} from "./providers.ts";
import {
  type AnswerError,
  answerKey,
  type AnswerRecord,
  type JournalWriter,
  loadJournal,
  openJournal,
} from "./journal.ts";
import { backoffDelayMs, resolveRetryPolicy, type RetryPolicy, sleep } from "./clova/backoff.ts";
import { createProgress, type Progress, type ProgressOptions } from "./progress.ts";
import type { EvalPrompt } from "./dataset.ts";

/** One prompt to answer (a `PromptSheetRow` from `readPromptSheet` fits as is). */
export interface EvaluatePrompt {
  promptId: string;
  system: string;
  user: string;
  /** 1-based spreadsheet row, for error reports. */
  row?: number;
  countries?: readonly string[];
  countryCount?: number;
  continentCount?: number;
}

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
  /** Keys waiting out a backoff. */
  backingOff: number;
  /** Longest remaining wait among back-offs, ms (0 when none). */
  backoffMs: number;
  elapsedMs: number;
}

/** Options of {@link evaluateSheet}. */
export interface EvaluateOptions {
  prompts: readonly EvaluatePrompt[];
  provider: ChatProvider;
  /** Journal file (`answers/<label>.jsonl`). */
  journalPath: string;
  /** Answer label (default: `provider.label`). */
  label?: string;
  /** Base model recorded with answers (default: `provider.describe().model`). */
  model?: string;
  /** Tuning-set size recorded with answers (default: `provider.describe().size ?? 0`). */
  size?: number;
  /** Sampling parameters over the cookbook defaults; the resolved set is journaled per answer. */
  params?: Partial<SamplingParams>;
  /** Requests in flight at most (default 4). */
  concurrency?: number;
  /** Request starts per minute at most (default: unlimited). Counts retries too. */
  rpm?: number;
  /** Answers per prompt (default 1); keyed `repeat` 0…N−1. */
  repeats?: number;
  /** Continue an existing journal (default false: an existing non-empty journal is an error). */
  resume?: boolean;
  /** Retry policy (default 6 attempts, 500 ms base, 30 s cap; `Retry-After` wins when longer). */
  retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout (default 120 s); a timeout is retried. */
  requestTimeoutMs?: number;
  /** Abort = stop starting work; in-flight requests finish and are journaled. */
  signal?: AbortSignal;
  /** Progress display: `true` (default) = `createProgress` auto mode, `false` = none. */
  progress?: boolean | ProgressOptions;
  /** Called on every state change with the live counters. */
  onProgress?: (status: EvaluateStatus) => void;
}

/** A key that could not be answered. */
export interface EvaluateFailure {
  row?: number;
  promptId: string;
  repeat: number;
  attempts: number;
  error: AnswerError;
}

/** What {@link evaluateSheet} did. */
export interface EvaluateResult {
  label: string;
  journalPath: string;
  /** One record per key present in the journal, in sheet order (repeat-major), deduplicated. */
  records: AnswerRecord[];
  /** Keys whose record is a permanent failure, by row. */
  failures: EvaluateFailure[];
  /** Keys with no record (the run was stopped before reaching them). */
  missing: { row?: number; promptId: string; repeat: number }[];
  /** Every key has a record (answer or permanent failure). */
  complete: boolean;
  /** The run ended because `signal` aborted. */
  stopped: boolean;
  /** Final counters of this session. */
  status: EvaluateStatus;
  /** Achieved request-start rate over this session, per minute (NaN with < 2 attempts). */
  achievedRpm: number;
  /** Journal lines that belong to keys outside this sheet × repeats (left alone). */
  ignoredJournalRecords: number;
  /** A torn last line (crash mid-write) was found and skipped. */
  tornJournalLines: number;
  params: SamplingParams;
}

/** An existing journal was found and `resume` was not set. */
export class JournalExistsError extends Error {
  constructor(readonly path: string, readonly records: number) {
    super(
      `${path} already holds ${records} answer(s). Pass --resume (resume: true) to continue it, ` +
        `or delete it / choose another --journal to start over.`,
    );
    this.name = "JournalExistsError";
  }
}

/** The journal being resumed was written for another label, prompt sheet or parameters. */
export class JournalMismatchError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path} cannot be resumed with these settings: ${detail}`);
    this.name = "JournalMismatchError";
  }
}

/** The run hit an error that no row can get past (credentials, unknown task/model). */
export class EvaluationAbortedError extends Error {
  constructor(readonly info: ErrorInfo, readonly journaled: number) {
    super(
      `evaluation stopped: ${info.code}${
        info.httpStatus ? ` (HTTP ${info.httpStatus})` : ""
      }: ${info.message}` +
        ` — ${
          info.httpStatus === 404
            ? "check the task id / model name / URL"
            : "check the credentials and their permissions"
        }; ${journaled} answer(s) journaled, fix it and rerun with --resume.`,
    );
    this.name = "EvaluationAbortedError";
  }
}

/** HTTP statuses that end the run rather than one row (credentials, unknown task/URL). */
const FATAL_HTTP = new Set([401, 403, 404]);
/** CLOVA codes that concern the target, not the row: model not found / faded out / wrong API. */
const FATAL_CODES = new Set(["40080", "40082", "40084"]);

function isFatal(info: ErrorInfo): boolean {
  return (info.httpStatus !== undefined && FATAL_HTTP.has(info.httpStatus)) ||
    FATAL_CODES.has(info.code);
}

interface Job {
  prompt: EvaluatePrompt;
  repeat: number;
  key: string;
}

type AttemptOutcome =
  | { ok: true; answer: Awaited<ReturnType<ChatProvider["answer"]>> }
  | { ok: false; info: ErrorInfo; latencyMs: number };

class Stopped extends Error {
  constructor() {
    super("stopped");
    this.name = "Stopped";
  }
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function messagesOf(p: EvaluatePrompt): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (p.system.trim() !== "") messages.push({ role: "system", content: p.system });
  messages.push({ role: "user", content: p.user });
  return messages;
}

/** Builds runner prompts from `generateEvalSet` output (rows numbered as in the written XLSX). */
export function promptsFromEvalSet(set: readonly EvalPrompt[]): EvaluatePrompt[] {
  return set.map((p, i) => ({
    promptId: p.id,
    row: i + 2,
    system: p.system,
    user: p.user,
    countries: p.countries,
    countryCount: p.countryCount,
    continentCount: p.continentCount,
  }));
}

function checkPositiveInt(name: string, v: number, min = 1) {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}`);
}

/**
 * Answers every prompt × repeat with `provider`, journaling each answer; see the module doc for
 * the concurrency, rate-limit, retry, resume and stop semantics.
 */
export async function evaluateSheet(opts: EvaluateOptions): Promise<EvaluateResult> {
  const concurrency = opts.concurrency ?? 4;
  const repeats = opts.repeats ?? 1;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 120_000;
  checkPositiveInt("concurrency", concurrency);
  checkPositiveInt("repeats", repeats);
  if (opts.rpm !== undefined && opts.rpm !== 0 && !(opts.rpm > 0)) {
    throw new RangeError("rpm must be > 0");
  }
  const policy = resolveRetryPolicy({ maxAttempts: 6, ...opts.retry });
  const params = resolveSampling(opts.params);
  const description = opts.provider.describe();
  const label = opts.label ?? opts.provider.label;
  const model = opts.model ?? description.model;
  const size = opts.size ?? description.size ?? 0;
  const paramsKey = stableJson(params);

  // All keys, repeat-major: every prompt once before any prompt twice.
  const seenIds = new Set<string>();
  for (const p of opts.prompts) {
    if (seenIds.has(p.promptId)) {
      throw new Error(
        `prompt id ${p.promptId} appears twice${
          p.row ? ` (row ${p.row})` : ""
        }: ids must be unique`,
      );
    }
    seenIds.add(p.promptId);
  }
  const jobs: Job[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const prompt of opts.prompts) {
      jobs.push({ prompt, repeat, key: answerKey(prompt.promptId, repeat) });
    }
  }
  const jobByKey = new Map(jobs.map((j) => [j.key, j]));

  // Resume bookkeeping.
  const before = await loadJournal(opts.journalPath);
  if (before.records.length > 0 && !opts.resume) {
    throw new JournalExistsError(opts.journalPath, before.records.length);
  }
  const answered = new Set<string>();
  let ignoredJournalRecords = 0;
  for (const rec of before.records) {
    const job = jobByKey.get(answerKey(rec.promptId, rec.repeat));
    if (!job) {
      ignoredJournalRecords++;
      continue;
    }
    if (rec.label !== label) {
      throw new JournalMismatchError(
        opts.journalPath,
        `it holds answers labelled "${rec.label}", this run is "${label}"`,
      );
    }
    if (rec.user !== job.prompt.user || rec.system !== job.prompt.system) {
      throw new JournalMismatchError(
        opts.journalPath,
        `prompt ${rec.promptId} has different text than in the journal (another prompt sheet?)`,
      );
    }
    if (stableJson(rec.params) !== paramsKey) {
      throw new JournalMismatchError(
        opts.journalPath,
        `it was written with sampling parameters ${
          stableJson(rec.params)
        }, this run uses ${paramsKey}`,
      );
    }
    if (rec.error === null) answered.add(job.key);
  }
  const todo = jobs.filter((j) => !answered.has(j.key));

  // Live state.
  const started = performance.now();
  const status: EvaluateStatus = {
    total: todo.length,
    done: 0,
    skipped: jobs.length - todo.length,
    errors: 0,
    retries: 0,
    attempts: 0,
    inFlight: 0,
    backingOff: 0,
    backoffMs: 0,
    elapsedMs: 0,
  };
  const backoffUntil = new Map<string, number>();
  const attemptStarts: number[] = [];

  const progress: Progress | undefined = opts.progress === false ? undefined : createProgress(
    `answers · ${label}`,
    todo.length,
    typeof opts.progress === "object" ? opts.progress : {},
  );
  const detail = () => {
    const parts = [`retries ${status.retries}`, `errors ${status.errors}`];
    if (status.skipped) parts.unshift(`resumed past ${status.skipped}`);
    if (status.backingOff) {
      parts.push(`backing off ${status.backingOff} (≤${(status.backoffMs / 1000).toFixed(1)}s)`);
    }
    return parts.join(" · ");
  };
  const report = () => {
    const now = performance.now();
    status.elapsedMs = now - started;
    let longest = 0;
    for (const until of backoffUntil.values()) longest = Math.max(longest, until - now);
    status.backoffMs = Math.max(0, longest);
    progress?.update(status.done, detail());
    opts.onProgress?.({ ...status });
  };

  // Stop handling: an internal controller fed by the caller's signal and by fatal errors.
  const stop = new AbortController();
  let fatal: ErrorInfo | undefined;
  let writeError: unknown;
  const onCallerAbort = () => stop.abort(new Stopped());
  if (opts.signal?.aborted) stop.abort(new Stopped());
  else opts.signal?.addEventListener("abort", onCallerAbort, { once: true });

  const queue = new PQueue({
    concurrency,
    ...(opts.rpm ? { interval: 60_000 / opts.rpm, intervalCap: 1, strict: true } : {}),
  });
  stop.signal.addEventListener("abort", () => queue.clear(), { once: true });

  const attempt = async (job: Job): Promise<AttemptOutcome> => {
    if (stop.signal.aborted) throw new Stopped();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error("timeout")), requestTimeoutMs);
    status.attempts++;
    status.inFlight++;
    attemptStarts.push(performance.now());
    const t0 = performance.now();
    try {
      const answer = await opts.provider.answer(messagesOf(job.prompt), params, {
        signal: timeout.signal,
      });
      return { ok: true, answer };
    } catch (e) {
      const latencyMs = performance.now() - t0;
      if (timeout.signal.aborted) {
        return {
          ok: false,
          latencyMs,
          info: {
            code: "TIMEOUT",
            message: `no response within ${requestTimeoutMs} ms`,
            retryable: true,
          },
        };
      }
      const info = errorInfo(e);
      if (isFatal(info)) {
        // Abort here, before p-queue starts the next attempt, so none follows a fatal error.
        fatal ??= info;
        stop.abort(new Stopped());
      }
      return { ok: false, info, latencyMs };
    } finally {
      clearTimeout(timer);
      status.inFlight--;
    }
  };

  const baseRecord = (job: Job) => ({
    promptId: job.prompt.promptId,
    repeat: job.repeat,
    ...(job.prompt.row !== undefined ? { row: job.prompt.row } : {}),
    label,
    model,
    size,
    system: job.prompt.system,
    user: job.prompt.user,
    countries: [...(job.prompt.countries ?? [])],
    countryCount: job.prompt.countryCount ?? 0,
    continentCount: job.prompt.continentCount ?? 0,
    params: { ...params },
  });

  let journal: JournalWriter | undefined;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const write = async (rec: AnswerRecord) => {
    try {
      await journal!.append(rec);
    } catch (e) {
      writeError ??= e;
      stop.abort(new Stopped());
      throw e;
    }
  };

  const runJob = async (job: Job): Promise<void> => {
    for (let n = 1;; n++) {
      let outcome: AttemptOutcome;
      try {
        outcome = await queue.add(() => attempt(job), { priority: n > 1 ? 1 : 0 });
      } catch (e) {
        if (stop.signal.aborted) return; // cleared from the queue or refused to start
        throw e;
      }
      if (outcome.ok) {
        const a = outcome.answer;
        await write({
          ...baseRecord(job),
          text: a.text,
          ...(a.finishReason !== undefined ? { finishReason: a.finishReason } : {}),
          ...(a.inputTokens !== undefined ? { inputTokens: a.inputTokens } : {}),
          ...(a.outputTokens !== undefined ? { outputTokens: a.outputTokens } : {}),
          latencyMs: Math.max(0, a.latencyMs),
          ...(a.requestId !== undefined ? { requestId: a.requestId } : {}),
          attempts: n,
          error: null,
          answeredAt: new Date().toISOString(),
        });
        status.done++;
        report();
        return;
      }
      const info = outcome.info;
      if (isFatal(info)) {
        fatal ??= info;
        stop.abort(new Stopped());
        return;
      }
      if (!info.retryable || n >= policy.maxAttempts) {
        await write({
          ...baseRecord(job),
          text: null,
          latencyMs: Math.max(0, outcome.latencyMs),
          ...(info.requestId !== undefined ? { requestId: info.requestId } : {}),
          attempts: n,
          error: {
            code: info.code,
            ...(info.httpStatus !== undefined ? { httpStatus: info.httpStatus } : {}),
            message: info.message,
          },
          answeredAt: new Date().toISOString(),
        });
        status.done++;
        status.errors++;
        report();
        return;
      }
      const delay = backoffDelayMs(n, policy, info.retryAfterMs);
      status.retries++;
      status.backingOff++;
      backoffUntil.set(job.key, performance.now() + delay);
      report();
      try {
        await sleep(delay, stop.signal);
      } catch {
        return; // stopped while backing off: left for --resume
      } finally {
        status.backingOff--;
        backoffUntil.delete(job.key);
      }
    }
  };

  try {
    journal = await openJournal(opts.journalPath);
    report();
    // Keep rate, ETA and back-off countdowns moving while nothing completes (long Retry-After).
    ticker = setInterval(report, 1000);
    const results = await Promise.allSettled(todo.map(runJob));
    const crashed = results.find((r) => r.status === "rejected") as
      | PromiseRejectedResult
      | undefined;
    await queue.onIdle();
    if (writeError) throw writeError;
    if (crashed) throw crashed.reason;
  } finally {
    clearInterval(ticker);
    opts.signal?.removeEventListener("abort", onCallerAbort);
    await journal?.close();
    progress?.finish(detail());
  }
  if (fatal) throw new EvaluationAbortedError(fatal, status.done);

  // The journal is the source of truth: reread it.
  const after = await loadJournal(opts.journalPath);
  const byKey = new Map(after.records.map((r) => [answerKey(r.promptId, r.repeat), r]));
  const records: AnswerRecord[] = [];
  const failures: EvaluateFailure[] = [];
  const missing: EvaluateResult["missing"] = [];
  for (const job of jobs) {
    const rec = byKey.get(job.key);
    const where = {
      ...(job.prompt.row !== undefined ? { row: job.prompt.row } : {}),
      promptId: job.prompt.promptId,
      repeat: job.repeat,
    };
    if (!rec) {
      missing.push(where);
      continue;
    }
    records.push(rec);
    if (rec.error) failures.push({ ...where, attempts: rec.attempts, error: rec.error });
  }
  status.elapsedMs = performance.now() - started;
  const span = attemptStarts.length > 1 ? attemptStarts.at(-1)! - attemptStarts[0] : 0;
  return {
    label,
    journalPath: opts.journalPath,
    records,
    failures,
    missing,
    complete: missing.length === 0,
    stopped: stop.signal.aborted && !fatal && !writeError,
    status: { ...status },
    achievedRpm: span > 0 ? ((attemptStarts.length - 1) / span) * 60_000 : NaN,
    ignoredJournalRecords,
    tornJournalLines: after.tornLines,
    params,
  };
}

/** A one-paragraph plain-text summary of a result (for CLIs and notebooks). */
export function summarizeResult(r: EvaluateResult): string {
  const ok = r.records.filter((x) => x.error === null).length;
  const lines = [
    `${r.label}: ${ok} answered, ${r.failures.length} failed, ${r.missing.length} not reached` +
    ` (this session: ${r.status.done} done in ${(r.status.elapsedMs / 1000).toFixed(1)} s,` +
    ` ${r.status.attempts} requests, ${r.status.retries} retries` +
    `${r.status.skipped ? `, ${r.status.skipped} already in the journal` : ""})`,
  ];
  for (const f of r.failures.slice(0, 20)) {
    lines.push(
      `  row ${f.row ?? "?"} (${f.promptId}, repeat ${f.repeat}): ${f.error.code}` +
        `${
          f.error.httpStatus ? ` HTTP ${f.error.httpStatus}` : ""
        } after ${f.attempts} attempt(s): ` +
        f.error.message,
    );
  }
  if (r.failures.length > 20) lines.push(`  … and ${r.failures.length - 20} more`);
  return lines.join("\n");
}
