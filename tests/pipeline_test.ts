/**
 * The whole experiment end to end: `deno task reproduce` as a real subprocess on the embedded
 * default (emulator over HTTP on 127.0.0.1), its report opened in headless Chromium, a resumed run
 * that pays for nothing twice and rewrites nothing, re-scoring and the notebooks leaving the
 * report byte for byte as it was, Ctrl-C during tuning and during answering, and the CLOVA Studio
 * backend path (credentials from the environment) with its confirmation.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { join } from "node:path";
import { BASE_MODELS, TUNING_SIZES } from "../lib/cookbook.ts";
import { readJournal, scanJournal } from "../lib/answers/journal.ts";
import { readScoresCsv, scoresToCsv } from "../lib/scoring/score.ts";
import { startEmulator } from "../lib/backends/emulator/mod.ts";
import {
  analyzeRun,
  readDatasets,
  readRunFile,
  readSummary,
  readTasks,
  runPipeline,
  StoppedError,
} from "../lib/mod.ts";
import { checkReportInBrowser } from "./helpers/browser.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const ENV = { NO_COLOR: "1", CLOVA_STUDIO_API_KEY: "", CLOVASTUDIO_API_KEY: "" };
const dec = new TextDecoder();

/** Runs `deno task <task> <args>` from the repository root and returns its exit code and output. */
async function denoTask(
  task: string,
  args: string[],
  env: Record<string, string> = ENV,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", task, ...args],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const reproduce = (args: string[]) => denoTask("reproduce", args);

async function journalLines(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const e of Deno.readDir(join(dir, "answers"))) {
    if (!e.name.endsWith(".jsonl")) continue;
    const text = await Deno.readTextFile(join(dir, "answers", e.name));
    out.set(e.name, text.split("\n").filter((l) => l.trim()).length);
  }
  return out;
}

async function mtimes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for await (const e of Deno.readDir(dir)) {
    out[e.name] = (await Deno.stat(join(dir, e.name))).mtime!.getTime();
  }
  return out;
}

/** Tasks the emulator (the "service") holds: one file per task in its state folder. */
async function serviceTasks(dir: string): Promise<number> {
  let n = 0;
  for await (const _ of Deno.readDir(join(dir, "emulator-state", "tasks"))) n++;
  return n;
}

