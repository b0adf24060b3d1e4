/**
 * Step 4, answers: prompt sheets in, a provider per model or tuned task, the batch runner with
 * its retries and rate limit, the append-only journal, the cookbook's answer sheet out, and the
 * run's answers stage.
 *
 * @module
 */
export * from "./promptSheet.ts";
export * from "./providers.ts";
export * from "./evaluate.ts";
export * from "./journal.ts";
export * from "./answerSheet.ts";
export * from "./stage.ts";
