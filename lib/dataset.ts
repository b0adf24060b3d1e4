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
import { Buffer } from "node:buffer";
import { getTaxonomy, type Taxonomy, type TaxonomyListName } from "./countries.ts";

export * from "./sheets.ts";

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

/** One evaluation prompt (a row of the cookbook's `system`/`user` spreadsheet plus metadata). */
export interface EvalPrompt {
  /** `e001`, `e002`, … */
  id: string;
  system: string;
  user: string;
  /** The asked countries in prompt order (canonical names). */
  countries: readonly string[];
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

/**
 * A taxonomy's country list prepared for drawing and writing. Samplers shuffle country ids
 * (indexes into `name`); the row builder copies the UTF-16 code units of prepared pieces from
 * `units`. Piece `id` (below `total`) is a name followed by the list separator; piece
 * {@link textEndPiece}`(id, c)` is a name that ends a text, then the completion prefix and
 * continent `c`'s block head; piece {@link blockEndPiece}`(id, c)` is a name that ends a
 * completion block, then the block separator and the next block's head. So a row with `n`
 * countries takes `2n + 1` pieces.
 */
interface Pools {
  /** Country ids per continent, indexed like CONTINENTS, in the taxonomy's order. */
  ids: readonly (readonly number[])[];
  /** Id → canonical name. */
  name: readonly string[];
  /** Canonical name → id (names holding a line feed left out, see {@link setKey}). */
  idOf: ReadonlyMap<string, number>;
  /** Number of countries. */
  total: number;
  /** The code units of every piece, back to back. */
  units: Uint16Array;
  /** Piece → where its code units start in `units`, and where they end. */
  start: Int32Array;
  end: Int32Array;
  /** The most code units a row with `n` countries over `k` continents can take is below
   * `rowFixed + n * perCountry + k * perContinent`. */
  rowFixed: number;
  perCountry: number;
  perContinent: number;
}

/** Between a completion block's continent and its countries. */
const HEAD_SEPARATOR = ": ";
/** Between completion blocks. */
const BLOCK_SEPARATOR = "\n\n";

/** Piece: name `id`, the completion prefix and continent `c`'s head (see {@link Pools}). */
function textEndPiece(total: number, id: number, c: number): number {
  return total + CONTINENTS.length * id + c;
}

/** Piece: name `id`, the block separator and continent `c`'s head (see {@link Pools}). */
function blockEndPiece(total: number, id: number, c: number): number {
  return total + CONTINENTS.length * (total + id) + c;
}

/** Piece: the text prefix (see {@link Pools}). */
function textPrefixPiece(total: number): number {
  return total + CONTINENTS.length * 2 * total;
}

const poolCache = new WeakMap<Taxonomy, Pools>();

function poolsOf(taxonomy: Taxonomy): Pools {
  let pools = poolCache.get(taxonomy);
  if (!pools) {
    const name: string[] = [];
    const ids = CONTINENTS.map((c) =>
      taxonomy.countriesOf(c).map((x) => {
        name.push(x.name);
        return name.length - 1;
      })
    );
    const heads = CONTINENTS.map((c) => c + HEAD_SEPARATOR);
    // In the order textEndPiece, blockEndPiece and textPrefixPiece number them.
    const pieces = [
      ...name.map((n) => n + LIST_SEPARATOR),
      ...name.flatMap((n) => heads.map((h) => n + COMPLETION_PREFIX + h)),
      ...name.flatMap((n) => heads.map((h) => n + BLOCK_SEPARATOR + h)),
      TEXT_PREFIX,
    ];
    const units = new Uint16Array(pieces.reduce((n, s) => n + s.length, 0));
    const start = new Int32Array(pieces.length);
    const end = new Int32Array(pieces.length);
    let at = 0;
    pieces.forEach((s, i) => {
      start[i] = at;
      for (let j = 0; j < s.length; j++) units[at++] = s.charCodeAt(j);
      end[i] = at;
    });
    const longest = (list: readonly string[]) => Math.max(0, ...list.map((s) => s.length));
    const idOf = new Map<string, number>();
    name.forEach((n, id) => {
      if (!idOf.has(n) && !n.includes("\n")) idOf.set(n, id);
    });
    pools = {
      ids,
      name,
      idOf,
      total: name.length,
      units,
      start,
      end,
      rowFixed: TEXT_PREFIX.length + COMPLETION_PREFIX.length,
      perCountry: 2 * (longest(name) + LIST_SEPARATOR.length),
      perContinent: longest(heads) + BLOCK_SEPARATOR.length,
    };
    poolCache.set(taxonomy, pools);
  }
  return pools;
}

/**
 * The cookbook's per-row rule on one random stream. Every `random.sample` is a partial
 * Fisher–Yates pass over this sampler's own working copy of the pool (a partial pass over any
 * permutation yields a uniform sample in random order, so the copy need not be reset between
 * rows — and because each stream owns its copies, a stream's rows never depend on another's).
 * All allocations are drawn before any country is: the accept/reject decision depends only on
 * the continents and the allocation, so this gives exactly the distribution of the Python, which
 * sampled countries between its `randint` calls and threw them away on rejection.
 *
 * A draw leaves its result in the sampler (country ids, no strings): {@link picked},
 * {@link takes}, {@link grouped} and {@link shuffled}; the row builders read them.
 */
class RowSampler {
  readonly #rng: Rng;
  readonly #pools: number[][];
  /** Pool sizes, indexed like CONTINENTS. */
  readonly #sizes: number[];
  readonly #continents: number[] = CONTINENTS.map((_, i) => i);
  readonly #bySize: number[] = CONTINENTS.map(() => 0);
  /** The last draw's continents in sampled order (completion order); the first `k` count. */
  readonly picked: number[] = CONTINENTS.map(() => 0);
  /** Continents in the last draw. */
  k = 0;
  /** Countries the last draw gives each continent (indexed like CONTINENTS). */
  readonly takes: number[] = CONTINENTS.map(() => 0);
  /** The last draw's country ids grouped by continent, in completion order (first `count`). */
  readonly grouped: number[];
  /** The last draw's country ids in text order (first `count`). */
  readonly shuffled: number[];
  /** Countries in the last draw. */
  count = 0;

