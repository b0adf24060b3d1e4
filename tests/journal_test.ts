import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import { join } from "node:path";
import {
  answerKey,
  type AnswerRecord,
  appendJournal,
  compactJournal,
  dedupeRecords,
  JournalFormatError,
  loadJournal,
  openJournal,
  readJournal,
} from "../lib/journal.ts";

function record(promptId: string, repeat: number, over: Partial<AnswerRecord> = {}): AnswerRecord {
  return {
    promptId,
    repeat,
    label: "HCX-003@100",
    model: "HCX-003",
    size: 100,
    system: "",
    user: `목록에서 나라를 대륙별로 분류해줘.\n\n${promptId}`,
    countries: ["프랑스", "일본"],
    countryCount: 2,
    continentCount: 2,
    text: `answer ${promptId}/${repeat}`,
    latencyMs: 12.5,
    attempts: 1,
    params: { temperature: 0.5 },
    error: null,
    answeredAt: new Date(0).toISOString(),
    ...over,
  };
}

const failed = (id: string, repeat: number) =>
  record(id, repeat, { text: null, error: { code: "50000", httpStatus: 500, message: "boom" } });

Deno.test("journal: appended lines read back, one flushed line per record", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "answers", "x.jsonl");
  const writer = await openJournal(path);
  await Promise.all([0, 1, 2, 3, 4].map((i) => writer.append(record(`e00${i}`, 0))));
  await writer.close();
  const text = await Deno.readTextFile(path);
  assertEquals(text.split("\n").length, 6); // 5 lines + trailing ""
  const recs = await readJournal(path);
  assertEquals(recs.map((r) => r.promptId).sort(), ["e000", "e001", "e002", "e003", "e004"]);
  await appendJournal(path, record("e005", 0));
  assertEquals((await readJournal(path)).length, 6);
});

Deno.test("journal: dedupe keeps the last success, else the last failure", () => {
  const lines = [
    failed("a", 0),
    record("a", 0, { text: "first ok" }),
    failed("a", 0),
    record("b", 0, { text: "b ok" }),
    failed("c", 0),
    failed("c", 0),
    record("a", 1, { text: "repeat 1" }),
  ];
  const out = dedupeRecords(lines);
  assertEquals(out.map((r) => answerKey(r.promptId, r.repeat)), [
    answerKey("a", 0),
    answerKey("b", 0),
    answerKey("c", 0),
    answerKey("a", 1),
  ]);
  assertEquals(out[0].text, "first ok");
  assertEquals(out[2].error?.code, "50000");
  assertEquals(out[3].text, "repeat 1");
});

Deno.test("journal: a torn last line is skipped, then cut off before the next append", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "j.jsonl");
  await appendJournal(path, record("e001", 0));
  // Simulate SIGKILL mid-write: half a JSON line with no newline.
  const half = JSON.stringify(record("e002", 0)).slice(0, 40);
  await Deno.writeTextFile(path, half, { append: true });
  const torn = await loadJournal(path);
  assertEquals(torn.tornLines, 1);
  assertEquals(torn.records.length, 1);
  await appendJournal(path, record("e003", 0));
  const healed = await loadJournal(path);
  assertEquals(healed.records.map((r) => r.promptId), ["e001", "e003"]);
  assertEquals(healed.tornLines, 0);
  assertEquals((await Deno.readTextFile(path)).trim().split("\n").length, 2);
});

Deno.test("journal: a bad line in the middle names file and line", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "j.jsonl");
  await Deno.writeTextFile(
    path,
    JSON.stringify(record("e001", 0)) + "\n" + `{"promptId":"x"}\n` +
      JSON.stringify(record("e002", 0)) + "\n",
  );
  await assertRejects(() => readJournal(path), (err: Error) => {
    assert(err instanceof JournalFormatError);
    assert(err.message.includes(path) && err.message.includes("line 2"), err.message);
    return true;
  });
});

Deno.test("journal: missing file is empty; invalid record refused at append", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "none.jsonl");
  assertEquals(await readJournal(path), []);
  await assertRejects(() =>
    appendJournal(path, { ...record("e1", 0), repeat: -1 } as AnswerRecord)
  );
});

Deno.test("journal: compaction leaves one line per key", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "j.jsonl");
  for (const r of [failed("a", 0), record("a", 0), record("b", 0), failed("b", 0)]) {
    await appendJournal(path, r);
  }
  const recs = await compactJournal(path);
  assertEquals(recs.length, 2);
  const lines = (await Deno.readTextFile(path)).trim().split("\n");
  assertEquals(lines.length, 2);
  assert(recs.every((r) => r.error === null));
});
