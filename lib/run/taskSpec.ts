/**
 * The task spec: what a tuning experiment is about, as a small JSON checked with zod. A
 * `taxonomy` task sorts lists of items into groups (the cookbook's method on any items: the
 * country task is one); a `dataset` task brings its own tuning rows and evaluation sheet. The
 * spec names what the report calls things (item / group), how rows and prompts are made (mixes,
 * templates) and how an answer is scored (`grouping`, `label` or `exact`). It lives beside the run
 * schema, which records a run's task; `lib/tasks/` builds on it.
 *
 * @module
 */
import { z } from "zod";

/** The scorers: `grouping` (`group: a, b` blocks), `label` (one label), `exact` (the text). */
export const SCORERS = ["grouping", "label", "exact"] as const;

/** One of {@link SCORERS}. */
export type ScorerName = typeof SCORERS[number];

/** The built-in taxonomies, by name. */
export const BUILTIN_TAXONOMIES = ["countries", "elements"] as const;

/** One of {@link BUILTIN_TAXONOMIES}. */
export type BuiltinTaxonomyName = typeof BUILTIN_TAXONOMIES[number];

/** What the report calls an item and a group (`국가` / `대륙` for the country task). */
export const TaskLabelsSchema = z.strictObject({
  /** One item, e.g. `국가`. */
  item: z.string().trim().min(1),
  /** One group, e.g. `대륙`. */
  group: z.string().trim().min(1),
});

/** Names the report uses (see {@link TaskLabelsSchema}). */
export type TaskLabels = z.infer<typeof TaskLabelsSchema>;

/** One item of a taxonomy: its name, its group and other names that mean it. */
export const TaxonomyEntrySchema = z.strictObject({
  item: z.string().trim().min(1, { message: "empty item" }),
  group: z.string().trim().min(1, { message: "empty group" }),
  aliases: z.array(z.string().trim().min(1)).default([]),
});

/** One item of a taxonomy (see {@link TaxonomyEntrySchema}). */
export type TaxonomyEntry = z.infer<typeof TaxonomyEntrySchema>;

/**
 * A mix: value (items or groups per row) → integer weight. JSON keys are strings, so `{"10": 1}`;
 * the weights are non-negative integers.
 */
export const MixSchema = z.record(
  z.string().regex(/^[1-9]\d{0,4}$/, { message: "a mix key is a positive integer" }),
  z.number().int().min(0),
);

/** The mixes a taxonomy task draws with; each left out gets its default, scaled to the taxonomy. */
export const TaskMixSchema = z.strictObject({
  /** Items per training row → weight (the cookbook: 10/15/20/30 as 1:3:3:3). */
  trainItems: MixSchema.optional(),
  /** Items per evaluation prompt → weight (the cookbook: 10/15/20/30 equal). */
  evalItems: MixSchema.optional(),
  /** Groups per row → weight, training and evaluation (the cookbook: 2–6 equal). */
  groups: MixSchema.optional(),
  /** Evaluation prompts (the cookbook: 100). */
  evalPrompts: z.number().int().min(1).max(100_000).optional(),
});

/** The mixes of a taxonomy task (see {@link TaskMixSchema}). */
export type TaskMix = z.infer<typeof TaskMixSchema>;

/**
 * Prompt and answer templates. `{item}` and `{group}` in a template are replaced by the task's
 * labels; the list follows the prompt template, the `group: a, b` blocks follow the completion
 * template.
 */
export const TaskTemplatesSchema = z.strictObject({
  /** The tuning row's `Text` and evaluation prompt's `user`, before the list. */
  prompt: z.string().min(1).optional(),
  /** The tuning row's `Completion`, before the blocks. */
  completion: z.string().min(1).optional(),
  /** Between items of a list (`, `). */
  separator: z.string().min(1).optional(),
});

/** The templates of a task (see {@link TaskTemplatesSchema}). */
export type TaskTemplates = z.infer<typeof TaskTemplatesSchema>;

