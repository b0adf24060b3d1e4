/**
 * The training set of `generateTrainingSet` (`./generator.ts`) drawn into typed arrays of country
 * numbers instead of strings, and written from them straight to the tuning CSV's UTF-8 bytes:
 * the fast path of `deno task dataset --rows N`, where building, quoting and encoding ten
 * thousand rows of strings cost more than drawing them. The readable generator in `./generator.ts`
 * is the reference: for the same options the rows here ({@link compactRows}), the bytes
 * ({@link compactTuningCsv}) and the statistics ({@link compactStats}) equal its rows,
 * `tuningCsv` of them encoded as UTF-8, and `datasetStats` of them (the tests compare them for
 * every seed the dataset tests pin).
 *
 * The draw is the reference's, step for step (the same plan, streams, random calls and
 * rejections), over pools of country numbers: country `i` is `names[i]`, the taxonomy's
 * countries continent by continent in `CONTINENTS` order.
 *
 * @module
 */
import { COMPLETION_PREFIX, CONTINENTS, TEXT_PREFIX } from "../cookbook.ts";
import type { Taxonomy } from "../countries/mod.ts";
import type { CountryGroup, DatasetRow, RowProblem } from "./generator.ts";
import {
  charStats,
  DatasetOptionsError,
  planTraining,
  type Rng,
  setOrder,
  type TextOrder,
  type TrainingOptions,
} from "../tasks/mod.ts";
import type { DatasetStats, MixShare } from "../run/mod.ts";
import type { TuningCsvFormat } from "./sheets.ts";

/** The most continents a row can have (the index space of a row's blocks). */
const K = CONTINENTS.length;
/** Draws before a cell is declared impossible (as in the reference). */
const MAX_ATTEMPTS = 100_000;

/** The countries of one taxonomy as numbers. */
interface CountryNumbers {
  /** Country `i`'s canonical name. */
  names: string[];
  /** Country `i`'s continent (index into `CONTINENTS`). */
  continentOf: Uint8Array;
  /** The numbers of each continent's countries, in list order. */
  pools: Uint8Array[];
}

function countryNumbers(taxonomy: Taxonomy): CountryNumbers {
  const names: string[] = [];
  const continents: number[] = [];
  const pools = CONTINENTS.map((continent, c) => {
    const first = names.length;
    for (const country of taxonomy.countriesOf(continent)) {
      names.push(country.name);
      continents.push(c);
    }
    return Uint8Array.from({ length: names.length - first }, (_, i) => first + i);
  });
  if (names.length > 256) throw new Error(`${names.length} countries do not fit in a byte each`);
  return { names, continentOf: Uint8Array.from(continents), pools };
}

/**
 * A drawn training set. Rows are stored cell after cell as they were drawn; `order` lists them in
 * the set's order. Row `r`'s countries are slots `start[r]` to `start[r + 1] - 1`.
 */
export interface CompactTrainingSet {
  readonly taxonomy: Taxonomy;
  readonly textOrder: TextOrder;
  readonly countries: CountryNumbers;
  /** The set's rows in order (indices into the per-row arrays). */
  readonly order: readonly number[];
  /** Each row's first slot; one more entry than rows. */
  readonly start: Int32Array;
  /** Countries in the order the text lists them. */
  readonly asked: Uint8Array;
  /** Countries in completion order: block after block, each in sampled order. */
  readonly grouped: Uint8Array;
  /** Row `r`'s block `b`: its continent and its number of countries, at `r * 6 + b`. */
  readonly blockContinent: Uint8Array;
  readonly blockSize: Uint8Array;
  /** Row `r`'s counts and its number within its cell (for its id). */
  readonly countryCount: Uint16Array;
  readonly continentCount: Uint8Array;
  readonly indexInCell: Int32Array;
}

/**
 * The cookbook's per-row rule on one stream over pools of country numbers: the reference's
 * `RowSampler`, making the same random calls in the same order, writing into the set's arrays.
 * It runs the stream itself (pure-rand's xoroshiro128+ `next` and `uniformInt`, restated on the
 * stream's state), one call less per random number than through the library.
 */
