/**
 * A training set as drawn ({@link DrawnSet}: the drawn rows of `./sampler.ts` in a set's order,
 * with the templates its text is made from), and what is made of it without building its rows'
 * strings: the tuning CSV's UTF-8 bytes ({@link drawnTuningCsvChunks}), its statistics
 * ({@link drawnStats}) and the rule checked on the drawn numbers ({@link drawnProblems}). They
 * equal, byte for byte and field for field, `tuningCsv`, `datasetStats` and `validateRows` of
 * the same rows as strings (`lib/datasets/`; the tests compare them): the path of
 * `deno task dataset --rows N`, where building, quoting and encoding ten thousand rows of
 * strings would cost more than drawing them.
 *
 * @module
 */
import { COMPLETION_PREFIX, CONTINENTS, LIST_SEPARATOR, TEXT_PREFIX } from "../cookbook.ts";
import type { Taxonomy } from "../countries/mod.ts";
import type { DatasetStats, MixShare } from "../run/mod.ts";
import type { TuningCsvFormat } from "../sheets/mod.ts";
import { charStats, planTraining, setOrder, type TextOrder, type TrainingOptions } from "./plan.ts";
import {
  drawNested,
  drawnRowId,
  type DrawnRows,
  type NumberedItems,
  numberItems,
} from "./sampler.ts";

/** The pieces a row's text and completion are made of. */
export interface RowTemplates {
  /** Before the text's list (`TEXT_PREFIX` for the country task). */
  prompt: string;
  /** Before the completion's blocks. */
  completion: string;
  /** Between two items of a list (`, `). */
  separator: string;
  /** The groups' names, by group number. */
  groups: readonly string[];
}

/** A drawn training set: which drawn rows, in which order, and how their text is made. */
export interface DrawnSet {
  readonly rows: DrawnRows;
  /** The set's rows in order (indices into `rows`). */
  readonly order: readonly number[];
  readonly textOrder: TextOrder;
  readonly templates: RowTemplates;
  /** The taxonomy's list name and its items' names in its own order (for coverage). */
  readonly list: string;
  readonly listed: readonly string[];
}

/** The country task's templates: the cookbook's. */
export const COUNTRY_TEMPLATES: RowTemplates = {
  prompt: TEXT_PREFIX,
  completion: COMPLETION_PREFIX,
  separator: LIST_SEPARATOR,
  groups: CONTINENTS,
};

const numbered = new WeakMap<Taxonomy, NumberedItems>();

/** A country list's countries as numbers, continent after continent in `CONTINENTS` order. */
export function countryItems(taxonomy: Taxonomy): NumberedItems {
  let items = numbered.get(taxonomy);
  if (!items) {
    items = numberItems(CONTINENTS.map((c) => taxonomy.countriesOf(c).map((x) => x.name)));
    numbered.set(taxonomy, items);
  }
  return items;
}

/**
 * The country training set `generateTrainingSet(opts)` (`lib/datasets/`) returns, as drawn: the
 * same plan, streams and rows, not yet made into strings.
 */
export function drawTrainingSet(opts: TrainingOptions & { rows: number }): DrawnSet {
  const plan = planTraining([opts.rows], opts);
  const rows = drawNested(plan, countryItems(plan.taxonomy));
  return {
    rows,
    order: setOrder(plan, 0, rows.keys),
    textOrder: plan.order,
    templates: COUNTRY_TEMPLATES,
    list: plan.taxonomy.list,
    listed: plan.taxonomy.countries.map((c) => c.name),
  };
}

/** The items the text of row `r` lists, in its order: the grouped or the shuffled slots. */
function textSlots(set: DrawnSet): Uint16Array {
  return set.textOrder === "grouped" ? set.rows.grouped : set.rows.asked;
}

// ---------------------------------------------------------------------------------------------
// The tuning CSV's bytes

const encoder = new TextEncoder();

/** Every piece a row is made of, as UTF-8 inside the field's quotes (`"` doubled). */
interface CsvPieces {
  bytes: Uint8Array[];
  /** Piece numbers: `"` + the text prefix; `","` + the completion prefix; `"` CR LF. */
  textOpen: number;
  completionOpen: number;
  close: number;
  /** Item `i`'s name is piece `name + i`, and separator + its name is `nextName + i`. */
  name: number;
  nextName: number;
  /** Group `g`'s block head `그룹: ` is piece `block + g`, the blank line + it `nextBlock + g`. */
  block: number;
  nextBlock: number;
}

