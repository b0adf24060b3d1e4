/**
 * `deno task reproduce`: the whole experiment in one command. With no credentials it runs offline
 * against the local CLOVA Studio emulator; with CLOVA Studio credentials in the environment (or
 * `.env`) it drives the real service after a confirmation. Writes `results/<run-id>/report.html`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type BackendChoice,
  MIN_ROWS_POLICIES,
  type MinRowsPolicy,
  PipelineError,
  type RunConfig,
  runPipeline,
} from "../pipeline.ts";

/** Tables and summaries (nodejs-polars), loaded once the flags are read: `--help` never waits. */
const loadAnalysis = () => import("../analyze.ts");

const USAGE = `usage: deno task reproduce [options]

  --sizes 50,100,…      tuning-set sizes (default: the cookbook's 50, 100 … 1000, 2000, 10000)
  --models A,B          base models (default: HCX-003,HCX-DASH-001)
  --seed N              dataset seed (default 2024)
  --prompts N           evaluation prompts (default 100)
  --repeats N           answers per prompt (default 1)
  --concurrency N       requests in flight per evaluation (default 16)
  --rpm N               request starts per minute per evaluation (default: unlimited)
  --no-base             skip evaluating the untuned base models
  --list un|cookbook    country list (default un: 193 members; cookbook: its 192)
  --backend B           auto (default) | emulator | clova-studio
  --min-rows-policy P   sizes below the API's 100-row minimum: skip (default) | pad | fail
  --order O             tuning text lists countries shuffled (default) | grouped by continent
  --resume [--run ID]   continue an interrupted run (default: the newest under results/)
  --run ID              run id (folder name under results/)
  --results DIR         results folder (default results)
  --yes                 do not ask before creating tuning tasks on CLOVA Studio
  --quiet               no progress lines`;

function ints(text: string | undefined, flag: string): number[] | undefined {
  if (text === undefined) return undefined;
  const out = text.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (!out.length || out.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new PipelineError(`${flag} takes positive whole numbers, e.g. ${flag} 50,100`);
  }
  return out;
}

function int(text: string | undefined, flag: string): number | undefined {
  return ints(text, flag)?.[0];
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
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: "string" },
      models: { type: "string" },
      seed: { type: "string" },
      prompts: { type: "string" },
      repeats: { type: "string" },
      concurrency: { type: "string" },
      rpm: { type: "string" },
      "no-base": { type: "boolean", default: false },
      list: { type: "string" },
      backend: { type: "string", default: "auto" },
      "min-rows-policy": { type: "string" },
      order: { type: "string" },
      resume: { type: "boolean", default: false },
      run: { type: "string" },
      results: { type: "string", default: "results" },
      yes: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const backend = values.backend as BackendChoice;
  if (!["auto", "emulator", "clova-studio"].includes(backend)) {
    console.error(`--backend must be auto, emulator or clova-studio\n\n${USAGE}`);
    return 2;
  }
  if (values.list !== undefined && values.list !== "un" && values.list !== "cookbook") {
    console.error(`--list must be un or cookbook`);
    return 2;
  }
  const policy = values["min-rows-policy"];
  if (policy !== undefined && !MIN_ROWS_POLICIES.includes(policy as MinRowsPolicy)) {
    console.error(`--min-rows-policy must be skip, pad or fail\n\n${USAGE}`);
    return 2;
  }
  if (values.order !== undefined && values.order !== "shuffled" && values.order !== "grouped") {
    console.error(`--order must be shuffled or grouped\n\n${USAGE}`);
    return 2;
  }
  const config: Partial<RunConfig> = {};
  if (values.order === "grouped") config.order = "grouped";
  const sizes = ints(values.sizes, "--sizes");
  if (sizes) config.sizes = sizes;
  if (values.models) config.models = values.models.split(",").map((s) => s.trim()).filter(Boolean);
  const seed = int(values.seed, "--seed");
  if (seed !== undefined) config.seed = seed;
  const prompts = int(values.prompts, "--prompts");
  if (prompts !== undefined) config.evalPrompts = prompts;
  const repeats = int(values.repeats, "--repeats");
  if (repeats !== undefined) config.repeats = repeats;
  const concurrency = int(values.concurrency, "--concurrency");
  if (concurrency !== undefined) config.concurrency = concurrency;
  const rpm = int(values.rpm, "--rpm");
  if (rpm !== undefined) config.rpm = rpm;
  if (values["no-base"]) config.includeBaseModels = false;
  if (values.list) config.taxonomy = values.list as RunConfig["taxonomy"];
  if (policy) config.minRowsPolicy = policy as MinRowsPolicy;

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) Deno.exit(130);
    console.error("\nstopping: finishing requests in flight (Ctrl-C again to quit now)…");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    const result = await runPipeline({
      config,
      resultsDir: values.results,
      runId: values.run,
      resume: values.resume,
      backend,
      confirm: values.yes ? () => true : confirm,
      progress: values.quiet ? "silent" : undefined,
      signal: controller.signal,
    });
    const { sizeSummaryText } = await loadAnalysis();
    const ours = result.analysis.analysis.bySize;
    console.log(`\n${sizeSummaryText(ours)}`);
    const failedTasks = result.tasks.filter((t) => t.status === "FAILED");
    for (const t of failedTasks) {
      console.log(
        `tuning task ${t.label} (${t.taskId}) FAILED: ${t.failureReason} ${t.message ?? ""}`,
      );
    }
    console.log(
      `\n${result.analysis.rows.length} answers scored from ${result.evaluations.length} ` +
        `evaluations in ${result.seconds.toFixed(1)} s (backend: ${result.backend.name})`,
    );
    console.log(`report: ${result.analysis.reportPath}`);
    return 0;
  } catch (e) {
    if (e instanceof PipelineError) {
      console.error(`reproduce: ${e.message}`);
      return controller.signal.aborted ? 130 : 1;
    }
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`reproduce: ${(e as Error).stack ?? e}`);
    Deno.exit(1);
  }
}
