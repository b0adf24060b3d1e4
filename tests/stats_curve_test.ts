import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import {
  curveBand,
  CurveFitError,
  curveRate,
  fitLearningCurve,
  maximumLikelihoodExists,
  rowsNeeded,
  type SizedOutcome,
  sizeForErrorRate,
} from "../lib/analysis/stats/curve.ts";

const SIZES = [50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 2000, 10000];
const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));
const close = (a: number, b: number, eps: number) => Math.abs(a - b) < eps;

Deno.test("curve fit recovers known parameters exactly from expected counts", () => {
  const [a, b] = [4, -1];
  const points = SIZES.map((size) => ({
    size,
    answers: 1000,
    errors: 1000 * sigmoid(a + b * Math.log(size)),
  }));
  const fit = fitLearningCurve(points);
  assertEquals(fit.method, "maximum likelihood");
  assert(fit.converged);
  assert(
    close(fit.intercept, a, 1e-8) && close(fit.slope, b, 1e-8),
    `${fit.intercept} ${fit.slope}`,
  );
  assert(fit.deviance < 1e-8, `deviance ${fit.deviance}`);
  assertEquals(fit.points, SIZES.length);
  assertEquals(fit.sizeRange, [50, 10000]);
});

Deno.test("curve fit recovers known parameters from sampled binomial data (within 3 SE)", () => {
  const gen = xoroshiro128plus(20241);
  for (const [a, b] of [[4, -1], [9, -1.8], [1.5, -0.45]]) {
    const points = SIZES.map((size) => {
      const p = sigmoid(a + b * Math.log(size));
      let errors = 0;
      for (let i = 0; i < 2000; i++) if (uniformFloat64(gen) < p) errors++;
      return { size, answers: 2000, errors };
    });
    const fit = fitLearningCurve(points);
    const [seA, seB] = [Math.sqrt(fit.covariance[0][0]), Math.sqrt(fit.covariance[1][1])];
    assert(Math.abs(fit.intercept - a) < 3 * seA, `α ${fit.intercept} vs ${a} (se ${seA})`);
    assert(Math.abs(fit.slope - b) < 3 * seB, `β ${fit.slope} vs ${b} (se ${seB})`);
    // a 13-point fit of 26,000 answers pins the slope down to a few hundredths
    assert(seB < 0.05, `se β ${seB}`);
  }
});

Deno.test("separated data: no ML estimate, Firth gives (y + ½)/(n + 1) on a saturated design", () => {
  const points = [{ size: 100, answers: 10, errors: 10 }, { size: 1000, answers: 10, errors: 0 }];
  assertEquals(maximumLikelihoodExists(points), false);
  const fit = fitLearningCurve(points);
  assertEquals(fit.method, "Firth penalised likelihood");
  // both points have hat value 1, so p̂ = 10.5/11 and 0.5/11: β = (−ln 21 − ln 21)/ln 10
  const slope = (-2 * Math.log(21)) / Math.log(10);
  assert(close(fit.slope, slope, 1e-7), `${fit.slope} vs ${slope}`);
  assert(close(fit.intercept, Math.log(21) - slope * Math.log(100), 1e-6), `${fit.intercept}`);
  assert(
    close(curveRate(fit, 100), 10.5 / 11, 1e-8) && close(curveRate(fit, 1000), 0.5 / 11, 1e-8),
  );
});

Deno.test("maximumLikelihoodExists: overlap, complete and quasi-complete separation", () => {
  const p = (rows: [number, number, number][]) =>
    rows.map(([size, answers, errors]) => ({ size, answers, errors }));
  assert(maximumLikelihoodExists(p([[50, 10, 6], [100, 10, 1], [200, 10, 2]])));
  assert(!maximumLikelihoodExists(p([[50, 10, 10], [100, 10, 4], [200, 10, 0]])), "quasi");
  assert(!maximumLikelihoodExists(p([[50, 10, 10], [100, 10, 0], [200, 10, 0]])), "complete");
  assert(!maximumLikelihoodExists(p([[50, 10, 0], [100, 10, 0]])), "no errors at all");
  assert(!maximumLikelihoodExists(p([[50, 10, 0], [100, 10, 3]])), "rising, separated");
  // the base model (size 0) is never part of the fit
  assert(!maximumLikelihoodExists(p([[0, 10, 3], [50, 10, 10], [100, 10, 0]])));
  throws(() => fitLearningCurve(p([[0, 100, 80], [50, 100, 3]])), CurveFitError);
  throws(() => fitLearningCurve(p([[50, 10, 11], [100, 10, 0]])), /11 errors out of 10/);
});

