/**
 * Evaluation-size planning: how many prompts tell two error probabilities apart with a given
 * power, for paired designs (both arms answer the same prompts: two models at one size, one
 * model at two sizes) and unpaired ones (different prompt sets).
 *
 * Formulas (two-sided level α, power 1 − β, z = normal quantiles):
 * - unpaired, per arm (Fleiss, *Statistical Methods for Rates and Proportions*, without
 *   continuity correction; the closed form `power.prop.test` in R solves):
 *   n = ((z_{α/2}·√(2·p̄·q̄) + z_β·√(p₁q₁ + p₂q₂)) / (p₁ − p₂))², p̄ = (p₁ + p₂)/2;
 * - paired (Connor 1987, Biometrics 43:207–211, for the McNemar test): with discordant
 *   probabilities p₁₀ (only the first errs) and p₀₁, ψ = p₁₀ + p₀₁ and δ = p₁₀ − p₀₁,
 *   n = ((z_{α/2}·√ψ + z_β·√(ψ − δ²)) / δ)².
 *
 * Both are normal approximations; at rates near 0 (the 0%-vs-2% question) they are a guide to
 * the order of magnitude, not an exact guarantee.
 *
 * @module
 */
import { normalQuantile } from "./distributions.ts";

/** Options of the sample-size functions. */
export interface PowerOptions {
  /** Two-sided significance level (default 0.05). */
  alpha?: number;
  /** Power (default 0.8). */
  power?: number;
}

function zs(options: PowerOptions): { za: number; zb: number } {
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must be in (0, 1), got ${power}`);
  return { za: normalQuantile(1 - alpha / 2), zb: normalQuantile(power) };
}

function checkRate(p: number, what: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${what} must be a probability, got ${p}`);
}

/**
 * Prompts per arm for an unpaired comparison of error probabilities `p1` and `p2` (rounded up);
 * `Infinity` when they are equal.
 */
export function promptsForUnpaired(p1: number, p2: number, options: PowerOptions = {}): number {
  checkRate(p1, "p1");
  checkRate(p2, "p2");
  if (p1 === p2) return Infinity;
  const { za, zb } = zs(options);
  const pm = (p1 + p2) / 2;
  const root = za * Math.sqrt(2 * pm * (1 - pm)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((root / (p1 - p2)) ** 2 - 1e-9);
}

/** The discordant probabilities of a paired design. */
export interface Discordance {
  /** P(only the first errs). */
  onlyFirst: number;
  /** P(only the second errs). */
  onlySecond: number;
}

/**
 * Prompts (pairs) for a paired comparison with discordant probabilities `onlyFirst` and
 * `onlySecond` (Connor's formula, rounded up); `Infinity` when they are equal.
 */
export function promptsForPaired(d: Discordance, options: PowerOptions = {}): number {
  checkRate(d.onlyFirst, "onlyFirst");
  checkRate(d.onlySecond, "onlySecond");
  const psi = d.onlyFirst + d.onlySecond;
  if (psi > 1) throw new RangeError(`discordant probabilities sum to ${psi} > 1`);
  const delta = d.onlyFirst - d.onlySecond;
  if (delta === 0) return Infinity;
  const { za, zb } = zs(options);
  const root = za * Math.sqrt(psi) + zb * Math.sqrt(Math.max(0, psi - delta * delta));
  return Math.ceil((root / delta) ** 2 - 1e-9);
}

/**
 * Discordant probabilities of two error probabilities when the errors are independent given the
 * prompt set (p₁(1 − p₂), p₂(1 − p₁)): the planning assumption when no paired data exist yet.
 */
export function independentDiscordance(p1: number, p2: number): Discordance {
  checkRate(p1, "p1");
  checkRate(p2, "p2");
  return { onlyFirst: p1 * (1 - p2), onlySecond: p2 * (1 - p1) };
}
