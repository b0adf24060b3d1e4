/**
 * `deno task reproduce`: the whole experiment in one command. With no credentials it runs offline
 * against the local CLOVA Studio emulator; with CLOVA Studio credentials in the environment (or
 * `.env`) it drives the real service after a confirmation. Writes `results/<run-id>/report.html`.
 *
 * The experiment's flags, their usage text and their checks come from the experiment spec
 * (`RUN_CONFIG_FIELDS` in `lib/run/schema.ts`); every flag is checked before any work.
 *
 * Exit codes, as `deno task evaluate`'s: 0 all answered; 3 finished but some answers failed
 * permanently (`--resume` retries them); 130 interrupted; 1 error (with the `--resume` command
 * when the run folder was kept); 2 usage.
 *
 * @module
 */
import { join } from "node:path";
import {
  type BackendChoice,
  DEFAULT_RUN_CONFIG,
  MAX_ANSWERS,
  RUN_CONFIG_FIELDS,
  RUN_FILES,
  type RunConfig,
  RUNTIME_FIELDS,
  type ScorerName,
  SCORERS,
} from "../run/mod.ts";
import { BACKEND_KINDS, BACKEND_MODELS } from "../backends/mod.ts";
import {
  choiceFlag,
  type FlagOptions,
  onInterrupt,
  parseFlags,
  printUsage,
  reportError,
  runCli,
  UsageError,
  usageLine,
} from "./args.ts";

const RUN_FLAGS = {
  backend: {
    arg: "B",
    help: "auto | emulator | local | clova-studio (default auto: the service when " +
      "credentials are set, else the emulator; local: the emulator with the local neural " +
      "models, real LoRA on the CPU, default models " +
      `${BACKEND_MODELS.local.defaultModels.join(",")} and sizes ` +
      `${BACKEND_MODELS.local.defaultSizes.join(",")}; a resumed run keeps its own)`,
  },
  task: {
    arg: "TASK",
    help: "what to tune for: countries (default, the cookbook's task), elements (chemical " +
      "elements by group block), a task spec .json, or your own item,group[,aliases] .csv or " +
      ".xlsx taxonomy (saved in run.json; a resumed run keeps its own)",
  },
  train: {
    arg: "FILE",
    help:
      "your own tuning rows (a CLOVA Studio CSV: Text,Completion or C_ID,T_ID,Text,Completion); " +
      "with --eval and --scorer, in place of --task",
  },
  eval: {
    arg: "FILE",
    help: "your evaluation sheet (.xlsx or .csv) with system, user and the expected answer",
  },
  scorer: {
    arg: "NAME",
    help: "how --eval answers are scored: exact (normalised match), label (one label; confusion " +
      "table) or grouping (group: a, b blocks)",
  },
  resume: { help: "continue a run: the newest under --results, or --run ID" },
  run: { arg: "ID", help: "the run's id, its folder under --results (default: a new one)" },
  results: { arg: "DIR", help: "results folder (default results)" },
  yes: { help: "do not ask before creating tuning tasks on CLOVA Studio" },
  quiet: { help: "no progress lines" },
  help: { help: "show this text" },
} as const satisfies Record<string, { arg?: string; help: string }>;

const CONFIG_FIELDS = Object.entries(RUN_CONFIG_FIELDS) as [
  keyof RunConfig,
  (typeof RUN_CONFIG_FIELDS)[keyof RunConfig],
][];
const isRuntime = (key: keyof RunConfig) => (RUNTIME_FIELDS as readonly string[]).includes(key);

const usageOf = ([, f]: (typeof CONFIG_FIELDS)[number]) =>
  usageLine(
    `--${f.flag.name}${"arg" in f.flag ? ` ${f.flag.arg}` : ""}`,
    `${f.flag.help} (default: ${f.flag.shows})`,
  );

