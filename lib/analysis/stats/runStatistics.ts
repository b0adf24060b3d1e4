/**
 * The statistics of one run, computed from its scored answers (and, for cost, its token counts
 * and the price table): paired model comparisons at each tuning size, paired steps between
 * consecutive sizes of one model, the learning curve of each model with "rows needed for ≤ X%
 * errors", the prompts needed to tell each compared pair apart, where the errors are (per country,
 * invented names, continent confusion) and the tokens and cost.
 *
 * {@link RunStatisticsSchema} is its JSON shape (numbers only: "never" and "cannot tell apart" are
 * `null`, not Infinity), so the result can be stored with a run and read back by the report, the
 * run comparison and the notebooks.
 *
 * @module
 */
import { z } from "zod";
import { wilsonInterval } from "../tables.ts";
import { BASE_MODELS } from "../../cookbook.ts";
import type { Taxonomy } from "../../countries/mod.ts";
import { comparePaired, type PairedOutcome, pairOutcomes } from "./paired.ts";
import { curveBandSeries, CurveFitError, rowsNeeded, type SizedOutcome } from "./curve.ts";
import { promptsForPaired, promptsForUnpaired } from "./planning.ts";
import { promptMix } from "../../datasets/mod.ts";
import { countryErrors } from "./countryErrors.ts";
import {
  type CostRow,
  estimateCost,
  evaluationTokens,
  type PriceTable,
  type TrainingTokens,
} from "../../tuning/mod.ts";
import type { ScoredAnswer } from "../../run/mod.ts";

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

const ArmSchema = z.object({
  /** Answer label (`HCX-003@500`) or, across runs, `<run> · <label>`. */
  label: z.string(),
  model: z.string(),
  size: z.number().int().min(0),
  /** The run, when arms come from different runs. */
  run: z.string().optional(),
});

/** One arm of a comparison. */
export type Arm = z.infer<typeof ArmSchema>;

/** A paired comparison of two arms answered on the same prompts, with its planning figures. */
export const ComparisonSchema = z.object({
  /** `models`: two models at one size; `sizes`: one model at two sizes; `runs`: two runs. */
  kind: z.enum(["models", "sizes", "runs"]),
  first: ArmSchema,
  second: ArmSchema,
  /** `paired` when the arms answered the same prompts, else `unpaired`. */
  design: z.enum(["paired", "unpaired"]),
  n: z.number().int().min(0),
  both: z.number().int().min(0),
  onlyFirst: z.number().int().min(0),
  onlySecond: z.number().int().min(0),
  neither: z.number().int().min(0),
  firstRate: z.number(),
  secondRate: z.number(),
  difference: z.number(),
  low: z.number(),
  high: z.number(),
  /** Exact McNemar p-value (paired design); null for an unpaired one. */
  pValue: z.number().nullable(),
  /** The 95% interval excludes zero. */
  distinguishable: z.boolean(),
  /** Pairs needed to detect the observed difference with 80% power; null = no difference seen. */
  pairedPromptsNeeded: z.number().int().nullable(),
  /** Prompts per arm needed without pairing (80% power); null = no difference seen. */
  unpairedPromptsNeeded: z.number().int().nullable(),
});

/** See {@link ComparisonSchema}. */
export type Comparison = z.infer<typeof ComparisonSchema>;

const FitSchema = z.object({
  intercept: z.number(),
  slope: z.number(),
  covariance: z.tuple([z.tuple([z.number(), z.number()]), z.tuple([z.number(), z.number()])]),
  method: z.enum(["maximum likelihood", "Firth penalised likelihood"]),
  deviance: z.number(),
  points: z.number().int(),
  sizeRange: z.tuple([z.number(), z.number()]),
  iterations: z.number().int(),
  converged: z.boolean(),
});

const BandPointSchema = z.object({
  size: z.number(),
  rate: z.number(),
  low: z.number(),
  high: z.number(),
});

