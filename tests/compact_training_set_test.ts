/**
 * The compact generator (`lib/datasets/compactTrainingSet.ts`) against the readable one (`lib/datasets/generator.ts`):
 * for every training set the dataset tests pin, and for the options the CLI passes through, the
 * same rows field for field, the same tuning-CSV bytes as `tuningCsv` (csv-stringify) in both
 * formats, and the same statistics.
 */
import nodeAssert from "node:assert/strict";
import {
  compactProblems,
  compactRows,
  compactStats,
  compactTuningCsv,
  compactTuningCsvChunks,
  drawCompactTrainingSet,
} from "../lib/datasets/compactTrainingSet.ts";
import {
  DatasetOptionsError,
  datasetStats,
  generateTrainingSet,
  parseTuningCsv,
  type TrainingOptions,
  tuningCsv,
} from "../lib/datasets/generator.ts";
import { CONTINENTS, getTaxonomy } from "../lib/countries/taxonomy.ts";

const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

const un = getTaxonomy("un");
const cookbook = getTaxonomy("cookbook");
const utf8 = new TextEncoder();

/** The training sets `tests/dataset_test.ts` pins, and the CLI's other options. */
const CASES: [string, TrainingOptions & { rows: number }][] = [
  ["10,000 rows, seed 7", { rows: 10_000, seed: 7, taxonomy: un }],
  ["10,000 rows, seed 8", { rows: 10_000, seed: 8, taxonomy: un }],
  ["10,000 rows, seed 1 (the benchmark's)", { rows: 10_000, seed: 1 }],
  ["2,500 rows, seed 4", { rows: 2500, seed: 4, taxonomy: un }],
  ["50 rows, seed 3", { rows: 50, seed: 3, taxonomy: un }],
  ["37 rows, seed 3", { rows: 37, seed: 3, taxonomy: un }],
  ["200 rows grouped, seed 11", { rows: 200, seed: 11, taxonomy: un, order: "grouped" }],
  ["2,000 rows of the cookbook list, seed 7", { rows: 2000, seed: 7, taxonomy: cookbook }],
  ["100 rows, seed 5", { rows: 100, seed: 5, taxonomy: un }],
  ["16 rows, seed 5", { rows: 16, seed: 5 }],
  ["a negative seed", { rows: 300, seed: -123456, taxonomy: un }],
  [
    "custom mixes",
    { rows: 300, seed: 9, countryMix: { 6: 1, 12: 2 }, continentMix: { 3: 1, 6: 1 } },
  ],
  [
    "small sets that repeat",
    { rows: 3000, seed: 5, countryMix: { 4: 1, 5: 1 }, continentMix: { 2: 1 } },
  ],
  ["no rows", { rows: 0, seed: 1 }],
];

for (const [name, opts] of CASES) {
  Deno.test(`compact generator = readable generator: ${name}`, () => {
    const rows = generateTrainingSet(opts);
    const set = drawCompactTrainingSet(opts);
    assertEquals(compactRows(set), rows, "rows");
    for (const format of ["text-completion", "single-turn"] as const) {
      assertEquals(
        compactTuningCsv(set, format),
        utf8.encode(tuningCsv(rows, { format })),
        `${format} CSV bytes`,
      );
    }
    assertEquals(compactStats(set), datasetStats(rows, { taxonomy: opts.taxonomy }), "stats");
    assertEquals(compactProblems(set), [], "rule check");
  });
}

Deno.test("compact generator: repeated country sets are counted as the readable stats count them", () => {
  const opts = { rows: 3000, seed: 5, countryMix: { 4: 1, 5: 1 }, continentMix: { 2: 1 } };
  const stats = compactStats(drawCompactTrainingSet(opts));
  nodeAssert.ok(stats.duplicates.rows > 0, "the case has repeats");
  assertEquals(stats.duplicates, datasetStats(generateTrainingSet(opts)).duplicates);
});

Deno.test("compact generator: the CSV comes in chunks of whole rows", () => {
  const set = drawCompactTrainingSet({ rows: 10_000, seed: 7, taxonomy: un });
  for (const format of ["text-completion", "single-turn"] as const) {
    const chunks = [...compactTuningCsvChunks(set, format)];
    nodeAssert.ok(chunks.length > 1, `${format}: ${chunks.length} chunks`);
    for (const chunk of chunks) {
      nodeAssert.deepStrictEqual([...chunk.subarray(-3)], [...utf8.encode('"\r\n')], format);
    }
    const whole = compactTuningCsv(set, format);
    assertEquals(chunks.reduce((n, c) => n + c.length, 0), whole.length, format);
  }
  assertEquals([...compactTuningCsvChunks(drawCompactTrainingSet({ rows: 0, seed: 1 }))], [
    utf8.encode("\ufeffText,Completion\r\n"),
  ]);
});

