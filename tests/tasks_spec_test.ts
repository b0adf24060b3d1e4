import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import ExcelJS from "exceljs";
import {
  evalXlsxBytes,
  generateEvalSet,
  generateNestedTrainingSets,
  tuningCsv,
} from "../lib/datasets/mod.ts";
import {
  buildTaxonomy,
  BUILTIN_TASKS,
  builtinTaxonomy,
  generateTaskEvalSet,
  generateTaskTrainingSets,
  loadTaxonomyTask,
  parseTaskSpec,
  parseTaxonomyCsv,
  possibleSets,
  readTaxonomyFile,
  resolveTaxonomyTask,
  type TaxonomyTask,
} from "../lib/tasks/mod.ts";
import { withTempDir } from "./helpers/tempDir.ts";
import { refused } from "./helpers/taskErrors.ts";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

const countries = await loadTaxonomyTask("countries");

Deno.test("countries task: tuning sets are today's country generator's, byte for byte", () => {
  for (const seed of [7, 1, -5, 123456789]) {
    for (const order of ["shuffled", "grouped"] as const) {
      const sizes = [50, 100, 300, 1000];
      const ours = generateTaskTrainingSets(countries, sizes, { seed, order });
      const today = generateNestedTrainingSets(sizes, { seed, order });
      for (const size of sizes) {
        const a = ours.get(size)!;
        const b = today.get(size)!;
        assertEquals(a.map((r) => r.id), b.map((r) => r.id), `ids, seed ${seed} size ${size}`);
        assertEquals(tuningCsv(a), tuningCsv(b), `csv, seed ${seed} ${order} size ${size}`);
        assertEquals(
          tuningCsv(a, { format: "single-turn" }),
          tuningCsv(b, { format: "single-turn" }),
        );
      }
    }
  }
});

Deno.test("countries task: evaluation prompts and eval.xlsx are today's, byte for byte", async () => {
  const seed = 7;
  const train = generateNestedTrainingSets([1000], { seed }).get(1000)!;
  const exclude = train.map((r) => r.countries);
  const ours = generateTaskEvalSet(countries, { seed, exclude, system: "sys" });
  const today = generateEvalSet({ seed, exclude, system: "sys" });
  assertEquals(ours, today);
  assertEquals(await evalXlsxBytes(ours), await evalXlsxBytes(today));
});

Deno.test("countries task: the spec's defaults are the cookbook's mixes and templates", () => {
  assertEquals(countries.mix.trainItems, { 10: 1, 15: 3, 20: 3, 30: 3 });
  assertEquals(countries.mix.evalItems, { 10: 1, 15: 1, 20: 1, 30: 1 });
  assertEquals(countries.mix.groups, { 2: 1, 3: 1, 4: 1, 5: 1, 6: 1 });
  assertEquals(countries.mix.evalPrompts, 100);
  assertEquals(countries.labels, { item: "국가", group: "대륙" });
  assertEquals(countries.taxonomy.groups.length, 6);
  assertEquals(countries.taxonomy.items.length, 193);
  assertEquals(countries.taxonomy.resolveItem("호주")?.name, "오스트레일리아");
  assertEquals(countries.taxonomy.resolveItem("Japan")?.group, "아시아");
});

