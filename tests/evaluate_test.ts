import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import { join } from "node:path";
import ExcelJS from "exceljs";
import {
  evaluateSheet,
  EvaluationAbortedError,
  JournalExistsError,
  JournalMismatchError,
  PromptSourceError,
  repeatSeed,
} from "../lib/answers/evaluate.ts";
import { replayable } from "../lib/answers/promptCheck.ts";
import {
  type ChatMessage,
  type ChatProvider,
  ClovaBaseModelProvider,
  type ProviderFailure,
  type ProviderResult,
  type SamplingParams,
} from "../lib/answers/providers.ts";
import { startEmulator } from "../lib/backends/emulator/mod.ts";
import { withEmulator } from "./helpers/emulator.ts";
import { type AnswerRecord, readJournal, scanJournal } from "../lib/answers/journal.ts";
import { writeAnswerSheet } from "../lib/answers/answerSheet.ts";
import { neutralizeCell, XLSX_CELL_LIMIT } from "../lib/sheets/cells.ts";
import { SAMPLING_PARAMETERS } from "../lib/cookbook.ts";
import { generateEvalSet, type Prompt, SheetError, writeEvalXlsx } from "../lib/datasets/mod.ts";
import { readPromptSheet } from "../lib/answers/promptSheet.ts";

function prompts(n: number): Prompt[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `p${String(i + 1).padStart(4, "0")}`,
    system: "",
    user: `목록에서 나라를 대륙별로 분류해줘.\n\n나라${i}`,
    countries: [`나라${i}`],
    countryCount: 1,
    continentCount: 1,
  }));
}

const failure = (f: Omit<ProviderFailure, "latencyMs">): ProviderFailure => ({
  ...f,
  latencyMs: 1,
});

/** An in-process provider whose behaviour per (user, call number) is scripted. */
class ScriptedProvider implements ChatProvider {
  readonly label = "scripted";
  calls = new Map<string, number>();
  seeds: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    readonly script: (
      user: string,
      call: number,
    ) => string | ProviderFailure | Promise<string | ProviderFailure>,
    readonly delayMs = 0,
  ) {}
  describe() {
    return { kind: "clova-model" as const, target: "fake", model: "FAKE-1", size: 0 };
  }
  async answer(messages: readonly ChatMessage[], params: SamplingParams): Promise<ProviderResult> {
    const user = messages.at(-1)!.content;
    const call = (this.calls.get(user) ?? 0) + 1;
    this.calls.set(user, call);
    this.seeds.push(params.seed ?? 0);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const out = await this.script(user, call);
      if (typeof out !== "string") return { ok: false, failure: out };
      return {
        ok: true,
        answer: { text: out, latencyMs: this.delayMs, requestId: `${user.length}-${call}` },
      };
    } finally {
      this.inFlight--;
    }
  }
}

const rateLimited = (waitMs?: number) =>
  failure({
    kind: "rate-limited",
    code: "42901",
    httpStatus: 429,
    message: "Too many requests - rate exceeded",
    ...(waitMs !== undefined ? { waitMs } : {}),
  });

const fast = { baseDelayMs: 1, maxDelayMs: 5 };