  constructor(rng: Rng, pools: Pools, maxCountries: number) {
    this.#rng = rng;
    this.#pools = pools.ids.map((ids) => ids.slice());
    this.#sizes = pools.ids.map((ids) => ids.length);
    this.grouped = new Array<number>(maxCountries).fill(0);
    this.shuffled = new Array<number>(maxCountries).fill(0);
  }

  /** Picks continents and allocates; `false` where the Python raised `ValueError` (redraw). */
  #allocate(countryCount: number, k: number): boolean {
    const rng = this.#rng as never;
    const continents = this.#continents;
    const picked = this.picked;
    const bySize = this.#bySize;
    const sizes = this.#sizes;
    const takes = this.takes;
    // random.sample(continents, k): a partial Fisher–Yates pass.
    const lastContinent = continents.length - 1;
    for (let i = 0; i < k; i++) {
      const j = uniformInt(rng, i, lastContinent);
      const t = continents[i];
      continents[i] = continents[j];
      continents[j] = t;
      picked[i] = continents[i];
    }
    // Stable ascending sort by continent size (insertion sort; k <= 6).
    for (let i = 0; i < k; i++) {
      const v = picked[i];
      let j = i - 1;
      while (j >= 0 && sizes[bySize[j]] > sizes[v]) {
        bySize[j + 1] = bySize[j];
        j--;
      }
      bySize[j + 1] = v;
    }
    const min = k <= 4 ? 2 : 1;
    let remaining = countryCount;
    for (let idx = 0; idx < k - 1; idx++) {
      const c = bySize[idx];
      const maxAssignable = Math.min(sizes[c], remaining - (k - idx - 1) * min);
      if (maxAssignable < min) return false;
      const take = uniformInt(rng, min, maxAssignable);
      takes[c] = take;
      remaining -= take;
    }
    const last = bySize[k - 1];
    if (remaining < 1 || remaining > sizes[last]) return false;
    takes[last] = remaining;
    return true;
  }

