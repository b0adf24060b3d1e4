/**
 * Seeded tuning and evaluation datasets for the country-classification task, reproducing the
 * cookbook's generator (its section "튜닝용 데이터셋 생성"; see `data/cookbook/README.md`) in what
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
 * Mixes, apportionment and the random streams live in `lib/tasks/plan.ts` (shared with the compact
 * generator, `./compactTrainingSet.ts`, which draws the same training rows into typed arrays for
 * the `dataset --rows` command). Writers and readers (tuning CSV, evaluation XLSX, prompt sheets)
 * live in `./sheets.ts`; the folder's `mod.ts` exports them all.
 *
 * @module
 */
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
} from "../cookbook.ts";
import { getTaxonomy, type Taxonomy } from "../countries/mod.ts";
import type { DatasetStats, MixShare, Prompt } from "../run/mod.ts";
import {
  apportion,
  cellStreams,
  charStats,
  checkCellsPossible,
  checkSeed,
  crossMix,
  DatasetOptionsError,
  drawKey,
  type Mix,
  type MixCell,
  planTraining,
  type Rng,
  setOrder,
  type TextOrder,
  type TrainingOptions,
} from "../tasks/mod.ts";

export {
  apportion,
  crossMix,
  DatasetOptionsError,
  type Mix,
  type MixCell,
  type TextOrder,
  type TrainingOptions,
} from "../tasks/mod.ts";
export type { CharStats, DatasetStats, MixShare, Prompt } from "../run/mod.ts";

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

// ---------------------------------------------------------------------------------------------
// The per-row draw

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
  const plan = planTraining(sizes, opts);
  const pools = poolsOf(plan.taxonomy);
  // Rows of every cell, laid out cell after cell; `keys[g]` orders row `g` within a set.
  const keys = new Float64Array(plan.total);
  const all: DatasetRow[] = new Array(plan.total);
  plan.cells.forEach((cell, ci) => {
    const rng = plan.streams[ci];
    const sampler = new RowSampler(rng, pools);
    const prefix = `n${cell.countryCount}k${cell.continentCount}-`;
    for (let i = 0; i < plan.drawn[ci]; i++) {
      keys[plan.offsets[ci] + i] = drawKey(rng);
      const id = prefix + String(i + 1).padStart(5, "0");
      all[plan.offsets[ci] + i] = makeRow(id, cell, sampler.draw(cell), plan.order);
    }
  });
  const out = new Map<number, DatasetRow[]>();
  plan.sizes.forEach((size, s) => out.set(size, setOrder(plan, s, keys).map((g) => all[g])));
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
  checkCellsPossible(cells, taxonomy);
  const pools = poolsOf(taxonomy);
  const counts = apportion(total, cells.map((c) => c.weight));
  const used = new Set<string>();
  for (const countries of opts.exclude ?? []) used.add(countrySetKey(countries));
  const streams = cellStreams(opts.seed, cells, 1);
  const drawn: { key: number; cell: MixCell; ci: number; index: number; d: Draw }[] = [];
  cells.forEach((cell, ci) => {
    const rng = streams[ci];
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

function shares(values: readonly number[]): MixShare[] {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([value, rows]) => ({
    value,
    rows,
    share: values.length ? rows / values.length : 0,
  }));
}

/** What {@link datasetStats} reads of a tuning row. */
export type TrainingRowFields = Pick<
  DatasetRow,
  "text" | "completion" | "countries" | "countryCount" | "continentCount"
>;

/** Statistics of training rows or evaluation prompts (see {@link DatasetStats}). */
export function datasetStats(
  rows: readonly TrainingRowFields[] | readonly Prompt[],
  opts: { taxonomy?: Taxonomy } = {},
): DatasetStats {
  const taxonomy = opts.taxonomy ?? getTaxonomy("un");
  const list = rows as readonly (TrainingRowFields | Prompt)[];
  const texts = list.map((r) => ("text" in r ? r.text : r.user).length);
  const isTraining = list.length > 0 && list.every((r) => "completion" in r);
  const completions = isTraining ? list.map((r) => (r as TrainingRowFields).completion.length) : [];
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
