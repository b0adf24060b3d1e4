/**
 * `deno task evaluate --input eval.xlsx --out answers.xlsx (--task ID | --model NAME |
 * --openai-url URL --openai-model NAME) [--concurrency N] [--rpm N] [--resume] [--repeats N]
 * [--journal PATH] [--api v1|v3] [--label L] [--emulator]`
 *
 * Answers a prompt sheet (the cookbook's `system`/`user` columns) and writes the cookbook-style
 * result sheet, generated from the journal; every answer is first journaled to `--journal`
 * (default: `--out` with `.jsonl`). Every flag, the input sheet and the output paths are checked
 * before the first request. One process at a time writes a journal (a lock beside it).
 * Ctrl-C stops taking new work, waits for the requests in flight, and prints the `--resume`
 * command; a second Ctrl-C quits at once (the journal is safe either way).
 *
 * Exit codes: 0 all answered; 3 finished but some rows failed permanently (listed, and in the
 * sheet's `error` column; `--resume` retries them); 130 interrupted; 1 error (a stop on refused
 * credentials or an unreachable service prints the `--resume` command); 2 usage.
 *
 * @module
 */
import { basename, dirname as parentOf, join, resolve } from "node:path";
import { DEFAULT_RUN_CONFIG, MAX_ANSWERS, MAX_CONCURRENCY, RUN_FILES } from "../run/mod.ts";
import {
  checkInput,
  checkWritable,
  choiceFlag,
  intFlag,
  onInterrupt,
  parseFlags,
  printUsage,
  reportError,
  runCli,
  UsageError,
} from "./args.ts";

const USAGE = `usage: deno task evaluate --input eval.xlsx --out answers.xlsx
         (--task ID [--base-model NAME --size N] | --model NAME | --openai-url URL --openai-model NAME)
         [--concurrency N] [--rpm N] [--resume] [--repeats N] [--journal PATH] [--api v1|v3]
         [--label L] [--timeout-ms MS] [--max-attempts N] [--emulator [--emulator-latency MS] [--emulator-no-rate-limits]]

  --input PATH        prompt sheet (.xlsx, or .csv) with "system" and "user" columns
  --out PATH          result sheet (.xlsx): system, user, role, content, latency, tokens, error, …
  --journal PATH      answer journal, one JSON line per answer (default: --out with .jsonl)
  --task ID           a CLOVA Studio tuned task (v1 body by default; --api v3 for v3 tasks)
  --base-model NAME   the model the task was tuned from (recorded; label becomes NAME@SIZE)
  --size N            the task's tuning-set size (recorded)
  --model NAME        a CLOVA Studio base model, e.g. HCX-003
  --openai-url URL    an OpenAI-compatible base URL (…/v1); key from $OPENAI_API_KEY if set
  --openai-model NAME the model name sent to it
  --openai-key-env V  env variable holding the bearer key (default OPENAI_API_KEY)
  --concurrency N     requests in flight (default ${DEFAULT_RUN_CONFIG.concurrency})
  --rpm N             request starts per minute, retries included (default: no limit)
  --repeats N         answers per prompt (default 1), each a separate sample: repeat r is sent
                      with seed --seed + r
  --seed N            sampling seed of the first repeat (default 1)
  --resume            continue the journal: skip answered prompts, retry failed ones
  --label L           answer label (default: model, model@size, task-ID)
  --timeout-ms MS     per-request timeout (default 120000); timeouts are retried
  --max-attempts N    attempts per prompt incl. retries (default ${DEFAULT_RUN_CONFIG.maxAttempts})
  --emulator          start a local CLOVA Studio emulator and answer there (no credentials
                      needed). It tunes nothing: --model NAME answers with the emulator's
                      reference learner for NAME; --task ID must name a task that exists in that
                      emulator, so for tuned answers use notebooks/03 or the reproduce pipeline.
                      --openai-model without --openai-url uses the emulator's /v1/openai.
                      It keeps the service's test-key rate limits (HCX-003: 200 QPM, 30,000 TPM),
                      so 100 prompts take about a minute; the progress line says when it waits.
  --emulator-latency MS  mean injected latency for --emulator (default 0)
  --emulator-no-rate-limits  switch off the emulator's per-model QPM/TPM limits (100 prompts
                      then take about a second)

Credentials (CLOVA): CLOVA_STUDIO_API_KEY, or CLOVA_STUDIO_APP_KEY + CLOVA_STUDIO_APIGW_KEY, or
CLOVA_STUDIO_CLIENT_ID + CLOVA_STUDIO_CLIENT_SECRET; CLOVA_STUDIO_HOST overrides the host.`;

