/**
 * The run folder as the one source of truth: atomic writes that survive SIGKILL at any moment
 * (each writer killed mid-write leaves the old file or the new one, never a part), one writer per
 * run or journal, unique run ids and files that name their problems. (A wrong flag's one line and
 * usage, for every CLI: `cli_errors_test.ts`.)
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { basename, dirname, join } from "node:path";
import ExcelJS from "exceljs";
import { oneWriteAtATime, writeFileAtomic, writeJsonAtomic } from "../lib/io/atomicFile.ts";
import { acquireLock, LockedError } from "../lib/io/lock.ts";
import { openJournal } from "../lib/answers/journal.ts";
import { parseTuningCsv } from "../lib/datasets/sheets.ts";
import { readScoresCsv } from "../lib/scoring/score.ts";
import { renderReport } from "../lib/report/report.ts";
import { createRunFolder, newRunId, readTasks } from "../lib/run/folder.ts";
import { DEFAULT_RUN_CONFIG, RunConfigSchema } from "../lib/run/schema.ts";
import { fixtureReportInput } from "./fixtures/report_fixture.ts";
import { sheetRecords } from "./helpers/writer.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const dec = new TextDecoder();

/** Runs `body` in a fresh temp folder, removed afterwards whatever happens. */
async function inTempDir(
  body: (dir: string) => Promise<void>,
  opts?: Deno.MakeTempOptions,
): Promise<void> {
  const dir = await Deno.makeTempDir(opts);
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Temp files `writeAtomic` makes beside `path`. */
async function temps(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dirname(path))) {
    if (e.name.startsWith(`.${basename(path)}.`) && e.name.endsWith(".tmp")) out.push(e.name);
  }
  return out;
}

/**
 * Runs the writer `kind` on `path` in a child process and SIGKILLs it the moment a temp file
 * appears (a write is under way), after `writesFirst` complete writes. Returns the file's bytes.
 */
async function killMidWrite(
  kind: string,
  target: string,
  path: string,
  writesFirst: number,
): Promise<{ bytes: Uint8Array; leftTemp: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tests/helpers/writer.ts", kind, target],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const seen = new Set(await temps(path)); // left by an earlier killed writer
  let writes = 0;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const fresh = (await temps(path)).filter((t) => !seen.has(t));
    for (const t of fresh) seen.add(t);
    if (fresh.length && writes++ >= writesFirst) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  child.kill("SIGKILL");
  await child.output();
  const left = (await temps(path)).filter((t) => seen.has(t));
  return { bytes: await Deno.readFile(path), leftTemp: left.length > 0 };
}

const OLD = new TextEncoder().encode("the old file, whole\n");

const WRITERS: {
  kind: string;
  file: string;
  /** Throws unless `bytes` is a complete file of this writer. */
  complete: (bytes: Uint8Array, path: string) => Promise<void>;
}[] = [
  {
    kind: "csv",
    file: "train.csv",
    complete: (bytes) => {
      assertEquals(parseTuningCsv(dec.decode(bytes)).rows.length, 20_000);
      return Promise.resolve();
    },
  },
  {
    kind: "xlsx",
    file: "answers.xlsx",
    complete: async (_bytes, path) => {
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile(path);
      assertEquals(wb.worksheets[0].actualRowCount, 3001);
    },
  },
  {
    kind: "report",
    file: "report.html",
    complete: async (bytes) => {
      assertEquals(dec.decode(bytes), await renderReport(fixtureReportInput()));
    },
  },
  {
    kind: "scores",
    file: "scores.csv",
    complete: async (_bytes, path) => assertEquals((await readScoresCsv(path)).length, 3000),
  },
];

