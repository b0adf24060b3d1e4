import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import {
  type AnswerScore,
  parseGroups,
  readScoresCsv,
  scoreAnswer,
  scoreJournals,
  scoreRecord,
  type ScoreRow,
  scoreRow,
  scoreRun,
  scoresToCsv,
} from "../lib/scoring/score.ts";
import { COMPLETION_PREFIX, SAMPLING_PARAMETERS } from "../lib/cookbook.ts";
import { getTaxonomy } from "../lib/countries/taxonomy.ts";
import { type AnswerRecord, openJournal } from "../lib/answers/journal.ts";
import type { JournalSummary } from "../lib/run/schema.ts";

/** Asked countries used by most tests: 2 Asia, 2 Europe, 1 Africa, 1 N. America, 1 Oceania. */
const ASKED = ["중국", "일본", "프랑스", "독일", "케냐", "미국", "뉴질랜드"];

function counts(s: AnswerScore) {
  return {
    missing: s.missing,
    misclassified: s.misclassified,
    extended: s.extended,
    formatError: s.formatError,
    hasError: s.hasError,
  };
}

const CLEAN = { missing: 0, misclassified: 0, extended: 0, formatError: false, hasError: false };

Deno.test("perfect answer in the cookbook's completion format → no error", () => {
  const answer = COMPLETION_PREFIX +
    "아시아: 중국, 일본\n\n유럽: 프랑스, 독일\n\n아프리카: 케냐\n\n북아메리카: 미국\n\n오세아니아: 뉴질랜드";
  const s = scoreAnswer(ASKED, answer);
  assertEquals(counts(s), CLEAN);
  assertEquals(s.groups, 5);
  assertEquals(s.mentions.length, 7);
  assert(s.mentions.every((m) => m.status === "correct" && m.kind === "asked-country"));
  assertEquals(s.mentions[0], {
    raw: "중국",
    text: "중국",
    line: 3,
    label: "아시아",
    labelContinent: "아시아",
    kind: "asked-country",
    code: "CN",
    name: "중국",
    continent: "아시아",
    inOwnContinent: true,
    status: "correct",
  });
});

Deno.test("rule 4: an asked country never mentioned is missing", () => {
  const s = scoreAnswer(
    ASKED,
    "아시아: 중국\n유럽: 프랑스, 독일\n아프리카: 케냐\n북아메리카: 미국",
  );
  assertEquals(counts(s), { ...CLEAN, missing: 2, hasError: true });
  assertEquals(s.missingCountries, ["일본", "뉴질랜드"]);
});

Deno.test("rule 4: an asked country under another continent is misclassified", () => {
  const s = scoreAnswer(
    ASKED,
    "아시아: 중국, 일본, 케냐\n유럽: 프랑스, 독일\n북아메리카: 미국\n오세아니아: 뉴질랜드",
  );
  assertEquals(counts(s), { ...CLEAN, misclassified: 1, hasError: true });
  assertEquals(s.misclassifiedCountries, ["케냐"]);
  const kenya = s.mentions.find((m) => m.code === "KE")!;
  assertEquals([kenya.status, kenya.inOwnContinent, kenya.labelContinent], [
    "misplaced",
    false,
    "아시아",
  ]);
});

Deno.test("rules 4+5: mentioned twice, once wrong → misclassified and one repeat", () => {
  const s = scoreAnswer(
    ASKED,
    "아시아: 중국, 일본\n유럽: 프랑스, 독일, 일본\n아프리카: 케냐\n북아메리카: 미국\n오세아니아: 뉴질랜드",
  );
  assertEquals(counts(s), { ...CLEAN, misclassified: 1, extended: 1, hasError: true });
  const japan = s.mentions.filter((m) => m.code === "JP");
  assertEquals(japan.map((m) => [m.status, m.inOwnContinent]), [["correct", true], [
    "repeat",
    false,
  ]]);
  // wrong first, right second: still misclassified
  const t = scoreAnswer(["일본", "중국"], "유럽: 일본\n아시아: 중국, 일본");
  assertEquals(counts(t), { ...CLEAN, misclassified: 1, extended: 1, hasError: true });
});

Deno.test("rule 5: repeats under the right continent are extended, not misclassified", () => {
  const s = scoreAnswer(["중국", "일본"], "아시아: 중국, 일본, 중국\n아시아: 일본");
  assertEquals(counts(s), { ...CLEAN, extended: 2, hasError: true });
  assertEquals(s.mentions.map((m) => m.status), ["correct", "correct", "repeat", "repeat"]);
});

