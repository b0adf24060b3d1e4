/**
 * `deno task reproduce --backend local --task my.csv` end to end, kept as small as a run can be
 * (one size of 8 rows, so one step an epoch, and 2 prompts): the local neural model LoRA-tunes on
 * the task's own rows for real (the loss falls step by step), answers through the emulator's chat
 * completions, and the answers are scored against the task's taxonomy, with a report in the
 * task's words.
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { readRunFile, readSummary, readTasks } from "../lib/run/mod.ts";
import { readScoresCsv } from "../lib/scoring/score.ts";
import { writeFoodCsv } from "./helpers/foodTaxonomy.ts";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

const ROOT = new URL("..", import.meta.url).pathname;
const ENV = { NO_COLOR: "1", CLOVA_STUDIO_API_KEY: "", CLOVASTUDIO_API_KEY: "" };

Deno.test("reproduce --backend local --task my.csv: the local model tunes on the task's rows, scored by its taxonomy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tasks_local_" });
  try {
    const csv = await writeFoodCsv(dir);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "reproduce",
        "--quiet",
        "--backend",
        "local",
        "--models",
        "local-250k",
        "--task",
        csv,
        "--sizes",
        "8",
        "--prompts",
        "2",
        "--results",
        dir,
        "--run",
        "food",
      ],
      cwd: ROOT,
      env: ENV,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const run = join(dir, "food");
    const file = await readRunFile(run);
    assertEquals(file.backend.kind, "local");
    assertEquals(file.task?.name, "food");

    // One task, trained for real on the run's own tuning file: 8 rows, batch 8, 4 epochs.
    const [task] = await readTasks(run);
    assertEquals([task.label, task.status, task.totalTrainSteps], ["local-250k@8", "SUCCEEDED", 4]);
    const state = JSON.parse(
      await Deno.readTextFile(join(run, "emulator-state", "tasks", `${task.taskId}.json`)),
    );
    assertEquals(
      await Deno.readFile(join(run, "emulator-state", "datasets", `${task.taskId}.csv`)),
      await Deno.readFile(join(run, "datasets", "train_8.csv")),
      "the local model tuned on the task's rows",
    );
    const losses: number[] = state.outcome.stepLoss;
    assertEquals(losses.length, 4);
    assert(losses.every((l, i) => i === 0 || l < losses[i - 1]), `losses ${losses}`);
    await Deno.stat(join(run, "emulator-state", state.local.adapter));

    // Base and tuned model answered both prompts, scored against the task's taxonomy.
    assertEquals((await readSummary(run)).scoredWith, "food");
    const scores = await readScoresCsv(join(run, "scores.csv"));
    assertEquals(scores.map((s) => s.size).sort(), [0, 0, 8, 8]);
    const html = await Deno.readTextFile(join(run, "report.html"));
    assert(html.includes("항목 분류 (food) LoRA 튜닝 재현 보고서"), "the task's title");
    assert(html.includes("local-250k"), "the local model named");
    assert(!html.includes("국가 수 구성"), "no country words");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
