/**
 * The cookbook's per-row rule (its section "튜닝용 데이터셋 생성"; see `data/cookbook/README.md`),
 * written once, over any taxonomy: items in groups (countries in continents for the country task).
 * Items are numbers (`names[i]` is item `i`'s name), so a row is a few small integers until a
 * writer turns it into text.
 *
 * The rule, exactly as the cookbook's Python:
 * 1. sample `k` groups (`random.sample`);
 * 2. sort them by group size, ascending (stable), to allocate items;
 * 3. each but the last gets `randint(min, min(available, remaining - left * min))` items, with
 *    `min` 2 for up to 4 groups and 1 for 5 or more; the last takes the remainder;
 * 4. when that is impossible (an empty `randint` range, or a remainder larger than the group)
 *    the row is rejected and drawn again from scratch;
 * 5. the text lists the selected items shuffled; the completion lists the groups in the order
 *    they were sampled, each with its items in the order they were sampled.
 *
 * Rows are drawn on seeded xoroshiro128+ streams (`./plan.ts`); {@link drawNested} draws a whole
 * nested plan into typed arrays ({@link DrawnRows}), {@link RowSampler} one row at a time.
 *
 * @module
 */
import { DatasetOptionsError, type MixCell, type NestedPlan, type Rng } from "./plan.ts";

/** Draws before a cell is declared impossible. */
const MAX_ATTEMPTS = 100_000;

/** A taxonomy's items as numbers. */
export interface NumberedItems {
  /** Item `i`'s name. */
  names: readonly string[];
  /** Item `i`'s group (an index into the taxonomy's groups). */
  groupOf: Uint16Array;
  /** Each group's items, in list order. */
  pools: readonly Uint16Array[];
}

/**
 * Numbers the items of `pools` (each group's item names, in list order) group after group: the
 * numbering the sampler draws and the writers read.
 */
export function numberItems(pools: readonly (readonly string[])[]): NumberedItems {
  const names: string[] = [];
  const groups: number[] = [];
  const numbered = pools.map((pool, g) => {
    const first = names.length;
    for (const name of pool) {
      names.push(name);
      groups.push(g);
    }
    return Uint16Array.from({ length: pool.length }, (_, i) => first + i);
  });
  if (names.length > 0xffff) throw new DatasetOptionsError(`${names.length} items are too many`);
  return { names, groupOf: Uint16Array.from(groups), pools: numbered };
}

/**
 * The rule on one random stream. Every `random.sample` is a partial Fisher–Yates pass over this
 * sampler's own working copy of the pool (a partial pass over any permutation yields a uniform
 * sample in random order, so the copy need not be reset between rows, and because each stream
 * owns its copies, a stream's rows never depend on another's). All allocations are drawn before
 * any item is: the accept/reject decision depends only on the groups and the allocation, so this
 * gives exactly the distribution of the Python, which sampled items between its `randint` calls
 * and threw them away on rejection.
 *
 * The stream is run here (pure-rand's xoroshiro128+ `next` and `uniformInt`, restated on the
 * stream's state, the same numbers as the library's, one call less per number). After
 * {@link draw}, the row is in {@link picked}, {@link takes}, {@link grouped} and {@link asked}.
 */
export class RowSampler {
  #s01: number;
  #s00: number;
  #s11: number;
  #s10: number;
  readonly #pools: Uint16Array[];
  readonly #sizes: Int32Array;
  readonly #order: Int32Array;
  readonly #bySize: Int32Array;
  /** The row's groups in sampled order (its first `k` entries). */
  readonly picked: Int32Array;
  /** Items taken from each group (by group number; valid for the picked groups). */
  readonly takes: Int32Array;
  /** The row's items in completion order: block after block, each in sampled order. */
  readonly grouped: Uint16Array;
  /** The row's items in the order a shuffled text lists them. */
  readonly asked: Uint16Array;

