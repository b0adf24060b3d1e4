/**
 * The local language model: a small llama-style decoder (token embedding tied with the output
 * layer, RMSNorm, multi-head causal self-attention with rotary positions, SwiGLU MLP), its
 * parameter sets (base weights and LoRA adapters) and the ggml graphs that run it:
 * {@link forwardSequences} for training and scoring whole sequences, and
 * {@link DecodeGraph} for token-by-token generation over per-slot key/value caches.
 *
 * Tensor names follow llama.cpp's GGUF convention (`token_embd.weight`,
 * `blk.<i>.attn_q.weight`, …; LoRA `….lora_a` [in, r] and `….lora_b` [r, out]).
 *
 * @module
 */
import {
  backend,
  Buffer,
  Context,
  downloadF32,
  GGML_TYPE,
  mark,
  numel,
  Ops,
  type Tensor,
  upload,
} from "./ggml.ts";
import type { Rng } from "./random.ts";

/** The shape of a model. */
export interface ModelConfig {
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  /** Hidden width of the SwiGLU MLP. */
  ffn: number;
  /** Longest sequence (prompt + answer) in tokens. */
  context: number;
  ropeBase: number;
  normEps: number;
}

/** The projections LoRA adapts: attention q, k, v, output and the MLP's gate, up and down. */
export const PROJECTIONS = [
  "attn_q",
  "attn_k",
  "attn_v",
  "attn_output",
  "ffn_gate",
  "ffn_up",
  "ffn_down",
] as const;
/** One adapted projection. */
export type Projection = typeof PROJECTIONS[number];

/** [input width, output width] of a projection. */
export function projectionShape(cfg: ModelConfig, p: Projection): [number, number] {
  if (p === "ffn_gate" || p === "ffn_up") return [cfg.dim, cfg.ffn];
  if (p === "ffn_down") return [cfg.ffn, cfg.dim];
  return [cfg.dim, cfg.dim];
}

/** A named tensor shape. */
export interface TensorSpec {
  name: string;
  ne: number[];
}

/** The base model's tensors. */
export function weightSpecs(cfg: ModelConfig): TensorSpec[] {
  const specs: TensorSpec[] = [{ name: "token_embd.weight", ne: [cfg.dim, cfg.vocab] }];
  for (let l = 0; l < cfg.layers; l++) {
    specs.push({ name: `blk.${l}.attn_norm.weight`, ne: [cfg.dim] });
    for (const p of PROJECTIONS.slice(0, 4)) {
      specs.push({ name: `blk.${l}.${p}.weight`, ne: projectionShape(cfg, p) });
    }
    specs.push({ name: `blk.${l}.ffn_norm.weight`, ne: [cfg.dim] });
    for (const p of PROJECTIONS.slice(4)) {
      specs.push({ name: `blk.${l}.${p}.weight`, ne: projectionShape(cfg, p) });
    }
  }
  specs.push({ name: "output_norm.weight", ne: [cfg.dim] });
  return specs;
}

/** A LoRA adapter's tensors (rank `r` on every projection of every layer). */
export function loraSpecs(cfg: ModelConfig, r: number): TensorSpec[] {
  const specs: TensorSpec[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    for (const p of PROJECTIONS) {
      const [i, o] = projectionShape(cfg, p);
      specs.push({ name: `blk.${l}.${p}.weight.lora_a`, ne: [i, r] });
      specs.push({ name: `blk.${l}.${p}.weight.lora_b`, ne: [r, o] });
    }
  }
  return specs;
}

/** Named F32 tensors with their data in one CPU backend buffer. */
export class ParamSet {
  readonly ctx: Context;
  readonly buffer: Buffer;
  readonly specs: readonly TensorSpec[];
  #tensors = new Map<string, Tensor>();

  constructor(specs: readonly TensorSpec[]) {
    this.specs = specs;
    this.ctx = new Context(specs.length + 1);
    for (const s of specs) this.#tensors.set(s.name, this.ctx.f32(s.name, ...s.ne));
    this.buffer = new Buffer(this.ctx, backend());
    this.buffer.clear(0);
  }

