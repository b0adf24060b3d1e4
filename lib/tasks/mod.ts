/**
 * Tasks: the cookbook's question — how many tuning rows does a task need, on which model — asked
 * of any task. A task is a spec (`./spec.ts`): a taxonomy of items in groups (built in, or an
 * `item,group[,aliases]` CSV / Excel file you bring) from which tuning rows and evaluation prompts
 * are drawn with the cookbook's method, or tuning rows and an evaluation sheet you bring; each
 * with its scorer and the names its report uses.
 *
 * @module
 */
export * from "./spec.ts";
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
  type ExpectedPrompt,
  nestedSubsets,
  readByoData,
  readExpectedSheet,
} from "./byo.ts";
export {
  type DatasetTaskRecord,
  DatasetTaskRecordSchema,
  type TaskRecord,
  TaskRecordSchema,
  type TaxonomyTaskRecord,
  TaxonomyTaskRecordSchema,
} from "./record.ts";
export {
  runScoring,
  type RunTrainingRow,
  taskOfRecord,
  taskRecord,
  taskRunDatasets,
} from "./run.ts";
export {
  checkDatasetTask,
  type CheckedDatasetTask,
  datasetTaskDatasets,
  datasetTaskScorer,
  EXPECTED_FILE,
  recordDatasetTask,
} from "./byoRun.ts";
export { COUNTRY_TERMS, isCountryTask, type TaskTerms, termsOf } from "./terms.ts";