Deno.test("rule 5: other countries, non-members and unknown strings are extended", () => {
  const s = scoreAnswer(
    ["중국", "일본"],
    "아시아: 중국, 일본, 대한민국, 대만, 아틀란티스\n유럽: 대한민국",
  );
  assertEquals(counts(s), { ...CLEAN, extended: 4, hasError: true });
  assertEquals(
    s.mentions.slice(2).map((m) => [m.text, m.kind, m.status, m.code]),
    [
      ["대한민국", "other-country", "extended", "KR"],
      ["대만", "non-member", "extended", "TW"],
      ["아틀란티스", "unknown", "extended", null],
      ["대한민국", "other-country", "extended", "KR"],
    ],
  );
  // other-country mentions carry their own continent and placement
  assertEquals([s.mentions[2].continent, s.mentions[2].inOwnContinent], ["아시아", true]);
  assertEquals(s.mentions[5].inOwnContinent, false);
});

Deno.test("rule 1: markdown and numbering on labels", () => {
  const answer = [
    "**아시아**: 중국, 일본",
    "## 유럽: 프랑스",
    "**유럽:** 독일",
    "- 아프리카: 케냐",
    "1. 북미: 미국",
    "• 오세아니아: 뉴질랜드",
  ].join("\n");
  const s = scoreAnswer(ASKED, answer);
  assertEquals(counts(s), CLEAN);
  assertEquals(s.mentions.map((m) => m.label), [
    "아시아",
    "아시아",
    "유럽",
    "유럽",
    "아프리카",
    "북미",
    "오세아니아",
  ]);
  const more = scoreAnswer(
    ["브라질", "피지", "이집트"],
    "2) 남미: 브라질\n* **대양주**: 피지\n### 3. 아프리카 대륙: 이집트",
  );
  assertEquals(counts(more), CLEAN);
});

Deno.test("rule 1: full-width colon", () => {
  const s = scoreAnswer(["중국", "프랑스"], "아시아：중국\n유럽 ： 프랑스");
  assertEquals(counts(s), CLEAN);
});

Deno.test("rule 1: a label line with nothing after the colon takes the bullet lines under it", () => {
  const answer = [
    "분류 결과는 다음과 같습니다.",
    "",
    "**아시아:**",
    "- 중국",
    "- 일본",
    "",
    "### 유럽:",
    "",
    "1. 프랑스 (수도: 파리)",
    "2) 독일",
    "아프리카:",
    "• 케냐",
    "* 미국, 뉴질랜드",
    "이상입니다. 미국과 뉴질랜드는 아프리카가 아닙니다",
    "- 대한민국",
  ].join("\n");
  const s = scoreAnswer(ASKED, answer);
  // 미국, 뉴질랜드 sit under 아프리카 → misclassified; the prose line ends the block, so the
  // last bullet (대한민국) belongs to no group and is not a mention.
  assertEquals(counts(s), { ...CLEAN, misclassified: 2, hasError: true });
  assertEquals(s.mentions.length, 7);
  assertEquals(s.mentions.find((m) => m.code === "FR")?.line, 9);
  assert(!s.mentions.some((m) => m.code === "KR"));
});

Deno.test("rule 1: items split on , 、 ， · — but not inside a name written with ·", () => {
  const s = scoreAnswer(
    ["중국", "일본", "몽골", "네팔", "보스니아 헤르체고비나", "프랑스"],
    "아시아: 중국、일본，몽골·네팔\n유럽: 보스니아·헤르체고비나, 프랑스",
  );
  assertEquals(counts(s), CLEAN);
  assertEquals(s.mentions.map((m) => m.text), [
    "중국",
    "일본",
    "몽골",
    "네팔",
    "보스니아·헤르체고비나",
    "프랑스",
  ]);
  // a two-part name split by a comma is two unknown items, and the country is missing
  const t = scoreAnswer(["트리니다드 토바고"], "북아메리카: 트리니다드, 토바고");
  assertEquals(counts(t), { ...CLEAN, missing: 1, extended: 2, hasError: true });
});

