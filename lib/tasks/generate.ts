/**
 * The cookbook's generator for any taxonomy task: shuffled lists of items with the task's mixes as
 * tuning `Text`, the items grouped (`group: a, b` blocks) as `Completion`, from the task's
 * templates. The draw is the cookbook's per-row rule (see `../dataset.ts`) over the taxonomy's
 * groups, on the same seeded streams and nested sizes (`../datasetPlan.ts`): for the country task
 * it gives the same rows, byte for byte, as the country generator.
 *
 * @module
 */
import { uniformInt } from "pure-rand/distribution/uniformInt";
import {
  apportion,
  cellStreams,
  checkSeed,
  DatasetOptionsError,
  drawKey,
  type MixCell,
  nestedCounts,
  type Rng,
} from "./plan.ts";
import type { Prompt } from "../run/mod.ts";
import { TaskError } from "../run/mod.ts";
import { taskCells } from "./mix.ts";
import type { TaxonomyTask } from "./task.ts";

/** A tuning row as the dataset stage writes and describes it. */
export interface RunTrainingRow {
  id: string;
  text: string;
  completion: string;
  /** The asked items, in the text's order. */
  countries: readonly string[];
  countryCount: number;
  continentCount: number;
}

/** One group's block of a completion: the group and its items in sampled order. */
export interface ItemGroup {
  group: string;
  items: readonly string[];
}

/** One tuning row of a taxonomy task. */
export interface TaskRow {
  /** `n<items>k<groups>-<index in its cell stream>`, e.g. `n15k3-00042`. */
  id: string;
  /** The asked items in the order the text lists them. */
  items: readonly string[];
  /** The completion's blocks: groups in sampled order, items in sampled order. */
  groups: readonly ItemGroup[];
  text: string;
  completion: string;
  itemCount: number;
  groupCount: number;
}

interface Draw {
  groups: ItemGroup[];
  shuffled: string[];
}

const MAX_ATTEMPTS = 100_000;

/**
 * The cookbook's per-row rule on one random stream, over any groups (the same draws, in the same
 * order, as the country generator's sampler when the groups are the six continents).
 */
class RowSampler {
  readonly #rng: Rng;
  readonly #pools: string[][];
  readonly #names: readonly string[];
  readonly #order: number[];
  readonly #picked: number[] = [];
  readonly #bySize: number[] = [];
  readonly #takes: Int32Array;

  constructor(rng: Rng, names: readonly string[], pools: readonly (readonly string[])[]) {
    this.#rng = rng;
    this.#names = names;
    this.#pools = pools.map((p) => p.slice());
    this.#order = pools.map((_, i) => i);
    this.#takes = new Int32Array(pools.length);
  }

  #int(from: number, to: number): number {
    return uniformInt(this.#rng as never, from, to);
  }

