/**
 * The learning curve: error probability against tuning-set size, fitted as a **logistic curve in
 * log size**, logit p(s) = α + β·ln s, by binomial maximum likelihood over the measured sizes
 * (the untuned base model, size 0, has no log size and is not part of the fit).
 *
 * Why this curve: it is a binomial GLM (logit link, one covariate), so the likelihood is concave,
 * the maximum is unique and Newton's method finds it in a few steps; it stays inside (0, 1) at
 * every size, so the 0/100 and 100/100 points the experiment produces are fitted as they are; and
 * on the odds scale it *is* a power law, odds = e^α·s^β, which for small error rates is
 * p ≈ e^α·s^β, the usual shape of learning curves. A power law fitted to p directly would pass 1
 * at small sizes and has no such well-behaved likelihood.
 *
 * When the points are separated (every error at sizes below every error-free answer, as the
 * emulator's reference learner produces: all wrong up to 200 rows, all right from 300) the
 * maximum-likelihood estimate does not exist (β → −∞). The fit then uses Firth's penalised
 * likelihood (Jeffreys prior; Firth 1993, Heinze & Schemper 2002), which always has a finite
 * maximum and equals ML asymptotically; the fit says which was used.
 *
 * The band is the pointwise 95% Wald interval on the logit scale, from the inverse Fisher
 * information, mapped through the logistic function. "Rows needed for ≤ X% errors" solves
 * p(s) = X; its interval is a percentile bootstrap over prompts (each replicate redraws the
 * prompts with replacement, keeping a prompt's answers at every size together, and refits). A
 * crossing beyond {@link MAX_EXTRAPOLATION} × the largest size measured is "not reached", and data
 * with one outcome only (every answer wrong, or none) have no curve at all.
 *
 * @module
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { zTwoSided } from "./distributions.ts";

/** One measured size: answers and how many had an error. */
export interface CurvePoint {
  size: number;
  answers: number;
  errors: number;
}

/** How the fit was made (see the module doc). */
export type FitMethod = "maximum likelihood" | "Firth penalised likelihood";

/** A fitted learning curve logit p(s) = intercept + slope · ln s. */
export interface LearningCurveFit {
  intercept: number;
  slope: number;
  /** Inverse Fisher information at the estimate: [[var α, cov], [cov, var β]]. */
  covariance: [[number, number], [number, number]];
  method: FitMethod;
  /** Residual deviance against the saturated model (one parameter per size). */
  deviance: number;
  /** Sizes fitted (size > 0 with answers). */
  points: number;
  /** Smallest and largest size fitted. */
  sizeRange: [number, number];
  iterations: number;
  converged: boolean;
}

/** The curve at one size with its pointwise band. */
export interface CurveBandPoint {
  size: number;
  rate: number;
  low: number;
  high: number;
}

/** Raised when a curve cannot be fitted (fewer than two sizes with answers). */
export class CurveFitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CurveFitError";
  }
}

const sigmoid = (t: number) => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));
const logit = (p: number) => Math.log(p / (1 - p));

/** Sum of y·ln(y/m) that treats 0·ln 0 as 0. */
const xlogx = (y: number, m: number) => (y > 0 ? y * Math.log(y / m) : 0);

interface Prepared {
  x: number[];
  n: number[];
  y: number[];
}

function prepare(points: readonly CurvePoint[]): Prepared {
  const bySize = new Map<number, { n: number; y: number }>();
  for (const p of points) {
    if (!(p.size > 0) || !(p.answers > 0)) continue;
    if (p.errors < 0 || p.errors > p.answers) {
      throw new CurveFitError(`size ${p.size}: ${p.errors} errors out of ${p.answers} answers`);
    }
    const s = bySize.get(p.size) ?? { n: 0, y: 0 };
    s.n += p.answers;
    s.y += p.errors;
    bySize.set(p.size, s);
  }
  if (bySize.size < 2) {
    throw new CurveFitError("a learning curve needs at least two tuning sizes with answers");
  }
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  return {
    x: sizes.map((s) => Math.log(s)),
    n: sizes.map((s) => bySize.get(s)!.n),
    y: sizes.map((s) => bySize.get(s)!.y),
  };
}

