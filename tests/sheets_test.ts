import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import ExcelJS from "exceljs";
import {
  evalXlsxBytes,
  generateEvalSet,
  generateTrainingSet,
  parseTuningCsv,
  type Prompt,
  readTuningCsv,
  SheetError,
  tuningCsv,
  writeEvalXlsx,
  writeTuningCsv,
} from "../lib/datasets/mod.ts";
import process from "node:process";
import { openPromptSheet, readPromptSheet } from "../lib/answers/promptSheet.ts";
import { getTaxonomy } from "../lib/countries/taxonomy.ts";
import { openXlsxSheet, writeXlsxSheet } from "../lib/sheets/mod.ts";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

const taxonomy = getTaxonomy("un");
const dir = await Deno.makeTempDir({ prefix: "sheets_test_" });
const path = (name: string) => join(dir, name);
const bytesText = (b: Uint8Array) => new TextDecoder("utf-8", { ignoreBOM: true }).decode(b);

/** Asserts that `fn` rejects with a SheetError whose fields and message match. */
async function rejectsSheet(
  fn: () => Promise<unknown>,
  expect: { file?: string; sheet?: string; row?: number; column?: string; reason?: string },
): Promise<SheetError> {
  try {
    await fn();
  } catch (e) {
    assert(e instanceof SheetError, `expected SheetError, got ${e}`);
    if (expect.file !== undefined) {
      assertEquals(e.file, expect.file);
      assert(e.message.includes(expect.file));
    }
    if (expect.sheet !== undefined) {
      assertEquals(e.sheet, expect.sheet);
      assert(e.message.includes(`sheet "${expect.sheet}"`), e.message);
    }
    if (expect.row !== undefined) {
      assertEquals(e.row, expect.row);
      assert(e.message.includes(`row ${expect.row}`), e.message);
    }
    if (expect.column !== undefined) {
      assertEquals(e.column, expect.column);
      assert(e.message.includes(`column ${expect.column}`), e.message);
    }
    if (expect.reason !== undefined) assert(e.reason.includes(expect.reason), e.message);
    return e;
  }
  throw new Error("expected a SheetError, nothing was thrown");
}

async function writeSheet(
  file: string,
  rows: (string | number | null)[][],
  sheet = "Sheet1",
): Promise<string> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(sheet);
  rows.forEach((r, i) => {
    r.forEach((v, j) => {
      if (v !== null) ws.getCell(i + 1, j + 1).value = v;
    });
  });
  await wb.xlsx.writeFile(path(file));
  return path(file);
}

const tricky = [
  { text: 'a, "quoted", b', completion: "line1\nline2, with comma" },
  { text: "cr\rinside", completion: 'ends with quote"' },
  { text: "목록에서 나라를 대륙별로 분류해줘.\n\n일본, 중국", completion: "x\r\ny" },
  { text: "plain", completion: "=SUM(A1)" },
];

