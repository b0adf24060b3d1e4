/**
 * The **reference learner**: the transparent model behind every emulator answer. It is not a
 * language model and is named as such wherever its answers appear.
 *
 * Tuning: every training row's `Completion` is read as the cookbook's format — a first line
 * (the prefix), then `대륙: 나라, 나라` blocks — and each (country, continent) pair is counted,
 * once per epoch. The most common non-block first line becomes the learned prefix. Any labels
 * work (the items and groups of any taxonomy); the cookbook's six continents are candidates only
 * when the rows use one of them (and for a base model). Rows whose completions hold no block at
 * all (a label, a short answer) are learned whole: each (prompt text, completion) is a pair, the
 * prompt standing for the item and the completion for its group, and an answer is the completion
 * of the best-scoring pair.
 *
 * Train loss (a real figure, not a curve): rows are processed in order in batches of
 * `batchSize`, epoch after epoch; a step's loss is the mean negative log-likelihood (nats) of
 * the correct continent for each pair in the batch under the counts **before** that batch,
 * add-one smoothed over the K known continents: `-ln((n(country, continent) + 1) / (N(country) + K))`.
 * Epoch 1 is therefore a prequential (predict-then-learn) loss; later epochs measure the
 * learner on rows it has already counted, so the loss keeps falling with each pass.
 *
 * Answering: the country list is the last user message's text after its first blank line
 * (the whole text when it has none), split on commas/new lines. Each country gets a score per
 * continent — its pair count when it was seen in training, otherwise the largest number of
 * distinct character bigrams it shares with any known country of that continent (a known
 * country belongs to its most-counted continent). With `temperature` 0 the highest score wins;
 * with `temperature` > 0 the continent is sampled with weights `(score + 1)^(1 / temperature)`
 * from a stream seeded by (emulator seed, request seed, prompt), so the same request always
 * gets the same answer. Remaining ties break by a seeded hash. An untuned base model knows no
 * pairs and no prefix: every score is 0, so each country lands on a seeded uniform guess and
 * the answer has no prefix line. Blocks follow the first appearance of their continent in the
 * asked list; countries keep the asked order.
 *
 * @module
 */
import { COMPLETION_PREFIX, CONTINENTS } from "../../cookbook.ts";
import { hash32 } from "../../io/mod.ts";
import { keyedRng } from "./random.ts";

/** Name shown in answers' metadata and in docs. */
export const LEARNER_NAME = "reference learner";

/** What the reference learner knows: counts per (country, continent) and the learned prefix. */
export interface LearnerModel {
  /** Learned first line of an answer (null for a base model). */
  prefix: string | null;
  /** Candidate continent labels: the cookbook's six, then any new label seen in training. */
  continents: string[];
  /** `counts[country][continent]` = times the pair was counted (all epochs). */
  counts: Record<string, Record<string, number>>;
  /** Learned whole: the pairs are (prompt text, completion), and an answer is a completion. */
  whole?: true;
}

/** A base model: no pairs, no prefix. */
export function baseModel(): LearnerModel {
  return { prefix: null, continents: [...CONTINENTS], counts: {} };
}

/** A completion split into its first line (when it is not a block) and its blocks. */
export interface ParsedCompletion {
  prefix: string | null;
  pairs: [country: string, continent: string][];
}

const BLOCK_RE = /^\s*([^:\n]{1,40}?)\s*:\s*(.*)$/;

/** Reads `prefix\n\n대륙: a, b\n\n대륙: c` into its prefix and (country, continent) pairs. */
export function parseCompletion(text: string): ParsedCompletion {
  const lines = text.split(/\r?\n/);
  let prefix: string | null = null;
  const pairs: [string, string][] = [];
  let first = true;
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    const m = BLOCK_RE.exec(line);
    if (m) {
      for (const c of splitList(m[2])) pairs.push([c, m[1].trim()]);
    } else if (first) {
      prefix = line;
    }
    first = false;
  }
  return { prefix, pairs };
}

