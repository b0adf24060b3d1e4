/**
 * The answer stage: every base model (when configured) and every succeeded tuning task answers
 * the run's evaluation prompts, read from `datasets/eval.xlsx`. Each journals to
 * `answers/<label>.jsonl`; the result sheet `answers/<label>.xlsx` is generated from the journal.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { ClovaBaseModelProvider, ClovaTunedTaskProvider } from "./providers.ts";
import { evaluateSheet } from "./evaluate.ts";
import { journalRecords } from "./journal.ts";
import { acquireLock } from "../io/mod.ts";
import { type ProgressMode } from "../progress/mod.ts";
import { writeAnswerSheet } from "./answerSheet.ts";
import { readPromptSheet } from "./promptSheet.ts";
import {
  type Backend,
  exists,
  RUN_FILES,
  type RunContext,
  StoppedError,
  type TaskEntry,
} from "../run/mod.ts";

/** One evaluation of {@link evaluateAll}. */
export interface EvaluationEntry {
  label: string;
  model: string;
  size: number;
  answered: number;
  failed: number;
  achievedRpm: number;
  seconds: number;
}

/** The answer labels a run evaluates: its base models (when configured), then its tasks. */
function evaluationTargets(
  ctx: RunContext,
  tasks: readonly TaskEntry[],
): { label: string; model: string; size: number; taskId?: string }[] {
  const { config } = ctx.file;
  const targets: { label: string; model: string; size: number; taskId?: string }[] = [];
  if (config.includeBaseModels) {
    for (const model of config.models) targets.push({ label: model, model, size: 0 });
  }
  for (const t of tasks) {
    if (t.status === "SUCCEEDED") {
      targets.push({ label: t.label, model: t.model, size: t.size, taskId: t.taskId });
    }
  }
  return targets;
}

/**
 * Answers the evaluation set with every target, journaling each answer and then writing the
 * result sheet from the journal. Always resumes its own journals, so an interrupted run loses at
 * most the requests in flight; throws {@link StoppedError} when `signal` stopped it.
 */
export async function evaluateAll(
  ctx: RunContext,
  backend: Backend,
  evalPath: string,
  tasks: readonly TaskEntry[],
  options: { progress?: ProgressMode; signal?: AbortSignal } = {},
): Promise<EvaluationEntry[]> {
  const { config } = ctx.file;
  const prompts = await readPromptSheet(evalPath);
  const out: EvaluationEntry[] = [];
  for (const target of evaluationTargets(ctx, tasks)) {
    if (options.signal?.aborted) throw new StoppedError();
    const provider = target.taskId
      ? new ClovaTunedTaskProvider({
        client: backend.clientOptions,
        taskId: target.taskId,
        model: target.model,
        size: target.size,
        label: target.label,
      })
      : new ClovaBaseModelProvider({
        client: backend.clientOptions,
        model: target.model,
        label: target.label,
      });
    const journalPath = join(ctx.dir, RUN_FILES.journal(target.label));
    // The journal's own lock, which `deno task evaluate` takes too: one writer per journal
    // whichever command writes it.
    await Deno.mkdir(dirname(journalPath), { recursive: true });
    const lock = await acquireLock(
      `${journalPath}.lock`,
      `deno task reproduce (answers ${target.label} of run ${ctx.runId})`,
    );
    try {
      const started = performance.now();
      const result = await evaluateSheet({
        prompts,
        provider,
        journalPath,
        label: target.label,
        model: target.model,
        size: target.size,
        concurrency: config.concurrency,
        rpm: config.rpm,
        repeats: config.repeats,
        maxAttempts: config.maxAttempts,
        resume: true,
        signal: options.signal,
        progress: options.progress === undefined ? true : { mode: options.progress },
      });
      if (result.stopped) throw new StoppedError();
      const sheetPath = join(ctx.dir, RUN_FILES.answerSheet(target.label));
      if (result.status.done > 0 || !(await exists(sheetPath))) {
        await writeAnswerSheet(
          sheetPath,
          journalRecords(result.journal, { prompts: result.prompts, repeats: result.repeats }),
          { journal: RUN_FILES.journal(target.label) },
        );
      }
      out.push({
        label: target.label,
        model: target.model,
        size: target.size,
        answered: result.answered,
        failed: result.failed,
        achievedRpm: result.achievedRpm,
        seconds: (performance.now() - started) / 1000,
      });
    } finally {
      await lock.release();
    }
  }
  return out;
}