  /** A second set with the same names and shapes, zeroed (optimizer moments). */
  zerosLike(): ParamSet {
    return new ParamSet(this.specs);
  }

  /** The tensor called `name`. */
  get(name: string): Tensor {
    const t = this.#tensors.get(name);
    if (!t) throw new Error(`no tensor ${name}`);
    return t;
  }

  /** Every tensor, in spec order. */
  all(): Tensor[] {
    return this.specs.map((s) => this.get(s.name));
  }

  /** Total number of values. */
  count(): number {
    return this.specs.reduce((n, s) => n + s.ne.reduce((a, b) => a * b, 1), 0);
  }

  /** Writes values into one tensor (length must match). */
  set(name: string, values: Float32Array): void {
    const t = this.get(name);
    if (values.length !== numel(t)) {
      throw new Error(`${name}: ${values.length} values for ${numel(t)} elements`);
    }
    upload(t, values);
  }

  /** Reads one tensor's values. */
  read(name: string): Float32Array {
    return downloadF32(this.get(name));
  }

  free(): void {
    this.buffer.free();
    this.ctx.free();
  }
}

function filled(n: number, f: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = f();
  return a;
}

/**
 * Fresh base weights: norms 1, matrices normal with std 0.02 (residual outputs `attn_output`
 * and `ffn_down` scaled by 1/√(2·layers)).
 */
export function initWeights(cfg: ModelConfig, rng: Rng): ParamSet {
  const w = new ParamSet(weightSpecs(cfg));
  const outScale = 1 / Math.sqrt(2 * cfg.layers);
  for (const s of w.specs) {
    const n = s.ne.reduce((a, b) => a * b, 1);
    if (s.ne.length === 1) w.set(s.name, new Float32Array(n).fill(1));
    else {
      const std = /attn_output|ffn_down/.test(s.name) ? 0.02 * outScale : 0.02;
      w.set(s.name, filled(n, () => rng.normal() * std));
    }
  }
  return w;
}

/** A LoRA adapter in use: its tensors and its scale `alpha / r`. */
export interface Lora {
  params: ParamSet;
  rank: number;
  alpha: number;
}

/** A fresh adapter: `A` uniform in ±1/√in (Kaiming-uniform), `B` zero, so it starts as a no-op. */
export function initLora(cfg: ModelConfig, rank: number, alpha: number, rng: Rng): Lora {
  const params = new ParamSet(loraSpecs(cfg, rank));
  for (const s of params.specs) {
    if (!s.name.endsWith("lora_a")) continue;
    const bound = 1 / Math.sqrt(s.ne[0]);
    params.set(s.name, filled(s.ne[0] * s.ne[1], () => (2 * rng.next() - 1) * bound));
  }
  return { params, rank, alpha };
}

function project(
  ops: Ops,
  w: ParamSet,
  lora: Lora | undefined,
  name: string,
  x: Tensor,
): Tensor {
  const y = ops.matmul(w.get(`${name}.weight`), x);
  if (!lora) return y;
  const a = lora.params.get(`${name}.weight.lora_a`);
  const b = lora.params.get(`${name}.weight.lora_b`);
  return ops.add(y, ops.scale(ops.matmul(b, ops.matmul(a, x)), lora.alpha / lora.rank));
}

function mlp(
  ops: Ops,
  cfg: ModelConfig,
  w: ParamSet,
  lora: Lora | undefined,
  l: number,
  x: Tensor,
) {
  const h = ops.mul(ops.rmsNorm(x, cfg.normEps), w.get(`blk.${l}.ffn_norm.weight`));
  const g = project(ops, w, lora, `blk.${l}.ffn_gate`, h);
  const u = project(ops, w, lora, `blk.${l}.ffn_up`, h);
  return ops.add(x, project(ops, w, lora, `blk.${l}.ffn_down`, ops.mul(ops.silu(g), u)));
}

