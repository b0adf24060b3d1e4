/**
 * Training with ggml's backward pass and its AdamW step: full-parameter pretraining of the base
 * weights, or LoRA tuning with the base weights frozen. The loss is the mean cross-entropy over
 * the positions an example marks as trained (`lossFrom`): all of a pretraining document, or
 * only the answer of a tuning row. Sequences of a batch are padded to a common length; padding
 * is never trained on and, being after every real token, never attended to.
 *
 * @module
 */
import {
  Allocator,
  compute,
  Context,
  downloadF32,
  GGML_TYPE,
  Graph,
  mark,
  Ops,
  type Tensor,
  upload,
} from "./ggml.ts";
import {
  fillSequenceInputs,
  forwardSequences,
  type Lora,
  type ModelConfig,
  ParamSet,
  sequenceInputs,
} from "./model.ts";
import type { CorpusExample } from "./corpus.ts";
import { TOKEN, type Tokenizer } from "./tokenizer.ts";

/** One training sequence: token ids, trained on from index `lossFrom` (≥ 1) onwards. */
export interface Example {
  ids: readonly number[];
  lossFrom: number;
}

/** A corpus example as a training sequence: token ids, with where its loss starts. */
export function encodeExample(tok: Tokenizer, e: CorpusExample): Example {
  if ("document" in e) return { ids: tok.encodeDocument(e.document), lossFrom: 1 };
  const { ids, answerStart } = tok.encodeChat(e.messages, e.answer);
  return { ids, lossFrom: answerStart };
}

/** AdamW settings. */
export interface AdamW {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /**
   * Clip the gradient to this global L2 norm before the update (0: no clipping). The step's
   * gradient norm, before clipping, is reported either way.
   */
  clipNorm?: number;
}

/** Defaults: β = (0.9, 0.999), ε = 1e-8, no weight decay, no clipping. */
export const ADAMW: AdamW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** What one step or one scoring pass measured. */
export interface BatchLoss {
  /** Mean cross-entropy (nats per trained token). */
  loss: number;
  /** Trained tokens in the batch. */
  tokens: number;
  /** Global L2 norm of the gradient (training steps only). */
  gradNorm?: number;
}

/** AdamW's state: first and second moments by tensor name, and the steps taken. */
export interface OptimizerState {
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
  steps: number;
}

const GRAPH_SIZE = 16384;

interface Built {
  ctx: Context;
  graph: Graph;
  loss: Tensor;
  gradNorm?: Tensor;
  tokens: number;
}

/** Trains one parameter set (the base weights, or a LoRA adapter over frozen weights). */
export class Trainer {
  readonly trainable: ParamSet;
  #m: ParamSet;
  #v: ParamSet;
  #alloc = new Allocator();
  #iter = 0;

  constructor(
    readonly cfg: ModelConfig,
    readonly weights: ParamSet,
    readonly lora: Lora | undefined,
    readonly adamw: AdamW = ADAMW,
  ) {
    this.trainable = lora ? lora.params : weights;
    this.#m = this.trainable.zerosLike();
    this.#v = this.trainable.zerosLike();
  }

  /** Optimizer steps taken. */
  get steps(): number {
    return this.#iter;
  }

