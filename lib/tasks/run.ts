/**
 * A task in a run: what `run.json` records of it (its spec, with a taxonomy read from a file
 * written out in full, so the run remakes its datasets without the file) and the run's datasets
 * drawn from it, in the shape the dataset stage writes and describes.
 *
 * @module
 */
import type { Taxonomy } from "../countries/mod.ts";
import type { AnswerRecord, Prompt } from "../run/mod.ts";
import type { AnswerScore } from "../scoring/mod.ts";
import { datasetTaskScorer } from "./byoRun.ts";
import { scoringTaxonomy } from "./score.ts";
import { generateTaskEvalSet, generateTaskTrainingSets, type RunTrainingRow } from "./generate.ts";
import { checkEvalSets } from "./mix.ts";
import type { TaskRecord, TaxonomyTaskRecord } from "../run/mod.ts";
import { resolveTaxonomyTask, type TaxonomyTask } from "./task.ts";

/** The record of a task for `run.json`. */
export function taskRecord(task: TaxonomyTask): TaxonomyTaskRecord {
  const source = task.spec.taxonomy;
  const builtin = "builtin" in source;
  return {
    name: task.name,
    kind: "taxonomy",
    scorer: "grouping",
    labels: task.labels,
    spec: builtin ? task.spec : {
      ...task.spec,
      taxonomy: {
        entries: task.taxonomy.items.map((i) => ({
          item: i.name,
          group: i.group,
          aliases: [...i.aliases],
        })),
      },
    },
    taxonomy: {
      source: builtin
        ? `built-in ${source.builtin}`
        : "file" in source
        ? `file ${source.file}`
        : "entries in the spec",
      items: task.taxonomy.items.length,
      groups: [...task.taxonomy.groups],
    },
  };
}

/** The task a run records, ready to draw and score. */
export function taskOfRecord(record: TaxonomyTaskRecord): Promise<TaxonomyTask> {
  return resolveTaxonomyTask(record.spec);
}

/**
 * A run's datasets from its task: nested tuning sets for `sizes` and `prompts` evaluation prompts
 * (the spec's `mix.evalPrompts` when it names one), none asking a set any tuning row asks.
 */
export function taskRunDatasets(
  task: TaxonomyTask,
  opts: { sizes: readonly number[]; seed: number; order: "shuffled" | "grouped"; prompts: number },
): { sets: Map<number, RunTrainingRow[]>; evalSet: Prompt[] } {
  const sets = generateTaskTrainingSets(task, opts.sizes, { seed: opts.seed, order: opts.order });
  const rows = new Map(
    [...sets].map(([size, list]) => [
      size,
      list.map((r) => ({
        id: r.id,
        text: r.text,
        completion: r.completion,
        countries: r.items,
        countryCount: r.itemCount,
        continentCount: r.groupCount,
      })),
    ]),
  );
  const prompts = task.spec.mix.evalPrompts ?? opts.prompts;
  const sized = { ...task, mix: { ...task.mix, evalPrompts: prompts } };
  checkEvalSets(sized.mix, task.taxonomy);
  const largest = sets.get(Math.max(...opts.sizes)) ?? [];
  const evalSet = generateTaskEvalSet(sized, {
    seed: opts.seed,
    exclude: largest.map((r) => r.items),
  });
  return { sets: rows, evalSet };
}

/**
 * How a run's answers are scored: against the country taxonomy (no task), a taxonomy task's
 * taxonomy, or a brought dataset's expected answers by its scorer. `mentions` says whether the
 * scores' mentions name asked items (the per-item error tables read them).
 */
export async function runScoring(
  task: TaskRecord | undefined,
  runDir: string,
): Promise<{
  taxonomy?: Taxonomy;
  score?: (r: AnswerRecord) => AnswerScore;
  mentions: boolean;
  /** For `label`: the expected label and the one the answer named (null: none or several). */
  label?: (r: AnswerRecord) => { expected: string; answered: string | null };
}> {
  if (!task) return { mentions: true };
  if (task.kind === "taxonomy") {
    return { taxonomy: scoringTaxonomy(await taskOfRecord(task)), mentions: true };
  }
  const { score, label } = await datasetTaskScorer(task, runDir);
  return { score, label, mentions: false };
}
