/**
 * The tuning stage: the tuning plan (sizes below the API's row minimum skipped, padded or
 * refused), pre-flight of the tuning CSVs, then one tuning task per model × planned size, adopting
 * a task of the same name instead of paying for it twice.
 *
 * @module
 */
import {
  ClovaStudioError,
  ObjectStorageError,
  preflightTuningCsvBytes,
  sleep,
  type TuningTask,
  TuningTaskFailedError,
} from "../backends/clova/mod.ts";
import { TUNING_SETTINGS } from "../cookbook.ts";
import { hash32, oneWriteAtATime } from "../io/mod.ts";
import { createProgress, type ProgressMode } from "../progress/mod.ts";
import {
  answerLabel,
  type Backend,
  checkTuningStorage,
  PipelineError,
  readSentCreates,
  readTasks,
  type RunContext,
  type RunFile,
  StoppedError,
  type TaskEntry,
  writeSentCreates,
  writeTasks,
} from "../run/mod.ts";
import { type DatasetsResult, planTuning } from "../datasets/mod.ts";

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

/** One line per size that is not tuned as it is, and the emulator's strictness when relaxed. */
export function tuningPlanNotes(file: Pick<RunFile, "config" | "backend">): string[] {
  const minRows = file.backend.minRows ?? 0;
  const plan = planTuning(file.config.sizes, minRows, file.config.minRowsPolicy);
  const lines: string[] = [];
  for (const p of plan) {
    if (p.action === "skip") {
      lines.push(
        `Tuning size ${p.size} was skipped: this API requires at least ${minRows} rows per ` +
          "tuning set (dataset guide, clovastudio-instructiondataset), and --min-rows-policy " +
          "skip was in force. No task was created for it.",
      );
    } else if (p.action === "pad") {
      lines.push(
        `Tuning size ${p.size} was padded to ${p.rows} rows by repeating its ${p.size} rows ` +
          `(--min-rows-policy pad): the task saw ${p.size} distinct examples.`,
      );
    }
  }
  if (file.backend.compat === "cookbook-2024" && file.config.sizes.some((s) => s < 100)) {
    lines.push(
      "The emulator ran with its cookbook-2024 dataset rules, which accept sets under the " +
        "current 100-row minimum (as the 2024 service accepted the cookbook's 50 rows); the " +
        "current CLOVA Studio API would refuse them.",
    );
  }
  return lines;
}

/**
 * Checks every tuning CSV that will be uploaded against the service's documented dataset rules
 * (with the backend's row minimum, and the `C_ID`/`T_ID` columns the current API requires)
 * before anything is uploaded; throws listing the problems.
 */
export async function preflightDatasets(
  trainPaths: ReadonlyMap<number, string>,
  rules: { minRows: number; requireIds: boolean },
  warn: (line: string) => void,
): Promise<void> {
  const errors: string[] = [];
  for (const path of trainPaths.values()) {
    const report = preflightTuningCsvBytes(await Deno.readFile(path), {
      fileName: path.split("/").pop(),
      minRows: rules.minRows,
      requireIds: rules.requireIds,
    });
    for (const p of report.problems) {
      const where = `${path}${p.record ? ` record ${p.record}` : ""}`;
      const line = `${where}: ${p.failureReason}: ${p.message}`;
      if (p.severity === "error") errors.push(line);
      else warn(`warning: ${line}`);
    }
  }
  if (errors.length) {
    throw new PipelineError(`tuning datasets fail the pre-flight:\n  ${errors.join("\n  ")}`);
  }
}

/**
 * Runs a create, turning an upload refusal or an API error into a {@link PipelineError} that
 * says which label was not created (the CLI prints it as one line).
 */