  /** The optimizer's state (first and second moments by tensor name, steps taken), for a checkpoint. */
  optimizerState(): OptimizerState {
    const read = (set: ParamSet) => new Map(set.specs.map((s) => [s.name, set.read(s.name)]));
    return { m: read(this.#m), v: read(this.#v), steps: this.#iter };
  }

  /** Continues from a state {@link optimizerState} returned (same tensors). */
  restoreOptimizer(state: OptimizerState): void {
    for (const s of this.trainable.specs) {
      const m = state.m.get(s.name);
      const v = state.v.get(s.name);
      if (!m || !v) throw new Error(`optimizer state has no moments for ${s.name}`);
      this.#m.set(s.name, m);
      this.#v.set(s.name, v);
    }
    this.#iter = state.steps;
  }

  #build(batch: readonly Example[], train: boolean): Built {
    const cfg = this.cfg;
    const longest = Math.max(...batch.map((e) => e.ids.length)) - 1;
    if (longest + 1 > cfg.context) {
      throw new RangeError(
        `sequence of ${longest + 1} tokens exceeds the context of ${cfg.context}`,
      );
    }
    const steps = Math.max(8, Math.ceil(longest / 8) * 8);
    const B = batch.length;
    const ctx = new Context(GRAPH_SIZE, GRAPH_SIZE, train);
    const ops = new Ops(ctx);
    const inp = sequenceInputs(ctx, steps, B);
    const tokens = new Int32Array(steps * B).fill(TOKEN.pad);
    const rows: number[] = [];
    const next: number[] = [];
    batch.forEach((e, b) => {
      for (let i = 0; i + 1 < e.ids.length; i++) {
        tokens[b * steps + i] = e.ids[i];
        if (i + 1 >= e.lossFrom) {
          rows.push(b * steps + i);
          next.push(e.ids[i + 1]);
        }
      }
    });
    const trained = rows.length;
    if (trained === 0) throw new RangeError("batch has no trained tokens");
    // The loss is taken on the trained positions only: ggml's cross-entropy gradient is
    // softmax − labels, which is not zero on a row whose labels are all zero.
    const rowIds = ctx.tensor(GGML_TYPE.I32, trained);
    const labels = ctx.f32("labels", cfg.vocab, trained);
    mark.input(rowIds);
    mark.input(labels);
    const onehot = new Float32Array(cfg.vocab * trained);
    next.forEach((id, r) => (onehot[r * cfg.vocab + id] = 1));
    const logits = forwardSequences(ops, cfg, this.weights, this.lora, inp, rowIds);
    const loss = ops.crossEntropy(logits, labels);
    mark.output(loss);
    const graph = new Graph(ctx, GRAPH_SIZE, train);
    let adamParams: Tensor | undefined;
    let gradNorm: Tensor | undefined;
    let clipTo: Tensor | undefined;
    if (train) {
      for (const t of this.trainable.all()) mark.param(t);
      mark.loss(loss);
      graph.expand(loss);
      graph.expandBackward();
      adamParams = ctx.f32("adamw.params", 7);
      mark.input(adamParams);
      const grads = this.trainable.specs.map((s) => {
        const p = this.trainable.get(s.name);
        return { s, p, g: graph.grad(p) };
      }).filter((x) => x.g !== null) as { s: { name: string }; p: Tensor; g: Tensor }[];
      let sq: Tensor | undefined;
      for (const { g } of grads) {
        const part = ops.sum(ops.sqr(g));
        sq = sq ? ops.add(sq, part) : part;
      }
      gradNorm = ops.sqrt(sq!);
      mark.output(gradNorm);
      graph.expand(gradNorm);
      const clip = this.adamw.clipNorm ?? 0;
      let factor: Tensor | undefined;
      if (clip > 0) {
        clipTo = ctx.f32("clip", 1);
        mark.input(clipTo);
        factor = ops.div(clipTo, ops.clamp(gradNorm, clip, 3.0e38));
      }
      for (const { s, p, g } of grads) {
        const step = factor ? ops.mul(g, factor) : g;
        graph.expand(ops.adamw(p, step, this.#m.get(s.name), this.#v.get(s.name), adamParams));
      }
      const seed = graph.gradAcc(loss);
      if (seed) mark.input(seed);
    } else {
      graph.expand(loss);
    }
    this.#alloc.alloc(graph);
    fillSequenceInputs(inp, tokens);
    upload(rowIds, Int32Array.from(rows));
    upload(labels, onehot);
    if (clipTo) upload(clipTo, new Float32Array([this.adamw.clipNorm!]));
    if (train) {
      const seed = graph.gradAcc(loss);
      if (seed) upload(seed, new Float32Array([1]));
      this.#iter++;
      const { beta1, beta2, eps, weightDecay } = this.adamw;
      upload(
        adamParams!,
        new Float32Array([
          this.#lr,
          beta1,
          beta2,
          eps,
          weightDecay,
          1 / (1 - beta1 ** this.#iter),
          1 / (1 - beta2 ** this.#iter),
        ]),
      );
    }
    return { ctx, graph, loss, gradNorm, tokens: trained };
  }

  #lr = 0;

  /** One optimizer step on `batch` at learning rate `lr`; returns the batch's loss before it. */
  async step(batch: readonly Example[], lr: number): Promise<BatchLoss> {
    this.#lr = lr;
    const built = this.#build(batch, true);
    try {
      await compute(built.graph);
      return {
        loss: downloadF32(built.loss, 1)[0],
        tokens: built.tokens,
        gradNorm: downloadF32(built.gradNorm!, 1)[0],
      };
    } finally {
      built.ctx.free();
    }
  }

  /** The mean loss on `batch` without changing anything. */
  async evaluate(batch: readonly Example[]): Promise<BatchLoss> {
    const built = this.#build(batch, false);
    try {
      await compute(built.graph);
      return { loss: downloadF32(built.loss, 1)[0], tokens: built.tokens };
    } finally {
      built.ctx.free();
    }
  }

  /** Frees optimizer state and the compute buffer (not the weights or the adapter). */
  free(): void {
    this.#m.free();
    this.#v.free();
    this.#alloc.free();
  }
}