function splitList(text: string): string[] {
  return text.split(/\s*[,\n]\s*/).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** The country list of a prompt: text after the first blank line, split on `, ` / new lines. */
export function parseCountryList(userText: string): string[] {
  const text = userText.replace(/\r\n/g, "\n");
  const blank = text.search(/\n[ \t]*\n/);
  const list = blank >= 0 ? text.slice(blank).trim() : text.trim();
  return [...new Set(splitList(list))];
}

/** Result of {@link train}. */
export interface TrainingRun {
  model: LearnerModel;
  /** Loss of every step, in order (length = steps per epoch × epochs). */
  stepLoss: number[];
  /** Steps per epoch = ceil(rows / batchSize). */
  stepsPerEpoch: number;
  /** Pairs counted in one pass over the rows. */
  pairsPerEpoch: number;
}

/** Trains the reference learner on completions; see the module doc for the loss definition. */
export function train(
  completions: readonly string[],
  opts: {
    epochs: number;
    batchSize: number;
    /** The rows' prompt texts: rows with no block in any completion are then learned whole. */
    texts?: readonly string[];
  },
): TrainingRun {
  let parsed = completions.map(parseCompletion);
  const texts = opts.texts;
  const whole = texts !== undefined && parsed.length > 0 && parsed.every((p) => !p.pairs.length);
  if (whole) {
    parsed = completions.map((c, i) => ({
      prefix: null,
      pairs: [[texts[i].trim(), c.trim()]] as [string, string][],
    }));
  }
  const cookbook: readonly string[] = CONTINENTS;
  const usesContinents = parsed.every((p) => !p.pairs.length) ||
    parsed.some((p) => p.pairs.some(([, c]) => cookbook.includes(c)));
  const continents: string[] = usesContinents && !whole ? [...CONTINENTS] : [];
  const prefixVotes = new Map<string, number>();
  for (const p of parsed) {
    for (const [, c] of p.pairs) if (!continents.includes(c)) continents.push(c);
    if (p.prefix) prefixVotes.set(p.prefix, (prefixVotes.get(p.prefix) ?? 0) + 1);
  }
  let prefix: string | null = null;
  let best = 0;
  for (const [p, n] of prefixVotes) {
    if (n > best) [prefix, best] = [p, n];
  }
  const k = continents.length;
  // Every pair as numbers: country `c` (in order of first appearance), continent `j` (index into
  // `continents`); `counts[c * k + j]` and `totals[c]` are the counts so far.
  const countryOf = new Map<string, number>();
  const continentOf = new Map(continents.map((c, j) => [c, j]));
  const rowStart = new Int32Array(parsed.length + 1);
  let pairsPerEpoch = 0;
  for (let r = 0; r < parsed.length; r++) {
    rowStart[r] = pairsPerEpoch;
    pairsPerEpoch += parsed[r].pairs.length;
  }
  rowStart[parsed.length] = pairsPerEpoch;
  const pairCountry = new Int32Array(pairsPerEpoch);
  const pairContinent = new Int32Array(pairsPerEpoch);
  let at = 0;
  for (const p of parsed) {
    for (const [country, continent] of p.pairs) {
      let c = countryOf.get(country);
      if (c === undefined) countryOf.set(country, c = countryOf.size);
      pairCountry[at] = c;
      pairContinent[at++] = continentOf.get(continent)!;
    }
  }
  const counts = new Float64Array(countryOf.size * k);
  const totals = new Float64Array(countryOf.size);
  const stepLoss: number[] = [];
  const batch = Math.max(1, Math.floor(opts.batchSize));
  const stepsPerEpoch = Math.max(1, Math.ceil(parsed.length / batch));
  for (let e = 0; e < opts.epochs; e++) {
    for (let s = 0; s < stepsPerEpoch; s++) {
      const from = rowStart[Math.min(s * batch, parsed.length)];
      const to = rowStart[Math.min((s + 1) * batch, parsed.length)];
      let sum = 0;
      for (let q = from; q < to; q++) {
        const c = pairCountry[q];
        sum -= Math.log((counts[c * k + pairContinent[q]] + 1) / (totals[c] + k));
      }
      for (let q = from; q < to; q++) {
        counts[pairCountry[q] * k + pairContinent[q]]++;
        totals[pairCountry[q]]++;
      }
      const n = to - from;
      stepLoss.push(n ? Math.round((sum / n) * 1e6) / 1e6 : 0);
    }
  }
  // Countries, and each one's continents, in the order they were first counted.
  const seen = new Map<string, Map<string, number>>();
  if (opts.epochs > 0) {
    for (const p of parsed) {
      for (const [country, continent] of p.pairs) {
        let m = seen.get(country);
        if (!m) seen.set(country, m = new Map());
        if (!m.has(continent)) {
          m.set(continent, counts[countryOf.get(country)! * k + continentOf.get(continent)!]);
        }
      }
    }
  }
  const out: Record<string, Record<string, number>> = {};
  for (const [country, m] of seen) out[country] = Object.fromEntries(m);
  const model: LearnerModel = { prefix, continents, counts: out };
  if (whole) model.whole = true;
  return { model, stepLoss, stepsPerEpoch, pairsPerEpoch };
}

const knownPairsCache = new WeakMap<LearnerModel, number>();

/** Number of distinct (country, continent) pairs the model knows (counted once per model). */
export function knownPairs(model: LearnerModel): number {
  let n = knownPairsCache.get(model);
  if (n === undefined) {
    n = 0;
    for (const m of Object.values(model.counts)) n += Object.keys(m).length;
    knownPairsCache.set(model, n);
  }
  return n;
}

function bigrams(name: string): Set<string> {
  const s = name.replace(/\s+/g, "");
  const out = new Set<string>();
  for (let i = 0; i + 1 < s.length; i++) out.add(s.slice(i, i + 2));
  if (s.length === 1) out.add(s);
  return out;
}

interface KnownIndex {
  /** bigram → list of [known country, its top continent]. */
  byBigram: Map<string, { country: string; continent: string }[]>;
}

const indexCache = new WeakMap<LearnerModel, KnownIndex>();

function topContinent(model: LearnerModel, country: string, tieSeed: number): string {
  return argmax(model.continents, (c) => model.counts[country]?.[c] ?? 0, country, tieSeed);
}

function knownIndex(model: LearnerModel, tieSeed: number): KnownIndex {
  let idx = indexCache.get(model);
  if (idx) return idx;
  const byBigram = new Map<string, { country: string; continent: string }[]>();
  for (const country of Object.keys(model.counts)) {
    const continent = topContinent(model, country, tieSeed);
    for (const b of bigrams(country)) {
      let list = byBigram.get(b);
      if (!list) byBigram.set(b, list = []);
      list.push({ country, continent });
    }
  }
  idx = { byBigram };
  indexCache.set(model, idx);
  return idx;
}

function argmax(
  options: readonly string[],
  score: (o: string, i: number) => number,
  key: string,
  tieSeed: number,
): string {
  let best = options[0];
  let bestScore = -Infinity;
  let bestTie = Infinity;
  for (let i = 0; i < options.length; i++) {
    const o = options[i];
    const s = score(o, i);
    const tie = hash32(`${tieSeed}|${key}|${o}`);
    if (s > bestScore || (s === bestScore && tie < bestTie)) {
      best = o;
      bestScore = s;
      bestTie = tie;
    }
  }
  return best;
}

/**
 * One country's score for each of `model.continents`, in their order: its pair counts if it was
 * seen, else, per continent, the most bigrams it shares with a known country of that continent.
 */
function continentScores(model: LearnerModel, country: string, tieSeed: number): number[] {
  const continents = model.continents;
  const scores = new Array<number>(continents.length).fill(0);
  const seen = model.counts[country];
  if (seen) {
    for (const c in seen) {
      const i = continents.indexOf(c);
      if (i >= 0) scores[i] = seen[c];
    }
    return scores;
  }
  const idx = knownIndex(model, tieSeed);
  // A base model knows no country: nothing shares a bigram.
  if (idx.byBigram.size === 0) return scores;
  const shared = new Map<string, number>(); // known country → shared bigrams
  const home = new Map<string, string>();
  for (const b of bigrams(country)) {
    for (const { country: k, continent } of idx.byBigram.get(b) ?? []) {
      shared.set(k, (shared.get(k) ?? 0) + 1);
      home.set(k, continent);
    }
  }
  for (const [k, n] of shared) {
    const i = continents.indexOf(home.get(k)!);
    if (n > scores[i]) scores[i] = n;
  }
  return scores;
}

/** Options for {@link answer}. */
export interface AnswerOptions {
  /** 0 = greedy; > 0 = seeded sampling with weights `(score + 1)^(1 / temperature)`. */
  temperature: number;
  /** The request's seed (already resolved, never 0 here). */
  seed: number;
  /** The emulator's seed (tie-breaks and the sampling stream). */
  emulatorSeed: number;
}

/** Answers a classification prompt in the learned completion format (see module doc). */
export function answer(model: LearnerModel, userText: string, opts: AnswerOptions): string {
  const rng = keyedRng(opts.emulatorSeed, opts.seed, userText);
  const choose = (country: string): string => {
    const scores = continentScores(model, country, opts.emulatorSeed);
    if (opts.temperature <= 0) {
      return argmax(model.continents, (_, i) => scores[i], country, opts.emulatorSeed);
    }
    const inv = 1 / opts.temperature;
    // Normalise by the best score first so large counts cannot overflow.
    const top = Math.max(...scores);
    const weights = scores.map((score) => Math.pow((score + 1) / (top + 1), inv));
    const total = weights.reduce((a, b) => a + b, 0);
    let u = rng.next() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) return model.continents[i];
    }
    return model.continents[model.continents.length - 1];
  };
  if (model.whole) return choose(userText.trim());
  const countries = parseCountryList(userText);
  const groups = new Map<string, string[]>();
  for (const country of countries) {
    const chosen = choose(country);
    let list = groups.get(chosen);
    if (!list) groups.set(chosen, list = []);
    list.push(country);
  }
  const blocks = [...groups].map(([c, list]) => `${c}: ${list.join(", ")}`);
  const head = model.prefix === null ? [] : [model.prefix];
  return [...head, ...blocks].join("\n\n");
}

/** The cookbook's completion prefix line (what a tuned learner normally learns). */
export const COOKBOOK_PREFIX_LINE = COMPLETION_PREFIX.trim();
