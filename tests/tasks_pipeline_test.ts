/**
 * `deno task reproduce --task …` end to end as a real subprocess (the emulator over HTTP on
 * 127.0.0.1): the second built-in task and a taxonomy CSV made here, each with a report in the
 * task's own words; `--task countries` making the country run's datasets and scores; and the bad
 * taxonomies refused in one line, exit 1, with nothing written.
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { readDatasets, readRunFile, readSummary } from "../lib/run/mod.ts";
import { readScoresCsv } from "../lib/scoring/score.ts";
import { withTempDir } from "./helpers/tempDir.ts";
import { writeFoodCsv } from "./helpers/foodTaxonomy.ts";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

const ROOT = new URL("..", import.meta.url).pathname;
const ENV = { NO_COLOR: "1", CLOVA_STUDIO_API_KEY: "", CLOVASTUDIO_API_KEY: "" };
const dec = new TextDecoder();

async function reproduce(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "reproduce", "--quiet", "--models", "HCX-003", ...args],
    cwd: ROOT,
    env: ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Error rate of each size, from scores.csv. */
async function errorRates(runDir: string): Promise<Map<number, number>> {
  const rows = await readScoresCsv(join(runDir, "scores.csv"));
  const by = new Map<number, { n: number; errors: number }>();
  for (const r of rows) {
    const s = by.get(r.size) ?? { n: 0, errors: 0 };
    s.n++;
    if (r.hasError) s.errors++;
    by.set(r.size, s);
  }
  return new Map([...by].map(([size, s]) => [size, s.errors / s.n]));
}