Deno.test("deno task reproduce: the cookbook's experiment offline, report opens in Chromium, resume pays and rewrites nothing", async () => {
  const results = await Deno.makeTempDir({ prefix: "reproduce-" });
  try {
    const first = await reproduce(["--results", results, "--quiet"]);
    assertEquals(first.code, 0, first.stderr + first.stdout);
    const reportPath = first.stdout.match(/^report: (.+)$/m)?.[1];
    assert(reportPath, first.stdout);
    const dir = reportPath.replace(/\/report\.html$/, "");

    const run = await readRunFile(dir);
    assertEquals(run.backend.kind, "emulator");
    assertEquals(run.config.sizes, [...TUNING_SIZES]);
    const datasets = await readDatasets(dir);
    assertEquals(datasets.length, TUNING_SIZES.length + 1);
    for (const d of datasets) await Deno.stat(join(dir, d.file));

    const tasks = await readTasks(dir);
    assertEquals(tasks.length, BASE_MODELS.length * TUNING_SIZES.length);
    assert(tasks.every((t) => t.status === "SUCCEEDED" && typeof t.trainLoss === "number"));

    const labels = BASE_MODELS.length * (TUNING_SIZES.length + 1);
    const lines = await journalLines(dir);
    assertEquals(lines.size, labels);
    assert([...lines.values()].every((n) => n === 100), JSON.stringify([...lines]));
    for (const name of lines.keys()) {
      await Deno.stat(join(dir, "answers", name.replace(/\.jsonl$/, ".xlsx")));
    }
    assertEquals((await readScoresCsv(join(dir, "scores.csv"))).length, labels * 100);
    const summary = await readSummary(dir);
    assertEquals(summary.answers, labels * 100);
    assertEquals(summary.bySize.length, labels);

    const html = await Deno.readTextFile(reportPath);
    assert(html.includes("reference learner"), "the report names the backend's model");
    for (const id of ["curves", "paired", "steps", "planning", "countries", "cost"]) {
      assert(html.includes(`<section id="${id}">`), `statistics section ${id}`);
    }
    const tokens = JSON.parse(await Deno.readTextFile(join(dir, "tokens.json")));
    assertEquals(tokens.exact, true);
    assertEquals(tokens.training.length, BASE_MODELS.length * TUNING_SIZES.length);
    // per model: the three cookbook-style charts, the learning curve, worst countries, confusion
    const check = await checkReportInBrowser(reportPath, BASE_MODELS.length * 6);
    assertEquals(check.problems, []);

    // Resuming a finished run creates no task, answers nothing again, rewrites no dataset and
    // gives the same report.
    const datasetTimes = await mtimes(join(dir, "datasets"));
    const again = await reproduce(["--results", results, "--resume", "--quiet"]);
    assertEquals(again.code, 0, again.stderr + again.stdout);
    assertEquals((await readTasks(dir)).map((t) => t.taskId), tasks.map((t) => t.taskId));
    assertEquals(await serviceTasks(dir), tasks.length);
    assertEquals(await journalLines(dir), lines);
    assertEquals(await mtimes(join(dir, "datasets")), datasetTimes);
    assertEquals(await Deno.readTextFile(reportPath), html);
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});

Deno.test("reproduce, then score --run, then notebooks: report.html unchanged byte for byte, datasets shown", async () => {
  const results = await Deno.makeTempDir({ prefix: "rescore-" });
  const exports = await Deno.makeTempDir({ prefix: "notebooks-" });
  try {
    const first = await reproduce([
      "--results",
      results,
      "--run",
      "r",
      "--sizes",
      "50,100",
      "--prompts",
      "20",
      "--quiet",
    ]);
    assertEquals(first.code, 0, first.stderr);
    const dir = join(results, "r");
    const report = await Deno.readFile(join(dir, "report.html"));
    const html = dec.decode(report);
    assert(html.includes("datasets/train_100.csv") && html.includes("datasets/eval.xlsx"));
    assert(!html.includes("데이터셋 정보 없음"), "the dataset section is filled");

    const score = await denoTask("score", ["--run", dir]);
    assertEquals(score.code, 0, score.stderr);
    assertEquals(await Deno.readFile(join(dir, "report.html")), report);

    const nb = await denoTask("notebooks", ["--only", "05", "--out", exports], {
      ...ENV,
      RESULTS_DIR: results,
      RUN_ID: "r",
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
    });
    const log = nb.stdout + nb.stderr;
    assertEquals(nb.code, 0, log);
    assert(log.includes("notebooks: 1 passed, 0 failed"), log);
    assertEquals(await Deno.readFile(join(dir, "report.html")), report);
  } finally {
    await Deno.remove(results, { recursive: true });
    await Deno.remove(exports, { recursive: true });
  }
});

Deno.test("an interrupted run resumes: tasks reused from the emulator's state, every prompt answered once", async () => {
  const results = await Deno.makeTempDir({ prefix: "resume-" });
  const config = {
    models: ["HCX-003"],
    sizes: [50, 100],
    evalPrompts: 20,
    concurrency: 1,
    rpm: 600,
  };
  try {
    const controller = new AbortController();
    // Stop once the first journal holds a few answers.
    const watcher = setInterval(async () => {
      try {
        for await (const e of Deno.readDir(join(results, "r1", "answers"))) {
          if (!e.name.endsWith(".jsonl")) continue;
          const text = await Deno.readTextFile(join(results, "r1", "answers", e.name));
          if (text.split("\n").filter(Boolean).length >= 5) controller.abort();
        }
      } catch { /* not there yet */ }
    }, 20);
    await rejects(
      runPipeline({
        config,
        resultsDir: results,
        runId: "r1",
        progress: "silent",
        signal: controller.signal,
        log: () => {},
      }),
      StoppedError,
    );
    clearInterval(watcher);
    const dir = join(results, "r1");
    const tasksBefore = (await readTasks(dir)).map((t) => t.taskId);
    const partial = await journalLines(dir);
    assert([...partial.values()].some((n) => n > 0 && n < 20), JSON.stringify([...partial]));

    // A resumed run keeps its saved config; the options need not be given again.
    const resumed = await runPipeline({
      resultsDir: results,
      runId: "r1",
      resume: true,
      progress: "silent",
      log: () => {},
    });
    assertEquals(resumed.tasks.map((t) => t.taskId), tasksBefore);
    for (const label of ["HCX-003", "HCX-003@50", "HCX-003@100"]) {
      const records = await readJournal(join(dir, "answers", `${label}.jsonl`));
      const ids = records.map((r) => r.prompt.id);
      assertEquals(ids.length, 20, label);
      assertEquals(new Set(ids).size, 20, label);
      assert(records.every((r) => r.text !== null), label);
    }
    assertEquals(resumed.analysis.summary.answers, 60);
    // Asking for another config on resume is refused, naming the field.
    await rejects(
      runPipeline({
        config: { sizes: [50] },
        resultsDir: results,
        runId: "r1",
        resume: true,
        progress: "silent",
        log: () => {},
      }),
      /sizes \[50,100\], not \[50\]/,
    );
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});

Deno.test("analyzeRun re-scores a run from its journals alone, with the same files, into another folder too", async () => {
  const results = await Deno.makeTempDir({ prefix: "rescore-" });
  try {
    const run = await runPipeline({
      config: { models: ["HCX-DASH-001"], sizes: [50], evalPrompts: 20 },
      resultsDir: results,
      runId: "r",
      progress: "silent",
      log: () => {},
    });
    const files = ["scores.csv", "summary.json", "report.html"];
    const before = await Promise.all(files.map((f) => Deno.readTextFile(join(run.dir, f))));
    for (const f of files) await Deno.remove(join(run.dir, f));
    const analysis = await analyzeRun(run.dir);
    assertEquals(await Promise.all(files.map((f) => Deno.readTextFile(join(run.dir, f)))), before);
    // The answers it scored, each once, are the records scores.csv and summary.json came from.
    assertEquals(analysis.answers.length, analysis.summary.answers);
    assertEquals(scoresToCsv(analysis.answers), before[0]);
    // Into another folder: the same files there, nothing written into the run.
    const other = join(results, "elsewhere");
    const times = await mtimes(run.dir);
    await analyzeRun(run.dir, { outDir: other });
    assertEquals(await Promise.all(files.map((f) => Deno.readTextFile(join(other, f)))), before);
    assertEquals(await mtimes(run.dir), times);
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});

/** Starts `reproduce` as a child; resolves its output. */
function spawnReproduce(args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/reproduce.ts", ...args],
    cwd: ROOT,
    env: ENV,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function waitFor(what: string, test: () => Promise<boolean>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await test().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function checkOneLine(stderr: string, runId: string) {
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  assertEquals(lines.length, 1, stderr);
  assert(lines[0].startsWith("interrupted:"), lines[0]);
  assert(lines[0].includes(`--resume --run ${runId}`), lines[0]);
  assert(!/Error|^\s+at /m.test(stderr), stderr);
}

Deno.test("Ctrl-C during tuning and during answering: exit 130, one line; --resume answers every prompt once and creates no task twice", async () => {
  const results = await Deno.makeTempDir({ prefix: "sigint-" });
  const common = ["--results", results, "--models", "HCX-003", "--no-base", "--quiet"];
  try {
    // During tuning: the 10,000-row task runs for about a second on the emulator.
    const t = spawnReproduce([...common, "--run", "t", "--sizes", "50,10000", "--prompts", "10"]);
    const tDir = join(results, "t");
    await waitFor("two tasks created", async () => (await readTasks(tDir)).length === 2);
    const statuses = (await readTasks(tDir)).map((x) => x.status);
    assert(statuses.some((s) => s !== "SUCCEEDED"), `tuning already over: ${statuses}`);
    t.kill("SIGINT");
    const tOut = await t.output();
    assertEquals(tOut.code, 130, dec.decode(tOut.stderr));
    checkOneLine(dec.decode(tOut.stderr), "t");
    const tasksBefore = (await readTasks(tDir)).map((x) => x.taskId);

    const tResumed = await reproduce([...common.slice(0, 2), "--resume", "--run", "t", "--quiet"]);
    assertEquals(tResumed.code, 0, tResumed.stderr);
    assertEquals((await readTasks(tDir)).map((x) => x.taskId), tasksBefore);
    assertEquals(await serviceTasks(tDir), 2, "no task created twice");
    for (const label of ["HCX-003@50", "HCX-003@10000"]) {
      const path = join(tDir, "answers", `${label}.jsonl`);
      assertEquals((await scanJournal(path)).lines, 10, label);
      assertEquals(new Set((await readJournal(path)).map((r) => r.prompt.id)).size, 10, label);
    }

    // During answering: one request at a time, 10 a second.
    const a = spawnReproduce([
      ...common,
      "--run",
      "a",
      "--sizes",
      "50",
      "--prompts",
      "30",
      "--concurrency",
      "1",
      "--rpm",
      "600",
    ]);
    const journal = join(results, "a", "answers", "HCX-003@50.jsonl");
    await waitFor("answers", async () => (await scanJournal(journal)).lines >= 3);
    a.kill("SIGINT");
    const aOut = await a.output();
    assertEquals(aOut.code, 130, dec.decode(aOut.stderr));
    checkOneLine(dec.decode(aOut.stderr), "a");
    const partial = (await scanJournal(journal)).lines;
    assert(partial >= 3 && partial < 30, `${partial} answers before the interrupt`);
    const aResumed = await reproduce(["--results", results, "--resume", "--run", "a", "--quiet"]);
    assertEquals(aResumed.code, 0, aResumed.stderr);
    assertEquals((await scanJournal(journal)).lines, 30, "every prompt answered once");
    assertEquals(new Set((await readJournal(journal)).map((r) => r.prompt.id)).size, 30);
    assertEquals(await serviceTasks(join(results, "a")), 1);
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});

Deno.test("one writer per run: a second reproduce on a running run is refused; a stale lock is taken over", async () => {
  const results = await Deno.makeTempDir({ prefix: "lock-" });
  try {
    const slow = spawnReproduce([
      "--results",
      results,
      "--run",
      "w",
      "--models",
      "HCX-003",
      "--sizes",
      "50",
      "--prompts",
      "30",
      "--concurrency",
      "1",
      "--rpm",
      "300",
      "--quiet",
    ]);
    const dir = join(results, "w");
    await waitFor("the run to start answering", async () => {
      await Deno.stat(join(dir, "answers", "HCX-003.jsonl"));
      return true;
    });
    const second = await reproduce(["--results", results, "--resume", "--run", "w", "--quiet"]);
    assertEquals(second.code, 1, second.stderr);
    assert(/in use by process \d+/.test(second.stderr), second.stderr);
    assert(second.stderr.includes("run.lock"), second.stderr);
    const scoring = await denoTask("score", ["--run", dir]);
    assertEquals(scoring.code, 1);
    assert(scoring.stderr.includes("in use by process"));
    slow.kill("SIGKILL");
    await slow.output();
    // The killed writer left its lock; its process is gone, so the lock is stale.
    await Deno.stat(join(dir, "run.lock"));
    const resumed = await reproduce(["--results", results, "--resume", "--run", "w", "--quiet"]);
    assertEquals(resumed.code, 0, resumed.stderr);
    await rejects(Deno.stat(join(dir, "run.lock")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});

Deno.test("with CLOVA Studio credentials in the environment the pipeline asks first and then drives that API", async () => {
  const apiKey = `nv-test-${crypto.randomUUID()}`;
  const service = await startEmulator({ credentials: { apiKeys: [apiKey] }, quiet: true });
  const results = await Deno.makeTempDir({ prefix: "service-" });
  const env = {
    CLOVA_STUDIO_API_KEY: apiKey,
    CLOVA_STUDIO_HOST: service.url,
    NCP_OBJECT_STORAGE_ENDPOINT: service.objectStorageUrl,
    NCP_OBJECT_STORAGE_BUCKET: "user-bucket",
    NCP_OBJECT_STORAGE_ACCESS_KEY: "user-access-key",
    NCP_OBJECT_STORAGE_SECRET_KEY: "user-secret-key",
  };
  const options = {
    config: { models: ["HCX-003"], sizes: [100], evalPrompts: 10, includeBaseModels: false },
    resultsDir: results,
    env,
    poll: { intervalMs: 50, maxIntervalMs: 200 },
    progress: "silent" as const,
    log: () => {},
  };
  try {
    const asked: string[] = [];
    await rejects(
      runPipeline({
        ...options,
        runId: "refused",
        confirm: (m) => {
          asked.push(m);
          return false;
        },
      }),
      /not confirmed/,
    );
    assertEquals(asked.length, 1);
    assert(asked[0].includes("1 tuning task"), asked[0]);
    // the question states the training tokens (counted by the service's tokenizer API) and cost
    const tokens = JSON.parse(await Deno.readTextFile(join(results, "refused", "tokens.json")));
    assertEquals(tokens.tokenizer, "CLOVA Studio chat-tokenize API");
    const trained = tokens.training[0].trainedTokens.toLocaleString("en-US");
    assert(asked[0].includes(`${trained} training tokens`), asked[0]);
    assert(asked[0].includes("estimated tuning cost:"), asked[0]);
    assertEquals(service.stats().tasksCreated ?? 0, 0);

    const run = await runPipeline({ ...options, runId: "confirmed", confirm: () => true });
    assertEquals(run.backend.kind, "clova-studio");
    assertEquals(run.tasks.map((t) => t.status), ["SUCCEEDED"]);
    assertEquals(service.stats().tasksCreated, 1);
    assertEquals(run.analysis.summary.answers, 10);
    const saved = await Deno.readTextFile(join(run.dir, "run.json"));
    assert(!saved.includes(apiKey), "run.json must not hold the API key");
    assert(!(await Deno.readTextFile(run.analysis.reportPath)).includes(apiKey));
  } finally {
    await service.close();
    await Deno.remove(results, { recursive: true });
  }
});
