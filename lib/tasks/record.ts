/**
 * What `run.json` records of a run's task (kept apart from the rest of `lib/tasks/` so that the
 * run schema loads no taxonomy).
 *
 * @module
 */
import { z } from "zod";
import { TaskLabelsSchema, TaxonomyTaskSpecSchema } from "./spec.ts";

/** What `run.json` records of a run's task. */
export const TaskRecordSchema = z.object({
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

/** A run's task record (see {@link TaskRecordSchema}). */
export type TaskRecord = z.infer<typeof TaskRecordSchema>;