/** The usage text, built from the experiment spec and the run flags. */
export const USAGE = [
  "usage: deno task reproduce [options]",
  "",
  "experiment (saved in run.json; a resumed run keeps its own):",
  ...CONFIG_FIELDS.filter(([key]) => !isRuntime(key)).map(usageOf),
  "",
  "how it runs (saved in run.json; a resumed run may change them):",
  ...CONFIG_FIELDS.filter(([key]) => isRuntime(key)).map(usageOf),
  "",
  "run:",
  ...Object.entries(RUN_FLAGS).map(([name, f]) =>
    usageLine(`--${name}${"arg" in f ? ` ${f.arg}` : ""}`, f.help)
  ),
].join("\n");

const OPTIONS: FlagOptions = {
  ...Object.fromEntries(
    CONFIG_FIELDS.map(([, f]) => [f.flag.name, { type: "arg" in f.flag ? "string" : "boolean" }]),
  ),
  ...Object.fromEntries(
    Object.entries(RUN_FLAGS).map((
      [name, f],
    ) => [name, { type: "arg" in f ? "string" : "boolean" }]),
  ),
};

const BACKENDS: readonly BackendChoice[] = ["auto", ...BACKEND_KINDS];

/** The run options of {@link parseReproduceArgs}. */
export interface ReproduceArgs {
  help: boolean;
  config: Partial<RunConfig>;
  /** The backend named by `--backend` (none: `auto` for a new run, the saved one on resume). */
  backend?: BackendChoice;
  resume: boolean;
  runId?: string;
  task?: string;
  dataset?: { train: string; eval: string; scorer: ScorerName };
  results: string;
  yes: boolean;
  quiet: boolean;
}

/** Parses and checks every flag (a {@link UsageError} names the first wrong one). */
export function parseReproduceArgs(args: readonly string[]): ReproduceArgs {
  const values = parseFlags(args, OPTIONS);
  const config: Record<string, unknown> = {};
  for (const [key, f] of CONFIG_FIELDS) {
    const raw = values[f.flag.name];
    if (raw === undefined || raw === false) continue;
    const text = raw as string | true;
    const parsed = f.schema.safeParse(f.flag.parse(text));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UsageError(
        `--${f.flag.name}${text === true ? "" : ` ${text}`}: ${issue.message}`,
      );
    }
    config[key] = parsed.data;
  }
  // One result sheet row per answer: prompts × repeats must fit an XLSX sheet.
  const prompts = (config.evalPrompts as number | undefined) ?? DEFAULT_RUN_CONFIG.evalPrompts;
  const repeats = (config.repeats as number | undefined) ?? DEFAULT_RUN_CONFIG.repeats;
  if (prompts * repeats > MAX_ANSWERS) {
    throw new UsageError(
      `--repeats ${repeats} with --prompts ${prompts}: ${prompts * repeats} answers per label; ` +
        `a result sheet holds at most ${MAX_ANSWERS.toLocaleString("en")}`,
    );
  }
  const backend = choiceFlag("backend", values.backend as string | undefined, BACKENDS);
  const runId = values.run as string | undefined;
  if (runId !== undefined && !/^[\w.@-]+$/.test(runId)) {
    throw new UsageError(`--run ${runId}: a run id is letters, digits, '.', '_', '@' and '-'`);
  }
  return {
    help: values.help === true,
    config: config as Partial<RunConfig>,
    backend,
    resume: values.resume === true,
    runId,
    task: values.task as string | undefined,
    dataset: datasetFlags(values),
    results: (values.results as string | undefined) ?? "results",
    yes: values.yes === true,
    quiet: values.quiet === true,
  };
}

