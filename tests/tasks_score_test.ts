import nodeAssert from "node:assert/strict";
import { generateNestedTrainingSets } from "../lib/datasets/generator.ts";
import { scoreAnswer } from "../lib/scoring/score.ts";
import {
  confusionTable,
  generateTaskTrainingSets,
  labelScorer,
  loadTaxonomyTask,
  scoreExact,
  scoreGroupingAgainst,
  scoreTaskAnswer,
  TaskError,
} from "../lib/tasks/mod.ts";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

const elements = await loadTaxonomyTask("elements");
const countries = await loadTaxonomyTask("countries");

/** The counts of a score. */
function counts(
  s: {
    missing: number;
    misclassified: number;
    extended: number;
    formatError: boolean;
    hasError: boolean;
  },
) {
  const { missing, misclassified, extended, formatError, hasError } = s;
  return { missing, misclassified, extended, formatError, hasError };
}

Deno.test("grouping over the elements: a tuning row's own completion scores clean", () => {
  const rows = generateTaskTrainingSets(elements, [50], { seed: 11 }).get(50)!;
  for (const row of rows) {
    const s = scoreTaskAnswer(elements, row.items, row.completion);
    assertEquals(counts(s), {
      missing: 0,
      misclassified: 0,
      extended: 0,
      formatError: false,
      hasError: false,
    }, row.id);
  }
});

Deno.test("grouping over the elements: missing, misclassified, extended, aliases, format errors", () => {
  const asked = ["Iron", "Copper", "Sodium", "Neon"];
  const answer = [
    "목록에 있는 원소을(를) 계열별로 분류하면 다음과 같습니다",
    "",
    "**transition metal 계열**: Fe, Copper, Neon",
    "alkali metal: Sodium, Unobtainium, Sodium",
  ].join("\n");
  const s = scoreTaskAnswer(elements, asked, answer);
  // Neon is under transition metal (misclassified); Fe is Iron's symbol; Unobtainium is no
  // element and Sodium's second mention is a repeat (both extended). Nothing is missing.
  assertEquals(counts(s), {
    missing: 0,
    misclassified: 1,
    extended: 2,
    formatError: false,
    hasError: true,
  });
  assertEquals(s.misclassifiedCountries, ["Neon"]);
  const missing = scoreTaskAnswer(elements, asked, "transition metal: Iron, Copper");
  assertEquals(missing.missingCountries, ["Sodium", "Neon"]);
  const prose = scoreTaskAnswer(elements, asked, "I cannot sort these elements.");
  assertEquals(counts(prose), {
    missing: 4,
    misclassified: 0,
    extended: 0,
    formatError: true,
    hasError: true,
  });
  assert(
    (() => {
      try {
        scoreTaskAnswer(elements, ["Kryptonite"], "noble gas: Kryptonite");
      } catch (e) {
        return (e as Error).message.includes(`"Kryptonite" is not a country of the "elements"`);
      }
      return false;
    })(),
    "an asked item outside the taxonomy is an input error",
  );
});

Deno.test("grouping over the countries task is the country scorer's", () => {
  const rows = generateNestedTrainingSets([30], { seed: 5 }).get(30)!;
  for (const row of rows) {
    const swapped = row.completion.replace("아시아", "유럽").replace(/, ([^,\n]+)$/, "");
    for (const answer of [row.completion, swapped, row.completion + ", 대만, 아무개"]) {
      assertEquals(
        scoreTaskAnswer(countries, row.countries, answer),
        scoreAnswer(row.countries, answer),
      );
    }
  }
});

Deno.test("grouping against a bring-your-own expected answer", () => {
  const expected = "다음과 같습니다\n\n과일: 사과, 배\n\n채소: 당근";
  assertEquals(counts(scoreGroupingAgainst(expected, "과일: 배, 사과\n채소: 당근")), {
    missing: 0,
    misclassified: 0,
    extended: 0,
    formatError: false,
    hasError: false,
  });
  const s = scoreGroupingAgainst(expected, "과일: 사과, 당근, 감\n채소: 없음");
  assertEquals(counts(s), {
    missing: 1,
    misclassified: 1,
    extended: 1,
    formatError: false,
    hasError: true,
  });
  assertEquals(s.missingCountries, ["배"]);
  nodeAssert.throws(
    () => scoreGroupingAgainst("그냥 문장", "과일: 사과", "eval.xlsx: row 3"),
    (e: unknown) =>
      e instanceof TaskError &&
      e.message === 'eval.xlsx: row 3: the expected answer has no "group: item, item" line',
  );
});

Deno.test("exact: normalised match (NFKC, case, spacing, trailing stop)", () => {
  assertEquals(scoreExact("Paris", "  paris. ").hasError, false);
  assertEquals(scoreExact("서울 특별시", "서울   특별시。").hasError, false);
  assertEquals(scoreExact("ＡＢＣ", "abc").hasError, false);
  assertEquals(counts(scoreExact("Paris", "Lyon")), {
    missing: 0,
    misclassified: 1,
    extended: 0,
    formatError: false,
    hasError: true,
  });
  assertEquals(scoreExact("Paris", " \n").formatError, true);
});

Deno.test("label: the one known label an answer names; several or none is a format error", () => {
  const scorer = labelScorer(["긍정", "부정", "중립", "cat", "wildcat"]);
  assertEquals(scorer.score("긍정", "긍정").hasError, false);
  assertEquals(scorer.score("긍정", "이 리뷰는 **긍정**입니다.").answered, "긍정");
  assertEquals(scorer.score("wildcat", "It is a wildcat.").answered, "wildcat");
  const wrong = scorer.score("긍정", "부정");
  assertEquals([wrong.misclassified, wrong.formatError, wrong.answered], [1, false, "부정"]);
  const both = scorer.score("긍정", "긍정 또는 부정");
  assertEquals([both.answered, both.formatError, both.missing], [null, true, 1]);
  assertEquals(scorer.score("중립", "모르겠습니다").formatError, true);
  const table = confusionTable([
    scorer.score("긍정", "긍정"),
    scorer.score("긍정", "부정"),
    scorer.score("부정", "부정"),
    scorer.score(" 부정", "??"),
  ]);
  assertEquals(table.labels, ["긍정", "부정"]);
  assertEquals(table.counts, {
    "긍정": { "긍정": 1, "부정": 1 },
    "부정": { "부정": 1, "(none)": 1 },
  });
});