Deno.test("rule 1: trailing . / 。 and parenthetical notes are stripped", () => {
  const s = scoreAnswer(
    ["러시아", "튀르키예", "이집트", "프랑스"],
    "아시아: 러시아 (유럽과 아시아에 걸쳐 있음, 수도는 모스크바), 튀르키예（터키）。\n" +
      "아프리카: 이집트.\n유럽 (EU): 프랑스 (파리",
  );
  assertEquals(counts(s), CLEAN);
  assertEquals(s.mentions.map((m) => m.text), ["러시아", "튀르키예", "이집트", "프랑스"]);
  assertEquals(s.mentions[0].raw, "러시아 (유럽과 아시아에 걸쳐 있음, 수도는 모스크바)");
  assertEquals(s.mentions[2].label, "아프리카");
});

Deno.test("rule 1: 없음, 해당 없음, - and empty items mean no item", () => {
  const s = scoreAnswer(
    ["중국", "프랑스"],
    "아시아: 중국, , 없음\n유럽: 프랑스\n아프리카: 없음\n북아메리카: 해당 없음.\n오세아니아: -\n남미:",
  );
  assertEquals(counts(s), CLEAN);
  assertEquals(s.mentions.length, 2);
  // only "none" groups: no mention, but the answer is in the format (not a format error)
  const t = scoreAnswer(["중국"], "아시아: 없음");
  assertEquals(counts(t), { ...CLEAN, missing: 1, hasError: true });
  assertEquals(t.groups, 1);
});

Deno.test("rule 2: a label that resolves to no continent holds mentions under none", () => {
  const s = scoreAnswer(
    ["이스라엘", "중국", "파나마"],
    "중동: 이스라엘\n아시아: 중국\n중앙아메리카: 파나마\n기타: 대만",
  );
  assertEquals(counts(s), { ...CLEAN, misclassified: 2, extended: 1, hasError: true });
  assertEquals(s.misclassifiedCountries, ["이스라엘", "파나마"]);
  const israel = s.mentions[0];
  assertEquals([israel.label, israel.labelContinent, israel.status], ["중동", null, "misplaced"]);
});

Deno.test("rule 1: lines without a colon (preambles, prose) are not groups", () => {
  const answer = COMPLETION_PREFIX +
    "아시아: 중국\n중국은 아시아에서 가장 큰 나라이고 일본, 대한민국과 이웃합니다\n유럽: 프랑스\n";
  const s = scoreAnswer(["중국", "프랑스"], answer);
  assertEquals(counts(s), CLEAN);
  assertEquals(s.mentions.length, 2);
});

Deno.test("rule 6: no group at all → format error with every asked country missing", () => {
  const s = scoreAnswer(
    ASKED,
    "죄송하지만 요청을 이해하지 못했습니다.\n중국 일본 프랑스 독일 케냐",
  );
  assertEquals(counts(s), { ...CLEAN, missing: 7, formatError: true, hasError: true });
  assertEquals(s.missingCountries, ASKED);
  assertEquals(s.mentions, []);
  assertEquals(counts(scoreAnswer(["중국"], "")), {
    ...CLEAN,
    missing: 1,
    formatError: true,
    hasError: true,
  });
});

Deno.test("rule 6: a preamble ending in a colon with only prose is still a format error", () => {
  const s = scoreAnswer(
    ["중국", "프랑스"],
    "목록에 있는 나라들을 대륙별로 분류하면 다음과 같습니다:\n\n중국은 아시아, 프랑스는 유럽입니다.",
  );
  assertEquals(counts(s), { ...CLEAN, missing: 2, formatError: true, hasError: true });
  assertEquals(s.groups, 0);
  // …but bullets under it are items of an unresolved group: misclassified, not a format error
  const t = scoreAnswer(["중국", "프랑스"], "다음과 같습니다:\n- 중국\n- 프랑스");
  assertEquals(counts(t), { ...CLEAN, misclassified: 2, hasError: true });
  assertEquals(t.groups, 1);
  assertEquals(t.mentions[0].label, "다음과 같습니다");
});

Deno.test("rules 2+3: aliases for countries (호주, 터키) and continents (북미, 남미, 대양주)", () => {
  const s = scoreAnswer(
    ["오스트레일리아", "튀르키예", "캐나다", "칠레", "피지"],
    "대양주: 호주, 피지\n아시아: 터키\n북미: 캐나다\n남미: 칠레",
  );
  assertEquals(counts(s), CLEAN);
  assertEquals(s.mentions.map((m) => m.name), [
    "오스트레일리아",
    "피지",
    "튀르키예",
    "캐나다",
    "칠레",
  ]);
  // asked names may be aliases too
  assertEquals(
    counts(scoreAnswer(["호주", "터키"], "오세아니아: 오스트레일리아\n아시아: 튀르키예")),
    CLEAN,
  );
});

