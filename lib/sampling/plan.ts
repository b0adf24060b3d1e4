/**
 * What a seeded dataset draws before any row is drawn: the crossed mix of countries × continents
 * per row, how many rows each cell of the mix gets (largest remainder, nested across sizes), one
 * independent random stream per cell, and the random key that orders the rows of a set. The
 * country generator (`lib/datasets/`) and the task generator (`lib/tasks/`) both lay out their
 * draw with {@link planNested} and draw it with `./sampler.ts`.
 *
 * @module
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { CONTINENT_MIX, CONTINENTS, TRAINING_COUNTRY_MIX } from "../cookbook.ts";
import { getTaxonomy, type Taxonomy } from "../countries/mod.ts";
import type { CharStats } from "../run/mod.ts";

/** A mix: value (countries or continents per row) → integer weight, e.g. `{10: 1, 15: 3}`. */
export type Mix = Readonly<Record<number, number>>;

/** How the training text lists the countries. */
export type TextOrder = "shuffled" | "grouped";

/** Options for the training-set generators (`generateTrainingSet` and the others). */
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
 * two weights. Ordered by country count, then continent count. `groups` is how many continents
 * (groups) the taxonomy has: the most a row can span.
 */
export function crossMix(
  countryMix: Mix = TRAINING_COUNTRY_MIX,
  continentMix: Mix = CONTINENT_MIX,
  groups: number = CONTINENTS.length,
): MixCell[] {
  const countries = mixEntries(countryMix, "country-count", 10_000);
  const continents = mixEntries(continentMix, "continent-count", groups);
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
export function nestedCounts(sizes: readonly number[], weights: readonly number[]): number[][] {
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
// Random streams

/** The subset of pure-rand's mutable generator the generators use. */
export interface Rng {
  next(): number;
  clone(): Rng;
  jump(): void;
  /** xoroshiro128+'s state, as `xoroshiro128plusFromState` takes it. */
  getState(): readonly number[];
}

/**
 * Independent streams for each (purpose, cell): stream `j` is the seed's generator jumped `j`
 * times (each jump skips 2^64 draws), `j = 2 * (countryCount * 8 + continentCount) + purpose`
 * (+1), purpose 0 for training rows and 1 for evaluation prompts. Keying streams by the cell's
 * values (not its position) keeps a cell's rows the same when other cells are added to or
 * dropped from a mix. Returns one stream per cell, in the cells' order. A taxonomy of more than
 * seven groups keys by `groups + 1` in place of 8, so that no two cells share a stream.
 */
export function cellStreams(
  seed: number,
  cells: readonly MixCell[],
  purpose: 0 | 1,
  groups: number = CONTINENTS.length,
): Rng[] {
  const slots = Math.max(8, groups + 1);
  const keys = cells.map((c) => 2 * (c.countryCount * slots + c.continentCount) + purpose + 1);
  const sorted = [...new Set(keys)].sort((a, b) => a - b);
  const byKey = new Map<number, Rng>();
  const rng = xoroshiro128plus(seed) as Rng;
  let at = 0;
  for (const key of sorted) {
    while (at < key) {
      rng.jump();
      at++;
    }
    byKey.set(key, rng.clone());
  }
  return keys.map((k) => byKey.get(k)!);
}

/** A row's sort key: 53 random bits, drawn from its cell's stream just before the row. */
export function drawKey(rng: Rng): number {
  return (rng.next() >>> 0) * 2097152 + (rng.next() >>> 11);
}

// ---------------------------------------------------------------------------------------------
// Checks and the training plan

/** Throws unless `seed` is a 32-bit integer. */
export function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 32) {
    throw new DatasetOptionsError(`seed ${seed} is not a 32-bit integer`);
  }
}

/** Throws unless every weighted cell can satisfy the cookbook's rule under `taxonomy`. */
export function checkCellsPossible(cells: readonly MixCell[], taxonomy: Taxonomy): void {
  const total = CONTINENTS.reduce((a, c) => a + taxonomy.countriesOf(c).length, 0);
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

/**
 * A nested draw laid out before its first row: each cell's stream gives its rows in turn (a row's
 * key, then the row), and the set of size `sizes[s]` takes the first `counts[s][c]` rows of every
 * cell `c`.
 */
export interface NestedPlan {
  cells: MixCell[];
  /** The distinct sizes asked for, ascending. */
  sizes: number[];
  /** `counts[s][c]`: rows of cell `c` in the set of size `sizes[s]`. */
  counts: number[][];
  /** Rows drawn from each cell's stream (its count in the largest set). */
  drawn: number[];
  /** Where each cell's rows start when every cell's rows are laid out cell after cell. */
  offsets: number[];
  /** Rows drawn in all. */
  total: number;
  /** Each cell's random stream, in the cells' order. */
  streams: Rng[];
}

/**
 * Lays out a nested draw of `cells` for `sizes` on the training streams of `seed` (`groups`: how
 * many groups the taxonomy has, see {@link cellStreams}).
 */
export function planNested(
  seed: number,
  cells: MixCell[],
  sizes: readonly number[],
  groups: number = CONTINENTS.length,
): NestedPlan {
  const ascending = [...new Set(sizes)].sort((a, b) => a - b);
  const counts = nestedCounts(ascending, cells.map((c) => c.weight));
  const drawn = counts.length ? counts[counts.length - 1] : cells.map(() => 0);
  const offsets: number[] = [];
  let total = 0;
  for (const n of drawn) {
    offsets.push(total);
    total += n;
  }
  const streams = cellStreams(seed, cells, 0, groups);
  return { cells, sizes: ascending, counts, drawn, offsets, total, streams };
}

/** Everything a nested country draw needs before its first row (see {@link planTraining}). */
export interface TrainingPlan extends NestedPlan {
  taxonomy: Taxonomy;
  order: TextOrder;
}

/** Checks the country generator's options and lays out its nested draw ({@link planNested}). */
export function planTraining(sizes: readonly number[], opts: TrainingOptions): TrainingPlan {
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
  checkCellsPossible(cells, taxonomy);
  return { taxonomy, order, ...planNested(opts.seed, cells, sizes) };
}

/**
 * The rows of the set of size `plan.sizes[s]`, as indices into the cell-after-cell layout, in
 * the set's order: ascending key, ties by index.
 */
export function setOrder(plan: NestedPlan, s: number, keys: Float64Array): number[] {
  const picked: number[] = [];
  plan.cells.forEach((_, ci) => {
    for (let i = 0; i < plan.counts[s][ci]; i++) picked.push(plan.offsets[ci] + i);
  });
  return picked.sort((a, b) => keys[a] - keys[b] || a - b);
}

/** Shortest, mean and longest of `lengths` (all 0 when there are none). */
export function charStats(lengths: ArrayLike<number>): CharStats {
  if (lengths.length === 0) return { min: 0, mean: 0, max: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < lengths.length; i++) {
    const n = lengths[i];
    if (n < min) min = n;
    if (n > max) max = n;
    sum += n;
  }
  return { min, mean: sum / lengths.length, max };
}