async function createOrExplain(label: string, create: () => Promise<TuningTask>) {
  try {
    return await create();
  } catch (e) {
    if (e instanceof ObjectStorageError || e instanceof ClovaStudioError) {
      throw new PipelineError(`tuning task ${label} was not created: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/**
 * The longest task name the service takes: public code calling the current API had a
 * 33-character name refused (`Invalid parameter: name`) and a 22-character one accepted, and the
 * LK-model tuning guide gave 2–30 characters (the emulator's rule `tuning.create.name`).
 */
export const MAX_TASK_NAME = 30;

/**
 * The name a run gives the task of one label, at most {@link MAX_TASK_NAME} characters and the
 * same every time (so a resumed run finds it): `<run id>-<model>-<size>` when that fits, else
 * `<model>-<size>-<hash of the run id>`. Model and size are written out, so two labels of one
 * run never share a name; the run id's 32-bit hash tells runs apart. Throws when even the short
 * form is too long (a model name of over 12 characters with a size of 7 digits).
 */
export function taskName(runId: string, model: string, size: number): string {
  const full = `${runId}-${model}-${size}`;
  if (full.length <= MAX_TASK_NAME) return full;
  const short = `${model}-${size}-${hash32(runId).toString(16).padStart(8, "0")}`;
  if (short.length > MAX_TASK_NAME) {
    throw new PipelineError(
      `no task name of at most ${MAX_TASK_NAME} characters for ${model} at ${size} rows`,
    );
  }
  return short;
}

/** The name earlier versions gave a task (over 30 characters for most labels), for adopting. */
function legacyTaskName(runId: string, model: string, size: number): string {
  return `${runId}-${model}-${size}`;
}

/** Of several tasks with one name, the one to adopt: the furthest along, then the newest. */
function pickAdopted(found: readonly TuningTask[]): TuningTask {
  const rank = (t: TuningTask) => t.status === "SUCCEEDED" ? 0 : t.status === "FAILED" ? 2 : 1;
  return [...found].sort((a, b) => rank(a) - rank(b))[0];
}

/**
 * Submits one tuning task per model × planned size (the cookbook's LoRA settings) and waits for
 * all of them, showing one progress line. The current API gets each CSV through the user's
 * Object Storage bucket (under `NCP_OBJECT_STORAGE_PREFIX` + run id; nothing is overwritten or
 * deleted), the 2024 API as a multipart upload.
 *
 * Never pays twice: every task is named after the run and its label ({@link taskName}); before
 * creating, the task list (all pages) is read once and a task that already has the name is
 * adopted — the case of a run stopped after the service created a task but before `tasks.json`
 * recorded it. `tasks.json` is rewritten after every change. A failed task is recorded with its
 * `failureReason` and the run goes on without it.
 *
 * Stop (`signal`): a task being created is waited for and recorded (its request is never cut
 * off), no further task is created, polling ends, and {@link StoppedError} is thrown; `--resume`
 * carries on.
 */
export async function tuneAll(
  ctx: RunContext,
  backend: Backend,
  datasets: DatasetsResult,
  options: { progress?: ProgressMode; signal?: AbortSignal; log?: (line: string) => void } = {},
): Promise<TaskEntry[]> {
  const { config } = ctx.file;
  const log = options.log ?? (() => {});
  const tasks = await readTasks(ctx.dir);
  // The tasks are followed at once and each saves when it ends: one write at a time, so the
  // file always ends with the last state.
  const save = oneWriteAtATime(() => writeTasks(ctx.dir, tasks));
  const tuned = datasets.plan.filter((p) => p.action !== "skip").map((p) => p.size);
  const wanted = config.models.flatMap((model) => tuned.map((size) => ({ model, size })))
    .filter(({ model, size }) => !tasks.some((t) => t.label === answerLabel(model, size)));
  // Every name is made (and checked) before anything is created.
  for (const { model, size } of wanted) taskName(ctx.runId, model, size);
  if (wanted.length) checkTuningStorage(backend);
  const existing = new Map<string, TuningTask[]>();
  const readList = async () => {
    existing.clear();
    for await (const t of backend.client.listTasks({ pageSize: 100, signal: options.signal })) {
      if (t.name) existing.set(t.name, [...(existing.get(t.name) ?? []), t]);
    }
  };
  const sent = await readSentCreates(ctx.dir);
  if (wanted.length) {
    await readList();
    // A create an earlier, stopped attempt sent and the list does not show may still be in the
    // service's hands: wait until twice its request timeout after its last send, then read the
    // list twice (a moment apart) before any of them is sent again.
    const names = new Set(wanted.map(({ model, size }) => taskName(ctx.runId, model, size)));
    const unsettled = sent.filter((s) => names.has(s.name) && !existing.has(s.name));
    if (unsettled.length) {
      const until = Math.max(...unsettled.map((s) => Date.parse(s.sentAt) + 2 * s.timeoutMs));
      const waitMs = until - Date.now();
      if (waitMs > 0) {
        log(
          `tuning: ${
            unsettled.map((s) => s.label).join(", ")
          } sent by an earlier attempt may still ` +
            `be being created; waiting ${Math.ceil(waitMs / 1000)} s before reading the task list`,
        );
        await sleep(waitMs, options.signal).catch(() => {
          throw new StoppedError();
        });
      }
      for (let read = 0; read < 2; read++) {
        if (read > 0) {
          await sleep(1000, options.signal).catch(() => {
            throw new StoppedError();
          });
        }
        await readList();
      }
    }
  }
  // Each send of a create is recorded before it leaves (see above).
  const noteSend = (label: string) => async (send: { name: string; timeoutMs: number }) => {
    const entry = { ...send, label, sentAt: new Date().toISOString() };
    const at = sent.findIndex((s) => s.name === send.name);
    if (at >= 0) sent[at] = entry;
    else sent.push(entry);
    await writeSentCreates(ctx.dir, sent);
  };
  for (const { model, size } of wanted) {
    if (options.signal?.aborted) throw new StoppedError();
    const label = answerLabel(model, size);
    const name = taskName(ctx.runId, model, size);
    let task: TuningTask;
    const found = existing.get(name) ?? existing.get(legacyTaskName(ctx.runId, model, size));
    if (found?.length) {
      task = pickAdopted(found);
      log(
        `tuning: adopted task ${task.id} (${name}, ${task.status}) created by an earlier attempt` +
          (found.length > 1 ? `; ${found.length - 1} more with that name left alone` : ""),
      );
    } else {
      const path = datasets.trainPaths.get(size)!;
      const file = { name: path.split("/").pop()!, bytes: await Deno.readFile(path) };
      const common = {
        name,
        model,
        trainEpochs: TUNING_SETTINGS.trainEpochs,
        learningRate: TUNING_SETTINGS.learningRate,
      };
      const storage = backend.objectStorage;
      const onSend = noteSend(label);
      task = await createOrExplain(label, () =>
        backend.client.createTask(
          storage.ok && backend.generation === "current"
            ? {
              ...common,
              dataset: {
                upload: {
                  file,
                  storage: storage.config,
                  key: `${storage.prefix}${ctx.runId}/${file.name}`,
                },
              },
            }
            : {
              ...common,
              method: TUNING_SETTINGS.method,
              taskType: TUNING_SETTINGS.taskType,
              dataset: { file },
            },
          { onSend },
        ));
    }
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
  // Progress counts rows × epochs, so its rate and ETA cover the whole sweep, not one task.
  const epochs = TUNING_SETTINGS.trainEpochs;
  const share = new Map<string, number>(); // label → finished share of a running task
  const units = () =>
    tasks.reduce(
      (n, t) =>
        n + t.size * epochs *
          (t.status === "SUCCEEDED" || t.status === "FAILED" ? 1 : share.get(t.label) ?? 0),
      0,
    );
  const total = tasks.reduce((n, t) => n + t.size * epochs, 0);
  const progress = createProgress("tuning (rows × epochs)", total, { mode: options.progress });
  const running = new Map<string, string>();
  const show = () => {
    const failed = tasks.filter((t) => t.status === "FAILED").length;
    const now = [...running.values()].slice(0, 2).join(" · ");
    progress.update(
      Math.round(units()),
      `${finished().length}/${tasks.length} tasks, ${failed} failed${now ? ` · ${now}` : ""}`,
    );
  };
  show();
  if (options.signal?.aborted) throw new StoppedError();
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
          if (p.totalTrainSteps) share.set(entry.label, (p.currStep ?? 0) / p.totalTrainSteps);
          show();
        },
      });
      tasks[index] = entryFrom(task, entry);
    } catch (e) {
      if (options.signal?.aborted) throw new StoppedError();
      if (!(e instanceof TuningTaskFailedError)) throw e;
      tasks[index] = {
        ...entry,
        status: "FAILED",
        failureReason: e.failureReason,
        message: e.detail,
      };
    }
    running.delete(entry.label);
    share.delete(entry.label);
    await save();
    show();
  }));
  progress.finish(`${tasks.filter((t) => t.status === "FAILED").length} failed`);
  return tasks;
}