/** The learning curve of one model. */
export const CurveSchema = z.object({
  model: z.string(),
  /** Null when no curve could be fitted (see `problem`). */
  fit: FitSchema.nullable(),
  band: z.array(BandPointSchema),
  rowsNeeded: z.object({
    target: z.number(),
    /** Null: the fitted curve never reaches the target. */
    estimate: z.number().nullable(),
    low: z.number().nullable(),
    /** Null: too many bootstrap replicates never reach the target. */
    high: z.number().nullable(),
    level: z.number(),
    replicates: z.number().int(),
    notReached: z.number(),
    extrapolated: z.boolean(),
  }).nullable(),
  problem: z.string().optional(),
});

/** See {@link CurveSchema}. */
export type Curve = z.infer<typeof CurveSchema>;

/** A continent (a group of the run's task) or `other label`. */
const PlacementSchema = z.string();

const CountryRowSchema = z.object({
  model: z.string(),
  size: z.number().int(),
  code: z.string(),
  country: z.string(),
  continent: z.string(),
  asked: z.number().int(),
  missing: z.number().int(),
  misclassified: z.number().int(),
  errorRate: z.number(),
  placedUnder: z.partialRecord(PlacementSchema, z.number().int()),
  invented: z.number().int(),
});

const CostRowSchema = z.object({
  model: z.string(),
  size: z.number().int(),
  trainedTokens: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  trainingCost: z.number().nullable(),
  evaluationCost: z.number().nullable(),
  totalCost: z.number().nullable(),
  currency: z.string(),
  missing: z.array(z.string()),
});

/** Everything {@link runStatistics} computes for one run. */
export const RunStatisticsSchema = z.object({
  /** The rows-needed target (default 0.02). */
  target: z.number(),
  /** Confidence level of every interval (0.95). */
  level: z.number(),
  /** Power the planning figures are for (0.8). */
  power: z.number(),
  /** How the run's evaluation prompts split over the mix cells. */
  promptMix: z.object({ prompts: z.number().int(), exact: z.boolean(), note: z.string() })
    .nullable(),
  models: z.array(ComparisonSchema),
  sizes: z.array(ComparisonSchema),
  curves: z.array(CurveSchema),
  countries: z.array(CountryRowSchema),
  invented: z.array(z.object({
    model: z.string(),
    size: z.number().int(),
    name: z.string(),
    kind: z.enum(["country", "non-member", "unknown"]),
    mentions: z.number().int(),
    answers: z.number().int(),
  })),
  confusion: z.array(z.object({
    model: z.string(),
    size: z.number().int(),
    rows: z.array(z.string()),
    columns: z.array(z.string()),
    counts: z.array(z.array(z.number().int())),
  })),
  cost: z.object({
    currency: z.string(),
    perTokens: z.number(),
    vat: z.string(),
    /** Per model: where its prices came from and when. */
    sources: z.record(z.string(), z.object({ source: z.string(), checked: z.string() })),
    training: z.array(z.object({
      model: z.string(),
      size: z.number().int(),
      datasetTokens: z.number(),
      epochs: z.number().int(),
      trainedTokens: z.number(),
      tokenizer: z.string(),
    })),
    rows: z.array(CostRowSchema),
  }).nullable(),
});

/** See {@link RunStatisticsSchema}. */
export type RunStatistics = z.infer<typeof RunStatisticsSchema>;

/** Inputs of {@link runStatistics}. */
export interface RunStatisticsInput {
  /** Every scored answer (its record's usage gives the evaluation tokens). */
  answers: readonly ScoredAnswer[];
  /**
   * Whether the answers' mentions name asked items, for the per-country tables (default true;
   * see `CountryErrorsOptions`).
   */
  mentions?: boolean;
  /** Training tokens per tuning task (absent: no training cost). */
  training?: readonly TrainingTokens[];
  /** Price table (absent: no cost section). */
  prices?: PriceTable;
  /** Evaluation prompts of the run (for the mix note). */
  prompts?: number;
  /** Rows-needed target (default 0.02). */
  target?: number;
  /** Bootstrap replicates (default 1,000) and seed (default 1). */
  replicates?: number;
  seed?: number;
  taxonomy?: Taxonomy;
}

