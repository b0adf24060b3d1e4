/**
 * A taxonomy task's mixes: how many items and groups a row lists, and in what shares. Left out of
 * the spec, they are the cookbook's (10/15/20/30 items as 1:3:3:3 for training and equal for
 * evaluation, 2–6 groups equal, 100 prompts) scaled to the taxonomy: group counts up to its
 * number of groups, item counts in proportion to its number of items (the cookbook's 193) and
 * never below what the cookbook's rule needs (2 items a group for rows of up to 4 groups, else 1).
 * A mix the taxonomy cannot fill is refused with the reason.
 *
 * @module
 */
import {
  CONTINENT_MIX,
  EVAL_COUNTRY_MIX,
  EVAL_PROMPTS,
  TRAINING_COUNTRY_MIX,
} from "../cookbook.ts";
import {
  apportion,
  crossMix,
  DatasetOptionsError,
  type Mix,
  type MixCell,
} from "../sampling/mod.ts";
import { TaskError, type TaskMix } from "../run/mod.ts";
import type { TaskTaxonomy } from "./taxonomy.ts";

/** The cookbook's number of items (the UN's 193 members) the default item counts are scaled from. */
const COOKBOOK_ITEMS = 193;

/** The mixes a taxonomy task draws with, defaults filled in. */
export interface ResolvedMix {
  trainItems: Mix;
  evalItems: Mix;
  groups: Mix;
  evalPrompts: number;
}

/** The fewest items a row over `k` groups holds under the cookbook's rule. */
export function minItems(k: number): number {
  return k <= 4 ? 2 * k : k;
}

/** A JSON mix (`{"10": 1}`) as a {@link Mix}. */
function fromJson(mix: Readonly<Record<string, number>>): Mix {
  return Object.fromEntries(Object.entries(mix).map(([k, w]) => [Number(k), w]));
}

/** The cookbook's item mix scaled to `items` items, no count below `floor`; weights merged. */
function scaleItems(mix: Mix, items: number, floor: number): Mix {
  const f = Math.min(1, items / COOKBOOK_ITEMS);
  const out: Record<number, number> = {};
  for (const [k, w] of Object.entries(mix)) {
    const n = Math.max(floor, Math.round(Number(k) * f));
    out[n] = (out[n] ?? 0) + w;
  }
  return out;
}

/** The task's mixes: the spec's where given, otherwise the cookbook's scaled to the taxonomy. */
export function resolveMix(spec: TaskMix, taxonomy: TaskTaxonomy): ResolvedMix {
  const groupCount = taxonomy.groups.length;
  let groups: Mix;
  if (spec.groups) groups = fromJson(spec.groups);
  else {
    const most = Math.min(Math.max(...Object.keys(CONTINENT_MIX).map(Number)), groupCount);
    groups = Object.fromEntries(
      Object.entries(CONTINENT_MIX).filter(([k]) => Number(k) <= most),
    );
    if (Object.keys(groups).length === 0) {
      throw tooSmall(taxonomy, `a row spans at least 2 groups`);
    }
  }
  const weighted = Object.entries(groups).filter(([, w]) => w > 0).map(([k]) => Number(k));
  const floor = Math.max(0, ...weighted.map(minItems));
  const items = taxonomy.items.length;
  return {
    trainItems: spec.trainItems
      ? fromJson(spec.trainItems)
      : scaleItems(TRAINING_COUNTRY_MIX, items, floor),
    evalItems: spec.evalItems
      ? fromJson(spec.evalItems)
      : scaleItems(EVAL_COUNTRY_MIX, items, floor),
    groups,
    evalPrompts: spec.evalPrompts ?? EVAL_PROMPTS,
  };
}

function tooSmall(taxonomy: TaskTaxonomy, why: string): TaskError {
  return new TaskError(
    `taxonomy "${taxonomy.name}" (${taxonomy.items.length} items in ${taxonomy.groups.length} ` +
      `groups) is too small for the mix: ${why}`,
  );
}