Deno.test("compact generator: the rule check names rows that break the rule", () => {
  const set = drawCompactTrainingSet({ rows: 50, seed: 3, taxonomy: un });
  const [r0, r1] = set.order;
  const r2 = set.order.find((r) => r !== r0 && r !== r1 && set.continentCount[r] <= 4)!;
  const { names, continentOf } = set.countries;
  const slots = (r: number) => [...set.asked.subarray(set.start[r], set.start[r + 1])];
  // Row r0: its first completion country replaced by one of another continent it does not ask.
  const b0 = set.blockContinent[r0 * 6];
  const foreign = names.findIndex((_, i) => continentOf[i] !== b0 && !slots(r0).includes(i));
  set.grouped[set.start[r0]] = foreign;
  // Row r1: the text asks one country twice.
  set.asked[set.start[r1] + 1] = set.asked[set.start[r1]];
  // Row r2: its first block cut to one country (the rest go to its last block).
  const k2 = set.continentCount[r2];
  const cut = set.blockSize[r2 * 6] - 1;
  set.blockSize[r2 * 6] = 1;
  set.blockSize[r2 * 6 + k2 - 1] += cut;
  const problems = compactProblems(set);
  const id = (r: number) =>
    `n${set.countryCount[r]}k${set.continentCount[r]}-` +
    String(set.indexInCell[r] + 1).padStart(5, "0");
  const of = (r: number) => problems.filter((p) => p.id === id(r)).map((p) => p.problem);
  const under = CONTINENTS[b0];
  assertEquals(of(r0), [
    `${names[foreign]} listed under ${under}, belongs to ${CONTINENTS[continentOf[foreign]]}`,
    "completion does not list exactly the asked countries",
  ]);
  nodeAssert.ok(of(r1).includes("text repeats a country"), JSON.stringify(of(r1)));
  nodeAssert.ok(
    of(r2).includes(`${CONTINENTS[set.blockContinent[r2 * 6]]} has 1 < 2 countries`),
    JSON.stringify(of(r2)),
  );
  assertEquals(
    new Set(problems.map((p) => p.id)),
    new Set([id(r0), id(r1), id(r2)]),
    "no other row is named",
  );
});

Deno.test("compact generator: the same options errors as the readable one", () => {
  const cases: (TrainingOptions & { rows: number })[] = [
    { rows: 10, seed: 1.5 },
    { rows: -1, seed: 1 },
    { rows: 10, seed: 1, continentMix: { 7: 1 } },
    { rows: 10, seed: 1, countryMix: { 3: 1 }, continentMix: { 2: 1 } },
  ];
  for (const opts of cases) {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        nodeAssert.ok(e instanceof DatasetOptionsError, String(e));
        return e.message;
      }
      nodeAssert.fail(`no error for ${JSON.stringify(opts)}`);
    };
    assertEquals(
      message(() => drawCompactTrainingSet(opts)),
      message(() => generateTrainingSet(opts)),
    );
  }
});

Deno.test("single-turn tuning CSVs: every row is its own conversation, C_ID counting up, T_ID 0", () => {
  const set = drawCompactTrainingSet({ rows: 300, seed: 3, taxonomy: un });
  const readable = generateTrainingSet({ rows: 300, seed: 3, taxonomy: un });
  for (
    const text of [
      compactTuningCsv(set, "single-turn"),
      tuningCsv(readable, { format: "single-turn" }),
    ]
  ) {
    const parsed = parseTuningCsv(
      typeof text === "string" ? text : new TextDecoder("utf-8", { ignoreBOM: true }).decode(text),
    );
    assertEquals(parsed.format, "single-turn");
    assertEquals(parsed.rows.length, 300);
    parsed.rows.forEach((r, i) => {
      assertEquals(r.tId, 0, `row ${r.row}: T_ID`);
      assertEquals(r.cId, i, `row ${r.row}: C_ID`);
    });
  }
});