Deno.test("rule 3: whitespace variants and CRLF", () => {
  const s = scoreAnswer(
    ["대한민국", "아랍 에미리트", "보스니아 헤르체고비나", "남아프리카 공화국"],
    "  아시아 :  대한 민국 ,아랍에미리트  \r\n\r\n  유럽:보스니아헤르체고비나\r\n아프리카 :   남아프리카공화국 ",
  );
  assertEquals(counts(s), CLEAN);
  assertEquals(s.mentions.map((m) => m.line), [1, 1, 3, 4]);
});

Deno.test("asked names are checked: unknown or non-member names throw, duplicates count once", () => {
  throws(() => scoreAnswer(["중국", "아틀란티스"], "아시아: 중국"), /아틀란티스/);
  throws(() => scoreAnswer(["대만"], "아시아: 대만"), /대만/);
  const s = scoreAnswer(["중국", "중국"], "아시아: 중국");
  assertEquals(counts(s), CLEAN);
});

Deno.test("rule 1: odd item texts and long runs of spacing or marks are items like any other", () => {
  // Item texts that name properties of plain objects, and numbers, are unknown names.
  const odd = scoreAnswer(
    ["중국"],
    "아시아: 중국, __proto__, constructor, toString, 123, hasOwnProperty",
  );
  assertEquals(odd.mentions.map((m) => [m.text, m.kind]), [
    ["중국", "asked-country"],
    ["__proto__", "unknown"],
    ["constructor", "unknown"],
    ["toString", "unknown"],
    ["123", "unknown"],
    ["hasOwnProperty", "unknown"],
  ]);
  assertEquals(odd.extended, 5);
  // Spacing, stars and full stops around an item are trimmed however many there are.
  const gap = " ".repeat(5000);
  const long = scoreAnswer(
    ["중국", "일본"],
    `아시아: ${"*".repeat(5000)}중국${gap}*${gap}, ${gap}일본${gap}.${".".repeat(5000)}${gap}`,
  );
  assertEquals(counts(long), CLEAN);
  assertEquals(long.mentions.map((m) => [m.raw.slice(0, 3), m.text]), [["중국", "중국"], [
    "일본 ",
    "일본",
  ]]);
});

Deno.test("parseGroups keeps group order and drops empty unresolved groups", () => {
  const groups = parseGroups("안녕하세요:\n참고:\n아시아: 중국\n유럽:\n- 프랑스", getTaxonomy());
  assertEquals(groups.map((g) => [g.label, g.continent, g.items.map((i) => i.text)]), [
    ["아시아", "아시아", ["중국"]],
    ["유럽", "유럽", ["프랑스"]],
  ]);
});

function record(
  over: Partial<AnswerRecord> = {},
  prompt: Partial<AnswerRecord["prompt"]> = {},
): AnswerRecord {
  return {
    prompt: {
      id: "e001",
      system: "",
      user: "목록에서 나라를 대륙별로 분류해줘.\n\n중국, 프랑스",
      countries: ["중국", "프랑스"],
      countryCount: 2,
      continentCount: 2,
      ...prompt,
    },
    index: 0,
    repeat: 0,
    label: "HCX-003@100",
    model: "HCX-003",
    size: 100,
    params: { ...SAMPLING_PARAMETERS, seed: 1 },
    text: "아시아: 중국\n유럽: 프랑스",
    usage: {},
    latencyMs: 5,
    attempts: 1,
    error: null,
    answeredAt: "2024-06-03T00:00:00.000Z",
    ...over,
  };
}

Deno.test("scoreRecord: the record with its verdict; its row carries the prompt's metadata and the counts; failed calls refused", () => {
  const rec = record({ repeat: 1, index: 4 }, { id: "e005" });
  const scored = scoreRecord(rec);
  const { score } = scored;
  // The journal's record itself, not a copy.
  assert(scored.record === rec);
  assertEquals(scoreRow(scored), {
    label: "HCX-003@100",
    model: "HCX-003",
    size: 100,
    promptId: "e005",
    index: 4,
    repeat: 1,
    countryCount: 2,
    continentCount: 2,
    missing: 0,
    misclassified: 0,
    extended: 0,
    formatError: false,
    hasError: false,
  });
  assertEquals(score.mentions.length, 2);
  assertEquals(scoreRecord(record({ text: "모르겠습니다" })).score.formatError, true);
  throws(() => scoreRecord(record({ text: null })), /no answer/);
  throws(
    () => scoreRecord(record({}, { id: "e009", countries: ["아틀란티스"] })),
    /prompt e009: .*아틀란티스/,
  );
});

