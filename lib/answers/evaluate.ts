/**
 * The batch runner: answers a stream of prompts with bounded concurrency and a requests-per-minute
 * limit, journals every answer as soon as it arrives, and resumes.
 *
 * Design:
 * - **Streams, bounded buffers.** Prompts are read from their source as work frees up (at most
 *   `4 × concurrency` prompts are held at once); answers go straight to the journal. Nothing held
 *   in memory grows with the number of prompts except a few bytes per key (the journal index and
 *   the set of prompt ids), so a million prompts run in the memory of a hundred.
 * - **One queue, one limiter** — a single `p-queue` runs *attempts* (one HTTP request each):
 *   `concurrency` bounds requests in flight, and with `rpm` set its strict sliding window spaces
 *   request starts evenly, so every attempt — retries included — counts against the limit.
 * - **Retries live here, only here.** A provider makes one attempt per call and classifies its own
 *   failure (`retry`, `rate-limited` with the server's wait, `fatal`, `failed-row`; see
 *   `lib/answers/providers.ts`). `retry` and `rate-limited` wait a jittered exponential backoff — at least
 *   the server's wait — *outside* the queue (holding no concurrency slot), then re-enter it ahead
 *   of fresh work. `failed-row`, or the last attempt, is journaled with its error and the run goes
 *   on; `fatal` stops the run ({@link EvaluationAbortedError}) with nothing journaled for it.
 * - **Repeats are samples**: repeat `r` of every prompt is sent with seed `base + r` (`base` =
 *   `params.seed`, default 1), recorded in the journal line's `params`.
 * - **Journal** (`lib/answers/journal.ts`): one synced JSON line per answer, so a crash loses only the
 *   requests in flight. `resume` skips keys already answered and retries the ones that failed;
 *   before any request, every prompt is checked against what the journal holds for its position.
 * - **Stop** (`signal`): no new attempt starts, back-offs are cancelled, in-flight requests finish
 *   and are journaled; the result says `stopped` and how much is missing.
 * - **Progress** says why it waits: requests rate-limited (with the server's HTTP status and
 *   code), backing off after errors, or stalled; the ETA counts the longest wait.
 *
 * @module
 */
import PQueue from "p-queue";
import type { ChatMessage, ChatProvider, ProviderFailure, SamplingParams } from "./providers.ts";
import { resolveSampling } from "./providers.ts";
import {
  type AnswerError,
  type AnswerRecord,
  DEFAULT_RUN_CONFIG,
  type Prompt,
} from "../run/schema.ts";
import {
  type JournalIndex,
  journalRecords,
  KeyState,
  openJournal,
  promptFingerprint,
  scanJournal,
  stableJson,
} from "./journal.ts";
import {
  backoffDelayMs,
  resolveRetryPolicy,
  type RetryPolicy,
  sleep,
} from "../backends/clova/backoff.ts";
import {
  createProgress,
  formatDuration,
  type Progress,
  type ProgressOptions,
} from "../io/progress.ts";

/**
 * Prompts to answer: an array, or a re-readable stream (`open` is called once to check the
 * prompts before any request and once per repeat).
 */
export type PromptSource = readonly Prompt[] | { open(): AsyncIterable<Prompt> | Iterable<Prompt> };

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

