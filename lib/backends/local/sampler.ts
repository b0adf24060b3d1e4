/**
 * Picks the next token from a model's logits with CLOVA Studio's sampling parameters.
 *
 * Order, as in llama.cpp's default chain: repeat penalty → top-k → temperature → top-p → draw.
 * - `repeatPenalty` (CTRL rule: a penalised token has a positive logit divided by the penalty
 *   and a negative one multiplied by it; 1 is off), applied to what a service token would
 *   repeat: repeated words ({@link RepeatPenalty}). The value is the one the request sent. Prompt tokens are not
 *   penalised (the parameter is documented as a penalty on *generating* the same token again).
 * - `topK` keeps the k most likely tokens; 0 keeps all.
 * - `temperature` divides the logits; 0 (or less) means greedy decoding.
 * - `topP` keeps the smallest set of most likely tokens whose probabilities sum to at least p.
 * - The draw uses a stream seeded per request, so the same request gives the same answer.
 * Special tokens other than `</s>` are never drawn.
 *
 * @module
 */
import type { Rng } from "./random.ts";
import { SPECIAL_TOKENS, TOKEN, type TokenClass, tokenClasses } from "./tokenizer.ts";

/** Sampling parameters (CLOVA Studio's names). */
export interface Sampling {
  temperature: number;
  topP: number;
  topK: number;
  repeatPenalty: number;
  /** Most answer tokens to generate, counted as a service's tokens (see `generate.ts`). */
  maxTokens: number;
  /** Seed of the draw. */
  seed: number;
}

/** How many recent generated words the repeat penalty looks at. */
export const PENALTY_WINDOW = 64;

/**
 * Which tokens a repeat penalty applies to: repeated words, never the marks and whitespace a
 * format repeats by design. The generated text is read as words — runs of word tokens (Hangul
 * syllables, letters, digits and whole-word tokens such as a country's name) — ended by marks
 * (`, `, `:`, …) and whitespace. Over the last {@link PENALTY_WINDOW} words, a word token is
 * penalised when it would continue the word being written into a prefix of two or more
 * characters of a word already written: writing a name again is penalised (as one token, or
 * from its second syllable on), while a new word that merely starts with a syllable used before
 * is not. Marks, whitespace and the end of the answer never are, so separators, line breaks and
 * the syllables names share stay free.
 */
export class RepeatPenalty {
  readonly #classes: readonly TokenClass[];
  readonly #words = new Map<string, number>();

  constructor(readonly tokens: readonly string[]) {
    this.#classes = tokenClasses(tokens);
    tokens.forEach((t, i) => {
      if (this.#classes[i] === "word") this.#words.set(t, i);
    });
  }

  /** The token ids penalised after the generated tokens `recent` (oldest first). */
  penalised(recent: readonly number[]): Set<number> {
    const words: string[][] = [];
    let word: string[] = [];
    for (const id of recent) {
      if (this.#classes[id] === "word") {
        word.push(...this.tokens[id]);
        continue;
      }
      if (word.length) words.push(word);
      word = [];
    }
    const out = new Set<number>();
    for (const w of words.slice(-PENALTY_WINDOW)) {
      if (w.length <= word.length || !word.every((c, i) => w[i] === c)) continue;
      for (let end = Math.max(word.length + 1, 2); end <= w.length; end++) {
        const id = this.#words.get(w.slice(word.length, end).join(""));
        if (id !== undefined) out.add(id);
      }
    }
    return out;
  }
}

/**
 * The next token id. `recent` are the tokens generated so far (oldest first); `penalty` says
 * which of them the repeat penalty applies to (without it: every token in the last
 * {@link PENALTY_WINDOW}).
 */
export function sampleToken(
  logits: Float32Array,
  recent: readonly number[],
  p: Sampling,
  rng: Rng,
  penalty?: RepeatPenalty,
): number {
  const z = Float32Array.from(logits);
  for (let i = 0; i < SPECIAL_TOKENS.length; i++) if (i !== TOKEN.eos) z[i] = -Infinity;
  if (p.repeatPenalty !== 1 && p.repeatPenalty > 0) {
    const seen = penalty ? penalty.penalised(recent) : new Set(recent.slice(-PENALTY_WINDOW));
    for (const id of seen) z[id] = z[id] > 0 ? z[id] / p.repeatPenalty : z[id] * p.repeatPenalty;
  }
  if (!(p.temperature > 0)) {
    let best = 0;
    for (let i = 1; i < z.length; i++) if (z[i] > z[best]) best = i;
    return best;
  }
  let order = Array.from(z.keys()).filter((i) => z[i] > -Infinity).sort((a, b) => z[b] - z[a]);
  if (p.topK > 0) order = order.slice(0, p.topK);
  const max = z[order[0]];
  const weights = order.map((i) => Math.exp((z[i] - max) / p.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let keep = order.length;
  if (p.topP > 0 && p.topP < 1) {
    let cum = 0;
    for (let j = 0; j < order.length; j++) {
      cum += weights[j] / total;
      if (cum >= p.topP) {
        keep = j + 1;
        break;
      }
    }
  }
  const kept = weights.slice(0, keep);
  const sum = kept.reduce((a, b) => a + b, 0);
  let r = rng.next() * sum;
  for (let j = 0; j < keep; j++) {
    r -= kept[j];
    if (r < 0) return order[j];
  }
  return order[keep - 1];
}
