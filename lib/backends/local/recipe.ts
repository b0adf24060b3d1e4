/**
 * The recipe of a pretraining run: its stages (corpus mix, curriculum on list length, learning
 * schedule, step bound) and the probe figures that end a stage early.
 *
 * @module
 */
import { COPY_HEAVY_MIX, type CorpusKind, MAX_LIST_ITEMS, SKILLS_MIX } from "./corpus.ts";
import type { ProbeResult } from "./probe.ts";

/** Probe figures a stage must reach to end early. */
export interface ProbeExit {
  copy?: number;
  label?: number;
  filter?: number;
  /** Most names per copy answer that were not in the list. */
  maxCopyExtra?: number;
}

/** One stage of pretraining: its corpus, schedule and exit. */
export interface PretrainStage {
  name: string;
  mix: Readonly<Record<CorpusKind, number>>;
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
    (exit.maxCopyExtra === undefined || p.copy.extraPerAnswer <= exit.maxCopyExtra);
}

/**
 * The staged recipe: copying until the probe copies ≥ 95% of a list with ≤ 0.5 extra names per
 * answer, then a mix rich in filtering, excluding and labelling (labels on lists up to 30) until
 * filter and label reach 90% with copying kept. `maxSteps` bounds each stage; the skills stage
 * draws lists of every length from its first step unless `skillsCurriculum` starts them short.
 */
export function stagedRecipe(
  learningRate: number,
  maxSteps: { copy: number; skills: number },
  skillsCurriculum: Curriculum = { startItems: 30, fullAt: 0 },
): PretrainStage[] {
  const copyExit = { copy: 0.95, maxCopyExtra: 0.5 };
  return [
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
      curriculum: skillsCurriculum,
      labelItems: MAX_LIST_ITEMS,
      learningRate,
      warmupSteps: 40,
      steps: maxSteps.skills,
      exit: { ...copyExit, label: 0.9, filter: 0.9 },
    },
  ];
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