Deno.test("rows needed for a target rate and the band: hand-computed", () => {
  const fit = fitLearningCurve(
    SIZES.map((size) => ({ size, answers: 1000, errors: 1000 * sigmoid(4 - Math.log(size)) })),
  );
  // logit p = 4 − ln s = logit(0.02) = −ln 49  ⇒  s = 49·e⁴ = 2675.31
  assert(
    close(sizeForErrorRate(fit, 0.02), 49 * Math.exp(4), 1e-3),
    `${sizeForErrorRate(fit, 0.02)}`,
  );
  // a flat curve never gets there
  const flat = fitLearningCurve([{ size: 100, answers: 100, errors: 30 }, {
    size: 1000,
    answers: 100,
    errors: 30,
  }]);
  assertEquals(sizeForErrorRate(flat, 0.02), Infinity);
  // band: logit(high) − logit(rate) = 1.959964 · √(xᵀ V x)
  const band = curveBand(fit, 500);
  const x = Math.log(500);
  const [[v00, v01], [, v11]] = fit.covariance;
  const se = Math.sqrt(v00 + 2 * x * v01 + x * x * v11);
  const logit = (p: number) => Math.log(p / (1 - p));
  assert(close(logit(band.high) - logit(band.rate), 1.959964 * se, 1e-5));
  assert(close(logit(band.rate) - logit(band.low), 1.959964 * se, 1e-5));
  assert(close(band.rate, sigmoid(4 - x), 1e-9));
});

/** Prompts with a latent difficulty, answered at every size (errors correlate across sizes). */
function syntheticOutcomes(seed: number, a: number, b: number, prompts = 100): SizedOutcome[] {
  const gen = xoroshiro128plus(seed);
  const out: SizedOutcome[] = [];
  for (let i = 0; i < prompts; i++) {
    const u = uniformFloat64(gen);
    for (const size of SIZES) {
      out.push({ size, promptId: `e${i}`, hasError: u < sigmoid(a + b * Math.log(size)) });
    }
    out.push({ size: 0, promptId: `e${i}`, hasError: true }); // base model: ignored
  }
  return out;
}

Deno.test("rows needed: bootstrap interval over prompts, seeded and deterministic", () => {
  const outcomes = syntheticOutcomes(7, 6, -1.2);
  const r = rowsNeeded(outcomes, 0.05, { replicates: 400, seed: 3 });
  const truth = Math.exp((Math.log(0.05 / 0.95) - 6) / -1.2); // ≈ 556 rows
  assert(r.low <= r.estimate && r.estimate <= r.high, `${r.low} ${r.estimate} ${r.high}`);
  assert(r.low < truth && truth < r.high, `truth ${truth} outside [${r.low}, ${r.high}]`);
  assertEquals(r.notReached, 0);
  assertEquals(r.extrapolated, false);
  assertEquals(r.replicates, 400);
  assertEquals(r.fit.points, SIZES.length);
  const again = rowsNeeded(outcomes, 0.05, { replicates: 400, seed: 3 });
  assertEquals([again.low, again.high], [r.low, r.high]);
  const other = rowsNeeded(outcomes, 0.05, { replicates: 400, seed: 4 });
  assert(other.low !== r.low || other.high !== r.high, "another seed, other replicates");
});

Deno.test("rows needed: a curve that never reaches the target", () => {
  const outcomes = SIZES.flatMap((size) =>
    Array.from({ length: 50 }, (_, i) => ({ size, promptId: `e${i}`, hasError: i % 2 === 0 }))
  );
  const r = rowsNeeded(outcomes, 0.02, { replicates: 200 });
  assertEquals(r.estimate, Infinity);
  assertEquals(r.high, Infinity);
  assert(r.notReached > 0.3, `${r.notReached}`);
});

Deno.test("rows needed: a prompt's repeats are redrawn together (the bootstrap unit is the prompt)", () => {
  // every prompt answered twice per size, both repeats alike: doubling the answers must not
  // narrow the interval the way twice as many independent prompts would
  const once = syntheticOutcomes(11, 6, -1.2, 60);
  const twice = [...once, ...once];
  const a = rowsNeeded(once, 0.05, { replicates: 300, seed: 5 });
  const b = rowsNeeded(twice, 0.05, { replicates: 300, seed: 5 });
  assert(Math.abs(a.estimate - b.estimate) < 1e-6 * a.estimate, `${a.estimate} ${b.estimate}`);
  assertEquals([a.low, a.high], [b.low, b.high]);
});
