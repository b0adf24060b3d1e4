/**
 * Seeded tuning and evaluation datasets for the country-classification task, reproducing the
 * cookbook's generator (`../shared/seed/000_a53116ad567709af.txt`, "튜닝용 데이터셋 생성") in what
 * it produces: the same text templates, the same per-row sampling rule, the same mixes — but
 * deterministic (pure-rand xoroshiro128+), with exact crossed mixes, nested training sizes, an
 * evaluation set that never repeats a training prompt, and validation and statistics.
 *
 * The per-row rule, exactly as the cookbook's Python:
 * 1. sample `k` continents (`random.sample`);
 * 2. sort them by continent size, ascending (stable), to allocate countries;
 * 3. each but the last gets `randint(min, min(available, remaining - left * min))` countries, with
 *    `min` 2 for up to 4 continents and 1 for 5–6; the last takes the remainder;
 * 4. when that is impossible (an empty `randint` range, or a remainder larger than the continent)
 *    the row is rejected and drawn again from scratch;
 * 5. the text lists the selected countries shuffled; the completion lists the continents in the
 *    order they were sampled, each with its countries in the order they were sampled.
 *
 * Writers and readers (tuning CSV, evaluation XLSX, prompt sheets) live in `./sheets.ts` and are
 * re-exported here.
 *
 * @module
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import {
  COMPLETION_PREFIX,
  type Continent,
  CONTINENT_MIX,
  CONTINENTS,
  EVAL_COUNTRY_MIX,
  EVAL_PROMPTS,
  LIST_SEPARATOR,
  TEXT_PREFIX,
  TRAINING_COUNTRY_MIX,
} from "./cookbook.ts";
import { getTaxonomy, type Taxonomy } from "./countries.ts";
import type { CharStats, DatasetStats, MixShare, Prompt } from "./runSchema.ts";

export * from "./sheets.ts";
export type { CharStats, DatasetStats, MixShare, Prompt } from "./runSchema.ts";

/** One continent's block of a completion: the continent and its countries in sampled order. */
export interface CountryGroup {
  continent: Continent;
  countries: readonly string[];
}

/** One tuning row (`Text`, `Completion`) with the draw that made it. */
export interface DatasetRow {
  /** Stable id: `n<countries>k<continents>-<index in its cell stream>`, e.g. `n15k3-00042`. */
  id: string;
  /** The asked countries in the order the text lists them (canonical names). */
  countries: readonly string[];
  /** The completion's blocks: continents in sampled order, countries in sampled order. */
  groups: readonly CountryGroup[];
  /** `TEXT_PREFIX` + countries joined by `, `. */
  text: string;
  /** `COMPLETION_PREFIX` + `대륙: 나라, 나라` blocks separated by a blank line. */
  completion: string;
  countryCount: number;
  continentCount: number;
}

/** A mix: value (countries or continents per row) → integer weight, e.g. `{10: 1, 15: 3}`. */
export type Mix = Readonly<Record<number, number>>;

/** How the training text lists the countries. */
export type TextOrder = "shuffled" | "grouped";

/** Options for {@link generateTrainingSet} and {@link generateNestedTrainingSets}. */
export interface TrainingOptions {
  /** Seed (a 32-bit integer); the same seed and options give the same rows. */
  seed: number;
  /** Countries per row → weight. Default {@link TRAINING_COUNTRY_MIX} (10/15/20/30 as 1:3:3:3). */
  countryMix?: Mix;
  /** Continents per row → weight. Default {@link CONTINENT_MIX} (2–6, equal). */
  continentMix?: Mix;
  /**
   * `shuffled` (default, the cookbook's final data) lists the countries in random order;
   * `grouped` lists them grouped by continent, in completion order (the cookbook's first, worse
   * attempt). Both orders draw the same country sets for the same seed.
   */
  order?: TextOrder;
  /** Country list to draw from; default `getTaxonomy("un")`. */
  taxonomy?: Taxonomy;
}

