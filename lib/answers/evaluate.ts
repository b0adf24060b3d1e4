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
import { type ChatProvider, resolveSampling, type SamplingParams } from "./providers.ts";
import { type AnswerError, DEFAULT_RUN_CONFIG, type Prompt } from "../run/mod.ts";
import { type JournalIndex, journalRecords, openJournal, scanJournal } from "./journal.ts";
import { resolveRetryPolicy, type RetryPolicy } from "../backends/clova/mod.ts";
import type { ProgressOptions } from "../progress/mod.ts";
import { type EvaluateStatus, StatusBoard } from "./evaluationStatus.ts";
import { checkJournal, checkPrompts, type OpenPrompts, replayable } from "./promptCheck.ts";
import { BatchRun } from "./batchRun.ts";
import { EvaluationAbortedError } from "./evaluateErrors.ts";

export * from "./evaluateErrors.ts";
export type { EvaluateStatus } from "./evaluationStatus.ts";

/**
 * Prompts to answer: an array, or a re-readable stream (`open` is called once to check the
 * prompts before any request and once per repeat).
 */
export type PromptSource = readonly Prompt[] | { open(): AsyncIterable<Prompt> | Iterable<Prompt> };

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

/** Default of {@link EvaluateOptions.networkFailureLimit}. */
export const NETWORK_FAILURE_LIMIT = 20;

/** The seed sent with repeat `repeat`: `base + repeat` within the service's 1 … 2³²−1. */
export function repeatSeed(base: number | undefined, repeat: number): number {
  const b = base && base > 0 ? base : 1;
  return ((b - 1 + repeat) % 4294967295) + 1;
}

function checkPositiveInt(name: string, v: number) {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be an integer ≥ 1`);
}

/** The first permanent failures among the sheet's keys, in sheet order (at most 20). */
async function firstFailures(
  journal: JournalIndex,
  limit: { prompts: number; repeats: number },
): Promise<EvaluateFailure[]> {
  const failures: EvaluateFailure[] = [];
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
  return failures;
}

/**
 * Answers every prompt × repeat with `provider`, journaling each answer; see the module doc for
 * the streaming, concurrency, rate-limit, retry, resume and stop semantics.
 */
export async function evaluateSheet(opts: EvaluateOptions): Promise<EvaluateResult> {
  const concurrency = opts.concurrency ?? DEFAULT_RUN_CONFIG.concurrency;
  const repeats = opts.repeats ?? 1;
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
  const source = opts.prompts;
  const open: OpenPrompts = Array.isArray(source)
    ? () => source as readonly Prompt[]
    : replayable(() => (source as Exclude<PromptSource, readonly Prompt[]>).open());

  // What the journal holds, and every prompt, are checked before the first request.
  const journal = await scanJournal(opts.journalPath);
  checkJournal(journal, { path: opts.journalPath, resume: opts.resume, label, paramsOf });
  const prompts = await checkPrompts(open, journal, opts.journalPath, opts.check);
  const limit = { prompts, repeats };
  const before = journal.counts(limit);
  const everything = journal.counts();

  const writer = await openJournal(opts.journalPath);
  const board = new StatusBoard({
    label,
    total: prompts * repeats - before.answered,
    skipped: before.answered,
    stallMs: opts.stallMs ?? 10_000,
    progress: opts.progress,
    onProgress: opts.onProgress,
  });
  const run = new BatchRun(
    {
      provider: opts.provider,
      concurrency,
      rpm: opts.rpm,
      policy,
      paramsOf,
      requestTimeoutMs: opts.requestTimeoutMs ?? 120_000,
      networkFailureLimit: opts.networkFailureLimit ?? NETWORK_FAILURE_LIMIT,
      label,
      model: opts.model ?? description.model,
      size: opts.size ?? description.size ?? 0,
    },
    journal,
    writer,
    board,
  );
  const onCallerAbort = () => run.halt();
  if (opts.signal?.aborted) run.halt();
  else opts.signal?.addEventListener("abort", onCallerAbort, { once: true });
  try {
    board.report();
    await run.feed(open, prompts, repeats);
  } finally {
    opts.signal?.removeEventListener("abort", onCallerAbort);
    await writer.close();
    board.finish();
  }
  if (run.writeError) throw run.writeError;
  if (run.crash) throw run.crash;
  if (run.fatal) throw new EvaluationAbortedError(run.fatal, board.status.done);

  const after = journal.counts(limit);
  const missing = prompts * repeats - after.answered - after.failed;
  board.status.elapsedMs = performance.now() - board.started;
  return {
    label,
    journalPath: opts.journalPath,
    journal,
    prompts,
    repeats,
    answered: after.answered,
    failed: after.failed,
    missing,
    failures: after.failed > 0 ? await firstFailures(journal, limit) : [],
    complete: missing === 0,
    stopped: run.stop.signal.aborted && !run.failed,
    status: { ...board.status },
    achievedRpm: board.achievedRpm(),
    ignoredJournalRecords: everything.answered + everything.failed - before.answered -
      before.failed,
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
