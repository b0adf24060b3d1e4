import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import { join } from "node:path";
import ExcelJS from "exceljs";
import {
  type EvaluatePrompt,
  evaluateSheet,
  EvaluationAbortedError,
  JournalExistsError,
  JournalMismatchError,
  promptsFromEvalSet,
} from "../lib/evaluate.ts";
import {
  type ChatMessage,
  type ChatProvider,
  ClovaBaseModelProvider,
  ProviderError,
  type SamplingParams,
} from "../lib/providers.ts";
import { startEmulator } from "../lib/emulator/mod.ts";
import { withEmulator } from "./helpers/emulator.ts";
import { answerKey, loadJournal, readJournal } from "../lib/journal.ts";
import { neutralizeCell, writeAnswerSheet } from "../lib/answerSheet.ts";
import { SAMPLING_PARAMETERS } from "../lib/cookbook.ts";
import { generateEvalSet, readPromptSheet, SheetError, writeEvalXlsx } from "../lib/dataset.ts";

function prompts(n: number): EvaluatePrompt[] {
  return Array.from({ length: n }, (_, i) => ({
    promptId: `p${String(i + 1).padStart(4, "0")}`,
    row: i + 2,
    system: "",
    user: `목록에서 나라를 대륙별로 분류해줘.\n\n나라${i}`,
    countries: [`나라${i}`],
    countryCount: 1,
    continentCount: 1,
  }));
}

/** An in-process provider whose behaviour per (user, call number) is scripted. */
class ScriptedProvider implements ChatProvider {
  readonly label = "scripted";
  calls = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    readonly script: (user: string, call: number) => string | Error | Promise<string | Error>,
    readonly delayMs = 0,
  ) {}
  describe() {
    return { kind: "clova-model" as const, target: "fake", model: "FAKE-1", size: 0 };
  }
  async answer(messages: readonly ChatMessage[], _params: SamplingParams) {
    const user = messages.at(-1)!.content;
    const call = (this.calls.get(user) ?? 0) + 1;
    this.calls.set(user, call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const out = await this.script(user, call);
      if (out instanceof Error) throw out;
      return { text: out, latencyMs: this.delayMs, requestId: `${user.length}-${call}` };
    } finally {
      this.inFlight--;
    }
  }
}

const transient = (retryAfterMs?: number) =>
  new ProviderError({
    code: "42901",
    httpStatus: 429,
    message: "Too many requests - rate exceeded",
    retryable: true,
    retryAfterMs,
  });

const fast = { baseDelayMs: 1, maxDelayMs: 5 };

Deno.test("evaluate: bounded concurrency, retries counted, permanent failures recorded by row", async () => {
  const dir = await Deno.makeTempDir();
  const ps = prompts(60);
  const provider = new ScriptedProvider((user, call) => {
    const i = Number(/나라(\d+)$/.exec(user)![1]);
    if (i % 10 === 3 && call < 3) return transient(2); // recovers on the 3rd attempt
    if (i === 7) {
      return new ProviderError({
        code: "40003",
        httpStatus: 400,
        message: "Context length exceeded",
        retryable: false,
      });
    }
    if (i === 8) return transient(); // never recovers
    return `답 ${i}`;
  }, 2);
  const statuses: number[] = [];
  const result = await evaluateSheet({
    prompts: ps,
    provider,
    journalPath: join(dir, "answers", "scripted.jsonl"),
    concurrency: 5,
    retry: { ...fast, maxAttempts: 4 },
    progress: false,
    onProgress: (s) => statuses.push(s.done),
  });
  assert(provider.maxInFlight <= 5, `max in flight ${provider.maxInFlight}`);
  assertEquals(result.records.length, 60);
  assert(result.complete && !result.stopped);
  assertEquals(result.failures.map((f) => [f.row, f.error.code, f.attempts]), [
    [9, "40003", 1],
    [10, "42901", 4],
  ]);
  // 6 prompts need 2 retries each, the hopeless one 3.
  assertEquals(result.status.retries, 6 * 2 + 3);
  assertEquals(result.status.attempts, 60 + 15);
  const rec3 = result.records.find((r) => r.promptId === "p0004")!;
  assertEquals(rec3.attempts, 3);
  assertEquals(rec3.text, "답 3");
  assertEquals(rec3.params, { ...SAMPLING_PARAMETERS });
  assertEquals(rec3.model, "FAKE-1");
  assertEquals(statuses.at(-1), 60);
});

