import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import {
  analyze,
  frameToHtml,
  groupSummaryHtml,
  loadPublishedTables,
  parsePublishedTable,
  readScoresFrame,
  recordsToHtml,
  scoresFrame,
  sizeSummaryHtml,
  sizeSummaryText,
  summarizeByGroup,
  summarizeBySize,
  wilsonInterval,
  worstAnswerKeys,
} from "../lib/analysis/tables.ts";
import { type ScoreRow, scoresToCsv } from "../lib/scoring/score.ts";
import type { ScoredAnswer } from "../lib/run/schema.ts";
import { answerWithRow } from "./helpers/scored.ts";
import pl from "nodejs-polars";

const close = (a: number, b: number, eps = 5e-4) => Math.abs(a - b) < eps;

Deno.test("Wilson 95% interval: known values", () => {
  const [lo0, hi0] = wilsonInterval(0, 100);
  assertEquals(lo0, 0);
  assert(close(hi0, 0.037), `0/100 high ${hi0}`);
  const [lo50, hi50] = wilsonInterval(50, 100);
  assert(close(lo50, 0.4038) && close(hi50, 0.5962), `50/100 ${lo50} ${hi50}`);
  const [lo85, hi85] = wilsonInterval(85, 100);
  assert(close(lo85, 0.7672) && close(hi85, 0.9069), `85/100 ${lo85} ${hi85}`);
  const [lo1, hi1] = wilsonInterval(10, 10);
  assert(close(lo1, 0.7225) && hi1 === 1, `10/10 ${lo1} ${hi1}`);
  assert(wilsonInterval(0, 0).every(Number.isNaN));
});

let n = 0;
/** A scored answer whose `scores.csv` line is the default row with `over`. */
function row(over: Partial<ScoreRow>): ScoredAnswer {
  const r: ScoreRow = {
    label: "HCX-003@100",
    model: "HCX-003",
    size: 100,
    promptId: `e${++n}`,
    index: n,
    repeat: 0,
    countryCount: 10,
    continentCount: 2,
    missing: 0,
    misclassified: 0,
    extended: 0,
    formatError: false,
    hasError: false,
    ...over,
  };
  return answerWithRow({
    ...r,
    hasError: r.hasError || r.formatError || r.missing + r.misclassified + r.extended > 0,
  });
}

const ROWS: ScoredAnswer[] = [
  // HCX-DASH-001 base: 2 answers, both wrong
  row({ label: "HCX-DASH-001", model: "HCX-DASH-001", size: 0, missing: 10, formatError: true }),
  row({ label: "HCX-DASH-001", model: "HCX-DASH-001", size: 0, countryCount: 15, extended: 3 }),
  // HCX-003 @100: 4 answers, 1 wrong
  row({ missing: 2, misclassified: 1 }),
  row({ countryCount: 15, continentCount: 3 }),
  row({ countryCount: 15, continentCount: 3 }),
  row({ countryCount: 30, continentCount: 6 }),
  // HCX-003 base: 3 answers, 2 wrong
  row({ label: "HCX-003", size: 0, misclassified: 4, extended: 1 }),
  row({ label: "HCX-003", size: 0, countryCount: 30, continentCount: 6, extended: 2 }),
  row({ label: "HCX-003", size: 0, countryCount: 30, continentCount: 6 }),
  // another model sorts after the cookbook's
  row({ label: "other@50", model: "other", size: 50 }),
];

Deno.test("summarizeBySize: sums, error rate, Wilson interval, train loss, order", () => {
  const s = summarizeBySize(ROWS, {
    trainLoss: [{ model: "HCX-003", size: 100, trainLoss: 0.5129 }],
  });
  assertEquals(s.map((r) => [r.model, r.size]), [
    ["HCX-003", 0],
    ["HCX-003", 100],
    ["HCX-DASH-001", 0],
    ["other", 50],
  ]);
  const [base, tuned, dash] = s;
  assertEquals(
    { ...base, errorLow: 0, errorHigh: 0 },
    {
      source: "this run",
      model: "HCX-003",
      size: 0,
      trainLoss: null,
      answers: 3,
      errors: 2,
      missing: 0,
      misclassified: 4,
      extended: 3,
      errorRate: 2 / 3,
      errorLow: 0,
      errorHigh: 0,
    },
  );
  assertEquals([base.errorLow, base.errorHigh], wilsonInterval(2, 3));
  assertEquals(
    [tuned.answers, tuned.errors, tuned.missing, tuned.misclassified, tuned.trainLoss],
    [4, 1, 2, 1, 0.5129],
  );
  assertEquals(tuned.errorRate, 0.25);
  assertEquals([dash.answers, dash.errors, dash.missing, dash.extended, dash.errorRate], [
    2,
    2,
    10,
    3,
    1,
  ]);
  assertEquals(dash.errorHigh, 1);
  assertEquals(summarizeBySize([]), []);
});