  /**
   * Draws until a row satisfies the rule (and `accept`, when given). Every `random.sample` is a
   * partial Fisher–Yates pass: `randint(i, length - 1)` (pure-rand's `uniformInt`) for each
   * `i < k`, swapping entry `i` with the drawn one.
   */
  draw(cell: MixCell, accept?: (sampler: RowSampler) => boolean): void {
    const n = cell.countryCount;
    const k = cell.continentCount;
    const rng = this.#rng as never;
    const grouped = this.grouped;
    const shuffled = this.shuffled;
    const picked = this.picked;
    const takes = this.takes;
    const pools = this.#pools;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!this.#allocate(n, k)) continue;
      let at = 0;
      for (let g = 0; g < k; g++) {
        const c = picked[g];
        const take = takes[c];
        const pool = pools[c];
        const last = pool.length - 1;
        for (let i = 0; i < take; i++) {
          const j = uniformInt(rng, i, last);
          const t = pool[j];
          pool[j] = pool[i];
          pool[i] = t;
          grouped[at++] = t;
        }
      }
      for (let i = 0; i < n; i++) shuffled[i] = grouped[i];
      const last = n - 1;
      for (let i = 0; i < n; i++) {
        const j = uniformInt(rng, i, last);
        const t = shuffled[i];
        shuffled[i] = shuffled[j];
        shuffled[j] = t;
      }
      this.k = k;
      this.count = n;
      if (!accept || accept(this)) return;
    }
    throw new DatasetOptionsError(
      `no acceptable row with ${cell.countryCount} countries over ${cell.continentCount} ` +
        `continents after ${MAX_ATTEMPTS} draws (impossible under this taxonomy, or every ` +
        `possible set is excluded)`,
    );
  }

  /** The last draw's countries in text order, as names. */
  shuffledNames(pools: Pools): string[] {
    return namesOf(pools, this.shuffled, 0, this.count);
  }
}

/** Names of `ids[from..to)`. */
function namesOf(pools: Pools, ids: readonly number[], from: number, to: number): string[] {
  const name = pools.name;
  const out = new Array<string>(to - from);
  for (let i = from; i < to; i++) out[i - from] = name[ids[i]];
  return out;
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

/**
 * A faster stand-in for {@link countrySetKey} within one taxonomy, for look-ups only: two lists
 * get equal keys exactly when their `countrySetKey`s are equal. A list of the taxonomy's names
 * gets its ids, sorted, as characters (no id-character is NUL); any other list gets its
 * `countrySetKey` behind a NUL, unless that key's lines are the taxonomy's names in sorted order,
 * when it gets those names' id key (as their own list would). Canonical names hold no line feed
 * (see {@link Pools}), so a list of them is exactly the lines of its `countrySetKey`.
 */
function setKey(pools: Pools, countries: readonly string[]): string {
  const ids = idsOf(pools, countries);
  if (ids) return idKey(ids);
  const key = countrySetKey(countries);
  const lines = key.split("\n");
  const sorted = lines.every((line, i) => i === 0 || lines[i - 1] <= line);
  const lineIds = sorted ? idsOf(pools, lines) : undefined;
  return lineIds ? idKey(lineIds) : "\0" + key;
}

/** The ids of `countries`, or `undefined` if one is not a canonical name. */
function idsOf(pools: Pools, countries: readonly string[]): number[] | undefined {
  const ids = new Array<number>(countries.length);
  for (let i = 0; i < countries.length; i++) {
    const id = pools.idOf.get(countries[i]);
    if (id === undefined) return undefined;
    ids[i] = id;
  }
  return ids;
}

/** Sorts `ids` and returns them as characters (id + 1, so never NUL). */
function idKey(ids: number[]): string {
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i] + 1;
    let j = i - 1;
    while (j >= 0 && ids[j] > v) {
      ids[j + 1] = ids[j];
      j--;
    }
    ids[j + 1] = v;
  }
  return String.fromCharCode(...ids);
}

/**
 * The text buffer of {@link RowBuilder}s: 1 MiB of code units, made once and reused (the
 * builders run synchronously, one at a time, and copy everything out in `flush`).
 */
let textBuffer: Uint16Array | undefined;

/** Whether typed arrays store a `Uint16` low byte first (what `utf16le` decoding reads). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A string of the first `length` code units of `units`. */
function unitsToString(units: Uint16Array, length: number): string {
  if (LITTLE_ENDIAN) {
    return Buffer.from(units.buffer, units.byteOffset, 2 * length).toString("utf16le");
  }
  let out = "";
  for (let at = 0; at < length; at += 8192) {
    out += String.fromCharCode(...units.subarray(at, Math.min(length, at + 8192)));
  }
  return out;
}