/** Options of {@link evaluateSheet}. */
export interface EvaluateOptions {
  prompts: PromptSource;
  provider: ChatProvider;
  /** Journal file (`answers/<label>.jsonl`). */
  journalPath: string;
  /** Answer label (default: `provider.label`). */
  label?: string;
  /** Base model recorded with answers (default: `provider.describe().model`). */
  model?: string;
  /** Tuning-set size recorded with answers (default: `provider.describe().size ?? 0`). */
  size?: number;
  /** Sampling parameters over the cookbook defaults; `seed` is the base of the repeats' seeds. */
  params?: Partial<SamplingParams>;
  /** Requests in flight at most (default: the experiment's, 16). */
  concurrency?: number;
  /** Request starts per minute at most (default: unlimited). Counts retries too. */
  rpm?: number;
  /** Answers per prompt (default 1); keyed `repeat` 0…N−1. */
  repeats?: number;
  /** Continue an existing journal (default false: an existing non-empty journal is an error). */
  resume?: boolean;
  /** Attempts per key, retries included (default: the experiment's, 6). */
  maxAttempts?: number;
  /** Back-off timing (default 500 ms base, 30 s cap; a server's wait wins when longer). */
  backoff?: Partial<Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">>;
  /** Per-attempt timeout (default 120 s); a timeout is retried. */
  requestTimeoutMs?: number;
  /** A request in flight this long counts as stalled in progress (default 10 s). */
  stallMs?: number;
  /** Checks each prompt before any request (throw to refuse the sheet). */
  check?: (prompt: Prompt, index: number) => void;
  /** Abort = stop starting work; in-flight requests finish and are journaled. */
  signal?: AbortSignal;
  /** Progress display: `true` (default) = `createProgress` auto mode, `false` = none. */
  progress?: boolean | ProgressOptions;
  /** Called on every state change with the live counters. */
  onProgress?: (status: EvaluateStatus) => void;
  /**
   * Stop the run when this many requests, the session's first, all failed on the network
   * (no response at all: DNS, TLS, connection) — the service is unreachable, so waiting out
   * every prompt's retries would only delay saying so (default 20; 0 never stops).
   */
  networkFailureLimit?: number;
}

/** A key that could not be answered. */
export interface EvaluateFailure {
  promptId: string;
  index: number;
  repeat: number;
  attempts: number;
  error: AnswerError;
}

/** What {@link evaluateSheet} did. */
export interface EvaluateResult {
  label: string;
  journalPath: string;
  /** The journal's index: where each key's record is (stream them with `journalRecords`). */
  journal: JournalIndex;
  /** Prompts in the source. */
  prompts: number;
  repeats: number;
  /** Keys with an answer, whole journal (this sheet × repeats). */
  answered: number;
  /** Keys whose record is a permanent failure. */
  failed: number;
  /** Keys with no record (the run was stopped before reaching them). */
  missing: number;
  /** The first permanent failures, in sheet order (at most 20). */
  failures: EvaluateFailure[];
  /** Every key has a record (answer or permanent failure). */
  complete: boolean;
  /** The run ended because `signal` aborted. */
  stopped: boolean;
  /** Final counters of this session. */
  status: EvaluateStatus;
  /** Achieved request-start rate over this session, per minute (NaN with < 2 attempts). */
  achievedRpm: number;
  /** Journal keys outside this sheet × repeats (left alone). */
  ignoredJournalRecords: number;
  /** A torn last line (crash mid-write) was found and skipped. */
  tornJournalLines: number;
  /** Sampling parameters (without the per-repeat seed). */
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

/** The prompts themselves are unusable (a repeated id, a failed check). */
export class PromptSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PromptSourceError";
  }
}

/** The run hit an error that no prompt can get past (credentials, unknown task or model). */
export class EvaluationAbortedError extends Error {
  constructor(readonly failure: ProviderFailure, readonly journaled: number) {
    super(
      `evaluation stopped: ${failure.code}${
        failure.httpStatus ? ` (HTTP ${failure.httpStatus})` : ""
      }: ${failure.message}${failure.advice ? ` — ${failure.advice}` : ""}; ` +
        `${journaled} answer(s) journaled, fix it and rerun with --resume.`,
    );
    this.name = "EvaluationAbortedError";
  }
}

/** Default of {@link EvaluateOptions.networkFailureLimit}. */
export const NETWORK_FAILURE_LIMIT = 20;

/** The seed sent with repeat `repeat`: `base + repeat` within the service's 1 … 2³²−1. */
export function repeatSeed(base: number | undefined, repeat: number): number {
  const b = base && base > 0 ? base : 1;
  return ((b - 1 + repeat) % 4294967295) + 1;
}

function messagesOf(p: Prompt): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (p.system.trim() !== "") messages.push({ role: "system", content: p.system });
  messages.push({ role: "user", content: p.user });
  return messages;
}