Deno.test("elements task: defaults scaled to 118 items in 11 groups; rows follow the rule", async () => {
  const elements = await loadTaxonomyTask("elements");
  assertEquals(elements.taxonomy.items.length, 118);
  assertEquals(elements.taxonomy.groups.length, 11);
  // 10/15/20/30 × 118/193, and never below 8 (a row over 4 groups needs 2 in each).
  assertEquals(elements.mix.trainItems, { 8: 1, 9: 3, 12: 3, 18: 3 });
  assertEquals(elements.mix.groups, { 2: 1, 3: 1, 4: 1, 5: 1, 6: 1 });
  assertEquals(elements.templates.prompt, "목록에 있는 원소을(를) 계열별로 분류해줘.\n\n");
  assertEquals(elements.taxonomy.resolveItem("fe")?.name, "Iron");
  const sets = generateTaskTrainingSets(elements, [100, 400], { seed: 3 });
  const big = sets.get(400)!;
  assertEquals(big.length, 400);
  const bigIds = new Set(big.map((r) => r.id));
  assert(sets.get(100)!.every((r) => bigIds.has(r.id)), "nested");
  for (const row of big) {
    assert(row.text.startsWith(elements.templates.prompt));
    assert(row.completion.startsWith(elements.templates.completion));
    const answered = row.groups.flatMap((g) => g.items);
    assertEquals([...answered].sort(), [...row.items].sort());
    assertEquals(row.groups.length, row.groupCount);
    assertEquals(row.items.length, row.itemCount);
    for (const g of row.groups) {
      assert(g.items.length >= (row.groupCount <= 4 ? 2 : 1));
      for (const item of g.items) assertEquals(elements.taxonomy.resolveItem(item)?.group, g.group);
    }
  }
  // Same seed, same rows; another seed, other rows.
  assertEquals(generateTaskTrainingSets(elements, [100], { seed: 3 }).get(100), sets.get(100));
  const other = generateTaskTrainingSets(elements, [100], { seed: 4 }).get(100)!;
  assert(other.some((r, i) => r.text !== sets.get(100)![i].text));
  const evalSet = generateTaskEvalSet(elements, { seed: 3, exclude: big.map((r) => r.items) });
  assertEquals(evalSet.length, 100);
  const trainSets = new Set(big.map((r) => [...r.items].sort().join("\n")));
  assert(evalSet.every((p) => !trainSets.has([...p.countries].sort().join("\n"))));
});

Deno.test("a taxonomy of more than seven groups draws on streams of its own per cell", async () => {
  const entries = Array.from(
    { length: 9 },
    (_, g) => Array.from({ length: 4 }, (_, i) => ({ item: `i${g}-${i}`, group: `g${g}` })),
  ).flat();
  const task = await resolveTaxonomyTask(
    parseTaskSpec({
      kind: "taxonomy",
      name: "nine",
      labels: { item: "항목", group: "묶음" },
      taxonomy: { entries },
      mix: { trainItems: { "9": 1, "10": 1 }, evalItems: { "9": 1 }, groups: { "8": 1, "9": 1 } },
    }) as never,
  );
  const rows = generateTaskTrainingSets(task, [40], { seed: 1 }).get(40)!;
  const cells = new Map<string, string[]>();
  for (const r of rows) {
    const key = `${r.itemCount}/${r.groupCount}`;
    cells.set(key, [...(cells.get(key) ?? []), r.text]);
  }
  assertEquals([...cells.keys()].sort(), ["10/8", "10/9", "9/8", "9/9"]);
  // Each cell's first row differs from every other cell's: no two cells share a stream.
  const firsts = [...cells.values()].map((texts) => texts[0]);
  assertEquals(new Set(firsts).size, firsts.length);
});

Deno.test("taxonomy CSV: with and without BOM, aliases split on ; and |, Excel the same", async () => {
  const body =
    "item,group,aliases\r\n사과,과일,apple;애플\r\n배,과일,\r\n당근,채소,carrot|홍당무\r\n" +
    "무,채소\r\n";
  const plain = parseTaxonomyCsv(body, "food.csv");
  const bom = parseTaxonomyCsv("\ufeff" + body, "food.csv");
  assertEquals(plain.items, bom.items);
  assertEquals(plain.groups, ["과일", "채소"]);
  assertEquals(plain.resolveItem("애플")?.name, "사과");
  assertEquals(plain.resolveItem("홍당무")?.group, "채소");
  assertEquals(plain.name, "food");
  await withTempDir("tasks_spec_", async (dir) => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("items");
    ws.addRow(["Item", "Group", "Aliases"]);
    ws.addRow(["사과", "과일", "apple;애플"]);
    ws.addRow(["배", "과일"]);
    ws.addRow(["당근", "채소", { richText: [{ text: "carrot|" }, { text: "홍당무" }] }]);
    ws.addRow(["무", "채소"]);
    const path = join(dir, "food.xlsx");
    await wb.xlsx.writeFile(path);
    const fromXlsx = await readTaxonomyFile(path);
    assertEquals(fromXlsx.items, plain.items);
    await Deno.writeTextFile(join(dir, "food.csv"), "\ufeff" + body);
    assertEquals((await readTaxonomyFile(join(dir, "food.csv"))).items, plain.items);
  });
});

