/**
 * The run's spec apart from its runtime knobs: what a run measures (task, models, sizes, seeds,
 * backend and its models, sampling) is fixed and checked on resume; how it runs (concurrency,
 * rpm, attempts) may change. The backend is recorded as what it is, models are checked against it
 * before a run folder exists, and a backend's defaults come from the library, so a notebook and
 * the CLI plan the same run.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { join } from "node:path";
import { main, parseReproduceArgs } from "../lib/cli/reproduce.ts";
import { BACKEND_MODELS, LOCAL_MODEL_NAMES } from "../lib/backends/mod.ts";
import {
  PipelineError,
  planRun,
  readRunFile,
  readTasks,
  runPipeline,
  StoppedError,
} from "../lib/mod.ts";

const OFFLINE = { CLOVA_STUDIO_API_KEY: "", CLOVASTUDIO_API_KEY: "" };

async function inTempDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "run_spec_test_" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Starts a run and stops it (as Ctrl-C does) as soon as its folder exists; returns its id. */
async function stoppedRun(
  resultsDir: string,
  options: Parameters<typeof runPipeline>[0],
): Promise<string> {
  const controller = new AbortController();
  let runId = "";
  await rejects(
    runPipeline({
      ...options,
      resultsDir,
      env: OFFLINE,
      progress: "silent",
      log: () => {},
      signal: controller.signal,
      onRunFolder: (id) => {
        runId = id;
        controller.abort();
      },
    }),
    StoppedError,
  );
  assert(runId, "the run made its folder before it stopped");
  return runId;
}

/** An error in one line (after it, at most the command that resumes the kept run). */
function assertOneLine(out: string[]): void {
  assert(
    out.length >= 1 && out.slice(1).every((l) => l.startsWith("resume with: ")),
    out.join("\n"),
  );
}

/** `reproduce --resume` of run `id` under `results`, with more flags. */
const resume = (results: string, id: string, flags: string) =>
  reproduce(["--resume", "--run", id, "--results", results, ...flags.split(" ")]);

/** Runs the reproduce CLI in this process with its console output captured. */
async function reproduce(args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const saved = { log: console.log, error: console.error };
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => out.push(a.join(" "));
  try {
    return { code: await main(args), out };
  } finally {
    Object.assign(console, saved);
  }
}

Deno.test("reproduce --resume --concurrency 2 --rpm 30 continues a stopped run with the new knobs", async () => {
  await inTempDir(async (results) => {
    const id = await stoppedRun(results, {
      backend: "emulator",
      config: { models: ["HCX-003"], sizes: [50], evalPrompts: 2 },
    });
    assertEquals((await readRunFile(join(results, id))).config.rpm, undefined);
    const { code, out } = await resume(results, id, "--concurrency 2 --rpm 30 --quiet");
    assertEquals(code, 0, out.join("\n"));
    const file = await readRunFile(join(results, id));
    assertEquals([file.config.concurrency, file.config.rpm], [2, 30]);
    assertEquals((await readTasks(join(results, id))).map((t) => t.status), ["SUCCEEDED"]);
    assert(out.some((l) => l.startsWith("report: ")), out.join("\n"));
    // The spec is still fixed: another seed is refused, in one line naming the flag.
    const other = await resume(results, id, "--seed 7");
    assertEquals(other.code, 1);
    assertOneLine(other.out);
    assert(/seed 2024, not 7; resume it without --seed/.test(other.out[0]), other.out[0]);
  });
});

Deno.test("a local run is recorded as local and resumed on it without --backend; --backend emulator is refused naming the flag", async () => {
  await inTempDir(async (results) => {
    const id = await stoppedRun(results, {
      backend: "local",
      config: { models: ["local-250k"], sizes: [50], evalPrompts: 2 },
    });
    const dir = join(results, id);
    assertEquals((await readRunFile(dir)).backend.kind, "local");

    const lines: string[] = [];
    const controller = new AbortController();
    await rejects(
      runPipeline({
        resume: true,
        runId: id,
        resultsDir: results,
        env: OFFLINE,
        progress: "silent",
        log: (l) => lines.push(l),
        signal: controller.signal,
        onRunFolder: () => controller.abort(),
      }),
      StoppedError,
    );
    assert(lines.some((l) => /^backend: .*local neural models/.test(l)), lines.join("\n"));

    const { code, out } = await resume(results, id, "--backend emulator --quiet");
    assertEquals(code, 1);
    assertOneLine(out);
    assert(/ran on the local backend, not emulator; resume it with --backend local/.test(out[0]));
  });
});

Deno.test("--models local-1m --backend emulator is refused in one line before any folder is written", async () => {
  await inTempDir(async (results) => {
    const { code, out } = await reproduce([
      "--models",
      "local-1m",
      "--backend",
      "emulator",
      "--results",
      results,
      "--quiet",
    ]);
    assertEquals(code, 1);
    assertEquals(out.length, 1, out.join("\n"));
    assert(/--models local-1m: the emulator backend tunes HCX-003/.test(out[0]), out[0]);
    assert(/need --backend local/.test(out[0]), out[0]);
    assertEquals([...Deno.readDirSync(results)], []);
    await rejects(
      runPipeline({ backend: "local", config: { models: ["HCX-003"] }, resultsDir: results }),
      (e: Error) =>
        e instanceof PipelineError && /the local backend tunes local-1m/.test(e.message),
    );
    assertEquals([...Deno.readDirSync(results)], []);
  });
});

Deno.test("runPipeline({ backend: 'local' }) plans what `deno task reproduce --backend local` runs", async () => {
  const fromLibrary = await planRun({ backend: "local" });
  const args = parseReproduceArgs(["--backend", "local"]);
  const fromCli = await planRun({ config: args.config, backend: args.backend });
  assertEquals(fromCli, fromLibrary);
  assertEquals(fromLibrary.backend, "local");
  assertEquals(fromLibrary.config.models, [...LOCAL_MODEL_NAMES]);
  assertEquals(fromLibrary.config.sizes, [...BACKEND_MODELS.local.defaultSizes]);
  // and the emulator's plan is the cookbook's, with the same seed
  const emulator = await planRun({ backend: "emulator" });
  assertEquals(emulator.config.models, [...BACKEND_MODELS.emulator.defaultModels]);
  assertEquals(emulator.config.seed, fromLibrary.config.seed);
});

Deno.test("the backends' model lists agree with the models the emulator serves", async () => {
  const { MODELS } = await import("../lib/backends/emulator/mod.ts");
  const tunable = Object.values(MODELS).filter((m) => m.tunable);
  assertEquals(
    tunable.filter((m) => m.engine !== "local").map((m) => m.name),
    [...BACKEND_MODELS.emulator.tunable],
  );
  assertEquals(
    tunable.filter((m) => m.engine === "local").map((m) => m.name),
    [...BACKEND_MODELS.local.tunable],
  );
});