  constructor(rng: Rng, items: NumberedItems) {
    [this.#s01, this.#s00, this.#s11, this.#s10] = rng.getState();
    const groups = items.pools.length;
    this.#pools = items.pools.map((p) => p.slice());
    this.#sizes = Int32Array.from(items.pools, (p) => p.length);
    this.#order = Int32Array.from({ length: groups }, (_, g) => g);
    this.#bySize = new Int32Array(groups);
    this.picked = new Int32Array(groups);
    this.takes = new Int32Array(groups);
    this.grouped = new Uint16Array(items.names.length);
    this.asked = new Uint16Array(items.names.length);
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
   * `random.randint(from, to)`, as pure-rand's `uniformInt(rng, from, to)` draws it: `value =
   * next() + 2^31`, redrawn while `value >= allowed`, then `value % size + from`. Here `bits`
   * holds the same 32 bits as an integer (`value` is `bits >>> 0`); for ranges of at most 2^15
   * values `value % size` is taken in 16-bit halves in integer arithmetic (a remainder of
   * non-integers is a slow library call in V8).
   */
  #int(from: number, to: number): number {
    const size = to - from + 1;
    const allowed = size > 2 ? ~~(4294967296 / size) * size : 4294967296;
    let bits = this.#next() ^ -2147483648;
    while ((bits >>> 0) >= allowed) bits = this.#next() ^ -2147483648;
    if (size > 0x8000) return ((bits >>> 0) % size) + from;
    return (((((bits >>> 16) % size) << 16) | (bits & 0xffff)) % size) + from;
  }

  /** A row's sort key, 53 random bits, as `drawKey` (`./plan.ts`) draws it from the stream. */
  key(): number {
    return (this.#next() >>> 0) * 2097152 + (this.#next() >>> 11);
  }

  /** Moves a uniform sample of `k` of `a[0 .. length)` to its front (partial Fisher–Yates). */
  #partialShuffle(a: Uint16Array | Int32Array, length: number, k: number): void {
    const last = length - 1;
    for (let i = 0; i < k; i++) {
      const j = this.#int(i, last);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** Steps 1–4: picks `k` groups and allocates `n` items; `false` where the Python redrew. */
  #allocate(n: number, k: number): boolean {
    this.#partialShuffle(this.#order, this.#order.length, k);
    const picked = this.picked;
    const bySize = this.#bySize;
    const sizes = this.#sizes;
    for (let i = 0; i < k; i++) picked[i] = bySize[i] = this.#order[i];
    // Stable ascending sort by group size (insertion sort; k is small).
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
      const g = bySize[idx];
      const available = sizes[g];
      let take: number;
      if (idx === k - 1) {
        take = remaining;
        if (take < 1 || take > available) return false;
      } else {
        const maxAssignable = Math.min(available, remaining - (k - idx - 1) * min);
        if (maxAssignable < min) return false;
        take = this.#int(min, maxAssignable);
      }
      this.takes[g] = take;
      remaining -= take;
    }
    return true;
  }

  /**
   * Draws one row of `cell.countryCount` items over `cell.continentCount` groups, again from
   * scratch until it satisfies the rule and `accept` (given the row's {@link asked} items). The
   * text's shuffle is always drawn, also for a text that lists the items grouped.
   */
  draw(cell: MixCell, accept?: (asked: Uint16Array) => boolean): void {
    const n = cell.countryCount;
    const k = cell.continentCount;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!this.#allocate(n, k)) continue;
      let at = 0;
      for (let b = 0; b < k; b++) {
        const take = this.takes[this.picked[b]];
        const pool = this.#pools[this.picked[b]];
        this.#partialShuffle(pool, pool.length, take);
        for (let i = 0; i < take; i++) this.grouped[at++] = pool[i];
      }
      this.asked.set(this.grouped.subarray(0, n));
      this.#partialShuffle(this.asked, n, n);
      if (!accept || accept(this.asked.subarray(0, n))) return;
    }
    throw new DatasetOptionsError(
      `no acceptable row with ${n} items over ${k} groups after ${MAX_ATTEMPTS} draws ` +
        `(impossible under this taxonomy, or every possible set is excluded)`,
    );
  }
}

/**
 * The rows of a nested plan, drawn: every cell's rows in turn, laid out cell after cell. Row `r`'s
 * items are slots `start[r]` to `start[r + 1] - 1` of {@link asked} and {@link grouped}; its
 * blocks are entries `blockStart[r]` to `blockStart[r + 1] - 1` of {@link blockGroup} and
 * {@link blockSize}.
 */
export interface DrawnRows {
  readonly items: NumberedItems;
  readonly start: Int32Array;
  /** Items in the order a shuffled text lists them. */
  readonly asked: Uint16Array;
  /** Items in completion order: block after block, each in sampled order. */
  readonly grouped: Uint16Array;
  readonly blockStart: Int32Array;
  /** Each block's group and its number of items. */
  readonly blockGroup: Uint16Array;
  readonly blockSize: Uint16Array;
  /** Each row's item count, group count, and number within its cell (from 0). */
  readonly itemCount: Uint16Array;
  readonly groupCount: Uint16Array;
  readonly indexInCell: Int32Array;
  /** Each row's sort key (`drawKey`), for `setOrder`. */
  readonly keys: Float64Array;
}

/** Draws every row of `plan` from `items`: per cell, on its stream, a row's key and then the row. */
export function drawNested(plan: NestedPlan, items: NumberedItems): DrawnRows {
  const rows = plan.total;
  const start = new Int32Array(rows + 1);
  const blockStart = new Int32Array(rows + 1);
  const itemCount = new Uint16Array(rows);
  const groupCount = new Uint16Array(rows);
  const indexInCell = new Int32Array(rows);
  let slots = 0;
  let blocks = 0;
  plan.cells.forEach((cell, ci) => {
    for (let i = 0; i < plan.drawn[ci]; i++) {
      const r = plan.offsets[ci] + i;
      start[r] = slots;
      blockStart[r] = blocks;
      slots += cell.countryCount;
      blocks += cell.continentCount;
      itemCount[r] = cell.countryCount;
      groupCount[r] = cell.continentCount;
      indexInCell[r] = i;
    }
  });
  start[rows] = slots;
  blockStart[rows] = blocks;
  const drawn: DrawnRows = {
    items,
    start,
    asked: new Uint16Array(slots),
    grouped: new Uint16Array(slots),
    blockStart,
    blockGroup: new Uint16Array(blocks),
    blockSize: new Uint16Array(blocks),
    itemCount,
    groupCount,
    indexInCell,
    keys: new Float64Array(rows),
  };
  plan.cells.forEach((cell, ci) => {
    const sampler = new RowSampler(plan.streams[ci], items);
    const n = cell.countryCount;
    for (let i = 0; i < plan.drawn[ci]; i++) {
      const r = plan.offsets[ci] + i;
      drawn.keys[r] = sampler.key();
      sampler.draw(cell);
      drawn.grouped.set(sampler.grouped.subarray(0, n), start[r]);
      drawn.asked.set(sampler.asked.subarray(0, n), start[r]);
      for (let b = 0; b < cell.continentCount; b++) {
        const g = sampler.picked[b];
        drawn.blockGroup[blockStart[r] + b] = g;
        drawn.blockSize[blockStart[r] + b] = sampler.takes[g];
      }
    }
  });
  return drawn;
}

/** Row `r`'s id: `n<items>k<groups>-<its number in its cell, from 1>`, e.g. `n15k3-00042`. */
export function drawnRowId(drawn: DrawnRows, r: number): string {
  return `n${drawn.itemCount[r]}k${drawn.groupCount[r]}-` +
    String(drawn.indexInCell[r] + 1).padStart(5, "0");
}

/** Row `r`'s items as names, in the text's order (`grouped`: completion order). */
export function drawnItems(drawn: DrawnRows, r: number, grouped = false): string[] {
  const { names } = drawn.items;
  const from = grouped ? drawn.grouped : drawn.asked;
  const out: string[] = new Array(drawn.start[r + 1] - drawn.start[r]);
  for (let s = drawn.start[r], i = 0; i < out.length; s++, i++) out[i] = names[from[s]];
  return out;
}

/** Row `r`'s blocks: each group number with its items' names, in completion order. */
export function drawnBlocks(drawn: DrawnRows, r: number): { group: number; items: string[] }[] {
  const { names } = drawn.items;
  const out: { group: number; items: string[] }[] = [];
  let s = drawn.start[r];
  for (let b = drawn.blockStart[r]; b < drawn.blockStart[r + 1]; b++) {
    const items: string[] = new Array(drawn.blockSize[b]);
    for (let i = 0; i < items.length; i++) items[i] = names[drawn.grouped[s++]];
    out.push({ group: drawn.blockGroup[b], items });
  }
  return out;
}