Deno.test("scores.csv round-trips, neutralises formula-like cells, and names a bad row and column", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const answers = [
      scoreRecord(record()),
      scoreRecord(record({ index: 1, label: "@SUM(1)" }, { id: '=HYPERLINK("x")' })),
    ];
    const rows: ScoreRow[] = answers.map(scoreRow);
    const path = `${dir}/scores.csv`;
    await Deno.writeTextFile(path, scoresToCsv(answers));
    const text = await Deno.readTextFile(path);
    assertEquals(
      text.split("\n")[0],
      "label,model,size,promptId,index,repeat,countryCount,continentCount,missing,misclassified," +
        "extended,formatError,hasError",
    );
    assertEquals(text.split("\n")[1], "HCX-003@100,HCX-003,100,e001,0,0,2,2,0,0,0,false,false");
    // No cell of the file starts with a formula trigger; reading it back restores the text.
    assert(text.split("\n")[2].startsWith(`'@SUM(1),HCX-003,100,"'=HYPERLINK(""x"")"`), text);
    assertEquals(await readScoresCsv(path), rows);
    await Deno.writeTextFile(path, scoresToCsv(answers).replace(",false,false", ",maybe,false"));
    const err = await readScoresCsv(path).then(() => new Error("no error"), (e: Error) => e);
    assert(err.message.includes("row 2") && err.message.includes("formatError"), err.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function journal(path: string, ...records: AnswerRecord[]) {
  const w = await openJournal(path);
  for (const r of records) await w.append(r);
  await w.close();
}

Deno.test("scoreRun and `deno task score`: re-score a folder of journals", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await journal(
      `${dir}/answers/HCX-003@100.jsonl`,
      record(),
      record({
        index: 1,
        text: null,
        error: { kind: "retry", code: "50000", message: "boom" },
      }, { id: "e002" }),
    );
    await journal(
      `${dir}/answers/HCX-003.jsonl`,
      record({ label: "HCX-003", size: 0, text: "유럽: 중국, 프랑스" }),
    );
    await Deno.writeTextFile(
      `${dir}/tasks.json`,
      JSON.stringify([{
        label: "HCX-003@100",
        model: "HCX-003",
        size: 100,
        taskId: "t1",
        status: "SUCCEEDED",
        trainLoss: 0.42,
      }]),
    );
    // Scoring without writing: each answered record once, with its verdict, in journal order.
    const counts: JournalSummary[] = [];
    const scored = await Array.fromAsync(scoreJournals(dir, {}, counts));
    assertEquals(scored.map((a) => [a.record.label, a.score.misclassified, a.score.hasError]), [
      ["HCX-003", 1, true],
      ["HCX-003@100", 0, false],
    ]);
    assertEquals(counts.map((j) => [j.file, j.answered, j.failed]), [
      ["answers/HCX-003.jsonl", 1, 0],
      ["answers/HCX-003@100.jsonl", 1, 1],
    ]);
    assert(!(await Deno.stat(`${dir}/scores.csv`).then(() => true, () => false)));
    const result = await scoreRun(dir);
    assertEquals(result.journals.map((j) => [j.file, j.answered, j.failed]), [
      ["answers/HCX-003.jsonl", 1, 0],
      ["answers/HCX-003@100.jsonl", 1, 1],
    ]);
    assertEquals(result.failed, 1);
    const rows = await readScoresCsv(`${dir}/scores.csv`);
    assertEquals(rows.map((r) => [r.label, r.misclassified, r.hasError]), [
      ["HCX-003", 1, true],
      ["HCX-003@100", 0, false],
    ]);

    await Deno.remove(`${dir}/scores.csv`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../lib/cli/score.ts", import.meta.url).pathname, "--run", dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assert(stdout.includes("100개 튜닝") && stdout.includes("0.4200"), stdout);
    assert(stdout.includes("2 answers from 2 journals scored (1 failed calls not scored)"), stdout);
    assertEquals((await readScoresCsv(`${dir}/scores.csv`)).length, 2);

    const bad = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../lib/cli/score.ts", import.meta.url).pathname,
        "--run",
        `${dir}/nope`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(bad.code, 2);
    const err = new TextDecoder().decode(bad.stderr);
    assert(err.includes("no answers/ folder") && err.includes("usage:"), err);
    assert(!/\n\s+at /.test(err), "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