/** Where a taxonomy task's items come from: a built-in, an `item,group[,aliases]` file or inline. */
export const TaxonomySourceSchema = z.union([
  z.strictObject({ builtin: z.enum(BUILTIN_TAXONOMIES) }),
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ entries: z.array(TaxonomyEntrySchema).min(1) }),
]);

/** Where a taxonomy task's items come from (see {@link TaxonomySourceSchema}). */
export type TaxonomySource = z.infer<typeof TaxonomySourceSchema>;

const TaskNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
  message: "a task name is 1–64 of a-z, 0-9, '.', '_', '-'",
});

/** A task that sorts lists of items into groups, the cookbook's method on any taxonomy. */
export const TaxonomyTaskSpecSchema = z.strictObject({
  kind: z.literal("taxonomy"),
  /** The task's name (in run.json and the report). */
  name: TaskNameSchema,
  labels: TaskLabelsSchema,
  taxonomy: TaxonomySourceSchema,
  mix: TaskMixSchema.default({}),
  templates: TaskTemplatesSchema.default({}),
  /** A taxonomy task is scored by its groups. */
  scorer: z.literal("grouping").default("grouping"),
});

/** A taxonomy task (see {@link TaxonomyTaskSpecSchema}). */
export type TaxonomyTaskSpec = z.infer<typeof TaxonomyTaskSpecSchema>;

/** A task that brings its own tuning rows and evaluation sheet (with an `answer` column). */
export const DatasetTaskSpecSchema = z.strictObject({
  kind: z.literal("dataset"),
  name: TaskNameSchema,
  labels: TaskLabelsSchema.default({ item: "항목", group: "분류" }),
  /** The tuning rows: a CLOVA Studio CSV (`Text,Completion` or `C_ID,T_ID,Text,Completion`). */
  train: z.string().min(1),
  /** The evaluation sheet (`.xlsx` or `.csv`) with `system`, `user` and `answer` columns. */
  eval: z.string().min(1),
  scorer: z.enum(SCORERS),
});

/** A bring-your-own-rows task (see {@link DatasetTaskSpecSchema}). */
export type DatasetTaskSpec = z.infer<typeof DatasetTaskSpecSchema>;

/** A task spec: a taxonomy task or a dataset task. */
export const TaskSpecSchema = z.discriminatedUnion("kind", [
  TaxonomyTaskSpecSchema,
  DatasetTaskSpecSchema,
]);

/** A task spec (see {@link TaskSpecSchema}). */
export type TaskSpec = z.infer<typeof TaskSpecSchema>;

/** A task spec as written (defaults not yet filled in). */
export type TaskSpecInput = z.input<typeof TaskSpecSchema>;

/** The Korean default templates, worded for any items (`을(를)` fits every noun). */
export const DEFAULT_TEMPLATES: Required<TaskTemplates> = {
  prompt: "목록에 있는 {item}을(를) {group}별로 분류해줘.\n\n",
  completion: "목록에 있는 {item}을(를) {group}별로 분류하면 다음과 같습니다\n\n",
  separator: ", ",
};

/** A task's templates with the defaults filled in and `{item}` / `{group}` replaced. */
export function resolveTemplates(
  templates: TaskTemplates,
  labels: TaskLabels,
): Required<TaskTemplates> {
  const fill = (t: string) =>
    t.replaceAll("{item}", labels.item).replaceAll("{group}", labels.group);
  return {
    prompt: fill(templates.prompt ?? DEFAULT_TEMPLATES.prompt),
    completion: fill(templates.completion ?? DEFAULT_TEMPLATES.completion),
    separator: templates.separator ?? DEFAULT_TEMPLATES.separator,
  };
}

/** A bad task: a spec, a taxonomy file or a mix that cannot make a task. One line. */
export class TaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaskError";
  }
}

/** Checks a parsed JSON value as a task spec; the first problem is one line naming its field. */
export function parseTaskSpec(value: unknown, where = "task spec"): TaskSpec {
  const parsed = TaskSpecSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.length ? issue.path.join(".") : "(top level)";
    throw new TaskError(`${where}: ${path}: ${issue.message}`);
  }
  return parsed.data;
}
