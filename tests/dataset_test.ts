import nodeAssert from "node:assert/strict";
import {
  apportion,
  checkOverlap,
  completionText,
  countriesFromText,
  crossMix,
  DatasetOptionsError,
  type DatasetRow,
  datasetStats,
  generateEvalSet,
  generateNestedTrainingSets,
  generateTrainingSet,
  promptText,
  readPromptSheet,
  tuningCsv,
  validateRows,
} from "../lib/datasets/generator.ts";
import { getTaxonomy } from "../lib/countries/taxonomy.ts";
import { formatStats } from "../lib/cli/dataset.ts";
import { COMPLETION_PREFIX, type Continent, TEXT_PREFIX, TUNING_SIZES } from "../lib/cookbook.ts";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);
const assertNotEquals = (actual: unknown, expected: unknown) =>
  nodeAssert.notDeepStrictEqual(actual, expected);
const assertThrows = (fn: () => unknown, type: new (...a: never[]) => Error, includes = "") =>
  nodeAssert.throws(fn, (e: unknown) => e instanceof type && e.message.includes(includes));

const un = getTaxonomy("un");
const cookbook = getTaxonomy("cookbook");
const train10k = generateTrainingSet({ rows: 10_000, seed: 7, taxonomy: un });

/** rows per `countryCount/continentCount` cell. */
function cellTable(rows: readonly { countryCount: number; continentCount: number }[]) {
  const t: Record<string, number> = {};
  for (const r of rows) {
    const k = `${r.countryCount}/${r.continentCount}`;
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

function table(fn: (n: number, k: number) => number): Record<string, number> {
  const t: Record<string, number> = {};
  for (const n of [10, 15, 20, 30]) {
    for (const k of [2, 3, 4, 5, 6]) {
      const v = fn(n, k);
      if (v > 0) t[`${n}/${k}`] = v;
    }
  }
  return t;
}

Deno.test("templates: exact prompt and completion strings", () => {
  assertEquals(
    promptText(["일본", "독일", "중국"]),
    "목록에서 나라를 대륙별로 분류해줘.\n\n일본, 독일, 중국",
  );
  assertEquals(
    completionText([
      { continent: "아시아", countries: ["일본", "중국"] },
      { continent: "유럽", countries: ["독일", "프랑스"] },
    ]),
    "목록에 있는 나라들을 대륙별로 분류하면 다음과 같습니다\n\n아시아: 일본, 중국\n\n유럽: 독일, 프랑스",
  );
  for (const row of train10k.slice(0, 500)) {
    assertEquals(row.text, TEXT_PREFIX + row.countries.join(", "));
    assertEquals(
      row.completion,
      COMPLETION_PREFIX +
        row.groups.map((g) => `${g.continent}: ${g.countries.join(", ")}`).join("\n\n"),
    );
    assert(!row.completion.endsWith("\n"), "no trailing newline (the cookbook strip()s)");
    assertEquals(countriesFromText(row.text), [...row.countries]);
  }
});

Deno.test("determinism: same seed and options give identical rows; other seeds differ", () => {
  const again = generateTrainingSet({ rows: 10_000, seed: 7, taxonomy: un });
  assertEquals(tuningCsv(again), tuningCsv(train10k));
  assertEquals(again.map((r) => r.id), train10k.map((r) => r.id));
  const other = generateTrainingSet({ rows: 10_000, seed: 8, taxonomy: un });
  assertNotEquals(tuningCsv(other), tuningCsv(train10k));
  const e1 = generateEvalSet({ seed: 7, taxonomy: un });
  const e2 = generateEvalSet({ seed: 7, taxonomy: un });
  assertEquals(e1, e2);
});

Deno.test("determinism: two CLI runs write byte-identical files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dataset_cli_" });
  const run = (out: string, ...extra: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["task", "dataset", "--rows", "10000", "--seed", "7", "--out", out, ...extra],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const [a, b] = await Promise.all([run(`${dir}/a.csv`), run(`${dir}/b.csv`, "--validate")]);
  assertEquals(a.code, 0, new TextDecoder().decode(a.stderr));
  assertEquals(b.code, 0, new TextDecoder().decode(b.stderr));
  const out = new TextDecoder().decode(a.stdout);
  assert(out.includes("validation      0 problems (the cookbook's rule on the drawn rows"), out);
  assert(out.includes("15: 3000 (30.0%)"), out);
  const validated = new TextDecoder().decode(b.stdout);
  assert(validated.includes("the text of the 10000 rows read back)"), validated);
  // The statistics are the readable generator's own.
  assert(out.includes(formatStats(`${dir}/a.csv`, datasetStats(train10k, { taxonomy: un }))), out);
  const [fa, fb] = await Promise.all([
    Deno.readFile(`${dir}/a.csv`),
    Deno.readFile(`${dir}/b.csv`),
  ]);
  assertEquals(fa, fb);
  // And the CLI wrote exactly what the library generates.
  assertEquals(new TextDecoder("utf-8", { ignoreBOM: true }).decode(fa), tuningCsv(train10k));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("CLI --eval: says the overlap was not checked without --exclude", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dataset_cli_" });
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "dataset", "--eval", "--out", `${dir}/eval.xlsx`],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  const text = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assert(text.includes("overlap         not checked: no training file given"), text);
  assert(!text.includes("prompts ask a set from"), text);
});