function checkPositiveInt(name: string, v: number) {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be an integer ≥ 1`);
}

function failureCode(f: { code: string; httpStatus?: number }): string {
  return f.httpStatus ? `HTTP ${f.httpStatus}, ${f.code}` : f.code;
}

/**
 * The prompt ids seen so far, as two 32-bit hashes each (8 bytes an id) in an open-addressing
 * table, so a million ids take 16 MB instead of a hundred. `add` says false when an id with both
 * hashes equal was added before: almost surely the same id (a false alarm has odds of about one
 * in 10⁸ at a million ids; the caller checks the id itself then).
 */
class IdHashes {
  #table = new Uint32Array(2 * 1024);
  #size = 0;

  add(id: string): boolean {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 = (h1 | 1) >>> 0;
    h2 = h2 >>> 0;
    if (2 * (this.#size + 1) > this.#table.length / 2) this.#grow();
    return this.#put(h1, h2);
  }

  #put(h1: number, h2: number): boolean {
    const mask = this.#table.length / 2 - 1;
    for (let slot = h1 & mask;; slot = (slot + 1) & mask) {
      const a = this.#table[2 * slot];
      if (a === 0) {
        this.#table[2 * slot] = h1;
        this.#table[2 * slot + 1] = h2;
        this.#size++;
        return true;
      }
      if (a === h1 && this.#table[2 * slot + 1] === h2) return false;
    }
  }

  #grow() {
    const old = this.#table;
    this.#table = new Uint32Array(old.length * 2);
    this.#size = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.#put(old[i], old[i + 1]);
  }
}

/** How many prompts of the source have id `id` (read again: only when a hash said "twice"). */
async function occurrences(
  open: () => AsyncIterable<Prompt> | Iterable<Prompt>,
  id: string,
): Promise<number> {
  let n = 0;
  for await (const p of open()) if (p.id === id) n++;
  return n;
}

interface Job {
  prompt: Prompt;
  index: number;
  repeat: number;
}

class Stopped extends Error {
  constructor() {
    super("stopped");
    this.name = "Stopped";
  }
}

/**
 * Answers every prompt × repeat with `provider`, journaling each answer; see the module doc for
 * the streaming, concurrency, rate-limit, retry, resume and stop semantics.
 */
export async function evaluateSheet(opts: EvaluateOptions): Promise<EvaluateResult> {
  const concurrency = opts.concurrency ?? DEFAULT_RUN_CONFIG.concurrency;
  const repeats = opts.repeats ?? 1;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 120_000;
  const stallMs = opts.stallMs ?? 10_000;
  checkPositiveInt("concurrency", concurrency);
  checkPositiveInt("repeats", repeats);
  if (opts.rpm !== undefined && opts.rpm !== 0 && !(opts.rpm > 0)) {
    throw new RangeError("rpm must be > 0");
  }
  const policy = resolveRetryPolicy({
    ...opts.backoff,
    maxAttempts: opts.maxAttempts ?? DEFAULT_RUN_CONFIG.maxAttempts,
  });
  const params = resolveSampling(opts.params);
  const paramsOf = Array.from({ length: repeats }, (_, r) => ({
    ...params,
    seed: repeatSeed(params.seed, r),
  }));
  const description = opts.provider.describe();
  const label = opts.label ?? opts.provider.label;
  const model = opts.model ?? description.model;
  const size = opts.size ?? description.size ?? 0;
  const open = () => (Array.isArray(opts.prompts) ? opts.prompts : (opts.prompts as {
    open(): AsyncIterable<Prompt> | Iterable<Prompt>;
  }).open());

  // What the journal already holds.
  const journal = await scanJournal(opts.journalPath);
  if (journal.lines > 0 && !opts.resume) {
    throw new JournalExistsError(opts.journalPath, journal.lines);
  }
  for (const other of journal.labels) {
    if (other !== label) {
      throw new JournalMismatchError(
        opts.journalPath,
        `it holds answers labelled "${other}", this run is "${label}"`,
      );
    }
  }
  for (const [repeat, seen] of journal.paramsByRepeat) {
    if (repeat >= repeats) continue;
    const want = stableJson(paramsOf[repeat]);
    for (const got of seen) {
      if (got !== want) {
        throw new JournalMismatchError(
          opts.journalPath,
          `repeat ${repeat} was answered with sampling parameters ${got}, this run uses ${want}`,
        );
      }
    }
  }

  // Every prompt is checked before the first request: ids unique, same prompts as journaled.
  let prompts = 0;
  {
    const ids = new IdHashes();
    for await (const p of open()) {
      const i = prompts++;
      if (!ids.add(p.id) && (await occurrences(open, p.id)) > 1) {
        throw new PromptSourceError(`prompt id ${p.id} appears twice: ids must be unique`);
      }
      const fp = journal.fingerprint(i);
      if (fp !== 0 && fp !== promptFingerprint(p)) {
        throw new JournalMismatchError(
          opts.journalPath,
          `prompt ${p.id} (position ${i + 1}) differs from the prompt journaled at that ` +
            "position (another prompt sheet?)",
        );
      }
      opts.check?.(p, i);
    }
  }
  const limit = { prompts, repeats };
  const before = journal.counts(limit);
  const everything = journal.counts();
  const ignoredJournalRecords = everything.answered + everything.failed - before.answered -
    before.failed;

  // Live state.
  const started = performance.now();
  const status: EvaluateStatus = {
    total: prompts * repeats - before.answered,
    done: 0,
    skipped: before.answered,
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
  const waiting = new Map<Job, number>();
  const inFlightSince = new Set<{ t: number }>();
  let firstAttempt = NaN;
  let lastAttempt = NaN;

  const progress: Progress | undefined = opts.progress === false ? undefined : createProgress(
    `answers · ${label}`,
    status.total,
    typeof opts.progress === "object" ? opts.progress : {},
  );
  const detail = () => {
    const parts: string[] = [];
    if (status.skipped) parts.push(`resumed past ${status.skipped}`);
    const wait = status.waitMs > 0 ? ` ≤${formatDuration(status.waitMs / 1000)}` : "";
    if (status.rateLimited) {
      parts.push(`rate-limited (${status.rateLimitCode}): ${status.rateLimited} waiting${wait}`);
    }
    if (status.backingOff) {
      parts.push(`backing off (${status.backoffCode}): ${status.backingOff}${wait}`);
    }
    if (status.stalled) parts.push(`${status.stalled} stalled > ${formatDuration(stallMs / 1000)}`);
    parts.push(`retries ${status.retries}`, `errors ${status.errors}`);
    return parts.join(" · ");
  };
  const eta = () => {
    const remaining = status.total - status.done;
    const rate = status.done / Math.max(1e-3, (performance.now() - started) / 1000);
    if (remaining <= 0) return 0;
    const waiters = status.rateLimited + status.backingOff;
    const byRate = rate > 0 ? remaining / rate : NaN;
    // Keys waiting out a back-off finish no sooner than their wait; the rest go at the rate.
    const byWait = waiters > 0
      ? status.waitMs / 1000 + (rate > 0 ? Math.max(0, remaining - waiters) / rate : 0)
      : NaN;
    return Number.isNaN(byWait) ? byRate : Math.max(byWait, Number.isNaN(byRate) ? 0 : byRate);
  };
  const report = () => {
    status.elapsedMs = performance.now() - started;
    progress?.update(status.done, detail(), undefined, eta());
    opts.onProgress?.({ ...status });
  };
  const refreshWaits = () => {
    const now = performance.now();
    let longest = 0;
    for (const until of waiting.values()) longest = Math.max(longest, until - now);
    status.waitMs = Math.max(0, longest);
    let stalled = 0;
    for (const s of inFlightSince) if (now - s.t > stallMs) stalled++;
    status.stalled = stalled;
    report();
  };

  // Stop handling: an internal controller fed by the caller's signal, fatal errors and write errors.
  const stop = new AbortController();
  let fatal: ProviderFailure | undefined;
  let writeError: unknown;
  const onCallerAbort = () => stop.abort(new Stopped());
  if (opts.signal?.aborted) stop.abort(new Stopped());
  else opts.signal?.addEventListener("abort", onCallerAbort, { once: true });

  const queue = new PQueue({
    concurrency,
    ...(opts.rpm ? { interval: 60_000 / opts.rpm, intervalCap: 1, strict: true } : {}),
  });

  type Outcome = Awaited<ReturnType<ChatProvider["answer"]>>;
  const networkFailureLimit = opts.networkFailureLimit ?? NETWORK_FAILURE_LIMIT;
  let networkFailures = 0;
  let reached = false;
  /** Stops the run when its first requests all failed on the network. */
  const watchNetwork = (outcome: Outcome) => {
    if (reached || networkFailureLimit <= 0) return;
    if (outcome.ok || outcome.failure.code !== "NETWORK") {
      reached = true;
      return;
    }
    if (++networkFailures < networkFailureLimit) return;
    fatal ??= {
      ...outcome.failure,
      kind: "fatal",
      message: `the first ${networkFailures} requests all failed on the network (last: ` +
        `${outcome.failure.message})`,
      advice: "check the network connection and the service's address",
    };
    stop.abort(new Stopped());
  };
  const attempt = async (job: Job): Promise<Outcome> => {
    if (stop.signal.aborted) throw new Stopped();
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new Error(`no response within ${requestTimeoutMs} ms`)),
      requestTimeoutMs,
    );
    status.attempts++;
    status.inFlight++;
    const now = performance.now();
    if (Number.isNaN(firstAttempt)) firstAttempt = now;
    lastAttempt = now;
    const since = { t: now };
    inFlightSince.add(since);
    try {
      const outcome = await opts.provider.answer(messagesOf(job.prompt), paramsOf[job.repeat], {
        signal: timeout.signal,
      });
      if (!outcome.ok && outcome.failure.kind === "fatal") {
        // Stop here, before the queue starts another attempt, so none follows a fatal error.
        fatal ??= outcome.failure;
        stop.abort(new Stopped());
      }
      watchNetwork(outcome);
      return outcome;
    } finally {
      clearTimeout(timer);
      inFlightSince.delete(since);
      status.inFlight--;
    }
  };

  const writer = await openJournal(opts.journalPath);
  const write = async (rec: AnswerRecord) => {
    try {
      const at = await writer.append(rec);
      journal.add(rec, at.offset, at.length);
    } catch (e) {
      writeError ??= e;
      stop.abort(new Stopped());
      throw e;
    }
  };
  const baseRecord = (job: Job) => ({
    prompt: job.prompt,
    index: job.index,
    repeat: job.repeat,
    label,
    model,
    size,
    params: paramsOf[job.repeat],
  });

  const runJob = async (job: Job): Promise<void> => {
    for (let n = 1;; n++) {
      let outcome: Outcome;
      try {
        outcome = await queue.add(() => attempt(job), { priority: n > 1 ? 1 : 0 });
      } catch (e) {
        if (e instanceof Stopped) return; // refused to start after a stop
        throw e;
      }
      if (outcome.ok) {
        const a = outcome.answer;
        await write({
          ...baseRecord(job),
          text: a.text,
          ...(a.finishReason !== undefined ? { finishReason: a.finishReason } : {}),
          usage: {
            ...(a.inputTokens !== undefined ? { inputTokens: a.inputTokens } : {}),
            ...(a.outputTokens !== undefined ? { outputTokens: a.outputTokens } : {}),
          },
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
      const f = outcome.failure;
      if (f.kind === "fatal") return;
      const waits = f.kind === "retry" || f.kind === "rate-limited";
      if (!waits || n >= policy.maxAttempts) {
        await write({
          ...baseRecord(job),
          text: null,
          usage: {},
          latencyMs: Math.max(0, f.latencyMs),
          ...(f.requestId !== undefined ? { requestId: f.requestId } : {}),
          attempts: n,
          error: {
            kind: f.kind,
            code: f.code,
            ...(f.httpStatus !== undefined ? { httpStatus: f.httpStatus } : {}),
            message: f.message,
          },
          answeredAt: new Date().toISOString(),
        });
        status.done++;
        status.errors++;
        report();
        return;
      }
      const delay = backoffDelayMs(n, policy, f.waitMs);
      const limited = f.kind === "rate-limited";
      status.retries++;
      if (limited) {
        status.rateLimited++;
        status.rateLimitCode = failureCode(f);
      } else {
        status.backingOff++;
        status.backoffCode = failureCode(f);
      }
      waiting.set(job, performance.now() + delay);
      status.waitMs = Math.max(status.waitMs, delay);
      report();
      try {
        await sleep(delay, stop.signal);
      } catch {
        return; // stopped while waiting: left for --resume
      } finally {
        waiting.delete(job);
        if (limited) status.rateLimited--;
        else status.backingOff--;
      }
    }
  };

  // Feed the queue from the stream, holding at most `window` jobs at a time.
  const window = concurrency * 4;
  const alive = new Set<Promise<void>>();
  let crash: unknown;
  const ticker = setInterval(refreshWaits, 1000);
  try {
    report();
    feed: for (let repeat = 0; repeat < repeats; repeat++) {
      let index = 0;
      for await (const prompt of open()) {
        const i = index++;
        if (i >= prompts) break;
        if (journal.state(i, repeat) === KeyState.Answered) continue;
        while (alive.size >= window && !stop.signal.aborted) await Promise.race(alive);
        if (stop.signal.aborted) break feed;
        const p: Promise<void> = runJob({ prompt, index: i, repeat }).catch((e) => {
          crash ??= e;
          stop.abort(new Stopped());
        }).finally(() => alive.delete(p));
        alive.add(p);
      }
    }
    await Promise.all(alive);
    await queue.onIdle();
  } finally {
    clearInterval(ticker);
    opts.signal?.removeEventListener("abort", onCallerAbort);
    await writer.close();
    refreshWaits();
    progress?.finish(detail());
  }
  if (writeError) throw writeError;
  if (crash) throw crash;
  if (fatal) throw new EvaluationAbortedError(fatal, status.done);

  const after = journal.counts(limit);
  const failures: EvaluateFailure[] = [];
  if (after.failed > 0) {
    for await (const rec of journalRecords(journal, limit)) {
      if (!rec.error) continue;
      failures.push({
        promptId: rec.prompt.id,
        index: rec.index,
        repeat: rec.repeat,
        attempts: rec.attempts,
        error: rec.error,
      });
      if (failures.length >= 20) break;
    }
  }
  const missing = prompts * repeats - after.answered - after.failed;
  status.elapsedMs = performance.now() - started;
  const span = lastAttempt - firstAttempt;
  return {
    label,
    journalPath: opts.journalPath,
    journal,
    prompts,
    repeats,
    answered: after.answered,
    failed: after.failed,
    missing,
    failures,
    complete: missing === 0,
    stopped: stop.signal.aborted && !fatal && !writeError && !crash,
    status: { ...status },
    achievedRpm: status.attempts > 1 && span > 0 ? ((status.attempts - 1) / span) * 60_000 : NaN,
    ignoredJournalRecords,
    tornJournalLines: journal.tornLines,
    params,
  };
}

/** A one-paragraph plain-text summary of a result (for CLIs and notebooks). */
export function summarizeResult(r: EvaluateResult): string {
  const lines = [
    `${r.label}: ${r.answered} answered, ${r.failed} failed, ${r.missing} not reached` +
    ` (this session: ${r.status.done} done in ${(r.status.elapsedMs / 1000).toFixed(1)} s,` +
    ` ${r.status.attempts} requests, ${r.status.retries} retries` +
    `${r.status.skipped ? `, ${r.status.skipped} already in the journal` : ""})`,
  ];
  for (const f of r.failures) {
    lines.push(
      `  ${f.promptId} (repeat ${f.repeat}): ${f.error.code}` +
        `${
          f.error.httpStatus ? ` HTTP ${f.error.httpStatus}` : ""
        } after ${f.attempts} attempt(s): ` +
        f.error.message,
    );
  }
  if (r.failed > r.failures.length) lines.push(`  … and ${r.failed - r.failures.length} more`);
  return lines.join("\n");
}
