/**
 * A drawn training set (`lib/sampling/`, what `dataset --rows` writes from) against the rows of
 * `generateTrainingSet` (`lib/datasets/`): for every training set the dataset tests pin, and for
 * the options the CLI passes through, the same rows in the same order, the same tuning-CSV bytes
 * as `tuningCsv` (csv-stringify) in both formats, and the same statistics.
 */
import nodeAssert from "node:assert/strict";
import {
  drawnBlocks,
  drawnItems,
  drawnProblems,
  drawnRowId,
  type DrawnSet,
  drawnStats,
  drawnTuningCsvChunks,
  drawTrainingSet,
} from "../lib/sampling/mod.ts";
import {
  DatasetOptionsError,
  datasetStats,
  generateTrainingSet,
  parseTuningCsv,
  type TrainingOptions,
  tuningCsv,
} from "../lib/datasets/mod.ts";
import { CONTINENTS, getTaxonomy } from "../lib/countries/taxonomy.ts";

const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

const un = getTaxonomy("un");
const cookbook = getTaxonomy("cookbook");
const utf8 = new TextEncoder();

/** The set's CSV in one piece. */
function drawnTuningCsv(set: DrawnSet, format?: "text-completion" | "single-turn"): Uint8Array {
  const chunks = [...drawnTuningCsvChunks(set, format)];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** The set's rows as ids, the text's countries and the completion's blocks. */
function drawnRows(set: DrawnSet) {
  return set.order.map((r) => ({
    id: drawnRowId(set.rows, r),
    countries: drawnItems(set.rows, r, set.textOrder === "grouped"),
    groups: drawnBlocks(set.rows, r).map((b) => ({
      continent: CONTINENTS[b.group],
      countries: b.items,
    })),
  }));
}

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
  Deno.test(`drawn set = generateTrainingSet's rows: ${name}`, () => {
    const rows = generateTrainingSet(opts);
    const set = drawTrainingSet(opts);
    assertEquals(
      drawnRows(set),
      rows.map(({ id, countries, groups }) => ({ id, countries, groups })),
      "rows",
    );
    for (const format of ["text-completion", "single-turn"] as const) {
      assertEquals(
        drawnTuningCsv(set, format),
        utf8.encode(tuningCsv(rows, { format })),
        `${format} CSV bytes`,
      );
    }
    assertEquals(drawnStats(set), datasetStats(rows, { taxonomy: opts.taxonomy }), "stats");
    assertEquals(drawnProblems(set), [], "rule check");
  });
}

Deno.test("drawn set: repeated country sets are counted as datasetStats counts them", () => {
  const opts = { rows: 3000, seed: 5, countryMix: { 4: 1, 5: 1 }, continentMix: { 2: 1 } };
  const stats = drawnStats(drawTrainingSet(opts));
  nodeAssert.ok(stats.duplicates.rows > 0, "the case has repeats");
  assertEquals(stats.duplicates, datasetStats(generateTrainingSet(opts)).duplicates);
});

Deno.test("drawn set: the CSV comes in chunks of whole rows", () => {
  const set = drawTrainingSet({ rows: 10_000, seed: 7, taxonomy: un });
  for (const format of ["text-completion", "single-turn"] as const) {
    const chunks = [...drawnTuningCsvChunks(set, format)];
    nodeAssert.ok(chunks.length > 1, `${format}: ${chunks.length} chunks`);
    for (const chunk of chunks) {
      nodeAssert.deepStrictEqual([...chunk.subarray(-3)], [...utf8.encode('"\r\n')], format);
    }
    const whole = utf8.encode(
      tuningCsv(generateTrainingSet({ rows: 10_000, seed: 7 }), { format }),
    );
    assertEquals(chunks.reduce((n, c) => n + c.length, 0), whole.length, format);
  }
  assertEquals([...drawnTuningCsvChunks(drawTrainingSet({ rows: 0, seed: 1 }))], [
    utf8.encode("\ufeffText,Completion\r\n"),
  ]);
});

Deno.test("drawn set: the rule check names rows that break the rule", () => {
  const set = drawTrainingSet({ rows: 50, seed: 3, taxonomy: un });
  const rows = set.rows;
  const [r0, r1] = set.order;
  const r2 = set.order.find((r) => r !== r0 && r !== r1 && rows.groupCount[r] <= 4)!;
  const { names, groupOf: continentOf } = rows.items;
  const slots = (r: number) => [...rows.asked.subarray(rows.start[r], rows.start[r + 1])];
  // Row r0: its first completion country replaced by one of another continent it does not ask.
  const b0 = rows.blockGroup[rows.blockStart[r0]];
  const foreign = names.findIndex((_, i) => continentOf[i] !== b0 && !slots(r0).includes(i));
  rows.grouped[rows.start[r0]] = foreign;
  // Row r1: the text asks one country twice.
  rows.asked[rows.start[r1] + 1] = rows.asked[rows.start[r1]];
  // Row r2: its first block cut to one country (the rest go to its last block).
  const k2 = rows.groupCount[r2];
  const cut = rows.blockSize[rows.blockStart[r2]] - 1;
  rows.blockSize[rows.blockStart[r2]] = 1;
  rows.blockSize[rows.blockStart[r2] + k2 - 1] += cut;
  const problems = drawnProblems(set);
  const id = (r: number) =>
    `n${rows.itemCount[r]}k${rows.groupCount[r]}-` +
    String(rows.indexInCell[r] + 1).padStart(5, "0");
  const of = (r: number) => problems.filter((p) => p.id === id(r)).map((p) => p.problem);
  const under = CONTINENTS[b0];
  assertEquals(of(r0), [
    `${names[foreign]} listed under ${under}, belongs to ${CONTINENTS[continentOf[foreign]]}`,
    "completion does not list exactly the asked countries",
  ]);
  nodeAssert.ok(of(r1).includes("text repeats a country"), JSON.stringify(of(r1)));
  nodeAssert.ok(
    of(r2).includes(`${CONTINENTS[rows.blockGroup[rows.blockStart[r2]]]} has 1 < 2 countries`),
    JSON.stringify(of(r2)),
  );
  assertEquals(
    new Set(problems.map((p) => p.id)),
    new Set([id(r0), id(r1), id(r2)]),
    "no other row is named",
  );
});

Deno.test("drawn set: the same options errors as generateTrainingSet", () => {
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
      message(() => drawTrainingSet(opts)),
      message(() => generateTrainingSet(opts)),
    );
  }
});

Deno.test("single-turn tuning CSVs: every row is its own conversation, C_ID counting up, T_ID 0", () => {
  const set = drawTrainingSet({ rows: 300, seed: 3, taxonomy: un });
  const readable = generateTrainingSet({ rows: 300, seed: 3, taxonomy: un });
  for (
    const text of [
      drawnTuningCsv(set, "single-turn"),
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
