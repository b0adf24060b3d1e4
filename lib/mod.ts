/**
 * The toolkit's public surface: what a notebook or a user script needs to run the experiment,
 * read a run folder and draw its tables and charts. Everything else in `lib/` is internal.
 *
 * ```ts
 * import { analyzeRun, latestRun, readSummary, runPipeline } from "./lib/mod.ts";
 * const run = await runPipeline({ config: { sizes: [50, 500], evalPrompts: 20 } });
 * const summary = await readSummary(run.dir); // summary.json: tables, worst answers, statistics
 * ```
 *
 * Importing it loads the analysis libraries (nodejs-polars, Observable Plot); the CLIs import
 * only the modules they use.
 *
 * @module
 */

// The run schema: every file of a run folder, as zod schemas and the types derived from them.
export {
  type AnswerError,
  AnswerErrorSchema,
  type AnswerRecord,
  AnswerRecordSchema,
  type BackendInfo,
  type DatasetEntry,
  DEFAULT_RUN_CONFIG,
  type FailureKind,
  type GroupSummary,
  type Prompt,
  PromptSchema,
  RUN_CONFIG_FIELDS,
  RUN_FILES,
  type RunConfig,
  RunConfigSchema,
  type RunFile,
  type RunSummary,
  RunSummarySchema,
  type SamplingParams,
  type ScoredAnswer,
  type ScoreRow,
  type SizeSummary,
  type TaskEntry,
} from "./run/schema.ts";

// The experiment, stage by stage, and the run folder.
export {
  analyzeRun,
  latestCompleteRun,
  latestRun,
  listRuns,
  PipelineError,
  type PipelineOptions,
  type PipelineResult,
  readDatasets,
  readRunFile,
  readSummary,
  readTasks,
  reportRun,
  runPipeline,
  StoppedError,
} from "./pipeline.ts";

// Countries, the cookbook's constants and datasets.
export { CONTINENTS, getTaxonomy, type Taxonomy } from "./countries/taxonomy.ts";
export { readCountriesData } from "./countries/crawl.ts";
export {
  BASE_MODELS,
  EVAL_PROMPTS,
  SAMPLING_PARAMETERS,
  TUNING_SETTINGS,
  TUNING_SIZES,
} from "./cookbook.ts";
export {
  checkOverlap,
  type DatasetRow,
  datasetStats,
  generateEvalSet,
  generateNestedTrainingSets,
  generateTrainingSet,
  readTuningCsv,
  SheetError,
  tuningCsv,
  validateRows,
  writeEvalXlsx,
  writeTuningCsv,
} from "./datasets/generator.ts";
export { openPromptSheet, type PromptSheet, readPromptSheet } from "./answers/promptSheet.ts";

// The CLOVA Studio client, the local emulator, and answering prompts.
export {
  ClovaStudioClient,
  ensureObject,
  headObject,
  objectStorageConfig,
  type TuningTask,
  TuningTaskFailedError,
} from "./backends/clova/mod.ts";
export { type Emulator, startEmulator } from "./backends/emulator/mod.ts";
export {
  type ChatProvider,
  ClovaBaseModelProvider,
  ClovaTunedTaskProvider,
  OpenAICompatibleProvider,
  type ProviderAnswer,
  type ProviderFailure,
  type ProviderResult,
} from "./answers/providers.ts";
export {
  type EvaluateOptions,
  type EvaluateResult,
  evaluateSheet,
  summarizeResult,
} from "./answers/evaluate.ts";
export { journalRecords, readJournal, scanJournal } from "./answers/journal.ts";
export { writeAnswerSheet } from "./answers/answerSheet.ts";
export { createProgress } from "./io/progress.ts";

// Scores, tables, charts and the report.
export { scoreAnswer, scoreRecord, scoreRun } from "./scoring/score.ts";
export {
  analyze,
  loadPublishedTables,
  readScoresFrame,
  sizeSummaryText,
  summarizeByGroup,
  summarizeBySize,
  wilsonInterval,
} from "./analysis/tables.ts";
export {
  errorByGroupChart,
  errorBySizeChart,
  groupedBarChart,
  histogramChart,
} from "./report/charts.ts";
export {
  groupComparisonTable,
  renderReport,
  sizeComparisonTable,
  worstAnswersHtml,
} from "./report/report.ts";
export { statsRunOf } from "./analysis/statistics.ts";
export { statisticsFragment } from "./report/statsReport.ts";
export { RunStatisticsSchema } from "./analysis/stats/runStatistics.ts";
export { escapeHtml, htmlTable, keyValueTable, trustedHtml } from "./io/html.ts";
