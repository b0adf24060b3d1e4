/**
 * Upper bounds on the sizes a user can ask for, from what the file formats and memory allow, and
 * the dataset seed's range and default. Every size flag is checked against them before anything
 * is generated or sent, and the error names the flag. A file of its own, with no imports, so that
 * a command can check its flags without loading the run's schema.
 *
 * @module
 */

/** Data rows an XLSX worksheet holds: Excel's 1,048,576 rows less the header row. */
export const XLSX_DATA_ROWS = 1_048_575;

/** Most evaluation prompts: the evaluation set is one XLSX sheet (`datasets/eval.xlsx`). */
export const MAX_EVAL_PROMPTS = XLSX_DATA_ROWS;

/**
 * Most answers per label (prompts × repeats): the result sheet `answers/<label>.xlsx` has one
 * row per answer.
 */
export const MAX_ANSWERS = XLSX_DATA_ROWS;

/**
 * Most rows in one tuning set. A million of the cookbook's rows make a 770 MB CSV in about
 * 20 s and 250 MB of memory (`deno task dataset --rows 1000000`); the service takes datasets of
 * up to 100 MB, about 130,000 such rows, so this bound is far above any set it would train on.
 */
export const MAX_TUNING_ROWS = 1_000_000;

/** Most requests in flight: each is an open connection (a file descriptor) and held jobs. */
export const MAX_CONCURRENCY = 1024;

/** The dataset seed: a whole number from 0 to `MAX_SEED`, `DEFAULT_SEED` unless one is given. */
export const MAX_SEED = 2 ** 32 - 1;

/** See {@link MAX_SEED}. */
export const DEFAULT_SEED = 2024;
