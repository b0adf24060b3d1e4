/**
 * Held-out loss per corpus kind: the mean cross-entropy per answer token (per token of a
 * document) of examples of one kind at a time, drawn from a seed no run trains on. One figure for
 * the whole mix hides a kind the model has not learned; per kind it shows.
 *
 * Kinds whose answers are in a random order (`shuffle`, `find-any-order`) cannot reach 0: the
 * order itself is `ln(n!)` nats for an answer of `n` names. Their `floor` is that entropy per
 * answer token, the loss of a model that names each remaining listed country with equal
 * probability; a model that picks from the whole list without leaving out what it wrote is
 * above it, one that does not pick from the list at all is near `ln(countries)` per name.
 *
 * @module
 */
import { CORPUS_KINDS, CorpusGenerator, type CorpusKind } from "./corpus.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { type BatchLoss, encodeExample, type Example } from "./train.ts";
import { getTaxonomy } from "../../countries/mod.ts";

/** The loss of one kind: nats per trained token, and the least a model can reach where known. */
export interface KindLoss {
  loss: number;
  /** Entropy of the answers' random order per answer token (kinds answered in any order). */
  floor?: number;
}

/** Kinds answered in a random order, whose loss has a floor above 0. */
export const RANDOM_ORDER_KINDS: readonly CorpusKind[] = ["shuffle", "find-any-order"];

/** Options of {@link lossByKind}. */
export interface LossByKindOptions {
  /** Seed of the held-out examples (default 7919, a stream no pretraining run draws from). */
  seed?: number;
  /** Examples per kind (default 16). */
  examples?: number;
  /** Longest list (default 30). */
  maxItems?: number;
  /** Longest sequence the model takes; longer examples are skipped. */
  context: number;
}

function lnFactorial(n: number): number {
  let s = 0;
  for (let k = 2; k <= n; k++) s += Math.log(k);
  return s;
}

/**
 * Held-out loss of every corpus kind, evaluated by `evaluate` (a `Trainer`'s, which computes
 * the loss without training).
 */
export async function lossByKind(
  evaluate: (batch: readonly Example[]) => Promise<BatchLoss>,
  tok: Tokenizer,
  opts: LossByKindOptions,
): Promise<Record<CorpusKind, KindLoss>> {
  const { seed = 7919, examples = 16, maxItems = 30, context } = opts;
  const names = new Set(getTaxonomy("un").countries.map((c) => c.name));
  const out = {} as Record<CorpusKind, KindLoss>;
  for (const kind of CORPUS_KINDS) {
    const gen = new CorpusGenerator(seed, undefined, { [kind]: 1 });
    gen.maxItems = maxItems;
    const batch: Example[] = [];
    let orderNats = 0;
    let answerTokens = 0;
    while (batch.length < examples) {
      const e = gen.next();
      const ex = encodeExample(tok, e);
      if (ex.ids.length > context) continue;
      batch.push(ex);
      if ("answer" in e) {
        const n = e.answer.split(/, |: |\n/).filter((w) => names.has(w)).length;
        orderNats += lnFactorial(n);
        answerTokens += ex.ids.length - ex.lossFrom;
      }
    }
    const r = await evaluate(batch);
    out[kind] = {
      loss: Math.round(r.loss * 1e4) / 1e4,
      ...(RANDOM_ORDER_KINDS.includes(kind)
        ? { floor: Math.round((orderNats / answerTokens) * 1e4) / 1e4 }
        : {}),
    };
  }
  return out;
}

/** One line of per-kind losses: `copy 0.002 · shuffle 2.47 (floor 1.0) · …`. */
export function formatKindLoss(byKind: Readonly<Record<string, KindLoss>>): string {
  return Object.entries(byKind).map(([k, v]) =>
    `${k} ${v.loss}${v.floor === undefined ? "" : ` (floor ${v.floor})`}`
  ).join(" · ");
}
