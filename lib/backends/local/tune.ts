/**
 * LoRA tuning of a local base model on `Text`/`Completion` rows: rank-`r` adapters on every
 * attention and MLP projection, the base weights frozen, the loss on the completion (and its
 * closing `</s>`) only. Epochs shuffle the rows with a seed; each step takes `batch` rows of
 * similar length. The learning rate warms up linearly over the first 5% of steps and then
 * decays linearly to zero. Adapters are saved as GGUF files (llama.cpp's LoRA tensor names,
 * `adapter.lora.alpha`).
 *
 * @module
 */
import { readGguf, writeGguf } from "./gguf.ts";
import { initLora, type Lora, loraSpecs, ParamSet } from "./model.ts";
import type { BaseModel } from "./models.ts";
import { createRng, shuffle } from "./random.ts";
import type { ChatMessage } from "./tokenizer.ts";
import { type Example, Trainer } from "./train.ts";

/** One tuning row: the prompt messages and the completion to learn. */
export interface TuningRow {
  messages: readonly ChatMessage[];
  completion: string;
}

/** Tuning settings. */
export interface TuneOptions {
  epochs: number;
  learningRate: number;
  rank: number;
  alpha: number;
  /** Rows per step. */
  batch: number;
  seed: number;
  /** Called after every step with the step's real train loss. */
  onStep?: (p: TuneStep) => void;
  /** Stops between two steps. */
  signal?: AbortSignal;
}

/** One finished step. */
export interface TuneStep {
  step: number;
  totalSteps: number;
  epoch: number;
  /** Mean cross-entropy per completion token of the step's rows, before its update. */
  loss: number;
  /** Completion tokens in the step. */
  tokens: number;
  ms: number;
}

/** Result of {@link tune}. */
export interface TuneResult {
  lora: Lora;
  stepLoss: number[];
  stepsPerEpoch: number;
  /** Completion tokens trained on, all epochs. */
  trainedTokens: number;
  /** All tokens the steps processed (prompt and completion), all epochs. */
  processedTokens: number;
  seconds: number;
}

/** A row as token ids, trained from its completion's first token. */
export function encodeRow(model: BaseModel, row: TuningRow): Example {
  const { ids, answerStart } = model.tokenizer.encodeChat(row.messages, row.completion);
  if (ids.length > model.config.context) {
    throw new RangeError(
      `a tuning row has ${ids.length} tokens, more than the model's context of ${model.config.context}`,
    );
  }
  return { ids, lossFrom: answerStart };
}

function batches(rows: Example[], size: number, rng: ReturnType<typeof createRng>): Example[][] {
  const shuffled = shuffle([...rows], rng);
  const out: Example[][] = [];
  const group = size * 8; // sort within groups of 8 batches: similar lengths, still shuffled
  for (let g = 0; g < shuffled.length; g += group) {
    const chunk = shuffled.slice(g, g + group).sort((a, b) => a.ids.length - b.ids.length);
    const part: Example[][] = [];
    for (let i = 0; i < chunk.length; i += size) part.push(chunk.slice(i, i + size));
    out.push(...shuffle(part, rng));
  }
  return out;
}

/** Learning rate of step `step` (1-based) of `total`. */
export function tuningRate(step: number, total: number, peak: number): number {
  const warm = Math.max(1, Math.round(total * 0.05));
  if (step <= warm) return (peak * step) / warm;
  return peak * Math.max(0, (total - step + 1) / (total - warm + 1));
}

/** LoRA-tunes `model` on `rows`; the base weights are not changed. */
export async function tune(
  model: BaseModel,
  rows: readonly TuningRow[],
  opts: TuneOptions,
): Promise<TuneResult> {
  if (!rows.length) throw new RangeError("no tuning rows");
  const examples = rows.map((r) => encodeRow(model, r));
  const rng = createRng(opts.seed);
  const lora = initLora(model.config, opts.rank, opts.alpha, rng);
  const trainer = new Trainer(model.config, model.weights, lora);
  const stepsPerEpoch = Math.ceil(examples.length / opts.batch);
  const totalSteps = stepsPerEpoch * opts.epochs;
  const stepLoss: number[] = [];
  const started = performance.now();
  let trainedTokens = 0;
  let processedTokens = 0;
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      for (const batch of batches(examples, opts.batch, rng)) {
        opts.signal?.throwIfAborted();
        const step = stepLoss.length + 1;
        const t0 = performance.now();
        const r = await trainer.step(batch, tuningRate(step, totalSteps, opts.learningRate));
        stepLoss.push(r.loss);
        trainedTokens += r.tokens;
        processedTokens += batch.reduce((n, e) => n + e.ids.length, 0);
        opts.onStep?.({
          step,
          totalSteps,
          epoch,
          loss: r.loss,
          tokens: r.tokens,
          ms: performance.now() - t0,
        });
      }
    }
  } catch (e) {
    lora.params.free();
    throw e;
  } finally {
    trainer.free();
  }
  return {
    lora,
    stepLoss,
    stepsPerEpoch,
    trainedTokens,
    processedTokens,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Mean completion loss (nats per token) of `rows` under `model` with an optional adapter. */
export async function completionLoss(
  model: BaseModel,
  lora: Lora | undefined,
  rows: readonly TuningRow[],
  batch = 8,
): Promise<number> {
  const examples = rows.map((r) => encodeRow(model, r));
  const trainer = new Trainer(model.config, model.weights, lora);
  let sum = 0;
  let n = 0;
  try {
    for (let i = 0; i < examples.length; i += batch) {
      const r = await trainer.evaluate(examples.slice(i, i + batch));
      sum += r.loss * r.tokens;
      n += r.tokens;
    }
  } finally {
    trainer.free();
  }
  return sum / n;
}

/** Saves an adapter as GGUF (`general.type` adapter, `adapter.type` lora, its alpha and rank). */
export async function saveAdapter(path: string, model: BaseModel, lora: Lora): Promise<void> {
  await writeGguf(path, {
    "general.architecture": "local-llama",
    "general.type": "adapter",
    "general.base_model": model.name,
    "adapter.type": "lora",
    "adapter.lora.alpha": lora.alpha,
    "adapter.lora.rank": lora.rank,
  }, [lora.params]);
}

/** Loads an adapter saved by {@link saveAdapter} for `model`. */
export function loadAdapter(path: string, model: BaseModel): Lora {
  const file = readGguf(path);
  const rank = file.metadata["adapter.lora.rank"];
  const alpha = file.metadata["adapter.lora.alpha"];
  if (typeof rank !== "number" || typeof alpha !== "number") {
    throw new Error(`${path} is not a LoRA adapter (no adapter.lora.rank/alpha)`);
  }
  const params = new ParamSet(loraSpecs(model.config, rank));
  for (const s of params.specs) {
    const t = file.tensors.get(s.name);
    if (!t) {
      params.free();
      throw new Error(`${path}: tensor ${s.name} missing (adapter for another model?)`);
    }
    params.set(s.name, t.data);
  }
  return { params, rank, alpha };
}
