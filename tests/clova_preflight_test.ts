// Tuning-dataset pre-flight: each documented rule, with the service's failureReason/message.
import assert from "node:assert/strict";
import { stringify } from "csv-stringify/sync";
import {
  preflightTuningCsv,
  preflightTuningCsvBytes,
  readTuningCsvRows,
} from "../lib/backends/clova/mod.ts";

const BOM = "\uFEFF";
const enc = (s: string) => new TextEncoder().encode(s);

function csv(header: string[], rows: (string | number)[][], bom = true): Uint8Array {
  return enc((bom ? BOM : "") + stringify([header, ...rows]));
}

const tc = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => [`목록에서 나라를 대륙별로 분류해줘.\n\n나라${i}`, `아시아: 나라${i}`],
  );

const reasons = (r: { problems: { failureReason: string; message: string; severity: string }[] }) =>
  r.problems.filter((p) => p.severity === "error").map((p) => `${p.failureReason}|${p.message}`);

Deno.test("preflight: a good Text/Completion CSV passes", () => {
  const r = preflightTuningCsvBytes(csv(["Text", "Completion"], tc(120)), {
    fileName: "train.csv",
  });
  assert.deepEqual(reasons(r), []);
  assert.equal(r.ok, true);
  assert.equal(r.rows, 120);
  assert.equal(r.format, "text-completion");
});

Deno.test("preflight: a good instruction CSV (multi-turn, case-insensitive names) passes", () => {
  const rows: (string | number)[][] = [];
  for (let c = 0; c < 60; c++) {
    rows.push(["sys", c, 0, "q", "a"], ["sys", c, 1, "q2", "a2"]);
  }
  const r = preflightTuningCsvBytes(
    csv(["system_prompt", "c_id", "T_ID", "text", "completion"], rows),
  );
  assert.deepEqual(reasons(r), []);
  assert.equal(r.format, "instruction");
});

Deno.test("preflight: missing BOM mirrors file.encoding; invalid UTF-8 too", () => {
  const r = preflightTuningCsvBytes(csv(["Text", "Completion"], tc(100), false));
  assert.equal(r.ok, false);
  assert.deepEqual(r.problems.map((p) => [p.rule, p.failureReason]), [[
    "encoding.bom",
    "file.encoding",
  ]]);
  assert.match(r.problems[0].message, /^Unsupported charset/);
  const bad = new Uint8Array([0xef, 0xbb, 0xbf, 0x54, 0xff, 0xfe, 0x0a]);
  const r2 = preflightTuningCsvBytes(bad);
  assert.ok(reasons(r2).includes("file.encoding|Unsupported charset"));
});

Deno.test("preflight: extension and size", () => {
  const data = csv(["Text", "Completion"], tc(100));
  assert.deepEqual(reasons(preflightTuningCsvBytes(data, { fileName: "train.xlsx" })), [
    "file.extension|Unavailable file extension. Please check the file extension again.",
  ]);
  assert.deepEqual(reasons(preflightTuningCsvBytes(data, { maxBytes: 1024 })), [
    "file.size|Exceeded the disk usage limit. Please check if the file size is 1024B or less.",
  ]);
  const j = preflightTuningCsvBytes(data, { fileName: "train.jsonl" });
  assert.equal(j.ok, true);
  assert.equal(j.problems[0].severity, "warning");
});

