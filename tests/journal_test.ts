import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import { join } from "node:path";
import {
  type AnswerRecord,
  JournalFormatError,
  journalRecords,
  KeyState,
  openJournal,
  promptFingerprint,
  readJournal,
  recordAt,
  scanJournal,
} from "../lib/answers/journal.ts";

function record(index: number, repeat: number, over: Partial<AnswerRecord> = {}): AnswerRecord {
  const id = `e${String(index + 1).padStart(3, "0")}`;
  return {
    prompt: {
      id,
      system: "",
      user: `목록에서 나라를 대륙별로 분류해줘.\n\n${id}`,
      countries: ["프랑스", "일본"],
      countryCount: 2,
      continentCount: 2,
    },
    index,
    repeat,
    label: "HCX-003@100",
    model: "HCX-003",
    size: 100,
    params: {
      temperature: 0.5,
      topP: 0.6,
      topK: 0,
      maxTokens: 256,
      repeatPenalty: 1.2,
      includeAiFilters: false,
      seed: repeat + 1,
    },
    text: `answer ${id}/${repeat}`,
    usage: { inputTokens: 10, outputTokens: 5 },
    latencyMs: 12.5,
    attempts: 1,
    error: null,
    answeredAt: new Date(0).toISOString(),
    ...over,
  };
}

const failed = (index: number, repeat: number) =>
  record(index, repeat, {
    text: null,
    error: { kind: "retry", code: "50000", httpStatus: 500, message: "boom" },
  });

async function append(path: string, ...records: AnswerRecord[]) {
  const writer = await openJournal(path);
  try {
    for (const r of records) await writer.append(r);
  } finally {
    await writer.close();
  }
}

Deno.test("journal: concurrent appends are all synced, in call order, one line each", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "answers", "x.jsonl");
  const writer = await openJournal(path);
  const at = await Promise.all([0, 1, 2, 3, 4].map((i) => writer.append(record(i, 0))));
  await writer.close();
  const text = await Deno.readTextFile(path);
  assertEquals(text.split("\n").length, 6); // 5 lines + trailing ""
  // Each append reports where its line sits (in bytes).
  const bytes = await Deno.readFile(path);
  for (const [i, { offset, length }] of at.entries()) {
    const line = new TextDecoder().decode(bytes.subarray(offset, offset + length));
    assertEquals(JSON.parse(line).index, i);
  }
  assertEquals((await readJournal(path)).map((r) => r.prompt.id), [
    "e001",
    "e002",
    "e003",
    "e004",
    "e005",
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("journal: the last answer wins, else the last failure; records stream in key order", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "j.jsonl");
  await append(
    path,
    failed(0, 0),
    record(0, 0, { text: "first ok" }),
    failed(0, 0),
    record(1, 1, { text: "repeat 1" }),
    failed(2, 0),
    failed(2, 0),
    record(1, 0, { text: "b ok" }),
  );
  const index = await scanJournal(path);
  assertEquals(index.lines, 7);
  assertEquals(index.state(0, 0), KeyState.Answered);
  assertEquals(index.state(2, 0), KeyState.Failed);
  assertEquals(index.state(5, 0), KeyState.None);
  assertEquals(index.counts(), { answered: 3, failed: 1 });
  assertEquals(index.counts({ prompts: 2, repeats: 1 }), { answered: 2, failed: 0 });
  const out = [];
  for await (const r of journalRecords(index)) out.push([r.index, r.repeat, r.text]);
  assertEquals(out, [[0, 0, "first ok"], [1, 0, "b ok"], [2, 0, null], [1, 1, "repeat 1"]]);
  assertEquals((await recordAt(index, 1, 1))?.text, "repeat 1");
  assertEquals(await recordAt(index, 9, 0), undefined);
  assertEquals(index.fingerprint(0), promptFingerprint(record(0, 0).prompt));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("journal: a torn last line is ignored, then cut off before the next append", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "j.jsonl");
  await append(path, record(0, 0));
  // SIGKILL mid-write: half a JSON line with no newline.
  await Deno.writeTextFile(path, JSON.stringify(record(1, 0)).slice(0, 40), { append: true });
  const torn = await scanJournal(path);
  assertEquals(torn.tornLines, 1);
  assertEquals(torn.counts(), { answered: 1, failed: 0 });
  await append(path, record(2, 0));
  const healed = await scanJournal(path);
  assertEquals((await readJournal(path)).map((r) => r.prompt.id), ["e001", "e003"]);
  assertEquals(healed.tornLines, 0);
  assertEquals((await Deno.readTextFile(path)).trim().split("\n").length, 2);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("journal: a bad line in the middle names the file and line", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "j.jsonl");
  await Deno.writeTextFile(
    path,
    JSON.stringify(record(0, 0)) + "\n" + `{"index":"x"}\n` + JSON.stringify(record(1, 0)) + "\n",
  );
  await assertRejects(() => readJournal(path), (err: Error) => {
    assert(err instanceof JournalFormatError);
    assert(err.message.includes(path) && err.message.includes("line 2"), err.message);
    return true;
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("journal: a missing file is empty; an invalid record is refused at append", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "none.jsonl");
  assertEquals(await readJournal(path), []);
  await assertRejects(() => append(path, { ...record(0, 0), repeat: -1 }));
  assertEquals(await Deno.readTextFile(path), "");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("journal: 50,000 lines scan and stream back in key order", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "big.jsonl");
  // Lines written directly (the format is one JSON record per line).
  const file = await Deno.open(path, { write: true, create: true });
  const enc = new TextEncoder();
  const base = record(0, 0);
  for (let chunk = 0; chunk < 50; chunk++) {
    let text = "";
    for (let i = chunk * 1000; i < (chunk + 1) * 1000; i++) {
      text += JSON.stringify({ ...base, index: i, prompt: { ...base.prompt, id: `p${i}` } }) + "\n";
    }
    await file.write(enc.encode(text));
  }
  file.close();
  const index = await scanJournal(path);
  assertEquals(index.counts(), { answered: 50_000, failed: 0 });
  let n = 0;
  for await (const r of journalRecords(index)) {
    if (r.index !== n) throw new Error(`out of order at ${n}`);
    n++;
  }
  assertEquals(n, 50_000);
  await Deno.remove(dir, { recursive: true });
});

/** Settles with `p`'s outcome, or with "pending" if it has not settled within `ms`. */
async function within<T>(
  p: Promise<T>,
  ms: number,
): Promise<{ ok: T } | { error: unknown } | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"pending">((r) => timer = setTimeout(() => r("pending"), ms));
  try {
    return await Promise.race([p.then((ok) => ({ ok }), (error) => ({ error })), late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("journal: on a full disk every append rejects at once, naming the file, and close ends", async () => {
  // /dev/full fails every write with ENOSPC, exactly as a full file system does.
  const writer = await openJournal("/dev/full");
  const first = await within(writer.append(record(0, 0)), 5_000);
  assert(first !== "pending" && "error" in first, "the first append must reject");
  assert(String(first.error).includes("/dev/full"), String(first.error));
  assert(String(first.error).includes("disk is full"), String(first.error));
  // Appends made after the failure (one at a time and many at once) reject too, never hang.
  for (let round = 0; round < 3; round++) {
    const outcomes = await Promise.all(
      [1, 2, 3].map((i) => within(writer.append(record(round * 3 + i, 0)), 2_000)),
    );
    for (const o of outcomes) {
      assert(o !== "pending", `round ${round}: an append after a failed write never settled`);
      assert("error" in o && String(o.error).includes("/dev/full"), String(o));
    }
  }
  assertEquals(await within(writer.close(), 2_000), { ok: undefined });
});
