/**
 * Step 6, analysis: tables by size, country count and continent count with Wilson intervals, and
 * the statistics the cookbook could not give (paired comparisons, learning curves, planning, per-
 * country errors).
 *
 * @module
 */
export * from "./tables.ts";
export * from "./statistics.ts";
export * from "./stats/runStatistics.ts";
export * from "./stats/curve.ts";
export * from "./stats/paired.ts";
export * from "./stats/planning.ts";
export * from "./stats/countryErrors.ts";
export * from "./stats/target.ts";
export * from "./stats/distributions.ts";
