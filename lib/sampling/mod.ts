/**
 * Sampling: the cookbook's dataset rules written once, for any taxonomy of items in groups. The
 * plan of a draw (crossed mixes, apportionment nested across sizes, one seeded stream per cell,
 * the key that orders a set), the per-row rule that draws each row, and what is made of a drawn
 * set straight from its numbers (the tuning CSV's bytes, its statistics, the rule check). The
 * country generator (`lib/datasets/`) and the task generator (`lib/tasks/`) are built on it; the
 * `dataset --rows` command uses it alone.
 *
 * @module
 */
export * from "./plan.ts";
export * from "./sampler.ts";
export * from "./drawnSet.ts";
