/**
 * Teacher-forced predictions: the model reads a whole example (prompt and the right answer) in
 * one forward pass — the pass training uses — and at each answer position its most likely next
 * token, or its whole next-token distribution, is taken. Used to measure how many country names a
 * model predicts right when it has the right answer so far, where its probability goes when it
 * may name any of several (`listMass.ts`), and to check that token-by-token decoding computes the
 * same thing.
 *
 * @module
 */
import { CONTINENTS } from "../../cookbook.ts";
import { getTaxonomy } from "../../countries/mod.ts";
import {
  Allocator,
  compute,
  Context,
  downloadF32,
  GGML_TYPE,
  Graph,
  mark,
  Ops,
  upload,
} from "./ggml.ts";
import { copyPrompt, filterAnswer, filterPrompt, labelAnswer, labelPrompt } from "./corpus.ts";
import { fillSequenceInputs, forwardSequences, type Lora, sequenceInputs } from "./model.ts";
import type { BaseModel } from "./models.ts";
import { createRng, shuffle } from "./random.ts";
import { TOKEN } from "./tokenizer.ts";
import type { Example } from "./train.ts";

const GRAPH_SIZE = 16384;

/**
 * The next-token probabilities at each answer position of `example` (from `lossFrom`), given
 * every token before it: row `i` (of the model's vocabulary size) predicts
 * `example.ids[lossFrom + i]`.
 */
export async function teacherForcedProbabilities(
  model: BaseModel,
  example: Example,
  lora?: Lora,
): Promise<Float32Array[]> {
  const vocab = model.config.vocab;
  const logits = await answerLogits(model, example, lora);
  return Array.from({ length: logits.length / vocab }, (_, r) => {
    const row = logits.slice(r * vocab, (r + 1) * vocab);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += row[v] = Math.exp(row[v] - max);
    for (let v = 0; v < vocab; v++) row[v] /= sum;
    return row;
  });
}

/**
 * The most likely next token at each answer position of `example` (from `lossFrom`), given
 * every token before it: entry `i` predicts `example.ids[lossFrom + i]`.
 */
export async function teacherForcedArgmax(
  model: BaseModel,
  example: Example,
  lora?: Lora,
): Promise<number[]> {
  const vocab = model.config.vocab;
  const values = await answerLogits(model, example, lora);
  return Array.from({ length: values.length / vocab }, (_, r) => {
    let best = 0;
    for (let v = 1; v < vocab; v++) {
      if (values[r * vocab + v] > values[r * vocab + best]) best = v;
    }
    return best;
  });
}

/** The logits at each answer position of `example`, row after row, in one forward pass. */
async function answerLogits(
  model: BaseModel,
  example: Example,
  lora?: Lora,
): Promise<Float32Array> {
  const { config: cfg } = model;
  const n = example.ids.length;
  if (n > cfg.context) {
    throw new RangeError(`example of ${n} tokens exceeds the context of ${cfg.context}`);
  }
  const steps = Math.max(8, Math.ceil(n / 8) * 8);
  const ctx = new Context(GRAPH_SIZE, GRAPH_SIZE, false);
  const alloc = new Allocator();
  try {
    const ops = new Ops(ctx);
    const inp = sequenceInputs(ctx, steps, 1);
    const positions = Int32Array.from(
      { length: n - example.lossFrom },
      (_, i) => example.lossFrom - 1 + i,
    );
    const rows = ctx.tensor(GGML_TYPE.I32, positions.length);
    mark.input(rows);
    const logits = forwardSequences(ops, cfg, model.weights, lora, inp, rows);
    mark.output(logits);
    const graph = new Graph(ctx, GRAPH_SIZE, false);
    graph.expand(logits);
    alloc.alloc(graph);
    const tokens = new Int32Array(steps).fill(TOKEN.pad);
    tokens.set(example.ids);
    fillSequenceInputs(inp, tokens);
    upload(rows, positions);
    await compute(graph);
    return downloadF32(logits, cfg.vocab * positions.length);
  } finally {
    alloc.free();
    ctx.free();
  }
}

/** What {@link nameAccuracy} measured. */
export interface NameAccuracy {
  /** Share of country-name tokens in the answers that the model predicts right (0–1). */
  accuracy: number;
  /** Country-name tokens counted. */
  names: number;
  /** Held-out lists per task, and their seed. */
  lists: number;
  seed: number;
}

/** Seed of {@link nameAccuracy}'s lists: no pretraining stream and not the probe's. */
export const NAME_ACCURACY_SEED = 31337;

/**
 * Teacher-forced name accuracy: over `lists` held-out lists of 10–30 countries, the model reads
 * a copy, a label and a filter request with its right answer, and the share of country names in
 * those answers it predicts right (each a whole-word token) is counted.
 */
export async function nameAccuracy(
  model: BaseModel,
  opts: { lists?: number; seed?: number; lora?: Lora } = {},
): Promise<NameAccuracy> {
  const lists = opts.lists ?? 32;
  const seed = opts.seed ?? NAME_ACCURACY_SEED;
  const tax = getTaxonomy("un");
  const continentOf = new Map(tax.countries.map((c) => [c.name, c.continent]));
  const nameIds = new Set(tax.countries.map((c) => model.tokenizer.tokens.indexOf(c.name)));
  nameIds.delete(-1);
  const rng = createRng(seed);
  const sizes = [10, 15, 20, 30];
  let right = 0;
  let names = 0;
  for (let i = 0; i < lists; i++) {
    const list = shuffle(tax.countries.map((c) => c.name), rng).slice(0, sizes[i % sizes.length]);
    const text = list.join(", ");
    const present = CONTINENTS.filter((c) => list.some((n) => continentOf.get(n) === c));
    const cont = present[rng.int(present.length)];
    const chosen = list.filter((n) => continentOf.get(n) === cont);
    for (
      const [prompt, answer] of [
        [copyPrompt(text), text],
        [labelPrompt(text), labelAnswer(list, continentOf)],
        [filterPrompt(cont, text), filterAnswer(cont, chosen)],
      ]
    ) {
      const { ids, answerStart } = model.tokenizer.encodeChat(
        [{ role: "user", content: prompt }],
        answer,
      );
      const example = { ids, lossFrom: answerStart };
      const predicted = await teacherForcedArgmax(model, example, opts.lora);
      predicted.forEach((p, k) => {
        const want = ids[answerStart + k];
        if (!nameIds.has(want)) return;
        names++;
        if (p === want) right++;
      });
    }
  }
  return { accuracy: Math.round((right / names) * 1000) / 1000, names, lists, seed };
}
