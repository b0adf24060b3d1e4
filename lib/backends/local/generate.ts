/**
 * Generation with continuous batching: a {@link Generator} keeps `slots` sequences in one
 * static decoding graph (`DecodeGraph`), feeds each its prompt one token per step and then its
 * own sampled tokens, and lets requests join and leave between steps. Every request has its own
 * seeded sampler, so its answer does not depend on what else is being generated.
 *
 * `maxTokens` counts the answer as the emulator counts a service's tokens (`countTokens` of
 * `lib/backends/tokenizer.ts`: a Hangul syllable or a mark is one, a run of ASCII letters and
 * digits is one, whitespace is free), so a limit means the same text on both engines; the
 * repeat penalty applies to repeated words (`RepeatPenalty`).
 *
 * @module
 */
import { Allocator, compute, Context, downloadF32, Graph, Ops, upload } from "./ggml.ts";
import { DecodeGraph, type Lora, type ModelConfig, type ParamSet } from "./model.ts";
import { createRng, mix32, type Rng } from "./random.ts";
import { RepeatPenalty, sampleToken, type Sampling } from "./sampler.ts";
import { countTokens } from "../mod.ts";
import { TOKEN } from "./tokenizer.ts";

/** Why generation stopped: `</s>`, `maxTokens`, or the context was full. */
export type FinishReason = "stop" | "length";

/** One finished generation. */
export interface Generated {
  /** Answer token ids (without `</s>`). */
  ids: number[];
  finishReason: FinishReason;
  promptTokens: number;
}

interface Request {
  prompt: readonly number[];
  sampling: Sampling;
  rng: Rng;
  out: number[];
  /** Service tokens the answer counts so far. */
  spent: number;
  cursor: number;
  resolve: (g: Generated) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
}

const GRAPH_SIZE = 4096;

/**
 * Threads per decoding step: one. A step is a few hundred tiny operations, and ggml's threads
 * meet at a barrier after each; a second thread costs more in waiting than it saves, most of all
 * on a busy machine.
 */
const DECODE_THREADS = 1;

/** Generates answers from one model (base weights, optionally with an adapter). */
export class Generator {
  readonly #ctx: Context;
  readonly #graph: Graph;
  readonly #decode: DecodeGraph;
  readonly #alloc = new Allocator();
  readonly #slots: (Request | null)[];
  readonly #queue: Request[] = [];
  readonly #mask: Float32Array;
  readonly #penalty: RepeatPenalty;
  #running: Promise<void> | undefined;
  #closed = false;
  /** Decoding steps computed so far (each advances every busy slot by one token). */
  steps = 0;

  /** `tokens` is the vocabulary (the text of each token id). */
  constructor(
    readonly cfg: ModelConfig,
    weights: ParamSet,
    lora: Lora | undefined,
    readonly tokens: readonly string[],
    slots = 16,
  ) {
    this.#penalty = new RepeatPenalty(tokens);
    this.#ctx = new Context(GRAPH_SIZE, GRAPH_SIZE, false);
    this.#decode = new DecodeGraph(new Ops(this.#ctx), cfg, weights, lora, slots);
    this.#graph = new Graph(this.#ctx, GRAPH_SIZE, false);
    this.#graph.expand(this.#decode.logits);
    this.#alloc.alloc(this.#graph);
    this.#slots = Array.from({ length: slots }, () => null);
    this.#mask = new Float32Array(cfg.context * slots).fill(-Infinity);
  }