/** `--train`, `--eval` and `--scorer`, which come together or not at all. */
function datasetFlags(values: Record<string, unknown>): ReproduceArgs["dataset"] {
  const given = (["train", "eval", "scorer"] as const).filter((k) => values[k] !== undefined);
  if (given.length === 0) return undefined;
  const missing = (["train", "eval", "scorer"] as const).filter((k) => values[k] === undefined);
  if (missing.length) {
    throw new UsageError(
      `--${given[0]} needs ${missing.map((k) => `--${k}`).join(" and ")} (a dataset you bring is ` +
        "--train rows.csv --eval eval.xlsx --scorer exact|label|grouping)",
    );
  }
  if (values.task !== undefined) {
    throw new UsageError("--task and --train/--eval: give one or the other");
  }
  const scorer = choiceFlag("scorer", values.scorer as string, SCORERS)!;
  return { train: values.train as string, eval: values.eval as string, scorer };
}

function confirm(message: string): boolean {
  if (!Deno.stdin.isTerminal()) {
    console.error(`${message}\n(no terminal to ask on: pass --yes to confirm)`);
    return false;
  }
  return globalThis.confirm(message);
}

/** Parses flags, runs the pipeline and prints where the report is; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const opts = parseReproduceArgs(args);
  if (opts.help) return printUsage(USAGE);
  if (opts.resume && opts.runId !== undefined) {
    try {
      await Deno.stat(join(opts.results, opts.runId, RUN_FILES.run));
    } catch {
      throw new UsageError(`--run ${opts.runId}: no such run under ${opts.results}/ to resume`);
    }
  }
  const [{ runPipeline }, { StoppedError }] = await Promise.all([
    import("../pipeline.ts"),
    import("../run/mod.ts"),
  ]);
  const controller = new AbortController();
  let run = opts.runId;
  const resumeCommand = () =>
    `deno task reproduce --resume${run ? ` --run ${run}` : ""}${
      opts.results === "results" ? "" : ` --results ${opts.results}`
    }`;
  const removeHandler = onInterrupt(() => {
    console.error(
      `\ninterrupted: finishing the requests in flight; resume with: ${resumeCommand()} ` +
        `(Ctrl-C again quits at once)`,
    );
    controller.abort();
  });
  try {
    const result = await runPipeline({
      config: opts.config,
      task: opts.task,
      dataset: opts.dataset,
      resultsDir: opts.results,
      runId: opts.runId,
      resume: opts.resume,
      backend: opts.backend,
      confirm: opts.yes ? () => true : confirm,
      progress: opts.quiet ? "silent" : undefined,
      signal: controller.signal,
      command: `deno task reproduce ${args.join(" ")}`.trim(),
      onRunFolder: (id) => (run = id),
    });
    const { sizeSummaryText } = await import("../analysis/mod.ts");
    console.log(`\n${sizeSummaryText(result.analysis.summary.bySize)}`);
    for (const t of result.tasks.filter((t) => t.status === "FAILED")) {
      console.log(
        `tuning task ${t.label} (${t.taskId}) FAILED: ${t.failureReason} ${t.message ?? ""}`,
      );
    }
    console.log(
      `\n${result.analysis.summary.answers} answers scored from ${result.evaluations.length} ` +
        `evaluations in ${result.seconds.toFixed(1)} s (backend: ${result.backend.name})`,
    );
    console.log(`report: ${result.analysis.reportPath}`);
    const failed = result.analysis.summary.failedAnswers;
    if (failed > 0) {
      // As `deno task evaluate`: finished, but some answers failed for good (exit 3).
      console.error(
        `${failed} answer(s) failed permanently and were not scored; retry only those with: ` +
          resumeCommand(),
      );
      return 3;
    }
    return 0;
  } catch (e) {
    if (controller.signal.aborted && (e instanceof StoppedError || isAbort(e))) return 130;
    const code = reportError("reproduce", USAGE, e);
    // A run folder that was kept (tasks created, answers journaled) can be continued.
    if (code === 1 && run !== undefined) {
      try {
        await Deno.stat(join(opts.results, run, RUN_FILES.run));
        console.error(`resume with: ${resumeCommand()}`);
      } catch {
        // no run folder left behind: start again
      }
    }
    return code;
  } finally {
    removeHandler();
  }
}

function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === "AbortError";
}

if (import.meta.main) await runCli("reproduce", USAGE, main);
