/**
 * The toolkit's public surface: the experiment's stages, each through its folder's entrance, and
 * the pipeline that runs them in order. What a notebook or a user script needs to run the
 * experiment, read a run folder and draw its tables and charts.
 *
 * ```ts
 * import { analyzeRun, latestRun, readSummary, runPipeline } from "./lib/mod.ts";
 * const run = await runPipeline({ config: { sizes: [50, 500], evalPrompts: 20 } });
 * const summary = await readSummary(run.dir); // summary.json: tables, worst answers, statistics
 * ```
 *
 * Importing it loads the analysis libraries (nodejs-polars, Observable Plot); the CLIs import
 * only the entrances they use.
 *
 * @module
 */

// The cookbook's constants, and the stages in the experiment's order.
export * from "./cookbook.ts";
export * from "./countries/mod.ts";
export * from "./crawl/mod.ts";
export * from "./datasets/mod.ts";
// A task of your own: a taxonomy or a spec read and checked, and the words its report uses.
export { loadTaxonomyTask, type TaskTerms, type TaxonomyTask, termsOf } from "./tasks/mod.ts";
export * from "./tuning/mod.ts";
export * from "./answers/mod.ts";
export * from "./scoring/mod.ts";
export * from "./analysis/mod.ts";
export * from "./report/mod.ts";

// The run folder and the pipeline that runs the stages into it.
export * from "./run/mod.ts";
export {
  type PipelineOptions,
  type PipelineResult,
  planRun,
  runPipeline,
  type RunPlan,
} from "./pipeline.ts";

// The backends: what they share, the CLOVA Studio client and the local emulator.
export * from "./backends/mod.ts";
export * from "./backends/clova/mod.ts";
export * from "./backends/emulator/mod.ts";

// Reading and writing: progress lines, HTML tables, atomic files.
export * from "./io/mod.ts";
export * from "./sheets/mod.ts";
export * from "./progress/mod.ts";
