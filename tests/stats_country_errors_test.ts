import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import { scoreAnswer } from "../lib/scoring/score.ts";
import {
  CONFUSION_COLUMNS,
  countryErrors,
  worstCountries,
} from "../lib/analysis/stats/countryErrors.ts";
import type { ScoredAnswer } from "../lib/run/schema.ts";
import { countsScore, scoredAnswer } from "./helpers/scored.ts";

function answer(model: string, size: number, asked: string[], text: string): ScoredAnswer {
  return scoredAnswer({ model, size, countries: asked, text }, scoreAnswer(asked, text));
}

const col = (name: string) => CONFUSION_COLUMNS.indexOf(name as never);
const ROW = { 아시아: 0, 유럽: 1, 북아메리카: 2, 남아메리카: 3, 아프리카: 4, 오세아니아: 5 };

const ANSWERS = [
  // 이집트 put under 아시아, 브라질 under a label naming no continent, 독일 invented
  answer(
    "M",
    100,
    ["프랑스", "일본", "브라질", "이집트"],
    "유럽: 프랑스\n아시아: 일본, 이집트\n중동: 브라질\n아프리카: 독일",
  ),
  // 프랑스 missing; 일본 repeated (extended, but not invented); 바티칸 (non-member) invented
  answer("M", 100, ["프랑스", "일본"], "아시아: 일본, 일본\n유럽: 바티칸"),
  // 이집트 first right, then repeated under 유럽: misclassified, placed at the wrong mention
  answer("M", 100, ["이집트", "일본"], "아프리카: 이집트\n유럽: 이집트\n아시아: 일본"),
  answer("M", 200, ["프랑스", "이집트"], "유럽: 프랑스\n아프리카: 이집트"),
];

Deno.test("confusion table: hand-counted cells, rows add up to the asked countries", () => {
  const { confusion } = countryErrors(ANSWERS);
  assertEquals(confusion.map((t) => [t.model, t.size]), [["M", 100], ["M", 200]]);
  const t = confusion[0];
  assertEquals(t.columns, CONFUSION_COLUMNS);
  const expected = t.rows.map(() => CONFUSION_COLUMNS.map(() => 0));
  expected[ROW.유럽][ROW.유럽] = 1; // 프랑스 correct (answer 1)
  expected[ROW.유럽][col("missing")] = 1; // 프랑스 missing (answer 2)
  expected[ROW.아시아][ROW.아시아] = 3; // 일본 correct three times
  expected[ROW.아프리카][ROW.아시아] = 1; // 이집트 under 아시아
  expected[ROW.아프리카][ROW.유럽] = 1; // 이집트's repeat under 유럽
  expected[ROW.남아메리카][col("other label")] = 1; // 브라질 under 중동
  assertEquals(t.counts, expected);
  const asked = t.counts.flat().reduce((a, b) => a + b, 0);
  assertEquals(asked, 4 + 2 + 2);
  const t200 = confusion[1];
  assertEquals(t200.counts[ROW.유럽][ROW.유럽] + t200.counts[ROW.아프리카][ROW.아프리카], 2);
  assertEquals(t200.counts.flat().reduce((a, b) => a + b, 0), 2);
});

Deno.test("per-country table: asked, missing, misclassified with placement, invented", () => {
  const { countries, invented } = countryErrors(ANSWERS);
  const at100 = (name: string) => countries.find((r) => r.size === 100 && r.country === name);
  assertEquals(
    {
      asked: at100("프랑스")!.asked,
      missing: at100("프랑스")!.missing,
      misclassified: at100("프랑스")!.misclassified,
    },
    { asked: 2, missing: 1, misclassified: 0 },
  );
  const egypt = at100("이집트")!;
  assertEquals([egypt.asked, egypt.missing, egypt.misclassified], [2, 0, 2]);
  assertEquals(egypt.placedUnder, { 아시아: 1, 유럽: 1 });
  assertEquals(egypt.errorRate, 1);
  assertEquals(egypt.continent, "아프리카");
  assertEquals(at100("브라질")!.placedUnder, { "other label": 1 });
  assertEquals(at100("일본")!.errorRate, 0);
  // 독일 was never asked: a row with only its invention
  const germany = at100("독일")!;
  assertEquals([germany.asked, germany.invented], [0, 1]);
  assertEquals(
    invented.filter((r) => r.size === 100).map((r) => [r.name, r.kind, r.mentions, r.answers]),
    [["독일", "country", 1, 1], ["바티칸", "non-member", 1, 1]],
  );
});

Deno.test("worst countries: summed over tuned sizes, base model excluded by default", () => {
  const rows = countryErrors([
    ...ANSWERS,
    answer("M", 0, ["일본", "브라질"], "유럽: 일본, 브라질"), // the base model gets both wrong
  ]).countries;
  const worst = worstCountries(rows, "M");
  assertEquals(worst.map((w) => [w.country, w.missing + w.misclassified, w.asked]), [
    ["이집트", 2, 3],
    ["브라질", 1, 1],
    ["프랑스", 1, 3],
  ]);
  const withBase = worstCountries(rows, "M", { includeBase: true, limit: 2 });
  assertEquals(withBase.map((w) => w.country), ["브라질", "이집트"]);
  assertEquals(worstCountries(rows, "other model"), []);
});

Deno.test("an asked name that is not a country is an input error", () => {
  throws(
    () =>
      countryErrors([
        scoredAnswer({ model: "M", size: 1, countries: ["아틀란티스"] }, countsScore()),
      ]),
    /not a country/,
  );
  assert(CONFUSION_COLUMNS.length === 8);
});

Deno.test("mentions not read: every asked country counts as missing, nothing invented", () => {
  const { countries, invented, confusion } = countryErrors(ANSWERS, undefined, { mentions: false });
  assertEquals(invented, []);
  assert(countries.every((r) => r.missing === r.asked && r.misclassified === 0));
  assertEquals(countries.reduce((n, r) => n + r.asked, 0), 10);
  const t = confusion[0];
  assertEquals(t.counts[ROW.아시아][col("missing")], 3);
  assertEquals(t.counts[ROW.아시아][ROW.아시아], 0);
});
