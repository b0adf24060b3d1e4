import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import ExcelJS from "exceljs";
import { tuningCsv } from "../lib/datasets/sheets.ts";
import {
  checkContext,
  nestedSubsets,
  parseTaskSpec,
  readByoData,
  readExpectedSheet,
} from "../lib/tasks/mod.ts";
import { withTempDir } from "./helpers/tempDir.ts";
import { refused } from "./helpers/taskErrors.ts";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

async function writeSheet(path: string, rows: string[][]): Promise<void> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("eval");
  for (const r of rows) ws.addRow(r);
  await wb.xlsx.writeFile(path);
}

const reviews = [
  ["배송이 빨라요", "긍정"],
  ["포장이 엉망", "부정"],
  ["그저 그래요", "중립"],
  ["최고예요", "긍정"],
  ["다시는 안 사요", "부정"],
];

Deno.test("bring-your-own: a label task's rows and sheet, a warning for labels training lacks", async () => {
  await withTempDir("tasks_byo_", async (dir) => {
    const train = join(dir, "rows.csv");
    await Deno.writeTextFile(
      train,
      tuningCsv(reviews.slice(0, 2).map(([text, completion]) => ({ text, completion })), {
        format: "single-turn",
      }),
    );
    const evalPath = join(dir, "eval.xlsx");
    await writeSheet(evalPath, [
      ["system", "user", "answer"],
      ...reviews.map(([user, answer]) => ["리뷰를 분류해줘", user, answer]),
    ]);
    const spec = parseTaskSpec({
      kind: "dataset",
      name: "reviews",
      train,
      eval: evalPath,
      scorer: "label",
    });
    assert(spec.kind === "dataset");
    const data = await readByoData(spec);
    assertEquals(data.train.map((r) => r.completion), ["긍정", "부정"]);
    assertEquals(data.eval.map((e) => e.answer), ["긍정", "부정", "중립", "긍정", "부정"]);
    assertEquals(data.eval[2].prompt.system, "리뷰를 분류해줘");
    assertEquals(data.eval[0].prompt.id, "r2");
    assertEquals(data.warnings, [
      'eval.xlsx: 1 expected label never appears in the tuning rows ("중립"); a tuned model can ' +
      "only guess it",
    ]);
  });
});

Deno.test("bring-your-own: an eval sheet without an answer column, or with an empty one", async () => {
  await withTempDir("tasks_byo_", async (dir) => {
    const a = join(dir, "eval.xlsx");
    await writeSheet(a, [["system", "user"], ["", "안녕"]]);
    await refused(
      () => readExpectedSheet(a),
      'eval.xlsx: row 1: no "answer" column (the expected answer of each prompt) (found: ' +
        '"system", "user")',
    );
    const b = join(dir, "eval.csv");
    await Deno.writeTextFile(b, "\ufeffsystem,user,answer\n,안녕,인사\n,잘 가,\n");
    await refused(() => readExpectedSheet(b), "eval.csv: row 3: the expected answer is empty");
    await Deno.writeTextFile(b, "system,user,answer\n,과일을 나눠줘,그냥 문장\n");
    const train = join(dir, "rows.csv");
    await Deno.writeTextFile(train, tuningCsv([{ text: "a", completion: "과일: 사과" }]));
    const spec = parseTaskSpec({ kind: "dataset", name: "g", train, eval: b, scorer: "grouping" });
    await refused(
      () => readByoData(spec as never),
      'eval.csv: row 2: the expected answer has no "group: item, item" line',
    );
    await refused(
      () => readExpectedSheet(join(dir, "eval.txt")),
      "eval.txt: an evaluation sheet is a .csv or .xlsx file",
    );
  });
});

Deno.test("bring-your-own: nested seeded subsets; a size above the rows is refused", async () => {
  const rows = Array.from({ length: 50 }, (_, i) => i);
  const sets = nestedSubsets(rows, [10, 30, 50], 7);
  assertEquals(sets.get(30)!.slice(0, 10), sets.get(10));
  assertEquals([...sets.get(50)!].sort((a, b) => a - b), rows);
  assertEquals(nestedSubsets(rows, [10], 7).get(10), sets.get(10));
  assert(nestedSubsets(rows, [10], 8).get(10)!.join() !== sets.get(10)!.join());
  await refused(
    () => nestedSubsets(rows, [10, 60, 100], 7, "/x/rows.csv"),
    "--sizes 60,100: rows.csv holds only 50 rows",
  );
});

Deno.test("bring-your-own: a row longer than a model's context is refused, naming both", async () => {
  const limits = [
    { model: "HCX-003", maxInputTokens: 7600 },
    { model: "HCX-DASH-001", maxInputTokens: 3500 },
  ];
  const short = { user: "짧은 글", completion: "긍정", where: "rows.csv: row 2" };
  checkContext([short], limits);
  const long = { user: "가".repeat(3998), completion: "긍정", where: "rows.csv: row 3" };
  await refused(
    () => checkContext([short, long], limits),
    "rows.csv: row 3: 4,000 tokens, longer than HCX-DASH-001's context of 3,500",
  );
});