Deno.test("summarizeByGroup: by country count and by continent count", () => {
  const byCountry = summarizeByGroup(ROWS, "countryCount").filter((r) => r.model === "HCX-003");
  assertEquals(
    byCountry.map((r) => [r.size, r.value, r.answers, r.errors, r.errorRate]),
    [
      [0, 10, 1, 1, 1],
      [0, 30, 2, 1, 0.5],
      [100, 10, 1, 1, 1],
      [100, 15, 2, 0, 0],
      [100, 30, 1, 0, 0],
    ],
  );
  assert(byCountry.every((r) => r.by === "countryCount" && r.source === "this run"));
  const byContinent = summarizeByGroup(ROWS, "continentCount", { source: "cookbook" });
  const dash = byContinent.filter((r) => r.model === "HCX-DASH-001");
  assertEquals(dash.map((r) => [r.value, r.answers, r.errors]), [[2, 2, 2]]);
  assertEquals(dash[0].source, "cookbook");
  const [lo, hi] = wilsonInterval(1, 2);
  const half = byCountry[1];
  assertEquals([half.errorLow, half.errorHigh], [lo, hi]);
});

Deno.test("analyze runs all three summaries over one polars frame", () => {
  const df = scoresFrame(ROWS);
  assertEquals(df.height, ROWS.length);
  assert(df.getColumn("hasError").dtype.equals(pl.Bool));
  assert(df.getColumn("missing").dtype.equals(pl.Int64));
  const a = analyze(df);
  assertEquals(a.bySize.length, 4);
  assertEquals(a.byCountryCount.reduce((s, r) => s + r.answers, 0), ROWS.length);
  assertEquals(a.byContinentCount.reduce((s, r) => s + r.errors, 0), 5);
  assertEquals(scoresFrame([]).height, 0);
  assertEquals(analyze([]).bySize, []);
});

Deno.test("published tables load: 14 rows per model with the published numbers", async () => {
  const all = await loadPublishedTables();
  const hcx = all.filter((r) => r.model === "HCX-003");
  const dash = all.filter((r) => r.model === "HCX-DASH-001");
  assertEquals(hcx.length, 14);
  assertEquals(dash.length, 14);
  assertEquals(hcx.map((r) => r.size), [
    0,
    50,
    100,
    200,
    300,
    400,
    500,
    600,
    700,
    800,
    900,
    1000,
    2000,
    10000,
  ]);
  const base = hcx[0];
  assertEquals({ ...base, errorLow: 0, errorHigh: 0 }, {
    source: "cookbook",
    model: "HCX-003",
    size: 0,
    trainLoss: null,
    answers: 100,
    errors: 85,
    missing: 92,
    misclassified: 266,
    extended: 17,
    errorRate: 0.85,
    errorLow: 0,
    errorHigh: 0,
  });
  assert(Number.isNaN(base.errorLow) && Number.isNaN(base.errorHigh));
  const k1 = hcx.find((r) => r.size === 1000)!;
  assertEquals([k1.trainLoss, k1.missing, k1.misclassified, k1.extended, k1.errors], [
    0.3136,
    3,
    6,
    49,
    12,
  ]);
  const d100 = dash.find((r) => r.size === 100)!;
  assertEquals([d100.trainLoss, d100.missing, d100.misclassified, d100.extended, d100.errorRate], [
    0.819,
    144,
    608,
    1036,
    0.99,
  ]);
  const d10k = dash.at(-1)!;
  assertEquals([d10k.size, d10k.missing, d10k.misclassified, d10k.extended, d10k.errors], [
    10000,
    5,
    0,
    2,
    4,
  ]);
  assertEquals(dash.find((r) => r.size === 300)!.errorRate, 1);
});