function head(ops: Ops, cfg: ModelConfig, w: ParamSet, x: Tensor): Tensor {
  const h = ops.mul(ops.rmsNorm(x, cfg.normEps), w.get("output_norm.weight"));
  return ops.matmul(w.get("token_embd.weight"), h);
}

/** Inputs of {@link forwardSequences}, created by {@link sequenceInputs}. */
export interface SequenceInputs {
  /** I32 [T·B]: token ids, sequence after sequence. */
  tokens: Tensor;
  /** I32 [T]: positions 0 … T−1. */
  positions: Tensor;
  /** F32 [T, T]: causal mask (0 where a query may see a key, −∞ elsewhere). */
  mask: Tensor;
  steps: number;
  batch: number;
}

/** Creates (and marks as inputs) the tensors for a batch of `batch` sequences of `steps` tokens. */
export function sequenceInputs(ctx: Context, steps: number, batch: number): SequenceInputs {
  const tokens = ctx.tensor(GGML_TYPE.I32, steps * batch);
  const positions = ctx.tensor(GGML_TYPE.I32, steps);
  const mask = ctx.tensor(GGML_TYPE.F32, steps, steps);
  for (const t of [tokens, positions, mask]) mark.input(t);
  return { tokens, positions, mask, steps, batch };
}

/** Uploads token ids (padded, [batch][steps] flattened), positions and the causal mask. */
export function fillSequenceInputs(inp: SequenceInputs, tokens: Int32Array): void {
  const t = inp.steps;
  upload(inp.tokens, tokens);
  upload(inp.positions, Int32Array.from({ length: t }, (_, i) => i));
  const mask = new Float32Array(t * t);
  for (let q = 0; q < t; q++) for (let k = q + 1; k < t; k++) mask[q * t + k] = -Infinity;
  upload(inp.mask, mask);
}

/**
 * Logits F32 [vocab, T·B] for every position of every sequence of the batch, or, with `rows`
 * (I32 [N]: positions in the flattened T·B), F32 [vocab, N] for those positions only.
 */
export function forwardSequences(
  ops: Ops,
  cfg: ModelConfig,
  w: ParamSet,
  lora: Lora | undefined,
  inp: SequenceInputs,
  rows?: Tensor,
): Tensor {
  const { steps: T, batch: B } = inp;
  const hd = cfg.dim / cfg.heads;
  let x = ops.getRows(w.get("token_embd.weight"), inp.tokens);
  for (let l = 0; l < cfg.layers; l++) {
    const h = ops.mul(ops.rmsNorm(x, cfg.normEps), w.get(`blk.${l}.attn_norm.weight`));
    const heads = (p: Projection) =>
      ops.rope(
        ops.reshape4d(project(ops, w, lora, `blk.${l}.${p}`, h), hd, cfg.heads, T, B),
        inp.positions,
        hd,
        cfg.ropeBase,
      );
    const q = ops.permute(heads("attn_q"), 0, 2, 1, 3); // [hd, T, H, B]
    const k = ops.permute(heads("attn_k"), 0, 2, 1, 3); // [hd, T, H, B]
    const v = ops.cont(
      ops.permute(
        ops.reshape4d(project(ops, w, lora, `blk.${l}.attn_v`, h), hd, cfg.heads, T, B),
        1,
        2,
        0,
        3,
      ),
    ); // [T, hd, H, B]
    const att = ops.softmaxMasked(ops.matmul(k, q), inp.mask, 1 / Math.sqrt(hd)); // [Tk, Tq, H, B]
    const o = ops.reshape2d(
      ops.cont(ops.permute(ops.matmul(v, att), 0, 2, 1, 3)),
      cfg.dim,
      T * B,
    );
    x = ops.add(x, project(ops, w, lora, `blk.${l}.attn_output`, o));
    x = mlp(ops, cfg, w, lora, l, x);
  }
  return head(ops, cfg, w, rows ? ops.getRows(x, rows) : x);
}

