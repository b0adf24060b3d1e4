/**
 * The emulator's second engine: tuning tasks on the local neural models (`local-1m`,
 * `local-250k`, see `lib/backends/local/`) really train — a LoRA adapter per task, one task at a time,
 * in creation order — and report their real progress (step, epoch, per-step train loss) through
 * the same task objects as the reference learner's. A finished task's adapter is a GGUF file
 * under `<stateDir>/adapters/`, so tasks survive a restart; a task that was waiting or running
 * when the process stopped is trained again from the start, from its dataset kept under
 * `<stateDir>/datasets/`. Chat completions for these models and tasks are answered by the
 * local model (`LocalEngine`).
 *
 * Settings: epochs as requested; rank, alpha, learning rate and batch size are the local model's
 * own (`LOCAL_MODELS[…].tuning`), recorded in the task, because the cookbook's 1e-4 and the
 * service's defaults are tuned for HyperCLOVA X, not for a model of a million parameters.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../../io/atomicFile.ts";
import { LocalEngine } from "../local/engine.ts";
import { LOCAL_MODELS } from "../local/models.ts";
import type { LocalModelName } from "../local/names.ts";
import { saveAdapter, tune } from "../local/tune.ts";
import type { DatasetRow } from "./dataset.ts";
import { hash32 } from "../../io/hash.ts";

/** Progress of a local task, kept in its record (and checked when the record is loaded). */
export const localTaskStateSchema = z.object({
  status: z.enum(["WAIT", "RUNNING", "SUCCEEDED", "FAILED"]),
  totalSteps: z.number(),
  stepsPerEpoch: z.number(),
  /** Adapter file, relative to the tuner's folder (set when SUCCEEDED). */
  adapter: z.string().nullable(),
  startedMs: z.number().nullable(),
  endMs: z.number().nullable(),
  changedMs: z.number(),
  learningRate: z.number(),
  rank: z.number(),
  alpha: z.number(),
  batch: z.number(),
  /** Tokens (prompt and completion) processed per second of training, when finished. */
  tokensPerSecond: z.number().nullable(),
});

/** Progress of a local task, kept in its record. */
export type LocalTaskState = z.infer<typeof localTaskStateSchema>;

/** The parts of a task record the queue reads and updates. */
export interface LocalTaskRecord {
  id: string;
  params: { model: string; trainEpochs: number };
  outcome:
    | { ok: true; stepLoss: number[] }
    | { ok: false; failureReason: string; message: string };
  local?: LocalTaskState;
}

/** The settings a new local task trains with. */
export function localTaskState(
  model: LocalModelName,
  rows: number,
  epochs: number,
  now: number,
): LocalTaskState {
  const t = LOCAL_MODELS[model].tuning;
  const stepsPerEpoch = Math.ceil(rows / t.batch);
  return {
    status: "WAIT",
    totalSteps: stepsPerEpoch * epochs,
    stepsPerEpoch,
    adapter: null,
    startedMs: null,
    endMs: null,
    changedMs: now,
    learningRate: t.learningRate,
    rank: t.rank,
    alpha: t.alpha,
    batch: t.batch,
    tokensPerSecond: null,
  };
}

interface Job {
  rec: LocalTaskRecord;
  rows: DatasetRow[];
}

/** Trains local tasks one at a time and answers their chats. */
export class LocalTuner {
  readonly engine: LocalEngine;
  #queue: Job[] = [];
  #running: Promise<void> | undefined;
  #abort = new AbortController();
  #dir: string;

  constructor(
    readonly opts: {
      /** Where adapters and datasets go (a temporary folder when the emulator has none). */
      dir: string;
      persist: (rec: LocalTaskRecord) => Promise<void>;
      now: () => number;
      weightsDir?: string;
    },
  ) {
    this.engine = new LocalEngine({ weightsDir: opts.weightsDir });
    this.#dir = opts.dir;
  }

  /** Keeps a task's dataset so the task can be trained again after a restart. */
  async keepDataset(id: string, bytes: Uint8Array): Promise<void> {
    const path = this.datasetPath(id);
    await Deno.mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes);
  }

  /** Absolute path of a file the tuner keeps (an adapter's `adapters/<id>.gguf`). */
  resolve(relative: string): string {
    return join(this.#dir, relative);
  }

  /** Path of a task's kept dataset. */
  datasetPath(id: string): string {
    return join(this.#dir, "datasets", `${id}.csv`);
  }

  /** Queues a task for training. */
  enqueue(rec: LocalTaskRecord, rows: DatasetRow[]): void {
    this.#queue.push({ rec, rows });
    this.#running ??= this.#drain();
  }

  async #drain(): Promise<void> {
    while (this.#queue.length && !this.#abort.signal.aborted) {
      const job = this.#queue.shift()!;
      await this.#train(job).catch(() => {});
    }
    this.#running = undefined;
  }

  async #train({ rec, rows }: Job): Promise<void> {
    const st = rec.local!;
    const o = rec.outcome;
    if (!o.ok) return;
    const now = this.opts.now;
    const model = rec.params.model as LocalModelName;
    st.status = "RUNNING";
    st.startedMs = st.changedMs = now();
    o.stepLoss.length = 0;
    await this.opts.persist(rec);
    let lastSave = now();
    try {
      const base = await this.engine.base(model);
      const result = await tune(
        base,
        rows.map((r) => ({
          messages: [
            ...(r.system ? [{ role: "system" as const, content: r.system }] : []),
            { role: "user" as const, content: r.text },
          ],
          completion: r.completion,
        })),
        {
          epochs: rec.params.trainEpochs,
          learningRate: st.learningRate,
          rank: st.rank,
          alpha: st.alpha,
          batch: st.batch,
          seed: hash32(rec.id),
          signal: this.#abort.signal,
          onStep: (s) => {
            o.stepLoss.push(Math.round(s.loss * 1e6) / 1e6);
            st.changedMs = now();
            if (now() - lastSave > 5000) {
              lastSave = now();
              void this.opts.persist(rec);
            }
          },
        },
      );
      const adapter = join("adapters", `${rec.id}.gguf`);
      await Deno.mkdir(this.resolve("adapters"), { recursive: true });
      await saveAdapter(this.resolve(adapter), base, result.lora);
      result.lora.params.free();
      st.adapter = adapter;
      st.status = "SUCCEEDED";
      st.tokensPerSecond = Math.round(result.processedTokens / result.seconds);
    } catch (e) {
      if (this.#abort.signal.aborted) return; // stopped: stays RUNNING on disk, retrained on load
      st.status = "FAILED";
      rec.outcome = {
        ok: false,
        failureReason: "TRAINING_FAILED",
        message: e instanceof Error ? e.message : String(e),
      };
    }
    st.endMs = st.changedMs = now();
    await this.opts.persist(rec);
  }

  /** Stops after the current step, then frees the models. */
  async close(): Promise<void> {
    this.#abort.abort();
    this.#queue.length = 0;
    await this.#running;
    await this.engine.close();
  }
}