Deno.test("CLI --eval --out x.csv writes a CSV (not an XLSX) that reads back as the same prompts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dataset_cli_" });
  try {
    for (const name of ["eval.csv", "eval.xlsx"]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["task", "dataset", "--eval", "--prompts", "30", "--seed", "5", "--out"]
          .concat([`${dir}/${name}`]),
        cwd: new URL("..", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    const csv = await Deno.readFile(`${dir}/eval.csv`);
    assertEquals([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 with BOM");
    assert(new TextDecoder().decode(csv).startsWith("system,user,prompt_id,"));
    const [fromCsv, fromXlsx] = await Promise.all([
      readPromptSheet(`${dir}/eval.csv`),
      readPromptSheet(`${dir}/eval.xlsx`),
    ]);
    assertEquals(fromCsv.length, 30);
    assertEquals(fromCsv, fromXlsx);
    assertEquals(fromCsv, generateEvalSet({ seed: 5, prompts: 30, taxonomy: getTaxonomy("un") }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function sha256(text: string): Promise<string> {
  const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("determinism: every seed these tests use gives the rows it always gave", async () => {
  // SHA-256 of the CSV text or JSON of the rows, recorded from the generator as it was when the
  // datasets of the published runs were made; a change here changes every run's datasets.
  const train8 = generateTrainingSet({ rows: 10_000, seed: 8, taxonomy: un });
  const train4 = generateTrainingSet({ rows: 2500, seed: 4, taxonomy: un });
  const eval9 = generateEvalSet({ seed: 9, taxonomy: un });
  const sets2024 = generateNestedTrainingSets(TUNING_SIZES, { seed: 2024, taxonomy: un });
  const cases: [string, string, string][] = [
    [
      "10,000 rows, seed 7",
      JSON.stringify([tuningCsv(train10k), train10k]),
      "9d1cecbdfbb99fb7d44d1ab7da2286ad3e742f11f5f8c87fcf6f830ef6ea626c",
    ],
    [
      "10,000 rows, seed 8",
      tuningCsv(train8),
      "58831427ecc7a70c8e5e8d6fa057a2124f54791553edda84cc5af0f0c3630442",
    ],
    [
      "2,500 rows, seed 4, single-turn",
      tuningCsv(train4, { format: "single-turn" }),
      "05a915af3f2f0fa57500670b578652d661289b2c09d0a015c3a18fc58a0eb986",
    ],
    [
      "50 and 37 rows, seed 3",
      JSON.stringify([
        generateTrainingSet({ rows: 50, seed: 3, taxonomy: un }),
        generateTrainingSet({ rows: 37, seed: 3, taxonomy: un }),
      ]),
      "b1bab5995900f7ee47c295184c438d61f152adef2c30c58fab6e1006de5f5c26",
    ],
    [
      "200 rows grouped, seed 11",
      JSON.stringify(generateTrainingSet({ rows: 200, seed: 11, taxonomy: un, order: "grouped" })),
      "cd10e1fe62431ab4ec13098692a182b83ea5664c9c12c507aa3504540051430c",
    ],
    [
      "2,000 rows of the cookbook list, seed 7",
      JSON.stringify(generateTrainingSet({ rows: 2000, seed: 7, taxonomy: cookbook })),
      "efc812d298ff477995c3db5e761d34e940620be19b926b39a16a07767fa3e087",
    ],
    [
      "nested sizes, seeds 5 and 1",
      JSON.stringify([
        [...generateNestedTrainingSets([50, 100, 200, 1000], { seed: 5, taxonomy: un })],
        [...generateNestedTrainingSets([26, 25], { seed: 1, taxonomy: un })],
      ]),
      "4d0a2fe5b22a178dafa5c47d7d63c7eb3117115a6a5bc169b7c03727b07d0786",
    ],
    [
      "eval sets, seeds 7 and 9",
      JSON.stringify([
        generateEvalSet({ seed: 7, taxonomy: un }),
        generateEvalSet({ seed: 9, taxonomy: un, exclude: eval9.map((p) => p.countries) }),
      ]),
      "0df2aa54fadaf41715862ef185484fa4677d70077d522ce324b73d9c5cb31cc3",
    ],
    [
      "eval set excluding 10,000 rows, seed 7",
      JSON.stringify(
        generateEvalSet({ seed: 7, taxonomy: un, exclude: train10k.map((r) => r.countries) }),
      ),
      "2afd5cb0f9ec9a71d2392ed9eb05353b0c6532b7843c47d17f60eb861d049e95",
    ],
    [
      "reproduce's datasets, seed 2024",
      JSON.stringify([
        [...sets2024].map(([size, rows]) => [size, tuningCsv(rows)]),
        generateEvalSet({
          seed: 2024,
          taxonomy: un,
          exclude: sets2024.get(10_000)!.map((r) => r.countries),
        }),
      ]),
      "1ab26016f04aa496779c3cf61f850f63a79c91b74b175d8d3a0fd802db184d74",
    ],
  ];
  for (const [name, output, digest] of cases) assertEquals(await sha256(output), digest, name);
});

Deno.test("mix: 10,000 rows are exactly 10/15/20/30 as 1:3:3:3 × 2–6 continents", () => {
  assertEquals(cellTable(train10k), table((n) => (n === 10 ? 200 : 600)));
  const s = datasetStats(train10k, { taxonomy: un });
  assertEquals(s.byCountryCount.map((m) => [m.value, m.rows]), [
    [10, 1000],
    [15, 3000],
    [20, 3000],
    [30, 3000],
  ]);
  assertEquals(s.byContinentCount.map((m) => m.rows), [2000, 2000, 2000, 2000, 2000]);
});

Deno.test("mix: 50 rows exact, 37 rows by largest remainder", () => {
  const r50 = generateTrainingSet({ rows: 50, seed: 3, taxonomy: un });
  assertEquals(cellTable(r50), table((n) => (n === 10 ? 1 : 3)));
  // 37 × 1/50 = 0.74 (5 small cells), 37 × 3/50 = 2.22 (15 large cells): floors give 30; the
  // 7 left go to the 5 small cells (remainder .74) and then the first two large cells (.22).
  const r37 = generateTrainingSet({ rows: 37, seed: 3, taxonomy: un });
  assertEquals(
    cellTable(r37),
    table((n, k) => (n === 10 ? 1 : n === 15 && k <= 3 ? 3 : 2)),
  );
  assertEquals(r37.length, 37);
  assertEquals(apportion(7, [1, 1, 1]), [3, 2, 2]);
  assertEquals(apportion(10, [1, 3, 3, 3]), [1, 3, 3, 3]);
  assertEquals(apportion(0, [1, 2]), [0, 0]);
});

Deno.test("sampling rule: every completion is correct under the taxonomy", () => {
  for (const row of train10k) {
    const min = row.continentCount <= 4 ? 2 : 1;
    assertEquals(row.groups.length, row.continentCount);
    assertEquals(new Set(row.groups.map((g) => g.continent)).size, row.continentCount);
    assertEquals(row.countries.length, row.countryCount);
    assertEquals(new Set(row.countries).size, row.countryCount, "no country twice");
    let sum = 0;
    for (const g of row.groups) {
      assert(g.countries.length >= min, `${row.id}: ${g.continent} has < ${min}`);
      sum += g.countries.length;
      for (const name of g.countries) {
        const c = un.resolveCountry(name);
        assert(c && c.name === name, `${name} is a canonical country name`);
        assertEquals(c.continent, g.continent, `${name} under ${g.continent}`);
      }
    }
    assertEquals(sum, row.countryCount);
    assertEquals(
      [...row.countries].sort(),
      row.groups.flatMap((g) => g.countries).sort(),
    );
  }
  assertEquals(validateRows(train10k, { taxonomy: un }), []);
});

Deno.test("sampling rule: 5–6 continents allow single-country blocks, 2–4 never do", () => {
  const singles = (k: number) =>
    train10k.filter((r) => r.continentCount === k && r.groups.some((g) => g.countries.length === 1))
      .length;
  assert(singles(5) > 0 && singles(6) > 0);
  assertEquals(singles(2) + singles(3) + singles(4), 0);
});

Deno.test("validateRows catches a misclassified, a missing and a malformed row", () => {
  const row = train10k.find((r) => r.continentCount === 2)!;
  const [a, b] = row.groups;
  const swapped = completionText([
    { continent: a.continent, countries: [b.countries[0], ...a.countries.slice(1)] },
    { continent: b.continent, countries: [a.countries[0], ...b.countries.slice(1)] },
  ]);
  const missing = completionText([a, { continent: b.continent, countries: b.countries.slice(1) }]);
  const problems = validateRows([
    { id: "swap", text: row.text, completion: swapped },
    { id: "miss", text: row.text, completion: missing },
    { id: "bad", text: row.text, completion: row.completion + "\n\n" },
    { id: "ok", text: row.text, completion: row.completion },
  ], { taxonomy: un });
  const ids = new Set(problems.map((p) => p.id));
  assert(
    ids.has("swap") && ids.has("miss") && ids.has("bad") && !ids.has("ok"),
    JSON.stringify(problems),
  );
  assert(problems.some((p) => p.id === "swap" && p.problem.includes("belongs to")));
});

Deno.test("validateRows: every kind of problem is named; aliases and names outside the list are refused", () => {
  const asia = ["일본", "중국"];
  const europe = ["독일", "프랑스"];
  const text = promptText([...asia, ...europe]);
  const blocks = (...groups: [Continent, string[]][]) =>
    completionText(groups.map(([continent, countries]) => ({ continent, countries })));
  const good = blocks(["아시아", asia], ["유럽", europe]);
  const rows = [
    { id: "ok", text, completion: good },
    { id: "text-template", text: text.replace("분류해줘", "나눠줘"), completion: good },
    { id: "completion-template", text, completion: good.replace("같습니다", "같아요") },
    { id: "alias-continent", text, completion: good.replace("아시아:", "아시아주:") },
    {
      id: "twice",
      text,
      completion: blocks(["아시아", ["일본"]], ["아시아", ["중국"]], ["유럽", europe]),
    },
    { id: "few", text, completion: blocks(["아시아", ["일본"]], ["유럽", ["중국", ...europe]]) },
    { id: "extra-asked", text: promptText([...asia, ...europe, "브라질"]), completion: good },
    {
      id: "repeat",
      text: promptText([...asia, "일본", ...europe]),
      completion: blocks(["아시아", [...asia, "일본"]], ["유럽", europe]),
    },
    {
      id: "alias-name",
      text: text.replace("일본", "니혼"),
      completion: good.replace("일본", "니혼"),
    },
    { id: "malformed", text, completion: good + "\n\n" },
  ];
  const problems = (id: string) =>
    validateRows(rows, { taxonomy: un }).filter((p) => p.id === id).map((p) => p.problem);
  assertEquals(problems("ok"), []);
  assertEquals(problems("text-template"), ["text does not start with the template"]);
  assertEquals(problems("completion-template"), ["completion does not start with the template"]);
  assertEquals(problems("alias-continent"), [
    'unknown continent "아시아주"',
    "completion does not list exactly the asked countries",
  ]);
  assertEquals(problems("twice"), [
    "아시아 has 1 < 2 countries",
    "continent 아시아 listed twice",
    "아시아 has 1 < 2 countries",
  ]);
  assertEquals(problems("few"), [
    "아시아 has 1 < 2 countries",
    "중국 listed under 유럽, belongs to 아시아",
  ]);
  assertEquals(problems("extra-asked"), ["completion does not list exactly the asked countries"]);
  assertEquals(problems("repeat"), ["text repeats a country"]);
  assertEquals(problems("alias-name"), ['"니혼" is not a country name']);
  assertEquals(problems("malformed"), ['malformed block ""']);

  const congo = un.countries.find((c) => !c.inCookbook)!;
  const withCongo = [{
    id: "congo",
    text: promptText([...asia, congo.name, "케냐"]),
    completion: blocks(["아시아", asia], ["아프리카", [congo.name, "케냐"]]),
  }];
  assertEquals(validateRows(withCongo, { taxonomy: un }), []);
  assertEquals(validateRows(withCongo, { taxonomy: cookbook }), [
    { id: "congo", problem: `${JSON.stringify(congo.name)} is not a country name` },
  ]);
});

Deno.test("order: grouped lists the same sets grouped by continent", () => {
  const shuffled = generateTrainingSet({ rows: 200, seed: 11, taxonomy: un });
  const grouped = generateTrainingSet({ rows: 200, seed: 11, taxonomy: un, order: "grouped" });
  assertEquals(grouped.map((r) => r.completion), shuffled.map((r) => r.completion));
  for (const r of grouped) {
    assertEquals([...r.countries], r.groups.flatMap((g) => g.countries));
    assertEquals(r.text, TEXT_PREFIX + r.countries.join(", "));
  }
  assert(shuffled.some((r, i) => r.text !== grouped[i].text));
  assertEquals(validateRows(grouped, { taxonomy: un }), []);
});

Deno.test("nested sizes: each smaller set is a subset of the larger, in the same order", () => {
  const sizes = [50, 100, 300, 1000];
  const sets = generateNestedTrainingSets(sizes, { seed: 5, taxonomy: un });
  for (let i = 0; i + 1 < sizes.length; i++) {
    const small = sets.get(sizes[i])!;
    const large = sets.get(sizes[i + 1])!;
    const largeIds = large.map((r) => r.id);
    const positions = small.map((r) => largeIds.indexOf(r.id));
    assert(positions.every((p) => p >= 0), "subset");
    assert(positions.every((p, j) => j === 0 || p > positions[j - 1]), "same relative order");
    for (const r of small) assertEquals(large[largeIds.indexOf(r.id)], r);
  }
  for (const size of sizes) {
    assertEquals(sets.get(size)!.length, size);
    assertEquals(cellTable(sets.get(size)!), table((n) => (n === 10 ? 1 : 3) * size / 50));
  }
  // A set does not depend on which other sizes were asked for.
  assertEquals(sets.get(100), generateTrainingSet({ rows: 100, seed: 5, taxonomy: un }));
});

Deno.test("nested sizes stay nested where largest remainder would not (25 → 26)", () => {
  const weights = crossMix().map((c) => c.weight);
  const lr25 = apportion(25, weights);
  const lr26 = apportion(26, weights);
  assert(lr26.some((c, i) => c < lr25[i]), "Hamilton's Alabama paradox happens at 25 → 26");
  const sets = generateNestedTrainingSets([26, 25], { seed: 1, taxonomy: un });
  const ids26 = new Set(sets.get(26)!.map((r) => r.id));
  assertEquals(sets.get(26)!.length, 26);
  assert(sets.get(25)!.every((r) => ids26.has(r.id)));
  const cells = crossMix();
  const got = cells.map((c) =>
    sets.get(26)!.filter((r) =>
      r.countryCount === c.countryCount && r.continentCount === c.continentCount
    ).length
  );
  got.forEach((g, i) => assert(Math.abs(g - lr26[i]) <= 1));
});

Deno.test("eval set: 100 prompts, 25 per country count, 20 per continent count, no overlap", () => {
  const prompts = generateEvalSet({
    seed: 7,
    taxonomy: un,
    exclude: train10k.map((r) => r.countries),
  });
  assertEquals(prompts.length, 100);
  assertEquals(
    prompts.map((p) => p.id),
    Array.from({ length: 100 }, (_, i) => `e${String(i + 1).padStart(3, "0")}`),
  );
  assertEquals(cellTable(prompts), table(() => 5));
  for (const p of prompts) {
    assertEquals(p.system, "");
    assertEquals(p.user, TEXT_PREFIX + p.countries.join(", "));
    assertEquals(p.countries.length, p.countryCount);
    const continents = new Set(p.countries.map((n) => un.resolveCountry(n)!.continent));
    assertEquals(continents.size, p.continentCount);
  }
  assertEquals(checkOverlap(prompts, train10k).overlapping, 0);
  assertEquals(new Set(prompts.map((p) => [...p.countries].sort().join())).size, 100);
  // Positive control: the check does find overlap, order-insensitively.
  const reversed = prompts.slice(0, 3).map((p, i) => ({
    id: `t${i}`,
    countries: [...p.countries].reverse(),
  }));
  const report = checkOverlap(prompts, reversed);
  assertEquals(report.overlapping, 3);
  assertEquals(report.pairs[0].trainId, "t0");
  assertEquals(
    generateEvalSet({ seed: 7, taxonomy: un, system: "너는 분류기야" })[0].system,
    "너는 분류기야",
  );
});

Deno.test("eval set: excluded sets are redrawn", () => {
  const first = generateEvalSet({ seed: 9, taxonomy: un });
  const second = generateEvalSet({ seed: 9, taxonomy: un, exclude: first.map((p) => p.countries) });
  assertEquals(checkOverlap(second, first).overlapping, 0);
  assertEquals(cellTable(second), table(() => 5));
});

Deno.test("stats: coverage, duplicates, chars, and the cookbook list", () => {
  const s = datasetStats(train10k, { taxonomy: un });
  assertEquals(s.rows, 10_000);
  assertEquals(s.coverage.countries, 193);
  assertEquals(s.coverage.used, 193);
  assertEquals(s.coverage.neverUsed, []);
  assertEquals(s.coverage.unknown, []);
  assert(s.textChars.min > TEXT_PREFIX.length && s.textChars.max >= s.textChars.mean);
  assert(s.completionChars !== null && s.completionChars.min > COMPLETION_PREFIX.length);
  assertEquals(s.cells.length, 20);

  const few = train10k.slice(0, 3);
  const dup: DatasetRow[] = [...few, {
    ...few[0],
    id: "copy",
    countries: [...few[0].countries].reverse(),
  }];
  const ds = datasetStats(dup, { taxonomy: un });
  assertEquals(ds.duplicates, { rows: 1, sets: 1 });
  assert(ds.coverage.neverUsed.length > 100);
  assertEquals(ds.coverage.used + ds.coverage.neverUsed.length, 193);

  const cb = generateTrainingSet({ rows: 2000, seed: 7, taxonomy: cookbook });
  const cs = datasetStats(cb, { taxonomy: cookbook });
  assertEquals(cs.coverage.countries, 192);
  assert(!cb.some((r) => r.countries.includes("콩고 민주 공화국")));
  assertEquals(validateRows(cb, { taxonomy: cookbook }), []);

  const es = datasetStats(generateEvalSet({ seed: 7, taxonomy: un }), { taxonomy: un });
  assertEquals(es.completionChars, null);
  assertEquals(es.byCountryCount.map((m) => m.rows), [25, 25, 25, 25]);
});

Deno.test("options: impossible mixes and bad seeds are clear errors", () => {
  assertThrows(
    () => generateTrainingSet({ rows: 10, seed: 1, continentMix: { 7: 1 } }),
    DatasetOptionsError,
  );
  assertThrows(
    () => generateTrainingSet({ rows: 10, seed: 1, countryMix: { 3: 1 }, continentMix: { 2: 1 } }),
    DatasetOptionsError,
    "at least 2",
  );
  assertThrows(() => generateTrainingSet({ rows: 10, seed: 1.5 }), DatasetOptionsError);
  assertThrows(() => generateTrainingSet({ rows: -1, seed: 1 }), DatasetOptionsError);
  assertThrows(() => crossMix({ 10: 0 }), DatasetOptionsError);
  // A custom mix works and is honoured exactly.
  const custom = generateTrainingSet({
    rows: 12,
    seed: 2,
    countryMix: { 12: 1 },
    continentMix: { 3: 1, 6: 2 },
  });
  assertEquals(cellTable(custom), { "12/3": 4, "12/6": 8 });
});
