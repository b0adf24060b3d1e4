/**
 * Tasks: the cookbook's question — how many tuning rows does a task need, on which model — asked
 * of any task. A task is a spec (`lib/run/taskSpec.ts`): a taxonomy of items in groups (built in, or an
 * `item,group[,aliases]` CSV / Excel file you bring) from which tuning rows and evaluation prompts
 * are drawn with the cookbook's method, or tuning rows and an evaluation sheet you bring; each
 * with its scorer and the names its report uses.
 *
 * @module
 */
export {
  BUILTIN_TAXONOMIES,
  type BuiltinTaxonomyName,
  type DatasetTaskRecord,
  DatasetTaskRecordSchema,
  type DatasetTaskSpec,
  DatasetTaskSpecSchema,
  DEFAULT_TEMPLATES,
  MixSchema,
  parseTaskSpec,
  resolveTemplates,
  type ScorerName,
  SCORERS,
  TaskError,
  type TaskLabels,
  TaskLabelsSchema,
  type TaskMix,
  TaskMixSchema,
  type TaskRecord,
  TaskRecordSchema,
  type TaskSpec,
  type TaskSpecInput,
  TaskSpecSchema,
  type TaskTemplates,
  TaskTemplatesSchema,
  type TaxonomyEntry,
  TaxonomyEntrySchema,
  type TaxonomySource,
  TaxonomySourceSchema,
  type TaxonomyTaskRecord,
  TaxonomyTaskRecordSchema,
  type TaxonomyTaskSpec,
  TaxonomyTaskSpecSchema,
} from "../run/mod.ts";
export { buildTaxonomy, type TaskItem, type TaskTaxonomy, type TaxonomyInput } from "./taxonomy.ts";
export { parseTaxonomyCsv, readTaxonomyFile } from "./read.ts";
export {
  checkEvalSets,
  minItems,
  possibleSets,
  type ResolvedMix,
  resolveMix,
  taskCells,
} from "./mix.ts";
export { BUILTIN_TASKS, builtinTaxonomy } from "./builtin.ts";
export {
  DEFAULT_LABELS,
  loadTaxonomyTask,
  resolveTaxonomyTask,
  type TaxonomyTask,
} from "./task.ts";
export {
  generateTaskEvalSet,
  generateTaskTrainingSets,
  type ItemGroup,
  itemsFromText,
  type RunTrainingRow,
  taskCompletionText,
  taskPromptText,
  type TaskRow,
} from "./generate.ts";
export {
  type ConfusionTable,
  confusionTable,
  type LabelScore,
  type LabelScorer,
  labelScorer,
  normalizeAnswer,
  scoreExact,
  scoreGroupingAgainst,
  scoreTaskAnswer,
  scoringTaxonomy,
  type TaskScore,
} from "./score.ts";
export {
  type ByoData,
  checkContext,
  type ContextLimit,
  type ContextRow,
  emulatorRowTokens,
  type ExpectedPrompt,
  nestedSubsets,
  readByoData,
  readExpectedSheet,
} from "./byo.ts";
export { runScoring, taskOfRecord, taskRecord, taskRunDatasets } from "./run.ts";
export {
  checkDatasetTask,
  type CheckedDatasetTask,
  datasetTaskDatasets,
  datasetTaskScorer,
  EXPECTED_FILE,
  recordDatasetTask,
} from "./byoRun.ts";
export { COUNTRY_TERMS, isCountryTask, type TaskTerms, termsOf } from "./terms.ts";