Deno.test("reproduce --task elements: end to end offline, the report in the task's words", async () => {
  await withTempDir("tasks_pipeline_", async (dir) => {
    const r = await reproduce([
      "--task",
      "elements",
      "--sizes",
      "50,200",
      "--prompts",
      "20",
      "--results",
      dir,
      "--run",
      "el",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const run = join(dir, "el");
    const file = await readRunFile(run);
    assertEquals(file.task?.name, "elements");
    assertEquals(file.task?.labels, { item: "원소", group: "계열" });
    assert(file.task?.kind === "taxonomy");
    assertEquals(file.task.taxonomy.items, 118);
    assertEquals((await readSummary(run)).scoredWith, "elements");
    const train = (await readDatasets(run)).find((d) => d.file === "datasets/train_200.csv")!;
    assertEquals(train.stats.coverage.list, "elements");
    assert(train.stats.byCountryCount.every((m) => [8, 9, 12, 18].includes(m.value)));
    const csv = await Deno.readTextFile(join(run, "datasets", "train_50.csv"));
    assert(csv.includes("목록에 있는 원소을(를) 계열별로 분류해줘."), "the task's template");
    // The reference learner learns the elements' groups: 200 rows beat the untuned model.
    const rates = await errorRates(run);
    assertEquals(rates.get(0), 1);
    assert(rates.get(200)! < rates.get(0)!, `error rates ${JSON.stringify([...rates])}`);
    const html = await Deno.readTextFile(join(run, "report.html"));
    for (
      const words of [
        "원소 분류 (elements) LoRA 튜닝 재현 보고서",
        "원소 개수별 오류 발생 확률",
        "계열 개수별 오류 발생 확률",
        "계열 혼동표",
        "원소 수 구성 (by item count)",
        "elements — 118개 원소, 11개 계열 (built-in elements); 채점 (scorer) grouping",
        "reference learner (counts of (item, group) pairs in the tuning rows)",
      ]
    ) assert(html.includes(words), `report lacks ${JSON.stringify(words)}`);
    for (
      const words of [
        "국가 수 구성",
        "쿡북 원본 차트",
        "대륙 혼동표",
        "쿡북 수치 (cookbook figures)",
        "(country, continent)",
      ]
    ) {
      assert(!html.includes(words), `report still says ${JSON.stringify(words)}`);
    }
  });
});

Deno.test("reproduce --task my.csv: a taxonomy made here, its own labels in the report", async () => {
  await withTempDir("tasks_pipeline_", async (dir) => {
    const csv = await writeFoodCsv(dir, { excel: true });
    const r = await reproduce([
      "--task",
      csv,
      "--sizes",
      "50",
      "--prompts",
      "10",
      "--results",
      dir,
      "--run",
      "food",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const run = join(dir, "food");
    const file = await readRunFile(run);
    assertEquals(file.task?.name, "food");
    assert(file.task?.kind === "taxonomy");
    assertEquals(file.task.taxonomy.groups, ["과일", "채소", "곡물", "견과"]);
    // The file's taxonomy is written into run.json, so the run remakes its datasets without it.
    const spec = file.task.spec.taxonomy;
    assert("entries" in spec && spec.entries.length === 24);
    const html = await Deno.readTextFile(join(run, "report.html"));
    assert(html.includes("항목 분류 (food) LoRA 튜닝 재현 보고서"));
    assert(html.includes("분류 혼동표"));
    assert(html.includes(`file ${csv}`));
  });
});

Deno.test("reproduce --task countries: the datasets and scores of the run without a task", async () => {
  await withTempDir("tasks_pipeline_", async (dir) => {
    const common = ["--sizes", "50,100", "--prompts", "20", "--seed", "7", "--results", dir];
    const a = await reproduce([...common, "--run", "plain"]);
    const b = await reproduce([...common, "--run", "task", "--task", "countries"]);
    assertEquals([a.code, b.code], [0, 0], a.stderr + b.stderr);
    const digests = async (run: string) =>
      (await readDatasets(join(dir, run))).map((d) => [d.file, d.sha256, d.stats]);
    assertEquals(await digests("task"), await digests("plain"));
    assertEquals(
      await Deno.readTextFile(join(dir, "task", "scores.csv")),
      await Deno.readTextFile(join(dir, "plain", "scores.csv")),
    );
    assertEquals((await readRunFile(join(dir, "plain"))).task, undefined);
    assertEquals((await readRunFile(join(dir, "task"))).task?.name, "countries");
    const html = await Deno.readTextFile(join(dir, "task", "report.html"));
    assert(html.includes("국가 분류 LoRA 튜닝 재현 보고서") && html.includes("쿡북 원본 차트"));
    assert(html.includes("reference learner (counts of (country, continent) pairs"));
  });
});

Deno.test("reproduce --task with a bad taxonomy: one line, exit 1, nothing written", async () => {
  await withTempDir("tasks_pipeline_", async (dir) => {
    const results = join(dir, "results");
    const cases: [string, string, string][] = [
      ["two.csv", "item,group\na,x\nb,x\na,y\n", 'two.csv: row 4: item "a" is in two groups, "x"'],
      ["clash.csv", "item,group\na,x\nx,y\n", 'clash.csv: row 3: item "x" is also a group name'],
      ["empty.csv", "item,group\na,x\nb,\n", 'empty.csv: row 3: item "b" has an empty group'],
      [
        "tiny.csv",
        "item,group\na,x\nb,x\nc,y\nd,y\n",
        'taxonomy "tiny" (4 items in 2 groups) is too small for the mix',
      ],
      [
        "long.csv",
        "item,group\n" +
        Array.from({ length: 24 }, (_, i) => `${"가".repeat(500)}${i},g${i % 4}`).join("\n"),
        "task long: tuning row n8k",
      ],
    ];
    for (const [name, body, reason] of cases) {
      const path = join(dir, name);
      await Deno.writeTextFile(path, body);
      const r = await reproduce(["--task", path, "--results", results, "--sizes", "50"]);
      // `deno task` names the command it runs on the first line of stderr.
      const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("Task "));
      assertEquals(r.code, 1, `${name}: ${r.stderr}`);
      assertEquals(lines.length, 1, `${name}: ${r.stderr}`);
      assert(lines[0].startsWith("reproduce: "), lines[0]);
      assert(lines[0].includes(reason), `${name}: ${lines[0]}`);
      if (name === "long.csv") assert(lines[0].endsWith("longer than HCX-003's context of 7,600"));
      const left = await Array.fromAsync(Deno.readDir(results)).catch(() => []);
      assertEquals(left, [], `${name} left files behind`);
    }
  });
});

/** A small sentiment set: `n` rows cycling through three templates per label. */
function reviews(n: number, offset = 0): { text: string; completion: string }[] {
  const words: Record<string, string[]> = {
    "긍정": ["정말 좋아요", "최고의 제품", "다시 살게요", "배송이 빨라요"],
    "부정": ["너무 별로예요", "다시는 안 사요", "포장이 엉망", "환불하고 싶어요"],
  };
  return Array.from({ length: n }, (_, i) => {
    const label = i % 2 === 0 ? "긍정" : "부정";
    const list = words[label];
    return {
      text: `리뷰 ${i + offset}번: ${list[i % list.length]} ${list[(i + 1) % list.length]}`,
      completion: label,
    };
  });
}

Deno.test("reproduce --train --eval --scorer label: a dataset you bring, end to end", async () => {
  await withTempDir("tasks_pipeline_", async (dir) => {
    const { tuningCsv } = await import("../lib/datasets/sheets.ts");
    const train = join(dir, "rows.csv");
    await Deno.writeTextFile(train, tuningCsv(reviews(120)));
    const evalPath = join(dir, "eval.csv");
    await Deno.writeTextFile(
      evalPath,
      "system,user,answer\n" +
        [...reviews(20, 1000).map((r) => `,${r.text},${r.completion}`), ",그냥 그래요,중립"].join(
          "\n",
        ) + "\n",
    );
    const r = await reproduce([
      "--train",
      train,
      "--eval",
      evalPath,
      "--scorer",
      "label",
      "--sizes",
      "50,100",
      "--results",
      dir,
      "--run",
      "byo",
    ]);
    assertEquals(r.code, 0, r.stderr);
    // Warned, not refused: a label the tuning rows never show.
    assert(
      r.stdout.includes('1 expected label never appears in the tuning rows ("중립")'),
      r.stdout,
    );
    const run = join(dir, "byo");
    const file = await readRunFile(run);
    assert(file.task?.kind === "dataset");
    assertEquals([file.task.scorer, file.task.train.rows, file.task.eval.prompts], [
      "label",
      120,
      21,
    ]);
    // Nested subsets of the rows, in the run's layout.
    const { readTuningCsv } = await import("../lib/datasets/sheets.ts");
    const small = (await readTuningCsv(join(run, "datasets", "train_50.csv"))).rows.map((x) =>
      x.text
    );
    const big = new Set(
      (await readTuningCsv(join(run, "datasets", "train_100.csv"))).rows.map((x) => x.text),
    );
    assert(small.every((t) => big.has(t)), "nested");
    const rates = await errorRates(run);
    // Untuned, no answer names a label; tuned, the reference learner answers with the labels it
    // learned, and the 중립 prompt stays wrong.
    assertEquals(rates.get(0), 1);
    assert(rates.get(100)! < 0.5, `error rates ${JSON.stringify([...rates])}`);
    // The label confusion: the tuned model puts every 긍정/부정 prompt right, 중립 nowhere.
    const confusion = (await readSummary(run)).labelConfusion!;
    const tuned = confusion.find((t) => t.size === 100)!;
    assertEquals(tuned.labels, ["긍정", "부정", "중립"]);
    assertEquals(tuned.counts["중립"]["중립"] ?? 0, 0);
    assertEquals(
      (tuned.counts["긍정"]["긍정"] ?? 0) + (tuned.counts["부정"]["부정"] ?? 0),
      Math.round(21 * (1 - rates.get(100)!)),
    );
    const html = await Deno.readTextFile(join(run, "report.html"));
    assert(html.includes("튜닝 120행"), "the report names the task");
    assert(
      html.includes(`<section id="labels"><h2>라벨 혼동표`),
      "the report shows the label confusion",
    );
    assert(!html.includes('id="countries"'), "no per-item tables for a dataset you bring");
  });
});

Deno.test("reproduce --train/--eval with bad input: one line, exit 1, nothing written", async () => {
  await withTempDir("tasks_pipeline_", async (dir) => {
    const { tuningCsv } = await import("../lib/datasets/sheets.ts");
    const results = join(dir, "results");
    const train = join(dir, "rows.csv");
    await Deno.writeTextFile(train, tuningCsv(reviews(60)));
    const noAnswer = join(dir, "noanswer.csv");
    await Deno.writeTextFile(noAnswer, "system,user\n,좋아요\n");
    const good = join(dir, "eval.csv");
    await Deno.writeTextFile(good, "system,user,answer\n,좋아요,긍정\n");
    const long = join(dir, "long.csv");
    await Deno.writeTextFile(
      long,
      tuningCsv([...reviews(59), { text: "가".repeat(4000), completion: "긍정" }]),
    );
    const cases: [string[], string][] = [
      [["--train", train, "--eval", noAnswer], 'noanswer.csv: row 1: no "answer" column'],
      [
        ["--train", train, "--eval", good, "--sizes", "50,100"],
        "--sizes 100: rows.csv holds only 60 rows",
      ],
      [
        ["--train", long, "--eval", good, "--sizes", "50", "--models", "HCX-DASH-001"],
        "long.csv: row 61: 4,002 tokens, longer than HCX-DASH-001's context of 3,500",
      ],
    ];
    for (const [args, reason] of cases) {
      const r = await reproduce([...args, "--scorer", "label", "--results", results]);
      const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("Task "));
      assertEquals(r.code, 1, `${reason}: ${r.stderr}`);
      assertEquals(lines.length, 1, r.stderr);
      assert(lines[0].startsWith("reproduce: ") && lines[0].includes(reason), lines[0]);
      const left = await Array.fromAsync(Deno.readDir(results)).catch(() => []);
      assertEquals(left, [], `${reason}: left files behind`);
    }
  });
});