for (const w of WRITERS) {
  Deno.test(`atomic writes: the ${w.kind} writer killed mid-write leaves the old file or the new one, never a part`, async () => {
    await inTempDir(async (dir) => {
      const path = join(dir, w.file);
      let target = path;
      if (w.kind === "scores") {
        // A run folder with one journal of 3,000 answers.
        target = dir;
        const journal = await openJournal(join(dir, "answers", "HCX-003.jsonl"));
        await Promise.all(sheetRecords(3000).map((r, i) => journal.append({ ...r, index: i })));
        await journal.close();
      }
      await Deno.writeFile(path, OLD);
      // Killed during the first write: the old file, untouched (or, if the kill came after the
      // rename, the new file complete).
      const first = await killMidWrite(w.kind, target, path, 0);
      if (dec.decode(first.bytes) !== dec.decode(OLD)) await w.complete(first.bytes, path);
      assert(first.leftTemp, "the kill landed mid-write (a temp file was left)");
      // Killed during a later write: the previous complete file.
      const later = await killMidWrite(w.kind, target, path, 1);
      assert(dec.decode(later.bytes) !== dec.decode(OLD), "a first write completed");
      await w.complete(later.bytes, path);
      // The next write sweeps away what the killed writers left.
      await writeFileAtomic(path, OLD);
      assertEquals(await temps(path), []);
    }, { prefix: `kill-${w.kind}-` });
  });
}

Deno.test("atomic writes: `dataset --rows 300000` killed mid-write leaves the old CSV as it was", async () => {
  await inTempDir(async (dir) => {
    const out = join(dir, "train.csv");
    await Deno.writeFile(out, OLD);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "lib/cli/dataset.ts", "--rows", "300000", "--seed", "1", "--out", out],
      cwd: ROOT,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 60_000;
    while ((await temps(out)).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1));
    }
    child.kill("SIGKILL");
    await child.output();
    assertEquals(await Deno.readFile(out), OLD);
  }, { prefix: "kill-dataset-" });
});

Deno.test("atomic writes: a failed write removes its temp file and leaves the target", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "x.json");
    await writeJsonAtomic(path, { a: 1 });
    const broken = async function* () {
      yield new TextEncoder().encode("partial");
      throw new Error("disk on fire");
    };
    await rejects(writeFileAtomic(path, broken()), /disk on fire/);
    assertEquals(JSON.parse(await Deno.readTextFile(path)), { a: 1 });
    assertEquals(await temps(path), []);
    // A missing folder is an error, not created behind the caller's back.
    await rejects(writeFileAtomic(join(dir, "nope", "x"), "x"), Deno.errors.NotFound);
  });
});

Deno.test("atomic writes: a chunk's write that fails while the next chunk is made is the write's error", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "x.csv");
    await writeJsonAtomic(path, { a: 1 });
    // The first chunk cannot be written; the producer is still busy making the second when
    // that fails, so nothing awaits the failed write yet.
    const slow = async function* () {
      yield "not bytes" as unknown as Uint8Array;
      await new Promise((resolve) => setTimeout(resolve, 50));
      yield new TextEncoder().encode("late");
    };
    await rejects(writeFileAtomic(path, slow()), TypeError);
    assertEquals(JSON.parse(await Deno.readTextFile(path)), { a: 1 });
    assertEquals(await temps(path), []);
  });
});

Deno.test("atomic writes: work done while the file is synced comes before the rename, and a failure there leaves the target", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "x.csv");
    await writeJsonAtomic(path, { a: 1 });
    let seen: unknown;
    await writeFileAtomic(path, [new TextEncoder().encode("new")], {
      whileSyncing: async () => {
        seen = JSON.parse(await Deno.readTextFile(path));
      },
    });
    assertEquals(seen, { a: 1 });
    assertEquals(await Deno.readTextFile(path), "new");
    const failing = () => {
      throw new Error("check failed");
    };
    await rejects(writeFileAtomic(path, "newer", { whileSyncing: failing }), /check failed/);
    assertEquals(await Deno.readTextFile(path), "new");
    assertEquals(await temps(path), []);
  });
});