/**
 * Whether the maximum-likelihood estimate exists: both outcomes occur, and neither all errors
 * sit at sizes ≤ every error-free answer nor the reverse (complete or quasi-complete separation).
 */
export function maximumLikelihoodExists(points: readonly CurvePoint[]): boolean {
  const { x, n, y } = prepare(points);
  const withErrors = x.filter((_, i) => y[i] > 0);
  const withoutErrors = x.filter((_, i) => y[i] < n[i]);
  if (withErrors.length === 0 || withoutErrors.length === 0) return false;
  const separatedDown = Math.max(...withErrors) <= Math.min(...withoutErrors);
  const separatedUp = Math.max(...withoutErrors) <= Math.min(...withErrors);
  return !separatedDown && !separatedUp;
}

interface State {
  a: number;
  b: number;
  /** Fisher information entries. */
  i00: number;
  i01: number;
  i11: number;
  det: number;
  /** (Penalised) score. */
  u0: number;
  u1: number;
  /** (Penalised) log-likelihood. */
  objective: number;
}

function evaluate(d: Prepared, a: number, b: number, firth: boolean): State {
  let i00 = 0, i01 = 0, i11 = 0, ll = 0;
  const p: number[] = [];
  const w: number[] = [];
  for (let k = 0; k < d.x.length; k++) {
    const eta = a + b * d.x[k];
    const pk = sigmoid(eta);
    const wk = d.n[k] * pk * (1 - pk);
    p.push(pk);
    w.push(wk);
    i00 += wk;
    i01 += wk * d.x[k];
    i11 += wk * d.x[k] * d.x[k];
    // log-likelihood in a form that is stable for extreme eta
    const logP = eta >= 0 ? -Math.log1p(Math.exp(-eta)) : eta - Math.log1p(Math.exp(eta));
    const logQ = eta >= 0 ? -eta - Math.log1p(Math.exp(-eta)) : -Math.log1p(Math.exp(eta));
    ll += d.y[k] * logP + (d.n[k] - d.y[k]) * logQ;
  }
  const det = i00 * i11 - i01 * i01;
  let u0 = 0, u1 = 0;
  for (let k = 0; k < d.x.length; k++) {
    let r = d.y[k] - d.n[k] * p[k];
    if (firth && det > 0) {
      // hat value of the grouped point: w · x̃ᵀ I⁻¹ x̃
      const xk = d.x[k];
      const h = w[k] * (i11 - 2 * i01 * xk + i00 * xk * xk) / det;
      r += h * (0.5 - p[k]);
    }
    u0 += r;
    u1 += r * d.x[k];
  }
  const objective = firth ? ll + 0.5 * Math.log(Math.max(det, Number.MIN_VALUE)) : ll;
  return { a, b, i00, i01, i11, det, u0, u1, objective };
}

function newton(
  d: Prepared,
  firth: boolean,
): { state: State; iterations: number; converged: boolean } {
  const total = d.n.reduce((s, v) => s + v, 0);
  const pooled = Math.min(
    Math.max(d.y.reduce((s, v) => s + v, 0) / total, 0.5 / total),
    1 - 0.5 / total,
  );
  let state = evaluate(d, logit(pooled), 0, firth);
  for (let it = 1; it <= 200; it++) {
    if (!(state.det > 0)) return { state, iterations: it, converged: false };
    const da = (state.i11 * state.u0 - state.i01 * state.u1) / state.det;
    const db = (state.i00 * state.u1 - state.i01 * state.u0) / state.det;
    let step = 1;
    let next = evaluate(d, state.a + da, state.b + db, firth);
    while (!(next.objective >= state.objective - 1e-12) && step > 1e-8) {
      step /= 2;
      next = evaluate(d, state.a + step * da, state.b + step * db, firth);
    }
    const moved = Math.abs(step * da) + Math.abs(step * db);
    state = next;
    if (moved < 1e-10) return { state, iterations: it, converged: true };
  }
  return { state, iterations: 200, converged: false };
}

/**
 * Fits logit p(s) = α + β·ln s to the measured sizes (size > 0) by binomial maximum likelihood,
 * or by Firth's penalised likelihood when the ML estimate does not exist (see the module doc).
 * Throws {@link CurveFitError} with fewer than two sizes.
 */