  #partialShuffle<T>(a: T[], k: number): void {
    const last = a.length - 1;
    for (let i = 0; i < k; i++) {
      const j = this.#int(i, last);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  #allocate(itemCount: number, k: number): boolean {
    this.#partialShuffle(this.#order, k);
    const picked = this.#picked;
    picked.length = 0;
    for (let i = 0; i < k; i++) picked.push(this.#order[i]);
    const pools = this.#pools;
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
    let remaining = itemCount;
    for (let idx = 0; idx < bySize.length; idx++) {
      const g = bySize[idx];
      const available = pools[g].length;
      let take: number;
      if (idx === bySize.length - 1) {
        take = remaining;
        if (take < 1 || take > available) return false;
      } else {
        const maxAssignable = Math.min(available, remaining - (bySize.length - idx - 1) * min);
        if (maxAssignable < min) return false;
        take = this.#int(min, maxAssignable);
      }
      this.#takes[g] = take;
      remaining -= take;
    }
    return true;
  }

  draw(cell: MixCell, accept?: (d: Draw) => boolean): Draw {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!this.#allocate(cell.countryCount, cell.continentCount)) continue;
      const shuffled: string[] = new Array(cell.countryCount);
      let at = 0;
      const groups: ItemGroup[] = [];
      for (const g of this.#picked) {
        const take = this.#takes[g];
        const pool = this.#pools[g];
        this.#partialShuffle(pool, take);
        const items = pool.slice(0, take);
        for (let i = 0; i < take; i++) shuffled[at++] = items[i];
        groups.push({ group: this.#names[g], items });
      }
      this.#partialShuffle(shuffled, shuffled.length);
      const d = { groups, shuffled };
      if (!accept || accept(d)) return d;
    }
    throw new TaskError(
      `no acceptable row with ${cell.countryCount} items over ${cell.continentCount} groups ` +
        `after ${MAX_ATTEMPTS} draws (every possible list is already used or excluded)`,
    );
  }
}

/** The prompt text for a list of items. */
export function taskPromptText(task: TaxonomyTask, items: readonly string[]): string {
  return task.templates.prompt + items.join(task.templates.separator);
}

/** The completion for the given blocks. */
export function taskCompletionText(task: TaxonomyTask, groups: readonly ItemGroup[]): string {
  const sep = task.templates.separator;
  return task.templates.completion +
    groups.map((g) => `${g.group}: ${g.items.join(sep)}`).join("\n\n");
}

/** The items a prompt text asks (the prompt template, then the list); `[]` if not one. */
export function itemsFromText(task: TaxonomyTask, text: string): string[] {
  if (!text.startsWith(task.templates.prompt)) return [];
  return text.slice(task.templates.prompt.length).split(task.templates.separator.trim() || ",")
    .map((s) => s.trim()).filter((s) => s !== "");
}

function setKey(items: readonly string[]): string {
  return [...items].sort().join("\n");
}

function pools(task: TaxonomyTask): string[][] {
  return task.taxonomy.groups.map((g) => task.taxonomy.itemsOf(g).map((i) => i.name));
}

function checkedSeed(seed: number): void {
  try {
    checkSeed(seed);
  } catch (e) {
    if (e instanceof DatasetOptionsError) throw new TaskError(e.message);
    throw e;
  }
}

/**
 * Nested tuning sets for several sizes of a taxonomy task: each the task's training mix (exact
 * where the size allows, largest remainder otherwise), every smaller set a subset of every larger
 * one, in the same relative order. `order: "grouped"` lists the text's items group after group.
 */
export function generateTaskTrainingSets(
  task: TaxonomyTask,
  sizes: readonly number[],
  opts: { seed: number; order?: "shuffled" | "grouped" },
): Map<number, TaskRow[]> {
  checkedSeed(opts.seed);
  for (const s of sizes) {
    if (!Number.isSafeInteger(s) || s < 0) throw new TaskError(`size ${s} is not a whole number`);
  }
  const groupNames = task.taxonomy.groups;
  const cells = taskCells(task.mix.trainItems, task.mix.groups, task.taxonomy);
  const ascending = [...new Set(sizes)].sort((a, b) => a - b);
  const counts = nestedCounts(ascending, cells.map((c) => c.weight));
  const drawn = counts.length ? counts[counts.length - 1] : cells.map(() => 0);
  const offsets: number[] = [];
  let total = 0;
  for (const n of drawn) {
    offsets.push(total);
    total += n;
  }
  const streams = cellStreams(opts.seed, cells, 0, groupNames.length);
  const itemPools = pools(task);
  const keys = new Float64Array(total);
  const all: TaskRow[] = new Array(total);
  cells.forEach((cell, ci) => {
    const rng = streams[ci];
    const sampler = new RowSampler(rng, groupNames, itemPools);
    const prefix = `n${cell.countryCount}k${cell.continentCount}-`;
    for (let i = 0; i < drawn[ci]; i++) {
      keys[offsets[ci] + i] = drawKey(rng);
      const d = sampler.draw(cell);
      const items = opts.order === "grouped" ? d.groups.flatMap((g) => g.items) : d.shuffled;
      all[offsets[ci] + i] = {
        id: prefix + String(i + 1).padStart(5, "0"),
        items,
        groups: d.groups,
        text: taskPromptText(task, items),
        completion: taskCompletionText(task, d.groups),
        itemCount: cell.countryCount,
        groupCount: cell.continentCount,
      };
    }
  });
  const out = new Map<number, TaskRow[]>();
  ascending.forEach((size, s) => {
    const picked: number[] = [];
    cells.forEach((_, ci) => {
      for (let i = 0; i < counts[s][ci]; i++) picked.push(offsets[ci] + i);
    });
    picked.sort((a, b) => keys[a] - keys[b] || a - b);
    out.set(size, picked.map((g) => all[g]));
  });
  return out;
}

/**
 * The evaluation prompts of a taxonomy task: `task.mix.evalPrompts` lists drawn with the same rule
 * from streams separate from the training streams, none asking a set in `exclude` or the same
 * set twice. Each prompt records its items (`countries`) and counts, as the country prompts do.
 */
export function generateTaskEvalSet(
  task: TaxonomyTask,
  opts: { seed: number; system?: string; exclude?: Iterable<readonly string[]> },
): Prompt[] {
  checkedSeed(opts.seed);
  const groupNames = task.taxonomy.groups;
  const cells = taskCells(task.mix.evalItems, task.mix.groups, task.taxonomy);
  const total = task.mix.evalPrompts;
  const counts = apportion(total, cells.map((c) => c.weight));
  const used = new Set<string>();
  for (const items of opts.exclude ?? []) used.add(setKey(items));
  const streams = cellStreams(opts.seed, cells, 1, groupNames.length);
  const itemPools = pools(task);
  const drawn: { key: number; cell: MixCell; ci: number; index: number; d: Draw }[] = [];
  cells.forEach((cell, ci) => {
    const rng = streams[ci];
    const sampler = new RowSampler(rng, groupNames, itemPools);
    for (let i = 0; i < counts[ci]; i++) {
      const key = drawKey(rng);
      const d = sampler.draw(cell, (d) => !used.has(setKey(d.shuffled)));
      used.add(setKey(d.shuffled));
      drawn.push({ key, cell, ci, index: i, d });
    }
  });
  drawn.sort((a, b) => a.key - b.key || a.ci - b.ci || a.index - b.index);
  const width = Math.max(3, String(total).length);
  return drawn.map(({ cell, d }, i) => ({
    id: `e${String(i + 1).padStart(width, "0")}`,
    system: opts.system ?? "",
    user: taskPromptText(task, d.shuffled),
    countries: d.shuffled,
    countryCount: cell.countryCount,
    continentCount: cell.continentCount,
  }));
}
