/**
 * Step 2, datasets: the seeded tuning and evaluation sets in the cookbook's templates (the plan
 * of mixes and random streams, the generators), their CSV and XLSX files, the prompt mix, and the
 * run's dataset stage (which sizes are tuned, padded or skipped; `datasets.json`).
 *
 * @module
 */
export {
  apportion,
  cellStreams,
  charStats,
  checkCellsPossible,
  checkSeed,
  crossMix,
  DatasetOptionsError,
  drawKey,
  type Mix,
  type MixCell,
  nestedCounts,
  planTraining,
  type Rng,
  setOrder,
  type TextOrder,
  type TrainingOptions,
  type TrainingPlan,
} from "../sampling/mod.ts";
export * from "./generator.ts";
export * from "./sheets.ts";
export * from "./promptMix.ts";
export * from "./stage.ts";
export * from "./contextLimits.ts";