Deno.test("evaluate: repeats are keyed (promptId, repeat); resume skips answered, retries failed", async () => {
  const dir = await Deno.makeTempDir();
  const journalPath = join(dir, "j.jsonl");
  const ps = prompts(10);
  let broken = true;
  const provider = new ScriptedProvider((user, call) =>
    broken && user.endsWith("나라4")
      ? new ProviderError({ code: "50000", httpStatus: 500, message: "x", retryable: false })
      : `${user.slice(-3)}#${call}`
  );
  const first = await evaluateSheet({
    prompts: ps,
    provider,
    journalPath,
    repeats: 3,
    concurrency: 4,
    retry: fast,
    progress: false,
  });
  assertEquals(first.records.length, 30);
  assertEquals(first.failures.length, 3);
  assertEquals(new Set(first.records.map((r) => answerKey(r.promptId, r.repeat))).size, 30);
  assertEquals(first.records.slice(0, 10).every((r) => r.repeat === 0), true); // repeat-major

  // Without resume an existing journal is refused.
  await assertRejects(
    () => evaluateSheet({ prompts: ps, provider, journalPath, repeats: 3, progress: false }),
    JournalExistsError,
  );
  // Resume: only the 3 failed keys are asked again.
  broken = false;
  const before = provider.calls.size;
  const callsBefore = [...provider.calls.values()].reduce((a, b) => a + b, 0);
  const second = await evaluateSheet({
    prompts: ps,
    provider,
    journalPath,
    repeats: 3,
    resume: true,
    retry: fast,
    progress: false,
  });
  const callsAfter = [...provider.calls.values()].reduce((a, b) => a + b, 0);
  assertEquals(provider.calls.size, before);
  assertEquals(callsAfter - callsBefore, 3);
  assertEquals(second.status.skipped, 27);
  assertEquals(second.failures, []);
  assertEquals(second.records.length, 30);
  // The journal holds 33 lines but readers see one record per key.
  const raw = await loadJournal(journalPath);
  assertEquals(raw.lines.length, 33);
  assertEquals((await readJournal(journalPath)).length, 30);

  // Resuming with other sampling parameters or another label is refused.
  await assertRejects(
    () =>
      evaluateSheet({
        prompts: ps,
        provider,
        journalPath,
        repeats: 3,
        resume: true,
        params: { temperature: 0.9 },
        progress: false,
      }),
    JournalMismatchError,
  );
  await assertRejects(
    () =>
      evaluateSheet({
        prompts: ps,
        provider,
        journalPath,
        repeats: 3,
        resume: true,
        label: "other",
        progress: false,
      }),
    JournalMismatchError,
  );
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
  assert(first.records.length >= 8 && first.records.length <= 12, `${first.records.length}`);
  assertEquals(first.records.length + first.missing.length, 40);
  // Nothing was sent that was not journaled.
  assertEquals(provider.calls.size, first.records.length);
  const second = await evaluateSheet({
    prompts: ps,
    provider,
    journalPath,
    concurrency: 4,
    resume: true,
    progress: false,
  });
  assert(second.complete);
  assertEquals(second.records.length, 40);
  assertEquals([...provider.calls.values()].every((n) => n === 1), true);
});

Deno.test("evaluate: 401 stops the run instead of failing every row", async () => {
  const dir = await Deno.makeTempDir();
  const provider = new ScriptedProvider(() =>
    new ProviderError({ code: "40100", httpStatus: 401, message: "Unauthorized", retryable: false })
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
    (e: Error) => e instanceof EvaluationAbortedError && /40100/.test(e.message),
  );
  assertEquals(provider.calls.size, 2, "only the requests already in flight");
  assertEquals(await readJournal(join(dir, "j.jsonl")), []);
});

Deno.test("evaluate: a hung request times out and is retried", async () => {
  const dir = await Deno.makeTempDir();
  const provider: ChatProvider = {
    label: "hang",
    describe: () => ({ kind: "openai-compatible", target: "x", model: "x" }),
    answer: (_m, _p, opts) => {
      const first = !(provider as unknown as { seen?: boolean }).seen;
      (provider as unknown as { seen?: boolean }).seen = true;
      if (!first) return Promise.resolve({ text: "late but fine", latencyMs: 1 });
      return new Promise((_, reject) =>
        opts?.signal?.addEventListener("abort", () => reject(opts.signal!.reason))
      );
    },
  };
  const r = await evaluateSheet({
    prompts: prompts(1),
    provider,
    journalPath: join(dir, "j.jsonl"),
    requestTimeoutMs: 50,
    retry: fast,
    progress: false,
  });
  assertEquals(r.records[0].text, "late but fine");
  assertEquals(r.records[0].attempts, 2);
});