/** Options for {@link generateEvalSet}. */
export interface EvalOptions {
  seed: number;
  /** Number of prompts (default 100). */
  prompts?: number;
  /** Countries per prompt → weight. Default {@link EVAL_COUNTRY_MIX} (25% each of 10/15/20/30). */
  countryMix?: Mix;
  /** Continents per prompt → weight. Default {@link CONTINENT_MIX}. */
  continentMix?: Mix;
  taxonomy?: Taxonomy;
  /** The `system` column; default `""` (the cookbook's training data had no system prompt). */
  system?: string;
  /** Country sets that must not be asked (the run's training rows); compared as sets. */
  exclude?: Iterable<readonly string[]>;
}

/** One cell of a crossed mix: rows with `countryCount` countries over `continentCount` continents. */
export interface MixCell {
  countryCount: number;
  continentCount: number;
  /** Product of the two weights. */
  weight: number;
}

/** Error for options that cannot produce a dataset (bad mix, impossible cell, bad size). */
export class DatasetOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetOptionsError";
  }
}

// ---------------------------------------------------------------------------------------------
// Mixes and apportionment

/** Validates a mix and returns its entries sorted by value. */
function mixEntries(mix: Mix, what: string, maxValue: number): [number, number][] {
  const entries = Object.entries(mix).map(([k, w]) => [Number(k), w] as [number, number]);
  if (entries.length === 0) throw new DatasetOptionsError(`${what} mix is empty`);
  for (const [value, weight] of entries) {
    if (!Number.isInteger(value) || value < 1 || value > maxValue) {
      throw new DatasetOptionsError(`${what} mix: ${value} is not an integer in 1..${maxValue}`);
    }
    if (!Number.isInteger(weight) || weight < 0) {
      throw new DatasetOptionsError(
        `${what} mix: weight ${weight} for ${value} is not a non-negative integer`,
      );
    }
  }
  if (entries.every(([, w]) => w === 0)) throw new DatasetOptionsError(`${what} mix has no weight`);
  return entries.sort((a, b) => a[0] - b[0]);
}

/**
 * The crossed mix table: every country count × every continent count, weight = product of the
 * two weights. Ordered by country count, then continent count.
 */
export function crossMix(
  countryMix: Mix = TRAINING_COUNTRY_MIX,
  continentMix: Mix = CONTINENT_MIX,
): MixCell[] {
  const countries = mixEntries(countryMix, "country-count", 10_000);
  const continents = mixEntries(continentMix, "continent-count", CONTINENTS.length);
  const cells: MixCell[] = [];
  for (const [countryCount, cw] of countries) {
    for (const [continentCount, kw] of continents) {
      cells.push({ countryCount, continentCount, weight: cw * kw });
    }
  }
  return cells;
}

/**
 * Largest-remainder (Hamilton) apportionment of `total` over integer `weights`: each gets the
 * floor of its quota, and the seats left go to the largest remainders (ties: lower index first).
 * Exact integer arithmetic, so whenever every quota is whole the result is exactly the quotas.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  if (!Number.isSafeInteger(total) || total < 0) {
    throw new DatasetOptionsError(`size ${total} is not a non-negative integer`);
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) throw new DatasetOptionsError("weights sum to zero");
  const counts = weights.map((w) => Math.floor((total * w) / sum));
  const remainders = weights.map((w, i) => ({ i, r: (total * w) % sum }));
  let left = total - counts.reduce((a, b) => a + b, 0);
  remainders.sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of remainders) {
    if (left === 0) break;
    counts[i]++;
    left--;
  }
  return counts;
}

/**
 * Per-cell counts for nested sizes: plain largest remainder for each size, unless that would take
 * a row away from a cell as the size grows (Hamilton's "Alabama paradox"), in which case the
 * larger size keeps the smaller one's counts and adds the extra rows one by one to the cell
 * furthest below its quota. Sizes must be ascending.
 */