Deno.test("evaluate: bounded concurrency, retries counted, permanent failures recorded", async () => {
  const dir = await Deno.makeTempDir();
  const ps = prompts(60);
  const provider = new ScriptedProvider((user, call) => {
    const i = Number(/나라(\d+)$/.exec(user)![1]);
    if (i % 10 === 3 && call < 3) return rateLimited(2); // recovers on the 3rd attempt
    if (i === 7) {
      return failure({
        kind: "failed-row",
        code: "40003",
        httpStatus: 400,
        message: "Context length exceeded",
      });
    }
    if (i === 8) return rateLimited(); // never recovers
    return `답 ${i}`;
  }, 2);
  const statuses: number[] = [];
  const journalPath = join(dir, "answers", "scripted.jsonl");
  const result = await evaluateSheet({
    prompts: ps,
    provider,
    journalPath,
    concurrency: 5,
    maxAttempts: 4,
    backoff: fast,
    progress: false,
    onProgress: (s) => statuses.push(s.done),
  });
  assert(provider.maxInFlight <= 5, `max in flight ${provider.maxInFlight}`);
  assertEquals([result.answered, result.failed, result.missing], [58, 2, 0]);
  assert(result.complete && !result.stopped);
  assertEquals(result.failures.map((f) => [f.promptId, f.error.code, f.error.kind, f.attempts]), [
    ["p0008", "40003", "failed-row", 1],
    ["p0009", "42901", "rate-limited", 4],
  ]);
  // 6 prompts need 2 retries each, the hopeless one 3.
  assertEquals(result.status.retries, 6 * 2 + 3);
  assertEquals(result.status.attempts, 60 + 15);
  const records = await readJournal(journalPath);
  assertEquals(records.map((r) => r.prompt), ps, "the prompt reaches the journal unchanged");
  const rec3 = records.find((r) => r.prompt.id === "p0004")!;
  assertEquals(rec3.attempts, 3);
  assertEquals(rec3.text, "답 3");
  assertEquals(rec3.params, { ...SAMPLING_PARAMETERS, seed: 1 });
  assertEquals(rec3.model, "FAKE-1");
  assertEquals(statuses.at(-1), 60);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate: repeats are samples with their own seed; resume skips answered, retries failed", async () => {
  const dir = await Deno.makeTempDir();
  const journalPath = join(dir, "j.jsonl");
  const ps = prompts(10);
  let broken = true;
  const provider = new ScriptedProvider((user, call) =>
    broken && user.endsWith("나라4")
      ? failure({ kind: "failed-row", code: "50000", httpStatus: 500, message: "x" })
      : `${user.slice(-3)}#${call}`
  );
  // The sheet every call below evaluates: 10 prompts × 3 repeats into one journal.
  const sheet = {
    prompts: ps,
    provider,
    journalPath,
    repeats: 3,
    params: { seed: 40 },
    progress: false,
  };
  const first = await evaluateSheet({ ...sheet, concurrency: 4, backoff: fast });
  assertEquals([first.answered, first.failed], [27, 3]);
  assertEquals(first.failures.map((f) => [f.promptId, f.repeat]), [
    ["p0005", 0],
    ["p0005", 1],
    ["p0005", 2],
  ]);
  const records = await readJournal(journalPath);
  assertEquals(records.length, 30);
  assertEquals(records.slice(0, 10).every((r) => r.repeat === 0), true); // repeat-major
  // Each repeat is sent, and journaled, with its own seed.
  assertEquals([...new Set(provider.seeds)].sort(), [40, 41, 42]);
  assertEquals(records.map((r) => r.params.seed), records.map((r) => 40 + r.repeat));
  assertEquals([repeatSeed(undefined, 0), repeatSeed(0, 2), repeatSeed(4294967295, 1)], [1, 3, 1]);

  // Without resume an existing journal is refused.
  await assertRejects(() => evaluateSheet(sheet), JournalExistsError);
  // Resume: only the 3 failed keys are asked again.
  broken = false;
  const callsBefore = [...provider.calls.values()].reduce((a, b) => a + b, 0);
  const second = await evaluateSheet({ ...sheet, resume: true, backoff: fast });
  const callsAfter = [...provider.calls.values()].reduce((a, b) => a + b, 0);
  assertEquals(callsAfter - callsBefore, 3);
  assertEquals(second.status.skipped, 27);
  assertEquals([second.answered, second.failed, second.failures], [30, 0, []]);
  // The journal holds 33 lines but readers see one record per key.
  assertEquals((await scanJournal(journalPath)).lines, 33);
  assertEquals((await readJournal(journalPath)).length, 30);

  // Resuming with other sampling parameters, another seed or another label is refused.
  for (const params of [{ temperature: 0.9, seed: 40 }, { seed: 7 }]) {
    await assertRejects(
      () => evaluateSheet({ ...sheet, resume: true, params }),
      JournalMismatchError,
    );
  }
  await assertRejects(
    () => evaluateSheet({ ...sheet, resume: true, label: "other" }),
    JournalMismatchError,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate: another sheet, or a repeated id, is refused before any request", async () => {
  const dir = await Deno.makeTempDir();
  const journalPath = join(dir, "j.jsonl");
  const provider = new ScriptedProvider((u) => `ok ${u.slice(-3)}`);
  await evaluateSheet({ prompts: prompts(5), provider, journalPath, progress: false });
  const calls = provider.seeds.length;
  const changed = prompts(5).map((p, i) => (i === 3 ? { ...p, user: p.user + " (edited)" } : p));
  await assertRejects(
    () => evaluateSheet({ prompts: changed, provider, journalPath, resume: true, progress: false }),
    (e: Error) => e instanceof JournalMismatchError && /p0004 \(position 4\)/.test(e.message),
  );
  const twice = [...prompts(3), prompts(3)[1]];
  await assertRejects(
    () =>
      evaluateSheet({
        prompts: twice,
        provider,
        journalPath: join(dir, "k.jsonl"),
        progress: false,
      }),
    (e: Error) => e instanceof PromptSourceError && /p0002/.test(e.message),
  );
  assertEquals(provider.seeds.length, calls, "no request was sent");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate: stop signal takes no new work, finishes in-flight, resume completes", async () => {
  const dir = await Deno.makeTempDir();
  const journalPath = join(dir, "j.jsonl");
  const ps = prompts(40);
  const provider = new ScriptedProvider((u) => `ok ${u.slice(-3)}`, 20);
  const stop = new AbortController();
  const first = await evaluateSheet({
    prompts: ps,
    provider,
    journalPath,
    concurrency: 4,
    signal: stop.signal,
    progress: false,
    onProgress: (s) => {
      if (s.done >= 8) stop.abort();
    },
  });
  assert(first.stopped && !first.complete);
  // The 8th answer stops it; only requests already in flight (and those the queue started while
  // the journal synced) finish.
  assert(first.answered >= 8 && first.answered <= 20, `${first.answered}`);
  assertEquals(first.answered + first.missing, 40);
  // Nothing was sent that was not journaled.
  assertEquals(provider.calls.size, first.answered);
  const second = await evaluateSheet({
    prompts: ps,
    provider,
    journalPath,
    concurrency: 4,
    resume: true,
    progress: false,
  });
  assert(second.complete);
  assertEquals(second.answered, 40);
  assertEquals([...provider.calls.values()].every((n) => n === 1), true);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate: a fatal failure stops the run instead of failing every row", async () => {
  const dir = await Deno.makeTempDir();
  const provider = new ScriptedProvider(() =>
    failure({
      kind: "fatal",
      code: "40080",
      httpStatus: 400,
      message: "Model not found",
      advice: "check the task id or model name",
    })
  );
  await assertRejects(
    () =>
      evaluateSheet({
        prompts: prompts(50),
        provider,
        journalPath: join(dir, "j.jsonl"),
        concurrency: 2,
        progress: false,
      }),
    (e: Error) =>
      e instanceof EvaluationAbortedError && /40080/.test(e.message) &&
      /model name/.test(e.message) && !/credential/.test(e.message),
  );
  assert(provider.seeds.length <= 2, "only the requests already in flight");
  assertEquals(await readJournal(join(dir, "j.jsonl")), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate: a hung request times out and is retried", async () => {
  const dir = await Deno.makeTempDir();
  let seen = false;
  const provider: ChatProvider = {
    label: "hang",
    describe: () => ({ kind: "openai-compatible", target: "x", model: "x" }),
    answer: (_m, _p, opts) => {
      const first = !seen;
      seen = true;
      if (!first) {
        return Promise.resolve({ ok: true, answer: { text: "late but fine", latencyMs: 1 } });
      }
      return new Promise((resolve) =>
        opts?.signal?.addEventListener("abort", () =>
          resolve({
            ok: false,
            failure: failure({
              kind: "retry",
              code: "TIMEOUT",
              message: String(opts.signal?.reason),
            }),
          }))
      );
    },
  };
  const journalPath = join(dir, "j.jsonl");
  const r = await evaluateSheet({
    prompts: prompts(1),
    provider,
    journalPath,
    requestTimeoutMs: 50,
    backoff: fast,
    progress: false,
  });
  assertEquals(r.answered, 1);
  const [rec] = await readJournal(journalPath);
  assertEquals([rec.text, rec.attempts], ["late but fine", 2]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate: progress says why it waits, with the server's code, and the ETA counts the wait", async () => {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  let t = 0;
  const provider = new ScriptedProvider((user, call) =>
    user.endsWith("나라9") && call === 1 ? rateLimited(1500) : "ok"
  );
  const r = await evaluateSheet({
    prompts: prompts(10),
    provider,
    journalPath: join(dir, "j.jsonl"),
    concurrency: 10,
    progress: { mode: "lines", write: (l) => lines.push(l), lineIntervalMs: 0, now: () => t++ },
  });
  assertEquals(r.answered, 10);
  const waiting = lines.find((l) => l.includes("rate-limited"));
  assert(waiting, lines.join("\n"));
  assert(waiting.includes("rate-limited (HTTP 429, 42901): 1 waiting"), waiting);
  // 9 of 10 done and the last one waits ~1.5 s: the ETA is that wait, not a rate extrapolation.
  const eta = /ETA ([\d.]+)s/.exec(waiting)?.[1];
  assert(eta !== undefined && Number(eta) >= 1.0, waiting);
  await Deno.remove(dir, { recursive: true });
});

function sheetRecord(i: number, text: string, over: Partial<AnswerRecord> = {}): AnswerRecord {
  return {
    prompt: {
      id: `e${i}`,
      system: "=SYSTEM()",
      user: "-user",
      countries: [],
      countryCount: 0,
      continentCount: 0,
    },
    index: i,
    repeat: 0,
    label: "L",
    model: "M",
    size: 0,
    params: { ...SAMPLING_PARAMETERS, seed: 1 },
    text,
    usage: {},
    latencyMs: 5,
    attempts: 1,
    error: null,
    answeredAt: new Date(0).toISOString(),
    ...over,
  };
}

Deno.test("answer sheet: formula-like answers are neutralised, stored as strings, long cells cut with a marker", async () => {
  assertEquals(neutralizeCell("=1+1"), "'=1+1");
  assertEquals(neutralizeCell("+82 10"), "'+82 10");
  assertEquals(neutralizeCell("-아시아: 일본"), "'-아시아: 일본");
  assertEquals(neutralizeCell("@SUM(A1)"), "'@SUM(A1)");
  assertEquals(neutralizeCell("\t=cmd"), "'\t=cmd");
  assertEquals(neutralizeCell("\r=cmd"), "'\r=cmd");
  assertEquals(neutralizeCell("＝HYPERLINK()"), "'＝HYPERLINK()");
  assertEquals(neutralizeCell("아시아: 일본"), "아시아: 일본");
  assertEquals(neutralizeCell("a=b"), "a=b");

  const dir = await Deno.makeTempDir();
  const path = join(dir, "out.xlsx");
  const evil = [
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd",
    "목록에 있는 나라들을 대륙별로 분류하면 다음과 같습니다",
    "아시아: 일본, 중국\n".repeat(5000), // 60,000 characters
  ];
  const rows = await writeAnswerSheet(path, evil.map((text, i) => sheetRecord(i, text)), {
    journal: "answers/L.jsonl",
  });
  assertEquals(rows, evil.length);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(path);
  const ws = wb.worksheets[0];
  const header = (ws.getRow(1).values as unknown[]).slice(1);
  assertEquals(header.slice(0, 4), ["system", "user", "role", "content"]);
  for (let i = 0; i < 4; i++) {
    const row = ws.getRow(i + 2);
    for (const col of [1, 2, 4]) {
      const cell = row.getCell(col);
      assertEquals(cell.type, ExcelJS.ValueType.String, `row ${i + 2} col ${col}`);
      assert(!String(cell.value).match(/^[=+\-@]/), String(cell.value));
    }
    assertEquals(row.getCell(3).value, "assistant");
  }
  assertEquals(ws.getRow(6).getCell(4).value, evil[4]);
  const long = String(ws.getRow(7).getCell(4).value);
  assertEquals(long.length, XLSX_CELL_LIMIT);
  assert(long.startsWith(evil[5].slice(0, 1000)));
  assert(
    long.endsWith("[truncated: 60,000 characters; the full text is in answers/L.jsonl]"),
    long.slice(-90),
  );
  // exceljs reports any <f> element as a Formula cell: none anywhere in the sheet.
  ws.eachRow((row) =>
    row.eachCell((cell) => assert(cell.type !== ExcelJS.ValueType.Formula, cell.address))
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate: the prompt sheet reader's errors surface with file, row and column", async () => {
  const dir = await Deno.makeTempDir();
  // A non-XLSX file with an .xlsx name.
  const fake = join(dir, "fake.xlsx");
  await Deno.writeTextFile(fake, "system,user\n,hello\n");
  await assertRejects(() => readPromptSheet(fake), (e: Error) => e instanceof SheetError);
  // An empty file, and a sheet without a "user" column.
  const empty = join(dir, "empty.xlsx");
  await Deno.writeFile(empty, new Uint8Array());
  await assertRejects(() => readPromptSheet(empty), (e: Error) => e instanceof SheetError);
  const noUser = new ExcelJS.Workbook();
  noUser.addWorksheet("eval").addRow(["system", "question"]);
  noUser.getWorksheet("eval")!.addRow(["", "hi"]);
  const noUserPath = join(dir, "nouser.xlsx");
  await noUser.xlsx.writeFile(noUserPath);
  await assertRejects(
    () => readPromptSheet(noUserPath),
    (e: Error) => e instanceof SheetError && /"user"/.test(e.message) && /eval/.test(e.message),
  );
  // An empty prompt: row and column named.
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("eval");
  ws.addRow(["system", "user"]);
  ws.addRow(["", "목록에서 나라를 대륙별로 분류해줘.\n\n일본"]);
  ws.addRow(["sys", ""]);
  const bad = join(dir, "bad.xlsx");
  await wb.xlsx.writeFile(bad);
  await assertRejects(() => readPromptSheet(bad), (e: Error) => {
    assert(e instanceof SheetError, String(e));
    assert(e.message.includes(bad) && /row 3/.test(e.message) && /user/.test(e.message), e.message);
    return true;
  });
  // The generated eval set comes back from its sheet unchanged: one Prompt type throughout.
  const set = generateEvalSet({ seed: 7, prompts: 12 });
  const good = join(dir, "eval.xlsx");
  await writeEvalXlsx(good, set);
  assertEquals(await readPromptSheet(good), set);
  await Deno.remove(dir, { recursive: true });
});

// ---------------------------------------------------------------------------------------------
// Against the emulator (real HTTP on 127.0.0.1)

const MODEL = "HCX-003";

function emulatorProvider(url: string, apiKey: string) {
  return new ClovaBaseModelProvider({
    client: { baseUrl: url, auth: { kind: "api-key", apiKey } },
    model: MODEL,
  });
}

/** `n` cookbook-style prompts with unique ids (several eval-set seeds). */
function cookbookPrompts(n: number): Prompt[] {
  const out: Prompt[] = [];
  for (let seed = 1; out.length < n; seed++) {
    for (const p of generateEvalSet({ seed, prompts: 100 })) {
      out.push({ ...p, id: `s${seed}-${p.id}` });
    }
  }
  return out.slice(0, n);
}

Deno.test({
  name:
    "evaluate: 2,000 prompts through 10% 429s, 3% 5xx, 1% drops, 1% stalls — none lost or doubled",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withEmulator({
      faults: {
        seed: 42,
        rate429: 0.10,
        rate500: 0.015,
        rate504: 0.015,
        drop: 0.01,
        stall: 0.01,
        stallMs: 1500,
      },
    }, async ({ emu, apiKey, dir }) => {
      const ps = cookbookPrompts(2000);
      // Three rows no retry can save: far beyond HCX-003's input limit (40003).
      for (const i of [10, 1000, 1990]) ps[i] = { ...ps[i], user: ps[i].user.repeat(400) };
      const journalPath = join(dir, "answers", `${MODEL}.jsonl`);
      const r = await evaluateSheet({
        prompts: ps,
        provider: emulatorProvider(emu.url, apiKey),
        journalPath,
        concurrency: 64,
        requestTimeoutMs: 500,
        maxAttempts: 6,
        backoff: { baseDelayMs: 5, maxDelayMs: 50 },
        progress: false,
      });
      assert(r.complete && !r.stopped);
      assertEquals(r.answered + r.failed, 2000);
      const records = await readJournal(journalPath);
      assertEquals(records.map((x) => x.prompt.id), ps.map((p) => p.id));
      // The journal itself has exactly one line per prompt: nothing was written twice.
      assertEquals((await scanJournal(journalPath)).lines, 2000);
      // Faults happened and were retried…
      assert(r.status.retries > 200, `only ${r.status.retries} retries`);
      assertEquals(r.status.attempts, 2000 + r.status.retries);
      // …and what could not be recovered is journaled with its error.
      const failed = records.filter((x) => x.error !== null);
      const byIndex = new Map(failed.map((x) => [x.index, x]));
      for (const i of [10, 1000, 1990]) {
        assertEquals(byIndex.get(i)?.error?.code, "40003");
        assertEquals(byIndex.get(i)?.error?.kind, "failed-row");
      }
      for (const x of failed) {
        if (x.error!.code !== "40003") assertEquals(x.attempts, 6, JSON.stringify(x.error));
      }
      const answered = records.filter((x) => x.error === null);
      assertEquals(answered.length, 2000 - failed.length);
      assert(answered.every((x) => x.text && x.text.length > 0 && x.requestId));
    });
  },
});

Deno.test({
  name:
    "evaluate: repeats against the emulator are distinct seeded samples, one per (prompt, repeat)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withEmulator({}, async ({ emu, apiKey, dir }) => {
      const journalPath = join(dir, "j.jsonl");
      const r = await evaluateSheet({
        prompts: cookbookPrompts(15),
        provider: emulatorProvider(emu.url, apiKey),
        journalPath,
        repeats: 3,
        concurrency: 6,
        progress: false,
      });
      assertEquals(r.answered, 45);
      const records = await readJournal(journalPath);
      assertEquals(records.map((x) => x.repeat), [
        ...Array(15).fill(0),
        ...Array(15).fill(1),
        ...Array(15).fill(2),
      ]);
      assertEquals(records.map((x) => x.params.seed), records.map((x) => x.repeat + 1));
      assert(records.every((x) => x.usage.inputTokens! > 0 && x.params.temperature === 0.5));
      // Samples, not copies: at temperature 0.5 the seeds give some prompts different answers.
      const differ = records.slice(0, 15).filter((x, i) =>
        x.text !== records[15 + i].text || x.text !== records[30 + i].text
      );
      assert(differ.length > 0, "all three repeats of every prompt were the same answer");
    });
  },
});