/** Copies `units[from..to)` to `buffer` at `at`; returns the position after them. */
function copyUnits(
  units: Uint16Array,
  from: number,
  to: number,
  buffer: Uint16Array,
  at: number,
): number {
  while (from < to) buffer[at++] = units[from++];
  return at;
}

/**
 * Builds training rows from draws, and their `text` and `completion` strings in batches: the
 * code units of many rows' strings are copied, piece by piece (names and fixed pieces, see
 * {@link Pools}), into one buffer that becomes one string; each row gets slices of it. The
 * strings equal {@link promptText} and {@link completionText} of the row's countries and groups
 * (the tests check it). Copying code units is much cheaper than joining or concatenating
 * hundreds of thousands of short strings, and in V8 a slice of a long flat string is a small
 * view of it, so the garbage collector moves views instead of ten thousands of strings.
 */
class RowBuilder {
  readonly #pools: Pools;
  readonly #order: TextOrder;
  #buffer = textBuffer ??= new Uint16Array(1 << 19);
  #length = 0;
  #rows: DatasetRow[] = [];
  /** Per pending row: where its text ends and where its completion ends in the buffer. */
  #ends: number[] = [];

  constructor(pools: Pools, order: TextOrder) {
    this.#pools = pools;
    this.#order = order;
  }