Deno.test("preflight: columns — missing, unexpected, duplicate, order", () => {
  assert.deepEqual(reasons(preflightTuningCsvBytes(csv(["Text"], tc(100).map((r) => [r[0]])))), [
    "file.format|Invalid dataset: required field empty. Completion",
  ]);
  assert.deepEqual(
    reasons(
      preflightTuningCsvBytes(
        csv(["Text", "Completion", "Label"], tc(100).map((r) => [...r, "x"])),
      ),
    ),
    ["file.format|Invalid dataset: unexpected column. Label"],
  );
  assert.deepEqual(
    reasons(
      preflightTuningCsvBytes(csv(["Text", "Completion", "text"], tc(100).map((r) => [...r, "x"]))),
    ),
    ["file.format|Invalid dataset: duplicate columns. text"],
  );
  assert.deepEqual(reasons(preflightTuningCsvBytes(csv(["Completion", "Text"], tc(100)))), [
    "file.format|Invalid dataset: column order",
  ]);
  const rows = Array.from({ length: 100 }, (_, i) => [i, 0, "sys", "q", "a"]);
  assert.deepEqual(
    reasons(
      preflightTuningCsvBytes(csv(["C_ID", "T_ID", "System_Prompt", "Text", "Completion"], rows)),
    ),
    ["file.format|Invalid dataset: column order"],
  );
  assert.deepEqual(
    reasons(
      preflightTuningCsvBytes(
        csv(["C_ID", "Text", "Completion"], rows.map((r) => [r[0], "q", "a"])),
      ),
    ),
    ["file.format|Invalid dataset: required field empty. T_ID"],
  );
});

Deno.test("preflight: empty fields and C_ID/T_ID sequences name the record", () => {
  const rows = tc(100);
  rows[4][1] = "";
  rows[7][0] = "  ";
  const r = preflightTuningCsvBytes(csv(["Text", "Completion"], rows));
  assert.deepEqual(
    r.problems.map((p) => [p.message, p.record, p.column]),
    [
      ["Invalid dataset: required field empty. Completion", 6, "Completion"],
      ["Invalid dataset: required field empty. Text", 9, "Text"],
    ],
  );
  const seq: (string | number)[][] = Array.from({ length: 100 }, (_, i) => [i, 0, "q", "a"]);
  seq[0][0] = 1; // must start at 0
  seq[10][1] = 1; // T_ID must restart at 0
  seq[20][0] = ""; // empty
  seq[30][0] = 35; // jump
  const r2 = preflightTuningCsvBytes(csv(["C_ID", "T_ID", "Text", "Completion"], seq));
  const ids = r2.problems.map((p) => `${p.message}@${p.record}`);
  assert.ok(ids.includes("Invalid dataset: C_ID@2"), ids.join());
  assert.ok(ids.includes("Invalid dataset: T_ID@12"), ids.join());
  assert.ok(ids.includes("Invalid dataset: C_ID@22"), ids.join());
  assert.ok(ids.includes("Invalid dataset: C_ID@32"), ids.join());
});

Deno.test("preflight: row minimum (configurable), caps repeated problems", () => {
  const r = preflightTuningCsvBytes(csv(["Text", "Completion"], tc(50)));
  assert.deepEqual(reasons(r), [
    "file.format|Invalid dataset: at least 100 rows are required (found 50)",
  ]);
  assert.equal(
    preflightTuningCsvBytes(csv(["Text", "Completion"], tc(50)), { minRows: 50 }).ok,
    true,
  );
  const empty = tc(100).map((r) => [r[0], ""]);
  const r2 = preflightTuningCsvBytes(csv(["Text", "Completion"], empty), { maxPerRule: 3 });
  assert.equal(r2.problems.length, 4);
  assert.match(r2.problems[3].message, /97 more/);
});

Deno.test("preflight: from a path, and reading rows for token counting", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/train_100.csv`;
    await Deno.writeFile(path, csv(["Text", "Completion"], tc(100)));
    const r = await preflightTuningCsv(path);
    assert.equal(r.fileName, "train_100.csv");
    assert.equal(r.ok, true);
    const rows = readTuningCsvRows(await Deno.readFile(path));
    assert.equal(rows.length, 100);
    assert.equal(rows[3].completion, "아시아: 나라3");
    assert.ok(!rows[0].text.startsWith(BOM));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("preflight: the current API's C_ID/T_ID columns can be required", () => {
  const twoColumns = new TextEncoder().encode("\uFEFFText,Completion\na,b\n");
  assert.ok(preflightTuningCsvBytes(twoColumns, { minRows: 1 }).ok);
  const strict = preflightTuningCsvBytes(twoColumns, { minRows: 1, requireIds: true });
  assert.equal(strict.ok, false);
  assert.deepEqual(
    strict.problems.filter((p) => p.rule === "columns.required").map((p) => p.column),
    ["C_ID", "T_ID"],
  );
});
