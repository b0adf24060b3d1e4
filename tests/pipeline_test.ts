/**
 * The whole experiment end to end: `deno task reproduce` as a real subprocess on the embedded
 * default (emulator over HTTP on 127.0.0.1), its report opened in headless Chromium, a resumed run
 * that pays for nothing twice, an interrupted run that resumes without losing or duplicating
 * answers, re-scoring from journals, and the CLOVA Studio backend path (credentials from the
 * environment) with its confirmation.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { join } from "node:path";
import { BASE_MODELS, TUNING_SIZES } from "../lib/cookbook.ts";
import { readJournal } from "../lib/journal.ts";
import { readScoresCsv } from "../lib/score.ts";
import { startEmulator } from "../lib/emulator/mod.ts";
import {
  analyzeRun,
  PipelineError,
  readRunFile,
  runPipeline,
  type TaskEntry,
} from "../lib/pipeline.ts";
import { checkReportInBrowser } from "./helpers/browser.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function reproduce(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "reproduce", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", CLOVA_STUDIO_API_KEY: "", CLOVASTUDIO_API_KEY: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function readTasks(dir: string): Promise<TaskEntry[]> {
  return JSON.parse(await Deno.readTextFile(join(dir, "tasks.json")));
}

async function journalLines(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const e of Deno.readDir(join(dir, "answers"))) {
    if (!e.name.endsWith(".jsonl")) continue;
    const text = await Deno.readTextFile(join(dir, "answers", e.name));
    out.set(e.name, text.split("\n").filter((l) => l.trim()).length);
  }
  return out;
}

Deno.test("deno task reproduce: the cookbook's experiment offline, report opens in Chromium, resume pays nothing twice", async () => {
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
    for (const size of TUNING_SIZES) await Deno.stat(join(dir, "datasets", `train_${size}.csv`));
    await Deno.stat(join(dir, "datasets", "eval.xlsx"));

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
    const scores = await readScoresCsv(join(dir, "scores.csv"));
    assertEquals(scores.length, labels * 100);

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

    // Resuming a finished run creates no task and answers nothing again.
    const again = await reproduce(["--results", results, "--resume", "--quiet"]);
    assertEquals(again.code, 0, again.stderr + again.stdout);
    assertEquals(
      (await readTasks(dir)).map((t) => t.taskId),
      tasks.map((t) => t.taskId),
    );
    assertEquals(await journalLines(dir), lines);
  } finally {
    await Deno.remove(results, { recursive: true });
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
      PipelineError,
    );
    clearInterval(watcher);
    const dir = join(results, "r1");
    const tasksBefore = (await readTasks(dir)).map((t) => t.taskId);
    const partial = await journalLines(dir);
    assert([...partial.values()].some((n) => n > 0 && n < 20), JSON.stringify([...partial]));

    const resumed = await runPipeline({
      config,
      resultsDir: results,
      runId: "r1",
      resume: true,
      progress: "silent",
      log: () => {},
    });
    assertEquals(resumed.tasks.map((t) => t.taskId), tasksBefore);
    for (const label of ["HCX-003", "HCX-003@50", "HCX-003@100"]) {
      const records = await readJournal(join(dir, "answers", `${label}.jsonl`));
      const ids = records.map((r) => r.promptId);
      assertEquals(ids.length, 20, label);
      assertEquals(new Set(ids).size, 20, label);
      assert(records.every((r) => r.text !== null), label);
    }
    assertEquals(resumed.analysis.rows.length, 60);
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});

Deno.test("analyzeRun re-scores a run from its journals alone, with the same scores", async () => {
  const results = await Deno.makeTempDir({ prefix: "rescore-" });
  try {
    const run = await runPipeline({
      config: { models: ["HCX-DASH-001"], sizes: [50], evalPrompts: 20 },
      resultsDir: results,
      runId: "r",
      progress: "silent",
      log: () => {},
    });
    const before = await Deno.readTextFile(join(run.dir, "scores.csv"));
    await Deno.remove(join(run.dir, "scores.csv"));
    await Deno.remove(join(run.dir, "report.html"));
    const again = await analyzeRun(run.dir);
    assertEquals(await Deno.readTextFile(join(run.dir, "scores.csv")), before);
    await Deno.stat(again.reportPath);
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
    assertEquals(run.analysis.rows.length, 10);
    const saved = await Deno.readTextFile(join(run.dir, "run.json"));
    assert(!saved.includes(apiKey), "run.json must not hold the API key");
    assert(!(await Deno.readTextFile(run.analysis.reportPath)).includes(apiKey));
  } finally {
    await service.close();
    await Deno.remove(results, { recursive: true });
  }
});