  /** The row for the sampler's last draw; its strings are filled in by {@link flush}. */
  add(id: string, cell: MixCell, s: RowSampler): DatasetRow {
    const pools = this.#pools;
    const { name, units, start, end, total } = pools;
    const n = s.count;
    const k = s.k;
    const bound = pools.rowFixed + n * pools.perCountry + k * pools.perContinent;
    if (this.#length + bound > this.#buffer.length) {
      this.flush();
      if (bound > this.#buffer.length) this.#buffer = textBuffer = new Uint16Array(bound);
    }
    const buffer = this.#buffer;
    const sep = LIST_SEPARATOR.length;
    const picked = s.picked;
    const grouped = s.grouped;
    const textIds = this.#order === "grouped" ? grouped : s.shuffled;
    let at = this.#length;
    // The text: the prefix and the countries in text order, apart; the last one's piece goes
    // on with the completion prefix and the first block's head.
    let piece = textPrefixPiece(total);
    at = copyUnits(units, start[piece], end[piece], buffer, at);
    const countries = new Array<string>(n);
    for (let i = 0; i < n - 1; i++) {
      const c = textIds[i];
      countries[i] = name[c];
      at = copyUnits(units, start[c], end[c], buffer, at);
    }
    const lastId = textIds[n - 1];
    countries[n - 1] = name[lastId];
    const textEnd = at + name[lastId].length;
    piece = textEndPiece(total, lastId, picked[0]);
    at = copyUnits(units, start[piece], end[piece], buffer, at);
    // The blocks: each block's countries, apart; a block's last one's piece goes on with the
    // block separator and the next block's head.
    const groups: CountryGroup[] = new Array(k);
    let g0 = 0;
    for (let g = 0; g < k; g++) {
      const continent = picked[g];
      const take = s.takes[continent];
      const names = new Array<string>(take);
      for (let i = 0; i < take - 1; i++) {
        const c = grouped[g0 + i];
        names[i] = name[c];
        at = copyUnits(units, start[c], end[c], buffer, at);
      }
      const c = grouped[g0 + take - 1];
      names[take - 1] = name[c];
      if (g < k - 1) {
        piece = blockEndPiece(total, c, picked[g + 1]);
        at = copyUnits(units, start[piece], end[piece], buffer, at);
      } else {
        at = copyUnits(units, start[c], end[c] - sep, buffer, at);
      }
      groups[g] = { continent: CONTINENTS[continent], countries: names };
      g0 += take;
    }
    this.#length = at;
    this.#ends.push(textEnd, at);
    const row: DatasetRow = {
      id,
      countries,
      groups,
      text: "",
      completion: "",
      countryCount: cell.countryCount,
      continentCount: cell.continentCount,
    };
    this.#rows.push(row);
    return row;
  }

  /** Gives each pending row its `text` and `completion` (slices of the batch's string). */
  flush(): void {
    const rows = this.#rows;
    if (rows.length === 0) return;
    const all = unitsToString(this.#buffer, this.#length);
    const ends = this.#ends;
    let start = 0;
    for (let r = 0; r < rows.length; r++) {
      const textEnd = ends[2 * r];
      const end = ends[2 * r + 1];
      rows[r].text = all.slice(start, textEnd);
      rows[r].completion = all.slice(textEnd, end);
      start = end;
    }
    this.#length = 0;
    this.#rows = [];
    this.#ends = [];
  }
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 32) {
    throw new DatasetOptionsError(`seed ${seed} is not a 32-bit integer`);
  }
}

function checkCellsPossible(cells: readonly MixCell[], pools: Pools): void {
  const total = pools.total;
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
  const builder = new RowBuilder(pools, order);
  cells.forEach((cell, ci) => {
    const rng = streams.get(streamKey(cell, 0))!;
    const sampler = new RowSampler(rng, pools, cell.countryCount);
    const prefix = `n${cell.countryCount}k${cell.continentCount}-`;
    for (let i = 0; i < largest[ci]; i++) {
      keys[offsets[ci] + i] = drawKey(rng);
      sampler.draw(cell);
      all[offsets[ci] + i] = builder.add(prefix + rowNumber(i + 1), cell, sampler);
    }
  });
  builder.flush();

  const out = new Map<number, DatasetRow[]>();
  ascending.forEach((size, si) => {
    const picked: number[] = [];
    cells.forEach((_, ci) => {
      for (let i = 0; i < counts[si][ci]; i++) picked.push(offsets[ci] + i);
    });
    out.set(size, orderByKey(picked, keys, all));
  });
  return out;
}

/**
 * `items[g]` for the ascending indexes `picked`, ordered by `keys[g]` (integers below 2^53) and
 * then by `g` — what `picked.sort((a, b) => keys[a] - keys[b] || a - b)` gives, with one native
 * numeric sort instead of a comparator: each entry is its key with the low bits replaced by its
 * position in `picked` (exact in a double), so the sort orders by key and, where keys agree
 * above the low bits, by position; those rare runs are then put in full-key order.
 */
function orderByKey<T>(picked: readonly number[], keys: Float64Array, items: readonly T[]): T[] {
  const m = picked.length;
  let scale = 1;
  while (scale < m) scale *= 2;
  const packed = new Float64Array(m);
  for (let i = 0; i < m; i++) packed[i] = Math.floor(keys[picked[i]] / scale) * scale + i;
  packed.sort();
  const position = new Int32Array(m);
  for (let r = 0; r < m; r++) position[r] = packed[r] % scale;
  for (let r = 0; r < m;) {
    const high = packed[r] - position[r];
    let end = r + 1;
    while (end < m && packed[end] - position[end] === high) end++;
    // Insertion sort of the run by full key (positions already ascend, keeping ties in order).
    for (let i = r + 1; i < end; i++) {
      const v = position[i];
      let j = i - 1;
      while (j >= r && keys[picked[position[j]]] > keys[picked[v]]) {
        position[j + 1] = position[j];
        j--;
      }
      position[j + 1] = v;
    }
    r = end;
  }
  const out = new Array<T>(m);
  for (let r = 0; r < m; r++) out[r] = items[picked[position[r]]];
  return out;
}

/** Row-id numbers made so far (at most {@link ROW_NUMBERS_KEPT}). */
const rowNumbers: string[] = [];
const ROW_NUMBERS_KEPT = 1 << 16;

/** `n` as a row id's number: at least five digits, zero-padded (kept for reuse up to 65,535). */
function rowNumber(n: number): string {
  if (n >= ROW_NUMBERS_KEPT) return String(n).padStart(5, "0");
  while (rowNumbers.length <= n) rowNumbers.push(String(rowNumbers.length).padStart(5, "0"));
  return rowNumbers[n];
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
export function generateEvalSet(opts: EvalOptions): EvalPrompt[] {
  checkSeed(opts.seed);
  const taxonomy = opts.taxonomy ?? getTaxonomy("un");
  const total = opts.prompts ?? EVAL_PROMPTS;
  const cells = crossMix(opts.countryMix ?? EVAL_COUNTRY_MIX, opts.continentMix ?? CONTINENT_MIX);
  const pools = poolsOf(taxonomy);
  checkCellsPossible(cells, pools);
  const counts = apportion(total, cells.map((c) => c.weight));
  const used = new Set<string>();
  for (const countries of opts.exclude ?? []) used.add(setKey(pools, countries));
  const streams = cellStreams(opts.seed, cells.map((c) => streamKey(c, 1)));
  const drawn: { key: number; cell: MixCell; ci: number; index: number; countries: string[] }[] =
    [];
  cells.forEach((cell, ci) => {
    const rng = streams.get(streamKey(cell, 1))!;
    const sampler = new RowSampler(rng, pools, cell.countryCount);
    let countries: string[] = [];
    let key = "";
    const accept = (s: RowSampler) => {
      countries = s.shuffledNames(pools);
      key = setKey(pools, countries);
      return !used.has(key);
    };
    for (let i = 0; i < counts[ci]; i++) {
      const order = drawKey(rng);
      sampler.draw(cell, accept);
      used.add(key);
      drawn.push({ key: order, cell, ci, index: i, countries });
    }
  });
  drawn.sort((a, b) => a.key - b.key || a.ci - b.ci || a.index - b.index);
  const width = Math.max(3, String(total).length);
  const system = opts.system ?? "";
  return drawn.map(({ cell, countries }, i) => ({
    id: `e${String(i + 1).padStart(width, "0")}`,
    system,
    user: promptText(countries),
    countries,
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
      const continent = taxonomy.resolveContinent(m[1]);
      if (continent === undefined || continent !== m[1]) {
        bad(`unknown continent ${JSON.stringify(m[1])}`);
        continue;
      }
      if (continents.has(continent)) bad(`continent ${continent} listed twice`);
      continents.add(continent);
      const names = m[2].split(LIST_SEPARATOR);
      const min = blocks.length <= 4 ? 2 : 1;
      if (names.length < min) bad(`${continent} has ${names.length} < ${min} countries`);
      for (const name of names) {
        const country = taxonomy.resolveCountry(name);
        if (!country || country.name !== name) bad(`${JSON.stringify(name)} is not a country name`);
        else if (country.continent !== continent) {
          bad(`${name} listed under ${continent}, belongs to ${country.continent}`);
        }
        answered.push(name);
      }
    }
    if (countrySetKey(asked) !== countrySetKey(answered)) {
      bad("completion does not list exactly the asked countries");
    }
    if (new Set(asked).size !== asked.length) bad("text repeats a country");
  }
  return problems;
}

/** Minimum, mean and maximum of a per-row length. */
export interface CharStats {
  min: number;
  mean: number;
  max: number;
}

/** Rows for one value of a mix dimension. */
export interface MixShare {
  value: number;
  rows: number;
  /** Fraction of all rows (0–1). */
  share: number;
}

/** Validation and statistics for a training set or an evaluation set. */
export interface DatasetStats {
  rows: number;
  /** Characters of `text` (training) or `user` (evaluation) per row. */
  textChars: CharStats;
  /** Characters of `completion` per row; `null` for evaluation prompts. */
  completionChars: CharStats | null;
  /** Total characters of text and completion. */
  totalChars: number;
  byCountryCount: MixShare[];
  byContinentCount: MixShare[];
  /** The crossed table: rows per (country count, continent count). */
  cells: { countryCount: number; continentCount: number; rows: number }[];
  coverage: {
    list: TaxonomyListName;
    /** Countries in the list (193 for `un`). */
    countries: number;
    /** Distinct listed countries asked at least once. */
    used: number;
    /** Listed countries never asked, in list order. */
    neverUsed: string[];
    /** Asked names that are not in the list. */
    unknown: string[];
  };
  /** Rows asking a country set an earlier row already asked, and how many sets repeat. */
  duplicates: { rows: number; sets: number };
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
  rows: readonly DatasetRow[] | readonly EvalPrompt[],
  opts: { taxonomy?: Taxonomy } = {},
): DatasetStats {
  const taxonomy = opts.taxonomy ?? getTaxonomy("un");
  const pools = poolsOf(taxonomy);
  const list = rows as readonly (DatasetRow | EvalPrompt)[];
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
    const sk = setKey(pools, r.countries);
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