Deno.test("atomic writes: a file saved as its state changes ends with the last state, whatever order writes take", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "tasks.json");
    const state = { saved: 0 };
    let first = true;
    const save = oneWriteAtATime(async () => {
      const snapshot = { ...state };
      // The first write is the slowest: alone, it would be renamed over the later ones.
      if (first) {
        first = false;
        await new Promise((r) => setTimeout(r, 50));
      }
      await writeJsonAtomic(path, snapshot);
    });
    const saves = [];
    for (let i = 1; i <= 5; i++) {
      state.saved = i;
      saves.push(save());
    }
    await Promise.all(saves);
    assertEquals(JSON.parse(await Deno.readTextFile(path)), { saved: 5 });

    // A failed write rejects its own call only; the next one writes.
    let fail = true;
    const flaky = oneWriteAtATime(async () => {
      if (fail) {
        fail = false;
        throw new Error("disk full");
      }
      await writeJsonAtomic(path, { saved: "after" });
    });
    await rejects(flaky(), /disk full/);
    await flaky();
    assertEquals(JSON.parse(await Deno.readTextFile(path)), { saved: "after" });
  });
});

Deno.test("locks: a second writer is refused with the holder's pid; a stale lock is taken over", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "run.lock");
    const lock = await acquireLock(path, "deno task reproduce");
    await rejects(acquireLock(path, "another"), (e: Error) => {
      assert(e instanceof LockedError);
      assert(e.message.includes(`process ${Deno.pid}`) && e.message.includes("reproduce"));
      return true;
    });
    await lock.release();
    // A lock left by a process that is gone.
    const gone = new Deno.Command(Deno.execPath(), { args: ["eval", "1"] }).spawn();
    await gone.status;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        pid: gone.pid,
        hostname: Deno.hostname(),
        started: new Date().toISOString(),
        command: "crashed",
      }),
    );
    const taken = await acquireLock(path, "me");
    assertEquals(JSON.parse(await Deno.readTextFile(path)).pid, Deno.pid);
    await taken.release();
    await rejects(Deno.stat(path), Deno.errors.NotFound);
  });
});

Deno.test("locks: four processes racing for a stale lock on one millisecond: never two holders at once", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "run.lock");
    const taker = join(ROOT, "tests/helpers/lock_taker.ts");
    const gone = new Deno.Command(Deno.execPath(), { args: ["eval", "1"] }).spawn();
    await gone.status;
    for (let trial = 0; trial < 3; trial++) {
      // A lock file left by a process that is gone.
      await Deno.writeTextFile(
        path,
        JSON.stringify({
          pid: gone.pid,
          hostname: Deno.hostname(),
          started: new Date().toISOString(),
          command: "crashed",
        }),
      );
      const at = String(Date.now() + 1500);
      const outs = await Promise.all([1, 2, 3, 4].map(() =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", taker, path, at, "400"],
          stdout: "piped",
          stderr: "piped",
        }).output()
      ));
      const lines = outs.map((o) => dec.decode(o.stdout).trim() || dec.decode(o.stderr));
      // Every taker either held the lock or was refused, and no two held it at once (a taker
      // the machine started late may take it after the first let it go).
      const held = lines.filter((l) => l.startsWith("got ")).map((l) => {
        const m = /^got \d+ (\d+)\nreleased (\d+)$/.exec(l);
        assert(m, l);
        return [Number(m[1]), Number(m[2])] as const;
      }).sort((a, b) => a[0] - b[0]);
      assert(held.length >= 1, lines.join("; "));
      assertEquals(held.length + lines.filter((l) => l.startsWith("locked ")).length, 4);
      for (let i = 1; i < held.length; i++) {
        assert(held[i][0] >= held[i - 1][1], `two holders at once: ${lines.join("; ")}`);
      }
      await rejects(Deno.stat(path), Deno.errors.NotFound);
    }
  });
});

Deno.test("locks: a holder killed with SIGKILL leaves a file that is free to take", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "a.jsonl.lock");
    const taker = join(ROOT, "tests/helpers/lock_taker.ts");
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", taker, path, "0", "60000"],
      stdout: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    assert(dec.decode((await reader.read()).value).startsWith("got "));
    await rejects(acquireLock(path, "me"), LockedError);
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    const lock = await acquireLock(path, "me");
    assertEquals(JSON.parse(await Deno.readTextFile(path)).command, "me");
    await lock.release();
  });
});

Deno.test("run ids: runs started in the same second get their own folders", async () => {
  await inTempDir(async (dir) => {
    const made = await Promise.all([1, 2, 3].map(() => createRunFolder(dir, "test")));
    const ids = made.map((m) => m.runId).sort();
    assertEquals(new Set(ids).size, 3);
    const base = newRunId();
    assert(ids.every((id) => id.startsWith(base.slice(0, 13))), ids.join());
    for (const m of made) await m.lock.release();
    await rejects(createRunFolder(dir, "test", ids[0]), /already exists/);
  });
});

