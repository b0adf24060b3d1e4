/**
 * The few distribution functions the statistics need, typed, over jStat (which ships no types):
 * the standard normal quantile and CDF and the binomial CDF.
 *
 * @module
 */
import jstat from "jstat";

interface JStatDistributions {
  normal: {
    inv(p: number, mean: number, sd: number): number;
    cdf(x: number, mean: number, sd: number): number;
  };
  binomial: { cdf(k: number, n: number, p: number): number };
}

const dist = jstat as unknown as JStatDistributions;

/** The standard normal quantile: z with Φ(z) = p, for 0 < p < 1. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  return dist.normal.inv(p, 0, 1);
}

/** The standard normal CDF Φ(x). */
export function normalCdf(x: number): number {
  return dist.normal.cdf(x, 0, 1);
}

/** P(X ≤ k) for X ~ Binomial(n, p); 0 for k < 0, 1 for k ≥ n. */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  return Math.min(1, Math.max(0, dist.binomial.cdf(Math.floor(k), n, p)));
}

/** z of a two-sided interval or test at `level` (0.95 → 1.95996…). */
export function zTwoSided(level: number): number {
  return normalQuantile(1 - (1 - level) / 2);
}
