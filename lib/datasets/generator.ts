/**
 * Seeded tuning and evaluation datasets for the country-classification task, reproducing the
 * cookbook's generator (its section "튜닝용 데이터셋 생성"; see `data/cookbook/README.md`) in what
 * it produces: the same text templates, the same per-row sampling rule, the same mixes — but
 * deterministic (xoroshiro128+ streams), with exact crossed mixes, nested training sizes, an
 * evaluation set that never repeats a training prompt, and validation and statistics.
 *
 * The rule, the plan of mixes and streams, and the draw live in `lib/sampling/` (the task
 * generator of `lib/tasks/` draws with the same sampler); here the drawn rows become the country
 * task's rows and prompts. Writers and readers (tuning CSV, evaluation XLSX, prompt sheets) live
 * in `./sheets.ts`; the folder's `mod.ts` exports them all.
 *
 * @module
 */
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
  countryItems,
  crossMix,
  drawnBlocks,
  drawNested,
  drawnItems,
  drawnRowId,
  type DrawnRows,
  type Mix,
  type MixCell,
  planTraining,
  RowSampler,
  setOrder,
  type TextOrder,
  type TrainingOptions,
} from "../sampling/mod.ts";

export {
  apportion,
  crossMix,
  DatasetOptionsError,
  type Mix,
  type MixCell,
  type TextOrder,
  type TrainingOptions,
} from "../sampling/mod.ts";
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

/** Row `r` of `drawn` as a country row, its text listing the countries in `order`. */
function makeRow(drawn: DrawnRows, r: number, order: TextOrder): DatasetRow {
  const groups: CountryGroup[] = drawnBlocks(drawn, r).map((b) => ({
    continent: CONTINENTS[b.group],
    countries: b.items,
  }));
  const countries = order === "grouped" ? groups.flatMap((g) => g.countries) : drawnItems(drawn, r);
  return {
    id: drawnRowId(drawn, r),
    countries,
    groups,
    text: promptText(countries),
    completion: completionText(groups),
    countryCount: drawn.itemCount[r],
    continentCount: drawn.groupCount[r],
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
  const drawn = drawNested(plan, countryItems(plan.taxonomy));
  const all: DatasetRow[] = new Array(plan.total);
  for (let r = 0; r < plan.total; r++) all[r] = makeRow(drawn, r, plan.order);
  const out = new Map<number, DatasetRow[]>();
  plan.sizes.forEach((size, s) => out.set(size, setOrder(plan, s, drawn.keys).map((g) => all[g])));
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
  const items = countryItems(taxonomy);
  const counts = apportion(total, cells.map((c) => c.weight));
  const used = new Set<string>();
  for (const countries of opts.exclude ?? []) used.add(countrySetKey(countries));
  const streams = cellStreams(opts.seed, cells, 1);
  const drawn: { key: number; cell: MixCell; ci: number; index: number; asked: string[] }[] = [];
  const names = (asked: Uint16Array) => Array.from(asked, (i) => items.names[i]);
  cells.forEach((cell, ci) => {
    const sampler = new RowSampler(streams[ci], items);
    for (let i = 0; i < counts[ci]; i++) {
      const key = sampler.key();
      sampler.draw(cell, (asked) => !used.has(countrySetKey(names(asked))));
      const asked = names(sampler.asked.subarray(0, cell.countryCount));
      used.add(countrySetKey(asked));
      drawn.push({ key, cell, ci, index: i, asked });
    }
  });
  drawn.sort((a, b) => a.key - b.key || a.ci - b.ci || a.index - b.index);
  const width = Math.max(3, String(total).length);
  const system = opts.system ?? "";
  return drawn.map(({ cell, asked }, i) => ({
    id: `e${String(i + 1).padStart(width, "0")}`,
    system,
    user: promptText(asked),
    countries: asked,
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
