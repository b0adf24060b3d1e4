/**
 * `deno task evaluate --input eval.xlsx --out answers.xlsx (--task ID | --model NAME |
 * --openai-url URL --openai-model NAME) [--concurrency N] [--rpm N] [--resume] [--repeats N]
 * [--journal PATH] [--api v1|v3] [--label L] [--emulator]`
 *
 * Answers a prompt sheet (the cookbook's `system`/`user` columns) and writes the cookbook-style
 * result sheet; every answer is first journaled to `--journal` (default: `--out` with `.jsonl`).
 * Ctrl-C stops taking new work, waits for the requests in flight, and prints the `--resume`
 * command; a second Ctrl-C quits at once (the journal is safe either way).
 *
 * Exit codes: 0 all answered; 3 finished but some rows failed permanently (listed, and in the
 * sheet's `error` column; `--resume` retries them); 130 interrupted; 1 error; 2 usage.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readPromptSheet, SheetError } from "../dataset.ts";
import { type ClovaClientOptions, clovaOptionsFromEnv } from "../clova/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import {
  type ChatProvider,
  ClovaBaseModelProvider,
  ClovaTunedTaskProvider,
  OpenAICompatibleProvider,
} from "../providers.ts";
import {
  evaluateSheet,
  EvaluationAbortedError,
  JournalExistsError,
  JournalMismatchError,
  summarizeResult,
} from "../evaluate.ts";
import { writeAnswerSheet } from "../answerSheet.ts";

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
  --concurrency N     requests in flight (default 4)
  --rpm N             request starts per minute, retries included (default: no limit)
  --repeats N         answers per prompt (default 1), keyed by (prompt_id, repeat)
  --resume            continue the journal: skip answered prompts, retry failed ones
  --label L           answer label (default: model, model@size, task-ID)
  --timeout-ms MS     per-request timeout (default 120000); timeouts are retried
  --max-attempts N    attempts per prompt incl. retries (default 6)
  --emulator          start a local CLOVA Studio emulator and answer there (no credentials
                      needed). It tunes nothing: --model NAME answers with the emulator's
                      reference learner for NAME; --task ID must name a task that exists in that
                      emulator, so for tuned answers use notebooks/03 or the reproduce pipeline.
                      --openai-model without --openai-url uses the emulator's /v1/openai.
  --emulator-latency MS  mean injected latency for --emulator (default 0)
  --emulator-no-rate-limits  switch off the emulator's per-model QPM/TPM limits (on by default,
                      with the service's test-key values: HCX-003 200 QPM / 30,000 TPM)

Credentials (CLOVA): CLOVA_STUDIO_API_KEY, or CLOVA_STUDIO_APP_KEY + CLOVA_STUDIO_APIGW_KEY, or
CLOVA_STUDIO_CLIENT_ID + CLOVA_STUDIO_CLIENT_SECRET; CLOVA_STUDIO_HOST overrides the host.`;

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

function positiveInt(name: string, v: string | undefined, fallback?: number): number | undefined {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

class UsageError extends Error {}

/** Parses flags and runs the evaluation; returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
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
        resume: { type: "boolean", default: false },
        api: { type: "string" },
        label: { type: "string" },
        "timeout-ms": { type: "string" },
        "max-attempts": { type: "string" },
        emulator: { type: "boolean", default: false },
        "emulator-latency": { type: "string" },
        "emulator-no-rate-limits": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : err}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }

  let concurrency, rpm, repeats, timeoutMs, maxAttempts, size, latency;
  try {
    if (!values.input || !values.out) throw new UsageError("--input and --out are required");
    const targets = [values.task, values.model, values["openai-model"]].filter((v) => v);
    if (targets.length !== 1) {
      throw new UsageError("give exactly one of --task, --model or --openai-model");
    }
    if (values["openai-model"] && !values["openai-url"] && !values.emulator) {
      throw new UsageError("--openai-model needs --openai-url (or --emulator)");
    }
    if (values.api && values.api !== "v1" && values.api !== "v3") {
      throw new UsageError("--api must be v1 or v3");
    }
    concurrency = positiveInt("concurrency", values.concurrency, 4);
    rpm = positiveInt("rpm", values.rpm);
    repeats = positiveInt("repeats", values.repeats, 1);
    timeoutMs = positiveInt("timeout-ms", values["timeout-ms"]);
    maxAttempts = positiveInt("max-attempts", values["max-attempts"]);
    size = values.size === undefined ? undefined : Number(values.size);
    if (size !== undefined && !(Number.isInteger(size) && size >= 0)) {
      throw new UsageError("--size must be a whole number");
    }
    latency = values["emulator-latency"] === undefined ? 0 : Number(values["emulator-latency"]);
    if (!(latency >= 0)) throw new UsageError("--emulator-latency must be ≥ 0");
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  const input = values.input!;
  const out = values.out!;
  const journalPath = values.journal ?? out.replace(/\.xlsx$/i, "") + ".jsonl";

  let prompts;
  try {
    prompts = await readPromptSheet(input);
  } catch (err) {
    if (err instanceof SheetError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }

  let emulator: Awaited<ReturnType<typeof startEmulator>> | undefined;
  try {
    let clova: ClovaClientOptions | undefined;
    if (values.emulator) {
      const apiKey = `nv-emulator-${crypto.randomUUID()}`;
      emulator = await startEmulator({
        credentials: { apiKeys: [apiKey] },
        ...(latency > 0 ? { latency: { meanMs: latency, jitterMs: latency / 4 } } : {}),
        ...(values["emulator-no-rate-limits"] ? { rateLimits: false as const } : {}),
        quiet: true,
      });
      console.error(`emulator: ${emulator.url} (reference learner, not CLOVA Studio)`);
      clova = { baseUrl: emulator.url, auth: { kind: "api-key", apiKey } };
    } else if (!values["openai-model"]) {
      clova = clovaOptionsFromEnv();
      if (!clova) {
        console.error(
          "No CLOVA Studio credentials found. Set CLOVA_STUDIO_API_KEY (or CLOVA_STUDIO_APP_KEY + " +
            "CLOVA_STUDIO_APIGW_KEY, or CLOVA_STUDIO_CLIENT_ID + CLOVA_STUDIO_CLIENT_SECRET) in the " +
            "environment or in .env — or pass --emulator to answer with the local emulator.",
        );
        return 1;
      }
    }
    const api = values.api as "v1" | "v3" | undefined;
    let provider: ChatProvider;
    if (values.task) {
      provider = new ClovaTunedTaskProvider({
        client: clova!,
        taskId: values.task,
        model: values["base-model"],
        size,
        api,
        label: values.label,
      });
    } else if (values.model) {
      provider = new ClovaBaseModelProvider({
        client: clova!,
        model: values.model,
        api,
        label: values.label,
      });
    } else {
      provider = new OpenAICompatibleProvider({
        baseUrl: values["openai-url"] ?? `${emulator!.url}/v1/openai`,
        model: values["openai-model"]!,
        apiKey: values.emulator && !values["openai-url"]
          ? (clova?.auth as { apiKey: string }).apiKey
          : undefined,
        apiKeyEnv: values["openai-key-env"],
        label: values.label,
        size,
      });
    }

    const stop = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        console.error(
          "\nstopping: no new requests; waiting for the ones in flight (Ctrl-C again to quit now)",
        );
        stop.abort();
      } else {
        console.error("\nquitting; the journal holds every answer received so far");
        Deno.exit(130);
      }
    };
    Deno.addSignalListener("SIGINT", onSigint);
    let result;
    try {
      result = await evaluateSheet({
        prompts,
        provider,
        journalPath,
        concurrency,
        rpm,
        repeats,
        resume: values.resume,
        requestTimeoutMs: timeoutMs,
        retry: maxAttempts ? { maxAttempts } : undefined,
        signal: stop.signal,
      });
    } finally {
      Deno.removeSignalListener("SIGINT", onSigint);
    }
    console.error(summarizeResult(result));
    if (!result.complete) {
      const again = args.includes("--resume") ? [...args] : [...args, "--resume"];
      console.error(
        `interrupted: ${result.missing.length} answer(s) still to do; journal ${journalPath}\n` +
          `resume with: deno task evaluate ${again.map(quoteArg).join(" ")}`,
      );
      return 130;
    }
    await writeAnswerSheet(out, result.records);
    console.error(`wrote ${out} (${result.records.length} rows) and journal ${journalPath}`);
    if (result.failures.length > 0) {
      console.error(
        `${result.failures.length} row(s) failed permanently (see the error column); rerun with ` +
          `--resume to retry only those.`,
      );
      return 3;
    }
    return 0;
  } catch (err) {
    if (
      err instanceof JournalExistsError || err instanceof JournalMismatchError ||
      err instanceof EvaluationAbortedError
    ) {
      console.error(err.message);
      return 1;
    }
    throw err;
  } finally {
    await emulator?.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