Deno.test({
  name: "evaluate: rpm keeps under the emulator's QPM (no 429); without it the quota bites",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const apiKey = `nv-${crypto.randomUUID()}`;
    const limited = (qpm: number) =>
      startEmulator({
        credentials: { apiKeys: [apiKey] },
        rateLimits: { [MODEL]: { qpm, tpm: 100_000_000 } },
        quiet: true,
      });
    const dir = await Deno.makeTempDir();
    const emuA = await limited(600);
    try {
      const r = await evaluateSheet({
        prompts: cookbookPrompts(30),
        provider: emulatorProvider(emuA.url, apiKey),
        journalPath: join(dir, "a.jsonl"),
        concurrency: 8,
        rpm: 600,
        progress: false,
      });
      assertEquals([r.answered, r.failed, r.status.retries], [30, 0, 0]);
      // Loose: spacing is enforced (never faster than the limit); no tight timing assertion.
      assert(r.achievedRpm <= 600 * 1.05, `achieved ${r.achievedRpm} rpm`);
    } finally {
      await emuA.close();
    }
    // Control: the same emulator quota at 20 per minute, no client limit, no retries.
    const emuB = await limited(20);
    try {
      const r = await evaluateSheet({
        prompts: cookbookPrompts(30),
        provider: emulatorProvider(emuB.url, apiKey),
        journalPath: join(dir, "b.jsonl"),
        concurrency: 8,
        maxAttempts: 1,
        progress: false,
      });
      assertEquals(r.failed, 10);
      assert(
        r.failures.every((f) => f.error.httpStatus === 429 && f.error.kind === "rate-limited"),
        JSON.stringify(r.failures[0]),
      );
    } finally {
      await emuB.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "evaluate CLI: SIGKILL mid-batch, then --resume: every prompt exactly once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withEmulator({ latency: { meanMs: 40, jitterMs: 20 } }, async ({ emu, apiKey, dir }) => {
      const root = new URL("..", import.meta.url).pathname;
      const input = join(dir, "eval.xlsx");
      const out = join(dir, "answers", `${MODEL}.xlsx`);
      const journal = join(dir, "answers", `${MODEL}.jsonl`);
      await writeEvalXlsx(input, generateEvalSet({ seed: 5, prompts: 200 }));
      await Deno.mkdir(join(dir, "answers"));
      const cli = (extra: string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "lib/cli/evaluate.ts",
            "--input",
            input,
            "--out",
            out,
            "--model",
            MODEL,
            "--concurrency",
            "4",
            ...extra,
          ],
          cwd: root,
          env: { CLOVA_STUDIO_API_KEY: apiKey, CLOVA_STUDIO_HOST: emu.url, NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        });
      const countLines = async () => {
        try {
          return (await Deno.readTextFile(journal)).split("\n").filter((l) => l.trim()).length;
        } catch {
          return 0;
        }
      };
      const child = cli([]).spawn();
      const deadline = Date.now() + 60_000;
      while ((await countLines()) < 30 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
      child.kill("SIGKILL");
      const killed = await child.output();
      assert(!killed.success, "the runner should have been killed mid-batch");
      const before = await countLines();
      assert(before >= 30 && before < 200, `${before} lines before the kill`);
      await assertRejects(() => Deno.stat(out)); // no sheet from an unfinished run

      // Without --resume the journal is protected.
      const refused = await cli([]).output();
      assertEquals(refused.code, 1);
      assert(new TextDecoder().decode(refused.stderr).includes("--resume"));

      const resumed = await cli(["--resume"]).output();
      const log = new TextDecoder().decode(resumed.stderr);
      assertEquals(resumed.code, 0, log);
      assertEquals((await scanJournal(journal)).lines, 200, "one line per prompt, both runs");
      assertEquals(new Set((await readJournal(journal)).map((l) => l.prompt.id)).size, 200);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile(out);
      const ws = wb.worksheets[0];
      const header = (ws.getRow(1).values as unknown[]).slice(1);
      const idCol = header.indexOf("prompt_id") + 1;
      const ids: string[] = [];
      ws.eachRow((row, n) => {
        if (n > 1) ids.push(String(row.getCell(idCol).value));
      });
      assertEquals(ids.length, 200);
      assertEquals(new Set(ids).size, 200);
      const sheetIds = (await readPromptSheet(input)).map((p) => p.id);
      assertEquals(ids, sheetIds);
    });
  },
});

