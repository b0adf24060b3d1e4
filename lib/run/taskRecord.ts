/**
 * What `run.json` records of a run's task (kept with the run schema, apart from `lib/tasks/`, so that the
 * run schema loads no taxonomy).
 *
 * @module
 */
import { z } from "zod";
import { SCORERS, TaskLabelsSchema, TaxonomyTaskSpecSchema } from "./taskSpec.ts";

/** What `run.json` records of a taxonomy task (`--task`). */
export const TaxonomyTaskRecordSchema = z.object({
  /** The task's name. */
  name: z.string(),
  kind: z.literal("taxonomy"),
  /** How answers are scored. */
  scorer: z.literal("grouping"),
  /** What the report calls an item and a group. */
  labels: TaskLabelsSchema,
  /** The spec the run draws from (a taxonomy read from a file is written out as entries). */
  spec: TaxonomyTaskSpecSchema,
  /** The taxonomy in brief: where it came from, its size and its groups. */
  taxonomy: z.object({
    source: z.string(),
    items: z.number().int(),
    groups: z.array(z.string()),
  }),
});

/** What `run.json` records of a taxonomy task (see {@link TaxonomyTaskRecordSchema}). */
export type TaxonomyTaskRecord = z.infer<typeof TaxonomyTaskRecordSchema>;

const SourceFileSchema = z.object({
  /** The file as given on the command line. */
  file: z.string(),
  /** Its copy in the run folder, which the run reads from then on. */
  copy: z.string(),
  sha256: z.string(),
});

/** What `run.json` records of a dataset you bring (`--train`, `--eval`, `--scorer`). */
export const DatasetTaskRecordSchema = z.object({
  name: z.string(),
  kind: z.literal("dataset"),
  scorer: z.enum(SCORERS),
  labels: TaskLabelsSchema,
  train: SourceFileSchema.extend({ rows: z.number().int() }),
  eval: SourceFileSchema.extend({ prompts: z.number().int() }),
});

/** What `run.json` records of a dataset you bring (see {@link DatasetTaskRecordSchema}). */
export type DatasetTaskRecord = z.infer<typeof DatasetTaskRecordSchema>;

/** What `run.json` records of a run's task: a taxonomy task or a dataset you bring. */
export const TaskRecordSchema = z.discriminatedUnion("kind", [
  TaxonomyTaskRecordSchema,
  DatasetTaskRecordSchema,
]);

/** A run's task record (see {@link TaskRecordSchema}). */
export type TaskRecord = z.infer<typeof TaskRecordSchema>;
