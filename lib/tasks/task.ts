/**
 * A taxonomy task made ready to draw and score: its spec with the taxonomy loaded, the mixes and
 * templates filled in and checked against the taxonomy. {@link loadTaxonomyTask} takes what a
 * user types after `--task`: a built-in's name, a JSON spec or an `item,group[,aliases]` file.
 *
 * @module
 */
import { basename, dirname, extname, isAbsolute, join } from "node:path";
import { BUILTIN_TASKS, builtinTaxonomy } from "./builtin.ts";
import { checkEvalSets, type ResolvedMix, resolveMix, taskCells } from "./mix.ts";
import { readTaxonomyFile } from "./read.ts";
import {
  BUILTIN_TAXONOMIES,
  type BuiltinTaxonomyName,
  parseTaskSpec,
  resolveTemplates,
  TaskError,
  type TaskLabels,
  type TaskTemplates,
  type TaxonomyTaskSpec,
  TaxonomyTaskSpecSchema,
} from "../run/mod.ts";
import { buildTaxonomy, type TaskTaxonomy } from "./taxonomy.ts";

/** A taxonomy task ready to draw datasets and score answers. */
export interface TaxonomyTask {
  /** The spec as given (defaults filled in). */
  readonly spec: TaxonomyTaskSpec;
  readonly name: string;
  readonly labels: TaskLabels;
  readonly taxonomy: TaskTaxonomy;
  readonly mix: ResolvedMix;
  readonly templates: Required<TaskTemplates>;
}

/** Labels of a task made from a bare `item,group` file. */
export const DEFAULT_LABELS: TaskLabels = { item: "항목", group: "분류" };

/**
 * Makes a spec ready: loads its taxonomy (a `file` is read relative to `baseDir`), fills in the
 * mixes and templates and checks both mixes against the taxonomy, so that a taxonomy too small
 * for the mix is refused here, before anything is drawn.
 */
export async function resolveTaxonomyTask(
  spec: TaxonomyTaskSpec,
  baseDir = ".",
): Promise<TaxonomyTask> {
  const source = spec.taxonomy;
  let taxonomy: TaskTaxonomy;
  if ("builtin" in source) taxonomy = builtinTaxonomy(source.builtin);
  else if ("file" in source) {
    taxonomy = await readTaxonomyFile(
      isAbsolute(source.file) ? source.file : join(baseDir, source.file),
    );
  } else taxonomy = buildTaxonomy(source.entries, { name: spec.name });
  const mix = resolveMix(spec.mix, taxonomy);
  taskCells(mix.trainItems, mix.groups, taxonomy);
  checkEvalSets(mix, taxonomy);
  return Object.freeze({
    spec,
    name: spec.name,
    labels: spec.labels,
    taxonomy,
    mix,
    templates: resolveTemplates(spec.templates, spec.labels),
  });
}

/** A task name made from a file name (`My Items.csv` → `my-items`). */
function nameFromFile(path: string): string {
  const base = basename(path, extname(path)).toLowerCase().replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "").slice(0, 64);
  return base || "task";
}

/**
 * The taxonomy task `--task` names: a built-in (`countries`, `elements`), a `.json` spec (its
 * `taxonomy.file` relative to the spec's folder) or a `.csv` / `.xlsx` taxonomy (labels 항목 /
 * 분류, default mixes and templates). Every problem is one line ({@link TaskError}).
 */
export async function loadTaxonomyTask(arg: string): Promise<TaxonomyTask> {
  if ((BUILTIN_TAXONOMIES as readonly string[]).includes(arg)) {
    return resolveTaxonomyTask(BUILTIN_TASKS[arg as BuiltinTaxonomyName]);
  }
  const ext = extname(arg).toLowerCase();
  if (ext === ".json") {
    let value: unknown;
    try {
      value = JSON.parse(await Deno.readTextFile(arg));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new TaskError(`${arg}: no such file`);
      throw new TaskError(`${arg}: not JSON: ${(e as Error).message}`);
    }
    const spec = parseTaskSpec(value, arg);
    if (spec.kind !== "taxonomy") {
      throw new TaskError(`${arg}: a dataset task is run with --train and --eval, not --task`);
    }
    return resolveTaxonomyTask(spec, dirname(arg));
  }
  if (ext === ".csv" || ext === ".xlsx") {
    const spec = TaxonomyTaskSpecSchema.parse({
      kind: "taxonomy",
      name: nameFromFile(arg),
      labels: DEFAULT_LABELS,
      taxonomy: { file: arg },
    });
    return resolveTaxonomyTask(spec);
  }
  throw new TaskError(
    `--task ${arg}: not a built-in task (${BUILTIN_TAXONOMIES.join(", ")}) nor a .json, .csv ` +
      `or .xlsx file`,
  );
}