const OPTIONS = {
  input: { type: "string" },
  out: { type: "string" },
  journal: { type: "string" },
  task: { type: "string" },
  "base-model": { type: "string" },
  size: { type: "string" },
  model: { type: "string" },
  "openai-url": { type: "string" },
  "openai-model": { type: "string" },
  "openai-key-env": { type: "string" },
  concurrency: { type: "string" },
  rpm: { type: "string" },
  repeats: { type: "string" },
  seed: { type: "string" },
  resume: { type: "boolean" },
  api: { type: "string" },
  label: { type: "string" },
  "timeout-ms": { type: "string" },
  "max-attempts": { type: "string" },
  emulator: { type: "boolean" },
  "emulator-latency": { type: "string" },
  "emulator-no-rate-limits": { type: "boolean" },
} as const;

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

/** Parses flags and runs the evaluation; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const values = parseFlags(args, OPTIONS);
  if (values.help) return printUsage(USAGE);
  const { input, out } = values;
  if (!input || !out) throw new UsageError("--input and --out are required");
  const targets = [values.task, values.model, values["openai-model"]].filter((v) => v);
  if (targets.length !== 1) {
    throw new UsageError("give exactly one of --task, --model or --openai-model");
  }
  if (values["openai-model"] && !values["openai-url"] && !values.emulator) {
    throw new UsageError("--openai-model needs --openai-url (or --emulator)");
  }
  const api = choiceFlag("api", values.api, ["v1", "v3"]);
  const concurrency = intFlag("concurrency", values.concurrency, {
    limit: { max: MAX_CONCURRENCY, why: "requests in flight" },
  }) ??
    DEFAULT_RUN_CONFIG.concurrency;
  const rpm = intFlag("rpm", values.rpm);
  const repeats = intFlag("repeats", values.repeats, {
    limit: { max: MAX_ANSWERS, why: "the rows of one XLSX result sheet" },
  }) ?? 1;
  const seed = intFlag("seed", values.seed);
  const timeoutMs = intFlag("timeout-ms", values["timeout-ms"]);
  const maxAttempts = intFlag("max-attempts", values["max-attempts"]);
  const size = intFlag("size", values.size, { min: 0 });
  const latency = intFlag("emulator-latency", values["emulator-latency"], { min: 0 }) ?? 0;
  await checkWritable("out", out);
  if (!/\.xlsx$/i.test(out)) throw new UsageError(`--out ${out}: the result sheet is an .xlsx`);
  const journalPath = values.journal ?? out.replace(/\.xlsx$/i, "") + ".jsonl";
  await checkWritable("journal", journalPath);
  await checkInput("input", input);
  const { openPromptSheet } = await import("../answers/mod.ts");
  const prompts = openPromptSheet(input);
  // Asked countries must be countries (checked with every prompt before the first request).
  const { getTaxonomy } = await import("../countries/mod.ts");
  const taxonomy = getTaxonomy("un");
  const known = new Map<string, boolean>();
  const check = (p: { id: string; countries: readonly string[] }, index: number) => {
    // One result sheet row per answer: prompts × repeats must fit an XLSX sheet.
    if ((index + 1) * repeats > MAX_ANSWERS) {
      throw new Error(
        `--repeats ${repeats}: ${input} has over ${Math.floor(MAX_ANSWERS / repeats)} prompts, ` +
          `and a result sheet holds at most ${MAX_ANSWERS.toLocaleString("en")} answers`,
      );
    }
    for (const c of p.countries) {
      let ok = known.get(c);
      if (ok === undefined) known.set(c, ok = taxonomy.resolve(c)?.kind === "country");
      if (!ok) {
        throw new Error(`${input}: prompt ${p.id} asks an unknown country ${JSON.stringify(c)}`);
      }
    }
  };

  const { acquireLock } = await import("../io/mod.ts");
  const command = `deno task evaluate ${args.join(" ")}`;
  // A journal inside a run folder (`<run>/answers/<label>.jsonl`) is the run's too: its lock is
  // taken as well, so this never writes beside a `reproduce` of that run, whatever its stage.
  const answersDir = parentOf(resolve(journalPath));
  const runDir = parentOf(answersDir);
  const inRun = basename(answersDir) === "answers" &&
    await Deno.stat(join(runDir, RUN_FILES.run)).then(() => true, () => false);
  const runLock = inRun ? await acquireLock(join(runDir, RUN_FILES.lock), command) : undefined;
  const lock = await acquireLock(`${journalPath}.lock`, command).catch(async (e) => {
    await runLock?.release();
    throw e;
  });
  let emulator: { url: string; close(): Promise<void> } | undefined;
  try {
    const { clovaOptionsFromEnv } = await import("../backends/clova/mod.ts");
    const providers = await import("../answers/mod.ts");
    let clova: import("../backends/clova/mod.ts").ClovaClientOptions | undefined;
    if (values.emulator) {
      const { startEmulatorWorker } = await import("./emulatorWorker.ts");
      const apiKey = `nv-emulator-${crypto.randomUUID()}`;
      emulator = await startEmulatorWorker({
        credentials: { apiKeys: [apiKey] },
        ...(latency > 0 ? { latency: { meanMs: latency, jitterMs: latency / 4 } } : {}),
        ...(values["emulator-no-rate-limits"] ? { rateLimits: false as const } : {}),
        quiet: true,
      });
      console.error(
        `emulator: ${emulator.url} (reference learner, not CLOVA Studio; ` +
          (values["emulator-no-rate-limits"]
            ? "rate limits off)"
            : "the service's test-key rate limits: --emulator-no-rate-limits lifts them)"),
      );
      clova = { baseUrl: emulator.url, auth: { kind: "api-key", apiKey } };
    } else if (!values["openai-model"]) {
      clova = clovaOptionsFromEnv();
      if (!clova) {
        throw new Error(
          "no CLOVA Studio credentials found. Set CLOVA_STUDIO_API_KEY (or CLOVA_STUDIO_APP_KEY + " +
            "CLOVA_STUDIO_APIGW_KEY, or CLOVA_STUDIO_CLIENT_ID + CLOVA_STUDIO_CLIENT_SECRET) in " +
            "the environment or in .env — or pass --emulator to answer with the local emulator.",
        );
      }
    }
    const provider = values.task
      ? new providers.ClovaTunedTaskProvider({
        client: clova!,
        taskId: values.task!,
        model: values["base-model"],
        size,
        api,
        label: values.label,
      })
      : values.model
      ? new providers.ClovaBaseModelProvider({
        client: clova!,
        model: values.model!,
        api,
        label: values.label,
      })
      : new providers.OpenAICompatibleProvider({
        baseUrl: values["openai-url"] ?? `${emulator!.url}/v1/openai`,
        model: values["openai-model"]!,
        apiKey: values.emulator && !values["openai-url"]
          ? (clova?.auth as { apiKey: string }).apiKey
          : undefined,
        apiKeyEnv: values["openai-key-env"],
        label: values.label,
        size,
      });

    const { EvaluationAbortedError, evaluateSheet, summarizeResult } = await import(
      "../answers/mod.ts"
    );
    const stop = new AbortController();
    const removeHandler = onInterrupt(() => {
      console.error(
        "\nstopping: no new requests; waiting for the ones in flight (Ctrl-C again to quit now)",
      );
      stop.abort();
    });
    const again = args.includes("--resume") ? [...args] : [...args, "--resume"];
    const resumeCommand = `deno task evaluate ${again.map(quoteArg).join(" ")}`;
    let result;
    try {
      result = await evaluateSheet({
        prompts,
        provider,
        journalPath,
        concurrency,
        rpm,
        repeats,
        resume: values.resume === true,
        check,
        requestTimeoutMs: timeoutMs,
        maxAttempts,
        ...(seed !== undefined ? { params: { seed } } : {}),
        signal: stop.signal,
      });
    } catch (e) {
      // Credentials refused, an unknown task, or the service unreachable: said in one line,
      // with the command that continues the journal once it is fixed.
      if (!(e instanceof EvaluationAbortedError)) throw e;
      const code = reportError("evaluate", USAGE, e);
      console.error(`resume with: ${resumeCommand}`);
      return code;
    } finally {
      removeHandler();
    }
    // Every answer is in: the emulator (a worker with its own heap) is let go before the result
    // sheet is written, so the two never hold memory at once.
    await emulator?.close();
    emulator = undefined;
    console.error(summarizeResult(result));
    if (!result.complete) {
      console.error(
        `interrupted: ${result.missing} answer(s) still to do; journal ${journalPath}\n` +
          `resume with: ${resumeCommand}`,
      );
      return 130;
    }
    const { writeAnswerSheet } = await import("../answers/mod.ts");
    const { journalRecords } = await import("../answers/mod.ts");
    const rows = await writeAnswerSheet(
      out,
      journalRecords(result.journal, { prompts: result.prompts, repeats: result.repeats }),
      { journal: journalPath },
    );
    console.error(`wrote ${out} (${rows} rows) and journal ${journalPath}`);
    if (result.failed > 0) {
      console.error(
        `${result.failed} row(s) failed permanently (see the error column); rerun with ` +
          `--resume to retry only those.`,
      );
      return 3;
    }
    return 0;
  } finally {
    await emulator?.close();
    await lock.release();
    await runLock?.release();
  }
}

if (import.meta.main) await runCli("evaluate", USAGE, main);
