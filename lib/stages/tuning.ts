/**
 * The tuning stage: pre-flight of the tuning CSVs, then one tuning task per model × size.
 *
 * @module
 */
import { join } from "node:path";
import { TUNING_SETTINGS } from "../cookbook.ts";
import { preflightTuningCsvBytes, type TuningTask, TuningTaskFailedError } from "../clova/mod.ts";
import { createProgress, type ProgressMode } from "../progress.ts";
import type { Backend } from "./backend.ts";
import type { DatasetsResult } from "./datasets.ts";
import {
  answerLabel,
  PipelineError,
  readTasks,
  type RunContext,
  type TaskEntry,
  writeJsonAtomic,
} from "./run.ts";

function entryFrom(task: TuningTask, base: TaskEntry): TaskEntry {
  const info = task.statusInfo;
  return {
    ...base,
    status: task.status,
    trainLoss: info.trainLoss ?? null,
    currStep: info.currStep,
    totalTrainSteps: info.totalTrainSteps,
    failureReason: info.failureReason,
    message: info.message,
    requestId: task.requestId ?? base.requestId,
  };
}

/**
 * Checks every tuning CSV against the service's documented dataset rules before anything is
 * uploaded; throws listing the problems. Sets below the documented 100-row minimum are allowed
 * (the cookbook tuned 50 rows on the 2024 service) and reported through `warn`.
 */
export async function preflightDatasets(
  trainPaths: ReadonlyMap<number, string>,
  warn: (line: string) => void,
): Promise<void> {
  const errors: string[] = [];
  for (const path of trainPaths.values()) {
    const report = preflightTuningCsvBytes(await Deno.readFile(path), {
      fileName: path.split("/").pop(),
    });
    for (const p of report.problems) {
      const where = `${path}${p.record ? ` record ${p.record}` : ""}`;
      const line = `${where}: ${p.failureReason}: ${p.message}`;
      if (p.rule === "rows.minimum") warn(`note: ${line} (the cookbook tuned sets this small)`);
      else if (p.severity === "error") errors.push(line);
      else warn(`warning: ${line}`);
    }
  }
  if (errors.length) {
    throw new PipelineError(`tuning datasets fail the pre-flight:\n  ${errors.join("\n  ")}`);
  }
}

/**
 * Submits one tuning task per model × size (the cookbook's LoRA settings) and waits for all of
 * them, showing one progress line. `tasks.json` is rewritten after every change, so a resumed run
 * reuses tasks it already created instead of paying for them twice. A failed task is recorded
 * with its `failureReason` and the run goes on without it.
 */
export async function tuneAll(
  ctx: RunContext,
  backend: Backend,
  datasets: DatasetsResult,
  options: { progress?: ProgressMode; signal?: AbortSignal } = {},
): Promise<TaskEntry[]> {
  const { config } = ctx.file;
  const tasks = await readTasks(ctx.dir);
  const save = () => writeJsonAtomic(join(ctx.dir, "tasks.json"), tasks);
  const wanted = config.models.flatMap((model) =>
    [...config.sizes].sort((a, b) => a - b).map((size) => ({ model, size }))
  );
  for (const { model, size } of wanted) {
    const label = answerLabel(model, size);
    if (tasks.some((t) => t.label === label)) continue;
    const bytes = await Deno.readFile(datasets.trainPaths.get(size)!);
    const task = await backend.client.createTask({
      name: `${ctx.runId}-${model}-${size}`,
      model,
      method: TUNING_SETTINGS.method,
      taskType: TUNING_SETTINGS.taskType,
      trainEpochs: TUNING_SETTINGS.trainEpochs,
      learningRate: TUNING_SETTINGS.learningRate,
      dataset: { file: { name: `train_${size}.csv`, bytes } },
    });
    tasks.push(entryFrom(task, {
      label,
      model,
      size,
      taskId: task.id,
      status: task.status,
      trainLoss: null,
    }));
    await save();
  }
  const open = tasks.filter((t) => t.status !== "SUCCEEDED" && t.status !== "FAILED");
  const finished = () => tasks.filter((t) => t.status === "SUCCEEDED" || t.status === "FAILED");
  const progress = createProgress("tuning", tasks.length, { mode: options.progress });
  const running = new Map<string, string>();
  const show = () => {
    const failed = tasks.filter((t) => t.status === "FAILED").length;
    const now = [...running.values()].slice(0, 2).join(" · ");
    progress.update(finished().length, `${failed} failed${now ? ` · ${now}` : ""}`);
  };
  show();
  await Promise.all(open.map(async (entry) => {
    const index = tasks.indexOf(entry);
    try {
      const task = await backend.client.waitForTask(entry.taskId, {
        pollIntervalMs: backend.poll.intervalMs,
        maxPollIntervalMs: backend.poll.maxIntervalMs,
        signal: options.signal,
        onProgress: (p) => {
          const step = p.totalTrainSteps ? ` ${p.currStep ?? 0}/${p.totalTrainSteps}` : "";
          const loss = p.trainLoss !== undefined ? ` loss ${p.trainLoss.toFixed(3)}` : "";
          running.set(entry.label, `${entry.label} ${p.status}${step}${loss}`);
          show();
        },
      });
      tasks[index] = entryFrom(task, entry);
    } catch (e) {
      if (!(e instanceof TuningTaskFailedError)) throw e;
      tasks[index] = {
        ...entry,
        status: "FAILED",
        failureReason: e.failureReason,
        message: e.detail,
      };
    }
    running.delete(entry.label);
    await save();
    show();
  }));
  progress.finish(`${tasks.filter((t) => t.status === "FAILED").length} failed`);
  return tasks;
}
