/**
 * A full disk (ENOSPC) on every write path: the journal, atomic files (CSV, JSON, report, state)
 * and the streamed result sheet fail at once with an error naming the file, and nothing waits
 * forever. `/dev/full` fails every write with ENOSPC wherever it is opened; the whole-CLI cases
 * use a tiny tmpfs and run where this process may mount one (root), and are ignored elsewhere.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { FileWriteError, writeAtomic, writeFileAtomic } from "../lib/io/atomicFile.ts";
import { writeAnswerSheet } from "../lib/answers/answerSheet.ts";
import type { AnswerRecord } from "../lib/answers/journal.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Whether this process can mount a tmpfs (root, and a kernel that allows it). */
async function canMountTmpfs(): Promise<boolean> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const dir = await Deno.makeTempDir({ prefix: "tmpfs_probe_" });
  try {
    const mounted = await run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]);
    if (mounted.code !== 0) return false;
    await run("umount", [dir]);
    return true;
  } catch {
    return false;
  } finally {
    await Deno.remove(dir).catch(() => {});
  }
}

async function run(cmd: string, args: string[]) {
  return await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
}

/** Runs `fn` with a fresh tmpfs of `size` (e.g. "64k") mounted on a temp folder. */
async function withTmpfs(size: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "full_disk_" });
  const mounted = await run("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  assertEquals(mounted.code, 0, new TextDecoder().decode(mounted.stderr));
  try {
    await fn(dir);
  } finally {
    await run("umount", [dir]);
    await Deno.remove(dir).catch(() => {});
  }
}

const TMPFS = await canMountTmpfs();

/** `p`'s outcome, or "hung" when it has not settled within `ms`. */
async function settled(p: Promise<unknown>, ms: number): Promise<{ error?: unknown } | "hung"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"hung">((r) => timer = setTimeout(() => r("hung"), ms));
  try {
    return await Promise.race([p.then(() => ({}), (error) => ({ error })), late]);
  } finally {
    clearTimeout(timer);
  }
}

function record(index: number): AnswerRecord {
  const id = `e${index}`;
  return {
    prompt: {
      id,
      system: "",
      user: `목록에서 나라를 대륙별로 분류해줘.\n\n${id} ${"프랑스, 일본, ".repeat(20)}`,
      countries: ["프랑스", "일본"],
      countryCount: 2,
      continentCount: 2,
    },
    index,
    repeat: 0,
    label: "HCX-003",
    model: "HCX-003",
    size: 0,
    params: {
      temperature: 0.5,
      topP: 0.6,
      topK: 0,
      maxTokens: 256,
      repeatPenalty: 1.2,
      includeAiFilters: false,
      seed: 1,
    },
    text: `아시아: 일본 ${crypto.randomUUID()}\n유럽: 프랑스 ${crypto.randomUUID()}`,
    usage: { inputTokens: 40, outputTokens: 10 },
    latencyMs: 12,
    attempts: 1,
    error: null,
    answeredAt: new Date().toISOString(),
  };
}

Deno.test("atomic write: a failing write names the target file, not its temp file, and leaves nothing", async () => {
  const dir = await Deno.makeTempDir();
  const target = join(dir, "train_100.csv");
  const out = await settled(
    writeAtomic(target, async (tmp) => {
      await Deno.writeTextFile(tmp, "Text,Completion\n");
      // The fill's own writer hits a full disk, as a library writing the temp file would.
      await Deno.writeTextFile("/dev/full", "a,b\n".repeat(1000));
    }),
    5_000,
  );
  assert(out !== "hung" && out.error instanceof FileWriteError, String(out));
  const error = out.error as FileWriteError;
  assertEquals(error.path, target);
  assertEquals(error.code, "ENOSPC");
  assert(error.message.startsWith(`cannot write ${target}: the disk is full`), error.message);
  assert(!error.message.includes("\n"), error.message);
  assertEquals([...Deno.readDirSync(dir)], []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "full tmpfs: atomic text/stream writes and the streamed XLSX reject naming the file",
  ignore: !TMPFS,
  fn: () =>
    withTmpfs("64k", async (dir) => {
      const csv = join(dir, "train.csv");
      const chunks = function* () {
        for (let i = 0; i < 200; i++) yield new TextEncoder().encode(`${i},${"x".repeat(1000)}\n`);
      };
      for (
        const write of [
          () => writeFileAtomic(csv, "y".repeat(200_000)),
          () => writeFileAtomic(csv, chunks()),
        ]
      ) {
        const out = await settled(write(), 10_000);
        assert(out !== "hung", "an atomic write on a full disk never settled");
        assert(out.error instanceof FileWriteError && out.error.path === csv, String(out.error));
      }
      const xlsx = join(dir, "answers.xlsx");
      const records = Array.from({ length: 3000 }, (_, i) => record(i));
      const out = await settled(writeAnswerSheet(xlsx, records), 20_000);
      assert(out !== "hung", "the XLSX writer on a full disk never settled");
      assert(out.error instanceof FileWriteError && out.error.path === xlsx, String(out.error));
      assertEquals([...Deno.readDirSync(dir)], [], "temp files left behind");
    }),
});

Deno.test({
  name: "full tmpfs: evaluate stops with one line naming the journal, then the XLSX; exit 1",
  ignore: !TMPFS,
  fn: async () => {
    const work = await Deno.makeTempDir({ prefix: "full_disk_eval_" });
    try {
      const input = join(work, "eval.xlsx");
      const made = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(ROOT, "lib/cli/dataset.ts"), "--eval", "--prompts", "1000"]
          .concat(["--seed", "3", "--out", input]),
        stdout: "null",
        stderr: "piped",
      }).output();
      assertEquals(made.code, 0, new TextDecoder().decode(made.stderr));
      // 200 KB holds about 140 journal lines; 1,600 KB holds the whole journal (~1.45 MB) but
      // not the result sheet beside it.
      for (const [size, file] of [["200k", "a.jsonl"], ["1600k", "a.xlsx"]]) {
        await withTmpfs(size, async (dir) => {
          const started = performance.now();
          const out = await new Deno.Command(Deno.execPath(), {
            args: ["run", "-A", join(ROOT, "lib/cli/evaluate.ts"), "--input", input, "--out"]
              .concat([join(dir, "a.xlsx"), "--model", "HCX-003", "--emulator"])
              .concat(["--emulator-no-rate-limits"]),
            stdin: "null",
            stdout: "piped",
            stderr: "piped",
            env: { NO_COLOR: "1", CLOVA_STUDIO_API_KEY: "" },
            signal: AbortSignal.timeout(60_000),
          }).output();
          const stderr = new TextDecoder().decode(out.stderr);
          const last = stderr.trimEnd().split("\n").at(-1) ?? "";
          assertEquals(out.code, 1, stderr);
          assertEquals(
            last,
            `evaluate: cannot write ${join(dir, file)}: the disk is full ` +
              "(No space left on device (os error 28))",
          );
          assert(!/^\s+at /m.test(stderr), stderr);
          assert(performance.now() - started < 60_000);
          const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
          assertEquals(left, ["a.jsonl"], "only the journal stays (no lock, no temp file)");
        });
      }
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