function csvPieces(t: RowTemplates, names: readonly string[]): CsvPieces {
  // Both fields always hold a line feed (their prefixes do), so csv-stringify always quotes them.
  if (!t.prompt.includes("\n") || !t.completion.includes("\n")) {
    throw new Error("the drawn set's CSV writer assumes prefixes that always need quoting");
  }
  const quoted = (text: string) => text.replaceAll('"', '""');
  const bytes = [
    '"' + quoted(t.prompt),
    '","' + quoted(t.completion),
    '"\r\n',
    ...names.map(quoted),
    ...names.map((n) => quoted(t.separator + n)),
    ...t.groups.map((g) => quoted(`${g}: `)),
    ...t.groups.map((g) => quoted(`\n\n${g}: `)),
  ].map((text) => encoder.encode(text));
  const name = 3;
  const nextName = name + names.length;
  const block = nextName + names.length;
  return {
    bytes,
    textOpen: 0,
    completionOpen: 1,
    close: 2,
    name,
    nextName,
    block,
    nextBlock: block + t.groups.length,
  };
}

/** How many bytes of the tuning CSV {@link drawnTuningCsvChunks} puts in one chunk (about). */
const CHUNK_BYTES = 1 << 19;

/**
 * The set's tuning CSV: exactly the UTF-8 bytes of `tuningCsv(rows, { format })` for its rows
 * as strings (byte-order mark, CRLF record ends, csv-stringify's quoting), in chunks of whole rows
 * (about half a megabyte each, the first with the header), made one at a time as they are asked
 * for: a writer can write one while the next is made.
 */
export function* drawnTuningCsvChunks(
  set: DrawnSet,
  format: TuningCsvFormat = "text-completion",
): Generator<Uint8Array> {
  const p = csvPieces(set.templates, set.rows.items.names);
  const { itemCount, groupCount } = set.rows;
  // Room for the longest row after a chunk's first half megabyte: every piece of a row (its
  // three fixed pieces, two names an item and a head a group) at most the longest piece, and its
  // `C_ID,T_ID,` head.
  let most = 0;
  for (const r of set.order) most = Math.max(most, 2 * itemCount[r] + groupCount[r]);
  const room = CHUNK_BYTES + (3 + most) * Math.max(...p.bytes.map((b) => b.length)) + 32;
  let out = new Uint8Array(room);
  const header = format === "single-turn" ? "C_ID,T_ID,Text,Completion" : "Text,Completion";
  let at = put(out, 0, encoder.encode("\ufeff" + header + "\r\n"));
  for (let i = 0; i < set.order.length; i++) {
    if (format === "single-turn") at = put(out, at, encoder.encode(`${i},0,`));
    at = writeRow(set, set.order[i], p, out, at);
    if (at >= CHUNK_BYTES) {
      yield out.subarray(0, at);
      out = new Uint8Array(room);
      at = 0;
    }
  }
  if (at > 0) yield out.subarray(0, at);
}

/** Writes row `r`'s quoted text, quoted completion and record end into `out` at `at`. */
function writeRow(set: DrawnSet, r: number, p: CsvPieces, out: Uint8Array, at: number): number {
  const bytes = p.bytes;
  const { start, grouped, blockStart, blockGroup, blockSize } = set.rows;
  const text = textSlots(set);
  const first = start[r];
  const end = start[r + 1];
  at = put(out, at, bytes[p.textOpen]);
  at = put(out, at, bytes[p.name + text[first]]);
  for (let s = first + 1; s < end; s++) at = put(out, at, bytes[p.nextName + text[s]]);
  at = put(out, at, bytes[p.completionOpen]);
  let s = first;
  for (let b = blockStart[r]; b < blockStart[r + 1]; b++) {
    at = put(out, at, bytes[(b === blockStart[r] ? p.block : p.nextBlock) + blockGroup[b]]);
    const blockEnd = s + blockSize[b];
    at = put(out, at, bytes[p.name + grouped[s++]]);
    while (s < blockEnd) at = put(out, at, bytes[p.nextName + grouped[s++]]);
  }
  return put(out, at, bytes[p.close]);
}

