/**
 * The cookbook's generator for any taxonomy task: shuffled lists of items with the task's mixes as
 * tuning `Text`, the items grouped (`group: a, b` blocks) as `Completion`, from the task's
 * templates. The draw is the cookbook's per-row rule over the taxonomy's groups, on the same
 * seeded streams and nested sizes, with the same sampler as the country generator
 * (`lib/sampling/`): for the country task it gives the same rows, byte for byte.
 *
 * @module
 */
import {
  apportion,
  cellStreams,
  checkSeed,
  DatasetOptionsError,
  drawnBlocks,
  drawNested,
  drawnItems,
  drawnRowId,
  type MixCell,
  numberItems,
  planNested,
  RowSampler,
  setOrder,
} from "../sampling/mod.ts";
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

/** Runs `f`, turning the sampler's and the plan's option errors into {@link TaskError}s. */
function asTaskError<T>(f: () => T): T {
  try {
    return f();
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
  asTaskError(() => checkSeed(opts.seed));
  for (const s of sizes) {
    if (!Number.isSafeInteger(s) || s < 0) throw new TaskError(`size ${s} is not a whole number`);
  }
  const groupNames = task.taxonomy.groups;
  const cells = taskCells(task.mix.trainItems, task.mix.groups, task.taxonomy);
  const plan = planNested(opts.seed, cells, sizes, groupNames.length);
  const drawn = asTaskError(() => drawNested(plan, numberItems(pools(task))));
  const all: TaskRow[] = new Array(plan.total);
  for (let r = 0; r < plan.total; r++) {
    const groups = drawnBlocks(drawn, r).map((b) => ({
      group: groupNames[b.group],
      items: b.items,
    }));
    const items = drawnItems(drawn, r, opts.order === "grouped");
    all[r] = {
      id: drawnRowId(drawn, r),
      items,
      groups,
      text: taskPromptText(task, items),
      completion: taskCompletionText(task, groups),
      itemCount: drawn.itemCount[r],
      groupCount: drawn.groupCount[r],
    };
  }
  const out = new Map<number, TaskRow[]>();
  plan.sizes.forEach((size, s) => out.set(size, setOrder(plan, s, drawn.keys).map((g) => all[g])));
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
  asTaskError(() => checkSeed(opts.seed));
  const groupNames = task.taxonomy.groups;
  const cells = taskCells(task.mix.evalItems, task.mix.groups, task.taxonomy);
  const total = task.mix.evalPrompts;
  const counts = apportion(total, cells.map((c) => c.weight));
  const used = new Set<string>();
  for (const items of opts.exclude ?? []) used.add(setKey(items));
  const streams = cellStreams(opts.seed, cells, 1, groupNames.length);
  const numbered = numberItems(pools(task));
  const names = (asked: Uint16Array) => Array.from(asked, (i) => numbered.names[i]);
  const drawn: { key: number; cell: MixCell; ci: number; index: number; asked: string[] }[] = [];
  cells.forEach((cell, ci) => {
    const sampler = new RowSampler(streams[ci], numbered);
    for (let i = 0; i < counts[ci]; i++) {
      const key = sampler.key();
      asTaskError(() => sampler.draw(cell, (asked) => !used.has(setKey(names(asked)))));
      const asked = names(sampler.asked.subarray(0, cell.countryCount));
      used.add(setKey(asked));
      drawn.push({ key, cell, ci, index: i, asked });
    }
  });
  drawn.sort((a, b) => a.key - b.key || a.ci - b.ci || a.index - b.index);
  const width = Math.max(3, String(total).length);
  return drawn.map(({ cell, asked }, i) => ({
    id: `e${String(i + 1).padStart(width, "0")}`,
    system: opts.system ?? "",
    user: taskPromptText(task, asked),
    countries: asked,
    countryCount: cell.countryCount,
    continentCount: cell.continentCount,
  }));
}