function nestedCounts(sizes: readonly number[], weights: readonly number[]): number[][] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const out: number[][] = [];
  let prev: number[] | undefined;
  for (const size of sizes) {
    let counts = apportion(size, weights);
    if (prev && counts.some((c, i) => c < prev![i])) {
      counts = [...prev];
      let extra = size - counts.reduce((a, b) => a + b, 0);
      while (extra-- > 0) {
        let best = 0;
        let bestDeficit = -Infinity;
        for (let i = 0; i < weights.length; i++) {
          if (weights[i] === 0) continue;
          const deficit = (size * weights[i]) / sum - counts[i];
          if (deficit > bestDeficit) {
            best = i;
            bestDeficit = deficit;
          }
        }
        counts[best]++;
      }
    }
    out.push(counts);
    prev = counts;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Random streams and the per-row draw

/** The subset of pure-rand's mutable generator this module uses. */
interface Rng {
  next(): number;
  clone(): Rng;
  jump(): void;
}

/**
 * Independent streams for each (purpose, cell): stream `j` is the seed's generator jumped `j`
 * times (each jump skips 2^64 draws), `j = 2 * (countryCount * 8 + continentCount) + purpose`.
 * Keying streams by the cell's values (not its position) keeps a cell's rows the same when other
 * cells are added to or dropped from a mix.
 */
function cellStreams(seed: number, keys: readonly number[]): Map<number, Rng> {
  const sorted = [...new Set(keys)].sort((a, b) => a - b);
  const out = new Map<number, Rng>();
  const rng = xoroshiro128plus(seed) as Rng;
  let at = 0;
  for (const key of sorted) {
    while (at < key) {
      rng.jump();
      at++;
    }
    out.set(key, rng.clone());
  }
  return out;
}

function streamKey(cell: MixCell, purpose: 0 | 1): number {
  return 2 * (cell.countryCount * 8 + cell.continentCount) + purpose + 1;
}

/** A sort key: 53 random bits. */
function drawKey(rng: Rng): number {
  return (rng.next() >>> 0) * 2097152 + (rng.next() >>> 11);
}

interface Pools {
  /** Country names per continent, indexed like CONTINENTS. */
  names: readonly (readonly string[])[];
}

const poolCache = new WeakMap<Taxonomy, Pools>();

function poolsOf(taxonomy: Taxonomy): Pools {
  let pools = poolCache.get(taxonomy);
  if (!pools) {
    pools = { names: CONTINENTS.map((c) => taxonomy.countriesOf(c).map((x) => x.name)) };
    poolCache.set(taxonomy, pools);
  }
  return pools;
}

interface Draw {
  groups: CountryGroup[];
  shuffled: string[];
}

/**
 * The cookbook's per-row rule on one random stream. Every `random.sample` is a partial
 * Fisher–Yates pass over this sampler's own working copy of the pool (a partial pass over any
 * permutation yields a uniform sample in random order, so the copy need not be reset between
 * rows — and because each stream owns its copies, a stream's rows never depend on another's).
 * All allocations are drawn before any country is: the accept/reject decision depends only on
 * the continents and the allocation, so this gives exactly the distribution of the Python, which
 * sampled countries between its `randint` calls and threw them away on rejection.
 */
class RowSampler {
  readonly #rng: Rng;
  readonly #pools: string[][];
  readonly #continents: number[] = CONTINENTS.map((_, i) => i);
  readonly #picked: number[] = [];
  readonly #bySize: number[] = [];
  readonly #takes = new Int32Array(CONTINENTS.length);

  constructor(rng: Rng, pools: Pools) {
    this.#rng = rng;
    this.#pools = pools.names.map((n) => n.slice());
  }

  /** `random.randint(from, to)`. */
  #int(from: number, to: number): number {
    return uniformInt(this.#rng as never, from, to);
  }

  /** Moves a uniform sample of `k` to the front of `a` (partial Fisher–Yates). */
  #partialShuffle<T>(a: T[], k: number): void {
    const last = a.length - 1;
    for (let i = 0; i < k; i++) {
      const j = this.#int(i, last);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** Picks continents and allocates; `false` where the Python raised `ValueError` (redraw). */
  #allocate(countryCount: number, k: number): boolean {
    this.#partialShuffle(this.#continents, k);
    const picked = this.#picked;
    picked.length = 0;
    for (let i = 0; i < k; i++) picked.push(this.#continents[i]);
    const pools = this.#pools;
    // Stable ascending sort by continent size (insertion sort; k <= 6).
    const bySize = this.#bySize;
    bySize.length = 0;
    for (let i = 0; i < k; i++) bySize.push(picked[i]);
    for (let i = 1; i < bySize.length; i++) {
      const v = bySize[i];
      let j = i - 1;
      while (j >= 0 && pools[bySize[j]].length > pools[v].length) {
        bySize[j + 1] = bySize[j];
        j--;
      }
      bySize[j + 1] = v;
    }
    const min = k <= 4 ? 2 : 1;
    let remaining = countryCount;
    for (let idx = 0; idx < bySize.length; idx++) {
      const c = bySize[idx];
      const available = pools[c].length;
      let take: number;
      if (idx === bySize.length - 1) {
        take = remaining;
        if (take < 1 || take > available) return false;
      } else {
        const maxAssignable = Math.min(available, remaining - (bySize.length - idx - 1) * min);
        if (maxAssignable < min) return false;
        take = this.#int(min, maxAssignable);
      }
      this.#takes[c] = take;
      remaining -= take;
    }
    return true;
  }

  /** Draws until a row satisfies the rule (and `accept`, when given). */
  draw(cell: MixCell, accept?: (d: Draw) => boolean): Draw {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!this.#allocate(cell.countryCount, cell.continentCount)) continue;
      const shuffled: string[] = new Array(cell.countryCount);
      let at = 0;
      const groups: CountryGroup[] = [];
      for (const c of this.#picked) {
        const take = this.#takes[c];
        const pool = this.#pools[c];
        this.#partialShuffle(pool, take);
        const countries = pool.slice(0, take);
        for (let i = 0; i < take; i++) shuffled[at++] = countries[i];
        groups.push({ continent: CONTINENTS[c], countries });
      }
      this.#partialShuffle(shuffled, shuffled.length);
      const d = { groups, shuffled };
      if (!accept || accept(d)) return d;
    }
    throw new DatasetOptionsError(
      `no acceptable row with ${cell.countryCount} countries over ${cell.continentCount} ` +
        `continents after ${MAX_ATTEMPTS} draws (impossible under this taxonomy, or every ` +
        `possible set is excluded)`,
    );
  }
}

const MAX_ATTEMPTS = 100_000;

/** The completion for the given blocks (the cookbook's `completion.strip()` form). */
export function completionText(groups: readonly CountryGroup[]): string {
  return COMPLETION_PREFIX +
    groups.map((g) => `${g.continent}: ${g.countries.join(LIST_SEPARATOR)}`).join("\n\n");
}

/** The prompt text for the given countries. */
export function promptText(countries: readonly string[]): string {
  return TEXT_PREFIX + countries.join(LIST_SEPARATOR);
}

/** The countries a prompt text asks (`TEXT_PREFIX` + names joined by `, `); `[]` if not one. */
export function countriesFromText(text: string): string[] {
  if (!text.startsWith(TEXT_PREFIX)) return [];
  return text.slice(TEXT_PREFIX.length).split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Order-insensitive key of a country set. */
export function countrySetKey(countries: readonly string[]): string {
  return [...countries].sort().join("\n");
}

function makeRow(id: string, cell: MixCell, d: Draw, order: TextOrder): DatasetRow {
  const countries = order === "grouped" ? d.groups.flatMap((g) => g.countries) : d.shuffled;
  return {
    id,
    countries,
    groups: d.groups,
    text: promptText(countries),
    completion: completionText(d.groups),
    countryCount: cell.countryCount,
    continentCount: cell.continentCount,
  };
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 32) {
    throw new DatasetOptionsError(`seed ${seed} is not a 32-bit integer`);
  }
}

function checkCellsPossible(cells: readonly MixCell[], pools: Pools): void {
  const total = pools.names.reduce((a, n) => a + n.length, 0);
  for (const c of cells) {
    if (c.weight === 0) continue;
    const min = c.continentCount <= 4 ? 2 : 1;
    if (c.countryCount < c.continentCount * min || c.countryCount > total) {
      throw new DatasetOptionsError(
        `${c.countryCount} countries over ${c.continentCount} continents cannot satisfy the ` +
          `cookbook's rule (at least ${min} per continent, ${total} countries in the list)`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Generators

/**
 * Training sets for several sizes at once, each the cookbook's mix (exact when the size allows,
 * largest remainder otherwise), nested: every smaller set is a subset of every larger one, and in
 * the same relative order. Each cell of the mix has its own random stream; a set of size `s` takes
 * the first `count(s, cell)` rows of every cell's stream and orders the union by a per-row random
 * key, so a set is the same whichever other sizes are asked for.
 */
export function generateNestedTrainingSets(
  sizes: readonly number[],
  opts: TrainingOptions,
): Map<number, DatasetRow[]> {
  checkSeed(opts.seed);
  const taxonomy = opts.taxonomy ?? getTaxonomy("un");
  const order = opts.order ?? "shuffled";
  if (order !== "shuffled" && order !== "grouped") {
    throw new DatasetOptionsError(`order must be "shuffled" or "grouped", not ${String(order)}`);
  }
  const cells = crossMix(
    opts.countryMix ?? TRAINING_COUNTRY_MIX,
    opts.continentMix ?? CONTINENT_MIX,
  );
  const pools = poolsOf(taxonomy);
  checkCellsPossible(cells, pools);
  const ascending = [...new Set(sizes)].sort((a, b) => a - b);
  const weights = cells.map((c) => c.weight);
  const counts = nestedCounts(ascending, weights);
  const largest = counts.length ? counts[counts.length - 1] : cells.map(() => 0);
  const streams = cellStreams(opts.seed, cells.map((c) => streamKey(c, 0)));

  // Rows of every cell, laid out cell after cell; `keys[g]` orders row `g` within a set.
  const offsets: number[] = [];
  let total = 0;
  for (const n of largest) {
    offsets.push(total);
    total += n;
  }
  const keys = new Float64Array(total);
  const all: DatasetRow[] = new Array(total);
  cells.forEach((cell, ci) => {
    const rng = streams.get(streamKey(cell, 0))!;
    const sampler = new RowSampler(rng, pools);
    const prefix = `n${cell.countryCount}k${cell.continentCount}-`;
    for (let i = 0; i < largest[ci]; i++) {
      keys[offsets[ci] + i] = drawKey(rng);
      const id = prefix + String(i + 1).padStart(5, "0");
      all[offsets[ci] + i] = makeRow(id, cell, sampler.draw(cell), order);
    }
  });

  const out = new Map<number, DatasetRow[]>();
  ascending.forEach((size, si) => {
    const picked: number[] = [];
    cells.forEach((_, ci) => {
      for (let i = 0; i < counts[si][ci]; i++) picked.push(offsets[ci] + i);
    });
    picked.sort((a, b) => keys[a] - keys[b] || a - b);
    out.set(size, picked.map((g) => all[g]));
  });
  return out;
}

/**
 * One training set of `rows` rows (the cookbook's generator, seeded). Equal to
 * `generateNestedTrainingSets([rows], opts).get(rows)`, so a smaller set with the same seed and
 * mix is a subset of a larger one whenever no cell's count shrinks as the size grows (always for
 * multiples of 50 with the cookbook's mix; for other sizes ask {@link generateNestedTrainingSets}
 * for all sizes at once, which guarantees nesting).
 */
export function generateTrainingSet(opts: TrainingOptions & { rows: number }): DatasetRow[] {
  return generateNestedTrainingSets([opts.rows], opts).get(opts.rows)!;
}

/**
 * The evaluation set: `prompts` prompts (default 100: 25 per country count, 20 per continent
 * count, 5 per cell), drawn with the same rule from streams separate from the training streams,
 * none asking a country set in `exclude` or asking the same set twice (such draws are redrawn).
 * Ids `e001`… follow a random order.
 */
export function generateEvalSet(opts: EvalOptions): Prompt[] {
  checkSeed(opts.seed);
  const taxonomy = opts.taxonomy ?? getTaxonomy("un");
  const total = opts.prompts ?? EVAL_PROMPTS;
  const cells = crossMix(opts.countryMix ?? EVAL_COUNTRY_MIX, opts.continentMix ?? CONTINENT_MIX);
  const pools = poolsOf(taxonomy);
  checkCellsPossible(cells, pools);
  const counts = apportion(total, cells.map((c) => c.weight));
  const used = new Set<string>();
  for (const countries of opts.exclude ?? []) used.add(countrySetKey(countries));
  const streams = cellStreams(opts.seed, cells.map((c) => streamKey(c, 1)));
  const drawn: { key: number; cell: MixCell; ci: number; index: number; d: Draw }[] = [];
  cells.forEach((cell, ci) => {
    const rng = streams.get(streamKey(cell, 1))!;
    const sampler = new RowSampler(rng, pools);
    for (let i = 0; i < counts[ci]; i++) {
      const key = drawKey(rng);
      const d = sampler.draw(cell, (d) => !used.has(countrySetKey(d.shuffled)));
      used.add(countrySetKey(d.shuffled));
      drawn.push({ key, cell, ci, index: i, d });
    }
  });
  drawn.sort((a, b) => a.key - b.key || a.ci - b.ci || a.index - b.index);
  const width = Math.max(3, String(total).length);
  const system = opts.system ?? "";
  return drawn.map(({ cell, d }, i) => ({
    id: `e${String(i + 1).padStart(width, "0")}`,
    system,
    user: promptText(d.shuffled),
    countries: d.shuffled,
    countryCount: cell.countryCount,
    continentCount: cell.continentCount,
  }));
}

// ---------------------------------------------------------------------------------------------
// Overlap, validation and statistics

/** Anything that asks a list of countries: a training row, an eval prompt, a sheet row. */
export interface AskedCountries {
  id?: string;
  promptId?: string;
  countries?: readonly string[];
}

/** Evaluation prompts that ask the same country set as some training row. */
export interface OverlapReport {
  evalPrompts: number;
  trainingRows: number;
  /** Number of evaluation prompts whose set appears in training. */
  overlapping: number;
  /** Each overlapping evaluation prompt with the first training row asking its set. */
  pairs: { evalId: string; trainId: string; countries: string[] }[];
}

/** Compares evaluation prompts with training rows as country sets (order-insensitive). */
export function checkOverlap(
  evalPrompts: Iterable<AskedCountries>,
  training: Iterable<AskedCountries>,
): OverlapReport {
  const seen = new Map<string, string>();
  let trainingRows = 0;
  for (const row of training) {
    trainingRows++;
    const key = countrySetKey(row.countries ?? []);
    if (!seen.has(key)) seen.set(key, row.id ?? row.promptId ?? `#${trainingRows}`);
  }
  const pairs: OverlapReport["pairs"] = [];
  let evalCount = 0;
  for (const p of evalPrompts) {
    evalCount++;
    const countries = [...(p.countries ?? [])];
    const trainId = seen.get(countrySetKey(countries));
    if (trainId !== undefined) {
      pairs.push({ evalId: p.id ?? p.promptId ?? `#${evalCount}`, trainId, countries });
    }
  }
  return { evalPrompts: evalCount, trainingRows, overlapping: pairs.length, pairs };
}

/** A row whose strings break the cookbook's format or the taxonomy. */
export interface RowProblem {
  id: string;
  problem: string;
}

/**
 * Checks rows from their strings alone (not the structured fields): the text and completion
 * templates, every completion country under its own continent in the taxonomy, the completion
 * listing exactly the asked countries, the block and country counts, and the cookbook's minimum
 * per continent (2 for up to 4 continents, else 1).
 */
export function validateRows(
  rows: Iterable<Pick<DatasetRow, "id" | "text" | "completion">>,
  opts: { taxonomy?: Taxonomy } = {},
): RowProblem[] {
  const taxonomy = opts.taxonomy ?? getTaxonomy("un");
  const byName = new Map(taxonomy.countries.map((c) => [c.name, c]));
  const continentNames: ReadonlySet<string> = new Set(CONTINENTS);
  const problems: RowProblem[] = [];
  for (const row of rows) {
    const bad = (problem: string) => problems.push({ id: row.id, problem });
    if (!row.text.startsWith(TEXT_PREFIX)) {
      bad("text does not start with the template");
      continue;
    }
    if (!row.completion.startsWith(COMPLETION_PREFIX)) {
      bad("completion does not start with the template");
      continue;
    }
    const asked = row.text.slice(TEXT_PREFIX.length).split(LIST_SEPARATOR);
    const blocks = row.completion.slice(COMPLETION_PREFIX.length).split("\n\n");
    const answered: string[] = [];
    const continents = new Set<string>();
    for (const block of blocks) {
      const m = /^([^:\n]+): ([^\n]+)$/.exec(block);
      if (!m) {
        bad(`malformed block ${JSON.stringify(block)}`);
        continue;
      }
      const continent = m[1];
      if (!continentNames.has(continent)) {
        bad(`unknown continent ${JSON.stringify(continent)}`);
        continue;
      }
      if (continents.has(continent)) bad(`continent ${continent} listed twice`);
      continents.add(continent);
      const names = m[2].split(LIST_SEPARATOR);
      const min = blocks.length <= 4 ? 2 : 1;
      if (names.length < min) bad(`${continent} has ${names.length} < ${min} countries`);
      for (const name of names) {
        const country = byName.get(name);
        if (!country) bad(`${JSON.stringify(name)} is not a country name`);
        else if (country.continent !== continent) {
          bad(`${name} listed under ${continent}, belongs to ${country.continent}`);
        }
        answered.push(name);
      }
    }
    if (!sameCountries(asked, answered)) {
      bad("completion does not list exactly the asked countries");
    }
    if (new Set(asked).size !== asked.length) bad("text repeats a country");
  }
  return problems;
}

/** Whether two lists hold the same names, each the same number of times (in any order). */
function sameCountries(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const counts = new Map<string, number>();
  for (const name of a) counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const name of b) {
    const n = counts.get(name);
    if (!n) return false;
    counts.set(name, n - 1);
  }
  return true;
}

function charStats(lengths: readonly number[]): CharStats {
  if (lengths.length === 0) return { min: 0, mean: 0, max: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const n of lengths) {
    if (n < min) min = n;
    if (n > max) max = n;
    sum += n;
  }
  return { min, mean: sum / lengths.length, max };
}

function shares(values: readonly number[]): MixShare[] {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([value, rows]) => ({
    value,
    rows,
    share: values.length ? rows / values.length : 0,
  }));
}

/** Statistics of training rows or evaluation prompts (see {@link DatasetStats}). */
export function datasetStats(
  rows: readonly DatasetRow[] | readonly Prompt[],
  opts: { taxonomy?: Taxonomy } = {},
): DatasetStats {
  const taxonomy = opts.taxonomy ?? getTaxonomy("un");
  const list = rows as readonly (DatasetRow | Prompt)[];
  const texts = list.map((r) => ("text" in r ? r.text : r.user).length);
  const isTraining = list.length > 0 && list.every((r) => "completion" in r);
  const completions = isTraining ? list.map((r) => (r as DatasetRow).completion.length) : [];
  const cellCounts = new Map<
    string,
    { countryCount: number; continentCount: number; rows: number }
  >();
  const seenSets = new Map<string, number>();
  const used = new Set<string>();
  for (const r of list) {
    const ck = `${r.countryCount}/${r.continentCount}`;
    const cell = cellCounts.get(ck) ??
      { countryCount: r.countryCount, continentCount: r.continentCount, rows: 0 };
    cell.rows++;
    cellCounts.set(ck, cell);
    const sk = countrySetKey(r.countries);
    seenSets.set(sk, (seenSets.get(sk) ?? 0) + 1);
    for (const c of r.countries) used.add(c);
  }
  const listed = new Set(taxonomy.countries.map((c) => c.name));
  const repeated = [...seenSets.values()].filter((n) => n > 1);
  return {
    rows: list.length,
    textChars: charStats(texts),
    completionChars: isTraining ? charStats(completions) : null,
    totalChars: texts.reduce((a, b) => a + b, 0) + completions.reduce((a, b) => a + b, 0),
    byCountryCount: shares(list.map((r) => r.countryCount)),
    byContinentCount: shares(list.map((r) => r.continentCount)),
    cells: [...cellCounts.values()].sort((a, b) =>
      a.countryCount - b.countryCount || a.continentCount - b.continentCount
    ),
    coverage: {
      list: taxonomy.list,
      countries: listed.size,
      used: [...used].filter((n) => listed.has(n)).length,
      neverUsed: taxonomy.countries.map((c) => c.name).filter((n) => !used.has(n)),
      unknown: [...used].filter((n) => !listed.has(n)).sort(),
    },
    duplicates: { rows: repeated.reduce((a, n) => a + n - 1, 0), sets: repeated.length },
  };
}