Deno.test("prompt sheets stream: a CSV read twice gives the same prompts; a bad row far down is located", async () => {
  const { openPromptSheet } = await import("../lib/answers/promptSheet.ts");
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "p.csv");
    const set = generateEvalSet({ seed: 3, prompts: 40 });
    const csv = (rows: Prompt[]) =>
      "system,user,prompt_id,country_count,continent_count,countries\n" +
      rows.map((p) =>
        [p.system, p.user, p.id, p.countryCount, p.continentCount, p.countries.join(", ")]
          .map((c) => `"${String(c).replaceAll('"', '""')}"`).join(",")
      ).join("\n") + "\n";
    await Deno.writeTextFile(path, csv(set));
    const sheet = openPromptSheet(path);
    for (let pass = 0; pass < 2; pass++) {
      const got: Prompt[] = [];
      for await (const p of sheet.open()) got.push(p);
      assertEquals(got, set);
    }
    const bad = set.map((
      p,
      i,
    ) => (i === 30 ? { ...p, countryCount: "lots" as unknown as number } : p));
    await Deno.writeTextFile(path, csv(bad));
    await assertRejects(
      async () => {
        for await (const _ of openPromptSheet(path).open()) { /* read on */ }
      },
      (e: Error) =>
        e instanceof SheetError && /row 32/.test(e.message) && /country_count/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evaluate CLI: an unknown country in the sheet names the file and prompt, before any request", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "p.csv");
    await Deno.writeTextFile(
      input,
      'system,user,prompt_id,countries\n,일본?,p1,일본\n,아틀란티스?,p2,"일본, 아틀란티스"\n',
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../lib/cli/evaluate.ts", import.meta.url).pathname,
        "--input",
        input,
        "--out",
        join(dir, "a.xlsx"),
        "--model",
        MODEL,
        "--emulator",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1, err);
    assert(err.includes(`${input}: prompt p2 asks an unknown country "아틀란티스"`), err);
    assertEquals(await readJournal(join(dir, "a.jsonl")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evaluate: a request that hangs shows as stalled in the progress line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const provider = new ScriptedProvider(async (user) => {
      if (user.endsWith("나라2")) await new Promise((r) => setTimeout(r, 1600));
      return "ok";
    });
    const r = await evaluateSheet({
      prompts: prompts(3),
      provider,
      journalPath: join(dir, "j.jsonl"),
      stallMs: 300,
      progress: { mode: "lines", write: (l) => lines.push(l), lineIntervalMs: 0 },
    });
    assertEquals(r.answered, 3);
    assert(lines.some((l) => l.includes("1 stalled > 0.3s")), lines.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evaluate: a sheet that fits is read once, by the check; a larger one each pass", async () => {
  const dir = await Deno.makeTempDir();
  const ps = prompts(12);
  let opened = 0;
  const source = {
    async *open() {
      opened++;
      for (const p of ps) {
        await Promise.resolve();
        yield p;
      }
    },
  };
  const provider = new ScriptedProvider((user) => user.slice(-3));
  const result = await evaluateSheet({
    prompts: source,
    provider,
    journalPath: join(dir, "j.jsonl"),
    repeats: 3,
    progress: false,
  });
  assertEquals([result.answered, opened], [36, 1]);
  const answered = (await readJournal(join(dir, "j.jsonl"))).map((r) => [r.prompt.id, r.repeat]);
  assertEquals(answered.length, 36);

  // Over the budget, every pass reads the source; a pass left early keeps nothing.
  opened = 0;
  const small = replayable(() => source.open(), 10);
  for await (const _ of small()) { /* read it all */ }
  for await (const _ of small()) break;
  assertEquals(opened, 2);
  opened = 0;
  const fits = replayable(() => source.open());
  for await (const _ of fits()) break;
  const again: string[] = [];
  for await (const p of fits()) again.push(p.id);
  for await (const p of fits()) again.push(p.id);
  assertEquals([opened, again.length], [2, 24]);
  assertEquals(again.slice(0, 12), ps.map((p) => p.id));
  await Deno.remove(dir, { recursive: true });
});
