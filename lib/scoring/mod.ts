/**
 * Step 5, scoring: each answer's verdict against the taxonomy (missing, misclassified and
 * extended countries) and `scores.csv`.
 *
 * @module
 */
export * from "./score.ts";
