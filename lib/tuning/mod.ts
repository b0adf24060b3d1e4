/**
 * Step 3, tuning: the run's tuning stage (tasks created, adopted and followed into `tasks.json`),
 * the training tokens of its sets (`tokens.json`) and their cost.
 *
 * @module
 */
export * from "./stage.ts";
export * from "./tokens.ts";
export * from "./cost.ts";