export function fitLearningCurve(points: readonly CurvePoint[]): LearningCurveFit {
  const d = prepare(points);
  // With one outcome only, the curve's level and slope come from the penalty alone: two models
  // with every answer wrong would get the same "fit", whatever they are.
  const answers = d.n.reduce((a, b) => a + b, 0);
  const errors = d.y.reduce((a, b) => a + b, 0);
  if (errors === answers) {
    throw new CurveFitError(
      "every answer at every tuning size has an error: no curve can be estimated",
    );
  }
  if (errors === 0) {
    throw new CurveFitError(
      "no answer at any tuning size has an error: no curve can be estimated",
    );
  }
  const firth = !maximumLikelihoodExists(points);
  const { state, iterations, converged } = newton(d, firth);
  const { a, b, i00, i01, i11, det } = state;
  let deviance = 0;
  for (let k = 0; k < d.x.length; k++) {
    const m = d.n[k] * sigmoid(a + b * d.x[k]);
    deviance += 2 * (xlogx(d.y[k], m) + xlogx(d.n[k] - d.y[k], d.n[k] - m));
  }
  const sizes = d.x.map(Math.exp);
  return {
    intercept: a,
    slope: b,
    covariance: [[i11 / det, -i01 / det], [-i01 / det, i00 / det]],
    method: firth ? "Firth penalised likelihood" : "maximum likelihood",
    deviance,
    points: d.x.length,
    sizeRange: [Math.round(Math.min(...sizes)), Math.round(Math.max(...sizes))],
    iterations,
    converged,
  };
}

/** The fitted error probability at tuning size `size` (> 0). */
export function curveRate(fit: LearningCurveFit, size: number): number {
  return sigmoid(fit.intercept + fit.slope * Math.log(size));
}

/** The fitted error probability at `size` with its pointwise band (Wald on the logit scale). */
export function curveBand(fit: LearningCurveFit, size: number, level = 0.95): CurveBandPoint {
  const x = Math.log(size);
  const eta = fit.intercept + fit.slope * x;
  const [[v00, v01], [, v11]] = fit.covariance;
  const se = Math.sqrt(Math.max(0, v00 + 2 * x * v01 + x * x * v11));
  const z = zTwoSided(level);
  return { size, rate: sigmoid(eta), low: sigmoid(eta - z * se), high: sigmoid(eta + z * se) };
}

/** The curve and band at `count` sizes spaced evenly in log size from `from` to `to`. */
export function curveBandSeries(
  fit: LearningCurveFit,
  from: number,
  to: number,
  count = 60,
  level = 0.95,
): CurveBandPoint[] {
  const lo = Math.log(from);
  const hi = Math.log(to);
  return Array.from(
    { length: count },
    (_, i) => curveBand(fit, Math.exp(lo + ((hi - lo) * i) / Math.max(1, count - 1)), level),
  );
}

/**
 * The tuning size at which the fitted curve reaches `target` (e.g. 0.02): exp((logit X − α)/β).
 * `Infinity` when the curve does not fall (β ≥ 0): more rows never bring it down to X.
 */
export function sizeForErrorRate(fit: LearningCurveFit, target: number): number {
  if (!(target > 0 && target < 1)) throw new RangeError(`target must be in (0, 1), got ${target}`);
  if (!(fit.slope < 0)) return Infinity;
  return Math.exp((logit(target) - fit.intercept) / fit.slope);
}

/** One answer at one tuning size, for the bootstrap over prompts. */
export interface SizedOutcome {
  size: number;
  promptId: string;
  hasError: boolean;
}

/**
 * How far beyond the largest size measured "rows needed" is still reported: a crossing further
 * out (a nearly flat curve crosses the target at astronomically many rows) counts as not reached.
 */
export const MAX_EXTRAPOLATION = 10;

/** "Rows needed for ≤ X% errors" with its bootstrap interval. */
export interface RowsNeeded {
  /** The target error probability X. */
  target: number;
  /**
   * From the fit on all prompts; Infinity when not reached within {@link MAX_EXTRAPOLATION} ×
   * the largest size measured.
   */
  estimate: number;
  /** Percentile bootstrap interval; `high` is Infinity when too many replicates never reach X. */
  low: number;
  high: number;
  level: number;
  replicates: number;
  /** Share of replicates whose curve never reaches X. */
  notReached: number;
  /** The estimate lies beyond the largest size measured (an extrapolation). */
  extrapolated: boolean;
  fit: LearningCurveFit;
}

