/**
 * `deno task compare` over two offline runs, shuffled and grouped (`reproduce --order grouped`):
 * one report overlaying both, opened in headless Chromium with no console errors.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { join } from "node:path";
import { runPipeline } from "../lib/pipeline.ts";
import { readTuningCsv } from "../lib/datasets/sheets.ts";
import { runNames } from "../lib/report/compare.ts";
import type { RunFile } from "../lib/run/mod.ts";
import { DEFAULT_RUN_CONFIG } from "../lib/run/schema.ts";
import { checkChartsInBrowser } from "./helpers/browser.ts";

const CLI = new URL("../lib/cli/compare.ts", import.meta.url).pathname;

async function compare(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const file = (over: Partial<RunFile["config"]>, name = "emulator", runId = "r"): RunFile => ({
  runId,
  created: "2026-12-01T00:00:00Z",
  config: {
    ...DEFAULT_RUN_CONFIG,
    models: ["HCX-003"],
    sizes: [50],
    concurrency: 4,
    ...over,
  },
  backend: { kind: "emulator", name },
  versions: {},
});

Deno.test("runNames: the backend, then what tells runs of one backend apart", () => {
  assertEquals(runNames([file({}), file({ order: "grouped" })]), [
    "emulator · shuffled",
    "emulator · grouped",
  ]);
  assertEquals(runNames([file({}), file({}, "CLOVA Studio")]), ["emulator", "CLOVA Studio"]);
  assertEquals(runNames([file({ seed: 1 }), file({ seed: 2 }), file({}, "CLOVA Studio")]), [
    "emulator · seed 1",
    "emulator · seed 2",
    "CLOVA Studio",
  ]);
  assertEquals(runNames([file({}, "e", "a"), file({}, "e", "b")]), ["e · a", "e · b"]);
});

Deno.test("compare: shuffled vs grouped offline runs in one report that renders in Chromium", async () => {
  const results = await Deno.makeTempDir({ prefix: "compare-" });
  const config = { sizes: [50, 100, 200], evalPrompts: 40 };
  try {
    for (const [runId, order] of [["shuffled", undefined], ["grouped", "grouped"]] as const) {
      await runPipeline({
        config: { ...config, ...(order ? { order } : {}) },
        resultsDir: results,
        runId,
        progress: "silent",
        log: () => {},
      });
    }
    // the grouped run lists each row's countries continent by continent, as its completion does
    const grouped = await readTuningCsv(join(results, "grouped", "datasets", "train_50.csv"));
    const shuffled = await readTuningCsv(join(results, "shuffled", "datasets", "train_50.csv"));
    const listed = (text: string) => text.split("\n").at(-1)!.split(", ");
    const answered = (completion: string) =>
      completion.split("\n").filter((l) => l.includes(": ")).flatMap((l) =>
        l.slice(l.indexOf(": ") + 2).split(", ")
      );
    assert(grouped.rows.every((r) => listed(r.text).join() === answered(r.completion).join()));
    assert(shuffled.rows.some((r) => listed(r.text).join() !== answered(r.completion).join()));
    // same country sets, so the same evaluation prompts
    assertEquals(
      grouped.rows.map((r) => [...listed(r.text)].sort().join()),
      shuffled.rows.map((r) => [...listed(r.text)].sort().join()),
    );

    const before = await Deno.readTextFile(join(results, "grouped", "report.html"));
    const run = await compare(["shuffled", "grouped", "--results", results]);
    assertEquals(run.code, 0, run.stderr + run.stdout);
    const path = run.stdout.match(/^report: (.+)$/m)?.[1];
    assertEquals(path, join(results, "compare-shuffled-grouped.html"));
    // the runs are read, never written
    assertEquals(await Deno.readTextFile(join(results, "grouped", "report.html")), before);

    const html = await Deno.readTextFile(path!);
    for (
      const id of ["compared", "curves", "paired", "steps", "planning", "countries", "cost", "runs"]
    ) {
      assert(html.includes(`<section id="${id}">`), `section ${id}`);
    }
    assert(
      html.includes("· shuffled") && html.includes("· grouped"),
      "runs named by backend and order",
    );
    assert(html.includes("paired"), "same prompts: the runs compare pairwise");
    // the reference learner counts (country, continent) pairs: the order cannot change its answers
    assert(html.includes("no discordant pair"), "the report says the runs erred alike");
    // per model: one learning curve overlaying both runs, worst countries and confusion per run
    // charts drawn, labels apart, well-formed SVG, no console or page error, no network request
    const check = await checkChartsInBrowser(path!);
    assertEquals(check.problems, []);
    assertEquals(check.charts, 2 * (1 + 2 + 2));
    assert(html.includes("@font-face"), "the page embeds its font like the single-run report");
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});

Deno.test("compare: a wrong invocation prints one line and the usage (exit 2), no trace", async () => {
  const none = await compare([]);
  assertEquals(none.code, 2);
  assert(none.stderr.startsWith("compare: name at least one run\n\nusage:"), none.stderr);
  const missing = await compare(["no-such-run", "--results", "/nonexistent"]);
  assertEquals(missing.code, 2);
  assert(missing.stderr.includes("no-such-run: no such run folder"), missing.stderr);
  const flag = await compare(["--bogus"]);
  assertEquals(flag.code, 2);
  assert(!flag.stderr.includes("    at "), flag.stderr);
  const dir = await Deno.makeTempDir();
  try {
    const notRun = await compare([dir]);
    assertEquals(notRun.code, 1);
    assert(notRun.stderr.includes("not a run folder"), notRun.stderr);
    assert(!notRun.stderr.includes("    at "), notRun.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compare: two runs of the elements task, in the task's own words", async () => {
  const results = await Deno.makeTempDir({ prefix: "compare-task-" });
  try {
    for (const seed of [1, 2]) {
      await runPipeline({
        task: "elements",
        config: { models: ["HCX-003"], sizes: [50, 200], evalPrompts: 20, seed },
        resultsDir: results,
        runId: `el${seed}`,
        progress: "silent",
        log: () => {},
      });
    }
    const run = await compare(["el1", "el2", "--results", results]);
    assertEquals(run.code, 0, run.stderr + run.stdout);
    const html = await Deno.readTextFile(join(results, "compare-el1-el2.html"));
    // the text a reader sees: no styles, no embedded font, no tags
    const text = html.replace(/<style[\s\S]*?<\/style>/g, "").replace(/<[^>]+>/g, " ")
      .replace(/\s+/g, " ");
    assert(text.includes("· seed 1") && text.includes("· seed 2"), "runs named by their seeds");
    for (
      const words of [
        "원소별 오류 (where the errors are)",
        "HCX-003: 원소별 누락·오분류 비율 (share of answers asking an item that missed or",
        "HCX-003: 실제 계열(행) → 답이 놓은 곳(열) (true group → where the answer put it)",
      ]
    ) assert(text.includes(words), `comparison lacks ${JSON.stringify(words)}`);
    // the country task's words, its prompt mix and the cookbook's published figures are not the
    // task's
    for (const words of ["국가", "대륙", "쿡북 수치", "country-count × continent-count"]) {
      assert(!text.includes(words), `comparison says ${JSON.stringify(words)}`);
    }
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});
