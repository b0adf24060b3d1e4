/**
 * The answer stage: every base model and tuned task answers the evaluation prompts.
 *
 * @module
 */
import { join } from "node:path";
import { ClovaBaseModelProvider, ClovaTunedTaskProvider } from "../providers.ts";
import { type EvaluatePrompt, evaluateSheet } from "../evaluate.ts";
import { writeAnswerSheet } from "../answerSheet.ts";
import type { ProgressMode } from "../progress.ts";
import type { Backend } from "./backend.ts";
import { PipelineError, type RunContext, type TaskEntry } from "./run.ts";

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

/**
 * Answers the evaluation set with every base model (when configured) and every succeeded
 * tuning task, journaling to `answers/<label>.jsonl` and writing `answers/<label>.xlsx`.
 * Always resumes its own journals, so an interrupted run loses at most the requests in flight.
 */
export async function evaluateAll(
  ctx: RunContext,
  backend: Backend,
  prompts: readonly EvaluatePrompt[],
  tasks: readonly TaskEntry[],
  options: { progress?: ProgressMode; signal?: AbortSignal } = {},
): Promise<EvaluationEntry[]> {
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
  const out: EvaluationEntry[] = [];
  for (const target of targets) {
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
    const journalPath = join(ctx.dir, "answers", `${target.label}.jsonl`);
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
      resume: true,
      signal: options.signal,
      progress: options.progress === undefined ? true : { mode: options.progress },
    });
    await writeAnswerSheet(join(ctx.dir, "answers", `${target.label}.xlsx`), result.records);
    out.push({
      label: target.label,
      model: target.model,
      size: target.size,
      answered: result.records.filter((r) => r.text !== null).length,
      failed: result.failures.length,
      achievedRpm: result.achievedRpm,
      seconds: (performance.now() - started) / 1000,
    });
    if (result.stopped) throw new PipelineError("stopped; run again with --resume to continue");
  }
  return out;
}