Deno.test("bad taxonomies are refused in one line naming the row", async () => {
  await refused(
    () => parseTaxonomyCsv("item,group\n사과,과일\n배,과일\n사과,채소\n", "t.csv"),
    `t.csv: row 4: item "사과" is in two groups, "과일" (t.csv: row 2) and "채소"`,
  );
  await refused(
    () => parseTaxonomyCsv("item,group\n사과,과일\n과일,채소\n", "t.csv"),
    `t.csv: row 3: item "과일" is also a group name`,
  );
  await refused(
    () => parseTaxonomyCsv("item,group\n사과,과일\n배,\n", "t.csv"),
    `t.csv: row 3: item "배" has an empty group`,
  );
  await refused(
    () => parseTaxonomyCsv("item,group\n사과,과일\n,과일\n", "t.csv"),
    "t.csv: row 3: empty item",
  );
  await refused(
    () => parseTaxonomyCsv("name,category\n사과,과일\n", "t.csv"),
    "t.csv: row 1: the header must name the columns item,group[,aliases]",
  );
  await refused(
    () => parseTaxonomyCsv("item,group\n", "t.csv"),
    "t.csv: no items under the header",
  );
  await refused(() => readTaxonomyFile("/nonexistent/t.csv"), "no such file");
});

Deno.test("a taxonomy too small for the mix is refused with the reason", async () => {
  await withTempDir("tasks_spec_", async (dir) => {
    const path = join(dir, "tiny.csv");
    await Deno.writeTextFile(path, "item,group\na,x\nb,x\nc,y\nd,y\n");
    // Two groups of two: the cookbook's mix asks rows of up to 6 groups → only 2 groups fit, and
    // the smallest default row (2 groups × 2) needs 4 items; 4 items in all cannot hold 4+ rows'
    // scaled counts above 4.
    const msg = await refused(
      () => loadTaxonomyTask(path),
      'taxonomy "tiny" (4 items in 2 groups)',
    );
    assert(msg.includes("too small for the mix"), msg);
    const nine = join(dir, "nine.json");
    await Deno.writeTextFile(
      nine,
      JSON.stringify({
        kind: "taxonomy",
        name: "nine",
        labels: { item: "글자", group: "묶음" },
        taxonomy: {
          entries: ["a", "b", "c", "d", "e", "f"].map((item, i) => ({
            item,
            group: i < 3 ? "x" : "y",
          })),
        },
        mix: { evalItems: { "4": 1 }, evalPrompts: 10 },
      }),
    );
    await refused(
      () => loadTaxonomyTask(nine),
      "the evaluation set asks 10 different lists of 4 items over 2 groups, and there are only 9",
    );
    const one = join(dir, "one.csv");
    await Deno.writeTextFile(one, "item,group\na,x\nb,x\nc,x\n");
    await refused(() => loadTaxonomyTask(one), "a row spans at least 2 groups");
  });
  const spec = (mix: unknown) =>
    parseTaskSpec({
      kind: "taxonomy",
      name: "small",
      labels: { item: "항목", group: "분류" },
      taxonomy: { builtin: "elements" },
      mix,
    });
  await refused(
    () => resolveTaxonomyTask(spec({ groups: { "12": 1 } }) as never),
    "a row spans up to 12 groups",
  );
  await refused(
    () => resolveTaxonomyTask(spec({ trainItems: { "200": 1 } }) as never),
    "a row of 200 items over 2 groups",
  );
  await refused(
    () => resolveTaxonomyTask(spec({ trainItems: { "5": 1 } }) as never),
    "the mix asks rows of 5 items over 3 groups: the cookbook's rule needs at least 6",
  );
});