Deno.test("run files name their problem: a corrupt tasks.json gives file and line, a bad field its path", async () => {
  await inTempDir(async (dir) => {
    assertEquals(await readTasks(dir), []);
    await Deno.writeTextFile(join(dir, "tasks.json"), '[\n  {"label": "HCX-003@50",\n  oops\n]');
    await rejects(readTasks(dir), (e: Error) => {
      assert(e.message.includes(join(dir, "tasks.json")) && /line 3/.test(e.message), e.message);
      return true;
    });
    await Deno.writeTextFile(join(dir, "tasks.json"), JSON.stringify([{ label: "x", size: 50 }]));
    await rejects(readTasks(dir), /tasks\.json: 0\.model/);
  });
});

Deno.test("the experiment spec: one schema gives the defaults and validates run.json", () => {
  assertEquals(DEFAULT_RUN_CONFIG.concurrency, 16);
  assertEquals(DEFAULT_RUN_CONFIG.maxAttempts, 6);
  assertEquals(DEFAULT_RUN_CONFIG.seed, 2024);
  assertEquals(RunConfigSchema.parse({}), DEFAULT_RUN_CONFIG);
  const bad = RunConfigSchema.safeParse({ ...DEFAULT_RUN_CONFIG, models: ["HCX-03"] });
  assert(!bad.success && /unknown model "HCX-03"/.test(bad.error.issues[0].message));
});

async function cli(script: string, args: string[], cwd = ROOT) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "lib/cli", script), ...args],
    cwd,
    env: { NO_COLOR: "1", CLOVA_STUDIO_API_KEY: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("CLI manners: two evaluate runs on one journal — the second refuses", async () => {
  await inTempDir(async (dir) => {
    const out = join(dir, "a.xlsx");
    const lock = await acquireLock(join(dir, "a.jsonl.lock"), "deno task evaluate (the first)");
    await Deno.writeTextFile(join(dir, "p.csv"), "system,user\n,hello\n");
    const r = await cli("evaluate.ts", [
      "--input",
      join(dir, "p.csv"),
      "--out",
      out,
      "--model",
      "HCX-003",
      "--emulator",
    ]);
    assertEquals(r.code, 1, r.stderr);
    assert(r.stderr.includes("in use by process") && r.stderr.includes("the first"), r.stderr);
    await lock.release();
  });
});

Deno.test("CLI manners: evaluate on a run's journal takes the run's lock, as reproduce does", async () => {
  await inTempDir(async (dir) => {
    const run = join(dir, "run");
    await Deno.mkdir(join(run, "answers"), { recursive: true });
    await Deno.writeTextFile(join(run, "run.json"), "{}");
    await Deno.writeTextFile(join(dir, "p.csv"), "system,user\n,hello\n");
    const journal = join(run, "answers", "HCX-003.jsonl");
    const args = ["--input", join(dir, "p.csv"), "--out", join(dir, "a.xlsx"), "--journal"]
      .concat([journal, "--model", "HCX-003", "--emulator", "--emulator-no-rate-limits"]);
    // reproduce holds the run (in any stage) and, while answering, the journal.
    for (const held of ["run.lock", "answers/HCX-003.jsonl.lock"]) {
      const lock = await acquireLock(join(run, held), "deno task reproduce (the run)");
      const r = await cli("evaluate.ts", args);
      assertEquals(r.code, 1, r.stderr);
      assert(r.stderr.includes(join(run, held)) && r.stderr.includes("the run"), r.stderr);
      await rejects(Deno.stat(journal), Deno.errors.NotFound);
      await lock.release();
    }
    const r = await cli("evaluate.ts", args);
    assertEquals(r.code, 0, r.stderr);
    assertEquals((await Deno.readTextFile(journal)).trim().split("\n").length, 1);
    await rejects(Deno.stat(join(run, "run.lock")), Deno.errors.NotFound);
  });
});