Deno.test("answer sheet: formula-like answers are neutralised and stored as strings", async () => {
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
  ];
  await writeAnswerSheet(
    path,
    evil.map((text, i) => ({
      promptId: `e${i}`,
      repeat: 0,
      label: "L",
      model: "M",
      size: 0,
      system: "=SYSTEM()",
      user: "-user",
      countries: [],
      countryCount: 0,
      continentCount: 0,
      text,
      latencyMs: 5,
      attempts: 1,
      params: {},
      error: null,
      answeredAt: new Date(0).toISOString(),
    })),
  );
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(path);
  const ws = wb.worksheets[0];
  const header = (ws.getRow(1).values as unknown[]).slice(1);
  assertEquals(header.slice(0, 4), ["system", "user", "role", "content"]);
  for (let i = 0; i < evil.length; i++) {
    const row = ws.getRow(i + 2);
    for (const col of [1, 2, 4]) {
      const cell = row.getCell(col);
      assertEquals(cell.type, ExcelJS.ValueType.String, `row ${i + 2} col ${col}`);
      assert(!String(cell.value).match(/^[=+\-@]/), String(cell.value));
    }
    assertEquals(row.getCell(3).value, "assistant");
  }
  assertEquals(ws.getRow(6).getCell(4).value, evil[4]);
  // exceljs reports any <f> element as a Formula cell: none anywhere in the sheet.
  ws.eachRow((row) =>
    row.eachCell((cell) => assert(cell.type !== ExcelJS.ValueType.Formula, cell.address))
  );
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
  // The generated eval set round-trips into runner prompts.
  const set = generateEvalSet({ seed: 7, prompts: 12 });
  const good = join(dir, "eval.xlsx");
  await writeEvalXlsx(good, set);
  const rows = await readPromptSheet(good);
  assertEquals(rows.map((r) => r.promptId), promptsFromEvalSet(set).map((p) => p.promptId));
  assertEquals(rows.map((r) => r.row), promptsFromEvalSet(set).map((p) => p.row));
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
function cookbookPrompts(n: number): EvaluatePrompt[] {
  const out: EvaluatePrompt[] = [];
  for (let seed = 1; out.length < n; seed++) {
    for (const p of promptsFromEvalSet(generateEvalSet({ seed, prompts: 100 }))) {
      out.push({ ...p, promptId: `s${seed}-${p.promptId}`, row: out.length + 2 });
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
        retry: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 6 },
        progress: false,
      });
      assertEquals(r.records.length, 2000);
      assert(r.complete && !r.stopped);
      const keys = new Set(r.records.map((x) => answerKey(x.promptId, x.repeat)));
      assertEquals(keys.size, 2000);
      assertEquals(new Set(ps.map((p) => p.promptId)), new Set(r.records.map((x) => x.promptId)));
      // The journal itself has exactly one line per prompt: nothing was written twice.
      const raw = await loadJournal(journalPath);
      assertEquals(raw.lines.length, 2000);
      // Faults happened and were retried…
      assert(r.status.retries > 200, `only ${r.status.retries} retries`);
      assertEquals(r.status.attempts, 2000 + r.status.retries);
      // …and what could not be recovered is listed by row.
      const byRow = new Map(r.failures.map((f) => [f.row, f]));
      for (const i of [10, 1000, 1990]) assertEquals(byRow.get(i + 2)?.error.code, "40003");
      for (const f of r.failures) {
        assert(f.row !== undefined);
        if (f.error.code !== "40003") assertEquals(f.attempts, 6, JSON.stringify(f));
      }
      const answered = r.records.filter((x) => x.error === null);
      assertEquals(answered.length, 2000 - r.failures.length);
      assert(answered.every((x) => x.text && x.text.length > 0 && x.requestId));
    });
  },
});

Deno.test({
  name: "evaluate: repeats against the emulator keep one answer per (prompt, repeat)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withEmulator({}, async ({ emu, apiKey, dir }) => {
      const r = await evaluateSheet({
        prompts: cookbookPrompts(15),
        provider: emulatorProvider(emu.url, apiKey),
        journalPath: join(dir, "j.jsonl"),
        repeats: 3,
        concurrency: 6,
        progress: false,
      });
      assertEquals(r.records.length, 45);
      assertEquals(r.records.map((x) => x.repeat).sort(), [
        ...Array(15).fill(0),
        ...Array(15).fill(1),
        ...Array(15).fill(2),
      ]);
      assertEquals(new Set(r.records.map((x) => answerKey(x.promptId, x.repeat))).size, 45);
      assert(r.records.every((x) => x.inputTokens! > 0 && x.params.temperature === 0.5));
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
      assertEquals([r.records.length, r.failures.length, r.status.retries], [30, 0, 0]);
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
        retry: { maxAttempts: 1 },
        progress: false,
      });
      assertEquals(r.failures.length, 10);
      assert(r.failures.every((f) => f.error.httpStatus === 429), JSON.stringify(r.failures[0]));
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
      const lines = (await loadJournal(journal)).lines;
      assertEquals(lines.length, 200, "one journal line per prompt across both runs");
      assertEquals(new Set(lines.map((l) => l.promptId)).size, 200);
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
      const sheetIds = (await readPromptSheet(input)).map((p) => p.promptId);
      assertEquals(ids, sheetIds);
    });
  },
});