  /**
   * Generates an answer to a prompt (token ids ending with `<assistant>`). An aborted `signal`
   * frees the request's slot at the next step and rejects with the abort reason.
   */
  generate(
    prompt: readonly number[],
    sampling: Sampling,
    signal?: AbortSignal,
  ): Promise<Generated> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closed) return Promise.reject(new Error("generator closed"));
    if (prompt.length === 0) return Promise.reject(new RangeError("empty prompt"));
    if (prompt.length >= this.cfg.context) {
      return Promise.reject(
        new RangeError(
          `prompt of ${prompt.length} tokens exceeds the context of ${this.cfg.context}`,
        ),
      );
    }
    return new Promise<Generated>((resolve, reject) => {
      this.#queue.push({
        prompt,
        sampling,
        rng: createRng(mix32(sampling.seed)),
        out: [],
        spent: 0,
        cursor: 0,
        resolve,
        reject,
        signal,
      });
      this.#running ??= this.#loop();
    });
  }

  async #loop(): Promise<void> {
    const { context: C, dim } = this.cfg;
    const S = this.#slots.length;
    const tokens = new Int32Array(S);
    const positions = new Int32Array(S);
    const keyRows = new BigInt64Array(S);
    const valueRows = new BigInt64Array(dim * S);
    try {
      for (;;) {
        for (let s = 0; s < S; s++) {
          const r = this.#slots[s];
          if (r?.signal?.aborted) {
            this.#slots[s] = null;
            r.reject(r.signal.reason);
          }
        }
        for (const r of this.#queue.filter((q) => q.signal?.aborted)) {
          this.#queue.splice(this.#queue.indexOf(r), 1);
          r.reject(r.signal!.reason);
        }
        for (let s = 0; s < S && this.#queue.length; s++) {
          if (this.#slots[s]) continue;
          this.#slots[s] = this.#queue.shift()!;
          this.#mask.fill(-Infinity, s * C, (s + 1) * C);
        }
        if (this.#slots.every((r) => r === null)) {
          this.#running = undefined; // synchronously, so the next request starts a new loop
          return;
        }
        for (let s = 0; s < S; s++) {
          const r = this.#slots[s];
          const pos = r ? r.cursor : 0;
          tokens[s] = !r
            ? TOKEN.pad
            : pos < r.prompt.length
            ? r.prompt[pos]
            : r.out[pos - r.prompt.length];
          positions[s] = pos;
          if (!r) this.#mask.fill(-Infinity, s * C, (s + 1) * C);
          this.#mask[s * C + pos] = 0;
          keyRows[s] = BigInt(s * C + pos);
          const base = s * C * dim + pos;
          for (let c = 0; c < dim; c++) valueRows[s * dim + c] = BigInt(base + c * C);
        }
        const d = this.#decode;
        upload(d.tokens, tokens);
        upload(d.positions, positions);
        upload(d.keyRows, keyRows);
        upload(d.valueRows, valueRows);
        upload(d.mask, this.#mask);
        await compute(this.#graph, DECODE_THREADS);
        this.steps++;
        const logits = downloadF32(d.logits);
        const V = this.cfg.vocab;
        for (let s = 0; s < S; s++) {
          const r = this.#slots[s];
          if (!r) continue;
          if (r.cursor >= r.prompt.length - 1) {
            const next = sampleToken(
              logits.subarray(s * V, (s + 1) * V),
              r.out,
              r.sampling,
              r.rng,
              this.#penalty,
            );
            // A token that would take the answer past `maxTokens` (a whole-word token counts
            // each of its syllables) is not written: the answer ends at the limit.
            let over = false;
            if (next !== TOKEN.eos) {
              const prev = r.out.length ? this.tokens[r.out[r.out.length - 1]] : "";
              const cost = countTokens(prev + this.tokens[next]) - countTokens(prev);
              over = r.spent + cost > r.sampling.maxTokens;
              if (!over) {
                r.spent += cost;
                r.out.push(next);
              }
            }
            const done = next === TOKEN.eos
              ? "stop"
              : over || r.spent >= r.sampling.maxTokens || r.cursor + 2 >= C
              ? "length"
              : null;
            if (done) {
              this.#slots[s] = null;
              r.resolve({ ids: r.out, finishReason: done, promptTokens: r.prompt.length });
              continue;
            }
          }
          r.cursor++;
        }
      }
    } catch (e) {
      this.#running = undefined;
      for (const r of [...this.#slots, ...this.#queue.splice(0)]) r?.reject(e);
      this.#slots.fill(null);
    }
  }

  /** Waits for work in flight, then frees the graph, caches and buffers. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
    this.#decode.free();
    this.#alloc.free();
    this.#ctx.free();
  }
}