class CompactSampler {
  #s01: number;
  #s00: number;
  #s11: number;
  #s10: number;
  readonly #pools: Uint8Array[];
  readonly #sizes: Int32Array;
  readonly #continents = Int32Array.from(CONTINENTS, (_, i) => i);
  readonly #picked = new Int32Array(K);
  readonly #bySize = new Int32Array(K);
  readonly #takes = new Int32Array(K);
  /** Where the text's shuffle runs when the text lists the countries grouped. */
  readonly #scratch = new Uint8Array(256);

  constructor(rng: Rng, pools: readonly Uint8Array[]) {
    [this.#s01, this.#s00, this.#s11, this.#s10] = rng.getState();
    this.#pools = pools.map((p) => p.slice());
    this.#sizes = Int32Array.from(pools, (p) => p.length);
  }

  /** pure-rand's `xoroshiro128plus` `next()`: 32 random bits as a signed integer. */
  #next(): number {
    const out = (this.#s00 + this.#s10) | 0;
    const a0 = this.#s10 ^ this.#s00;
    const a1 = this.#s11 ^ this.#s01;
    const s00 = this.#s00;
    const s01 = this.#s01;
    this.#s00 = (s00 << 24) ^ (s01 >>> 8) ^ a0 ^ (a0 << 16);
    this.#s01 = (s01 << 24) ^ (s00 >>> 8) ^ a1 ^ ((a1 << 16) | (a0 >>> 16));
    this.#s10 = (a1 << 5) ^ (a0 >>> 27);
    this.#s11 = (a0 << 5) ^ (a1 >>> 27);
    return out;
  }

  /**
   * pure-rand's `uniformInt(rng, from, to)` for ranges of at most 2^15 values. pure-rand takes
   * `value = next() + 2^31`; here `bits` holds the same 32 bits as an integer (`value` is
   * `bits >>> 0`), so that `value % size` can be taken in 16-bit halves in integer arithmetic
   * (a remainder of non-integers is a slow library call in V8).
   */
  #int(from: number, to: number): number {
    const size = to - from + 1;
    const allowed = size > 2 ? ~~(4294967296 / size) * size : 4294967296;
    let bits = this.#next() ^ -2147483648;
    while ((bits >>> 0) >= allowed) bits = this.#next() ^ -2147483648;
    return (((((bits >>> 16) % size) << 16) | (bits & 0xffff)) % size) + from;
  }

  /** The row's sort key, as `drawKey` draws it. */
  key(): number {
    return (this.#next() >>> 0) * 2097152 + (this.#next() >>> 11);
  }

  /** Moves a uniform sample of `k` of `a[at .. at + length)` to its front (partial Fisher–Yates). */
  #partialShuffle(a: Uint8Array | Int32Array, at: number, length: number, k: number): void {
    const last = length - 1;
    for (let i = 0; i < k; i++) {
      const j = at + this.#int(i, last);
      const t = a[at + i];
      a[at + i] = a[j];
      a[j] = t;
    }
  }

