/**
 * The context check counts a row's tokens with the tokenizer of the backend that will read it:
 * the local models' own vocabulary (a character a token, but for the words they were pretrained
 * on) for `--backend local`, the emulator tokenizer (a word a token) for the others. A row of long
 * Latin-letter words is short to the one and long to the other: refused in one line, before any
 * run folder exists, on the local backend, and accepted for HCX-003.
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";
import { countTokens } from "../lib/backends/mod.ts";
import { loadLocalTokenizer } from "../lib/backends/local/mod.ts";
import { contextLimits } from "../lib/datasets/mod.ts";
import { tuningCsv } from "../lib/datasets/sheets.ts";
import { checkContext, TaskError } from "../lib/tasks/mod.ts";
import { withTempDir } from "./helpers/tempDir.ts";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

const ROOT = new URL("..", import.meta.url).pathname;
const ENV = { NO_COLOR: "1", CLOVA_STUDIO_API_KEY: "", CLOVASTUDIO_API_KEY: "" };

/** Eight words of 100 Latin letters: 32 emulator tokens, about 800 local ones. */
const LONG_WORDS = Array.from({ length: 8 }, (_, i) => String.fromCharCode(97 + i).repeat(100))
  .join(" ");

async function reproduce(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "reproduce", "--quiet", ...args],
    cwd: ROOT,
    env: ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Runs `args` expecting one line naming `reason`, exit 1, and nothing under `results`. */
async function refusedInOneLine(args: string[], results: string, reason: string): Promise<string> {
  const r = await reproduce([...args, "--results", results]);
  // `deno task` names the command it runs on the first line of stderr.
  const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("Task "));
  assertEquals(r.code, 1, r.stderr);
  assertEquals(lines.length, 1, r.stderr);
  assert(lines[0].startsWith("reproduce: ") && lines[0].includes(reason), lines[0]);
  const left = await Array.fromAsync(Deno.readDir(results)).catch(() => []);
  assertEquals(left, [], "left files behind");
  return lines[0];
}

Deno.test("context check: a local model counts with its own tokenizer, HCX models with the emulator's", async () => {
  const limits = await contextLimits(["HCX-003", "local-250k"]);
  const row = { user: LONG_WORDS, completion: "긍정", where: "rows.csv: row 9" };
  // The emulator tokenizer counts a word of letters as one token per 32 letters.
  assertEquals(countTokens(LONG_WORDS), 32);
  // The local model counts what its tuning step encodes: the chat template and the completion.
  const tokenizer = await loadLocalTokenizer("local-250k");
  const local = tokenizer.encodeChat([{ role: "user", content: LONG_WORDS }], "긍정").ids.length;
  assert(local > 768, `${local} local tokens`);
  checkContext([row], limits.filter((l) => l.model === "HCX-003"));
  try {
    checkContext([row], limits);
    throw new Error("not refused");
  } catch (e) {
    assert(e instanceof TaskError, String(e));
    assertEquals(
      e.message,
      `rows.csv: row 9: ${local} tokens (local-250k's tokenizer), longer than local-250k's ` +
        "context of 768",
    );
  }
  // A prompt needs room for the first answer token too, as the local chat does.
  const prompt = "가".repeat(762);
  const promptTokens = tokenizer.encodeChat([{ role: "user", content: prompt }]).ids.length;
  assertEquals(promptTokens, 765);
  checkContext([{ user: prompt, where: "eval.csv: row 2" }], limits);
  assertEquals(
    tokenizer.encodeChat([{ role: "system", content: "ab" }, { role: "user", content: prompt }])
      .ids.length,
    768,
  );
  nodeAssert.throws(
    () => checkContext([{ system: "ab", user: prompt, where: "eval.csv: row 3" }], limits),
    /^TaskError: eval\.csv: row 3: 769 tokens \(local-250k's tokenizer\)/,
  );
});

Deno.test("reproduce --backend local --train: a row too long for the local model's tokenizer is refused up front", async () => {
  await withTempDir("tasks_context_", async (dir) => {
    const rows = Array.from({ length: 60 }, (_, i) => ({
      text: `리뷰 ${i}번: ${i % 2 ? "별로예요" : "좋아요"}`,
      completion: i % 2 ? "부정" : "긍정",
    }));
    rows[40] = { text: `리뷰: ${LONG_WORDS}`, completion: "긍정" };
    const train = join(dir, "rows.csv");
    await Deno.writeTextFile(train, tuningCsv(rows));
    const evalSheet = join(dir, "eval.csv");
    await Deno.writeTextFile(evalSheet, "system,user,answer\n,좋아요,긍정\n,별로예요,부정\n");
    const byo = ["--train", train, "--eval", evalSheet, "--scorer", "label", "--sizes", "50"];
    const line = await refusedInOneLine(
      ["--backend", "local", "--models", "local-250k", ...byo],
      join(dir, "results"),
      "rows.csv: row 42: ",
    );
    assert(
      line.endsWith("tokens (local-250k's tokenizer), longer than local-250k's context of 768"),
      line,
    );
    // Without --models the local backend's own models are checked, not the cookbook's.
    await refusedInOneLine(
      ["--backend", "local", ...byo],
      join(dir, "results"),
      "rows.csv: row 42: 817 tokens (local-1m's tokenizer), longer than local-1m's context of 768",
    );
  });
});

Deno.test("reproduce --backend local --task: rows too long for the local model's tokenizer are refused up front", async () => {
  await withTempDir("tasks_context_", async (dir) => {
    // 24 items of 200 Latin letters: 7 emulator tokens each, 200 local ones.
    const csv = join(dir, "words.csv");
    await Deno.writeTextFile(
      csv,
      "item,group\n" +
        Array.from({ length: 24 }, (_, i) => `${String.fromCharCode(97 + i).repeat(200)},g${i % 4}`)
          .join("\n"),
    );
    const task = ["--task", csv, "--sizes", "50", "--prompts", "8"];
    const line = await refusedInOneLine(
      ["--backend", "local", "--models", "local-250k", ...task],
      join(dir, "results"),
      "task words: tuning row ",
    );
    assert(
      line.endsWith("tokens (local-250k's tokenizer), longer than local-250k's context of 768"),
      line,
    );
  });
});