/** Options of {@link rowsNeeded}. */
export interface RowsNeededOptions {
  /** Bootstrap replicates (default 1,000). */
  replicates?: number;
  /** Seed of the resampling (default 1). */
  seed?: number;
  /** Interval level (default 0.95). */
  level?: number;
}

function pointsOf(
  sizes: readonly number[],
  perPrompt: readonly { answers: Float64Array; errors: Float64Array }[],
  weights: Float64Array,
): CurvePoint[] {
  return sizes.map((size, j) => {
    let answers = 0, errors = 0;
    for (let i = 0; i < perPrompt.length; i++) {
      if (weights[i] === 0) continue;
      answers += weights[i] * perPrompt[i].answers[j];
      errors += weights[i] * perPrompt[i].errors[j];
    }
    return { size, answers, errors };
  });
}

function quantileSorted(sorted: readonly number[], q: number): number {
  // type-7 (linear) quantile; Infinity propagates at the top
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  if (lo === hi || sorted[hi] === sorted[lo]) return sorted[lo];
  if (!Number.isFinite(sorted[hi])) return sorted[hi];
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * "Rows needed for ≤ `target` errors" for one model: the fitted curve's crossing, with a
 * percentile bootstrap interval over prompts (tuned sizes only; base-model answers are ignored).
 */
export function rowsNeeded(
  outcomes: Iterable<SizedOutcome>,
  target = 0.02,
  options: RowsNeededOptions = {},
): RowsNeeded {
  const replicates = options.replicates ?? 1000;
  const level = options.level ?? 0.95;
  const sizeIndex = new Map<number, number>();
  const promptIndex = new Map<string, number>();
  const rows: SizedOutcome[] = [];
  for (const o of outcomes) {
    if (!(o.size > 0)) continue;
    rows.push(o);
    if (!sizeIndex.has(o.size)) sizeIndex.set(o.size, sizeIndex.size);
    if (!promptIndex.has(o.promptId)) promptIndex.set(o.promptId, promptIndex.size);
  }
  const sizes = [...sizeIndex.keys()];
  const perPrompt = Array.from({ length: promptIndex.size }, () => ({
    answers: new Float64Array(sizes.length),
    errors: new Float64Array(sizes.length),
  }));
  for (const o of rows) {
    const p = perPrompt[promptIndex.get(o.promptId)!];
    const j = sizeIndex.get(o.size)!;
    p.answers[j]++;
    if (o.hasError) p.errors[j]++;
  }
  const ones = new Float64Array(perPrompt.length).fill(1);
  const fit = fitLearningCurve(pointsOf(sizes, perPrompt, ones));
  // Past MAX_EXTRAPOLATION × the largest size measured the curve says nothing: not reached.
  const limit = MAX_EXTRAPOLATION * Math.max(...sizes);
  const within = (s: number) => (s > limit ? Infinity : s);
  const estimate = within(sizeForErrorRate(fit, target));

  const gen = xoroshiro128plus((options.seed ?? 1) | 0);
  const draws: number[] = [];
  const weights = new Float64Array(perPrompt.length);
  for (let r = 0; r < replicates; r++) {
    weights.fill(0);
    for (let i = 0; i < perPrompt.length; i++) weights[uniformInt(gen, 0, perPrompt.length - 1)]++;
    let value: number;
    const points = pointsOf(sizes, perPrompt, weights);
    if (points.every((p) => p.errors === 0)) {
      value = Math.min(...sizes); // no error left in this replicate: reached at every size
    } else {
      try {
        value = within(sizeForErrorRate(fitLearningCurve(points), target));
      } catch (e) {
        if (!(e instanceof CurveFitError)) throw e;
        value = Infinity;
      }
    }
    draws.push(value);
  }
  draws.sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return {
    target,
    estimate,
    low: quantileSorted(draws, alpha),
    high: quantileSorted(draws, 1 - alpha),
    level,
    replicates,
    notReached: draws.filter((v) => !Number.isFinite(v)).length / Math.max(1, replicates),
    extrapolated: estimate > fit.sizeRange[1],
    fit,
  };
}