  /** Picks `k` continents and allocates `n` countries; `false` to draw again. */
  #allocate(n: number, k: number): boolean {
    this.#partialShuffle(this.#continents, 0, K, k);
    const picked = this.#picked;
    const bySize = this.#bySize;
    const sizes = this.#sizes;
    for (let i = 0; i < k; i++) picked[i] = bySize[i] = this.#continents[i];
    for (let i = 1; i < k; i++) {
      const v = bySize[i];
      let j = i - 1;
      while (j >= 0 && sizes[bySize[j]] > sizes[v]) {
        bySize[j + 1] = bySize[j];
        j--;
      }
      bySize[j + 1] = v;
    }
    const min = k <= 4 ? 2 : 1;
    let remaining = n;
    for (let idx = 0; idx < k; idx++) {
      const c = bySize[idx];
      const available = sizes[c];
      let take: number;
      if (idx === k - 1) {
        take = remaining;
        if (take < 1 || take > available) return false;
      } else {
        const maxAssignable = Math.min(available, remaining - (k - idx - 1) * min);
        if (maxAssignable < min) return false;
        take = this.#int(min, maxAssignable);
      }
      this.#takes[c] = take;
      remaining -= take;
    }
    return true;
  }

  /** Draws row `r` (`n` countries over `k` continents) into `set`'s arrays. */
  draw(set: CompactTrainingSet, r: number, n: number, k: number): void {
    let attempt = 0;
    while (!this.#allocate(n, k)) {
      if (++attempt === MAX_ATTEMPTS) {
        throw new DatasetOptionsError(
          `no acceptable row with ${n} countries over ${k} continents after ${MAX_ATTEMPTS} ` +
            `draws (impossible under this taxonomy)`,
        );
      }
    }
    const first = set.start[r];
    const grouped = set.grouped;
    let at = first;
    for (let b = 0; b < k; b++) {
      const c = this.#picked[b];
      const take = this.#takes[c];
      const pool = this.#pools[c];
      this.#partialShuffle(pool, 0, pool.length, take);
      for (let i = 0; i < take; i++) grouped[at++] = pool[i];
      set.blockContinent[r * K + b] = c;
      set.blockSize[r * K + b] = take;
    }
    // The text's shuffle is drawn in both orders (the reference always draws it).
    const grouping = set.textOrder === "grouped";
    const text = grouping ? this.#scratch : set.asked;
    const from = grouping ? 0 : first;
    for (let i = 0; i < n; i++) text[from + i] = grouped[first + i];
    this.#partialShuffle(text, from, n, n);
  }
}

/**
 * Draws the training set `generateTrainingSet(opts)` draws, into typed arrays; the options are
 * checked the same way (a `DatasetOptionsError` for the same bad options).
 */
export function drawCompactTrainingSet(
  opts: TrainingOptions & { rows: number },
): CompactTrainingSet {
  const plan = planTraining([opts.rows], opts);
  const countries = countryNumbers(plan.taxonomy);
  const start = new Int32Array(plan.total + 1);
  const countryCount = new Uint16Array(plan.total);
  const continentCount = new Uint8Array(plan.total);
  const indexInCell = new Int32Array(plan.total);
  let slots = 0;
  plan.cells.forEach((cell, ci) => {
    for (let i = 0; i < plan.drawn[ci]; i++) {
      const r = plan.offsets[ci] + i;
      start[r] = slots;
      slots += cell.countryCount;
      countryCount[r] = cell.countryCount;
      continentCount[r] = cell.continentCount;
      indexInCell[r] = i;
    }
  });
  start[plan.total] = slots;
  const grouped = new Uint8Array(slots);
  const keys = new Float64Array(plan.total);
  const set: CompactTrainingSet = {
    taxonomy: plan.taxonomy,
    textOrder: plan.order,
    countries,
    order: [],
    start,
    asked: plan.order === "grouped" ? grouped : new Uint8Array(slots),
    grouped,
    blockContinent: new Uint8Array(plan.total * K),
    blockSize: new Uint8Array(plan.total * K),
    countryCount,
    continentCount,
    indexInCell,
  };
  plan.cells.forEach((cell, ci) => {
    const sampler = new CompactSampler(plan.streams[ci], countries.pools);
    for (let i = 0; i < plan.drawn[ci]; i++) {
      const r = plan.offsets[ci] + i;
      keys[r] = sampler.key();
      sampler.draw(set, r, cell.countryCount, cell.continentCount);
    }
  });
  return { ...set, order: setOrder(plan, 0, keys) };
}

/** Row `r`'s id, as the reference names it (`n15k3-00042`). */
function rowId(set: CompactTrainingSet, r: number): string {
  return `n${set.countryCount[r]}k${set.continentCount[r]}-` +
    String(set.indexInCell[r] + 1).padStart(5, "0");
}