function put(out: Uint8Array, at: number, bytes: Uint8Array): number {
  out.set(bytes, at);
  return at + bytes.length;
}

// ---------------------------------------------------------------------------------------------
// Statistics and the rule check

/** `datasetStats` of the set's rows, computed from the numbers. */
export function drawnStats(set: DrawnSet): DatasetStats {
  const { names } = set.rows.items;
  const rows = set.order.length;
  const { texts, completions, hashes, used } = rowSums(set);
  const cellRows = new Map<string, DatasetStats["cells"][number]>();
  for (const r of set.order) {
    const countryCount = set.rows.itemCount[r];
    const continentCount = set.rows.groupCount[r];
    const key = `${countryCount}/${continentCount}`;
    const cell = cellRows.get(key) ?? { countryCount, continentCount, rows: 0 };
    cell.rows++;
    cellRows.set(key, cell);
  }
  const cells = [...cellRows.values()].sort((a, b) =>
    a.countryCount - b.countryCount || a.continentCount - b.continentCount
  );
  const usedNames = new Set(names.filter((_, i) => used[i]));
  const textTotal = texts.reduce((a, b) => a + b, 0);
  const completionTotal = completions.reduce((a, b) => a + b, 0);
  return {
    rows,
    textChars: charStats(texts),
    completionChars: rows > 0 ? charStats(completions) : null,
    totalChars: textTotal + completionTotal,
    byCountryCount: shares(cells, (c) => c.countryCount, rows),
    byContinentCount: shares(cells, (c) => c.continentCount, rows),
    cells,
    coverage: {
      list: set.list,
      countries: new Set(set.listed).size,
      used: usedNames.size,
      neverUsed: set.listed.filter((n) => !usedNames.has(n)),
      unknown: [],
    },
    duplicates: duplicates(set, hashes),
  };
}

/** What {@link rowSums} counts: one entry per row of the set, in the set's order. */
interface RowSums {
  /** The characters of the row's text and of its completion. */
  texts: Int32Array;
  completions: Int32Array;
  /** An order-insensitive 52-bit hash of the row's items (see {@link setHashTags}). */
  hashes: Float64Array;
  /** Per item: 1 if some row asks it. */
  used: Uint8Array;
}

/**
 * One pass over the rows' items: the characters of each row's text and completion (the names'
 * lengths plus the prefixes, separators and group heads), the hash of its item set (the
 * exclusive or of its items' tags: equal sets hash equal, and {@link duplicates} compares the
 * rows of equal hashes exactly) and the items asked.
 */
function rowSums(set: DrawnSet): RowSums {
  const { start, asked, blockStart, blockGroup } = set.rows;
  const { names } = set.rows.items;
  const t = set.templates;
  const rows = set.order.length;
  const nameLength = Int32Array.from(names, (n) => n.length);
  const headLength = Int32Array.from(t.groups, (g) => g.length + 2);
  const sep = t.separator.length;
  const tags = setHashTags(names.length);
  const texts = new Int32Array(rows);
  const completions = new Int32Array(rows);
  const hashes = new Float64Array(rows);
  const used = new Uint8Array(names.length);
  for (let i = 0; i < rows; i++) {
    const r = set.order[i];
    const n = start[r + 1] - start[r];
    const k = blockStart[r + 1] - blockStart[r];
    let chars = 0;
    let high = 0;
    let low = 0;
    for (let s = start[r]; s < start[r + 1]; s++) {
      const item = asked[s];
      chars += nameLength[item];
      used[item] = 1;
      high ^= tags[2 * item];
      low ^= tags[2 * item + 1];
    }
    let heads = 0;
    for (let b = blockStart[r]; b < blockStart[r + 1]; b++) heads += headLength[blockGroup[b]];
    texts[i] = t.prompt.length + chars + sep * (n - 1);
    completions[i] = t.completion.length + heads + chars + sep * (n - k) + 2 * (k - 1);
    hashes[i] = high * 67108864 + low;
  }
  return { texts, completions, hashes, used };
}

/** Two fixed pseudo-random 26-bit tags per item (a 32-bit LCG), for the set hashes. */
function setHashTags(items: number): Int32Array {
  const tags = new Int32Array(2 * items);
  let x = 0x2545f491;
  for (let i = 0; i < tags.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0;
    tags[i] = x >>> 6;
  }
  return tags;
}

