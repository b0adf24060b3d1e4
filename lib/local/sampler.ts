/**
 * Picks the next token from a model's logits with CLOVA Studio's sampling parameters.
 *
 * Order, as in llama.cpp's default chain: repeat penalty → top-k → temperature → top-p → draw.
 * - `repeatPenalty` (CTRL rule): a token among the last {@link PENALTY_WINDOW} generated tokens
 *   has a positive logit divided by the penalty and a negative one multiplied by it; 1 is off.
 *   Prompt tokens are not penalised (the parameter is documented as a penalty on *generating*
 *   the same token again).
 * - `topK` keeps the k most likely tokens; 0 keeps all.
 * - `temperature` divides the logits; 0 (or less) means greedy decoding.
 * - `topP` keeps the smallest set of most likely tokens whose probabilities sum to at least p.
 * - The draw uses a stream seeded per request, so the same request gives the same answer.
 * Special tokens other than `</s>` are never drawn.
 *
 * @module
 */
import type { Rng } from "./random.ts";
import { SPECIAL_TOKENS, TOKEN } from "./tokenizer.ts";

/** Sampling parameters (CLOVA Studio's names). */
export interface Sampling {
  temperature: number;
  topP: number;
  topK: number;
  repeatPenalty: number;
  /** Most answer tokens to generate. */
  maxTokens: number;
  /** Seed of the draw. */
  seed: number;
}

/** How many recent generated tokens the repeat penalty looks at. */
export const PENALTY_WINDOW = 64;

/** The next token id. `recent` are the tokens generated so far (oldest first). */
export function sampleToken(
  logits: Float32Array,
  recent: readonly number[],
  p: Sampling,
  rng: Rng,
): number {
  const z = Float32Array.from(logits);
  for (let i = 0; i < SPECIAL_TOKENS.length; i++) if (i !== TOKEN.eos) z[i] = -Infinity;
  if (p.repeatPenalty !== 1 && p.repeatPenalty > 0) {
    const seen = new Set(recent.slice(-PENALTY_WINDOW));
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