/** The set's rows as the reference builds them (the same objects, field for field). */
export function compactRows(set: CompactTrainingSet): DatasetRow[] {
  const { names } = set.countries;
  return set.order.map((r) => {
    const groups: CountryGroup[] = [];
    let at = set.start[r];
    for (let b = 0; b < set.continentCount[r]; b++) {
      const size = set.blockSize[r * K + b];
      const countries = Array.from(set.grouped.subarray(at, at + size), (i) => names[i]);
      groups.push({ continent: CONTINENTS[set.blockContinent[r * K + b]], countries });
      at += size;
    }
    const countries = set.textOrder === "grouped"
      ? groups.flatMap((g) => g.countries)
      : Array.from(set.asked.subarray(set.start[r], set.start[r + 1]), (i) => names[i]);
    return {
      id: rowId(set, r),
      countries,
      groups,
      text: TEXT_PREFIX + countries.join(", "),
      completion: COMPLETION_PREFIX +
        groups.map((g) => `${g.continent}: ${g.countries.join(", ")}`).join("\n\n"),
      countryCount: set.countryCount[r],
      continentCount: set.continentCount[r],
    };
  });
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
  /** Country `i`'s name is piece `name + i`, and `, ` + its name is `nextName + i`. */
  name: number;
  nextName: number;
  /** Continent `c`'s block head `대륙: ` is piece `block + c`, the blank line + it `nextBlock + c`. */
  block: number;
  nextBlock: number;
}

function csvPieces(names: readonly string[]): CsvPieces {
  // Both fields always hold a line feed (their prefixes do), so csv-stringify always quotes them.
  if (!TEXT_PREFIX.includes("\n") || !COMPLETION_PREFIX.includes("\n")) {
    throw new Error("the compact CSV writer assumes prefixes that always need quoting");
  }
  const quoted = (text: string) => text.replaceAll('"', '""');
  const bytes = [
    '"' + quoted(TEXT_PREFIX),
    '","' + quoted(COMPLETION_PREFIX),
    '"\r\n',
    ...names.map(quoted),
    ...names.map((n) => quoted(", " + n)),
    ...CONTINENTS.map((c) => quoted(`${c}: `)),
    ...CONTINENTS.map((c) => quoted(`\n\n${c}: `)),
  ].map((t) => encoder.encode(t));
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
    nextBlock: block + CONTINENTS.length,
  };
}

/** How many bytes of the tuning CSV {@link compactTuningCsvChunks} puts in one chunk (about). */
const CHUNK_BYTES = 1 << 19;

/**
 * The tuning CSV of the set: exactly the UTF-8 bytes of `tuningCsv(rows, { format })` for the
 * reference's rows (byte-order mark, CRLF record ends, csv-stringify's quoting).
 */
export function compactTuningCsv(
  set: CompactTrainingSet,
  format: TuningCsvFormat = "text-completion",
): Uint8Array {
  const chunks = [...compactTuningCsvChunks(set, format)];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) at = put(out, at, chunk);
  return out;
}

/**
 * {@link compactTuningCsv}'s bytes in chunks of whole rows (about half a megabyte each, the
 * first with the header), made one at a time as they are asked for: a writer can write one while
 * the next is made.
 */