Deno.test("tuning CSV: BOM, CRLF, minimal quoting, round-trip with commas, quotes and newlines", async () => {
  await writeTuningCsv(path("tricky.csv"), tricky);
  const bytes = await Deno.readFile(path("tricky.csv"));
  assertEquals([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 BOM");
  const text = bytesText(bytes);
  assert(text.startsWith("\ufeffText,Completion\r\n"), JSON.stringify(text.slice(0, 30)));
  assert(text.includes('"a, ""quoted"", b"'), "quotes doubled inside a quoted field");
  assert(text.includes("\r\nplain,=SUM(A1)\r\n"), "plain fields unquoted, CRLF record ends");
  assert(text.includes('"cr\rinside"'), "a lone CR is quoted");
  const back = await readTuningCsv(path("tricky.csv"));
  assertEquals(back.format, "text-completion");
  assertEquals(back.bom, true);
  assertEquals(back.lineEnding, "crlf");
  assertEquals(back.rows.map((r) => ({ text: r.text, completion: r.completion })), tricky);
  assertEquals(back.rows.map((r) => r.row), [2, 3, 4, 5]);
});

Deno.test("tuning CSV: generated rows round-trip; single-turn has C_ID 0..n-1 and T_ID 0", async () => {
  // 2,500 rows: the writer works in chunks of 1,000, so this crosses chunk boundaries.
  const rows = generateTrainingSet({ rows: 2500, seed: 4, taxonomy });
  await writeTuningCsv(path("train.csv"), rows);
  assertEquals(bytesText(await Deno.readFile(path("train.csv"))), tuningCsv(rows));
  const back = await readTuningCsv(path("train.csv"));
  assertEquals(
    back.rows.map((r) => [r.text, r.completion]),
    rows.map((r) => [r.text, r.completion]),
  );

  await writeTuningCsv(path("single.csv"), rows, { format: "single-turn" });
  const text = bytesText(await Deno.readFile(path("single.csv")));
  assert(text.startsWith('\ufeffC_ID,T_ID,Text,Completion\r\n0,0,"'));
  const single = await readTuningCsv(path("single.csv"));
  assertEquals(single.format, "single-turn");
  assertEquals(single.rows.map((r) => r.cId), rows.map((_, i) => i));
  assert(single.rows.every((r) => r.tId === 0));
  assertEquals(single.rows.map((r) => r.text), rows.map((r) => r.text));
  assertEquals(text, tuningCsv(rows, { format: "single-turn" }));
  await writeTuningCsv(path("none.csv"), []);
  assertEquals(bytesText(await Deno.readFile(path("none.csv"))), "\ufeffText,Completion\r\n");
  assertEquals((await readTuningCsv(path("none.csv"))).rows, []);
});

Deno.test("tuning CSV and eval XLSX writers: a failure leaves the old file and no other", async () => {
  const folder = await Deno.makeTempDir({ dir, prefix: "atomic_" });
  const target = join(folder, "train.csv");
  await Deno.writeTextFile(target, "the old file");
  const rows = generateTrainingSet({ rows: 2500, seed: 4, taxonomy })
    .map((r) => ({ text: r.text, completion: r.completion }));
  // Past the first 1,000-row chunk, so part of the file has been written when it fails.
  Object.defineProperty(rows[1500], "text", {
    get() {
      throw new Error("row 1500 cannot be read");
    },
  });
  await nodeAssert.rejects(() => writeTuningCsv(target, rows), /row 1500 cannot be read/);
  assertEquals(await Deno.readTextFile(target), "the old file");
  assertEquals([...Deno.readDirSync(folder)].map((e) => e.name), ["train.csv"]);

  const prompts = generateEvalSet({ seed: 7, taxonomy });
  const sheet = join(folder, "eval.xlsx");
  await writeEvalXlsx(sheet, prompts);
  await nodeAssert.rejects(() => writeEvalXlsx(join(folder, "no-such-dir", "eval.xlsx"), prompts));
  assertEquals(await Deno.readFile(sheet), await evalXlsxBytes(prompts));
  assertEquals([...Deno.readDirSync(folder)].map((e) => e.name).sort(), ["eval.xlsx", "train.csv"]);
});

function hasPython(): boolean {
  try {
    return new Deno.Command("python3", { args: ["-c", "1"], stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

// Skipped where there is no Python; the round-trip tests above still cover the reader.
Deno.test("tuning CSV: Python's csv module reads it the same way", {
  ignore: !hasPython(),
}, async () => {
  await writeTuningCsv(path("py.csv"), tricky);
  const script = "import csv,json,sys\n" +
    "rows=list(csv.reader(open(sys.argv[1],newline='',encoding='utf-8-sig')))\n" +
    "print(json.dumps(rows))";
  const out = await new Deno.Command("python3", {
    args: ["-c", script, path("py.csv")],
    stdout: "piped",
    env: { PYDEVD_DISABLE_FILE_VALIDATION: "1" },
  }).output();
  assert(out.success);
  const parsed = JSON.parse(new TextDecoder().decode(out.stdout));
  assertEquals(parsed, [["Text", "Completion"], ...tricky.map((r) => [r.text, r.completion])]);
});

Deno.test("tuning CSV reader: wrong header, empty completion, bad C_ID are located errors", async () => {
  const bad = (content: string) => () =>
    Promise.resolve().then(() => parseTuningCsv(content, "x.csv"));
  await rejectsSheet(bad("\ufeffPrompt,Answer\r\na,b\r\n"), {
    file: "x.csv",
    row: 1,
    reason: "unexpected header",
  });
  await rejectsSheet(bad("Text,Completion\r\na,b\r\nc,\r\n"), { row: 3, column: "Completion" });
  await rejectsSheet(bad("C_ID,T_ID,Text,Completion\r\n0,0,a,b\r\n2,0,c,d\r\n"), {
    row: 3,
    column: "C_ID",
  });
  await rejectsSheet(bad("C_ID,T_ID,Text,Completion\r\n0,1,a,b\r\n"), { row: 2, column: "T_ID" });
  await rejectsSheet(bad(""), { file: "x.csv", reason: "empty" });
  await rejectsSheet(bad('Text,Completion\r\n"unterminated,b\r\n'), { reason: "malformed CSV" });
  // Multi-turn conversations are accepted: C_ID repeats with T_ID counting up.
  const multi = parseTuningCsv("C_ID,T_ID,Text,Completion\n0,0,a,b\n0,1,c,d\n1,0,e,f\n");
  assertEquals(multi.rows.map((r) => [r.cId, r.tId]), [[0, 0], [0, 1], [1, 0]]);
  assertEquals(multi.lineEnding, "lf");
  assertEquals(multi.bom, false);
});

Deno.test("eval XLSX: round-trip through readPromptSheet, byte-identical rewrites", async () => {
  const prompts = generateEvalSet({ seed: 7, taxonomy, system: "" });
  await writeEvalXlsx(path("eval.xlsx"), prompts);
  const back = await readPromptSheet(path("eval.xlsx"));
  assertEquals(back.length, 100);
  assertEquals(back, prompts);
  // The header is the cookbook's system/user plus our metadata, in that order.
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(path("eval.xlsx"));
  assertEquals(
    (wb.worksheets[0].getRow(1).values as unknown[]).slice(1),
    ["system", "user", "prompt_id", "country_count", "continent_count", "countries"],
  );
  const [a, b] = await Promise.all([evalXlsxBytes(prompts), evalXlsxBytes(prompts)]);
  assertEquals(a, b);
  const withSystem: Prompt[] = prompts.slice(0, 2).map((p) => ({ ...p, system: "분류해" }));
  await writeEvalXlsx(path("eval_sys.xlsx"), withSystem);
  assertEquals((await readPromptSheet(path("eval_sys.xlsx"))).map((r) => r.system), [
    "분류해",
    "분류해",
  ]);
});

Deno.test("readPromptSheet: the cookbook's minimal sheet, blank rows skipped, ids fall back", async () => {
  const file = await writeSheet("minimal.xlsx", [
    ["System", " USER "],
    ["", "목록에서 나라를 대륙별로 분류해줘.\n\n일본, 독일"],
    [null, null],
    ["   ", ""],
    ["너는 분류기야", "두 번째"],
  ]);
  const rows = await readPromptSheet(file);
  const none = { countries: [], countryCount: 0, continentCount: 0 };
  assertEquals(rows, [
    { id: "r2", system: "", user: "목록에서 나라를 대륙별로 분류해줘.\n\n일본, 독일", ...none },
    { id: "r5", system: "너는 분류기야", user: "두 번째", ...none },
  ]);
  // Rich text and numbers are read as text.
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("p");
  ws.addRow(["system", "user", "prompt_id", "country_count"]);
  ws.addRow(["", { richText: [{ text: "목록" }, { text: "에서" }] }, 17, 10]);
  await wb.xlsx.writeFile(path("rich.xlsx"));
  assertEquals(await readPromptSheet(path("rich.xlsx")), [
    { id: "17", system: "", user: "목록에서", countries: [], countryCount: 10, continentCount: 0 },
  ]);
});

Deno.test("readPromptSheet: no user column names file, sheet, row and column", async () => {
  const file = await writeSheet("nouser.xlsx", [["system", "prompt"], ["", "hi"]], "평가");
  const e = await rejectsSheet(() => readPromptSheet(file), {
    file,
    sheet: "평가",
    row: 1,
    column: "user",
    reason: 'no "user" column',
  });
  assert(e.message.includes('"prompt"'), "lists the columns found");
  const noSystem = await writeSheet("nosystem.xlsx", [["user"], ["hi"]]);
  await rejectsSheet(() => readPromptSheet(noSystem), { row: 1, column: "system" });
});

Deno.test("readPromptSheet: empty file, non-XLSX named .xlsx, missing file, empty sheet", async () => {
  await Deno.writeFile(path("empty.xlsx"), new Uint8Array());
  await rejectsSheet(() => readPromptSheet(path("empty.xlsx")), {
    file: path("empty.xlsx"),
    reason: "empty",
  });
  await Deno.writeTextFile(path("fake.xlsx"), "system,user\n,hello\n");
  await rejectsSheet(() => readPromptSheet(path("fake.xlsx")), {
    file: path("fake.xlsx"),
    reason: "not an XLSX",
  });
  // A ZIP that is not a workbook.
  await Deno.writeFile(
    path("zip.xlsx"),
    new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6]),
  );
  await rejectsSheet(() => readPromptSheet(path("zip.xlsx")), {
    reason: "cannot read the workbook",
  });
  await rejectsSheet(() => readPromptSheet(path("missing.xlsx")), {
    reason: "cannot read the file",
  });
  const blank = await writeSheet("blank.xlsx", [], "빈");
  await rejectsSheet(() => readPromptSheet(blank), { sheet: "빈", reason: "empty" });
  const headerOnly = await writeSheet("header.xlsx", [["system", "user"]]);
  await rejectsSheet(() => readPromptSheet(headerOnly), { reason: "no prompt rows" });
  await rejectsSheet(() => readPromptSheet(headerOnly, { sheet: "nope" }), {
    sheet: "nope",
    reason: "no such sheet",
  });
});

Deno.test("readPromptSheet: empty prompt, malformed numbers, repeated ids are located", async () => {
  const empty = await writeSheet("emptyuser.xlsx", [["system", "user"], ["", "ok"], ["sys", "  "]]);
  await rejectsSheet(() => readPromptSheet(empty), { row: 3, column: "B (user)", reason: "empty" });
  const badNum = await writeSheet("badnum.xlsx", [
    ["system", "user", "prompt_id", "country_count"],
    ["", "a", "e001", 10],
    ["", "b", "e002", "열"],
  ]);
  await rejectsSheet(() => readPromptSheet(badNum), {
    row: 3,
    column: "D (country_count)",
    reason: "positive whole number",
  });
  const frac = await writeSheet("frac.xlsx", [["system", "user", "continent_count"], [
    "",
    "a",
    2.5,
  ]]);
  await rejectsSheet(() => readPromptSheet(frac), { row: 2, column: "C (continent_count)" });
  const dup = await writeSheet("dup.xlsx", [
    ["system", "user", "prompt_id"],
    ["", "a", "e001"],
    ["", "b", "e001"],
  ]);
  await rejectsSheet(() => readPromptSheet(dup), {
    row: 3,
    column: "C (prompt_id)",
    reason: "repeats row 2",
  });
  const twice = await writeSheet("twice.xlsx", [["system", "user", "User"], ["", "a", "b"]]);
  await rejectsSheet(() => readPromptSheet(twice), { row: 1, reason: "appears twice" });
});

Deno.test("readPromptSheet: CSV prompt sheets", async () => {
  await Deno.writeTextFile(
    path("prompts.csv"),
    '\ufeffsystem,user,prompt_id,countries\r\n,"목록에서 나라를 대륙별로 분류해줘.\n\n일본, 독일",p1,"일본, 독일"\r\n,,,\r\nsys,두 번째,p2,\r\n',
  );
  assertEquals(await readPromptSheet(path("prompts.csv")), [
    {
      id: "p1",
      system: "",
      user: "목록에서 나라를 대륙별로 분류해줘.\n\n일본, 독일",
      countries: ["일본", "독일"],
      countryCount: 2,
      continentCount: 0,
    },
    { id: "p2", system: "sys", user: "두 번째", countries: [], countryCount: 0, continentCount: 0 },
  ]);
  await Deno.writeTextFile(path("nouser.csv"), "system,text\n,hi\n");
  await rejectsSheet(() => readPromptSheet(path("nouser.csv")), { row: 1, column: "user" });
  // A tuning CSV written by this module is not a prompt sheet, and says so.
  await Deno.writeTextFile(path("tuning.csv"), tuningCsv(tricky));
  await rejectsSheet(() => readPromptSheet(path("tuning.csv")), { column: "system" });
});

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // already gone
  }
});

Deno.test("readPromptSheet streams an XLSX: inline strings, shared strings, Hangul across chunk boundaries", async () => {
  // 3,000 prompts of Hangul: the sheet's XML runs to megabytes, so it is inflated and parsed in
  // many chunks, and multi-byte characters fall across their boundaries.
  const prompts = Array.from({ length: 3000 }, (_, i) => ({
    system: i % 2 ? "" : "너는 분류 전문가야",
    user: `${i}번: 목록에서 나라를 대륙별로 분류해줘. 대한민국, 일본, 프랑스, 브라질, 케냐`,
  }));
  const inline = path("inline.xlsx");
  const writer = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: inline,
    useSharedStrings: false,
  });
  const ws = writer.addWorksheet("prompts");
  ws.addRow(["system", "user"]).commit();
  for (const p of prompts) ws.addRow([p.system, p.user]).commit();
  ws.commit();
  await writer.commit();
  const shared = await writeSheet("shared.xlsx", [
    ["system", "user"],
    ...prompts.map((p) => [p.system, p.user]),
  ]);
  for (const file of [inline, shared]) {
    const back = await readPromptSheet(file);
    assertEquals(back.length, prompts.length, file);
    assertEquals(back.map((p) => ({ system: p.system, user: p.user })), prompts, file);
    assert(!back.some((p) => p.user.includes("\ufffd")), file);
  }
});