/**
 * A static one-token-per-slot decoding graph: `slots` independent sequences advance one token
 * per compute, each with its own position and its own key/value cache region, so requests can
 * join and leave between steps. Keys are cached as rows `[dim]` at `slot·context + position`;
 * values are cached transposed (`[context]` per channel) so attention reads them without a copy.
 */
export class DecodeGraph {
  readonly ctx: Context;
  readonly cache: ParamSet;
  readonly tokens: Tensor;
  readonly positions: Tensor;
  readonly keyRows: Tensor;
  readonly valueRows: Tensor;
  readonly mask: Tensor;
  readonly logits: Tensor;

  constructor(
    readonly ops: Ops,
    readonly cfg: ModelConfig,
    w: ParamSet,
    lora: Lora | undefined,
    readonly slots: number,
  ) {
    const { dim, context: C, heads: H } = cfg;
    const S = slots;
    const hd = dim / H;
    this.ctx = ops.ctx;
    const specs: TensorSpec[] = [];
    for (let l = 0; l < cfg.layers; l++) {
      specs.push({ name: `cache.k.${l}`, ne: [dim, C * S] });
      specs.push({ name: `cache.v.${l}`, ne: [C * dim * S] });
    }
    this.cache = new ParamSet(specs);
    const c = this.ctx;
    this.tokens = c.tensor(GGML_TYPE.I32, S);
    this.positions = c.tensor(GGML_TYPE.I32, S);
    this.keyRows = c.tensor(GGML_TYPE.I64, S);
    this.valueRows = c.tensor(GGML_TYPE.I64, dim * S);
    this.mask = c.tensor(GGML_TYPE.F32, C, 1, 1, S);
    for (const t of [this.tokens, this.positions, this.keyRows, this.valueRows, this.mask]) {
      mark.input(t);
    }
    let x = ops.getRows(w.get("token_embd.weight"), this.tokens); // [dim, S]
    for (let l = 0; l < cfg.layers; l++) {
      const h = ops.mul(ops.rmsNorm(x, cfg.normEps), w.get(`blk.${l}.attn_norm.weight`));
      const roped = (p: Projection) =>
        ops.rope(
          ops.reshape4d(project(ops, w, lora, `blk.${l}.${p}`, h), hd, H, S, 1),
          this.positions,
          hd,
          cfg.ropeBase,
        );
      const q = ops.permute(ops.reshape4d(roped("attn_q"), hd, H, 1, S), 0, 2, 1, 3); // [hd,1,H,S]
      const kAll = ops.setRows(
        this.cache.get(`cache.k.${l}`),
        ops.reshape2d(roped("attn_k"), dim, S),
        this.keyRows,
      );
      const k = ops.permute(
        ops.view4d(kAll, [hd, H, C, S], [hd * 4, dim * 4, dim * C * 4], 0),
        0,
        2,
        1,
        3,
      ); // [hd, C, H, S]
      const att = ops.softmaxMasked(ops.matmul(k, q), this.mask, 1 / Math.sqrt(hd)); // [C,1,H,S]
      const vAll = ops.setRows(
        ops.view2d(this.cache.get(`cache.v.${l}`), 1, C * dim * S, 4, 0),
        ops.reshape2d(project(ops, w, lora, `blk.${l}.attn_v`, h), 1, dim * S),
        this.valueRows,
      );
      const v = ops.view4d(vAll, [C, hd, H, S], [C * 4, C * hd * 4, C * dim * 4], 0);
      const o = ops.reshape2d(ops.cont(ops.permute(ops.matmul(v, att), 0, 2, 1, 3)), dim, S);
      x = ops.add(x, project(ops, w, lora, `blk.${l}.attn_output`, o));
      x = mlp(ops, cfg, w, lora, l, x);
    }
    this.logits = head(ops, cfg, w, x);
    mark.output(this.logits);
  }

  free(): void {
    this.cache.free();
  }
}