export function* compactTuningCsvChunks(
  set: CompactTrainingSet,
  format: TuningCsvFormat = "text-completion",
): Generator<Uint8Array> {
  const p = csvPieces(set.countries.names);
  const rows = set.order.length;
  // Room for the longest row after a chunk's first half megabyte: every piece of a row (its
  // three fixed pieces, two names a country and a head a continent) at most the longest piece,
  // and its `C_ID,T_ID,` head.
  let most = 0;
  for (const r of set.order) most = Math.max(most, 2 * set.countryCount[r] + set.continentCount[r]);
  const room = CHUNK_BYTES + (3 + most) * Math.max(...p.bytes.map((b) => b.length)) + 32;
  let out = new Uint8Array(room);
  let at = put(
    out,
    0,
    encoder.encode(
      "\ufeff" + (format === "single-turn" ? "C_ID,T_ID,Text,Completion" : "Text,Completion") +
        "\r\n",
    ),
  );
  for (let i = 0; i < rows; i++) {
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
function writeRow(
  set: CompactTrainingSet,
  r: number,
  p: CsvPieces,
  out: Uint8Array,
  at: number,
): number {
  const bytes = p.bytes;
  const first = set.start[r];
  const end = set.start[r + 1];
  const k = set.continentCount[r];
  at = put(out, at, bytes[p.textOpen]);
  at = put(out, at, bytes[p.name + set.asked[first]]);
  for (let s = first + 1; s < end; s++) at = put(out, at, bytes[p.nextName + set.asked[s]]);
  at = put(out, at, bytes[p.completionOpen]);
  let s = first;
  for (let b = 0; b < k; b++) {
    const c = set.blockContinent[r * K + b];
    at = put(out, at, bytes[(b === 0 ? p.block : p.nextBlock) + c]);
    const blockEnd = s + set.blockSize[r * K + b];
    at = put(out, at, bytes[p.name + set.grouped[s++]]);
    while (s < blockEnd) at = put(out, at, bytes[p.nextName + set.grouped[s++]]);
  }
  return put(out, at, bytes[p.close]);
}

function put(out: Uint8Array, at: number, bytes: Uint8Array): number {
  out.set(bytes, at);
  return at + bytes.length;
}

// ---------------------------------------------------------------------------------------------
// Statistics and the rule check

/** `datasetStats` of the reference's rows, computed from the numbers. */
export function compactStats(set: CompactTrainingSet): DatasetStats {
  const { names } = set.countries;
  const rows = set.order.length;
  const { texts, completions, hashes, used } = rowSums(set);
  const cellRows = new Map<number, number>();
  for (const r of set.order) {
    const cell = set.countryCount[r] * 8 + set.continentCount[r];
    cellRows.set(cell, (cellRows.get(cell) ?? 0) + 1);
  }
  const cells = [...cellRows.entries()].sort((a, b) => a[0] - b[0]).map(([cell, rows]) => ({
    countryCount: cell >> 3,
    continentCount: cell & 7,
    rows,
  }));
  const listed = set.taxonomy.countries;
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
      list: set.taxonomy.list,
      countries: new Set(listed.map((c) => c.name)).size,
      used: usedNames.size,
      neverUsed: listed.map((c) => c.name).filter((n) => !usedNames.has(n)),
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
  /** An order-insensitive 52-bit hash of the row's countries (see {@link setHashTags}). */
  hashes: Float64Array;
  /** Per country: 1 if some row asks it. */
  used: Uint8Array;
}

/**
 * One pass over the rows' countries: the characters of each row's text and completion (the
 * names' lengths plus the prefixes, separators and continent heads), the hash of its country set
 * (the exclusive or of its countries' tags: equal sets hash equal, and {@link duplicates}
 * compares the rows of equal hashes exactly) and the countries asked.
 */
function rowSums(set: CompactTrainingSet): RowSums {
  const { names } = set.countries;
  const rows = set.order.length;
  const nameLength = Int32Array.from(names, (n) => n.length);
  const headLength = Int32Array.from(CONTINENTS, (c) => c.length + 2);
  const tags = setHashTags(names.length);
  const texts = new Int32Array(rows);
  const completions = new Int32Array(rows);
  const hashes = new Float64Array(rows);
  const used = new Uint8Array(names.length);
  for (let i = 0; i < rows; i++) {
    const r = set.order[i];
    const n = set.countryCount[r];
    const k = set.continentCount[r];
    let chars = 0;
    let high = 0;
    let low = 0;
    for (let s = set.start[r]; s < set.start[r + 1]; s++) {
      const country = set.asked[s];
      chars += nameLength[country];
      used[country] = 1;
      high ^= tags[2 * country];
      low ^= tags[2 * country + 1];
    }
    let heads = 0;
    for (let b = 0; b < k; b++) heads += headLength[set.blockContinent[r * K + b]];
    texts[i] = TEXT_PREFIX.length + chars + 2 * (n - 1);
    completions[i] = COMPLETION_PREFIX.length + heads + chars + 2 * (n - k) + 2 * (k - 1);
    hashes[i] = high * 67108864 + low;
  }
  return { texts, completions, hashes, used };
}

/** Two fixed pseudo-random 26-bit tags per country (a 32-bit LCG), for the set hashes. */
function setHashTags(countries: number): Int32Array {
  const tags = new Int32Array(2 * countries);
  let x = 0x2545f491;
  for (let i = 0; i < tags.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0;
    tags[i] = x >>> 6;
  }
  return tags;
}

/** Rows that repeat another row's country set, and how many sets repeat. */
function duplicates(set: CompactTrainingSet, hashes: Float64Array): DatasetStats["duplicates"] {
  const sorted = hashes.slice().sort();
  let candidates: Set<number> | undefined;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) (candidates ??= new Set()).add(sorted[i]);
  }
  if (!candidates) return { rows: 0, sets: 0 };
  // Rows whose hashes collide: count their sets exactly.
  const counts = new Map<string, number>();
  set.order.forEach((r, i) => {
    if (!candidates.has(hashes[i])) return;
    const key = Array.from(set.asked.subarray(set.start[r], set.start[r + 1])).sort((a, b) => a - b)
      .join();
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

/**
 * The cookbook's rule checked on the drawn numbers, row by row: as many blocks as continents,
 * no continent twice, at least 2 countries a block (1 for 5–6 continents), every country under
 * its own continent, the text asking exactly the completion's countries, none twice. The same
 * rules `validateRows` checks on the strings; a problem here is a bug in the sampler.
 */
export function compactProblems(set: CompactTrainingSet): RowProblem[] {
  const problems: RowProblem[] = [];
  const seen = new Int32Array(set.countries.names.length).fill(-1);
  for (const r of set.order) {
    for (const problem of rowProblems(set, r, seen)) problems.push({ id: rowId(set, r), problem });
  }
  return problems;
}

/**
 * Row `r`'s problems under the rule. `seen[country]` is where the rows mark their countries: `r`
 * for one in the completion, `-2 - r` once the text has asked it.
 */
function rowProblems(set: CompactTrainingSet, r: number, seen: Int32Array): string[] {
  const { names, continentOf } = set.countries;
  const problems: string[] = [];
  const first = set.start[r];
  const n = set.countryCount[r];
  const k = set.continentCount[r];
  const min = k <= 4 ? 2 : 1;
  let continents = 0;
  let s = first;
  for (let b = 0; b < k; b++) {
    const c = set.blockContinent[r * K + b];
    const size = set.blockSize[r * K + b];
    if (continents & (1 << c)) problems.push(`continent ${CONTINENTS[c]} listed twice`);
    continents |= 1 << c;
    if (size < min) problems.push(`${CONTINENTS[c]} has ${size} < ${min} countries`);
    for (const end = s + size; s < end; s++) {
      const country = set.grouped[s];
      if (continentOf[country] !== c) {
        problems.push(
          `${names[country]} listed under ${CONTINENTS[c]}, belongs to ` +
            CONTINENTS[continentOf[country]],
        );
      }
      seen[country] = r;
    }
  }
  if (s !== first + n) problems.push(`the blocks hold ${s - first} countries, not ${n}`);
  let repeats = false;
  let missing = false;
  for (let a = first; a < first + n; a++) {
    const country = set.asked[a];
    if (seen[country] === -2 - r) repeats = true;
    else if (seen[country] !== r) missing = true;
    seen[country] = -2 - r;
  }
  for (let g = first; g < s; g++) if (seen[set.grouped[g]] !== -2 - r) missing = true;
  if (missing) problems.push("completion does not list exactly the asked countries");
  if (repeats) problems.push("text repeats a country");
  return problems;
}
