/**
 * Paired comparison of two error probabilities measured on the same prompts (two models at one
 * tuning size, or one model at two sizes): the 2×2 table of per-prompt outcomes, the exact
 * McNemar test and a 95% interval for the difference.
 *
 * **Interval: Newcombe's hybrid score interval for paired data** (Newcombe 1998, Statistics in
 * Medicine 17:2635–2650, method 10; the form given in Altman et al., *Statistics with Confidence*,
 * 2nd ed., and Fagerland, Lydersen & Laake, *Statistical Analysis of Contingency Tables*, ch. 8).
 * It combines the two Wilson intervals (the same Wilson interval the per-size tables show) with
 * the estimated correlation of the paired proportions. Chosen because it is closed-form, stays
 * inside [−1, 1], behaves well at the boundary this experiment lives at (0/100, 2/100 errors,
 * where the Wald interval collapses to zero width) and its coverage is close to nominal in
 * Newcombe's and Fagerland's evaluations. Tango's score interval is comparable in coverage but
 * needs an iterative root search; the hybrid interval is consistent with the Wilson intervals
 * already shown next to every rate.
 *
 * **Test: the exact (conditional) McNemar test**: given the m = b + c discordant prompts, the
 * number b where only the first errs is Binomial(m, ½) under equal error probabilities; the
 * two-sided p-value is min(1, 2·P(X ≤ min(b, c))). Exact because m is small here (often < 20),
 * where the χ² approximation is poor.
 *
 * @module
 */
import { wilsonInterval } from "../tables.ts";
import { binomialCdf, zTwoSided } from "./distributions.ts";

/** One answer's outcome, keyed by the prompt it answered. */
export interface PairedOutcome {
  promptId: string;
  repeat: number;
  hasError: boolean;
}

/**
 * The paired 2×2 table: prompts where both err, only the first errs, only the second errs,
 * neither errs.
 */
export interface PairedCounts {
  both: number;
  onlyFirst: number;
  onlySecond: number;
  neither: number;
}

/** A paired comparison of the first and second error probability. */
export interface PairedComparison extends PairedCounts {
  /** Prompts answered by both (the pairs). */
  n: number;
  /** Error probability of the first: (both + onlyFirst) / n. */
  firstRate: number;
  /** Error probability of the second: (both + onlySecond) / n. */
  secondRate: number;
  /** firstRate − secondRate = (onlyFirst − onlySecond) / n. */
  difference: number;
  /** Newcombe hybrid score interval of the difference. */
  low: number;
  high: number;
  /** Exact two-sided McNemar p-value. */
  pValue: number;
  /** Confidence level of the interval (0.95). */
  level: number;
}

const key = (o: { promptId: string; repeat: number }) => `${o.promptId}\u0000${o.repeat}`;

/**
 * Builds the paired table from two sets of outcomes, pairing by (promptId, repeat); answers
 * present in only one set are left out (they have no partner).
 */
export function pairOutcomes(
  first: Iterable<PairedOutcome>,
  second: Iterable<PairedOutcome>,
): PairedCounts {
  const other = new Map<string, boolean>();
  for (const o of second) other.set(key(o), o.hasError);
  const counts: PairedCounts = { both: 0, onlyFirst: 0, onlySecond: 0, neither: 0 };
  const seen = new Set<string>();
  for (const o of first) {
    const k = key(o);
    const s = other.get(k);
    if (s === undefined || seen.has(k)) continue;
    seen.add(k);
    if (o.hasError && s) counts.both++;
    else if (o.hasError) counts.onlyFirst++;
    else if (s) counts.onlySecond++;
    else counts.neither++;
  }
  return counts;
}

/**
 * Exact two-sided McNemar p-value from the discordant counts: min(1, 2·P(X ≤ min(b, c))) with
 * X ~ Binomial(b + c, ½); 1 when there are no discordant pairs.
 */
export function mcnemarExact(onlyFirst: number, onlySecond: number): number {
  const m = onlyFirst + onlySecond;
  if (m === 0) return 1;
  return Math.min(1, 2 * binomialCdf(Math.min(onlyFirst, onlySecond), m, 0.5));
}

/**
 * Newcombe's hybrid score interval (method 10) for firstRate − secondRate from a paired table,
 * with the continuity-corrected correlation φ: for AD − BC > N/2 it is (AD − BC − N/2)/√(…), for
 * 0 ≤ AD − BC ≤ N/2 it is 0, otherwise (AD − BC)/√(…); 0 when a margin is empty. `[NaN, NaN]`
 * for an empty table.
 */
export function newcombePairedInterval(
  counts: PairedCounts,
  level = 0.95,
): [number, number] {
  const { both: a, onlyFirst: b, onlySecond: c, neither: d } = counts;
  const n = a + b + c + d;
  if (n === 0) return [NaN, NaN];
  const z = zTwoSided(level);
  const p1 = (a + b) / n;
  const p2 = (a + c) / n;
  const [l1, u1] = wilsonInterval(a + b, n, z);
  const [l2, u2] = wilsonInterval(a + c, n, z);
  const margins = [a + b, c + d, a + c, b + d];
  let phi = 0;
  if (margins.every((m) => m > 0)) {
    const root = Math.sqrt(margins.reduce((x, m) => x * m, 1));
    const cross = a * d - b * c;
    phi = cross > n / 2 ? (cross - n / 2) / root : cross >= 0 ? 0 : cross / root;
  }
  const diff = p1 - p2;
  const lowSpan = Math.sqrt(
    Math.max(0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2),
  );
  const highSpan = Math.sqrt(
    Math.max(0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2),
  );
  return [Math.max(-1, diff - lowSpan), Math.min(1, diff + highSpan)];
}

/** The full paired comparison of a table: both rates, their difference, interval and p-value. */
export function comparePaired(counts: PairedCounts, level = 0.95): PairedComparison {
  const n = counts.both + counts.onlyFirst + counts.onlySecond + counts.neither;
  const [low, high] = newcombePairedInterval(counts, level);
  return {
    ...counts,
    n,
    firstRate: n ? (counts.both + counts.onlyFirst) / n : NaN,
    secondRate: n ? (counts.both + counts.onlySecond) / n : NaN,
    difference: n ? (counts.onlyFirst - counts.onlySecond) / n : NaN,
    low,
    high,
    pValue: mcnemarExact(counts.onlyFirst, counts.onlySecond),
    level,
  };
}