Deno.test("readPromptSheet: shared strings that inflate far beyond their compressed size are read whole", async () => {
  // Long runs of one character deflate about a thousandfold, past the room the reader sets aside
  // for the shared strings from their compressed size, so the table grows while it is read.
  const prompts = Array.from({ length: 20 }, (_, i) => ({
    system: "",
    user: `${i} ${"가".repeat(200_000 + i)} 끝`,
  }));
  const file = await writeSheet("long.xlsx", [
    ["system", "user"],
    ...prompts.map((p) => [p.system, p.user]),
  ]);
  const back = await readPromptSheet(file);
  assertEquals(back.map((p) => p.user.length), prompts.map((p) => p.user.length));
  assertEquals(back.map((p) => ({ system: p.system, user: p.user })), prompts);
});

Deno.test("openPromptSheet: a long CSV read twice leaves no listener behind on its parser", async () => {
  const csv = path("long.csv");
  const lines = ["id,system,user"];
  for (let i = 0; i < 20_000; i++) lines.push(`p${i},,${"가나다라 ".repeat(20)}${i}`);
  await Deno.writeTextFile(csv, lines.join("\n"));
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on("warning", onWarning);
  try {
    const sheet = openPromptSheet(csv);
    for (let pass = 0; pass < 2; pass++) {
      let n = 0;
      for await (const _ of sheet.open()) n++;
      assertEquals(n, 20_000);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off("warning", onWarning);
  }
  assertEquals(warnings, []);
});

Deno.test("XLSX writer: every value reads back through exceljs and the streaming reader", async () => {
  const file = path("written.xlsx");
  const texts = [
    "아시아: 일본, 중국",
    "  leading and trailing  ",
    "line one\nline two\r\n",
    'markup <b>&amp;</b> "quoted"',
    "tab\there",
    "controls\u0000\u0001\u0008\u000B\u001F\u007F gone",
    "😀 surrogate pairs",
  ];
  // More rows than one batch, so the sheet is deflated in several pieces.
  const rows = Array.from({ length: 700 }, (_, i) => [texts[i % texts.length], i * 1.5, null, ""]);
  const handle = await Deno.open(file, { write: true, createNew: true });
  const written = await writeXlsxSheet(handle, {
    sheetName: "answers",
    columns: [{ header: "text", width: 60 }, { header: "number" }, { header: "empty" }, {
      header: "blank",
    }],
  }, rows);
  handle.close();
  assertEquals(written, 700);
  // Characters XML 1.0 cannot carry are left out.
  const expected = (text: string) =>
    [...text].filter((c) => {
      const code = c.charCodeAt(0);
      return code === 9 || code === 10 || code === 13 || (code >= 32 && code !== 127);
    }).join("");

  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.getWorksheet("answers")!;
  assertEquals(ws.rowCount, 701);
  assertEquals((ws.getRow(1).values as unknown[]).slice(1), ["text", "number", "empty", "blank"]);
  for (let i = 0; i < rows.length; i++) {
    const row = ws.getRow(i + 2);
    assertEquals(row.getCell(1).value, expected(texts[i % texts.length]), `row ${i + 2}`);
    assertEquals(row.getCell(2).value, i * 1.5);
    assertEquals(row.getCell(3).value, null);
    assertEquals(row.getCell(4).value, null);
  }
  assertEquals(ws.getColumn(1).width, 60);
  assertEquals(ws.getColumn(2).width, 14);
  assertEquals(ws.views[0]?.state, "frozen");
  assertEquals((ws.views[0] as { ySplit?: number }).ySplit, 1);

  const { rows: read } = await openXlsxSheet(file, "answers");
  let n = 0;
  for await (const r of read) {
    if (r.row === 1) continue;
    const i = r.row - 2;
    assertEquals(r.cells[0], expected(texts[i % texts.length]));
    assertEquals(r.cells[1], String(i * 1.5));
    n++;
  }
  assertEquals(n, 700);
  await nodeAssert.rejects(
    writeXlsxSheet({ write: () => Promise.resolve(0) }, { sheetName: "a/b", columns: [] }, []),
    /sheet name/,
  );
});