/** Rows that repeat another row's item set, and how many sets repeat. */
function duplicates(set: DrawnSet, hashes: Float64Array): DatasetStats["duplicates"] {
  const sorted = hashes.slice().sort();
  let candidates: Set<number> | undefined;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) (candidates ??= new Set()).add(sorted[i]);
  }
  if (!candidates) return { rows: 0, sets: 0 };
  // Rows whose hashes collide: count their sets exactly.
  const { start, asked } = set.rows;
  const counts = new Map<string, number>();
  set.order.forEach((r, i) => {
    if (!candidates.has(hashes[i])) return;
    const key = Array.from(asked.subarray(start[r], start[r + 1])).sort((a, b) => a - b).join();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  const repeated = [...counts.values()].filter((x) => x > 1);
  return { rows: repeated.reduce((a, x) => a + x - 1, 0), sets: repeated.length };
}

/** The rows of each value of `value` over the cells, as shares of all `rows`. */
function shares(
  cells: readonly DatasetStats["cells"][number][],
  value: (cell: DatasetStats["cells"][number]) => number,
  rows: number,
): MixShare[] {
  const counts = new Map<number, number>();
  for (const cell of cells) counts.set(value(cell), (counts.get(value(cell)) ?? 0) + cell.rows);
  return [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([value, n]) => ({
    value,
    rows: n,
    share: rows ? n / rows : 0,
  }));
}

/** A drawn row that breaks the rule. */
export interface DrawnProblem {
  id: string;
  problem: string;
}

/**
 * The cookbook's rule checked on the drawn numbers, row by row: as many blocks as groups, no
 * group twice, at least 2 items a block (1 for 5 or more groups), every item under its own group,
 * the text asking exactly the completion's items, none twice. The same rules `validateRows`
 * checks on the strings; a problem here is a bug in the sampler.
 */
export function drawnProblems(set: DrawnSet): DrawnProblem[] {
  const problems: DrawnProblem[] = [];
  const seen = new Int32Array(set.rows.items.names.length).fill(-1);
  const listed = new Int32Array(set.templates.groups.length).fill(-1);
  for (const r of set.order) {
    for (const problem of rowProblems(set, r, seen, listed)) {
      problems.push({ id: drawnRowId(set.rows, r), problem });
    }
  }
  return problems;
}

/**
 * Row `r`'s problems under the rule. `seen[item]` is where the rows mark their items: `r` for one
 * in the completion, `-2 - r` once the text has asked it; `listed[group]` is `r` once the row's
 * completion has listed the group.
 */
function rowProblems(set: DrawnSet, r: number, seen: Int32Array, listed: Int32Array): string[] {
  const { start, grouped, blockStart, blockGroup, blockSize, itemCount } = set.rows;
  const { names, groupOf } = set.rows.items;
  const groupNames = set.templates.groups;
  const text = textSlots(set);
  const problems: string[] = [];
  const first = start[r];
  const n = itemCount[r];
  const k = blockStart[r + 1] - blockStart[r];
  const min = k <= 4 ? 2 : 1;
  let s = first;
  for (let b = blockStart[r]; b < blockStart[r + 1]; b++) {
    const g = blockGroup[b];
    const size = blockSize[b];
    if (listed[g] === r) problems.push(`continent ${groupNames[g]} listed twice`);
    listed[g] = r;
    if (size < min) problems.push(`${groupNames[g]} has ${size} < ${min} countries`);
    for (const end = s + size; s < end; s++) {
      const item = grouped[s];
      if (groupOf[item] !== g) {
        problems.push(
          `${names[item]} listed under ${groupNames[g]}, belongs to ${groupNames[groupOf[item]]}`,
        );
      }
      seen[item] = r;
    }
  }
  if (s !== first + n) problems.push(`the blocks hold ${s - first} countries, not ${n}`);
  let repeats = false;
  let missing = false;
  for (let a = first; a < first + n; a++) {
    const item = text[a];
    if (seen[item] === -2 - r) repeats = true;
    else if (seen[item] !== r) missing = true;
    seen[item] = -2 - r;
  }
  for (let g = first; g < s; g++) if (seen[grouped[g]] !== -2 - r) missing = true;
  if (missing) problems.push("completion does not list exactly the asked countries");
  if (repeats) problems.push("text repeats a country");
  return problems;
}
