/**
 * The recipe of a pretraining run: its stages (corpus mix, curriculum on list length, learning
 * schedule, step bound) and the probe figures that end a stage early.
 *
 * @module
 */
import {
  COPY_HEAVY_MIX,
  type CorpusMix,
  FIND_MIX,
  MAX_LIST_ITEMS,
  ORDER_MIX,
  SKILLS_MIX,
} from "./corpus.ts";
import type { ProbeResult } from "./probe.ts";

/** Probe figures a stage must reach to end early. */
export interface ProbeExit {
  copy?: number;
  label?: number;
  filter?: number;
  /** The probe's `filterAfter` (the continent named after the list). */
  filterAfter?: number;
  /** The probe's `block` (the first country's continent and its countries, one block). */
  block?: number;
  /** The probe's `anyOrder` (one continent's countries in another order, one block). */
  anyOrder?: number;
  /** Most names per copy answer that were not in the list. */
  maxCopyExtra?: number;
}

/** One stage of pretraining: its corpus, schedule and exit. */
export interface PretrainStage {
  name: string;
  mix: CorpusMix;
  curriculum: Curriculum;
  /** Longest list of a `label` example (default: the corpus's `LABEL_ITEMS`). */
  labelItems?: number;
  learningRate: number;
  warmupSteps: number;
  /** Steps the learning-rate schedule spans: the most this stage trains. */
  steps: number;
  exit?: ProbeExit;
}

/** Held-out lists per probe task unless told otherwise. */
export const PROBE_LISTS = 32;

/** Whether a probe meets an exit. */
export function meetsExit(p: ProbeResult, exit: ProbeExit): boolean {
  return (exit.copy === undefined || p.copy.recall >= exit.copy) &&
    (exit.label === undefined || p.label.recall >= exit.label) &&
    (exit.filter === undefined || p.filter.recall >= exit.filter) &&
    (exit.filterAfter === undefined || p.filterAfter.recall >= exit.filterAfter) &&
    (exit.block === undefined || p.block.recall >= exit.block) &&
    (exit.anyOrder === undefined || p.anyOrder.recall >= exit.anyOrder) &&
    (exit.maxCopyExtra === undefined || p.copy.extraPerAnswer <= exit.maxCopyExtra);
}

/** Most steps of each stage of the staged recipe; a stage of 0 steps is left out. */
export interface StageSteps {
  copy: number;
  skills: number;
  /** Absent: 0. */
  find?: number;
  /** Absent: 0. */
  order?: number;
}

/**
 * The staged recipe: copying until the probe copies ≥ 95% of a list with ≤ 0.5 extra names per
 * answer; then a mix rich in filtering, excluding and labelling (labels on lists up to 30) until
 * filter and label reach 90% with copying kept; then a mix rich in finding a continent's
 * countries in a list written before the continent is named until those reach 90% too, the
 * earlier exits kept; then a mix rich in finding them in any order (as the cookbook's completions
 * list each block) until that reaches 90% too. `maxSteps` bounds each stage (0 leaves it out); the skills and find stages
 * draw lists of every length from their first step unless `curriculum` starts them short.
 */
export function stagedRecipe(
  learningRate: number,
  maxSteps: StageSteps,
  curriculum: Curriculum = { startItems: 30, fullAt: 0 },
): PretrainStage[] {
  const copyExit = { copy: 0.95, maxCopyExtra: 0.5 };
  const skillsExit = { ...copyExit, label: 0.9, filter: 0.9 };
  const findExit = { ...skillsExit, filterAfter: 0.9, block: 0.9 };
  const stages: PretrainStage[] = [
    {
      name: "copy",
      mix: COPY_HEAVY_MIX,
      curriculum: { startItems: 30, fullAt: 0 },
      learningRate,
      warmupSteps: 40,
      steps: maxSteps.copy,
      exit: copyExit,
    },
    {
      name: "skills",
      mix: SKILLS_MIX,
      curriculum,
      labelItems: MAX_LIST_ITEMS,
      learningRate,
      warmupSteps: 40,
      steps: maxSteps.skills,
      exit: skillsExit,
    },
    {
      name: "find",
      mix: FIND_MIX,
      curriculum,
      labelItems: MAX_LIST_ITEMS,
      learningRate,
      warmupSteps: 40,
      steps: maxSteps.find ?? 0,
      exit: findExit,
    },
    {
      name: "order",
      mix: ORDER_MIX,
      curriculum,
      labelItems: MAX_LIST_ITEMS,
      learningRate,
      warmupSteps: 40,
      steps: maxSteps.order ?? 0,
      exit: { ...findExit, anyOrder: 0.9 },
    },
  ];
  return stages.filter((st) => st.steps > 0);
}

/**
 * Short lists first: the longest list in the corpus grows linearly from `startItems` at the
 * first step to 30 at step `fullAt · steps`, and stays there.
 */
export interface Curriculum {
  startItems: number;
  fullAt: number;
}

/** The default curriculum: lists of up to 6 items at first, up to 30 from half of the steps. */
export const DEFAULT_CURRICULUM: Curriculum = { startItems: 6, fullAt: 0.5 };

/** Longest list at `step` (1-based) of `steps`. */
export function maxItemsAt(step: number, steps: number, c: Curriculum): number {
  const t = c.fullAt > 0 ? Math.min(1, (step - 1) / (c.fullAt * steps)) : 1;
  return Math.round(c.startItems + (MAX_LIST_ITEMS - c.startItems) * t);
}

/** Learning rate at `step` (1-based): linear warm-up, then cosine decay to `finalShare`. */
export function learningRateAt(
  step: number,
  p: { steps: number; learningRate: number; warmupSteps: number; finalShare: number },
): number {
  if (step <= p.warmupSteps) return (p.learningRate * step) / p.warmupSteps;
  const t = (step - p.warmupSteps) / Math.max(1, p.steps - p.warmupSteps);
  const share = p.finalShare + (1 - p.finalShare) * 0.5 * (1 + Math.cos(Math.PI * t));
  return p.learningRate * share;
}