Deno.test("task spec JSON: checked with zod, the first problem in one line", async () => {
  await refused(() => parseTaskSpec({ kind: "taxonomy" }, "my.json"), "my.json: name:");
  await refused(
    () => parseTaskSpec({ ...BUILTIN_TASKS.elements, scorer: "exact" }, "my.json"),
    "my.json: scorer:",
  );
  await refused(
    () => parseTaskSpec({ ...BUILTIN_TASKS.elements, mix: { groups: { "two": 1 } } }, "my.json"),
    "my.json: mix.groups.two",
  );
  await refused(() => loadTaxonomyTask("planets"), "not a built-in task (countries, elements)");
  await withTempDir("tasks_spec_", async (dir) => {
    await Deno.writeTextFile(join(dir, "items.csv"), "item,group\na,x\nb,x\nc,x\nd,y\ne,y\nf,y\n");
    const specPath = join(dir, "task.json");
    await Deno.writeTextFile(
      specPath,
      JSON.stringify({
        kind: "taxonomy",
        name: "letters",
        labels: { item: "글자", group: "묶음" },
        taxonomy: { file: "items.csv" },
        mix: { trainItems: { "4": 1, "5": 1 }, evalItems: { "4": 1 }, evalPrompts: 9 },
        templates: { prompt: "Sort these {item}s by {group}:\n", separator: " / " },
      }),
    );
    const task: TaxonomyTask = await loadTaxonomyTask(specPath);
    assertEquals(task.mix.groups, { 2: 1 });
    assertEquals(task.templates.prompt, "Sort these 글자s by 묶음:\n");
    const rows = generateTaskTrainingSets(task, [20], { seed: 9 }).get(20)!;
    assert(rows.every((r) => r.text.startsWith("Sort these 글자s by 묶음:\n")));
    assert(rows.every((r) => r.text.includes(" / ")));
    assert(rows.every((r) => /\n\n[xy]: /.test(r.completion)));
    // 2 of 3 in each group: 3 × 3 = 9 different lists of 4, all of them asked once.
    const prompts = generateTaskEvalSet(task, { seed: 9 });
    assertEquals(new Set(prompts.map((p) => [...p.countries].sort().join())).size, 9);
    await Deno.writeTextFile(specPath, "{ not json");
    await refused(() => loadTaxonomyTask(specPath), "not JSON");
  });
  assertEquals(builtinTaxonomy("elements"), builtinTaxonomy("elements"));
});

Deno.test("possibleSets counts the lists the cookbook's rule allows, as listing them does", () => {
  const sizes = [1, 2, 3, 4];
  const entries = sizes.flatMap((n, g) =>
    Array.from({ length: n }, (_, i) => ({ item: `g${g}i${i}`, group: `g${g}` }))
  );
  const taxonomy = buildTaxonomy(entries, { name: "counted" });
  // Every subset of the 10 items, kept when it spans k groups each holding the rule's minimum.
  const brute = (n: number, k: number) => {
    let count = 0;
    for (let mask = 0; mask < 1 << entries.length; mask++) {
      const picked = entries.filter((_, i) => mask & (1 << i));
      if (picked.length !== n) continue;
      const per = new Map<string, number>();
      for (const e of picked) per.set(e.group, (per.get(e.group) ?? 0) + 1);
      const min = k <= 4 ? 2 : 1;
      if (per.size === k && [...per.values()].every((v) => v >= min)) count++;
    }
    return count;
  };
  for (const [n, k] of [[4, 2], [5, 2], [6, 3], [7, 2], [8, 3], [9, 4], [2, 1], [3, 1]]) {
    assertEquals(possibleSets(n, k, taxonomy), brute(n, k), `${n} items over ${k} groups`);
  }
});