Deno.test("published table parser rejects malformed input with the line", () => {
  const head =
    "\uFEFFBase Model,튜닝 개수,Train Loss,잘못된 국가 개수,속성, 1,데이터문제 발생 확률\n" +
    ",,,누락 국가 수,오분류 국가 수,확장 국가 수,0%\n";
  assertEquals(parsePublishedTable(head + 'M,M,-,1,2,3,4%\nM,"2,000개 튜닝",0.5,0,0,0,0%\n'), [
    {
      source: "cookbook",
      model: "M",
      size: 0,
      trainLoss: null,
      answers: 100,
      errors: 4,
      missing: 1,
      misclassified: 2,
      extended: 3,
      errorRate: 0.04,
      errorLow: NaN,
      errorHigh: NaN,
    },
    {
      source: "cookbook",
      model: "M",
      size: 2000,
      trainLoss: 0.5,
      answers: 100,
      errors: 0,
      missing: 0,
      misclassified: 0,
      extended: 0,
      errorRate: 0,
      errorLow: NaN,
      errorHigh: NaN,
    },
  ]);
  throws(
    () => parsePublishedTable(head + "M,50개 튜닝,0.4,1,2,3,lots\n", "x.csv"),
    /x\.csv: line 3/,
  );
  throws(() => parsePublishedTable(head + "M,많이,0.4,1,2,3,4%\n", "x.csv"), /많이/);
  throws(() => parsePublishedTable("a,b\n1,2\n3,4\n", "x.csv"), /Base Model/);
});

Deno.test("HTML tables escape every cell", () => {
  const html = recordsToHtml([{ model: "<script>alert(1)</script>", rate: 0.123456, n: 3 }]);
  assert(!html.includes("<script>"), html);
  assert(html.includes("&lt;script&gt;"));
  assert(html.includes("0.1235"));
  assert(html.includes('<td class="num">3</td>'));
  const frameHtml = frameToHtml(scoresFrame(ROWS.slice(0, 1)), { columns: ["model", "missing"] });
  assert(frameHtml.includes('<th scope="col">model</th>') && frameHtml.includes(">10<"));
  assert(!frameHtml.includes("promptId"));
  const sizeHtml = sizeSummaryHtml(
    summarizeBySize([row({ model: "<b>", label: "<b>@1", size: 1 })]),
  );
  assert(sizeHtml.includes("&lt;b&gt;") && !sizeHtml.includes("<b>"));
  assert(sizeHtml.includes("1개 튜닝"));
  const groupHtml = groupSummaryHtml(summarizeByGroup(ROWS, "continentCount"));
  assert(groupHtml.includes("대륙 수"));
});

Deno.test("sizeSummaryText prints one line per row with the cookbook's size labels", async () => {
  const text = sizeSummaryText(await loadPublishedTables());
  const lines = text.split("\n");
  assertEquals(lines.length, 2 + 28);
  assert(lines[2].includes("HCX-003") && lines[2].includes("85.0%"));
  assert(lines.some((l) => l.includes("10,000개 튜닝") && l.includes("4.0%")));
});

Deno.test("scores.csv is read by polars with the schema's types; worst answers in their order", async () => {
  const rows = [
    row({ label: "=A", promptId: "e1", index: 0, missing: 2 }),
    row({ label: "B", promptId: "e2", index: 1, extended: 2 }),
    row({ label: "A", promptId: "e3", index: 2, formatError: true, missing: 2 }),
    row({ label: "A", promptId: "e4", index: 3 }),
    row({ label: "A", promptId: "e5", index: 4, missing: 3, repeat: 1 }),
  ];
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/scores.csv`;
    await Deno.writeTextFile(path, scoresToCsv(rows));
    const df = readScoresFrame(path);
    assertEquals(df.height, 5);
    assertEquals(df.getColumn("label").toArray(), ["=A", "B", "A", "A", "A"]);
    assertEquals(String(df.getColumn("hasError").dtype), "DataType(Bool)");
    assertEquals(summarizeBySize(df), summarizeBySize(rows));
    // Most errors first; a format error before others with the same total; then label, id.
    assertEquals(worstAnswerKeys(df, 3), [
      { label: "A", index: 4, repeat: 1 },
      { label: "A", index: 2, repeat: 0 },
      { label: "=A", index: 0, repeat: 0 },
    ]);
    const empty = `${dir}/empty.csv`;
    await Deno.writeTextFile(empty, scoresToCsv([]));
    assertEquals(summarizeBySize(readScoresFrame(empty)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