/**
 * The crossed cells of an item mix and a group mix, each checked against the taxonomy: a row of
 * `n` items over `k` groups needs `k` groups, at least `minItems(k)` items, and `k` groups that
 * can hold them (the `k` largest groups hold `n` items between them, the smallest of them the
 * cookbook's minimum). Throws a one-line {@link TaskError} with the reason.
 */
export function taskCells(itemMix: Mix, groupMix: Mix, taxonomy: TaskTaxonomy): MixCell[] {
  const groupCount = taxonomy.groups.length;
  let cells: MixCell[];
  try {
    cells = crossMix(itemMix, groupMix, Math.max(groupCount, 1));
  } catch (e) {
    if (!(e instanceof DatasetOptionsError)) throw e;
    if (/continent-count mix: \d+ is not an integer in/.test(e.message)) {
      const asked = Math.max(...Object.keys(groupMix).map(Number));
      throw tooSmall(taxonomy, `a row spans up to ${asked} groups`);
    }
    throw new TaskError(
      e.message.replace("country-count", "item-count").replace(
        "continent-count",
        "group-count",
      ),
    );
  }
  const sizes = taxonomy.groups.map((g) => taxonomy.itemsOf(g).length).sort((a, b) => b - a);
  for (const c of cells) {
    if (c.weight === 0) continue;
    const n = c.countryCount;
    const k = c.continentCount;
    const min = k <= 4 ? 2 : 1;
    if (n < minItems(k)) {
      throw new TaskError(
        `the mix asks rows of ${n} items over ${k} groups: the cookbook's rule needs at least ` +
          `${minItems(k)} (${min} a group)`,
      );
    }
    const largest = sizes.slice(0, k);
    const held = largest.reduce((a, b) => a + b, 0);
    if (held < n || (k > 1 && largest[k - 1] < min)) {
      throw tooSmall(
        taxonomy,
        `a row of ${n} items over ${k} groups needs ${k} groups holding ${n} items with at ` +
          `least ${min} in each; its ${k} largest groups hold ${held} (${largest.join(", ")})`,
      );
    }
  }
  return cells;
}

/** `C(n, k)` as a float (exact up to 2^53). */
function choose(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const m = Math.min(k, n - k);
  let c = 1;
  for (let i = 1; i <= m; i++) c = (c * (n - m + i)) / i;
  return Math.round(c);
}

/**
 * How many different item sets a row of `n` items over `k` groups can ask under the cookbook's
 * rule (each of the `k` groups gives at least its minimum, at most all its items): a count over
 * group subsets and allocations, without listing them.
 */
export function possibleSets(n: number, k: number, taxonomy: TaskTaxonomy): number {
  const min = k <= 4 ? 2 : 1;
  // ways[j][t]: sets of t items from j chosen groups among those seen so far.
  let ways = Array.from({ length: k + 1 }, () => new Float64Array(n + 1));
  ways[0][0] = 1;
  for (const g of taxonomy.groups) {
    const size = taxonomy.itemsOf(g).length;
    const next = ways.map((row) => row.slice());
    for (let j = 0; j < k; j++) {
      for (let t = 0; t <= n; t++) {
        if (ways[j][t] === 0) continue;
        for (let take = min; take <= size && t + take <= n; take++) {
          next[j + 1][t + take] += ways[j][t] * choose(size, take);
        }
      }
    }
    ways = next;
  }
  return ways[k][n];
}

/**
 * Throws a one-line {@link TaskError} when the evaluation mix asks more different lists of some
 * shape than the taxonomy holds (every evaluation prompt asks a set no other prompt asks).
 */
export function checkEvalSets(mix: ResolvedMix, taxonomy: TaskTaxonomy): void {
  const cells = taskCells(mix.evalItems, mix.groups, taxonomy);
  const counts = apportion(mix.evalPrompts, cells.map((c) => c.weight));
  cells.forEach((c, i) => {
    if (counts[i] === 0) return;
    const possible = possibleSets(c.countryCount, c.continentCount, taxonomy);
    if (possible < counts[i]) {
      throw tooSmall(
        taxonomy,
        `the evaluation set asks ${counts[i]} different lists of ${c.countryCount} items over ` +
          `${c.continentCount} groups, and there are only ${possible}`,
      );
    }
  });
}
