/**
 * One session of the batch runner: a single `p-queue` of attempts (one HTTP request each) under
 * the concurrency and requests-per-minute limits, the retries of each key with their back-off
 * outside the queue, the journal write of every answer or permanent failure, and the stop — by
 * the caller, a fatal failure, a journal that cannot be written, or a service that never answered.
 *
 * @module
 */
import PQueue from "p-queue";
import type { ChatMessage, ChatProvider, ProviderFailure, SamplingParams } from "./providers.ts";
import type { AnswerRecord, Prompt } from "../run/mod.ts";
import { type JournalIndex, type JournalWriter, KeyState } from "./journal.ts";
import { backoffDelayMs, type RetryPolicy, sleep } from "../backends/clova/mod.ts";
import type { StatusBoard } from "./evaluationStatus.ts";
import type { OpenPrompts } from "./promptCheck.ts";

/** How a session runs: the provider, its limits and what each answer is recorded with. */
export interface BatchSettings {
  provider: ChatProvider;
  concurrency: number;
  rpm?: number;
  policy: RetryPolicy;
  /** Sampling parameters per repeat (each with its own seed). */
  paramsOf: readonly SamplingParams[];
  requestTimeoutMs: number;
  networkFailureLimit: number;
  label: string;
  model: string;
  size: number;
}

interface Job {
  prompt: Prompt;
  index: number;
  repeat: number;
}

type Outcome = Awaited<ReturnType<ChatProvider["answer"]>>;

class Stopped extends Error {
  constructor() {
    super("stopped");
    this.name = "Stopped";
  }
}

function messagesOf(p: Prompt): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (p.system.trim() !== "") messages.push({ role: "system", content: p.system });
  messages.push({ role: "user", content: p.user });
  return messages;
}

/** A session of answering; {@link BatchRun.feed} runs it, its fields say how it ended. */
export class BatchRun {
  /** Aborted by {@link BatchRun.halt}. */
  readonly stop = new AbortController();
  /** The failure no prompt can get past, when one stopped the run. */
  fatal?: ProviderFailure;
  /** The journal write that failed, when one stopped the run. */
  writeError?: unknown;
  /** An unexpected error of a key's work, when one stopped the run. */
  crash?: unknown;
  readonly #queue: PQueue;
  #networkFailures = 0;
  #reached = false;

  constructor(
    readonly settings: BatchSettings,
    readonly journal: JournalIndex,
    readonly writer: JournalWriter,
    readonly board: StatusBoard,
  ) {
    this.#queue = new PQueue({
      concurrency: settings.concurrency,
      ...(settings.rpm ? { interval: 60_000 / settings.rpm, intervalCap: 1, strict: true } : {}),
    });
  }

  /** Stops the run: no new attempt starts, back-offs end, in-flight requests finish. */
  halt(): void {
    this.stop.abort(new Stopped());
  }

  /** Whether something stopped the run other than the caller. */
  get failed(): boolean {
    return Boolean(this.fatal || this.writeError || this.crash);
  }

  /**
   * Answers every key the journal has not answered, reading the prompts as work frees up: at
   * most four jobs per concurrency slot are held at once.
   */
  async feed(open: OpenPrompts, prompts: number, repeats: number): Promise<void> {
    const window = this.settings.concurrency * 4;
    const alive = new Set<Promise<void>>();
    const stop = this.stop.signal;
    feed: for (let repeat = 0; repeat < repeats; repeat++) {
      let index = 0;
      for await (const prompt of open()) {
        const i = index++;
        if (i >= prompts) break;
        if (this.journal.state(i, repeat) === KeyState.Answered) continue;
        while (alive.size >= window && !stop.aborted) await Promise.race(alive);
        if (stop.aborted) break feed;
        const p: Promise<void> = this.#runJob({ prompt, index: i, repeat }).catch((e) => {
          this.crash ??= e;
          this.halt();
        }).finally(() => alive.delete(p));
        alive.add(p);
      }
    }
    await Promise.all(alive);
    await this.#queue.onIdle();
  }

  /** Stops the run when its first requests all failed on the network. */
  #watchNetwork(outcome: Outcome): void {
    const limit = this.settings.networkFailureLimit;
    if (this.#reached || limit <= 0) return;
    if (outcome.ok || outcome.failure.code !== "NETWORK") {
      this.#reached = true;
      return;
    }
    if (++this.#networkFailures < limit) return;
    this.fatal ??= {
      ...outcome.failure,
      kind: "fatal",
      message: `the first ${this.#networkFailures} requests all failed on the network (last: ` +
        `${outcome.failure.message})`,
      advice: "check the network connection and the service's address",
    };
    this.halt();
  }

  /** One request for `job`, timed out after the per-attempt timeout. */
  async #attempt(job: Job): Promise<Outcome> {
    if (this.stop.signal.aborted) throw new Stopped();
    const { requestTimeoutMs, provider, paramsOf } = this.settings;
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new Error(`no response within ${requestTimeoutMs} ms`)),
      requestTimeoutMs,
    );
    const ended = this.board.attemptStarted();
    try {
      const outcome = await provider.answer(messagesOf(job.prompt), paramsOf[job.repeat], {
        signal: timeout.signal,
      });
      if (!outcome.ok && outcome.failure.kind === "fatal") {
        // Stop here, before the queue starts another attempt, so none follows a fatal error.
        this.fatal ??= outcome.failure;
        this.halt();
      }
      this.#watchNetwork(outcome);
      return outcome;
    } finally {
      clearTimeout(timer);
      ended();
    }
  }

  async #write(rec: AnswerRecord): Promise<void> {
    try {
      const at = await this.writer.append(rec);
      this.journal.add(rec, at.offset, at.length);
    } catch (e) {
      this.writeError ??= e;
      this.halt();
      throw e;
    }
  }

  #baseRecord(job: Job) {
    const { label, model, size, paramsOf } = this.settings;
    return {
      prompt: job.prompt,
      index: job.index,
      repeat: job.repeat,
      label,
      model,
      size,
      params: paramsOf[job.repeat],
    };
  }

  /**
   * Attempts `job` until it is answered, fails for good (journaled with its error) or the run
   * stops (left for a resume); a retry waits its back-off outside the queue, then goes ahead of
   * fresh work.
   */
  async #runJob(job: Job): Promise<void> {
    const policy = this.settings.policy;
    for (let n = 1;; n++) {
      let outcome: Outcome;
      try {
        outcome = await this.#queue.add(() => this.#attempt(job), { priority: n > 1 ? 1 : 0 });
      } catch (e) {
        if (e instanceof Stopped) return; // refused to start after a stop
        throw e;
      }
      if (outcome.ok) {
        const a = outcome.answer;
        await this.#write({
          ...this.#baseRecord(job),
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
        this.board.finished(false);
        return;
      }
      const f = outcome.failure;
      if (f.kind === "fatal") return;
      if ((f.kind !== "retry" && f.kind !== "rate-limited") || n >= policy.maxAttempts) {
        await this.#write({
          ...this.#baseRecord(job),
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
        this.board.finished(true);
        return;
      }
      const delay = backoffDelayMs(n, policy, f.waitMs);
      const waited = this.board.waiting(job, delay, { ...f, kind: f.kind });
      try {
        await sleep(delay, this.stop.signal);
      } catch {
        return; // stopped while waiting: left for --resume
      } finally {
        waited();
      }
    }
  }
}