const LEVEL = 0.95;
const POWER = 0.8;
/** Invented names kept per model × size (the most mentioned). */
const INVENTED_PER_GROUP = 30;

function modelOrder(models: Iterable<string>): string[] {
  const rank = (m: string) => {
    const i = (BASE_MODELS as readonly string[]).indexOf(m);
    return i < 0 ? BASE_MODELS.length : i;
  };
  return [...new Set(models)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** A comparison of two arms from their outcomes (paired by prompt and repeat when possible). */
export function compareArms(
  kind: Comparison["kind"],
  first: { arm: Arm; outcomes: readonly PairedOutcome[] },
  second: { arm: Arm; outcomes: readonly PairedOutcome[] },
): Comparison {
  const counts = pairOutcomes(first.outcomes, second.outcomes);
  const pairs = counts.both + counts.onlyFirst + counts.onlySecond + counts.neither;
  const paired = pairs > 0 &&
    pairs >= 0.9 * Math.min(first.outcomes.length, second.outcomes.length);
  if (!paired) return unpairedComparison(kind, first, second);
  const c = comparePaired(counts, LEVEL);
  const planning = pairs > 0
    ? {
      paired: promptsForPaired(
        { onlyFirst: c.onlyFirst / pairs, onlySecond: c.onlySecond / pairs },
        { power: POWER },
      ),
      unpaired: promptsForUnpaired(c.firstRate, c.secondRate, { power: POWER }),
    }
    : { paired: Infinity, unpaired: Infinity };
  return {
    kind,
    first: first.arm,
    second: second.arm,
    design: "paired",
    n: c.n,
    both: c.both,
    onlyFirst: c.onlyFirst,
    onlySecond: c.onlySecond,
    neither: c.neither,
    firstRate: c.firstRate,
    secondRate: c.secondRate,
    difference: c.difference,
    low: c.low,
    high: c.high,
    pValue: c.pValue,
    distinguishable: c.low > 0 || c.high < 0,
    pairedPromptsNeeded: finiteOrNull(planning.paired),
    unpairedPromptsNeeded: finiteOrNull(planning.unpaired),
  };
}

function unpairedComparison(
  kind: Comparison["kind"],
  first: { arm: Arm; outcomes: readonly PairedOutcome[] },
  second: { arm: Arm; outcomes: readonly PairedOutcome[] },
): Comparison {
  const e1 = first.outcomes.filter((o) => o.hasError).length;
  const e2 = second.outcomes.filter((o) => o.hasError).length;
  const n1 = first.outcomes.length;
  const n2 = second.outcomes.length;
  // The unpaired hybrid interval is the paired one with no correlation: treat each arm's errors
  // as independent (Newcombe's method 10 for independent proportions).
  const [l1, u1, p1] = wilsonOf(e1, n1);
  const [l2, u2, p2] = wilsonOf(e2, n2);
  const difference = p1 - p2;
  const low = difference - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const high = difference + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return {
    kind,
    first: first.arm,
    second: second.arm,
    design: "unpaired",
    n: Math.min(n1, n2),
    both: 0,
    onlyFirst: e1,
    onlySecond: e2,
    neither: 0,
    firstRate: p1,
    secondRate: p2,
    difference,
    low: Math.max(-1, low),
    high: Math.min(1, high),
    pValue: null,
    distinguishable: low > 0 || high < 0,
    pairedPromptsNeeded: null,
    unpairedPromptsNeeded: finiteOrNull(promptsForUnpaired(p1, p2, { power: POWER })),
  };
}

function wilsonOf(errors: number, n: number): [number, number, number] {
  const [l, u] = wilsonInterval(errors, n);
  return [l, u, n ? errors / n : NaN];
}

/** Computes the statistics of one run (see the module doc). */
export function runStatistics(input: RunStatisticsInput): RunStatistics {
  const target = input.target ?? 0.02;
  const records = input.answers.map((a) => a.record);
  const byArm = new Map<string, { label: string; outcomes: PairedOutcome[] }>();
  for (const { record, score } of input.answers) {
    const k = `${record.model}\u0000${record.size}`;
    let at = byArm.get(k);
    if (!at) byArm.set(k, at = { label: record.label, outcomes: [] });
    at.outcomes.push({
      promptId: record.prompt.id,
      repeat: record.repeat,
      hasError: score.hasError,
    });
  }
  const models = modelOrder(records.map((r) => r.model));
  const sizesOf = (model: string) =>
    [...new Set(records.filter((r) => r.model === model).map((r) => r.size))]
      .sort((a, b) => a - b);
  const arm = (model: string, size: number) => {
    const at = byArm.get(`${model}\u0000${size}`);
    return {
      arm: { label: at?.label ?? `${model}@${size}`, model, size },
      outcomes: at?.outcomes ?? [],
    };
  };

  const modelComparisons: Comparison[] = [];
  for (let i = 0; i < models.length; i++) {
    for (let j = i + 1; j < models.length; j++) {
      const shared = sizesOf(models[i]).filter((s) => sizesOf(models[j]).includes(s));
      for (const size of shared) {
        modelComparisons.push(compareArms("models", arm(models[i], size), arm(models[j], size)));
      }
    }
  }
  const sizeSteps: Comparison[] = [];
  for (const model of models) {
    const sizes = sizesOf(model);
    for (let k = 1; k < sizes.length; k++) {
      sizeSteps.push(compareArms("sizes", arm(model, sizes[k - 1]), arm(model, sizes[k])));
    }
  }

  const curves: Curve[] = models.map((model) => {
    // the bootstrap redraws prompts: a prompt's repeats (and its answers at every size) stay together
    const outcomes: SizedOutcome[] = input.answers
      .filter(({ record }) => record.model === model && record.size > 0)
      .map(({ record, score }) => ({
        size: record.size,
        promptId: record.prompt.id,
        hasError: score.hasError,
      }));
    try {
      const r = rowsNeeded(outcomes, target, {
        replicates: input.replicates ?? 1000,
        seed: input.seed ?? 1,
        level: LEVEL,
      });
      const [lo, hi] = r.fit.sizeRange;
      return {
        model,
        fit: r.fit,
        band: curveBandSeries(r.fit, lo, hi, 60, LEVEL),
        rowsNeeded: {
          target,
          estimate: finiteOrNull(r.estimate),
          low: finiteOrNull(r.low),
          high: finiteOrNull(r.high),
          level: r.level,
          replicates: r.replicates,
          notReached: r.notReached,
          extrapolated: r.extrapolated,
        },
      };
    } catch (e) {
      if (!(e instanceof CurveFitError)) throw e;
      return { model, fit: null, band: [], rowsNeeded: null, problem: e.message };
    }
  });
  const tables = countryErrors(input.answers, input.taxonomy, { mentions: input.mentions });
  const inventedKept = new Map<string, number>();
  const invented = tables.invented.filter((r) => {
    const k = `${r.model}\u0000${r.size}`;
    const n = inventedKept.get(k) ?? 0;
    inventedKept.set(k, n + 1);
    return n < INVENTED_PER_GROUP;
  });

  let cost: RunStatistics["cost"] = null;
  if (input.prices) {
    const rows: CostRow[] = estimateCost(input.prices, {
      training: input.training ?? [],
      evaluation: evaluationTokens(records),
    });
    cost = {
      currency: input.prices.currency,
      perTokens: input.prices.perTokens,
      vat: input.prices.vat,
      sources: Object.fromEntries(
        Object.entries(input.prices.models).map(([m, p]) => [m, {
          source: p.source,
          checked: p.checked,
        }]),
      ),
      training: [...(input.training ?? [])],
      rows,
    };
  }

  return {
    target,
    level: LEVEL,
    power: POWER,
    promptMix: input.prompts
      ? (({ prompts, exact, note }) => ({ prompts, exact, note }))(promptMix(input.prompts))
      : null,
    models: modelComparisons,
    sizes: sizeSteps,
    curves,
    countries: tables.countries.filter((r) => r.missing + r.misclassified + r.invented > 0),
    invented,
    confusion: tables.confusion.map((t) => ({ ...t, rows: [...t.rows], columns: [...t.columns] })),
    cost,
  };
}
